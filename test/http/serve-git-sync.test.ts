// `casskeeper serve --kube --git-sync` as a Deployment runs it, in-process: the serve command with a stop
// signal, KUBECONFIG pointing at the API-server double, POD_NAMESPACE (the Lease's namespace) and POD_NAME
// (the Lease holder's identity) as the downward API sets them, TLS files, a real Git repository served by
// `git http-backend`, push deliveries POSTed over real TLS. The leader election runs on real timers (15 s
// lease, 2 s retry): a takeover here only ever follows a clean stop, which releases the Lease at once, so no
// test waits for a lease to expire.
//
// What a user sees: the Lease and who holds it, the objects and the source's status in the cluster, what
// /hooks/git answers, /metrics and the log of each replica, and the exit code.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, test } from "node:test";
import { GIT_HOOK_PATH } from "../../src/admission/constants.ts";
import { type Io, run } from "../../src/cli/main.ts";
import {
  ANNOTATION_RECONCILE_REQUESTED,
  LABEL_SOURCE_NAME,
  LABEL_SOURCE_NAMESPACE,
} from "../../src/gitsync/model.ts";
import { LEADER_LEASE } from "../../src/kube/leadership.ts";
import type { PemPair } from "../../src/tls/certs.ts";
import { createRepo, type GitRepo, type GitServer, startGitServer } from "../support/git-server.ts";
import { type KubeApiDouble, type Obj, startKubeApiDouble } from "../support/kube-api-double.ts";
import { eventually } from "../support/kube-fake-clock.ts";
import { makeCa, makeLeaf, type ServeReplica, startServeReplica } from "./harness.ts";

const NS = "team-a";
const POD_NAMESPACE = "casskeeper-system";
const HOOK_SECRET = "push-secret-4b1d9e";
const SOURCES = "backuppolicysources.casskeeper.io";
/** Waits on real I/O (git http-backend, two controllers, a 2-core machine under load): generous, never a speed check. */
const WAIT_MS = 90_000;
const TEST_TIMEOUT_MS = 300_000;

// ---------------------------------------------------------------------------------------------------------
// Fixture: the API double, a Git server with one repository, TLS files, a webhook secret file.

interface Fixture {
  readonly api: KubeApiDouble;
  readonly git: GitServer;
  readonly repo: GitRepo;
  readonly dir: string;
  readonly ca: PemPair;
  readonly certFile: string;
  readonly keyFile: string;
  readonly secretFile: string;
  readonly replicas: Replica[];
}

const fixtures: Fixture[] = [];
const savedEnv = { ...process.env };

afterEach(async () => {
  for (const f of fixtures.splice(0)) {
    for (const r of f.replicas) await r.stop();
    await f.api.close();
    await f.git.close();
    await rm(f.dir, { recursive: true, force: true });
  }
  for (const k of ["KUBECONFIG", "POD_NAMESPACE", "POD_NAME"]) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

function backupYaml(name: string, schedule = "@midnight"): string {
  return `apiVersion: db.orange.com/v1alpha1
kind: CassandraBackup
metadata:
  name: ${name}
spec:
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
};

/** A source polling once an hour: within a test, every sync after the first is a push's doing. */
function source(url: string): Obj {
  return {
    apiVersion: "casskeeper.io/v1alpha1",
    kind: "BackupPolicySource",
    metadata: { namespace: NS, name: "policies", generation: 1 },
    spec: { url, ref: { branch: "main" }, path: "policies", interval: "1h" },
  };
}

async function setUp(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "casskeeper-serve-git-sync-"));
  const api = await startKubeApiDouble();
  const git = await startGitServer();
  const repo = await createRepo(git, "policies");
  const ca = await makeCa();
  const leaf = await makeLeaf(ca);
  const f: Fixture = {
    api,
    git,
    repo,
    dir,
    ca,
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    secretFile: join(dir, "webhook-secret"),
    replicas: [],
  };
  fixtures.push(f);
  await writeFile(f.certFile, leaf.certPem);
  await writeFile(f.keyFile, leaf.keyPem, { mode: 0o600 });
  // As a Secret volume holds it: with a trailing newline, which the reader trims.
  await writeFile(f.secretFile, `${HOOK_SECRET}\n`, { mode: 0o600 });
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, api.kubeConfig().exportConfig());
  process.env.KUBECONFIG = kubeconfig;
  process.env.POD_NAMESPACE = POD_NAMESPACE;

  for (const [path, content] of Object.entries(FIRST)) await repo.write(path, content);
  await repo.commit("first policies");
  await repo.push();
  for (const o of WORLD) api.objects.put(o);
  api.objects.put(source(repo.url));
  return f;
}

/** What the policies refer to, in the cluster: the Cassandra cluster and the storage credentials' key names. */
const WORLD: Obj[] = [
  {
    apiVersion: "db.orange.com/v2",
    kind: "CassandraCluster",
    metadata: { namespace: NS, name: "orders" },
    spec: { nodesPerRacks: 3, topology: { dc: [{ name: "dc1", rack: [{ name: "rack1" }] }] } },
  },
  {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace: NS, name: "s3-credentials" },
    type: "Opaque",
    data: {
      awsaccesskeyid: "cGxhY2Vob2xkZXI=",
      awssecretaccesskey: "cGxhY2Vob2xkZXI=",
      awsregion: "ZXUtd2VzdC0x",
    },
  },
];

// ---------------------------------------------------------------------------------------------------------
// One replica: `casskeeper serve` in this process, with its own cache directory, logger and stop signal.

type Replica = ServeReplica;

async function startReplica(
  f: Fixture,
  name: string,
  opts: { hook?: "secret" | "none" | "absent-file" } = {},
): Promise<Replica> {
  const hook = opts.hook ?? "secret";
  const cacheDir = join(f.dir, `cache-${name}`);
  await mkdir(cacheDir);
  const args = [
    "--kube",
    "--git-sync",
    "--git-cache-dir",
    cacheDir,
    "--tls-cert",
    f.certFile,
    "--tls-key",
    f.keyFile,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    ...(hook === "secret" ? ["--git-webhook-secret-file", f.secretFile] : []),
    ...(hook === "absent-file" ? ["--git-webhook-secret-file", join(f.dir, "no-such-secret")] : []),
  ];
  const r = await startServeReplica(name, args, { cwd: f.dir, caPem: f.ca.certPem, waitMs: WAIT_MS });
  f.replicas.push(r);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// What the cluster shows.

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

function getSource(f: Fixture): Obj {
  const s = f.api.objects.get("casskeeper.io/v1alpha1", "BackupPolicySource", NS, "policies");
  assert.ok(s, "the source exists");
  return s;
}

function sourceStatus(f: Fixture): { lastAppliedRevision?: string; conditions?: Cond[] } & Obj {
  return (getSource(f).status ?? {}) as { lastAppliedRevision?: string; conditions?: Cond[] };
}

function ready(f: Fixture): Cond | undefined {
  return (sourceStatus(f).conditions ?? []).find((c) => c.type === "Ready");
}

/** Waits until `sha` is the applied revision and the source says Ready. */
async function applied(f: Fixture, sha: string): Promise<void> {
  try {
    await eventually(
      `main@sha1:${sha} applied`,
      () => sourceStatus(f).lastAppliedRevision === `main@sha1:${sha}` && ready(f)?.status === "True",
      WAIT_MS,
    );
  } catch (e) {
    const notes = f.replicas.map(
      (r) =>
        `${r.name}: ${JSON.stringify(r.logs.lines().filter((l) => l.level !== "info" && l.level !== "debug"))}`,
    );
    throw new Error(
      `${(e as Error).message}; status ${JSON.stringify(sourceStatus(f))}; ${notes.join("; ")}`,
    );
  }
}

/** Waits until replica `r` logged the sync of `sha` (after its metrics were counted). */
async function syncedBy(r: Replica, sha: string): Promise<void> {
  await eventually(
    `${r.name} synced ${sha}`,
    () => logged(r, "synced").some((l) => l.revision === `main@sha1:${sha}`),
    WAIT_MS,
  );
}

function backupNames(f: Fixture): string[] {
  return f.api.objects
    .list("db.orange.com/v1alpha1", "CassandraBackup")
    .map((b) => String((b.metadata as Obj).name));
}

function leaseHolder(f: Fixture): string | undefined {
  const lease = f.api.objects.get("coordination.k8s.io/v1", "Lease", POD_NAMESPACE, LEADER_LEASE);
  if (lease === undefined) return undefined;
  return String((lease.spec as Obj | undefined)?.holderIdentity ?? "");
}

/** Requests that set the reconcile-requested annotation (patches of the source itself, not of /status). */
function reconcileRequests(f: Fixture): number {
  return f.api.requests.filter(
    (r) => r.verb === "patch" && r.resource === SOURCES && r.subresource === undefined && r.wrote,
  ).length;
}

/** Log lines of a replica with this message. */
function logged(r: Replica, msg: string): Record<string, unknown>[] {
  return r.logs.lines().filter((l) => l.msg === msg);
}

/** `casskeeper_gitsync_objects_applied_total{operation="create"}` as the replica's /metrics shows it (0: none). */
async function createdMetric(r: Replica): Promise<number> {
  const reply = await r.client.request("GET", "/metrics");
  assert.equal(reply.status, 200);
  const line = reply.text
    .split("\n")
    .find(
      (l) => l.startsWith("casskeeper_gitsync_objects_applied_total{") && l.includes('operation="create"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** A GitHub push delivery for the repository, signed with `secret` (none: unsigned). */
function githubPush(
  repoUrl: string,
  sha: string,
  secret: string | undefined,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({
    ref: "refs/heads/main",
    after: sha,
    repository: { clone_url: repoUrl, default_branch: "main" },
    head_commit: { id: sha, message: "policies" },
  });
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": "push",
    "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  };
  if (secret !== undefined)
    headers["x-hub-signature-256"] = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return { body, headers };
}

async function deliver(
  r: Replica,
  delivery: { body: string; headers: Record<string, string> },
): Promise<{ status: number; triggered: number | undefined }> {
  const reply = await r.client.request("POST", GIT_HOOK_PATH, delivery.body, delivery.headers);
  return { status: reply.status, triggered: (reply.json as { triggered?: number } | undefined)?.triggered };
}

/** A commit adding one more backup, pushed; returns its SHA. */
async function pushOne(f: Fixture, name: string): Promise<string> {
  await f.repo.write(`policies/${name}.yaml`, backupYaml(name));
  const sha = await f.repo.commit(`add ${name}`);
  await f.repo.push();
  return sha;
}

/**
 * Waits until `n` replicas have listed the sources and watch them (a replica answers a push delivery from what
 * its watch holds; a replica that has not listed yet would answer `triggered: 0`).
 */
async function watchingSources(f: Fixture, n: number): Promise<void> {
  await eventually(`${n} watches of the sources`, () => f.api.count("watch", SOURCES) >= n, WAIT_MS);
}

// ---------------------------------------------------------------------------------------------------------

describe("serve --kube --git-sync: one replica", { timeout: TEST_TIMEOUT_MS }, () => {
  test("(a) the replica that won the Lease syncs the source; stopping it releases the Lease", async () => {
    const f = await setUp();
    const sha = await f.repo.head();
    const r = await startReplica(f, "casskeeper-7d9f-a");

    await eventually("the Lease", () => leaseHolder(f) === "casskeeper-7d9f-a", WAIT_MS);
    await applied(f, sha);
    assert.deepEqual(backupNames(f), ["orders-nightly", "orders-weekly", "users-nightly"]);
    for (const b of f.api.objects.list("db.orange.com/v1alpha1", "CassandraBackup")) {
      const labels = (b.metadata as { labels: Record<string, string> }).labels;
      assert.equal(labels[LABEL_SOURCE_NAME], "policies");
      assert.equal(labels[LABEL_SOURCE_NAMESPACE], NS);
    }
    assert.match(String(ready(f)?.message), /3 created/);
    await syncedBy(r, sha);
    assert.equal(await createdMetric(r), 3);
    assert.equal(logged(r, "became leader").length, 1);

    assert.equal(await r.stop(), 0);
    assert.equal(leaseHolder(f), "", "stop() released the Lease");
    // The Synced Event was flushed before the exit.
    assert.ok(f.api.objects.list("v1", "Event").some((e) => e.reason === "Synced"));
    assert.equal(
      r.logs.lines().some((l) => l.level === "error"),
      false,
      r.logs.text(),
    );
  });

  test("(a) the first sync waits for the world cache, then validates against the cluster's objects", async () => {
    const f = await setUp();
    // The policies name a Secret the cluster lacks; the world cache's first list is held back.
    f.api.objects.remove("v1", "Secret", NS, "s3-credentials");
    const held = f.api.hold("list", "cassandraclusters.db.orange.com");
    const r = await startReplica(f, "casskeeper-7d9f-w");
    await eventually("the Lease", () => leaseHolder(f) === "casskeeper-7d9f-w", WAIT_MS);
    await eventually(
      "the leader waiting for the world",
      () => logged(r, "leader: waiting for the world cache to list before starting").length === 1,
      WAIT_MS,
    );
    assert.equal(sourceStatus(f).lastAttemptedRevision, undefined, "no sync with an unknown world");
    assert.deepEqual(backupNames(f), []);

    held.release();
    await eventually("the revision refused", () => ready(f)?.reason === "ValidationFailed", WAIT_MS);
    assert.match(String(ready(f)?.message), /secret "s3-credentials" not found in namespace "team-a"/);
    assert.deepEqual(backupNames(f), []);
    assert.equal(await r.stop(), 0);
  });

  test("(b) a signed push over TLS applies the new commit at once; bad signatures get 401 and trigger nothing", async () => {
    const f = await setUp();
    const r = await startReplica(f, "casskeeper-7d9f-b");
    await applied(f, await f.repo.head());
    await watchingSources(f, 1);
    const sha = await pushOne(f, "pushed");
    f.api.resetCounts();

    // (delivery) → (status, triggered), in this order; the valid one last, so anything the bad ones had
    // triggered would show as a second reconcile request.
    const cases: { name: string; secret: string | undefined; status: number; triggered: number }[] = [
      // signed with another secret
      { name: "wrong signature", secret: "not-the-secret", status: 401, triggered: 0 },
      // no X-Hub-Signature-256 at all
      { name: "unsigned", secret: undefined, status: 401, triggered: 0 },
      // signed with the shared secret
      { name: "signed", secret: HOOK_SECRET, status: 200, triggered: 1 },
    ];
    for (const c of cases) {
      const reply = await deliver(r, githubPush(f.repo.url, sha, c.secret));
      assert.deepEqual(reply, { status: c.status, triggered: c.triggered }, c.name);
    }

    // The interval is an hour: only the push can have brought this revision in.
    await applied(f, sha);
    assert.ok(backupNames(f).includes("pushed"));
    assert.equal(reconcileRequests(f), 1, "one reconcile request: the signed delivery's");
    const requested = (getSource(f).metadata as { annotations: Record<string, string> }).annotations[
      ANNOTATION_RECONCILE_REQUESTED
    ];
    assert.equal(sourceStatus(f).lastHandledReconcileAt, requested);
    assert.deepEqual(
      logged(r, "git push delivery").map((l) => [l.status, l.triggered]),
      [[200, 1]],
    );
    assert.equal(logged(r, "git push delivery refused").length, 2);
    assert.doesNotMatch(r.logs.text(), new RegExp(HOOK_SECRET));
  });
});

describe("serve --kube --git-sync: two replicas", { timeout: TEST_TIMEOUT_MS }, () => {
  test("(c) one leads; a push to the other is applied by the leader; stopping the leader hands over", async () => {
    const f = await setUp();
    const first = await f.repo.head();
    const a = await startReplica(f, "casskeeper-7d9f-a");
    const b = await startReplica(f, "casskeeper-7d9f-b");
    const byName = new Map([a, b].map((r) => [r.name, r]));

    await applied(f, first);
    await eventually("a Lease holder", () => byName.has(leaseHolder(f) ?? ""), WAIT_MS);
    const leader = byName.get(leaseHolder(f) ?? "") as Replica;
    const follower = leader === a ? b : a;
    await watchingSources(f, 2);
    await syncedBy(leader, first);

    // Exactly one leads, and only the leader wrote the objects.
    assert.equal(logged(leader, "became leader").length, 1);
    assert.equal(logged(follower, "became leader").length, 0);
    assert.equal(logged(follower, "synced").length, 0);
    assert.equal(await createdMetric(leader), 3);
    assert.equal(await createdMetric(follower), 0);

    // A push delivered to the follower: it asks for a sync, the leader does it.
    const second = await pushOne(f, "via-follower");
    assert.deepEqual(await deliver(follower, githubPush(f.repo.url, second, HOOK_SECRET)), {
      status: 200,
      triggered: 1,
    });
    await applied(f, second);
    assert.ok(backupNames(f).includes("via-follower"));
    assert.equal(leaseHolder(f), leader.name);
    await syncedBy(leader, second);
    assert.equal(logged(follower, "synced").length, 0, "the follower wrote nothing");
    assert.equal(await createdMetric(leader), 4);

    // The leader stops (a rolling update): it releases the Lease, the other takes it and keeps syncing.
    assert.equal(await leader.stop(), 0);
    await eventually("the follower holds the Lease", () => leaseHolder(f) === follower.name, WAIT_MS);
    await eventually("the follower leads", () => logged(follower, "git sync: leading").length === 1, WAIT_MS);
    const third = await pushOne(f, "after-handover");
    assert.deepEqual(await deliver(follower, githubPush(f.repo.url, third, HOOK_SECRET)), {
      status: 200,
      triggered: 1,
    });
    await applied(f, third);
    await syncedBy(follower, third);
    assert.deepEqual(backupNames(f), [
      "after-handover",
      "orders-nightly",
      "orders-weekly",
      "users-nightly",
      "via-follower",
    ]);
    assert.equal(await createdMetric(follower), 1);
    assert.equal(await follower.stop(), 0);
    assert.equal(leaseHolder(f), "");
  });
});

describe("serve --git-sync: the receiver's switch and usage errors", { timeout: TEST_TIMEOUT_MS }, () => {
  // (how the secret is configured) → /hooks/git is 404, the log says the receiver is off
  const cases: { name: string; hook: "none" | "absent-file" }[] = [
    // no --git-webhook-secret-file
    { name: "no secret file flag", hook: "none" },
    // the flag names a file that is absent (the Secret volume is optional)
    { name: "secret file absent", hook: "absent-file" },
  ];
  for (const c of cases) {
    test(`(d) ${c.name}: /hooks/git is 404, the source still syncs`, async () => {
      const f = await setUp();
      const r = await startReplica(f, "casskeeper-7d9f-d", { hook: c.hook });
      const reply = await deliver(r, githubPush(f.repo.url, await f.repo.head(), HOOK_SECRET));
      assert.equal(reply.status, 404);
      assert.equal(
        logged(r, "push receiver off: no --git-webhook-secret-file (or the file is absent); polling only")
          .length,
        1,
      );
      await applied(f, await f.repo.head());
      assert.equal(await r.stop(), 0);
    });
  }

  // (arguments) → exit 2 and the message
  const usage: { args: (dir: string) => string[]; message: RegExp }[] = [
    // the controller needs a cluster
    { args: () => ["serve", "--local", "--git-sync"], message: /--git-sync needs --kube/ },
    // git flags without --git-sync
    {
      args: (dir) => ["serve", "--local", "--git-cache-dir", dir],
      message: /--git-cache-dir and --git-webhook-secret-file go with --git-sync/,
    },
    {
      args: (dir) => ["serve", "--local", "--git-webhook-secret-file", join(dir, "s")],
      message: /--git-cache-dir and --git-webhook-secret-file go with --git-sync/,
    },
  ];
  for (const c of usage) {
    test(`(d) ${c.args("DIR").join(" ")} → exit 2`, async () => {
      const { io, stderr } = captureIo(tmpdir());
      assert.equal(await run(c.args(tmpdir()), io), 2, stderr());
      assert.match(stderr(), c.message);
      assert.doesNotMatch(stderr(), /internal error/);
    });
  }

  test("(d) an empty secret file is a usage error, and what had started is stopped", async () => {
    const f = await setUp();
    await writeFile(f.secretFile, "\n");
    const { io, stderr } = captureIo(f.dir);
    const code = await run(
      [
        "serve",
        "--kube",
        "--git-sync",
        "--git-cache-dir",
        join(f.dir, "cache"),
        "--git-webhook-secret-file",
        f.secretFile,
        "--tls-cert",
        f.certFile,
        "--tls-key",
        f.keyFile,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--log-level",
        "silent",
      ],
      io,
    );
    assert.equal(code, 2, stderr());
    assert.match(stderr(), /--git-webhook-secret-file .*webhook-secret is empty/);
    // The watches it had opened (world cache, sources) are closed.
    await eventually("no open watch", () => f.api.openWatches() === 0, WAIT_MS);
  });
});

function captureIo(cwd: string): { io: Io; stderr: () => string } {
  let err = "";
  const io: Io = {
    stdout: () => {},
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => "",
    now: () => Date.now(),
    cwd,
  };
  return { io, stderr: () => err };
}
