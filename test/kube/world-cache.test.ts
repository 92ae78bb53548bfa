// The world cache against the API double, through the real client-node: it fills from lists, follows
// watch events, never keeps a Secret's value, and its watchdog re-lists after a dropped, silent or expired
// watch, periodically, after API errors (with back-off), and finds a CRD installed late. Time is a fake clock.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { setFlagsFromString, writeHeapSnapshot } from "node:v8";
import { runInNewContext } from "node:vm";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { WorldSnapshot } from "../../src/core/world.ts";
import { startWorldCache, type WorldCache } from "../../src/kube/world-cache.ts";
import { type KubeApiDouble, type Obj, startKubeApiDouble } from "../support/kube-api-double.ts";
import { eventually, FakeClock, type LogLine, recordingLogger } from "../support/kube-fake-clock.ts";

const QUIET = 300_000;
const RELIST = 1_800_000;
const TICK = QUIET / 4;
const BACKOFF = { initialMs: 1_000, maxMs: 60_000 };

const open: { double?: KubeApiDouble; cache?: WorldCache }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.cache?.stop();
    await o.double?.close();
  }
});

function secret(
  namespace: string,
  name: string,
  data: Record<string, string>,
  stringData?: Record<string, string>,
): Obj {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace, name },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    ...(stringData === undefined ? {} : { stringData }),
  };
}

function cluster(namespace: string, name: string, dcs?: string[]): Obj {
  return {
    apiVersion: "db.orange.com/v2",
    kind: "CassandraCluster",
    metadata: { namespace, name },
    spec: dcs === undefined ? { nodesPerRacks: 1 } : { topology: { dc: dcs.map((n) => ({ name: n })) } },
  };
}

function backup(namespace: string, name: string, state?: string): Obj {
  return {
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraBackup",
    metadata: { namespace, name },
    spec: {
      cassandraCluster: "c1",
      datacenter: "dc1",
      storageLocation: "s3://b/p",
      snapshotTag: "t",
      secret: "s3",
    },
    ...(state === undefined ? {} : { status: { condition: { type: state } } }),
  };
}

async function setup(
  opts: { seed?: Obj[]; unserved?: string[]; pageSize?: number; goneAsHttp?: boolean } = {},
) {
  const double = await startKubeApiDouble({
    unserved: opts.unserved ?? [],
    goneAsHttp: opts.goneAsHttp ?? false,
  });
  for (const o of opts.seed ?? []) double.objects.put(o);
  const clock = new FakeClock();
  const logger = recordingLogger();
  const cache = await startWorldCache(double.kubeConfig(), {
    logger,
    now: clock.now,
    timers: clock,
    random: () => 0, // jitter factor 0.5: the back-off after n failures is initialMs · 2^(n-1) / 2
    quietAfterMs: QUIET,
    relistEveryMs: RELIST,
    backoff: BACKOFF,
    missingRetryMs: 600_000,
    ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }),
  });
  open.push({ double, cache });
  return { double, cache, clock, logger, kc: double.kubeConfig() };
}

/** Waits until the three watches are open (the cache listed everything and is following changes). */
async function watching(double: KubeApiDouble, cache: WorldCache, n = 3): Promise<void> {
  await eventually("cache ready and watching", () => cache.ready() && double.openWatches() === n);
}

const SEED = [
  secret("ns1", "s3", { AWS_ACCESS_KEY_ID: "AKIA-seed", AWS_SECRET_ACCESS_KEY: "seed-secret-value" }),
  secret("ns2", "gcs", { "google.json": "{}" }, { AWS_REGION: "eu-west-1" }),
  cluster("ns1", "c1", ["dc1", "dc2"]),
  cluster("ns2", "c2"),
  backup("ns1", "b1", "COMPLETED"),
  backup("ns1", "b2"),
];

test("fills from the lists: key names of Secrets, datacenters of clusters, backups with their state", async () => {
  const { double, cache } = await setup({ seed: SEED });
  await watching(double, cache);
  const w = cache.snapshot();
  assert.equal(w.known, true);
  assert.deepEqual(
    [...w.secrets].map(([k, v]) => [k, [...v].sort()]),
    [
      ["ns1/s3", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]],
      ["ns2/gcs", ["AWS_REGION", "google.json"]],
    ],
  );
  assert.deepEqual(w.clusters.get("ns1/c1")?.datacenters, ["dc1", "dc2"]);
  // No topology: CassKop's default datacenter.
  assert.deepEqual(w.clusters.get("ns2/c2")?.datacenters, ["dc1"]);
  assert.equal(w.backups.get("ns1/b1")?.state, "COMPLETED");
  assert.equal(w.backups.get("ns1/b2")?.state, undefined);
  assert.equal(w.backups.get("ns1/b2")?.spec.storageLocation, "s3://b/p");
});

test("follows ADDED, MODIFIED and DELETED made through the API", async () => {
  const { double, cache, kc } = await setup({ seed: SEED });
  await watching(double, cache);
  const core = kc.makeApiClient(CoreV1Api);
  const crs = kc.makeApiClient(CustomObjectsApi);

  // ADDED: a new Secret and a new backup.
  await core.createNamespacedSecret({
    namespace: "ns3",
    body: { metadata: { name: "new" }, data: { k: "dg==" } },
  });
  await crs.createNamespacedCustomObject({
    group: "db.orange.com",
    version: "v2",
    namespace: "ns3",
    plural: "cassandrabackups",
    body: backup("ns3", "b3"),
  });
  await eventually(
    "ADDED seen",
    () => cache.snapshot().secrets.has("ns3/new") && cache.snapshot().backups.has("ns3/b3"),
  );

  // MODIFIED: a key added to a Secret, a datacenter to a cluster, a state to a backup.
  const s = await core.readNamespacedSecret({ namespace: "ns1", name: "s3" });
  await core.replaceNamespacedSecret({
    namespace: "ns1",
    name: "s3",
    body: { ...s, data: { ...s.data, AWS_REGION: "ZXU=" } },
  });
  double.objects.put(cluster("ns2", "c2", ["east", "west"]));
  double.objects.put(backup("ns1", "b2", "RUNNING"));
  await eventually(
    "MODIFIED seen",
    () =>
      cache.snapshot().secrets.get("ns1/s3")?.has("AWS_REGION") === true &&
      cache.snapshot().clusters.get("ns2/c2")?.datacenters.length === 2 &&
      cache.snapshot().backups.get("ns1/b2")?.state === "RUNNING",
  );

  // DELETED.
  await core.deleteNamespacedSecret({ namespace: "ns2", name: "gcs" });
  double.objects.remove("db.orange.com/v2", "CassandraCluster", "ns1", "c1");
  await eventually(
    "DELETED seen",
    () => !cache.snapshot().secrets.has("ns2/gcs") && !cache.snapshot().clusters.has("ns1/c1"),
  );
  assert.equal(double.count("list", "secrets"), 1, "followed by watch, not by re-listing");
});

test("snapshot() makes no API call, returns the same object until something changes, and cannot be changed", async () => {
  const { double, cache } = await setup({ seed: SEED });
  await watching(double, cache);
  const before = double.requests.length;
  const first = cache.snapshot();
  for (let i = 0; i < 1_000; i++) assert.equal(cache.snapshot(), first);
  assert.equal(double.requests.length, before, "no API call per snapshot");
  assert.throws(() => {
    (first as { known: boolean }).known = false;
  }, TypeError);
  assert.throws(() => {
    (first.backups.get("ns1/b1")?.spec as Record<string, unknown>).secret = "other";
  }, TypeError);

  double.objects.put(secret("ns1", "later", { k: "v" }));
  await eventually("change seen", () => cache.snapshot() !== first);
  assert.equal(first.secrets.has("ns1/later"), false, "an earlier snapshot does not change");
});

test("a Secret's values are in no snapshot, log line, or anywhere in the process heap after they pass", async () => {
  // The values exist only as Buffers here (a heap snapshot does not show Buffer contents as strings), so
  // a hit in the heap is a copy kept by someone other than this test.
  const raw = [randomBytes(18), randomBytes(18)].map((b) => Buffer.from(`V${b.toString("hex")}`, "latin1"));
  const { double, cache, logger } = await setup();
  putSecretWithValues(double, "creds", raw);
  await watching(double, cache);
  putSecretWithValues(double, "creds2", raw);
  await eventually("watched secret seen", () => cache.snapshot().secrets.has("ns1/creds2"));

  const needles = raw.flatMap((b) => [b, Buffer.from(b.toString("base64"), "latin1")]);
  const text = Buffer.from(JSON.stringify(snapshotJson(cache.snapshot())) + JSON.stringify(logger.lines));
  for (const n of needles) assert.equal(text.indexOf(n), -1, "a value in a snapshot or a log line");

  // The double itself holds the values: take them out of it (and its event history), then look at the heap.
  double.objects.put(secret("ns1", "creds", { password: "x" }));
  double.objects.put(secret("ns1", "creds2", { password: "x" }, { token: "y" }));
  await eventually("rewrites seen", () => cache.snapshot().secrets.get("ns1/creds2")?.size === 2);
  double.compact();
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  gc();
  gc();
  const file = join(tmpdir(), `casskeeper-heap-${process.pid}.heapsnapshot`);
  writeHeapSnapshot(file);
  const heap = readFileSync(file);
  rmSync(file);
  assert.notEqual(heap.indexOf("creds2"), -1, "the heap snapshot holds the cache's strings");
  for (const n of needles) assert.equal(heap.indexOf(n), -1, "a value is still in the process heap");
});

/** A Secret whose `data.password` and `stringData.token` are the given bytes, without making them strings here. */
function putSecretWithValues(double: KubeApiDouble, name: string, values: Buffer[]): void {
  const body = Buffer.concat([
    Buffer.from(
      `{"apiVersion":"v1","kind":"Secret","metadata":{"namespace":"ns1","name":"${name}"},"data":{"password":"`,
    ),
    Buffer.from((values[0] as Buffer).toString("base64"), "latin1"),
    Buffer.from('"},"stringData":{"token":"'),
    values[1] as Buffer,
    Buffer.from('"}}'),
  ]);
  double.objects.put(JSON.parse(body.toString("latin1")) as Obj);
}

test("re-lists after the watch connections drop, catching changes it missed", async () => {
  const { double, cache, clock } = await setup({ seed: SEED });
  await watching(double, cache);
  double.silenceWatches();
  double.objects.put(secret("ns9", "missed", { k: "v" }));
  double.dropWatches();
  // Back-off of a watch that failed at once: initialMs / 2 with this jitter.
  await eventually("all three drops noticed", () => clock.waiting === 4); // the watchdog tick and three retries
  clock.advance(BACKOFF.initialMs);
  await eventually("re-listed", () => cache.snapshot().secrets.has("ns9/missed"));
  await watching(double, cache);
  assert.equal(double.count("list", "secrets"), 2);
});

test("re-lists when a watch stays connected but goes silent for quietAfterMs", async () => {
  const { double, cache, clock, logger } = await setup({ seed: SEED });
  await watching(double, cache);
  double.silenceWatches();
  double.objects.put(secret("ns9", "unheard", { k: "v" }));
  clock.advance(QUIET + TICK);
  await eventually("re-listed", () => cache.snapshot().secrets.has("ns9/unheard"));
  assert.ok(logger.lines.some((l) => l.level === "warn" && l.msg?.includes("quiet")));
  assert.equal(double.count("list", "secrets"), 2);
});

test("bookmarks count as activity: a quiet but live watch is not re-listed", async () => {
  const { double, cache, clock, logger } = await setup({ seed: SEED });
  await watching(double, cache);
  for (let i = 1; i <= 4; i++) {
    double.bookmark();
    await eventually("bookmarks received", () => bookmarks(logger.lines) === 3 * i);
    clock.advance(QUIET / 2 + 1);
  }
  assert.equal(quietLines(logger.lines), 0, "two quiet periods passed, with bookmarks in between");
  double.silenceWatches();
  clock.advance(QUIET);
  assert.equal(quietLines(logger.lines), 3, "without them, the three watches are quiet");
});

test("re-lists every relistEveryMs as a safety net", async () => {
  const { double, cache, clock, logger } = await setup({ seed: SEED });
  await watching(double, cache);
  // Bookmarks keep the watches alive; only the period makes the cache re-list.
  for (let i = 1, elapsed = 0; elapsed < RELIST; i++, elapsed += QUIET / 2) {
    double.bookmark();
    await eventually("bookmarks received", () => bookmarks(logger.lines) === 3 * i);
    clock.advance(QUIET / 2);
  }
  clock.advance(TICK);
  assert.equal(quietLines(logger.lines), 0);
  await eventually("periodic re-list", () => double.count("list", "secrets") === 2);
  await eventually(
    "periodic re-list of the CRs",
    () => double.count("list", "cassandrabackups.db.orange.com") === 2,
  );
});

test("410 Expired, as an ERROR event or as an HTTP answer, re-lists at once", async () => {
  for (const goneAsHttp of [false, true]) {
    const { double, cache, clock } = await setup({ seed: SEED, goneAsHttp });
    await watching(double, cache);
    if (!goneAsHttp) {
      // ERROR event mid-stream: no clock needed, the re-list is immediate.
      double.expireWatches();
    } else {
      // The watch after a re-list is refused with HTTP 410: re-listed again without waiting.
      double.failNext(1, { status: 410, verb: "watch", resource: "secrets" });
      double.dropWatches();
      await eventually("all three drops noticed", () => clock.waiting === 4); // the watchdog tick and three retries
      clock.advance(BACKOFF.initialMs);
    }
    await eventually(
      `410 (${goneAsHttp ? "HTTP" : "event"}) re-listed`,
      () => double.count("list", "secrets") === (goneAsHttp ? 3 : 2),
    );
    await watching(double, cache);
  }
});

test("API errors: not ready until the lists succeed, retried with exponential back-off", async () => {
  const double = await startKubeApiDouble();
  for (const o of SEED) double.objects.put(o);
  double.failNext(3, { status: 500, verb: "list", resource: "secrets" });
  const clock = new FakeClock();
  const logger = recordingLogger();
  const cache = await startWorldCache(double.kubeConfig(), {
    logger,
    now: clock.now,
    timers: clock,
    random: () => 0,
    backoff: BACKOFF,
  });
  open.push({ double, cache });
  const retries = () => logger.lines.filter((l) => l.msg === "list failed; retrying");
  await eventually("first failure", () => retries().length === 1);
  assert.equal(cache.ready(), false);
  assert.equal(cache.snapshot().known, false, "checks are skipped, not failed, before the world is known");
  // 500 ms, then 1 s, then 2 s (initialMs · 2^(n-1) · 0.5).
  assert.deepEqual(
    retries().map((l) => (l.obj as { retryInMs: number }).retryInMs),
    [500],
  );
  clock.advance(500);
  await eventually("second failure", () => retries().length === 2);
  clock.advance(1_000);
  await eventually("third failure", () => retries().length === 3);
  assert.deepEqual(
    retries().map((l) => (l.obj as { retryInMs: number }).retryInMs),
    [500, 1_000, 2_000],
  );
  clock.advance(2_000);
  await watching(double, cache);
  assert.equal(cache.snapshot().secrets.size, 2);
});

test("a CRD not installed leaves that part empty, is logged once, and is found when installed later", async () => {
  const { double, cache, clock, logger } = await setup({
    seed: [SEED[0] as Obj],
    unserved: ["db.orange.com"],
  });
  await eventually("ready without CassKop", () => cache.ready() && double.openWatches() === 1);
  assert.equal(cache.snapshot().known, true);
  assert.equal(cache.snapshot().secrets.size, 1);
  assert.equal(cache.snapshot().clusters.size, 0);
  const missingLogs = () => logger.lines.filter((l) => l.msg?.includes("not served"));
  assert.equal(missingLogs().length, 2, "one line for clusters, one for backups");

  clock.advance(600_000); // still missing: looked for again, not logged again
  // Looked for again, and the next look set: the watchdog tick and one retry per custom resource.
  await eventually("looked again", () => double.count("discovery") === 4 && clock.waiting === 3);
  assert.equal(missingLogs().length, 2);

  double.serve("db.orange.com", true);
  double.objects.put(cluster("ns1", "late", ["dcA"]));
  double.objects.put(backup("ns1", "late-backup"));
  clock.advance(600_000);
  await eventually(
    "CRs found",
    () => cache.snapshot().clusters.has("ns1/late") && cache.snapshot().backups.size === 1,
  );
  await watching(double, cache);
});

test("only the CassandraCluster CRD missing: backups are still watched", async () => {
  const { double, cache } = await setup({ seed: SEED, unserved: ["cassandraclusters.db.orange.com"] });
  await watching(double, cache, 2);
  assert.equal(cache.snapshot().clusters.size, 0);
  assert.equal(cache.snapshot().backups.size, 2);
});

test("lists in pages of pageSize", async () => {
  const many = Array.from({ length: 7 }, (_, i) => secret("ns1", `s${i}`, { k: "v" }));
  const { double, cache } = await setup({ seed: many, pageSize: 3 });
  await watching(double, cache);
  assert.equal(cache.snapshot().secrets.size, 7);
  assert.equal(double.count("list", "secrets"), 3);
});

function bookmarks(lines: readonly LogLine[]): number {
  return lines.filter((l) => l.msg === "bookmark").length;
}

function quietLines(lines: readonly LogLine[]): number {
  return lines.filter((l) => l.msg?.includes("quiet")).length;
}

function snapshotJson(w: WorldSnapshot): unknown {
  const m = (x: ReadonlyMap<string, unknown>) => [...x].map(([k, v]) => [k, v instanceof Set ? [...v] : v]);
  return { known: w.known, secrets: m(w.secrets), clusters: m(w.clusters), backups: m(w.backups) };
}
