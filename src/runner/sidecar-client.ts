// The sidecar's REST client (Icarus on port 4567, reference/sidecar.md), built from what the server does rather
// than from its swagger:
//   - POST /operations answers 201 + Location (the swagger says 200; both are taken). The id comes from the body,
//     else from Location (instaclustr/cassandra-operator pkg/sidecar/client.go reads Location).
//   - GET /operations/{id} of an unknown or expired id answers HTTP 500 with the plain body "HTTP 404 Not Found"
//     (Jersey's catch-all mapper, sidecar.md §6.2); a real 404 is read the same way: both are "no such operation".
//   - The list filter is `state`, not the swagger's `status` (sidecar.md §1.2).
//   - `progress` is a number, but instaclustr/cassandra-operator guards against "NaN" strings: read leniently.
//   - Error bodies are text (a Java exception message), possibly with a JSON content type: never trusted to be JSON.
// Plain HTTP as the sidecar speaks it (CassKop: no TLS); https for a proxy in front. One request at a time per
// call, no keep-alive (a pooled socket the JDK server closed would fail a POST that was never delivered), a
// deadline per attempt (60 s as CassKop's Go client), a response size cap, and abort signals.
//
// Retries: idempotent calls (GET, DELETE) are retried on network errors, timeouts and 5xx with exponential backoff
// and jitter. A POST is retried only when the connection was never established (nothing was sent); any later
// failure may have created the operation, so recovering is the caller's business (`list` and the snapshotTag).

import http from "node:http";
import https from "node:https";
import { CasskeeperError } from "../core/errors.ts";
import { isRecord } from "../core/world-build.ts";
import type { Timers } from "../kube/client.ts";
import type {
  Operation,
  OperationError,
  OperationRequest,
  OperationState,
  SidecarApi,
  SidecarVersion,
} from "./model.ts";

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF_MS = 500;
export const DEFAULT_MAX_BACKOFF_MS = 10_000;
/** An operation echoes its request and its errors; a list holds at most one hour of them (sidecar.md §1.2). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** How much of a sidecar's error body is kept: enough for a Java exception message. */
export const MAX_ERROR_BODY_CHARS = 2_000;
/** Bounds on one operation's `errors[]` as read (the whole answer stays in `raw`). */
export const MAX_OPERATION_ERRORS = 100;
export const MAX_ERROR_MESSAGE_CHARS = 8_192;

const STATES: ReadonlySet<string> = new Set(["PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]);

export type SidecarErrorCode =
  | `sidecar-${number}`
  | "sidecar-timeout"
  | "sidecar-refused"
  | "sidecar-unreachable"
  | "sidecar-network"
  | "sidecar-bad-response"
  | "sidecar-too-large"
  | "sidecar-aborted"
  | "sidecar-bad-url";

/**
 * A failed call. `retryable`: the failure may pass (network, timeout, 5xx), as opposed to the sidecar refusing
 * the request (4xx) or answering something casskeeper cannot read. `sent`: false only when the connection was
 * never established, so a POST certainly created nothing; when true a failed submit may still have created
 * the operation.
 */
export class SidecarError extends CasskeeperError {
  readonly status?: number;
  readonly retryable: boolean;
  readonly sent: boolean;
  /** The sidecar's answer, truncated to {@link MAX_ERROR_BODY_CHARS}. */
  readonly body?: string;

  constructor(
    code: SidecarErrorCode,
    message: string,
    o: { status?: number; retryable: boolean; sent: boolean; body?: string; cause?: unknown },
  ) {
    super("runner", code, message, o.cause === undefined ? undefined : { cause: o.cause });
    this.name = "SidecarError";
    this.status = o.status;
    this.retryable = o.retryable;
    this.sent = o.sent;
    this.body = o.body;
  }
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface SidecarClientOptions {
  /** `http://<pod hostname>.<subdomain>:4567` (CassKop), or https through a proxy. A path prefix is kept. */
  readonly baseUrl: string;
  /** Deadline of one attempt, connection to last byte (default 60 s, CassKop's Go client timeout). */
  readonly timeoutMs?: number;
  /** Further attempts for retryable failures (default 3; see the header for which calls). */
  readonly retries?: number;
  /** First backoff; doubles per attempt up to `maxBackoffMs`, with jitter (default 500 ms). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxResponseBytes?: number;
  /** For the attempt deadline (and the backoff sleep unless `sleep` is given); tests pass a fake clock. */
  readonly timers?: Timers;
  readonly sleep?: Sleep;
  /** Jitter source in [0, 1) (default Math.random). */
  readonly random?: () => number;
  /** TLS settings for an https base URL (a private CA, client certificates). */
  readonly tls?: Pick<https.RequestOptions, "ca" | "cert" | "key" | "rejectUnauthorized" | "servername">;
}

/** Ref'd timers: a CLI waiting out a backoff must not exit because nothing else is pending. */
const DEFAULT_TIMERS: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Exchange {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

type Retry = "idempotent" | "unsent-only";

export function createSidecarClient(opts: SidecarClientOptions): SidecarApi {
  let base: URL;
  try {
    base = new URL(opts.baseUrl);
  } catch {
    throw new SidecarError("sidecar-bad-url", `sidecar URL ${JSON.stringify(opts.baseUrl)} is not a URL`, {
      retryable: false,
      sent: false,
    });
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new SidecarError("sidecar-bad-url", `sidecar URL ${base.href}: only http and https are supported`, {
      retryable: false,
      sent: false,
    });
  }
  const prefix = base.pathname.replace(/\/+$/, "");
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retries = Math.max(0, opts.retries ?? DEFAULT_RETRIES);
  const backoffMs = opts.backoffMs ?? DEFAULT_BACKOFF_MS;
  const maxBackoffMs = opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const timers = opts.timers ?? DEFAULT_TIMERS;
  const sleep = opts.sleep ?? sleeper(timers);
  const random = opts.random ?? Math.random;
  const secure = base.protocol === "https:";
  const agent = secure ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });

  function exchange(method: string, path: string, payload: string | undefined, signal?: AbortSignal) {
    return new Promise<Exchange>((resolve, reject) => {
      const what = `${method} ${path}`;
      if (signal?.aborted) {
        reject(aborted(what, false, signal.reason));
        return;
      }
      const url = new URL(base.origin + prefix + path);
      const headers: Record<string, string> = { accept: "application/json", "user-agent": "casskeeper" };
      if (payload !== undefined) {
        headers["content-type"] = "application/json";
        headers["content-length"] = String(Buffer.byteLength(payload));
      }
      const req = (secure ? https : http).request(url, {
        method,
        headers,
        agent,
        ...(secure ? (opts.tls ?? {}) : {}),
      });
      let connected = false;
      let done = false;
      const timer = timers.setTimeout(
        () =>
          fail(
            new SidecarError("sidecar-timeout", `sidecar ${what}: no answer within ${timeoutMs} ms`, {
              retryable: true,
              sent: connected,
            }),
          ),
        timeoutMs,
      );
      const onAbort = () => fail(aborted(what, connected, signal?.reason));
      signal?.addEventListener("abort", onAbort, { once: true });

      function finish(): boolean {
        if (done) return false;
        done = true;
        timers.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        return true;
      }
      function fail(e: SidecarError): void {
        if (!finish()) return;
        req.destroy();
        reject(e);
      }

      req.on("socket", (s) => {
        // No keep-alive: every request has a fresh socket, so "connect" says whether anything could be sent.
        if (!s.connecting) connected = true;
        else s.once(secure ? "secureConnect" : "connect", () => (connected = true));
      });
      req.on("error", (e: NodeJS.ErrnoException) => fail(networkError(what, e, connected)));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            fail(
              new SidecarError("sidecar-too-large", `sidecar ${what}: answer larger than ${maxBytes} bytes`, {
                status: res.statusCode,
                retryable: false,
                sent: true,
              }),
            );
            return;
          }
          chunks.push(c);
        });
        res.on("error", (e: NodeJS.ErrnoException) => fail(networkError(what, e, true)));
        // A connection cut mid-answer: no "end"; say so rather than wait for the deadline.
        res.on("close", () => {
          if (!res.complete) fail(networkError(what, new Error("answer cut short"), true));
        });
        res.on("end", () => {
          if (!finish()) return;
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          });
        });
      });
      req.end(payload);
    });
  }

  /** One call: attempts `exchange` + `judge` and retries as `retry` allows. */
  async function call<T>(
    method: string,
    path: string,
    payload: string | undefined,
    signal: AbortSignal | undefined,
    retry: Retry,
    judge: (ex: Exchange) => T,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return judge(await exchange(method, path, payload, signal));
      } catch (e) {
        const again =
          e instanceof SidecarError &&
          attempt < retries &&
          signal?.aborted !== true &&
          (retry === "idempotent" ? retriesIdempotent(e) : !e.sent && e.retryable);
        if (!again) throw e;
        const ceiling = Math.min(maxBackoffMs, backoffMs * 2 ** attempt);
        // "Equal jitter": at least half the backoff, so retries stay spaced out, plus a random half.
        await sleep(Math.round(ceiling / 2 + (ceiling / 2) * random()), signal);
      }
    }
  }

  const opPath = (id: string) => `/operations/${encodeURIComponent(id)}`;

  return {
    async submit(request: OperationRequest, signal?: AbortSignal): Promise<Operation> {
      return call("POST", "/operations", JSON.stringify(request), signal, "unsent-only", (ex) => {
        const what = "POST /operations";
        // 201 is what the server sends; 200 is what its swagger promises.
        if (ex.status !== 201 && ex.status !== 200)
          throw httpError(what, ex, refusedRequest(ex) ? false : undefined);
        const idFromLocation = locationId(ex.headers.location);
        if (ex.text.trim() === "") {
          if (idFromLocation === undefined) {
            throw badResponse(what, `HTTP ${ex.status} with neither a body nor a Location header`);
          }
          // Only the id is known: the operation was accepted, so it is PENDING until polled.
          return parseOperation({
            id: idFromLocation,
            type: request.type,
            state: "PENDING",
            progress: 0,
            errors: [],
          });
        }
        const body = parseJson(what, ex.text);
        if (isRecord(body) && typeof body.id !== "string" && idFromLocation !== undefined) {
          return parseOperation({ ...body, id: idFromLocation }, what);
        }
        return parseOperation(body, what);
      });
    },

    async get(id: string, signal?: AbortSignal): Promise<Operation | undefined> {
      const path = opPath(id);
      return call("GET", path, undefined, signal, "idempotent", (ex) => {
        if (ex.status === 200) return parseOperation(parseJson(`GET ${path}`, ex.text), `GET ${path}`);
        if (isNotFound(ex)) return undefined;
        throw httpError(`GET ${path}`, ex);
      });
    },

    async list(
      filter?: { type?: string; state?: OperationState },
      signal?: AbortSignal,
    ): Promise<Operation[]> {
      const q = new URLSearchParams();
      if (filter?.type !== undefined) q.set("type", filter.type);
      if (filter?.state !== undefined) q.set("state", filter.state);
      const path = `/operations${q.size > 0 ? `?${q}` : ""}`;
      return call("GET", path, undefined, signal, "idempotent", (ex) => {
        const what = `GET ${path}`;
        if (ex.status !== 200) throw httpError(what, ex);
        const body = parseJson(what, ex.text);
        if (!Array.isArray(body)) throw badResponse(what, "not a JSON array");
        return body.map((o) => parseOperation(o, what));
      });
    },

    async cancel(id: string, signal?: AbortSignal): Promise<boolean> {
      const path = opPath(id);
      return call("DELETE", path, undefined, signal, "idempotent", (ex) => {
        // 202 is the server's answer (OperationsResource); 200/204 would mean the same.
        if (ex.status === 202 || ex.status === 200 || ex.status === 204) return true;
        if (isNotFound(ex)) return false;
        throw httpError(`DELETE ${path}`, ex);
      });
    },

    async version(signal?: AbortSignal): Promise<SidecarVersion> {
      return call("GET", "/version", undefined, signal, "idempotent", (ex) => {
        const what = "GET /version";
        if (ex.status !== 200) throw httpError(what, ex);
        const body = parseJson(what, ex.text);
        if (!isRecord(body) || typeof body.version !== "string") {
          throw badResponse(what, "no version string");
        }
        return {
          version: body.version,
          ...(typeof body.buildTime === "string" ? { buildTime: body.buildTime } : {}),
          ...(typeof body.gitCommit === "string" ? { gitCommit: body.gitCommit } : {}),
        };
      });
    },
  };
}

/**
 * Reads one operation as the sidecar serialises it (sidecar.md §4), refusing what casskeeper could not act on:
 * no id, no type, or a state outside the five (a new state is a new protocol, not something to guess at).
 * `progress` is clamped to 0..1; "NaN", null or garbage read as 0. `errors[]` is bounded; `raw` keeps everything.
 */
export function parseOperation(v: unknown, what = "operation"): Operation {
  if (!isRecord(v)) throw badResponse(what, "an operation is not a JSON object");
  const id = v.id;
  if (typeof id !== "string" || id === "") throw badResponse(what, "an operation without an id");
  if (typeof v.type !== "string") throw badResponse(what, `operation ${id} has no type`);
  const state = v.state;
  if (typeof state !== "string" || !STATES.has(state)) {
    throw badResponse(
      what,
      `operation ${id} has state ${JSON.stringify(state)}, not one of PENDING, RUNNING, COMPLETED, FAILED, CANCELLED`,
    );
  }
  const errors: OperationError[] = [];
  if (Array.isArray(v.errors)) {
    for (const e of v.errors.slice(0, MAX_OPERATION_ERRORS)) {
      if (typeof e === "string") errors.push({ message: clip(e, MAX_ERROR_MESSAGE_CHARS) });
      else if (isRecord(e)) {
        errors.push({
          ...(typeof e.source === "string" ? { source: e.source } : {}),
          ...(typeof e.message === "string" ? { message: clip(e.message, MAX_ERROR_MESSAGE_CHARS) } : {}),
        });
      }
    }
  }
  const text = (k: string) => (typeof v[k] === "string" ? { [k]: v[k] as string } : {});
  return {
    id,
    type: v.type,
    state: state as OperationState,
    progress: readProgress(v.progress),
    ...text("creationTime"),
    ...text("startTime"),
    ...text("completionTime"),
    errors,
    ...text("snapshotTag"),
    raw: v,
  };
}

function readProgress(p: unknown): number {
  const n = typeof p === "number" ? p : typeof p === "string" && p.trim() !== "" ? Number(p) : Number.NaN;
  if (Number.isNaN(n)) return 0;
  return Math.min(1, Math.max(0, n));
}

/**
 * `GET /version`'s `version` as a number triple. Icarus fills it from its jar manifest as
 * `"<implementation title> <version>"` (instaclustr-commons `JarManifestVersionProvider`, `Version.parse`), so
 * the first `major.minor[.patch]` anywhere in the string is taken; suffixes such as `-SNAPSHOT` are ignored.
 * "development build" / "unknown" (no manifest) give undefined.
 */
export function parseSidecarVersion(
  version: string,
): { major: number; minor: number; patch: number } | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (m === null) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? "0") };
}

/** Whether the sidecar registers `remove-backup` (icarus ≥ 2.0.2, sidecar.md §1.5). False when unknown. */
export function supportsRemoveBackup(version: string): boolean {
  const v = parseSidecarVersion(version);
  if (v === undefined) return false;
  if (v.major !== 2) return v.major > 2;
  return v.minor > 0 || v.patch >= 2;
}

/** Unknown (or expired) id: a real 404, or the 500 "HTTP 404 Not Found" Jersey's catch-all mapper produces. */
function isNotFound(ex: Exchange): boolean {
  return ex.status === 404 || (ex.status === 500 && /^HTTP 404 Not Found\b/.test(ex.text.trim()));
}

/** Network failures, timeouts and 5xx; not answers casskeeper could not read (they would read the same again). */
function retriesIdempotent(e: SidecarError): boolean {
  if (!e.retryable) return false;
  const network = ["sidecar-timeout", "sidecar-refused", "sidecar-unreachable", "sidecar-network"];
  return network.includes(e.code) || (e.status !== undefined && e.status >= 500);
}

/**
 * A POST the sidecar refused while reading it: Jackson's message through the catch-all mapper as HTTP 500
 * (sidecar.md §6.2), or Jersey's 415. Sending it again gets the same answer, so it is not retryable.
 */
function refusedRequest(ex: Exchange): boolean {
  return (
    ex.status === 500 &&
    /^(Cannot (deserialize|construct)|Could not resolve type id|Missing type id|Unrecognized (token|field)|Unexpected (character|end-of-input)|HTTP 415\b)/.test(
      ex.text.trim(),
    )
  );
}

function httpError(
  what: string,
  ex: Exchange,
  retryable = ex.status >= 500 || ex.status === 408 || ex.status === 429,
): SidecarError {
  const body = clip(ex.text.trim(), MAX_ERROR_BODY_CHARS);
  const shown = body === "" ? "" : `: ${clip(body.replace(/\s+/g, " "), 300)}`;
  return new SidecarError(`sidecar-${ex.status}`, `sidecar ${what}: HTTP ${ex.status}${shown}`, {
    status: ex.status,
    retryable,
    sent: true,
    ...(body === "" ? {} : { body }),
  });
}

function badResponse(what: string, why: string): SidecarError {
  return new SidecarError("sidecar-bad-response", `sidecar ${what}: ${why}`, { retryable: true, sent: true });
}

function networkError(what: string, e: NodeJS.ErrnoException, connected: boolean): SidecarError {
  const detail = e.code ?? e.message;
  if (!connected && e.code === "ECONNREFUSED") {
    return new SidecarError("sidecar-refused", `sidecar ${what}: connection refused`, {
      retryable: true,
      sent: false,
      cause: e,
    });
  }
  return new SidecarError(
    connected ? "sidecar-network" : "sidecar-unreachable",
    `sidecar ${what}: ${connected ? "connection failed" : "cannot connect"} (${detail})`,
    { retryable: true, sent: connected, cause: e },
  );
}

function aborted(what: string, sent: boolean, cause: unknown): SidecarError {
  return new SidecarError("sidecar-aborted", `sidecar ${what}: aborted`, { retryable: false, sent, cause });
}

function parseJson(what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw badResponse(what, `answer is not JSON: ${JSON.stringify(clip(text.trim(), 120))}`);
  }
}

/** The last path segment of a Location header (`http://host:4567/operations/<uuid>`). */
function locationId(location: string | undefined): string | undefined {
  if (location === undefined) return undefined;
  try {
    const last = new URL(location, "http://sidecar").pathname
      .split("/")
      .filter((s) => s !== "")
      .pop();
    return last === undefined ? undefined : decodeURIComponent(last);
  } catch {
    return undefined;
  }
}

function sleeper(timers: Timers): Sleep {
  return (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(aborted("backoff", false, signal.reason));
        return;
      }
      const onAbort = () => {
        timers.clearTimeout(h);
        reject(aborted("backoff", false, signal?.reason));
      };
      const h = timers.setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
}

function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
