// The webhook's HTTPS server: express 5 on node:https. It does transport only — TLS (hot-swapped with
// `setSecureContext`), content type, body limit, JSON, the AdmissionReview envelope, uid echo, metrics and one
// log line per review; the decisions are the pure handlers' (src/admission/handlers.ts).
//
// HTTP answers (reference/conventions.md §1.1): 200 + AdmissionReview for every review that has a uid (a
// denial is a 200 too); 400 malformed JSON / empty body / not an AdmissionReview; 413 body over
// MAX_BODY_BYTES; 415 content type not application/json; 404 unknown path; 405 wrong method. Errors are a
// JSON metav1.Status. A handler that throws answers an errored AdmissionReview (code 500) and the process
// stays up, as controller-runtime recovers handler panics (pkg/webhook/admission/webhook.go).
//
// With `gitHook`, POST /hooks/git is the Git push receiver (src/gitsync/receiver.ts authenticates and reads the
// delivery; `onPush` triggers the syncs): 200/202/400/401 as the receiver says, 413 over
// GIT_HOOK_MAX_BODY_BYTES, 415 not JSON, 405 another method; answers are `{"message": …, "triggered": n}`.

import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Registry } from "prom-client";
import { CasskeeperError } from "../core/errors.ts";
import type { StructuralValidator } from "../core/structure.ts";
import type { WorldSnapshot } from "../core/world.ts";
import { detectProvider, type PushEvent, parsePushRequest } from "../gitsync/receiver.ts";
import { loadStructuralValidator } from "../schema/bundled-crds.ts";
import { certificateNotAfter } from "../tls/certs.ts";
import {
  GIT_HOOK_MAX_BODY_BYTES,
  GIT_HOOK_PATH,
  HEALTHZ_PATH,
  MAX_BODY_BYTES,
  METRICS_PATH,
  MUTATE_PATH,
  READYZ_PATH,
  VALIDATE_PATH,
} from "./constants.ts";
import {
  type AdmissionContext,
  type AdmissionOutcome,
  mutateAdmission,
  validateAdmission,
} from "./handlers.ts";
import { type Logger, logReview } from "./logger.ts";
import { createWebhookMetrics, type Endpoint, type GitHookResult, type WebhookMetrics } from "./metrics.ts";
import { type AdmissionRequest, admissionReviewResponse, parseAdmissionReview } from "./review.ts";

/** Where the serving certificate comes from: files (tls-files.ts), the in-cluster manager, or a test. */
export interface TlsSource {
  /** The pair in use now; undefined until one exists (the server then refuses handshakes and is not ready). */
  current(): { cert: string; key: string } | undefined;
  /** Called after `current()` changed; the server switches its secure context for new connections. */
  onChange(listener: () => void): void;
}

/** Where the rules' view of the cluster comes from: watch caches, `--world` files, or nothing. */
export interface WorldSource {
  snapshot(): WorldSnapshot;
  /** False until the caches have listed once; /readyz reports it. */
  ready(): boolean;
}

export type AdmissionHandler = (request: AdmissionRequest, ctx: AdmissionContext) => AdmissionOutcome;

export interface WebhookServerOptions {
  readonly host: string;
  /** 0 picks a free port; the bound one is returned. */
  readonly port: number;
  readonly tls: TlsSource;
  readonly world: WorldSource;
  readonly logger: Logger;
  /** Where the metrics go; a fresh Registry (with process metrics) when absent. */
  readonly registry?: Registry;
  /** Defaults to the bundled CRDs' validator. */
  readonly structure?: StructuralValidator;
  /** Replaces the real handlers (tests of the transport, benchmarks). */
  readonly handlers?: { readonly validate?: AdmissionHandler; readonly mutate?: AdmissionHandler };
  /** How long `close()` lets requests in flight finish before cutting connections. */
  readonly closeGraceMs?: number;
  /**
   * The Git push receiver at GIT_HOOK_PATH; without it that path is a 404 like any unknown one. `secret` is
   * the shared webhook secret (never logged); `onPush` is called once per authenticated push and returns how
   * many sources it triggered. It must not throw (if it does, the delivery gets a 500).
   */
  readonly gitHook?: { readonly secret: string; onPush(push: PushEvent): number };
}

export interface WebhookServer {
  readonly port: number;
  readonly server: https.Server;
  readonly metrics: WebhookMetrics;
  /** True when a certificate is loaded and the world is ready (what /readyz says). */
  ready(): boolean;
  /** Stops accepting, lets requests in flight finish (up to closeGraceMs), then closes every connection. */
  close(): Promise<void>;
}

/** Timeouts as controller-runtime's webhook server and Pepr (conventions §2.3): idle keep-alive 90 s, headers
 * 32 s. A whole request gets 40 s: the API server gives up after the webhook's timeoutSeconds (≤ 30). */
export const KEEP_ALIVE_TIMEOUT_MS = 90_000;
export const HEADERS_TIMEOUT_MS = 32_000;
export const REQUEST_TIMEOUT_MS = 40_000;

export async function startWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const logger = opts.logger;
  const metrics = createWebhookMetrics(opts.registry);
  const structure = opts.structure ?? loadStructuralValidator();
  const handlers: Record<Endpoint, AdmissionHandler> = {
    validate: opts.handlers?.validate ?? validateAdmission,
    mutate: opts.handlers?.mutate ?? mutateAdmission,
  };
  const gitHook = opts.gitHook;
  // An empty secret would authenticate nothing (the receiver refuses every delivery): say so at start.
  if (gitHook !== undefined && gitHook.secret === "")
    throw new CasskeeperError("sync", "sync.webhook-secret-empty", "the Git webhook secret is empty");

  let certLoaded = false;
  const initial = opts.tls.current();
  const server = https.createServer({
    ...(initial === undefined ? {} : { cert: initial.cert, key: initial.key }),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  if (initial !== undefined) certificateLoaded(initial.cert);
  else
    logger.warn(
      "no serving certificate yet: TLS handshakes fail and /readyz says not ready until one is loaded",
    );

  function certificateLoaded(cert: string): void {
    certLoaded = true;
    try {
      const notAfter = certificateNotAfter(cert);
      metrics.setCertificateExpiry(Math.floor(notAfter.getTime() / 1000));
      logger.info({ notAfter: notAfter.toISOString() }, "serving certificate loaded");
    } catch {
      metrics.setCertificateExpiry(0);
    }
  }

  opts.tls.onChange(() => {
    const pair = opts.tls.current();
    if (pair === undefined) return;
    try {
      // Existing connections keep their context; new handshakes get the new certificate (Node tls docs).
      server.setSecureContext({ cert: pair.cert, key: pair.key });
      certificateLoaded(pair.cert);
    } catch (e) {
      logger.error({ err: errorMessage(e) }, "new serving certificate rejected; keeping the previous one");
    }
  });
  // A client that cannot finish a handshake is its problem, not ours: log at debug, never crash.
  server.on("tlsClientError", (e) => logger.debug({ err: errorMessage(e) }, "TLS handshake failed"));
  // What node answers by itself when nobody listens (431 for oversized headers, 408 for a slow request, 400
  // otherwise), plus a debug log line.
  server.on("clientError", (e: NodeJS.ErrnoException, socket) => {
    logger.debug({ err: errorMessage(e), code: e.code }, "bad HTTP request");
    if (e.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      e.code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : e.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "408 Request Timeout"
          : "400 Bad Request";
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  const ready = () => certLoaded && opts.world.ready();
  const app = express();
  app.disable("x-powered-by");
  app.disable("etag");
  app.set("query parser", false);
  // The API server calls exactly the configured path: `/Validate` and `/validate/` are not ours.
  app.set("case sensitive routing", true);
  app.set("strict routing", true);

  // POST to the review paths never reaches the router (see the dispatch below); other methods get 405.
  for (const path of [VALIDATE_PATH, MUTATE_PATH]) app.all(path, methodNotAllowed("POST"));
  app.get(HEALTHZ_PATH, (_req, res) => {
    res.status(200).json({ status: "ok" });
  });
  app.all(HEALTHZ_PATH, methodNotAllowed("GET, HEAD"));
  app.get(READYZ_PATH, (_req, res) => {
    const world = opts.world.ready();
    res.status(certLoaded && world ? 200 : 503).json({
      status: certLoaded && world ? "ready" : "not ready",
      certificate: certLoaded,
      world,
    });
  });
  app.all(READYZ_PATH, methodNotAllowed("GET, HEAD"));
  app.get(METRICS_PATH, async (_req, res) => {
    const text = await metrics.registry.metrics();
    res.status(200).type(metrics.registry.contentType).send(text);
  });
  app.all(METRICS_PATH, methodNotAllowed("GET, HEAD"));
  // POST reaches the receiver through the dispatch below; other methods land here.
  if (gitHook !== undefined) app.all(GIT_HOOK_PATH, methodNotAllowed("POST"));
  app.use((req, res) => {
    sendStatus(res, 404, "NotFound", `no route for ${req.method} ${cutText(req.path, 200)}`);
  });
  // Express catches throws and rejections of the routes above; none should happen, and none crashes us.
  app.use((e: unknown, _req: Request, res: Response, _next: NextFunction) => {
    logger.error({ err: errorMessage(e) }, "request failed");
    if (!res.headersSent) sendStatus(res, 500, "InternalError", "internal error");
    else res.destroy();
  });
  // The two review routes are dispatched before express's router: on this path express costs more than the
  // handler (bench/webhook.ts). Same semantics: exact path, POST only (anything else falls through to the
  // routes above: 405, 404); the query string is ignored, as the API server appends `?timeout=10s`.
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === "POST") {
      const path = pathOf(req.url);
      if (path === VALIDATE_PATH) return review("validate", req, res);
      if (path === MUTATE_PATH) return review("mutate", req, res);
      if (path === GIT_HOOK_PATH && gitHook !== undefined) return receivePush(gitHook, req, res);
    }
    app(req, res);
  });

  /** POST /hooks/git: limits and content type here, authentication and parsing in the receiver. */
  function receivePush(
    hook: NonNullable<WebhookServerOptions["gitHook"]>,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    const detected = detectProvider(req.headers);
    const provider = detected?.provider ?? "unknown";
    const event = cutText(detected?.event ?? "", 100);
    // One log line and one count per delivery; never the secret, the signature or the body.
    const finish = (
      code: number,
      result: GitHookResult,
      message: string,
      extra: { ref?: string; triggered?: number; err?: string; close?: boolean } = {},
    ) => {
      const triggered = extra.triggered ?? 0;
      metrics.observeGitHook(provider, result);
      const line = {
        provider,
        event,
        status: code,
        result,
        triggered,
        ...(extra.ref === undefined ? {} : { ref: cutText(extra.ref, 200) }),
        ...(extra.err === undefined ? {} : { err: extra.err }),
      };
      if (code >= 500) logger.error(line, "git push delivery failed");
      else if (code === 401) logger.warn({ ...line, message }, "git push delivery refused");
      else logger.info(code >= 400 ? { ...line, message } : line, "git push delivery");
      if (extra.close === true) res.setHeader("Connection", "close");
      sendJson(res, code, JSON.stringify({ message, triggered }));
    };

    const contentType = req.headers["content-type"];
    if (!isJsonContentType(contentType)) {
      finish(
        415,
        "invalid",
        `content type must be application/json, got ${describe(contentType)}: set the webhook's content type to application/json`,
      );
      discard(req);
      return;
    }
    readBoundedBody(
      req,
      GIT_HOOK_MAX_BODY_BYTES,
      (message) => finish(413, "invalid", message, { close: true }),
      (body) => {
        const result = parsePushRequest(req.headers, body, hook.secret);
        if (result.status !== 200 && result.status !== 202) {
          finish(result.status, result.status === 401 ? "unauthorized" : "invalid", result.message);
          return;
        }
        const push = result.push;
        if (push === undefined) {
          finish(result.status, result.status === 200 ? "ping" : "ignored", result.message);
          return;
        }
        let triggered: number;
        try {
          triggered = hook.onPush(push);
        } catch (e) {
          finish(500, "error", "internal error", { ref: push.ref, err: errorMessage(e) });
          return;
        }
        finish(
          200,
          triggered > 0 ? "triggered" : "no_match",
          `${result.message}: ${triggered === 0 ? "no source follows it" : triggered === 1 ? "1 source to sync" : `${triggered} sources to sync`}`,
          { ref: push.ref, triggered },
        );
      },
    );
  }

  function review(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): void {
    const started = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
    const refuse = (code: number, reason: string, message: string, close = false) => {
      metrics.observeReview({
        endpoint,
        kind: "",
        operation: "",
        verdict: "invalid",
        codes: [],
        seconds: seconds(),
      });
      logger.info({ endpoint, status: code, message }, "admission request refused");
      if (close) res.setHeader("Connection", "close");
      sendStatus(res, code, reason, message);
    };

    const contentType = req.headers["content-type"];
    if (!isJsonContentType(contentType)) {
      refuse(
        415,
        "UnsupportedMediaType",
        `content type must be application/json, got ${describe(contentType)}`,
      );
      discard(req);
      return;
    }
    // Over the limit: refused before (or as soon as) the bytes pass it; the connection is closed, not drained.
    readBoundedBody(
      req,
      MAX_BODY_BYTES,
      (message) => refuse(413, "RequestEntityTooLarge", message, true),
      (body) => answer(endpoint, body, res, seconds, refuse),
    );
  }

  function answer(
    endpoint: Endpoint,
    body: Buffer,
    res: ServerResponse,
    seconds: () => number,
    refuse: (code: number, reason: string, message: string) => void,
  ): void {
    if (body.length === 0) {
      refuse(400, "BadRequest", "empty body: expected an AdmissionReview");
      return;
    }
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      refuse(400, "BadRequest", "body is not valid UTF-8");
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      refuse(400, "BadRequest", `malformed JSON: ${jsonErrorText(e)}`);
      return;
    }
    const envelope = parseAdmissionReview(parsed);
    if (!envelope.ok) {
      refuse(400, "BadRequest", envelope.message);
      return;
    }
    const request = envelope.request;

    let outcome: AdmissionOutcome;
    try {
      outcome = handlers[endpoint](request, { world: opts.world.snapshot(), structure });
    } catch (e) {
      // The handlers promise not to throw; if one does, the API server still gets an answer for this uid,
      // shaped as the handlers' own failures: validating fails closed (500), mutating fails open with a warning.
      logger.error({ endpoint, uid: request.uid, err: errorMessage(e) }, "admission handler threw");
      outcome = thrownOutcome(endpoint, request, e);
    }
    if (outcome.error !== undefined) {
      const { code, stage, message } = outcome.error;
      logger.error({ endpoint, uid: request.uid, code, stage, err: message }, "admission handler failed");
    }

    let payload: string;
    try {
      payload = JSON.stringify(admissionReviewResponse(request.uid, outcome.response));
    } catch (e) {
      logger.error(
        { endpoint, uid: request.uid, err: errorMessage(e) },
        "admission response not serialisable",
      );
      sendStatus(res, 500, "InternalError", "internal error");
      return;
    }
    sendJson(res, 200, payload);

    const s = seconds();
    metrics.observeReview({
      endpoint,
      kind: outcome.kind,
      operation: outcome.operation,
      verdict: outcome.verdict,
      codes: outcome.codes,
      seconds: s,
    });
    const status = (outcome.response as { status?: { message?: unknown } }).status;
    logReview(logger, {
      endpoint,
      uid: request.uid,
      kind: outcome.kind,
      namespace: stringField(request.namespace),
      name: stringField(request.name),
      operation: outcome.operation,
      verdict: outcome.verdict,
      durationMs: s * 1000,
      dryRun: request.dryRun === true,
      codes: outcome.codes,
      message:
        outcome.verdict === "denied" || outcome.verdict === "errored"
          ? typeof status?.message === "string"
            ? status.message
            : undefined
          : undefined,
    });
  }

  server.listen(opts.port, opts.host);
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), opts.closeGraceMs ?? 10_000);
      grace.unref();
      await closed;
      clearTimeout(grace);
    })();
    return closing;
  };

  return { port, server, metrics, ready, close };
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Reads a request body of at most `max` bytes: `tooLarge(message)` once when the declared length or the bytes
 * received pass it (nothing more is read: the stream is paused and the caller closes the connection), else
 * `done(body)` once the body has arrived. A request that errors calls neither.
 */
function readBoundedBody(
  req: IncomingMessage,
  max: number,
  tooLarge: (message: string) => void,
  done: (body: Buffer) => void,
): void {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > max) {
    tooLarge(`body of ${declared} bytes is over the limit of ${max}`);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const onData = (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > max) {
      finished = true;
      chunks.length = 0;
      req.off("data", onData);
      req.pause();
      tooLarge(`body is over the limit of ${max} bytes`);
      return;
    }
    chunks.push(chunk);
  };
  req.on("data", onData);
  req.on("error", () => {
    finished = true;
  });
  req.on("end", () => {
    if (finished) return;
    finished = true;
    done(Buffer.concat(chunks, size));
  });
}
/** `application/json`, optionally with parameters; a charset other than UTF-8 is refused (JSON is UTF-8). */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(";");
  if (type?.trim().toLowerCase() !== "application/json") return false;
  for (const p of params) {
    const [name, value] = p.split("=");
    if (name?.trim().toLowerCase() === "charset") {
      const charset = value?.trim().replace(/^"|"$/g, "").toLowerCase();
      if (charset !== "utf-8" && charset !== "utf8") return false;
    }
  }
  return true;
}

/** Reads and drops an unwanted body so the keep-alive connection stays usable; past the limit, cuts it. */
function discard(req: IncomingMessage): void {
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) req.socket.destroy();
  });
  req.on("error", () => {});
}

function methodNotAllowed(allow: string) {
  return (req: Request, res: Response) => {
    res.setHeader("Allow", allow);
    sendStatus(res, 405, "MethodNotAllowed", `${req.method} is not allowed here; use ${allow}`);
  };
}

/** Errors as a metav1.Status, the shape Kubernetes clients print. */
function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(
    res,
    code,
    JSON.stringify({ apiVersion: "v1", kind: "Status", status: "Failure", code, reason, message }),
  );
}

/** Straight to node's ServerResponse: express's `send` (charset, ETag, freshness) costs more than the handler. */
function sendJson(res: ServerResponse, code: number, payload: string): void {
  res.statusCode = code;
  res.setHeader("Content-Type", "application/json");
  res.setHeader("Content-Length", Buffer.byteLength(payload));
  res.end(payload);
}

/** The path of a request target, without the query. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return "";
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

function describe(contentType: string | undefined): string {
  return contentType === undefined ? "none" : JSON.stringify(cutText(contentType, 100));
}

/** V8's JSON.parse message without its quote of the body (`…, "<text>" is not valid JSON`): never echo input. */
function jsonErrorText(e: unknown): string {
  return errorMessage(e).replace(/, ".*" is not valid JSON$/s, " (not valid JSON)");
}

function thrownOutcome(endpoint: Endpoint, request: AdmissionRequest, e: unknown): AdmissionOutcome {
  const message = `casskeeper internal error: ${cutText(errorMessage(e), 300)}`;
  const common = {
    kind: kindOf(request),
    operation: stringField(request.operation),
    verdict: "errored" as const,
  };
  return endpoint === "mutate"
    ? {
        ...common,
        codes: [],
        response: { allowed: true, warnings: [cutText(`${message}; nothing was changed`, 119)] },
      }
    : {
        ...common,
        codes: ["admission.internal"],
        response: {
          allowed: false,
          status: { status: "Failure", code: 500, reason: "InternalError", message },
        },
      };
}

function kindOf(request: AdmissionRequest): string {
  const kind = (request as { kind?: { kind?: unknown } }).kind?.kind;
  return typeof kind === "string" ? kind : "";
}

function stringField(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function cutText(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
