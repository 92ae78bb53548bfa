// Structured JSON logs (pino): one line per AdmissionReview (allowed ones at debug level) with what an
// operator needs to find a decision — uid, kind, namespace/name, operation, verdict, duration, dryRun, the
// denial codes — and never an object body or a Secret value. The redact paths are a second line of defence:
// the review line is built from picked fields, but a careless `logger.info({ request })` elsewhere must not
// leak either.

import pino from "pino";

export type Logger = pino.Logger;

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths removed from every log line (pino's redact syntax): where an object body, a Secret's data, a patch or
 * key material would sit if someone logged a request, a Secret or a TLS pair. Explicit paths only: pino's
 * wildcard redaction costs tens of microseconds per line, more than the handler itself.
 */
export const REDACT_PATHS = [
  "object",
  "oldObject",
  "request.object",
  "request.oldObject",
  "review.request.object",
  "review.request.oldObject",
  "data",
  "stringData",
  "secret.data",
  "secret.stringData",
  "body",
  "req.body",
  "patch",
  "response.patch",
  "key",
  "keyPem",
  "pair.key",
  "tls.key",
  "ca.keyPem",
  "headers.authorization",
  "req.headers.authorization",
];

export function createLogger(
  opts: { level?: LogLevel; destination?: pino.DestinationStream; name?: string } = {},
): Logger {
  return pino(
    {
      name: opts.name ?? "casskeeper",
      level: opts.level ?? "info",
      // pino's default `time` (epoch milliseconds): the ISO form costs microseconds on every review line.
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, remove: true },
    },
    // Asynchronous stdout by default: a line costs no write(2) on the request path, lines written close
    // together go out in one write, and pino flushes what is pending when the process exits.
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export interface ReviewLogFields {
  readonly endpoint: string;
  readonly uid: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly operation: string;
  readonly verdict: string;
  readonly durationMs: number;
  readonly dryRun: boolean;
  readonly codes: readonly string[];
  /** The denial or error message (the rules' messages name fields and keys, never Secret values). */
  readonly message?: string | undefined;
}

const MAX_FIELD = 253;
const MAX_MESSAGE = 1024;

/** The one line per review. Strings from the request are cut so a hostile request cannot flood the log. */
export function logReview(logger: Logger, f: ReviewLogFields): void {
  const line = {
    endpoint: f.endpoint,
    uid: cut(f.uid, MAX_FIELD),
    kind: cut(f.kind, MAX_FIELD),
    namespace: cut(f.namespace, MAX_FIELD),
    name: cut(f.name, MAX_FIELD),
    operation: cut(f.operation, 16),
    verdict: f.verdict,
    durationMs: Math.round(f.durationMs * 1000) / 1000,
    dryRun: f.dryRun,
    ...(f.codes.length > 0 ? { codes: f.codes.slice(0, 32) } : {}),
    ...(f.message === undefined ? {} : { message: cut(f.message, MAX_MESSAGE) }),
  };
  // Denials at info, failures at error; allowed reviews at debug. Most reviews are allowed and carry no news —
  // CassKop alone rewrites a running backup's status every 2 s, each an UPDATE review — so at info they would
  // bury the denials. `--log-level debug` shows every review.
  if (f.verdict === "errored") logger.error(line, "admission review");
  else if (f.verdict === "denied") logger.info(line, "admission review");
  else logger.debug(line, "admission review");
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
