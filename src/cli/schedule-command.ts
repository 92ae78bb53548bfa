// `casskeeper schedule next|explain`: robfig/cron v3 ParseStandard semantics, offline. Times print as RFC3339
// UTC instants; a schedule without a CRON_TZ=/TZ= prefix is evaluated in UTC, as casskeeper's runner does.

import { parseArgs } from "node:util";
import { formatProblem } from "../core/problem.ts";
import { checkSchedule, explainSchedule, nextTimes, parseStandard } from "../core/schedule/index.ts";
import { EXIT_INVALID, EXIT_OK, type Io, outputFormat, USAGE, UsageError } from "./main.ts";

const MAX_COUNT = 1000;
/** Bound on `--stdin` input: a schedule list, not a data set. */
const MAX_STDIN_BYTES = 4 * 1024 * 1024;

export async function scheduleCommand(args: readonly string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      from: { type: "string" },
      count: { type: "string", short: "n" },
      output: { type: "string", short: "o" },
      stdin: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help || sub === undefined) {
    io.stdout(USAGE);
    return sub === undefined ? 2 : EXIT_OK;
  }
  if (sub !== "next" && sub !== "explain")
    throw new UsageError(`unknown schedule command "${sub}" (next, explain)`);
  const format = outputFormat(values.output);
  const from = values.from === undefined ? io.now() : parseInstant(values.from);
  const count = values.count === undefined ? 5 : parseCount(values.count);

  if (values.stdin) {
    if (sub !== "next") throw new UsageError("--stdin works with schedule next");
    if (positionals.length > 0) throw new UsageError("give either --stdin or an EXPRESSION, not both");
    const input = await io.readStdin();
    if (input.length > MAX_STDIN_BYTES) throw new UsageError(`stdin is larger than ${MAX_STDIN_BYTES} bytes`);
    let allValid = true;
    for (const line of input.split(/\r?\n/)) {
      if (line.trim() === "") continue;
      const r = evaluate(line, from, count);
      allValid &&= r.valid;
      if (format === "json") io.stdout(`${JSON.stringify(r)}\n`);
      else io.stdout(r.valid ? `${line}\t${r.next.join(" ")}\n` : `${line}\terror: ${r.error}\n`);
    }
    return allValid ? EXIT_OK : EXIT_INVALID;
  }

  if (positionals.length !== 1) {
    throw new UsageError(`schedule ${sub} needs exactly one EXPRESSION (quote it: "0 2 * * *")`);
  }
  const expression = positionals[0] as string;
  const r = evaluate(expression, from, count);
  if (!r.valid) {
    if (format === "json") io.stdout(`${JSON.stringify(r)}\n`);
    io.stderr(`casskeeper: ${r.error}\n`);
    return EXIT_INVALID;
  }
  for (const w of r.warnings) io.stderr(`warning: ${w}\n`);
  if (format === "json") {
    const out = sub === "explain" ? { ...r, explanation: explainSchedule(expression) } : r;
    io.stdout(`${JSON.stringify(out)}\n`);
  } else if (sub === "explain") {
    io.stdout(`${explainSchedule(expression)}\n`);
    io.stdout(
      r.next.length > 0 ? `next runs (UTC):\n${r.next.map((t) => `  ${t}\n`).join("")}` : "never runs\n",
    );
  } else {
    for (const t of r.next) io.stdout(`${t}\n`);
  }
  return EXIT_OK;
}

type Evaluation =
  | { expression: string; valid: true; next: string[]; warnings: string[] }
  | { expression: string; valid: false; error: string };

/** Valid means robfig accepts it and it can fire; warnings name the clearer spelling of odd syntax. */
export function evaluate(expression: string, from: number, count: number): Evaluation {
  const problems = checkSchedule(expression, "");
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) return { expression, valid: false, error: errors.map(formatProblem).join("; ") };
  const parsed = parseStandard(expression);
  if (!parsed.ok) return { expression, valid: false, error: parsed.error };
  return {
    expression,
    valid: true,
    next: nextTimes(parsed.schedule, from, count).map(rfc3339),
    warnings: problems.filter((p) => p.severity === "warning").map(formatProblem),
  };
}

/** RFC3339 in UTC, with fractional seconds only when there are some. */
export function rfc3339(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

function parseInstant(s: string): number {
  // RFC3339 requires a date, a time and an offset; Date.parse alone would take "2024" or local times.
  const ok = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s);
  const ms = ok ? Date.parse(s) : Number.NaN;
  if (Number.isNaN(ms))
    throw new UsageError(`--from must be an RFC3339 instant like 2024-01-01T00:00:00Z, got "${s}"`);
  return ms;
}

function parseCount(s: string): number {
  const n = /^\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_COUNT) {
    throw new UsageError(`--count must be an integer from 1 to ${MAX_COUNT}, got "${s}"`);
  }
  return n;
}
