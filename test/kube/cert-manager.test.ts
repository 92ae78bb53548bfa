// The certificate manager against the API double, through the real client-node: it makes and stores the
// pair, writes caBundle into every webhook of both configurations, leaves a good pair alone, renews before
// expiry, replaces a bad CA or wrong names, waits for configurations applied later, follows the Secret, and
// two replicas starting together end with one certificate. Time is a fake clock.

import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { afterEach, test } from "node:test";
import {
  MUTATING_CONFIG_NAME,
  MUTATING_DATACENTER_WEBHOOK_NAME,
  MUTATING_WEBHOOK_NAME,
  SERVICE_NAME,
  TLS_SECRET_NAME,
  VALIDATING_CONFIG_NAME,
  VALIDATING_WEBHOOK_NAME,
} from "../../src/admission/constants.ts";
import { type CertificateManager, startCertificateManager } from "../../src/kube/cert-manager.ts";
import { createCa, createServingCert } from "../../src/tls/certs.ts";
import { type KubeApiDouble, type Obj, startKubeApiDouble } from "../support/kube-api-double.ts";
import { eventually, FakeClock, recordingLogger } from "../support/kube-fake-clock.ts";

const NS = "casskeeper-system";
const DAY = 86_400_000;
const RETRY = 60_000;
const NAMES = [
  SERVICE_NAME,
  `${SERVICE_NAME}.${NS}`,
  `${SERVICE_NAME}.${NS}.svc`,
  `${SERVICE_NAME}.${NS}.svc.cluster.local`,
];

const open: { double?: KubeApiDouble; managers: CertificateManager[] }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    for (const m of o.managers) await m.stop();
    await o.double?.close();
  }
});

function validating(): Obj {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: VALIDATING_CONFIG_NAME },
    webhooks: [webhook(VALIDATING_WEBHOOK_NAME, "/validate")],
  };
}

function mutating(): Obj {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: MUTATING_CONFIG_NAME },
    webhooks: [
      webhook(MUTATING_WEBHOOK_NAME, "/mutate"),
      webhook(MUTATING_DATACENTER_WEBHOOK_NAME, "/mutate"),
    ],
  };
}

function webhook(name: string, path: string): Obj {
  return {
    name,
    clientConfig: { service: { namespace: NS, name: SERVICE_NAME, path, port: 443 } },
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
  };
}

async function setup(opts: { configs?: boolean; seed?: Obj[] } = {}) {
  const double = await startKubeApiDouble();
  if (opts.configs !== false) {
    double.objects.put(validating());
    double.objects.put(mutating());
  }
  for (const o of opts.seed ?? []) double.objects.put(o);
  const clock = new FakeClock();
  const entry = { double, managers: [] as CertificateManager[] };
  open.push(entry);
  const start = async (logger = recordingLogger()) => {
    const m = await startCertificateManager(double.kubeConfig(), {
      namespace: NS,
      secretName: TLS_SECRET_NAME,
      serviceName: SERVICE_NAME,
      webhookConfigs: { validating: VALIDATING_CONFIG_NAME, mutating: MUTATING_CONFIG_NAME },
      logger,
      now: clock.now,
      timers: clock,
      retryMs: RETRY,
    });
    entry.managers.push(m);
    return { manager: m, logger };
  };
  return { double, clock, start };
}

function stored(double: KubeApiDouble): {
  crt: string;
  key: string;
  ca: string;
  caKey: string;
  type: unknown;
} {
  const s = double.objects.get("v1", "Secret", NS, TLS_SECRET_NAME);
  assert.ok(s !== undefined, "the Secret exists");
  const d = s.data as Record<string, string>;
  const get = (k: string) => Buffer.from(d[k] ?? "", "base64").toString("utf8");
  return { crt: get("tls.crt"), key: get("tls.key"), ca: get("ca.crt"), caKey: get("ca.key"), type: s.type };
}

function bundles(double: KubeApiDouble): (string | undefined)[] {
  return [
    double.objects.get(
      "admissionregistration.k8s.io/v1",
      "ValidatingWebhookConfiguration",
      undefined,
      VALIDATING_CONFIG_NAME,
    ),
    double.objects.get(
      "admissionregistration.k8s.io/v1",
      "MutatingWebhookConfiguration",
      undefined,
      MUTATING_CONFIG_NAME,
    ),
  ].flatMap((c) =>
    ((c?.webhooks ?? []) as { clientConfig: { caBundle?: string } }[]).map((w) => w.clientConfig.caBundle),
  );
}

function pems(bundle: string): X509Certificate[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (p) => new X509Certificate(p),
  );
}

test("first start: creates the Secret, serves its pair, and writes caBundle into all three webhooks", async () => {
  const { double, clock, start } = await setup();
  const { manager } = await start();
  const s = stored(double);
  assert.equal(s.type, "kubernetes.io/tls");
  assert.deepEqual(manager.current(), { cert: s.crt, key: s.key });

  const leaf = new X509Certificate(s.crt);
  const [ca] = pems(s.ca);
  assert.ok(
    ca !== undefined && leaf.checkIssued(ca) && leaf.verify(ca.publicKey),
    "the leaf is signed by the CA",
  );
  assert.deepEqual(
    leaf.subjectAltName?.split(", "),
    NAMES.map((n) => `DNS:${n}`),
  );
  // CA 10 years, leaf 1 year (both backdated an hour).
  assert.equal(Math.round((ca.validToDate.getTime() - clock.now()) / DAY), 3650);
  assert.equal(Math.round((leaf.validToDate.getTime() - clock.now()) / DAY), 365);
  assert.deepEqual(manager.notAfter(), leaf.validToDate);

  const b = Buffer.from(s.ca).toString("base64");
  assert.deepEqual(bundles(double), [b, b, b]);
  assert.equal(manager.caBundle(), b);
});

test("restart with a good pair: same certificate, no write, no patch", async () => {
  const { double, start } = await setup();
  const first = await start();
  const before = stored(double);
  await first.manager.stop();
  double.resetCounts();

  const second = await start();
  assert.deepEqual(second.manager.current(), { cert: before.crt, key: before.key });
  assert.deepEqual(stored(double), before);
  for (const verb of ["create", "update", "patch"]) assert.equal(double.count(verb), 0, `no ${verb}`);
});

test("renews the leaf within 90 days of its expiry, keeping the CA, at the 12-hourly check", async () => {
  const { double, clock, start } = await setup();
  const { manager } = await start();
  const before = stored(double);
  let changes = 0;
  manager.onChange(() => changes++);

  // 274 days later: 91 days left, nothing to do.
  clock.advance(274 * DAY);
  await manager.check();
  assert.equal(changes, 0);
  assert.equal(stored(double).crt, before.crt);

  // Two days later: 89 days left; the periodic check renews.
  double.resetCounts();
  clock.advance(2 * DAY);
  await eventually("renewed", () => changes === 1);
  const after = stored(double);
  assert.notEqual(after.crt, before.crt);
  assert.equal(after.ca, before.ca, "the CA stays");
  assert.deepEqual(manager.current(), { cert: after.crt, key: after.key });
  assert.equal(Math.round((new X509Certificate(after.crt).validToDate.getTime() - clock.now()) / DAY), 365);
  assert.equal(double.count("patch"), 0, "caBundle unchanged");
});

test("a CA with less than a year left is replaced; caBundle carries new and old CA during the switch", async () => {
  const { double, clock, start } = await setup();
  // A pair made 9.5 years ago by a previous casskeeper (CA 10 years, leaf still fine for this test's purpose).
  const past = new Date(clock.now() - Math.round(9.5 * 365 * DAY));
  const oldCa = await createCa({ commonName: "old-ca", notBefore: past, validityDays: 3650 });
  const oldLeaf = await createServingCert({
    ca: oldCa,
    dnsNames: NAMES,
    notBefore: new Date(clock.now() - DAY),
    validityDays: 365,
  });
  double.objects.put(tlsSecret(oldCa, oldLeaf));

  const { manager } = await start();
  const s = stored(double);
  const [newCa, previous] = pems(s.ca);
  assert.ok(newCa !== undefined && previous !== undefined, "two CAs in ca.crt");
  assert.equal(previous.fingerprint256, new X509Certificate(oldCa.certPem).fingerprint256);
  assert.ok(new X509Certificate(s.crt).checkIssued(newCa), "the new leaf is signed by the new CA");
  assert.deepEqual(
    bundles(double),
    [0, 1, 2].map(() => Buffer.from(s.ca).toString("base64")),
  );
  assert.equal(manager.current()?.cert, s.crt);
});

test("replaced: a pair with the wrong names, a key that does not match, or missing keys", async () => {
  const clock = new FakeClock();
  const ca = await createCa({ commonName: "ca", notBefore: new Date(clock.now() - DAY), validityDays: 3650 });
  const leaf = (dnsNames: string[]) =>
    createServingCert({ ca, dnsNames, notBefore: new Date(clock.now() - DAY), validityDays: 365 });
  const [other, a, b] = [await leaf(["other.svc"]), await leaf(NAMES), await leaf(NAMES)];
  const cases: [string, Obj][] = [
    // wrong names: a certificate for another Service
    ["names", tlsSecret(ca, other)],
    // a leaf with another leaf's key
    ["key", tlsSecret(ca, { certPem: a.certPem, keyPem: b.keyPem })],
    // the Secret exists but is empty (pre-created by the manifests, Gatekeeper style)
    [
      "empty",
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { namespace: NS, name: TLS_SECRET_NAME },
        type: "Opaque",
      },
    ],
  ];
  for (const [what, seed] of cases) {
    const { double, start } = await setup({ seed: [seed] });
    const before = double.objects.get("v1", "Secret", NS, TLS_SECRET_NAME);
    const { manager } = await start();
    const s = stored(double);
    const cert = new X509Certificate(s.crt);
    assert.deepEqual(
      cert.subjectAltName?.split(", "),
      NAMES.map((n) => `DNS:${n}`),
      what,
    );
    assert.ok(cert.checkPrivateKey(createPrivateKey(s.key)), what);
    assert.equal(manager.current()?.cert, s.crt, what);
    if (what !== "empty")
      assert.equal(
        pems(s.ca)[0]?.fingerprint256,
        new X509Certificate(ca.certPem).fingerprint256,
        `${what}: CA kept`,
      );
    assert.equal(s.type, before?.type, `${what}: the Secret's type is kept`);
  }
});

test("a webhook configuration applied later is logged once, retried, and then gets its caBundle", async () => {
  const { double, clock, start } = await setup({ configs: false });
  double.objects.put(validating());
  const { manager, logger } = await start();
  assert.ok(manager.current() !== undefined, "serving anyway");
  const missing = () => logger.lines.filter((l) => l.msg?.includes("not found")).length;
  assert.equal(missing(), 1);
  clock.advance(RETRY);
  // Retried, and the next retry set (the manager's timer is the only one: the Secret's watch is open).
  await eventually(
    "retried",
    () =>
      double.count("get", "mutatingwebhookconfigurations.admissionregistration.k8s.io") === 2 &&
      clock.waiting === 1,
  );
  assert.equal(missing(), 1, "logged once");

  double.objects.put(mutating());
  clock.advance(RETRY);
  const b = manager.caBundle();
  await eventually(
    "caBundle written",
    () => bundles(double).every((x) => x === b) && bundles(double).length === 3,
  );
});

test("a caBundle patch that loses a race (409) is read again and retried", async () => {
  const { double, start } = await setup();
  double.failNext(1, { status: 409, verb: "patch" });
  const { manager } = await start();
  assert.deepEqual(
    bundles(double),
    [0, 1, 2].map(() => manager.caBundle()),
  );
});

test("follows the Secret: deleted or rewritten by someone else, the manager reloads and fires onChange", async () => {
  const { double, start } = await setup();
  const { manager } = await start();
  let changes = 0;
  manager.onChange(() => changes++);
  const first = manager.current();
  double.objects.remove("v1", "Secret", NS, TLS_SECRET_NAME);
  await eventually("regenerated", () => changes === 1);
  assert.notDeepEqual(manager.current(), first);
  assert.equal(manager.current()?.cert, stored(double).crt);
});

test("two replicas starting together end with one certificate", async () => {
  const { double, start } = await setup();
  // Both read "no Secret" and both create: hold the creates until both are in, so the race really happens.
  const creates = double.hold("create", "secrets");
  const both = Promise.all([start(), start()]);
  await eventually("both creates sent", () => creates.waiting() === 2);
  creates.release();
  const [a, b] = await both;
  const s = stored(double);
  assert.deepEqual(a.manager.current(), { cert: s.crt, key: s.key });
  assert.deepEqual(b.manager.current(), { cert: s.crt, key: s.key });
  assert.deepEqual(
    bundles(double),
    [0, 1, 2].map(() => Buffer.from(s.ca).toString("base64")),
  );
  assert.equal(double.count("create", "secrets"), 2, "both tried");
  assert.equal(
    [...a.logger.lines, ...b.logger.lines].filter((l) => l.msg?.includes("another replica")).length,
    1,
    "one lost the race and took the winner's pair",
  );
});

test("an API failure at start is not fatal: nothing served yet, retried after retryMs", async () => {
  const { double, clock, start } = await setup();
  double.failNext(1, { status: 500, verb: "get", resource: "secrets" });
  const { manager, logger } = await start();
  assert.equal(manager.current(), undefined);
  assert.ok(logger.lines.some((l) => l.level === "error"));
  clock.advance(RETRY);
  await eventually("loaded on retry", () => manager.current() !== undefined);
  // Nothing secret in the logs.
  const text = JSON.stringify(logger.lines);
  assert.equal(text.includes("PRIVATE KEY"), false);
  assert.equal(text.includes(stored(double).key.split("\n")[1] ?? "-"), false);
});

function tlsSecret(ca: { certPem: string; keyPem: string }, leaf: { certPem: string; keyPem: string }): Obj {
  const b = (s: string) => Buffer.from(s).toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace: NS, name: TLS_SECRET_NAME },
    type: "kubernetes.io/tls",
    data: {
      "tls.crt": b(leaf.certPem),
      "tls.key": b(leaf.keyPem),
      "ca.crt": b(ca.certPem),
      "ca.key": b(ca.keyPem),
    },
  };
}
