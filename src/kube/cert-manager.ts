// The in-cluster certificate manager: casskeeper's own CA and serving certificate, kept in a Secret and
// trusted by the API server through `caBundle`, Gatekeeper style (open-policy-agent/cert-controller
// pkg/rotator/rotator.go): CA valid 10 years, leaf 1 year, leaf renewed 90 days before expiry, checked every
// 12 hours and whenever the Secret changes, `caBundle` written into every webhook of both configurations.
//
// Every replica runs one; they agree through the Secret: a write carries the resourceVersion that was read
// (or is a create), and the loser of a race (409) re-reads and takes the winner's pair. A CA replaced before
// its end is published next to the old one (`ca.crt` holds new then old while the old is valid), so pods
// still serving a leaf of the old CA stay trusted until they reload (devsisters/checkpoint PR #60 on the
// caBundle/serving-cert mismatch window). A webhook configuration that does not exist yet (manifests applied
// later) is logged and retried, never fatal. The Secret's values are never logged.

import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  AdmissionregistrationV1Api,
  CoreV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Secret,
} from "@kubernetes/client-node";
import type { TlsSource } from "../admission/server.ts";
import { createCa, createServingCert } from "../tls/certs.ts";
import {
  describeError,
  type Logger,
  openWatch,
  REAL_TIMERS,
  statusCodeOf,
  type Timers,
  type WatchHandle,
} from "./client.ts";

export interface CertificateManagerOptions {
  readonly namespace: string;
  readonly secretName: string;
  readonly serviceName: string;
  readonly webhookConfigs: { readonly validating: string; readonly mutating: string };
  readonly logger: Logger;
  /** Milliseconds since the epoch (injected for tests). */
  readonly now?: () => number;
  readonly timers?: Timers;
  /** Default 12 h. */
  readonly checkEveryMs?: number;
  /** After a failure (API error, a webhook configuration not there yet). Default 1 min. */
  readonly retryMs?: number;
  /** Watch the Secret to react to another replica's rotation at once. Default true. */
  readonly watchSecret?: boolean;
}

export interface CertificateManager extends TlsSource {
  /** The serving certificate's expiry, for the expiry metric; undefined before the first pair. */
  notAfter(): Date | undefined;
  /** The base64 `caBundle` the webhook configurations should carry. */
  caBundle(): string | undefined;
  /** Runs a check now (what the 12-hourly timer and Secret changes do). */
  check(): Promise<void>;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;
export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
export const RENEW_BEFORE_DAYS = 90;
/** A CA with less left than this is replaced (it must outlive the leaves it signs). */
export const CA_MIN_REMAINING_DAYS = 365;
/** Certificates start an hour in the past, for nodes whose clocks lag. */
const BACKDATE_MS = 3_600_000;
const MAX_WRITE_ATTEMPTS = 4;

interface Material {
  readonly caCertPem: string; // the CA first, an older CA after it during a CA rotation
  readonly caKeyPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export function servingNames(serviceName: string, namespace: string): string[] {
  return [
    serviceName,
    `${serviceName}.${namespace}`,
    `${serviceName}.${namespace}.svc`,
    `${serviceName}.${namespace}.svc.cluster.local`,
  ];
}

export async function startCertificateManager(
  kc: KubeConfig,
  opts: CertificateManagerOptions,
): Promise<CertificateManager> {
  const core = kc.makeApiClient(CoreV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? REAL_TIMERS;
  const checkEveryMs = opts.checkEveryMs ?? 12 * 3_600_000;
  const retryMs = opts.retryMs ?? 60_000;
  const log = opts.logger;
  const names = servingNames(opts.serviceName, opts.namespace);
  const where = { namespace: opts.namespace, secret: opts.secretName };

  let material: Material | undefined;
  let leafNotAfter: Date | undefined;
  const listeners: (() => void)[] = [];
  const missingConfigs = new Set<string>();
  let stopped = false;
  let timer: unknown;
  let running: Promise<void> | undefined;
  let again = false;
  /** The Secret's resourceVersion last read or written here: its own watch event is not a change. */
  let seenRv: string | undefined;

  /** Why the pair must be replaced, or undefined when it is good; `keepCa` when only the leaf must go. */
  function assess(m: Partial<Material>): { reason: string; keepCa: boolean } | undefined {
    const t = now();
    const ca = parseCert(firstPem(m.caCertPem));
    if (ca === undefined || !keyMatches(ca, m.caKeyPem)) return { reason: "no usable CA", keepCa: false };
    if (Date.parse(ca.validTo) - t < CA_MIN_REMAINING_DAYS * DAY_MS) {
      return { reason: `CA expires ${ca.validToDate.toISOString()}`, keepCa: false };
    }
    const leaf = parseCert(m.certPem);
    if (leaf === undefined || !keyMatches(leaf, m.keyPem))
      return { reason: "no usable serving certificate", keepCa: true };
    if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey))
      return { reason: "serving certificate not signed by the CA", keepCa: true };
    if (Date.parse(leaf.validTo) - t < RENEW_BEFORE_DAYS * DAY_MS) {
      return { reason: `serving certificate expires ${leaf.validToDate.toISOString()}`, keepCa: true };
    }
    const sans = new Set((leaf.subjectAltName ?? "").split(",").map((s) => s.trim()));
    const lacking = names.filter((n) => !sans.has(`DNS:${n}`));
    if (lacking.length > 0)
      return { reason: `serving certificate lacks ${lacking.join(", ")}`, keepCa: true };
    return undefined;
  }

  async function generate(old: Partial<Material>, keepCa: boolean): Promise<Material> {
    const notBefore = new Date(now() - BACKDATE_MS);
    let caCertPem: string;
    let caKeyPem: string;
    if (keepCa && old.caCertPem !== undefined && old.caKeyPem !== undefined) {
      caCertPem = old.caCertPem;
      caKeyPem = old.caKeyPem;
    } else {
      const ca = await createCa({
        commonName: `${opts.serviceName}-ca`,
        notBefore,
        validityDays: CA_VALIDITY_DAYS,
      });
      // Keep trusting the previous CA while it is valid: replicas may still serve its leaf.
      const previous = parseCert(firstPem(old.caCertPem));
      const stillValid = previous !== undefined && Date.parse(previous.validTo) > now();
      caCertPem = stillValid ? `${ca.certPem.trimEnd()}\n${previous.toString().trimEnd()}\n` : ca.certPem;
      caKeyPem = ca.keyPem;
    }
    const leaf = await createServingCert({
      ca: { certPem: firstPem(caCertPem) ?? caCertPem, keyPem: caKeyPem },
      dnsNames: names,
      notBefore,
      validityDays: LEAF_VALIDITY_DAYS,
    });
    return { caCertPem, caKeyPem, certPem: leaf.certPem, keyPem: leaf.keyPem };
  }

  /** Reads the Secret, replaces the pair when needed (racing safely), and returns the pair to serve. */
  async function ensureSecret(): Promise<Material> {
    for (let attempt = 1; ; attempt++) {
      let secret: V1Secret | undefined;
      try {
        secret = await core.readNamespacedSecret({ namespace: opts.namespace, name: opts.secretName });
      } catch (e) {
        if (statusCodeOf(e) !== 404) throw e;
      }
      const found = decode(secret);
      const verdict = assess(found);
      if (verdict === undefined) {
        seenRv = secret?.metadata?.resourceVersion;
        return found as Material;
      }
      if (attempt > MAX_WRITE_ATTEMPTS)
        throw new Error(`gave up writing ${opts.secretName} after ${MAX_WRITE_ATTEMPTS} conflicts`);
      log.info(
        { ...where, reason: verdict.reason, newCa: !verdict.keepCa },
        "generating webhook certificate",
      );
      const fresh = await generate(found, verdict.keepCa);
      try {
        const written =
          secret === undefined
            ? await core.createNamespacedSecret({
                namespace: opts.namespace,
                body: secretBody(undefined, fresh),
              })
            : await core.replaceNamespacedSecret({
                namespace: opts.namespace,
                name: opts.secretName,
                body: secretBody(secret, fresh),
              });
        seenRv = written.metadata?.resourceVersion;
        log.info(
          { ...where, notAfter: certNotAfter(fresh.certPem)?.toISOString() },
          "webhook certificate stored",
        );
        return fresh;
      } catch (e) {
        if (statusCodeOf(e) !== 409) throw e;
        log.info({ ...where }, "another replica wrote the certificate first; using theirs");
      }
    }
  }

  function secretBody(existing: V1Secret | undefined, m: Material): V1Secret {
    const data = {
      ...(existing?.data ?? {}),
      "tls.crt": b64(m.certPem),
      "tls.key": b64(m.keyPem),
      "ca.crt": b64(m.caCertPem),
      "ca.key": b64(m.caKeyPem),
    };
    if (existing === undefined) {
      return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: opts.secretName,
          namespace: opts.namespace,
          labels: { "app.kubernetes.io/managed-by": "casskeeper" },
        },
        type: "kubernetes.io/tls",
        data,
      };
    }
    // The read resourceVersion stays in metadata: the write is conditional on nobody having written since.
    return { ...existing, data };
  }

  /** Puts `bundle` in every webhook of one configuration; false when the configuration does not exist. */
  async function injectCaBundle(
    kind: "validating" | "mutating",
    name: string,
    bundle: string,
  ): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      let config: {
        metadata?: { resourceVersion?: string };
        webhooks?: { clientConfig?: { caBundle?: string } }[];
      };
      try {
        config =
          kind === "validating"
            ? await admission.readValidatingWebhookConfiguration({ name })
            : await admission.readMutatingWebhookConfiguration({ name });
      } catch (e) {
        if (statusCodeOf(e) !== 404) throw e;
        if (!missingConfigs.has(name)) {
          log.warn({ kind, name, retryInMs: retryMs }, "webhook configuration not found; will retry");
          missingConfigs.add(name);
        }
        return false;
      }
      if (missingConfigs.delete(name)) log.info({ kind, name }, "webhook configuration found");
      const webhooks = config.webhooks ?? [];
      const ops: object[] = [];
      webhooks.forEach((w, i) => {
        if (w.clientConfig?.caBundle !== bundle) {
          ops.push({ op: "add", path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle });
        }
      });
      if (ops.length === 0) return true;
      // The `test` makes the patch apply only to the version read, so indexes still name the same webhooks.
      const patch = [
        { op: "test", path: "/metadata/resourceVersion", value: config.metadata?.resourceVersion },
        ...ops,
      ];
      try {
        const header = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
        if (kind === "validating")
          await admission.patchValidatingWebhookConfiguration({ name, body: patch }, header);
        else await admission.patchMutatingWebhookConfiguration({ name, body: patch }, header);
        log.info({ kind, name, webhooks: ops.length }, "caBundle written");
        return true;
      } catch (e) {
        const code = statusCodeOf(e);
        // 422: the `test` failed (the configuration changed since it was read); 409: a conflict. Read again.
        if ((code !== 422 && code !== 409) || attempt >= MAX_WRITE_ATTEMPTS) throw e;
      }
    }
  }

  async function reconcile(): Promise<void> {
    let ok = true;
    try {
      const m = await ensureSecret();
      load(m);
      const bundle = b64(m.caCertPem);
      for (const [kind, name] of [
        ["validating", opts.webhookConfigs.validating],
        ["mutating", opts.webhookConfigs.mutating],
      ] as const) {
        if (!(await injectCaBundle(kind, name, bundle))) ok = false;
      }
    } catch (e) {
      ok = false;
      log.error({ ...where, err: describeError(e), retryInMs: retryMs }, "certificate check failed");
    }
    schedule(ok ? checkEveryMs : retryMs);
  }

  function load(m: Material): void {
    if (
      material !== undefined &&
      material.certPem === m.certPem &&
      material.keyPem === m.keyPem &&
      material.caCertPem === m.caCertPem
    ) {
      return;
    }
    const first = material === undefined;
    material = m;
    leafNotAfter = certNotAfter(m.certPem);
    log.info(
      { ...where, notAfter: leafNotAfter?.toISOString() },
      first ? "serving certificate loaded" : "serving certificate rotated",
    );
    for (const l of listeners) {
      try {
        l();
      } catch (e) {
        log.error({ err: describeError(e) }, "certificate listener failed");
      }
    }
  }

  function schedule(ms: number): void {
    if (stopped) return;
    if (timer !== undefined) timers.clearTimeout(timer);
    timer = timers.setTimeout(() => {
      timer = undefined;
      void check();
    }, ms);
  }

  /** One reconcile at a time; a request during a run makes one more run after it. */
  function check(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await reconcile();
      } while (again && !stopped);
      running = undefined;
    })();
    return running;
  }

  // The Secret's own watch: another replica's rotation, or someone deleting it, triggers a check.
  let secretWatch: WatchHandle | undefined;
  let watchFailures = 0;
  let watchTimer: unknown;
  function watchSecret(): void {
    if (stopped || opts.watchSecret === false) return;
    const started = now();
    secretWatch = openWatch(
      kc,
      `/api/v1/namespaces/${encodeURIComponent(opts.namespace)}/secrets`,
      // From the version last read, so a change made since is not missed; without one, from now.
      {
        fieldSelector: `metadata.name=${opts.secretName}`,
        resourceVersion: seenRv,
        allowWatchBookmarks: true,
      },
      (ev) => {
        const meta = ev.object.metadata as { resourceVersion?: string } | undefined;
        if (ev.type === "BOOKMARK") return;
        if (ev.type === "ERROR") {
          // 410: too old; read the Secret again (the stream ends and is reopened from the new version).
          void check();
          return;
        }
        if (meta?.resourceVersion === seenRv) return;
        seenRv = meta?.resourceVersion;
        void check();
      },
      () => {
        secretWatch = undefined;
        if (stopped) return;
        watchFailures = now() - started > 60_000 ? 1 : watchFailures + 1;
        watchTimer = timers.setTimeout(
          watchSecret,
          Math.min(300_000, 1_000 * 2 ** Math.min(8, watchFailures)),
        );
      },
    );
  }

  await check();
  watchSecret();

  return {
    current: () => (material === undefined ? undefined : { cert: material.certPem, key: material.keyPem }),
    onChange(listener) {
      listeners.push(listener);
    },
    notAfter: () => leafNotAfter,
    caBundle: () => (material === undefined ? undefined : b64(material.caCertPem)),
    check,
    async stop() {
      stopped = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      if (watchTimer !== undefined) timers.clearTimeout(watchTimer);
      secretWatch?.abort();
      await running;
    },
  };
}

function decode(secret: V1Secret | undefined): Partial<Material> {
  const d = secret?.data ?? {};
  const get = (k: string) =>
    typeof d[k] === "string" ? Buffer.from(d[k], "base64").toString("utf8") : undefined;
  const out: { -readonly [K in keyof Material]?: string } = {};
  const caCertPem = get("ca.crt");
  const caKeyPem = get("ca.key");
  const certPem = get("tls.crt");
  const keyPem = get("tls.key");
  if (caCertPem !== undefined) out.caCertPem = caCertPem;
  if (caKeyPem !== undefined) out.caKeyPem = caKeyPem;
  if (certPem !== undefined) out.certPem = certPem;
  if (keyPem !== undefined) out.keyPem = keyPem;
  return out;
}

function parseCert(pem: string | undefined): X509Certificate | undefined {
  if (pem === undefined || pem.trim() === "") return undefined;
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function keyMatches(cert: X509Certificate, keyPem: string | undefined): boolean {
  if (keyPem === undefined) return false;
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function firstPem(pem: string | undefined): string | undefined {
  const m =
    pem === undefined ? null : /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(pem);
  return m === null ? undefined : m[0];
}

function certNotAfter(pem: string): Date | undefined {
  return parseCert(pem)?.validToDate;
}

function b64(s: string): string {
  return Buffer.from(s, "utf8").toString("base64");
}
