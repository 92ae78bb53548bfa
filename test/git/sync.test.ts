// The Git sync end to end: real repositories pushed with the git CLI and served by `git http-backend`, read
// with isomorphic-git, applied through our client to the API-server double (server-side apply with field
// managers), with the controller's timers on a fake clock so that a poll happens when the test says so.
// Each scenario is what a user sees: objects in the cluster, the source's status, Events, API writes.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, test } from "node:test";
import { Registry } from "prom-client";
import { EMPTY_WORLD } from "../../src/core/world.ts";
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
import { type GitSyncController, startGitSync } from "../../src/gitsync/reconciler.ts";
import { createGitSyncCluster } from "../../src/kube/gitsync-cluster.ts";
import { createEventRecorder, type EventRecorder } from "../../src/kube/objects.ts";
import { loadStructuralValidator } from "../../src/schema/bundled-crds.ts";
import { createRepo, type GitRepo, type GitServer, startGitServer } from "../support/git-server.ts";
import { type KubeApiDouble, type Obj, startKubeApiDouble } from "../support/kube-api-double.ts";
import { eventually, FakeClock, recordingLogger } from "../support/kube-fake-clock.ts";

const NS = "team-a";
const BACKUPS = "cassandrabackups.db.orange.com";
const INTERVAL_MS = 60_000;

interface World {
  api: KubeApiDouble;
  git: GitServer;
  repo: GitRepo;
  clock: FakeClock;
  ctl: GitSyncController;
  events: EventRecorder;
  leader: AbortController;
  cacheDir: string;
}

const open: World[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) {
    w.leader.abort();
    await w.ctl.stop();
    await w.api.close();
    await w.git.close();
    await rm(w.cacheDir, { recursive: true, force: true });
  }
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

function source(url: string, spec: Record<string, unknown> = {}): Obj {
  return {
    apiVersion: "casskeeper.io/v1alpha1",
    kind: "BackupPolicySource",
    metadata: { namespace: NS, name: "policies", generation: 1 },
    spec: { url, ref: { branch: "main" }, path: "policies", interval: "1m", ...spec },
  };
}

async function start(
  opts: {
    files?: Record<string, string>;
    spec?: Record<string, unknown>;
    auth?: { username: string; password: string };
  } = {},
): Promise<World> {
  const api = await startKubeApiDouble();
  const git = await startGitServer(opts.auth === undefined ? {} : { auth: opts.auth });
  const repo = await createRepo(git, "policies");
  for (const [path, content] of Object.entries(opts.files ?? FIRST)) await repo.write(path, content);
  await repo.commit("first policies");
  await repo.push();
  const cacheDir = await mkdtemp(join(tmpdir(), "casskeeper-sync-test-"));
  const clock = new FakeClock();
  const kc = api.kubeConfig();
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
  });
  const leader = new AbortController();
  const w: World = { api, git, repo, clock, ctl, events, leader, cacheDir };
  open.push(w);
  api.objects.put(source(repo.url, opts.spec));
  await eventually("the sources listed", () => ctl.ready(), 20_000);
  ctl.lead(leader.signal);
  return w;
}

/** The parts of a status and of metadata the assertions read. */
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
  labels: Record<string, string>;
  annotations: Record<string, string>;
  finalizers?: string[];
}

function meta(o: Obj | undefined): Meta {
  return (o?.metadata ?? {}) as unknown as Meta;
}

function getSource(w: World): Obj {
  const s = w.api.objects.get("casskeeper.io/v1alpha1", "BackupPolicySource", NS, "policies");
  assert.ok(s, "the source exists");
  return s;
}

function status(w: World): Status {
  return (getSource(w).status ?? {}) as Status;
}

function condition(w: World, type: string): Cond | undefined {
  return (status(w).conditions ?? []).find((c) => c.type === type);
}

function inventoryIds(w: World): string[] {
  return (status(w).inventory?.entries ?? []).map((e) => e.id);
}

function backups(w: World): Obj[] {
  return w.api.objects.list("db.orange.com/v1alpha1", "CassandraBackup");
}

/** Waits until the source's last attempt is `revision`, no sync is running and its Events are written. */
async function attempted(w: World, sha: string): Promise<void> {
  await eventually(
    `an attempt of ${sha}`,
    () => status(w).lastAttemptedRevision === `main@sha1:${sha}` && condition(w, "Reconciling") === undefined,
    30_000,
  );
  await w.ctl.idle();
  await w.events.flush();
}

/** A poll: the interval's timer fires. */
async function poll(w: World): Promise<void> {
  w.clock.advance(INTERVAL_MS * 1.2);
  await w.ctl.idle();
}

function events(w: World, reason?: string): Obj[] {
  return w.api.objects.list("v1", "Event").filter((e) => reason === undefined || e.reason === reason);
}

test("first sync: every document is applied, labelled, inventoried; Ready names the revision", async () => {
  const w = await start();
  const sha = await w.repo.head();
  await attempted(w, sha);

  assert.deepEqual(
    backups(w).map((b) => (b.metadata as Obj).name),
    ["orders-nightly", "orders-weekly", "users-nightly"],
  );
  for (const b of backups(w)) {
    const m = meta(b);
    assert.equal(m.namespace, NS);
    assert.equal(m.labels[LABEL_SOURCE_NAME], "policies");
    assert.equal(m.labels[LABEL_SOURCE_NAMESPACE], NS);
    assert.equal(m.annotations[ANNOTATION_REVISION], `main@sha1:${sha}`);
    assert.match(String(m.annotations["casskeeper.io/source-path"]), /^policies\/(orders|users)\.yaml$/);
  }
  const s = status(w);
  assert.equal(s.lastAppliedRevision, `main@sha1:${sha}`);
  assert.equal(s.observedGeneration, 1);
  assert.equal(condition(w, "Ready")?.status, "True");
  assert.match(String(condition(w, "Ready")?.message), /3 created/);
  assert.equal(condition(w, "Stalled"), undefined);
  assert.deepEqual(inventoryIds(w), [
    `${NS}_orders-nightly_db.orange.com_CassandraBackup`,
    `${NS}_orders-weekly_db.orange.com_CassandraBackup`,
    `${NS}_users-nightly_db.orange.com_CassandraBackup`,
  ]);
  assert.ok(meta(getSource(w)).finalizers?.includes(SOURCE_FINALIZER));
  await eventually("a Synced event", () => events(w, "Synced").length === 1);
});

test("a poll with nothing new: one ref listing, no fetch, no API write", async () => {
  const w = await start();
  await attempted(w, await w.repo.head());
  const before = meta(getSource(w));
  w.git.resetCounts();
  w.api.resetCounts();
  await poll(w);
  await poll(w);
  assert.equal(w.git.count("upload-pack"), 0);
  assert.ok(w.git.count("info-refs") + w.git.count("ls-refs") >= 2);
  assert.equal(w.api.writes(), 0);
  assert.equal(meta(getSource(w)).resourceVersion, before.resourceVersion);
});

test("a one-document change is exactly one write, and only that object gets the new revision", async () => {
  const w = await start();
  const first = await w.repo.head();
  await attempted(w, first);
  await w.repo.write("policies/users.yaml", backupYaml("users-nightly", "45 1 * * *"));
  const second = await w.repo.commit("users at 01:45");
  await w.repo.push();
  w.api.resetCounts();
  await poll(w);
  await attempted(w, second);

  assert.equal(w.api.writes(BACKUPS), 1);
  const byName = new Map(backups(w).map((b) => [meta(b).name, b]));
  assert.equal((byName.get("users-nightly")?.spec as Obj | undefined)?.schedule, "45 1 * * *");
  const rev = (n: string) => meta(byName.get(n)).annotations[ANNOTATION_REVISION];
  assert.equal(rev("users-nightly"), `main@sha1:${second}`);
  assert.equal(rev("orders-nightly"), `main@sha1:${first}`);
  assert.match(String(condition(w, "Ready")?.message), /0 created, 1 updated, 0 pruned, 2 unchanged/);
});

test("a document removed from Git is pruned; one opted out with casskeeper.io/prune: disabled stays", async () => {
  const w = await start();
  await attempted(w, await w.repo.head());
  // a user opts orders-weekly out of pruning in the cluster
  const weekly = w.api.objects.get("db.orange.com/v1alpha1", "CassandraBackup", NS, "orders-weekly") as Obj;
  meta(weekly).annotations[ANNOTATION_PRUNE] = "disabled";
  w.api.objects.put(weekly);
  await w.repo.remove("policies/users.yaml");
  await w.repo.write("policies/orders.yaml", backupYaml("orders-nightly"));
  const sha = await w.repo.commit("drop users and weekly");
  await w.repo.push();
  await poll(w);
  await attempted(w, sha);

  assert.deepEqual(
    backups(w).map((b) => (b.metadata as Obj).name),
    ["orders-nightly", "orders-weekly"],
  );
  assert.deepEqual(inventoryIds(w), [`${NS}_orders-nightly_db.orange.com_CassandraBackup`]);
  assert.match(String(condition(w, "Ready")?.message), /1 pruned/);
  await eventually("a PruneSkipped event", () => events(w, "PruneSkipped").length === 1);
});

test("a bad revision is refused whole: the last good one stays, status lists file:line:column errors", async () => {
  const w = await start();
  const good = await w.repo.head();
  await attempted(w, good);
  await w.repo.write("policies/users.yaml", backupYaml("users-nightly", "0 0 * * 7"));
  await w.repo.write("policies/new.yaml", backupYaml("brand-new"));
  const bad = await w.repo.commit("a bad schedule");
  await w.repo.push();
  w.api.resetCounts();
  await poll(w);
  await attempted(w, bad);

  assert.equal(w.api.writes(BACKUPS), 0);
  assert.equal(backups(w).length, 3, "brand-new was not created");
  const s = status(w);
  assert.equal(s.lastAppliedRevision, `main@sha1:${good}`);
  assert.equal(condition(w, "Ready")?.status, "False");
  assert.equal(condition(w, "Ready")?.reason, "ValidationFailed");
  assert.equal(condition(w, "Stalled")?.status, "True");
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
  await eventually("a ValidationFailed event", () => events(w, "ValidationFailed").length === 1);

  // fixing it in Git heals the source
  await w.repo.write("policies/users.yaml", backupYaml("users-nightly", "0 0 * * 6"));
  const fixed = await w.repo.commit("fix");
  await w.repo.push();
  await poll(w);
  await attempted(w, fixed);
  assert.equal(condition(w, "Ready")?.status, "True");
  assert.equal(status(w).errors, undefined);
  assert.equal(backups(w).length, 4);
});

test("a stalled source polled with nothing new: no fetch, no API write, still Stalled", async () => {
  const w = await start();
  await attempted(w, await w.repo.head());
  await w.repo.write("policies/users.yaml", backupYaml("users-nightly", "0 0 * * 7"));
  const bad = await w.repo.commit("a bad schedule");
  await w.repo.push();
  await poll(w);
  await attempted(w, bad);
  assert.equal(condition(w, "Stalled")?.status, "True");
  await eventually("a ValidationFailed event", () => events(w, "ValidationFailed").length === 1);
  const before = meta(getSource(w));
  w.git.resetCounts();
  w.api.resetCounts();

  await poll(w);
  await poll(w);
  await w.events.flush();
  assert.equal(w.git.count("upload-pack"), 0, "the refused revision is not fetched again");
  assert.ok(w.git.count("info-refs") + w.git.count("ls-refs") >= 2, "the branch was still polled");
  assert.equal(w.api.writes(), 0, "no status write (Reconciling), no repeated Event");
  assert.equal(meta(getSource(w)).resourceVersion, before.resourceVersion);
  assert.equal(condition(w, "Stalled")?.status, "True");
  assert.equal(condition(w, "Ready")?.reason, "ValidationFailed");
  assert.equal(events(w, "ValidationFailed").length, 1);
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
  assert.equal(backups(w).length, 4);

  await w.repo.forcePush(first);
  await poll(w);
  await attempted(w, first);
  assert.equal(backups(w).length, 3);
  assert.equal(condition(w, "Ready")?.status, "True");
});

test("wrong credentials: Ready False AuthenticationFailed naming no secret; fixing the Secret heals it", async () => {
  const auth = { username: "git", password: "right-token" };
  const api0 = { token: "wrong-token" };
  const w = await start({ auth, spec: { secretRef: { name: "git-credentials" } } });
  w.api.objects.put({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace: NS, name: "git-credentials" },
    data: { username: b64("git"), password: b64(api0.token) },
  });
  await eventually("an auth failure", () => condition(w, "Ready")?.reason === "AuthenticationFailed", 30_000);
  await w.ctl.idle();
  const ready = condition(w, "Ready");
  assert.equal(ready?.status, "False");
  assert.doesNotMatch(JSON.stringify(getSource(w)), /wrong-token|right-token/);
  assert.equal(backups(w).length, 0);

  w.api.objects.put({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace: NS, name: "git-credentials" },
    data: { username: b64("git"), password: b64("right-token") },
  });
  w.clock.advance(INTERVAL_MS * 1.2); // the retry back-off is shorter than the interval
  await attempted(w, await w.repo.head());
  assert.equal(condition(w, "Ready")?.status, "True");
  assert.equal(backups(w).length, 3);
});

test("an object tracked by Argo CD is not taken over: the conflict is on the source's status", async () => {
  const w = await start({ files: { "policies/users.yaml": backupYaml("users-nightly") } });
  // leave the first sync out: Argo CD got there first
  w.leader.abort();
  await w.ctl.idle();
  w.api.objects.remove("db.orange.com/v1alpha1", "CassandraBackup", NS, "users-nightly");
  w.api.objects.put({
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraBackup",
    metadata: {
      namespace: NS,
      name: "users-nightly",
      annotations: {
        "argocd.argoproj.io/tracking-id": "backups:db.orange.com/CassandraBackup:team-a/users-nightly",
      },
    },
    spec: { cassandraCluster: "orders", storageLocation: "s3://other", snapshotTag: "x", schedule: "@daily" },
  });
  const obj = getSource(w);
  obj.status = {};
  w.api.objects.put(obj);
  w.leader = new AbortController();
  w.ctl.lead(w.leader.signal);
  // the new term may first meet a stale copy of the source (409 on its finalizer) and retry after a back-off
  await eventually(
    "a conflict",
    () => {
      if (condition(w, "Ready")?.reason === "ApplyConflict") return true;
      w.clock.advance(1_000);
      return false;
    },
    30_000,
  );
  await w.ctl.idle();
  assert.match(String(status(w).errors?.[0]?.message), /Argo CD/);
  const live = w.api.objects.get("db.orange.com/v1alpha1", "CassandraBackup", NS, "users-nightly") as Obj;
  assert.equal((live.spec as Obj).storageLocation, "s3://other");
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
  const { createHmac } = await import("node:crypto");
  const sig = `sha256=${createHmac("sha256", "hook-secret").update(body).digest("hex")}`;
  const parsed = parsePushRequest(
    { "x-github-event": "push", "x-hub-signature-256": sig, "content-type": "application/json" },
    body,
    "hook-secret",
  );
  assert.ok("push" in parsed && parsed.push !== undefined);
  assert.equal(w.ctl.onPush(parsed.push), 1);
  await attempted(w, sha); // no clock advance: the annotation the push set is what triggers it
  assert.equal(backups(w).length, 4);
  assert.ok(status(w).lastHandledReconcileAt);
});

test("deleting the source prunes what it applied, then lets it go", async () => {
  const w = await start();
  await attempted(w, await w.repo.head());
  const src = getSource(w);
  await fetch(`${w.api.url}/apis/casskeeper.io/v1alpha1/namespaces/${NS}/backuppolicysources/policies`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${w.api.token}` },
  });
  assert.ok(src);
  await eventually(
    "the source gone",
    () => w.api.objects.get("casskeeper.io/v1alpha1", "BackupPolicySource", NS, "policies") === undefined,
    30_000,
  );
  assert.equal(backups(w).length, 0);
});

// (case, the request to CassandraBackups held when leadership goes, prunes that reached the API server)
const FINALIZE_ABORTS = [
  { name: "while the live objects are listed", verb: "list", deletes: 0 },
  { name: "while the first prune is in flight", verb: "delete", deletes: 1 },
];

for (const c of FINALIZE_ABORTS) {
  test(`leadership lost ${c.name} for a deleted source: the finalizer stays, the next leader finishes`, async () => {
    const w = await start();
    await attempted(w, await w.repo.head());
    assert.equal(backups(w).length, 3);
    w.api.resetCounts();
    const held = w.api.hold(c.verb, BACKUPS);
    await fetch(`${w.api.url}/apis/casskeeper.io/v1alpha1/namespaces/${NS}/backuppolicysources/policies`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${w.api.token}` },
    });
    await eventually(`the ${c.verb} of the finalizer sent`, () => held.waiting() === 1, 30_000);
    w.leader.abort();
    held.release();
    await w.ctl.idle();

    const src = getSource(w);
    assert.ok(meta(src).finalizers?.includes(SOURCE_FINALIZER), "the finalizer stays");
    assert.equal(typeof (src.metadata as Obj).deletionTimestamp, "string");
    assert.equal(w.api.count("delete", BACKUPS), c.deletes, "no prune started after leadership was lost");
    assert.ok(backups(w).length >= 3 - c.deletes, `not all pruned: ${backups(w).length} left of 3`);

    w.leader = new AbortController();
    w.ctl.lead(w.leader.signal);
    await eventually(
      "the source gone",
      () => w.api.objects.get("casskeeper.io/v1alpha1", "BackupPolicySource", NS, "policies") === undefined,
      30_000,
    );
    assert.equal(backups(w).length, 0, "the new leader pruned the rest");
  });
}

test("suspend: no sync while suspended", async () => {
  const w = await start({ spec: { suspend: true } });
  w.clock.advance(INTERVAL_MS * 3);
  await w.ctl.idle();
  assert.equal(backups(w).length, 0);
  assert.equal(w.git.count("upload-pack"), 0);
});

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}
