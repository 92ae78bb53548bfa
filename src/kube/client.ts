// Kubernetes client wiring: the KubeConfig (kubeconfig file, or the pod's service account in a cluster), plain
// JSON requests and a watch stream over node:http(s) with client-node's TLS and credentials.
//
// Lists and watches go through here rather than client-node's `Watch`/informers because (1) its informer
// cache keeps whole objects, and the design forbids keeping Secrets' values; (2) its `Watch` aborts a stream
// after 30 s without data (a private `requestTimeoutMs`, client-node 2.0.1 src/watch.ts), which on a quiet
// cluster turns every watch into a relist loop; our own watchdog (world-cache.ts) decides when a watch is
// dead, with an injectable clock. Credentials still come from client-node (`applyToHTTPSOptions`: token
// files re-read, exec plugins, client certificates, CA), so anything `kubectl` can reach, this can.

import http from "node:http";
import https from "node:https";
import { ApiException, KubeConfig } from "@kubernetes/client-node";
import { CasskeeperError } from "../core/errors.ts";
import { isRecord } from "../core/world-build.ts";

/** What we need of a pino logger: leveled calls with an object first. Never pass a Secret's value. */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

/** The default loading rules: `$KUBECONFIG`, `~/.kube/config`, else the in-cluster service account. */
export function loadKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (kc.getCurrentCluster() === null) {
    throw new CasskeeperError(
      "world",
      "kube-no-cluster",
      "no Kubernetes cluster configured (kubeconfig or in-cluster)",
    );
  }
  return kc;
}

/**
 * An API error with the HTTP status and the `Status` reason the server sent (`NotFound`, `Conflict`, …),
 * and its `details` when it had some (an apply conflict's `causes`, an Invalid's field errors).
 */
export class KubeApiError extends CasskeeperError {
  readonly statusCode: number;
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(statusCode: number, reason: string, message: string, details?: Record<string, unknown>) {
    super("world", `kube-${statusCode}`, message);
    this.name = "KubeApiError";
    this.statusCode = statusCode;
    this.reason = reason;
    this.details = details;
  }
}

/** The HTTP status of a failed call, from our own requests or client-node's generated clients. */
export function statusCodeOf(e: unknown): number | undefined {
  if (e instanceof KubeApiError) return e.statusCode;
  if (e instanceof ApiException) return e.code;
  return undefined;
}

/** A short, secret-free description of a failed call, for logs (client-node's messages embed whole bodies). */
export function describeError(e: unknown): string {
  if (e instanceof KubeApiError) return `${e.statusCode} ${e.reason}: ${e.message}`;
  if (e instanceof ApiException) {
    const status = parseStatus(typeof e.body === "string" ? e.body : "");
    return `${e.code} ${status?.reason ?? ""}: ${status?.message ?? "request failed"}`;
  }
  return e instanceof Error ? e.message : String(e);
}

export interface RequestOptions {
  readonly method?: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Refuse responses larger than this (default 256 MiB: a page of objects of up to 1.5 MiB each). */
  readonly maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** A watch event carries one object (etcd caps them at 1.5 MiB); a longer line is not an event. */
const MAX_WATCH_LINE = 16 * 1024 * 1024;

/** One JSON request. Non-2xx answers throw a KubeApiError built from the `Status` body. */
export async function kubeRequest(kc: KubeConfig, opts: RequestOptions): Promise<unknown> {
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  // A Content-Length always: node does not chunk a DELETE's body, so without one the body would be lost.
  const { req } = await open(
    kc,
    opts.method ?? "GET",
    opts.path,
    opts.query,
    opts.contentType,
    opts.signal,
    payload,
  );
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > max) {
          req.destroy();
          reject(new KubeApiError(0, "TooLarge", `response to ${opts.path} larger than ${max} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) {
          reject(errorFromBody(code, text, opts.path));
          return;
        }
        try {
          resolve(text === "" ? undefined : JSON.parse(text));
        } catch {
          reject(new KubeApiError(code, "BadResponse", `response to ${opts.path} is not JSON`));
        }
      });
    });
    req.end(payload);
  });
}

export interface WatchEvent {
  readonly type: string;
  readonly object: Record<string, unknown>;
}

export interface WatchHandle {
  /** Close the stream; `onEnd` is not called afterwards. */
  abort(): void;
}

/**
 * A watch stream (`?watch=true`): `onEvent` for each newline-delimited event, then `onEnd` exactly once —
 * without an error when the server ended the stream, with one when it failed (a non-200 answer is a
 * KubeApiError; a cut connection an Error). No timeout here: the caller's watchdog decides.
 */
export function openWatch(
  kc: KubeConfig,
  path: string,
  query: Readonly<Record<string, string | number | boolean | undefined>>,
  onEvent: (ev: WatchEvent) => void,
  onEnd: (err?: Error) => void,
): WatchHandle {
  let finished = false;
  let request: http.ClientRequest | undefined;
  let aborted = false;
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    request?.destroy();
    if (!aborted) onEnd(err);
  };
  open(kc, "GET", path, { ...query, watch: true }, undefined)
    .then(({ req }) => {
      request = req;
      req.on("error", (e) => finish(e));
      if (aborted) {
        req.destroy();
        return;
      }
      req.on("response", (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => {
            if (chunks.length < 64) chunks.push(c);
          });
          res.on("end", () =>
            finish(errorFromBody(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"), path)),
          );
          res.on("error", (e) => finish(e));
          return;
        }
        res.setEncoding("utf8");
        let buf = "";
        res.on("data", (chunk: string) => {
          buf += chunk;
          let nl = buf.indexOf("\n");
          while (nl >= 0 && !finished) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line !== "") deliver(line);
            nl = buf.indexOf("\n");
          }
          if (buf.length > MAX_WATCH_LINE)
            finish(new Error(`watch ${path}: an event longer than ${MAX_WATCH_LINE} bytes`));
        });
        res.on("end", () => {
          if (buf.trim() !== "") deliver(buf.trim());
          finish();
        });
        res.on("error", (e) => finish(e));
        res.on("close", () =>
          finish(res.complete ? undefined : new Error(`watch ${path}: connection closed`)),
        );
      });
      req.end();
    })
    .catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));

  function deliver(line: string): void {
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      finish(new Error(`watch ${path}: an event is not JSON`));
      return;
    }
    if (isRecord(ev) && typeof ev.type === "string" && isRecord(ev.object)) {
      onEvent({ type: ev.type, object: ev.object });
    } else {
      finish(new Error(`watch ${path}: an event without type or object`));
    }
  }

  return {
    abort() {
      aborted = true;
      finish();
    },
  };
}

async function open(
  kc: KubeConfig,
  method: string,
  path: string,
  query: RequestOptions["query"],
  contentType: string | undefined,
  signal?: AbortSignal,
  payload?: string,
): Promise<{ req: http.ClientRequest }> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null)
    throw new CasskeeperError("world", "kube-no-cluster", "no current cluster in the kubeconfig");
  const url = new URL(cluster.server.replace(/\/+$/, "") + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  options.agent = keepAliveAgent(options.agent);
  const headers: Record<string, string> = {
    ...(options.headers as Record<string, string> | undefined),
    accept: "application/json",
    "user-agent": "casskeeper",
  };
  if (contentType !== undefined) headers["content-type"] = contentType;
  else if (payload !== undefined || (method !== "GET" && method !== "DELETE"))
    headers["content-type"] = "application/json";
  // Always a length with a body: Node does not chunk a DELETE's, which then never arrives.
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  const req = (url.protocol === "http:" ? http : https).request(url, {
    ...options,
    method,
    headers,
    ...(signal === undefined ? {} : { signal }),
  });
  return { req };
}

/** Our keep-alive twin of each agent client-node made, keyed by client-node's (cached per cluster and user). */
const KEEP_ALIVE = new WeakMap<object, http.Agent>();

/**
 * client-node builds its agents without `keepAlive`, so every request opened a new TCP (and TLS) connection: a
 * cold Git sync of 10,000 objects made ~20,000 handshakes (bench/git-sync.ts: 1.2 s of connection setup, and
 * most of the peak RSS). Same TLS options, plus keep-alive. Proxy agents (a subclass) are left as they are.
 */
function keepAliveAgent(agent: https.RequestOptions["agent"]): https.RequestOptions["agent"] {
  if (agent === undefined || typeof agent === "boolean") return agent;
  const Ctor = agent.constructor;
  if (Ctor !== http.Agent && Ctor !== https.Agent) return agent;
  let ka = KEEP_ALIVE.get(agent);
  if (ka === undefined) {
    const base = (agent as http.Agent & { options?: object }).options ?? {};
    ka = new (Ctor as typeof https.Agent)({ ...base, keepAlive: true, keepAliveMsecs: 30_000 });
    KEEP_ALIVE.set(agent, ka);
  }
  return ka;
}

function errorFromBody(code: number, text: string, path: string): KubeApiError {
  const status = parseStatus(text);
  return new KubeApiError(
    code,
    status?.reason ?? "Unknown",
    status?.message ?? `HTTP ${code} from ${path}`,
    status?.details,
  );
}

function parseStatus(
  text: string,
): { reason?: string; message?: string; details?: Record<string, unknown> } | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (isRecord(v) && v.kind === "Status") {
      return {
        ...(typeof v.reason === "string" ? { reason: v.reason } : {}),
        ...(typeof v.message === "string" ? { message: v.message } : {}),
        ...(isRecord(v.details) ? { details: v.details } : {}),
      };
    }
  } catch {
    // not a Status
  }
  return undefined;
}

/** Timers the watchdogs use; tests pass a fake clock. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
