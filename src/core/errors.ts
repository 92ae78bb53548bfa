// Errors that leave a stage carry a stable code and the stage where they happened, so a log line or a
// status condition says what broke and where without a stack trace.

export type Stage =
  | "cli"
  | "load"
  | "parse"
  | "validate"
  | "world"
  | "schedule"
  | "admission"
  | "sync"
  | "runner";

export class CasskeeperError extends Error {
  readonly code: string;
  readonly stage: Stage;

  constructor(stage: Stage, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CasskeeperError";
    this.code = code;
    this.stage = stage;
  }
}
