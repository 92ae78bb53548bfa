// The Git sync's scenarios (test/git/sync.test.ts) against a REAL cluster, only when KUBECONFIG is set
// (skipped otherwise). The controller runs in this process (startGitSync with createGitSyncCluster on the
// real kubeconfig), the Git server on loopback (reachable because casskeeper runs here, not in the cluster),
// each scenario in a fresh namespace `casskeeper-e2e-<hex>` that it creates and deletes. The controller's poll
// timers are a fake clock, so a poll happens when the test says so; its watch of the sources runs on real
// timers (a real API server ends watches on its own schedule).
//
// BEFORE RUNNING:
// - the CRDs: `kubectl apply -k manifests/crds` (the suite is skipped, saying so, when they are missing);
// - the kubeconfig's user may create and delete Namespaces, and in them create/get/list/watch/patch/delete
//   BackupPolicySources (and their /status), CassandraBackups, Secrets and Events; cluster-wide list/watch
//   of BackupPolicySources (the controller watches every namespace), and list of Leases (optional);
// - no other BackupPolicySource in the cluster and no running `casskeeper serve --git-sync` (a held Lease
//   `casskeeper-leader`): the controller under test would sync the former, the latter would sync the
//   test's sources too. The suite checks both and is skipped when either is there. Do not run two of these
//   suites against one cluster at once, for the same reason;
// - nothing that rewrites CassandraBackups in the test namespaces: a running CassKop operator writes their
//   status (new resourceVersions, which this suite counts as writes), and an admission webhook with a live
//   world (casskeeper's own) would deny them (no CassandraCluster "orders" exists here). The world the
//   controller validates against is empty (its checks skipped), as in test/git/sync.test.ts.
//
// Writes are counted as the objects' resourceVersion changes: a real cluster has no write counter.

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import type { KubeConfig } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { EMPTY_WORLD } from "../../src/core/world.ts";
import { isRecord } from "../../src/core/world-build.ts";
import { createGitSource } from "../../src/gitsync/git-source.ts";
import { createGitSyncMetrics } from "../../src/gitsync/metrics.ts";
import {
  ANNOTATION_PRUNE,
  ANNOTATION_REVISION,
  LABEL_SOURCE_NAME,
  LABEL_SOURCE_NAMESPACE,
  SOURCE_FINALIZER,
} from "../../src/gitsync/model.ts";
import { parsePushRequest } from "../../src/gitsync/receiver.ts";
import { type GitSyncController, SOURCE_RESOURCE, startGitSync } from "../../src/gitsync/reconciler.ts";
import { kubeRequest, loadKubeConfig, REAL_TIMERS, statusCodeOf } from "../../src/kube/client.ts";
import { createGitSyncCluster } from "../../src/kube/gitsync-cluster.ts";
import { LEADER_LEASE } from "../../src/kube/leadership.ts";
import {
  createEventRecorder,
  type EventRecorder,
  getObject,
  listObjects,
  mergePatchObject,
  type ResourceRef,
  resourcePath,
} from "../../src/kube/objects.ts";
import { loadStructuralValidator } from "../../src/schema/bundled-crds.ts";
import { createRepo, type GitRepo, type GitServer, startGitServer } from "../support/git-server.ts";
import { FakeClock, recordingLogger } from "../support/kube-fake-clock.ts";

type Obj = Record<string, unknown>;

const NS_PREFIX = "casskeeper-e2e-";
const NS_LABEL = "app.kubernetes.io/created-by";
const INTERVAL_MS = 60_000;
/** Waits on a real API server and real Git: generous, never a speed check. */
const WAIT_MS = 120_000;
const TEST_TIMEOUT_MS = 300_000;

const BACKUPS: ResourceRef = {
  group: "db.orange.com",
  version: "v1alpha1",
  plural: "cassandrabackups",
  namespaced: true,
};
const SECRETS: ResourceRef = { group: "", version: "v1", plural: "secrets", namespaced: true };
const EVENTS: ResourceRef = { group: "", version: "v1", plural: "events", namespaced: true };
const NAMESPACES: ResourceRef = { group: "", version: "v1", plural: "namespaces", namespaced: false };

// ---------------------------------------------------------------------------------------------------------
// Whether this cluster can run the suite (decided once, before the tests are declared).

const skip: string | false = await reasonToSkip();

async function reasonToSkip(): Promise<string | false> {
  if (process.env.KUBECONFIG === undefined || process.env.KUBECONFIG === "") return "KUBECONFIG not set";
  // From here on a failure is the cluster's or the kubeconfig's: it fails the suite rather than skipping it.
  const kc = loadKubeConfig();
  const needed: [ResourceRef, string][] = [
    [SOURCE_RESOURCE, "backuppolicysources.casskeeper.io"],
    [BACKUPS, "cassandrabackups.db.orange.com"],
  ];
  for (const [r, name] of needed) {
    let list: unknown;
    try {
      list = await kubeRequest(kc, { path: `/apis/${r.group}/${r.version}` });
    } catch (e) {
      if (statusCodeOf(e) !== 404) throw e;
    }
    const resources = isRecord(list) && Array.isArray(list.resources) ? (list.resources as Obj[]) : [];
    if (!resources.some((x) => x.name === r.plural)) {
      return `the CRD ${name} (${r.version}) is not installed: run \`kubectl apply -k manifests/crds\` first`;
    }
  }
  const foreign = (await listObjects(kc, SOURCE_RESOURCE)).filter(
    (s) => !String((s.metadata as Obj | undefined)?.namespace ?? "").startsWith(NS_PREFIX),
  );
  if (foreign.length > 0) {
    const m = foreign[0]?.metadata as Obj;
    return `the cluster has ${foreign.length} BackupPolicySource(s) of its own (e.g. ${String(m.namespace)}/${String(m.name)}): the controller under test watches every namespace and would sync them`;
  }
  let leases: unknown;
  try {
    leases = await kubeRequest(kc, {
      path: "/apis/coordination.k8s.io/v1/leases",
      query: { fieldSelector: `metadata.name=${LEADER_LEASE}` },
    });
  } catch (e) {
    if (statusCodeOf(e) !== 403) throw e; // not allowed to look: the header says what to make sure of
  }
  const items = isRecord(leases) && Array.isArray(leases.items) ? (leases.items as Obj[]) : [];
  for (const lease of items) {
    const spec = isRecord(lease.spec) ? lease.spec : {};
    const renewed = Date.parse(String(spec.renewTime ?? ""));
    if (spec.holderIdentity && Number.isFinite(renewed) && Date.now() - renewed < 5 * 60_000) {
      const m = lease.metadata as Obj;
      return `casskeeper's Git sync runs in this cluster (Lease ${String(m.namespace)}/${LEADER_LEASE} held by ${String(spec.holderIdentity)}): it would sync the test's sources too`;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// One scenario's world: a namespace, a Git server and repository, the controller.

interface World {
  kc: KubeConfig;
  ns: string;
  git: GitServer;
  repo: GitRepo;
  clock: FakeClock;
  ctl: GitSyncController;
  events: EventRecorder;
  leader: AbortController;
}

/** What each scenario set up, undone in reverse order whatever happened. */
let cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  const steps = cleanups.reverse();
  cleanups = [];
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (e) {
      errors.push(e);
    }
  }
  if (errors.length > 0) throw errors[0];
});

function backupYaml(name: string, schedule = "@midnight", extra = ""): string {
  return `apiVersion: db.orange.com/v1alpha1
kind: CassandraBackup
metadata:
  name: ${name}
${extra}spec:
  cassandraCluster: orders
  datacenter: dc1
  storageLocation: s3://acme-backups
  snapshotTag: ${name}
  schedule: "${schedule}"
  secret: s3-credentials
`;
}

const FIRST: Record<string, string> = {
  "policies/orders.yaml": `${backupYaml("orders-nightly")}---\n${backupYaml("orders-weekly", "0 3 * * 0")}`,
  "policies/users.yaml": backupYaml("users-nightly", "30 1 * * *"),
  "README.md": "not a policy\n",
};

async function start(
  opts: {
    files?: Record<string, string>;
    spec?: Obj;
    auth?: { username: string; password: string };
    secret?: Record<string, string>;
  } = {},
): Promise<World> {
  const kc = loadKubeConfig();
  const ns = `${NS_PREFIX}${randomBytes(4).toString("hex")}`;
  await kubeRequest(kc, {
    method: "POST",
    path: resourcePath(NAMESPACES),
    body: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: ns, labels: { [NS_LABEL]: "casskeeper-e2e" } },
    },
  });
  cleanups.push(() => deleteNamespace(kc, ns));

  const git = await startGitServer(opts.auth === undefined ? {} : { auth: opts.auth });
  cleanups.push(() => git.close());
  const repo = await createRepo(git, "policies");
  for (const [path, content] of Object.entries(opts.files ?? FIRST)) await repo.write(path, content);
  await repo.commit("first policies");
  await repo.push();

  if (opts.secret !== undefined) {
    await kubeRequest(kc, {
      method: "POST",
      path: resourcePath(SECRETS, ns),
      body: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { namespace: ns, name: "git-credentials" },
        data: b64map(opts.secret),
      },
    });
  }
  await kubeRequest(kc, {
    method: "POST",
    path: resourcePath(SOURCE_RESOURCE, ns),
    body: {
      apiVersion: "casskeeper.io/v1alpha1",
      kind: "BackupPolicySource",
      metadata: { namespace: ns, name: "policies" },
      spec: { url: repo.url, ref: { branch: "main" }, path: "policies", interval: "1m", ...opts.spec },
    },
  });

  const cacheDir = await mkdtemp(join(tmpdir(), "casskeeper-e2e-sync-"));
  cleanups.push(() => rm(cacheDir, { recursive: true, force: true }));
  const clock = new FakeClock();
  const logger = recordingLogger();
  const events = createEventRecorder(kc, { component: "casskeeper-git-sync", logger });
  const ctl = startGitSync(kc, {
    git: createGitSource({ cacheDir }),
    cluster: createGitSyncCluster(kc),
    structure: loadStructuralValidator(),
    world: () => EMPTY_WORLD,
    logger,
    events,
    metrics: createGitSyncMetrics(new Registry()),
    timers: clock,
    random: () => 0.5,
    watch: { timers: REAL_TIMERS },
  });
  const w: World = { kc, ns, git, repo, clock, ctl, events, leader: new AbortController() };
  // Stop the controller, then let go of the sources it would have finalized, so the namespace can go.
  cleanups.push(async () => {
    w.leader.abort();
    await ctl.stop();
    await events.flush();
    await releaseSources(kc, ns);
  });
  await until("the sources listed", async () => ctl.ready());
  ctl.lead(w.leader.signal);
  return w;
}

async function releaseSources(kc: KubeConfig, ns: string): Promise<void> {
  for (const s of await listObjects(kc, SOURCE_RESOURCE, { namespace: ns })) {
    const m = (s.metadata ?? {}) as Obj;
    if (!Array.isArray(m.finalizers) || m.finalizers.length === 0) continue;
    try {
      await mergePatchObject(kc, SOURCE_RESOURCE, ns, String(m.name), { metadata: { finalizers: null } });
    } catch (e) {
      if (statusCodeOf(e) !== 404) throw e;
    }
  }
}

async function deleteNamespace(kc: KubeConfig, ns: string): Promise<void> {
  try {
    await kubeRequest(kc, { method: "DELETE", path: resourcePath(NAMESPACES, undefined, ns) });
  } catch (e) {
    if (statusCodeOf(e) !== 404) throw e;
  }
}

/** Polls `cond` (real I/O with the cluster) until it holds; fails with `what` after `timeoutMs`. */
async function until(what: string, cond: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---------------------------------------------------------------------------------------------------------
// What the cluster shows.

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Status {
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  lastHandledReconcileAt?: string;
  observedGeneration?: number;
  conditions?: Cond[];
  inventory?: { entries: { id: string; v: string }[] };
  errors?: { file?: string; line?: number; column?: number; field?: string; message: string }[];
}
interface Meta {
  name: string;
  namespace: string;
  resourceVersion: string;
  generation?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  finalizers?: string[];
}

function meta(o: Obj | undefined): Meta {
  return (o?.metadata ?? {}) as unknown as Meta;
}

async function getSource(w: World): Promise<Obj> {
  const s = await getObject(w.kc, SOURCE_RESOURCE, w.ns, "policies");
  assert.ok(s, "the source exists");
  return s;
}

async function status(w: World): Promise<Status> {
  return ((await getSource(w)).status ?? {}) as Status;
}

function conditionOf(s: Status, type: string): Cond | undefined {
  return (s.conditions ?? []).find((c) => c.type === type);
}

async function condition(w: World, type: string): Promise<Cond | undefined> {
  return conditionOf(await status(w), type);
}

async function backups(w: World): Promise<Obj[]> {
  return listObjects(w.kc, BACKUPS, { namespace: w.ns });
}

async function backupNames(w: World): Promise<string[]> {
  return (await backups(w)).map((b) => meta(b).name).sort();
}

/** name → resourceVersion of every CassandraBackup in the namespace. */
async function versions(w: World): Promise<Map<string, string>> {
  return new Map((await backups(w)).map((b) => [meta(b).name, meta(b).resourceVersion]));
}

/** The objects whose resourceVersion changed (written) or that appeared between two snapshots. */
function written(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([name, rv]) => before.get(name) !== rv).map(([name]) => name);
}

async function events(w: World, reason: string): Promise<Obj[]> {
  return (await listObjects(w.kc, EVENTS, { namespace: w.ns })).filter(
    (e) => e.reason === reason && (e.involvedObject as Obj | undefined)?.name === "policies",
  );
}

/** Waits until the source's last attempt is `sha`, no sync is running and its Events are written. */
async function attempted(w: World, sha: string): Promise<void> {
  let last: Status = {};
  try {
    await until(`an attempt of ${sha}`, async () => {
      last = await status(w);
      return (
        last.lastAttemptedRevision === `main@sha1:${sha}` && conditionOf(last, "Reconciling") === undefined
      );
    });
  } catch (e) {
    throw new Error(`${(e as Error).message}; status: ${JSON.stringify(last)}`);
  }
  await w.ctl.idle();
  await w.events.flush();
}

/** A poll: the interval's timer fires. */
async function poll(w: World): Promise<void> {
  w.clock.advance(INTERVAL_MS * 1.2);
  await w.ctl.idle();
}

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}

function b64map(m: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, b64(v)]));
}

// ---------------------------------------------------------------------------------------------------------

describe("Git sync against a real cluster", () => {
  // Each scenario is skipped (and counted as such) when the cluster cannot run the suite.
  const test = (name: string, fn: () => Promise<void>) => it(name, { skip, timeout: TEST_TIMEOUT_MS }, fn);

  test("first sync: every document is applied, labelled, inventoried; Ready names the revision", async () => {
    const w = await start();
    const sha = await w.repo.head();
    await attempted(w, sha);

    assert.deepEqual(await backupNames(w), ["orders-nightly", "orders-weekly", "users-nightly"]);
    for (const b of await backups(w)) {
      const m = meta(b);
      assert.equal(m.labels[LABEL_SOURCE_NAME], "policies");
      assert.equal(m.labels[LABEL_SOURCE_NAMESPACE], w.ns);
      assert.equal(m.annotations[ANNOTATION_REVISION], `main@sha1:${sha}`);
      assert.match(String(m.annotations["casskeeper.io/source-path"]), /^policies\/(orders|users)\.yaml$/);
    }
    const source = await getSource(w);
    const s = (source.status ?? {}) as Status;
    assert.equal(s.lastAppliedRevision, `main@sha1:${sha}`);
    assert.equal(s.observedGeneration, meta(source).generation);
    assert.equal(conditionOf(s, "Ready")?.status, "True");
    assert.match(String(conditionOf(s, "Ready")?.message), /3 created/);
    assert.equal(conditionOf(s, "Stalled"), undefined);
    assert.deepEqual(
      (s.inventory?.entries ?? []).map((e) => e.id),
      [
        `${w.ns}_orders-nightly_db.orange.com_CassandraBackup`,
        `${w.ns}_orders-weekly_db.orange.com_CassandraBackup`,
        `${w.ns}_users-nightly_db.orange.com_CassandraBackup`,
      ],
    );
    assert.ok(meta(source).finalizers?.includes(SOURCE_FINALIZER));
    await until("a Synced event", async () => (await events(w, "Synced")).length === 1);
  });

  test("a poll with nothing new: no fetch, no write", async () => {
    const w = await start();
    await attempted(w, await w.repo.head());
    const sourceVersion = meta(await getSource(w)).resourceVersion;
    const before = await versions(w);
    w.git.resetCounts();
    await poll(w);
    await poll(w);
    assert.equal(w.git.count("upload-pack"), 0);
    assert.ok(w.git.count("info-refs") + w.git.count("ls-refs") >= 2, "the refs were listed at each poll");
    assert.deepEqual(written(before, await versions(w)), []);
    assert.equal(meta(await getSource(w)).resourceVersion, sourceVersion);
  });

  test("a one-document change is exactly one write, and only that object gets the new revision", async () => {
    const w = await start();
    const first = await w.repo.head();
    await attempted(w, first);
    const before = await versions(w);
    await w.repo.write("policies/users.yaml", backupYaml("users-nightly", "45 1 * * *"));
    const second = await w.repo.commit("users at 01:45");
    await w.repo.push();
    await poll(w);
    await attempted(w, second);

    assert.deepEqual(written(before, await versions(w)), ["users-nightly"]);
    const byName = new Map((await backups(w)).map((b) => [meta(b).name, b]));
    assert.equal((byName.get("users-nightly")?.spec as Obj | undefined)?.schedule, "45 1 * * *");
    const rev = (n: string) => meta(byName.get(n)).annotations[ANNOTATION_REVISION];
    assert.equal(rev("users-nightly"), `main@sha1:${second}`);
    assert.equal(rev("orders-nightly"), `main@sha1:${first}`);
    assert.match(
      String((await condition(w, "Ready"))?.message),
      /0 created, 1 updated, 0 pruned, 2 unchanged/,
    );
  });

  test("a document removed from Git is pruned; one opted out with casskeeper.io/prune: disabled stays", async () => {
    const w = await start();
    await attempted(w, await w.repo.head());
    // a user opts orders-weekly out of pruning in the cluster
    await mergePatchObject(w.kc, BACKUPS, w.ns, "orders-weekly", {
      metadata: { annotations: { [ANNOTATION_PRUNE]: "disabled" } },
    });
    await w.repo.remove("policies/users.yaml");
    await w.repo.write("policies/orders.yaml", backupYaml("orders-nightly"));
    const sha = await w.repo.commit("drop users and weekly");
    await w.repo.push();
    await poll(w);
    await attempted(w, sha);

    assert.deepEqual(await backupNames(w), ["orders-nightly", "orders-weekly"]);
    assert.deepEqual(
      ((await status(w)).inventory?.entries ?? []).map((e) => e.id),
      [`${w.ns}_orders-nightly_db.orange.com_CassandraBackup`],
    );
    assert.match(String((await condition(w, "Ready"))?.message), /1 pruned/);
    await until("a PruneSkipped event", async () => (await events(w, "PruneSkipped")).length === 1);
  });

  test("a bad revision is refused whole: the last good one stays, status lists file:line:column errors", async () => {
    const w = await start();
    const good = await w.repo.head();
    await attempted(w, good);
    const before = await versions(w);
    await w.repo.write("policies/users.yaml", backupYaml("users-nightly", "0 0 * * 7"));
    await w.repo.write("policies/new.yaml", backupYaml("brand-new"));
    const bad = await w.repo.commit("a bad schedule");
    await w.repo.push();
    await poll(w);
    await attempted(w, bad);

    assert.deepEqual(written(before, await versions(w)), [], "nothing written, brand-new not created");
    const s = await status(w);
    assert.equal(s.lastAppliedRevision, `main@sha1:${good}`);
    assert.equal(conditionOf(s, "Ready")?.status, "False");
    assert.equal(conditionOf(s, "Ready")?.reason, "ValidationFailed");
    assert.equal(conditionOf(s, "Stalled")?.status, "True");
    assert.deepEqual(s.errors, [
      {
        file: "policies/users.yaml",
        line: 10,
        column: 13,
        field: "spec.schedule",
        message: String(s.errors?.[0]?.message),
      },
    ]);
    assert.match(String(s.errors?.[0]?.message), /7/);
    await until("a ValidationFailed event", async () => (await events(w, "ValidationFailed")).length === 1);

    // fixing it in Git heals the source
    await w.repo.write("policies/users.yaml", backupYaml("users-nightly", "0 0 * * 6"));
    const fixed = await w.repo.commit("fix");
    await w.repo.push();
    await poll(w);
    await attempted(w, fixed);
    const healed = await status(w);
    assert.equal(conditionOf(healed, "Ready")?.status, "True");
    assert.equal(healed.errors, undefined);
    assert.equal((await backups(w)).length, 4);
  });

  test("a force-push back to an older commit syncs to that tree", async () => {
    const w = await start();
    const first = await w.repo.head();
    await attempted(w, first);
    await w.repo.write("policies/extra.yaml", backupYaml("extra"));
    const second = await w.repo.commit("extra");
    await w.repo.push();
    await poll(w);
    await attempted(w, second);
    assert.equal((await backups(w)).length, 4);

    await w.repo.forcePush(first);
    await poll(w);
    await attempted(w, first);
    assert.deepEqual(await backupNames(w), ["orders-nightly", "orders-weekly", "users-nightly"]);
    assert.equal((await condition(w, "Ready"))?.status, "True");
  });

  test("wrong credentials: Ready False AuthenticationFailed naming no secret; fixing the Secret heals it", async () => {
    const w = await start({
      auth: { username: "git", password: "right-token-e2e" },
      secret: { username: "git", password: "wrong-token-e2e" },
      spec: { secretRef: { name: "git-credentials" } },
    });
    await until(
      "an auth failure",
      async () => (await condition(w, "Ready"))?.reason === "AuthenticationFailed",
    );
    await w.ctl.idle();
    assert.equal((await condition(w, "Ready"))?.status, "False");
    assert.doesNotMatch(JSON.stringify(await getSource(w)), /wrong-token-e2e|right-token-e2e/);
    assert.equal((await backups(w)).length, 0);

    await mergePatchObject(w.kc, SECRETS, w.ns, "git-credentials", {
      data: { password: b64("right-token-e2e") },
    });
    w.clock.advance(INTERVAL_MS * 1.2); // the retry back-off is shorter than the interval
    await attempted(w, await w.repo.head());
    assert.equal((await condition(w, "Ready"))?.status, "True");
    assert.equal((await backups(w)).length, 3);
  });

  test("a signed push delivery triggers a sync at once, without waiting for the interval", async () => {
    const w = await start();
    await attempted(w, await w.repo.head());
    await w.repo.write("policies/pushed.yaml", backupYaml("pushed"));
    const sha = await w.repo.commit("pushed");
    await w.repo.push();
    const body = Buffer.from(
      JSON.stringify({
        ref: "refs/heads/main",
        after: sha,
        repository: { clone_url: w.repo.url, default_branch: "main" },
      }),
    );
    const sig = `sha256=${createHmac("sha256", "hook-secret").update(body).digest("hex")}`;
    const parsed = parsePushRequest(
      { "x-github-event": "push", "x-hub-signature-256": sig, "content-type": "application/json" },
      body,
      "hook-secret",
    );
    assert.ok("push" in parsed && parsed.push !== undefined);
    assert.equal(w.ctl.onPush(parsed.push), 1);
    await attempted(w, sha); // no clock advance: the annotation the push set is what triggers it
    assert.equal((await backups(w)).length, 4);
    assert.ok((await status(w)).lastHandledReconcileAt);
  });

  test("deleting the source prunes what it applied, then lets it go", async () => {
    const w = await start();
    await attempted(w, await w.repo.head());
    await kubeRequest(w.kc, { method: "DELETE", path: resourcePath(SOURCE_RESOURCE, w.ns, "policies") });
    await until(
      "the source gone",
      async () => (await getObject(w.kc, SOURCE_RESOURCE, w.ns, "policies")) === undefined,
    );
    assert.equal((await backups(w)).length, 0);
  });
});
