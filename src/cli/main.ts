// The `casskeeper` command. `run` is a function from arguments and an injected Io (streams, clock, cwd) to an
// exit code, so every command is testable in-process; `bin/casskeeper.js` wires it to the real process.
//
// Exit codes, for every command: 0 success (warnings allowed), 1 the input is invalid (or a schedule never
// fires, or a backup/restore run ended FAILED or CANCELLED), 2 usage or I/O error; `backup run` and
// `restore run` exit 130 when interrupted while waiting.

import { CasskeeperError } from "../core/errors.ts";

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly readStdin: () => Promise<string>;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly cwd: string;
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

export const USAGE = `casskeeper — guards and runs Apache Cassandra backups on Kubernetes

Usage:
  casskeeper validate [--world FILE]... [--namespace NS] [--output text|json] PATH...
  casskeeper plan [--ref REF] [--path DIR] [--world FILE]... [--namespace NS] [--source NS/NAME]
                  [--kubeconfig FILE | --no-cluster] [--output text|json] [SOURCE]
  casskeeper schedule next [--from RFC3339] [--count N] [--output text|json] EXPRESSION
  casskeeper schedule next --stdin [--from RFC3339] [--count N] [--output text|json]
  casskeeper schedule explain [--from RFC3339] [--count N] EXPRESSION
  casskeeper serve (--tls-cert FILE --tls-key FILE | --self-managed-tls | --local)
                   [--world FILE... | --kube] [--host ADDR] [--port N] [--namespace NS]
                   [--log-level fatal|error|warn|info|debug|trace|silent]
                   [--git-sync [--git-cache-dir DIR] [--git-webhook-secret-file FILE]]
                   [--runner [--sidecar-port N] [--sidecar-address dns|ip]]
  casskeeper backup run -f FILE --sidecar URL [--name NAME] [--wait] [--poll-interval D]
                        [--cancel-on-interrupt] [--world FILE]... [--namespace NS] [--output text|json]
  casskeeper restore run -f FILE --backup FILE --sidecar URL [--name NAME] [--wait] [--poll-interval D]
                         [--cancel-on-interrupt] [--world FILE]... [--namespace NS] [--output text|json]
  casskeeper demo
  casskeeper help | --help
  casskeeper version | --version

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage or I/O error.
  backup run, restore run: 0 submitted or COMPLETED, 1 invalid, FAILED or CANCELLED, 2 usage, I/O or sidecar
  error (nothing run or followed), 130 interrupted while waiting (the operation goes on).
`;

/** Thrown for bad arguments; printed with the usage hint and exit code 2. */
export class UsageError extends CasskeeperError {
  constructor(message: string) {
    super("cli", "usage", message);
  }
}

// Commands are imported when they run: `validate` should not pay for loading express, pino and prom-client.
export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "validate":
        return await (await import("./validate-command.ts")).validateCommand(rest, io);
      case "plan":
        return await (await import("./plan-command.ts")).planCommand(rest, io);
      case "schedule":
        return await (await import("./schedule-command.ts")).scheduleCommand(rest, io);
      case "serve":
        return await (await import("./serve-command.ts")).serveCommand(rest, io);
      case "backup":
        return await (await import("./run-command.ts")).backupCommand(rest, io);
      case "restore":
        return await (await import("./run-command.ts")).restoreCommand(rest, io);
      case "demo":
        return await (await import("./demo-command.ts")).demoCommand(rest, io);
      case "version":
      case "--version":
        io.stdout(`${await version()}\n`);
        return EXIT_OK;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout(USAGE);
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`casskeeper: ${e.message}\nRun "casskeeper --help" for usage.\n`);
      return EXIT_USAGE;
    }
    if (e instanceof CasskeeperError) {
      io.stderr(`casskeeper: ${e.message}\n`);
      return EXIT_USAGE;
    }
    // Node's argument parser reports bad flags as TypeErrors with a code.
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      io.stderr(`casskeeper: ${(e as Error).message}\nRun "casskeeper --help" for usage.\n`);
      return EXIT_USAGE;
    }
    // A bug, not bad input: one line naming it, the stack only on request.
    io.stderr(`casskeeper: internal error: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.CASSKEEPER_DEBUG) io.stderr(`${(e as Error)?.stack ?? ""}\n`);
    return EXIT_USAGE;
  }
}

export function outputFormat(value: unknown): "text" | "json" {
  if (value === undefined || value === "text") return "text";
  if (value === "json") return "json";
  throw new UsageError(`--output must be text or json, got "${String(value)}"`);
}

async function version(): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}
