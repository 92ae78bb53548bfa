// `casskeeper serve`: the admission webhook over HTTPS until SIGTERM/SIGINT, then a graceful stop (exit 0).
//
//   TLS    --tls-cert FILE --tls-key FILE   files, reloaded when they change
//          --self-managed-tls               in a cluster: own CA + serving cert in a Secret, caBundle injected
//          --local                          127.0.0.1, a pair generated under ./certs when absent
//   world  --world FILE...                  an offline snapshot, as `casskeeper validate --world`
//          --kube                           watch caches of Secrets (key names only), clusters, backups
//          (neither)                        world checks skipped, with a warning (--local: examples/world.yaml)
//   git    --git-sync                       the BackupPolicySource controller (needs --kube), leader-elected
//          --git-cache-dir DIR              where shallow clones live (default: a dir under the OS temp dir)
//          --git-webhook-secret-file FILE   enables the push receiver at /hooks/git with this shared secret
//   runner --runner                         runs backups and restores through the sidecars (needs --kube)
//          --sidecar-port N                 the sidecars' REST port (default 4567)
//          --sidecar-address dns|ip         `<hostname>.<subdomain>.<ns>.svc` (default) or the pod IP
// --git-sync and --runner work only in the replica that holds the Lease `casskeeper-leader` (one Lease for both).

import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Registry } from "prom-client";
import {
  MUTATING_CONFIG_NAME,
  NAMESPACE,
  SERVICE_NAME,
  TLS_SECRET_NAME,
  VALIDATE_PATH,
  VALIDATING_CONFIG_NAME,
  WEBHOOK_PORT,
} from "../admission/constants.ts";
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from "../admission/logger.ts";
import {
  startWebhookServer,
  type TlsSource,
  type WebhookServerOptions,
  type WorldSource,
} from "../admission/server.ts";
import { ensureLocalCertificate, watchTlsFiles } from "../admission/tls-files.ts";
import { EMPTY_WORLD, type WorldSnapshot } from "../core/world.ts";
import { displayPath } from "./files.ts";
import { EXIT_OK, EXIT_USAGE, type Io, USAGE, UsageError } from "./main.ts";
import { loadWorld } from "./validate-command.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

export interface ServeOptions {
  /** Resolves when the server should stop; defaults to the first SIGTERM or SIGINT. */
  readonly stopSignal?: Promise<unknown>;
  /** Where JSON logs go; defaults to stdout. */
  readonly logger?: Logger;
}

export async function serveCommand(
  args: readonly string[],
  io: Io,
  serveOpts: ServeOptions = {},
): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: "string" },
      port: { type: "string", short: "p" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "self-managed-tls": { type: "boolean" },
      local: { type: "boolean" },
      world: { type: "string", multiple: true },
      kube: { type: "boolean" },
      "git-sync": { type: "boolean" },
      "git-cache-dir": { type: "string" },
      "git-webhook-secret-file": { type: "string" },
      runner: { type: "boolean" },
      "sidecar-port": { type: "string" },
      "sidecar-address": { type: "string" },
      namespace: { type: "string", short: "n" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: false,
    strict: true,
  });
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const local = values.local === true;
  const port = parsePort(values.port);
  const host = values.host ?? (local ? "127.0.0.1" : "0.0.0.0");
  const level = parseLevel(values["log-level"]);
  const namespace = values.namespace ?? process.env.POD_NAMESPACE ?? NAMESPACE;
  const certFile = values["tls-cert"];
  const keyFile = values["tls-key"];
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const tlsModes = [certFile !== undefined, values["self-managed-tls"] === true].filter(Boolean).length;
  if (tlsModes > 1) throw new UsageError("--tls-cert/--tls-key and --self-managed-tls are exclusive");
  if (tlsModes === 0 && !local) {
    throw new UsageError("serve needs TLS: --tls-cert FILE --tls-key FILE, --self-managed-tls, or --local");
  }
  if (values.kube && values.world !== undefined) throw new UsageError("--world and --kube are exclusive");
  if (values["git-sync"] && !values.kube) throw new UsageError("--git-sync needs --kube");
  if (!values["git-sync"] && (values["git-cache-dir"] ?? values["git-webhook-secret-file"]) !== undefined) {
    throw new UsageError("--git-cache-dir and --git-webhook-secret-file go with --git-sync");
  }
  if (values.runner && !values.kube) throw new UsageError("--runner needs --kube");
  if (!values.runner && (values["sidecar-port"] ?? values["sidecar-address"]) !== undefined) {
    throw new UsageError("--sidecar-port and --sidecar-address go with --runner");
  }
  const sidecarPort =
    values["sidecar-port"] === undefined ? 4567 : parsePort(values["sidecar-port"], "--sidecar-port");
  const addressing = values["sidecar-address"] ?? "dns";
  if (addressing !== "dns" && addressing !== "ip") {
    throw new UsageError(`--sidecar-address must be dns or ip, got "${addressing}"`);
  }

  // Listen for SIGTERM/SIGINT before anything starts: a signal during start-up then stops cleanly (exit 0)
  // instead of killing the process half-way (and a supervisor that signals right after "listening" wins no race).
  const stopSignal = serveOpts.stopSignal ?? signalled();
  const logger = serveOpts.logger ?? createLogger({ level });
  const stoppers: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stoppers.reverse()) {
      try {
        await stop();
      } catch (e) {
        logger.error({ err: (e as Error).message }, "error while stopping");
      }
    }
  };

  try {
    // The KubeConfig only when a cluster is needed, so --local never loads the Kubernetes client.
    let kubeConfig: unknown;
    const kc = async () => {
      if (kubeConfig === undefined) {
        const { KubeConfig } = await import("@kubernetes/client-node");
        const config = new KubeConfig();
        config.loadFromDefault(); // in a pod: the service account; elsewhere: $KUBECONFIG or ~/.kube/config
        kubeConfig = config;
      }
      return kubeConfig as import("@kubernetes/client-node").KubeConfig;
    };

    // TLS
    let tls: TlsSource;
    let caFile: string | undefined;
    if (values["self-managed-tls"]) {
      const { startCertificateManager } = await import("../kube/cert-manager.ts");
      const manager = await startCertificateManager(await kc(), {
        namespace,
        secretName: TLS_SECRET_NAME,
        serviceName: SERVICE_NAME,
        webhookConfigs: { validating: VALIDATING_CONFIG_NAME, mutating: MUTATING_CONFIG_NAME },
        logger,
      });
      stoppers.push(() => manager.stop());
      tls = manager;
    } else {
      let files = { certFile: certFile ?? "", keyFile: keyFile ?? "" };
      if (certFile === undefined) {
        const made = await ensureLocalCertificate(join(io.cwd, "certs"), io.now());
        if (made.created)
          io.stdout(
            `generated a local CA and certificate in ${displayPath(join(io.cwd, "certs"), io.cwd)}/\n`,
          );
        files = made;
        caFile = made.caFile;
      }
      const watched = await watchTlsFiles({ ...files, logger });
      stoppers.push(() => watched.close());
      tls = watched;
    }

    // World
    let world: WorldSource;
    if (values.kube) {
      const { startWorldCache } = await import("../kube/world-cache.ts");
      const cache = await startWorldCache(await kc(), { logger });
      stoppers.push(() => cache.stop());
      world = cache;
    } else {
      const files = values.world ?? (local ? [join(EXAMPLES, "world.yaml")] : []);
      const snapshot: WorldSnapshot | undefined =
        files.length === 0 ? EMPTY_WORLD : await loadWorld(files, "default", io);
      if (snapshot === undefined) return EXIT_USAGE;
      if (!snapshot.known) {
        logger.warn(
          "no --world and no --kube: checks of secrets, clusters and backup references are skipped",
        );
      }
      world = { snapshot: () => snapshot, ready: () => true };
    }

    // Git sync and runner: every replica watches the sources and takes push deliveries; the Lease holder syncs
    // and runs backups.
    const registry = new Registry();
    let gitHook: WebhookServerOptions["gitHook"];
    const led: { lead(signal: AbortSignal): void; idle(): Promise<void> }[] = [];
    if (values["git-sync"]) {
      const { startGitSyncForServe } = await import("../gitsync/serve.ts");
      const sync = await startGitSyncForServe(await kc(), {
        cacheDir: values["git-cache-dir"] ?? join(tmpdir(), "casskeeper-git"),
        world: () => world.snapshot(),
        logger,
        registry,
      });
      stoppers.push(() => sync.stop());
      led.push(sync);
      const secretFile = values["git-webhook-secret-file"];
      const secret = secretFile === undefined ? undefined : await readHookSecret(secretFile);
      if (secret === undefined) {
        logger.info(
          {},
          "push receiver off: no --git-webhook-secret-file (or the file is absent); polling only",
        );
      } else {
        gitHook = { secret, onPush: (push) => sync.onPush(push) };
      }
    }
    if (values.runner) {
      const { startRunnerForServe } = await import("../runner/serve.ts");
      const runner = startRunnerForServe(await kc(), { logger, registry, sidecarPort, addressing });
      stoppers.push(() => runner.stop());
      led.push(runner);
    }
    if (led.length > 0) {
      const { startLeadership } = await import("../kube/leadership.ts");
      const leadership = startLeadership(
        await kc(),
        { namespace, logger, ready: () => world.snapshot().known },
        led,
      );
      stoppers.push(() => leadership.stop());
    }

    const server = await startWebhookServer({
      host,
      port,
      tls,
      world,
      logger,
      registry,
      ...(gitHook === undefined ? {} : { gitHook }),
    });
    stoppers.push(() => server.close());
    const shownHost =
      host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    const url = `https://${shownHost}:${server.port}`;
    logger.info({ host, port: server.port }, "listening");
    io.stdout(
      `casskeeper webhook listening on https://${host.includes(":") ? `[${host}]` : host}:${server.port}\n`,
    );
    if (caFile !== undefined) {
      const review = (name: string) => displayPath(join(EXAMPLES, name), io.cwd);
      const curl = (name: string) =>
        `curl --cacert ${displayPath(caFile ?? "", io.cwd)} -H 'Content-Type: application/json' ` +
        `--data-binary @${review(name)} ${url}${VALIDATE_PATH}`;
      io.stdout(
        `send it a review (allowed):\n  ${curl("admission-review.json")}\n` +
          `and one it denies:\n  ${curl("admission-review-denied.json")}\n` +
          "stop with Ctrl-C\n",
      );
    }

    const signal = await stopSignal;
    logger.info({ signal: typeof signal === "string" ? signal : undefined }, "shutting down");
    await stopAll();
    logger.info("stopped");
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    return EXIT_OK;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** The receiver's shared secret, trimmed; undefined when the file is absent (its Secret volume is optional). */
async function readHookSecret(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const secret = text.trim();
  if (secret === "") throw new UsageError(`--git-webhook-secret-file ${file} is empty`);
  return secret;
}

/** The first SIGTERM or SIGINT (a second one kills the process the usual way). */
function signalled(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      resolve(signal);
    };
    process.once("SIGTERM", on);
    process.once("SIGINT", on);
  });
}

function parsePort(value: string | undefined, flag = "--port"): number {
  if (value === undefined) return WEBHOOK_PORT;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`${flag} must be 0–65535, got "${value}"`);
  return n;
}

function parseLevel(value: string | undefined): LogLevel {
  if (value === undefined) return "info";
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${value}"`);
  }
  return value as LogLevel;
}
