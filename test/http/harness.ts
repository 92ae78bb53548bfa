// Shared by the HTTP tests: TLS material made with src/tls/certs.ts, the webhook server in-process on port 0,
// and a client that trusts only the test CA and speaks to it as the API server does.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import https from "node:https";
import { Writable } from "node:stream";
import { createLogger, type Logger } from "../../src/admission/logger.ts";
import {
  type AdmissionHandler,
  startWebhookServer,
  type TlsSource,
  type WebhookServer,
  type WorldSource,
} from "../../src/admission/server.ts";
import { serveCommand } from "../../src/cli/serve-command.ts";
import { EMPTY_WORLD, type WorldSnapshot } from "../../src/core/world.ts";
import { createCa, createServingCert, type PemPair } from "../../src/tls/certs.ts";
import { eventually } from "../support/kube-fake-clock.ts";

const DAY = 86_400_000;

export const FIXTURES = new URL("../fixtures/http/", import.meta.url);

/** A fixture AdmissionReview, parsed. */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8")) as Record<string, unknown>;
}

export async function makeCa(): Promise<PemPair> {
  return createCa({
    commonName: "casskeeper http test CA",
    notBefore: new Date(Date.now() - DAY),
    validityDays: 2,
  });
}

export async function makeLeaf(ca: PemPair): Promise<PemPair> {
  return createServingCert({
    ca,
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1"],
    notBefore: new Date(Date.now() - DAY),
    validityDays: 2,
  });
}

/** A TlsSource the test drives by hand. */
export function manualTls(pair: PemPair | undefined): TlsSource & { set(pair: PemPair): void } {
  let current = pair === undefined ? undefined : { cert: pair.certPem, key: pair.keyPem };
  const listeners: (() => void)[] = [];
  return {
    current: () => current,
    onChange: (l) => {
      listeners.push(l);
    },
    set(p) {
      current = { cert: p.certPem, key: p.keyPem };
      for (const l of listeners) l();
    },
  };
}

export function staticWorld(world: WorldSnapshot = EMPTY_WORLD, ready = true): WorldSource {
  return { snapshot: () => world, ready: () => ready };
}

/** A logger whose JSON lines the test can read. */
export function captureLogger(): {
  logger: Logger;
  lines: () => Record<string, unknown>[];
  text: () => string;
} {
  let text = "";
  const destination = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  return {
    logger: createLogger({ level: "debug", destination }),
    lines: () =>
      text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => text,
  };
}

export interface Harness {
  readonly server: WebhookServer;
  readonly ca: PemPair;
  readonly logs: ReturnType<typeof captureLogger>;
  readonly client: Client;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    world?: WorldSource;
    handlers?: { validate?: AdmissionHandler; mutate?: AdmissionHandler };
    tls?: TlsSource;
    ca?: PemPair;
  } = {},
): Promise<Harness> {
  const ca = opts.ca ?? (await makeCa());
  const tls = opts.tls ?? manualTls(await makeLeaf(ca));
  const logs = captureLogger();
  const server = await startWebhookServer({
    host: "127.0.0.1",
    port: 0,
    tls,
    world: opts.world ?? staticWorld(),
    logger: logs.logger,
    ...(opts.handlers === undefined ? {} : { handlers: opts.handlers }),
    closeGraceMs: 1000,
  });
  const client = new Client(server.port, ca.certPem);
  return {
    server,
    ca,
    logs,
    client,
    async close() {
      client.destroy();
      await server.close();
    },
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  readonly json: unknown;
  /** Serial number of the certificate the server presented on this connection. */
  readonly serial: string;
}

/** An HTTPS client trusting only the test CA, with keep-alive like the API server. */
export class Client {
  readonly agent: https.Agent;
  readonly port: number;
  readonly ca: string;

  constructor(port: number, ca: string) {
    this.port = port;
    this.ca = ca;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca });
  }

  /** POST an AdmissionReview (an object, or raw text/bytes) with `Content-Type: application/json`. */
  review(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
    return this.request("POST", path, raw, { "content-type": "application/json", ...headers });
  }

  request(
    method: string,
    path: string,
    body?: string | Uint8Array,
    headers: Record<string, string> = {},
    agent: https.Agent | false = this.agent,
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        { host: "127.0.0.1", port: this.port, method, path, headers, agent, ca: this.ca },
        (res) => {
          const chunks: Buffer[] = [];
          const serial = (res.socket as import("node:tls").TLSSocket).getPeerCertificate().serialNumber;
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json, serial });
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      if (body !== undefined) req.end(body);
      else req.end();
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}

/** One `casskeeper serve` started in this process (a replica): its port, logs, an HTTPS client, and a stop. */
export interface ServeReplica {
  /** Its POD_NAME: the identity it writes into the leader Lease. */
  readonly name: string;
  readonly port: number;
  readonly logs: ReturnType<typeof captureLogger>;
  readonly client: Client;
  readonly stdout: () => string;
  /** Sends the stop signal (SIGTERM's stand-in) and resolves with the exit code once stopped. */
  stop(): Promise<number>;
}

/**
 * Runs `serve ARGS` with POD_NAME=`name` until it says it listens (it must end with `--port 0` on 127.0.0.1);
 * fails with its output when it ends before. The identity is read before the server listens, so replicas
 * started one after another each get their own.
 */
export async function startServeReplica(
  name: string,
  args: readonly string[],
  opts: { readonly cwd: string; readonly caPem: string; readonly waitMs: number },
): Promise<ServeReplica> {
  let out = "";
  let err = "";
  const io = {
    stdout: (t: string) => {
      out += t;
    },
    stderr: (t: string) => {
      err += t;
    },
    readStdin: async () => "",
    now: () => Date.now(),
    cwd: opts.cwd,
  };
  const logs = captureLogger();
  let signal: (v: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => {
    signal = resolve;
  });
  process.env.POD_NAME = name;
  let ended: { code: number } | { error: unknown } | undefined;
  const running = serveCommand([...args], io, { stopSignal, logger: logs.logger }).then(
    (code) => {
      ended = { code };
      return code;
    },
    (error: unknown) => {
      ended = { error };
      return -1;
    },
  );
  try {
    await eventually(`${name} listening`, () => ended !== undefined || /listening on/.test(out), opts.waitMs);
  } finally {
    delete process.env.POD_NAME;
  }
  if (ended !== undefined) {
    const why = "error" in ended ? String(ended.error) : `exit ${ended.code}`;
    assert.fail(`${name} ended before listening (${why}):\n${out}\n${err}\n${logs.text()}`);
  }
  const port = Number(/listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  const client = new Client(port, opts.caPem);
  let stopping: Promise<number> | undefined;
  return {
    name,
    port,
    logs,
    client,
    stdout: () => out,
    stop() {
      stopping ??= (async () => {
        client.destroy();
        signal("SIGTERM");
        const code = await running;
        if (ended !== undefined && "error" in ended) throw ended.error;
        return code;
      })();
      return stopping;
    },
  };
}
