// `casskeeper backup run -f FILE --sidecar URL [--wait] ...` and `casskeeper restore run -f FILE --backup FILE
// --sidecar URL [--wait] ...`: one backup or restore, now, through one sidecar, without a cluster. The file is
// checked with the rules core as `casskeeper validate` checks it (same messages, file:line:col), the request is
// CassKop's (src/runner/requests.ts), and with --wait the operation is followed to its end by polling
// `GET /operations/{id}` every 2 s, as CassKop polls (reference/sidecar.md §8).
//
// Exit codes: 0 submitted (without --wait) or COMPLETED; 1 the file is invalid (nothing is sent), or the
// operation ended FAILED or CANCELLED; 2 usage errors and anything that kept the operation from being run or
// followed (an unreadable file, a sidecar that is down or answers an error, an operation the sidecar forgot);
// 130 interrupted (Ctrl-C) while waiting: the operation goes on on the sidecar unless --cancel-on-interrupt.
//
// The sidecar reads the storage credentials from its own Secret; nothing here handles a credential.

import { stat } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CasskeeperError } from "../core/errors.ts";
import { error, hasErrors, type Problem } from "../core/problem.ts";
import type { StructuralValidator } from "../core/structure.ts";
import { CASSKOP_GROUP, type CassandraBackup, type CassandraRestore } from "../core/types.ts";
import { validateDocuments } from "../core/validate-set.ts";
import type { WorldSnapshot } from "../core/world.ts";
import { isRecord } from "../core/world-build.ts";
import type { LoadedDocument, LocatedProblem } from "../core/yaml-documents.ts";
import {
  type Operation,
  type OperationRequest,
  SIDECAR_PORT,
  type SidecarApi,
  TERMINAL_STATES,
} from "../runner/model.ts";
import { backupRequest, backupRequestWarnings, restoreRequest } from "../runner/requests.ts";
import { createSidecarClient } from "../runner/sidecar-client.ts";
import { loadStructuralValidator } from "../schema/bundled-crds.ts";
import { displayPath } from "./files.ts";
import { loadFiles } from "./load.ts";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, type Io, outputFormat, USAGE, UsageError } from "./main.ts";
import {
  createPlainProgress,
  createTtyProgress,
  formatElapsed,
  type ProgressView,
  wholePercent,
} from "./progress.ts";
import { formatLocated, loadWorld, problemJson } from "./validate-command.ts";

/** Ctrl-C while waiting: the shell's convention for SIGINT (128 + 2). */
export const EXIT_INTERRUPTED = 130;

/** CassKop polls a running backup every 2 s (controllers/cassandrabackup/backup.go). */
const DEFAULT_POLL_MS = 2_000;
const MIN_POLL_MS = 10;
const MAX_POLL_MS = 10 * 60_000;
/** Failed polls in a row (each already retried by the client) before the operation is given up as lost. */
const MAX_POLL_FAILURES = 3;
/** Errors printed in text; --output json carries all of them. */
const MAX_ERRORS_SHOWN = 100;
/** The DELETE of --cancel-on-interrupt: the user is waiting for the prompt. */
const CANCEL_TIMEOUT_MS = 10_000;

export interface RunOptions {
  /** Aborts the wait (Ctrl-C); defaults to the first SIGINT or SIGTERM. */
  readonly interrupt?: AbortSignal;
  /** The terminal stdout is, or null for a pipe or file; defaults to process.stdout (TERM=dumb: none). */
  readonly terminal?: { readonly columns: () => number } | null;
  /** The sidecar client for a base URL; defaults to createSidecarClient. */
  readonly sidecarFor?: (baseUrl: string) => SidecarApi;
  /** Sleeps between polls; must resolve early when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** `casskeeper backup SUBCOMMAND ...`; `run` is the only subcommand. */
export async function backupCommand(args: readonly string[], io: Io, opts: RunOptions = {}): Promise<number> {
  const rest = subcommand("backup", args);
  if (rest === undefined) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  return backupRun(rest, io, opts);
}

/** `casskeeper restore SUBCOMMAND ...`; `run` is the only subcommand. */
export async function restoreCommand(
  args: readonly string[],
  io: Io,
  opts: RunOptions = {},
): Promise<number> {
  const rest = subcommand("restore", args);
  if (rest === undefined) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  return restoreRun(rest, io, opts);
}

/** The arguments after `run`, or undefined for help. */
function subcommand(kind: "backup" | "restore", args: readonly string[]): readonly string[] | undefined {
  const [sub, ...rest] = args;
  if (sub === "help" || sub === "--help" || sub === "-h") return undefined;
  if (sub === "run") return rest;
  throw new UsageError(
    sub === undefined
      ? `${kind} needs a subcommand: casskeeper ${kind} run`
      : `unknown subcommand "${kind} ${sub}"; the only one is "${kind} run"`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Arguments

interface RunArgs {
  readonly file: string;
  readonly backupFile?: string | undefined;
  readonly name?: string | undefined;
  readonly sidecar: string;
  readonly wait: boolean;
  readonly format: "text" | "json";
  readonly namespace: string;
  readonly world: readonly string[];
  readonly pollMs: number;
  readonly cancelOnInterrupt: boolean;
}

function parseRunArgs(kind: "backup" | "restore", args: readonly string[]): RunArgs | undefined {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      file: { type: "string", short: "f" },
      backup: { type: "string" },
      name: { type: "string" },
      sidecar: { type: "string" },
      wait: { type: "boolean", short: "w" },
      output: { type: "string", short: "o" },
      namespace: { type: "string", short: "n" },
      world: { type: "string", multiple: true },
      "poll-interval": { type: "string" },
      "cancel-on-interrupt": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return undefined;
  const format = outputFormat(values.output);
  if (positionals.length > 0) {
    throw new UsageError(`${kind} run takes its file with -f FILE, not as "${positionals[0]}"`);
  }
  if (values.file === undefined || values.file === "") throw new UsageError(`${kind} run needs -f FILE`);
  if (values.sidecar === undefined || values.sidecar === "") {
    throw new UsageError(
      `${kind} run needs --sidecar URL (the sidecar's REST API, e.g. http://cassandra-0:4567)`,
    );
  }
  if (kind === "restore" && (values.backup === undefined || values.backup === "")) {
    throw new UsageError("restore run needs --backup FILE: the CassandraBackup the restore names");
  }
  if (kind === "backup" && values.backup !== undefined)
    throw new UsageError("--backup goes with restore run");
  if (values["cancel-on-interrupt"] && !values.wait)
    throw new UsageError("--cancel-on-interrupt goes with --wait");
  if (values["poll-interval"] !== undefined && !values.wait)
    throw new UsageError("--poll-interval goes with --wait");
  return {
    file: values.file,
    backupFile: values.backup,
    name: values.name,
    sidecar: sidecarUrl(values.sidecar),
    wait: values.wait === true,
    format,
    namespace: values.namespace ?? "default",
    world: values.world ?? [],
    pollMs: pollInterval(values["poll-interval"]),
    cancelOnInterrupt: values["cancel-on-interrupt"] === true,
  };
}

/**
 * The sidecar's base URL. `host:port` means `http://host:port` (the sidecar speaks plain HTTP, sidecar.md §1.1);
 * a URL without a port means the sidecar's port 4567, not 80. A path is kept, so
 * `kubectl proxy`'s `http://127.0.0.1:8001/api/v1/namespaces/NS/pods/POD:4567/proxy` works. No credentials in
 * the URL: the sidecar has no authentication, and a URL is echoed in messages.
 */
export function sidecarUrl(value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--sidecar must be a URL such as http://cassandra-0:4567, got "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--sidecar must be an http(s) URL, got "${value}"`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new UsageError("--sidecar must not hold credentials: the sidecar has no authentication");
  }
  if (url.search !== "" || url.hash !== "")
    throw new UsageError("--sidecar must not have a query or fragment");
  // `new URL` drops a default port (`:80`), so look at what was written.
  const explicitPort = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]*\]|[^/:?#]*):\d+(?=[/?#]|$)/i.test(withScheme);
  if (!explicitPort) url.port = String(SIDECAR_PORT);
  return url.href.replace(/\/+$/, "");
}

/** `--poll-interval`: `500ms`, `2s`, `1m`, or milliseconds; 10 ms to 10 min. */
export function pollInterval(value: string | undefined): number {
  if (value === undefined) return DEFAULT_POLL_MS;
  const m = /^(\d{1,9})(ms|s|m)?$/.exec(value.trim());
  const n = m === null ? Number.NaN : Number(m[1]) * (m[2] === "s" ? 1_000 : m[2] === "m" ? 60_000 : 1);
  if (!(n >= MIN_POLL_MS && n <= MAX_POLL_MS)) {
    throw new UsageError(
      `--poll-interval must be a duration from 10ms to 10m (500ms, 2s, 1m), got "${value}"`,
    );
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Reading and checking the files

interface Candidate {
  readonly doc: LoadedDocument;
  readonly namespace: string;
  readonly name: string;
}

interface LoadedFile {
  readonly shown: string;
  readonly documents: readonly LoadedDocument[];
  readonly problems: readonly LocatedProblem[];
}

/** One file, read as `validate` reads it; a path that is missing or a directory is a usage error (exit 2). */
async function loadFile(path: string, flag: string, io: Io): Promise<LoadedFile> {
  const st = await stat(path).catch(() => undefined);
  if (st === undefined) throw new UsageError(`${flag} ${path}: no such file`);
  if (!st.isFile()) throw new UsageError(`${flag} ${path}: not a file`);
  const loaded = await loadFiles([path], io.cwd);
  return { shown: displayPath(path, io.cwd), documents: loaded.documents, problems: loaded.problems };
}

/** The documents of `kind` that casskeeper knows (db.orange.com v1alpha1 and v2), with their namespace and name. */
function candidates(
  file: LoadedFile,
  kind: "CassandraBackup" | "CassandraRestore",
  structure: StructuralValidator,
  defaultNamespace: string,
): Candidate[] {
  const out: Candidate[] = [];
  for (const doc of file.documents) {
    const o = doc.object;
    if (!isRecord(o) || o.kind !== kind || typeof o.apiVersion !== "string") continue;
    if (o.apiVersion.split("/")[0] !== CASSKOP_GROUP || !structure.knows(o.apiVersion, kind)) continue;
    const meta = isRecord(o.metadata) ? o.metadata : {};
    const ns =
      typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : defaultNamespace;
    out.push({ doc, namespace: ns, name: typeof meta.name === "string" ? meta.name : "" });
  }
  return out;
}

/**
 * The one object of `kind` the file holds, or the one `--name` picks. Anything else is a usage error: running
 * whichever comes first would be a guess.
 */
function pick(
  list: readonly Candidate[],
  kind: string,
  name: string | undefined,
  file: LoadedFile,
): Candidate {
  const names = list.map((c) => `"${c.name}"`).join(", ");
  if (name !== undefined) {
    const found = list.filter((c) => c.name === name);
    if (found.length === 1 && found[0] !== undefined) return found[0];
    if (found.length > 1)
      throw new UsageError(`${file.shown} holds ${found.length} ${kind}s named "${name}"`);
    throw new UsageError(
      `${file.shown} holds no ${kind} named "${name}"${list.length === 0 ? "" : ` (it holds ${names})`}`,
    );
  }
  if (list.length === 1 && list[0] !== undefined) return list[0];
  if (list.length === 0) throw new UsageError(`${file.shown} holds no ${kind}`);
  throw new UsageError(`${file.shown} holds ${list.length} ${kind}s (${names}); pick one with --name`);
}

/** A problem at `path` of a document, located as the rules core locates its own. */
function locate(doc: LoadedDocument, p: Problem): LocatedProblem {
  const pos = doc.positionOf(p.path);
  return { file: doc.file, line: pos.line, column: pos.column, problem: p };
}

function sortProblems(list: LocatedProblem[]): LocatedProblem[] {
  return list.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

// ---------------------------------------------------------------------------------------------------------
// Output: text for people, JSON lines for programs

interface Output {
  readonly format: "text" | "json";
  /** Validation findings (all of them, errors and warnings). */
  problems(list: readonly LocatedProblem[]): void;
  note(text: string): void;
  event(obj: Record<string, unknown>): void;
}

function createOutput(format: "text" | "json", io: Io): Output {
  return {
    format,
    problems(list) {
      if (format === "json") {
        const errors = list.filter((p) => p.problem.severity === "error").length;
        io.stdout(
          `${JSON.stringify({
            event: "validated",
            valid: errors === 0,
            errors,
            warnings: list.length - errors,
            problems: list.map(problemJson),
          })}\n`,
        );
      } else {
        for (const p of list) io.stderr(`${formatLocated(p)}\n`);
      }
    },
    note(text) {
      io.stderr(`note: ${text}\n`);
    },
    event(obj) {
      if (format === "json") io.stdout(`${JSON.stringify(obj)}\n`);
    },
  };
}

/** Text from the sidecar goes to a terminal: no control characters (an escape sequence could rewrite the screen). */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?");
}

/** Prints the findings; true when there are errors (nothing may be sent). */
function report(out: Output, problems: LocatedProblem[], what: string, io: Io): boolean {
  const sorted = sortProblems(problems);
  const invalid = hasErrors(sorted.map((p) => p.problem));
  if (out.format === "json" || sorted.length > 0) out.problems(sorted);
  if (invalid) {
    const n = sorted.filter((p) => p.problem.severity === "error").length;
    io.stderr(
      `casskeeper: ${what} is invalid (${n} error${n === 1 ? "" : "s"}); nothing was sent to the sidecar\n`,
    );
  }
  return invalid;
}

function worldNote(out: Output, world: WorldSnapshot): void {
  if (!world.known) out.note("no --world given: secrets and clusters were not checked");
}

interface Prepared {
  readonly a: RunArgs;
  readonly out: Output;
  readonly world: WorldSnapshot;
  /** The -f FILE. */
  readonly file: LoadedFile;
  readonly structure: StructuralValidator;
}

/** Arguments, --world and -f FILE; an exit code when there is nothing more to do (help, an unreadable world). */
async function prepare(
  kind: "backup" | "restore",
  args: readonly string[],
  io: Io,
): Promise<Prepared | number> {
  const a = parseRunArgs(kind, args);
  if (a === undefined) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const world = await loadWorld(a.world, a.namespace, io);
  if (world === undefined) return EXIT_USAGE;
  return {
    a,
    out: createOutput(a.format, io),
    world,
    file: await loadFile(a.file, "-f", io),
    structure: loadStructuralValidator(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// backup run

async function backupRun(args: readonly string[], io: Io, opts: RunOptions): Promise<number> {
  const p = await prepare("backup", args, io);
  if (typeof p === "number") return p;
  const { a, out, world, file, structure } = p;
  const list = candidates(file, "CassandraBackup", structure, a.namespace);
  if (list.length === 0 && hasErrors(file.problems.map((p) => p.problem))) {
    report(out, [...file.problems], file.shown, io);
    return EXIT_INVALID;
  }
  const chosen = pick(list, "CassandraBackup", a.name, file);

  // The chosen document as `validate` checks it (with the world's backups for snapshotTag collisions); the
  // file's other documents are not run, so not checked (`casskeeper validate FILE` checks them all).
  const result = validateDocuments([chosen.doc], { structure, world, defaultNamespace: a.namespace });
  worldNote(out, world);
  if (report(out, [...file.problems, ...result.problems], file.shown, io)) return EXIT_INVALID;

  const backup = chosen.doc.object as CassandraBackup;
  const schedule = backup.spec?.schedule;
  if (typeof schedule === "string" && schedule.trim() !== "") {
    out.note(`spec.schedule "${schedule}" is ignored: backup run takes one backup now`);
  }
  for (const w of backupRequestWarnings(backup)) out.note(w);
  return submitAndFollow(
    {
      what: `CassandraBackup ${chosen.namespace}/${chosen.name}`,
      type: "backup",
      request: backupRequest(backup, chosen.namespace),
    },
    a,
    out,
    io,
    opts,
  );
}

// ---------------------------------------------------------------------------------------------------------
// restore run

async function restoreRun(args: readonly string[], io: Io, opts: RunOptions): Promise<number> {
  const p = await prepare("restore", args, io);
  if (typeof p === "number") return p;
  const { a, out, world, file, structure } = p;
  const backupFile = await loadFile(a.backupFile ?? "", "--backup", io);
  const loadProblems = [...file.problems, ...(backupFile.shown === file.shown ? [] : backupFile.problems)];

  const restores = candidates(file, "CassandraRestore", structure, a.namespace);
  if (restores.length === 0 && hasErrors(file.problems.map((p) => p.problem))) {
    report(out, loadProblems, file.shown, io);
    return EXIT_INVALID;
  }
  const chosen = pick(restores, "CassandraRestore", a.name, file);
  const restore = chosen.doc.object as CassandraRestore;
  const wanted = typeof restore.spec?.cassandraBackup === "string" ? restore.spec.cassandraBackup : "";

  // The backup the restore names, from --backup FILE: by name, in the restore's namespace (CassKop looks it up
  // there). A FILE holding another backup is the mistake this catches before the sidecar restores the wrong one.
  const backups = candidates(backupFile, "CassandraBackup", structure, a.namespace);
  const named = backups.filter((b) => b.name === wanted);
  const backup = named.find((b) => b.namespace === chosen.namespace);
  const mismatch: LocatedProblem[] = [];
  if (backup === undefined && wanted !== "") {
    const held = backups.map((b) => `${b.namespace}/${b.name}`).join(", ");
    const message =
      named[0] !== undefined
        ? `CassandraBackup "${wanted}" of --backup ${backupFile.shown} is in namespace "${named[0].namespace}"; ` +
          `CassKop looks it up in the restore's namespace "${chosen.namespace}"`
        : `restores CassandraBackup "${wanted}", but --backup ${backupFile.shown} ` +
          (backups.length === 0 ? "holds no CassandraBackup" : `holds CassandraBackup ${held}`);
    mismatch.push(locate(chosen.doc, error("spec.cassandraBackup", "run.backup-mismatch", message)));
  }
  // The restore and its backup as one set, as `validate restore.yaml backup.yaml` checks them: the restore's
  // rules find the backup (entities it holds, its state) in the set.
  const docs = backup === undefined ? [chosen.doc] : [chosen.doc, backup.doc];
  const result = validateDocuments(docs, { structure, world, defaultNamespace: a.namespace });
  worldNote(out, world);
  const what = backup === undefined ? file.shown : `${file.shown} with ${backupFile.shown}`;
  if (report(out, [...loadProblems, ...mismatch, ...result.problems], what, io) || backup === undefined) {
    return EXIT_INVALID;
  }
  return submitAndFollow(
    {
      what: `CassandraRestore ${chosen.namespace}/${chosen.name} (from CassandraBackup ${backup.name})`,
      type: "restore",
      request: restoreRequest(restore, backup.doc.object as CassandraBackup),
    },
    a,
    out,
    io,
    opts,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Submitting and following

interface Submission {
  /** `CassandraBackup prod/orders-nightly`. */
  readonly what: string;
  readonly type: "backup" | "restore";
  readonly request: OperationRequest;
}

async function submitAndFollow(
  s: Submission,
  a: RunArgs,
  out: Output,
  io: Io,
  opts: RunOptions,
): Promise<number> {
  const sidecar = (opts.sidecarFor ?? ((baseUrl: string) => createSidecarClient({ baseUrl })))(a.sidecar);
  const interrupt =
    opts.interrupt === undefined ? signalInterrupt() : { signal: opts.interrupt, dispose() {} };
  try {
    const started = io.now();
    let op: Operation;
    try {
      op = await sidecar.submit(s.request, interrupt.signal);
    } catch (e) {
      if (interrupt.signal.aborted) {
        io.stderr(
          `casskeeper: interrupted before the sidecar answered; the ${s.type} may have started there ` +
            `(list them: curl ${a.sidecar}/operations?type=${s.type})\n`,
        );
        out.event({ event: "interrupted", type: s.type });
        return EXIT_INTERRUPTED;
      }
      io.stderr(`casskeeper: the sidecar at ${a.sidecar} did not take the ${s.type}: ${reason(e)}\n`);
      return EXIT_USAGE;
    }

    const idLine = `${s.what}: operation ${op.id} submitted to ${a.sidecar} (${op.state})`;
    if (!a.wait) {
      if (out.format === "json") {
        out.event({ event: "submitted", id: op.id, type: s.type, state: op.state, sidecar: a.sidecar });
        io.stdout(`${JSON.stringify(op.raw)}\n`);
      } else {
        io.stdout(`${idLine}\nFollow it: curl ${a.sidecar}/operations/${op.id}\n`);
      }
      return EXIT_OK;
    }
    if (out.format === "json") {
      out.event({ event: "submitted", id: op.id, type: s.type, state: op.state, sidecar: a.sidecar });
    } else {
      io.stdout(`${idLine}\n`);
    }
    return await follow(op, started, s, a, out, io, opts, sidecar, interrupt.signal);
  } finally {
    interrupt.dispose();
  }
}

async function follow(
  first: Operation,
  started: number,
  s: Submission,
  a: RunArgs,
  out: Output,
  io: Io,
  opts: RunOptions,
  sidecar: SidecarApi,
  signal: AbortSignal,
): Promise<number> {
  const terminal = opts.terminal === undefined ? processTerminal() : opts.terminal;
  const view: ProgressView =
    out.format === "json"
      ? jsonProgress(out)
      : terminal === null
        ? createPlainProgress(io.stdout)
        : createTtyProgress(io.stdout, terminal.columns);
  const sleep = opts.sleep ?? abortableSleep;
  let op = first;
  let failures = 0;
  // Terminal states are not drawn: the sidecar sets progress to 1 also on failure, so a bar would read "100%
  // FAILED"; the final line says how it ended instead.
  const show = (o: Operation) => {
    if (!TERMINAL_STATES.has(o.state)) view.update(o.state, o.progress, io.now() - started);
  };
  show(op);
  while (!TERMINAL_STATES.has(op.state)) {
    await sleep(a.pollMs, signal);
    if (signal.aborted) {
      view.finish();
      return interrupted(op, s, a, out, io, sidecar);
    }
    let got: Operation | undefined;
    try {
      got = await sidecar.get(op.id, signal);
    } catch (e) {
      if (signal.aborted) {
        view.finish();
        return interrupted(op, s, a, out, io, sidecar);
      }
      failures++;
      if (failures < MAX_POLL_FAILURES) continue;
      view.finish();
      io.stderr(
        `casskeeper: lost track of operation ${op.id} after ${failures} failed polls of ${a.sidecar}: ` +
          `${reason(e)}; it may still be running there\n`,
      );
      return EXIT_USAGE;
    }
    failures = 0;
    if (got === undefined) {
      view.finish();
      // Operations live in the sidecar's memory: a restart forgets them, and finished ones expire after 1 h.
      io.stderr(
        `casskeeper: the sidecar at ${a.sidecar} no longer knows operation ${op.id} (restarted?); ` +
          "its outcome is unknown\n",
      );
      return EXIT_USAGE;
    }
    op = got;
    show(op);
  }
  view.finish();
  return finished(op, io.now() - started, s, out, io);
}

/** The last word: the final state and every error, or (JSON) the operation exactly as the sidecar returned it. */
function finished(op: Operation, elapsedMs: number, s: Submission, out: Output, io: Io): number {
  const ok = op.state === "COMPLETED";
  if (out.format === "json") {
    io.stdout(`${JSON.stringify(op.raw)}\n`);
    return ok ? EXIT_OK : EXIT_INVALID;
  }
  const took = formatElapsed(elapsedMs);
  if (ok) {
    const tag = op.snapshotTag === undefined ? "" : `, snapshotTag ${printable(op.snapshotTag)}`;
    io.stdout(`COMPLETED: ${s.type} operation ${op.id} in ${took}${tag}\n`);
  } else {
    io.stdout(`${op.state}: ${s.type} operation ${op.id} after ${took}\n`);
  }
  for (const e of op.errors.slice(0, MAX_ERRORS_SHOWN)) {
    io.stdout(`  ${printable(e.source ?? "sidecar")}: ${printable(e.message ?? "(no message)")}\n`);
  }
  if (op.errors.length > MAX_ERRORS_SHOWN) {
    io.stdout(`  … and ${op.errors.length - MAX_ERRORS_SHOWN} more (--output json shows them all)\n`);
  }
  if (!ok && op.errors.length === 0) {
    io.stdout(
      `  (the sidecar gave no error${op.state === "CANCELLED" ? "; the operation was cancelled" : ""})\n`,
    );
  }
  return ok ? EXIT_OK : EXIT_INVALID;
}

/** Ctrl-C: stop waiting. The operation goes on on the sidecar, unless --cancel-on-interrupt asks to cancel it. */
async function interrupted(
  op: Operation,
  s: Submission,
  a: RunArgs,
  out: Output,
  io: Io,
  sidecar: SidecarApi,
): Promise<number> {
  let cancel: "requested" | "unknown" | "failed" | undefined;
  if (a.cancelOnInterrupt) {
    try {
      cancel = (await sidecar.cancel(op.id, AbortSignal.timeout(CANCEL_TIMEOUT_MS)))
        ? "requested"
        : "unknown";
    } catch (e) {
      cancel = "failed";
      io.stderr(`casskeeper: could not cancel operation ${op.id}: ${reason(e)}\n`);
    }
  }
  out.event({
    event: "interrupted",
    id: op.id,
    type: s.type,
    state: op.state,
    cancel: cancel ?? "not-requested",
  });
  if (cancel === "requested") {
    // DELETE only raises the operation's cancel flag; it turns CANCELLED when its current step gives up.
    io.stderr(`casskeeper: interrupted; asked the sidecar to cancel operation ${op.id}\n`);
  } else if (cancel === "unknown") {
    io.stderr(`casskeeper: interrupted; the sidecar no longer knows operation ${op.id}\n`);
  } else {
    io.stderr(
      `casskeeper: interrupted; operation ${op.id} goes on on the sidecar ` +
        `(follow it: curl ${a.sidecar}/operations/${op.id})\n`,
    );
  }
  return EXIT_INTERRUPTED;
}

/** `--output json` progress: one line per change of state or whole percent. */
function jsonProgress(out: Output): ProgressView {
  let last = "";
  return {
    update(state, progress, elapsedMs) {
      const percent = wholePercent(progress);
      if (`${state} ${percent}` === last) return;
      last = `${state} ${percent}`;
      out.event({ event: "progress", state, progress, percent, elapsedMs });
    },
    finish() {},
  };
}

function reason(e: unknown): string {
  if (e instanceof CasskeeperError) return printable(e.message);
  return printable((e as Error)?.message ?? String(e));
}

// ---------------------------------------------------------------------------------------------------------
// The process: terminal, signals, sleep

function processTerminal(): { columns: () => number } | null {
  if (!process.stdout.isTTY || process.env.TERM === "dumb") return null;
  return { columns: () => process.stdout.columns ?? 80 };
}

/** The first SIGINT or SIGTERM aborts; a second one ends the process the usual way. */
function signalInterrupt(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const on = () => {
    dispose();
    controller.abort();
  };
  const dispose = () => {
    process.off("SIGINT", on);
    process.off("SIGTERM", on);
  };
  process.once("SIGINT", on);
  process.once("SIGTERM", on);
  return { signal: controller.signal, dispose };
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
