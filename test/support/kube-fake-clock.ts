// A fake clock for the kube watchdogs and the certificate manager (they take `now` and `timers`), and a
// bounded wait for conditions that depend on real I/O with the API double.

import type { Timers } from "../../src/kube/client.ts";

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements Timers {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = Date.parse("2030-01-01T00:00:00Z")) {
    this.t = start;
  }

  readonly now = (): number => this.t;

  setTimeout(fn: () => void, ms: number): unknown {
    const p = { id: ++this.seq, at: this.t + Math.max(0, ms), fn };
    this.pending.push(p);
    return p.id;
  }

  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Moves time forward, firing due timers in order (timers they set that fall due are fired too). */
  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = target;
  }

  /** Timers waiting to fire. */
  get waiting(): number {
    return this.pending.length;
  }
}

/**
 * Waits (in real time, up to `timeoutMs`) until `cond` holds; fails with `what` otherwise. For conditions
 * that follow real network I/O, never as a speed assertion.
 */
export async function eventually(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A pino-shaped logger that records what it is given. */
export interface LogLine {
  readonly level: "info" | "warn" | "error" | "debug";
  readonly obj: object;
  readonly msg: string | undefined;
}

export function recordingLogger(): {
  lines: LogLine[];
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
} {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: "info", obj, msg }),
    warn: (obj, msg) => lines.push({ level: "warn", obj, msg }),
    error: (obj, msg) => lines.push({ level: "error", obj, msg }),
    debug: (obj, msg) => lines.push({ level: "debug", obj, msg }),
  };
}
