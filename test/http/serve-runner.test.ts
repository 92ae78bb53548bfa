// `casskeeper serve --kube --runner` as a Deployment runs it, in-process: the serve command with a stop signal,
// KUBECONFIG pointing at the API-server double, POD_NAMESPACE (the Lease's namespace) and POD_NAME (the Lease
// holder's identity) as the downward API sets them, TLS files, and the sidecar double standing in for every
// Cassandra pod's sidecar: the pods carry CassKop's labels, are Ready and have `status.podIP: 127.0.0.1`, and
// serve runs with `--sidecar-address ip --sidecar-port <the double's port>`. (The pods also have CassKop's
// hostname and subdomain: under the default `dns` addressing their names would not resolve, so a run that
// reaches the double shows the `ip` flag took effect.)
//
// Everything runs on real timers: the leader election (15 s lease, 2 s retry; a takeover here only ever
// follows a clean stop, which releases the Lease at once), the runner's 2 s poll, the Git sync. Waits are
// kept short by one-shot backups and the sidecar double in auto mode (an operation completes at its first
// GET), and every wait is `eventually` with a generous limit, never a speed check.
//
// What a user sees: the Lease and who holds it, the backups' status (CassKop's shape), Events, what the
// sidecars received, /metrics, /healthz and /readyz, the log of each replica, and the exit code.

import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, test } from "node:test";
import { HEALTHZ_PATH } from "../../src/admission/constants.ts";
import { LABEL_SOURCE_NAME } from "../../src/gitsync/model.ts";
import { LEADER_LEASE } from "../../src/kube/leadership.ts";
import type { PemPair } from "../../src/tls/certs.ts";
import { BACKUP_API, backupObject, CLUSTER, NS, PODS, podObject } from "../runner/runner-world.ts";
import { createRepo, type GitServer, startGitServer } from "../support/git-server.ts";
import {
  DEFAULT_RESOURCES,
  type KubeApiDouble,
  type Obj,
  startKubeApiDouble,
} from "../support/kube-api-double.ts";
import { eventually } from "../support/kube-fake-clock.ts";
import { type SidecarDouble, startSidecarDouble } from "../support/sidecar-double.ts";
import { makeCa, makeLeaf, type ServeReplica, startServeReplica } from "./harness.ts";

const POD_NAMESPACE = "casskeeper-system";
/** Waits on real I/O (a Lease round, 2 s polls, git http-backend, a 2-core machine under load): generous. */
const WAIT_MS = 90_000;
const TEST_TIMEOUT_MS = 300_000;

// ---------------------------------------------------------------------------------------------------------
// Fixture: the API double (CassKop's CRDs without a status subresource, as CassKop's and casskeeper's are),
// three Ready Cassandra pods at 127.0.0.1, the cluster and its storage Secret, the sidecar double, TLS files.

interface Fixture {
  readonly api: KubeApiDouble;
  readonly sidecar: SidecarDouble;
  readonly dir: string;
  readonly ca: PemPair;
  readonly certFile: string;
  readonly keyFile: string;
  readonly replicas: Replica[];
  git?: GitServer;
}

const fixtures: Fixture[] = [];
const savedEnv = { ...process.env };

afterEach(async () => {
  for (const f of fixtures.splice(0)) {
    for (const r of f.replicas) await r.stop();
    await f.sidecar.close();
    await f.api.close();
    await f.git?.close();
    await rm(f.dir, { recursive: true, force: true });
  }
  for (const k of ["KUBECONFIG", "POD_NAMESPACE", "POD_NAME"]) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

async function setUp(o: { unserved?: readonly string[] } = {}): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "casskeeper-serve-runner-"));
  const resources = DEFAULT_RESOURCES.map((r) =>
    r.group === "db.orange.com" && r.plural !== "cassandraclusters" ? { ...r, statusSubresource: false } : r,
  );
  const api = await startKubeApiDouble({ resources, unserved: o.unserved ?? [] });
  // Auto mode, one GET: PENDING at the POST, COMPLETED at the runner's first poll.
  const sidecar = await startSidecarDouble({ mode: "auto", autoAfterGets: 1 });
  const ca = await makeCa();
  const leaf = await makeLeaf(ca);
  const f: Fixture = {
    api,
    sidecar,
    dir,
    ca,
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    replicas: [],
  };
  fixtures.push(f);
  await writeFile(f.certFile, leaf.certPem);
  await writeFile(f.keyFile, leaf.keyPem, { mode: 0o600 });
  const kubeconfig = join(dir, "kubeconfig");
  await writeFile(kubeconfig, api.kubeConfig().exportConfig());
  process.env.KUBECONFIG = kubeconfig;
  process.env.POD_NAMESPACE = POD_NAMESPACE;

  for (const name of PODS) {
    const pod = podObject(name);
    api.objects.put({ ...pod, status: { ...(pod.status as Obj), podIP: "127.0.0.1" } });
  }
  if (!(o.unserved ?? []).some((u) => u === "db.orange.com" || u === "cassandraclusters.db.orange.com")) {
    api.objects.put({
      apiVersion: "db.orange.com/v2",
      kind: "CassandraCluster",
      metadata: { namespace: NS, name: CLUSTER },
      spec: { nodesPerRacks: 3, topology: { dc: [{ name: "dc1", rack: [{ name: "rack1" }] }] } },
    });
  }
  api.objects.put({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { namespace: NS, name: "s3-credentials" },
    type: "Opaque",
    data: { awsaccesskeyid: "cGxhY2Vob2xkZXI=", awssecretaccesskey: "cGxhY2Vob2xkZXI=" },
  });
  return f;
}

// ---------------------------------------------------------------------------------------------------------
// One replica: `casskeeper serve --kube --runner …` in this process, with its own logger and stop signal.

type Replica = ServeReplica;

async function startReplica(f: Fixture, name: string, extra: readonly string[] = []): Promise<Replica> {
  const args = [
    "--kube",
    "--runner",
    "--sidecar-address",
    "ip",
    "--sidecar-port",
    String(f.sidecar.port),
    "--tls-cert",
    f.certFile,
    "--tls-key",
    f.keyFile,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    ...extra,
  ];
  const r = await startServeReplica(name, args, { cwd: f.dir, caPem: f.ca.certPem, waitMs: WAIT_MS });
  f.replicas.push(r);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// What the cluster, the sidecars and the replicas show.

interface BackupStatus {
  condition?: { type?: string; failureCause?: unknown };
  progress?: string;
  coordinatorMember?: string;
  id?: string;
}

function backupStatus(f: Fixture, name: string): BackupStatus {
  const b = f.api.objects.get(BACKUP_API, "CassandraBackup", NS, name);
  return ((b as { status?: BackupStatus } | undefined)?.status ?? {}) as BackupStatus;
}

/** Waits until backup `name` says COMPLETED; the replicas' warnings and errors in the message otherwise. */
async function completed(f: Fixture, name: string): Promise<void> {
  try {
    await eventually(
      `${name} COMPLETED`,
      () => backupStatus(f, name).condition?.type === "COMPLETED",
      WAIT_MS,
    );
  } catch (e) {
    const notes = f.replicas.map(
      (r) =>
        `${r.name}: ${JSON.stringify(r.logs.lines().filter((l) => l.level !== "info" && l.level !== "debug"))}`,
    );
    throw new Error(
      `${(e as Error).message}; status ${JSON.stringify(backupStatus(f, name))}; ${notes.join("; ")}`,
    );
  }
}

/** Every POST /operations the sidecars received (whichever pod it was addressed to: all are the double). */
function posts(f: Fixture): Record<string, unknown>[] {
  return f.sidecar.requests
    .filter((r) => r.method === "POST" && r.path === "/operations")
    .map((r) => r.body as Record<string, unknown>);
}

function leaseHolder(f: Fixture): string | undefined {
  const lease = f.api.objects.get("coordination.k8s.io/v1", "Lease", POD_NAMESPACE, LEADER_LEASE);
  if (lease === undefined) return undefined;
  return String((lease.spec as Obj | undefined)?.holderIdentity ?? "");
}

function logged(r: Replica, msg: string): Record<string, unknown>[] {
  return r.logs.lines().filter((l) => l.msg === msg);
}

function events(f: Fixture, reason: string): Obj[] {
  return f.api.objects.list("v1", "Event").filter((e) => e.reason === reason);
}

/** `casskeeper_runner_runs_total{kind="backup",result="completed"}` as the replica's /metrics shows it (0: none). */
async function completedRuns(r: Replica): Promise<number> {
  const reply = await r.client.request("GET", "/metrics");
  assert.equal(reply.status, 200);
  const line = reply.text
    .split("\n")
    .find(
      (l) =>
        l.startsWith("casskeeper_runner_runs_total{") &&
        l.includes('kind="backup"') &&
        l.includes('result="completed"'),
    );
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** The body CassKop's PerformBackup sends for `backupObject(name)` (operators.md §1.5). */
function casskopBody(name: string): Record<string, unknown> {
  return {
    type: "backup",
    storageLocation: "s3://acme-backups",
    snapshotTag: `${name}_0a1b2c3d`,
    k8sSecretName: "s3-credentials",
    dc: "dc1",
    globalRequest: true,
    k8sNamespace: NS,
  };
}

function errorsLogged(r: Replica): Record<string, unknown>[] {
  return r.logs.lines().filter((l) => l.level === "error");
}

// ---------------------------------------------------------------------------------------------------------

describe("serve --kube --runner: one replica", { timeout: TEST_TIMEOUT_MS }, () => {
  // (when the backup was created) → it runs once, to COMPLETED
  const created: { name: string; before: boolean }[] = [
    // while nobody led (found by the runner's first list)
    { name: "before serve started", before: true },
    // while leading (a watch event)
    { name: "while leading", before: false },
  ];
  for (const c of created) {
    test(`(a) created ${c.name}: the Lease winner runs the one-shot backup through the sidecar to COMPLETED`, async () => {
      const f = await setUp();
      if (c.before) f.api.objects.put(backupObject("orders-once"));
      const r = await startReplica(f, "casskeeper-5c8b-a");
      await eventually("the Lease", () => leaseHolder(f) === "casskeeper-5c8b-a", WAIT_MS);
      await eventually("the runner leads", () => logged(r, "runner: leading").length === 1, WAIT_MS);

      if (!c.before) f.api.objects.put(backupObject("orders-once"));
      await completed(f, "orders-once");

      const s = backupStatus(f, "orders-once");
      assert.deepEqual(
        { type: s.condition?.type, progress: s.progress, failureCause: s.condition?.failureCause },
        { type: "COMPLETED", progress: "100%", failureCause: undefined },
      );
      assert.ok(PODS.includes(s.coordinatorMember ?? ""), `coordinator ${s.coordinatorMember}`);
      assert.deepEqual(posts(f), [casskopBody("orders-once")], "exactly one POST, CassKop's body");
      assert.equal(s.id, f.sidecar.operations()[0]?.id);

      await eventually("the BackupCompleted Event", () => events(f, "BackupCompleted").length === 1, WAIT_MS);
      assert.match(
        String(events(f, "BackupCompleted")[0]?.message),
        new RegExp(`Backup operation ${s.id} on pod ${s.coordinatorMember} was completed`),
      );
      // Counted when the run ended, before its final status was written.
      assert.equal(await completedRuns(r), 1);

      assert.equal(await r.stop(), 0);
      assert.equal(leaseHolder(f), "", "stop() released the Lease");
      assert.equal(posts(f).length, 1, "never POSTed again");
      assert.deepEqual(errorsLogged(r), [], r.logs.text());
    });
  }

  // (what of CassKop the API server does not serve) → the runner leads and waits, the webhook serves
  const unserved: { name: string; unserved: string[] }[] = [
    // CassKop not installed at all
    { name: "no db.orange.com group", unserved: ["db.orange.com"] },
    // the clusters' CRD, but not the backups' and restores'
    {
      name: "no CassandraBackup/CassandraRestore CRDs",
      unserved: ["cassandrabackups.db.orange.com", "cassandrarestores.db.orange.com"],
    },
  ];
  for (const c of unserved) {
    test(`(d) ${c.name}: the runner waits, the webhook serves (/healthz, /readyz 200)`, async () => {
      const f = await setUp({ unserved: c.unserved });
      const r = await startReplica(f, "casskeeper-5c8b-d");
      await eventually("the Lease", () => leaseHolder(f) === "casskeeper-5c8b-d", WAIT_MS);
      await eventually("the runner leads", () => logged(r, "runner: leading").length === 1, WAIT_MS);
      const missing = () =>
        logged(r, "resource not served (CRD not installed?); that part of the world stays empty")
          .map((l) => String(l.resource))
          .filter((x) => x === "cassandrabackups.db.orange.com" || x === "cassandrarestores.db.orange.com");
      // The world cache (backups) and the runner (backups and restores) each say so, once.
      await eventually("the missing CRDs noticed", () => missing().length === 3, WAIT_MS);

      assert.equal((await r.client.request("GET", HEALTHZ_PATH)).status, 200);
      assert.equal((await r.client.request("GET", "/readyz")).status, 200);
      assert.equal(f.sidecar.requests.length, 0, "nothing to run, no sidecar called");
      assert.deepEqual(errorsLogged(r), [], r.logs.text());
      assert.equal(await r.stop(), 0);
      assert.equal(missing().length, 3, "logged once each, not per retry");
    });
  }
});

describe("serve --kube --runner: two replicas", { timeout: TEST_TIMEOUT_MS }, () => {
  test("(b) only the leader POSTs; stopping it hands the Lease over and the other runs the next backup", async () => {
    const f = await setUp();
    const a = await startReplica(f, "casskeeper-5c8b-a");
    const b = await startReplica(f, "casskeeper-5c8b-b");
    const byName = new Map([a, b].map((r) => [r.name, r]));
    await eventually("a Lease holder", () => byName.has(leaseHolder(f) ?? ""), WAIT_MS);
    const leader = byName.get(leaseHolder(f) ?? "") as Replica;
    const follower = leader === a ? b : a;
    await eventually("the runner leads", () => logged(leader, "runner: leading").length === 1, WAIT_MS);

    f.api.objects.put(backupObject("orders-first"));
    await completed(f, "orders-first");
    assert.deepEqual(posts(f), [casskopBody("orders-first")], "exactly one POST in total");
    assert.equal(await completedRuns(leader), 1);
    assert.equal(await completedRuns(follower), 0);
    assert.equal(logged(follower, "runner: leading").length, 0);

    // A rolling update stops the leader: it releases the Lease, the other takes it and runs what comes next.
    assert.equal(await leader.stop(), 0);
    await eventually("the follower holds the Lease", () => leaseHolder(f) === follower.name, WAIT_MS);
    await eventually("the follower leads", () => logged(follower, "runner: leading").length === 1, WAIT_MS);
    f.api.objects.put(backupObject("orders-second"));
    await completed(f, "orders-second");

    assert.deepEqual(
      posts(f),
      [casskopBody("orders-first"), casskopBody("orders-second")],
      "the finished backup is not run again by the new leader",
    );
    assert.equal(await completedRuns(follower), 1);
    assert.equal(backupStatus(f, "orders-first").condition?.type, "COMPLETED");
    assert.equal(await follower.stop(), 0);
    assert.equal(leaseHolder(f), "");
    for (const r of [leader, follower]) assert.deepEqual(errorsLogged(r), [], r.logs.text());
  });

  test("(c) --runner with --git-sync: the Lease holder syncs a backup from Git and runs it to COMPLETED", async () => {
    const f = await setUp();
    const git = await startGitServer();
    f.git = git;
    const repo = await createRepo(git, "policies");
    // One one-shot backup (no schedule): as backupObject("orders-git") without status.
    await repo.write(
      "policies/orders.yaml",
      `apiVersion: ${BACKUP_API}
kind: CassandraBackup
metadata:
  name: orders-git
spec:
  cassandraCluster: ${CLUSTER}
  datacenter: dc1
  storageLocation: s3://acme-backups
  snapshotTag: orders-git_0a1b2c3d
  secret: s3-credentials
`,
    );
    const sha = await repo.commit("a one-shot backup");
    await repo.push();
    f.api.objects.put({
      apiVersion: "casskeeper.io/v1alpha1",
      kind: "BackupPolicySource",
      metadata: { namespace: NS, name: "policies", generation: 1 },
      spec: { url: repo.url, ref: { branch: "main" }, path: "policies", interval: "1h" },
    });

    const gitArgs = (name: string) => ["--git-sync", "--git-cache-dir", join(f.dir, `cache-${name}`)];
    for (const name of ["casskeeper-5c8b-a", "casskeeper-5c8b-b"]) await mkdir(join(f.dir, `cache-${name}`));
    const a = await startReplica(f, "casskeeper-5c8b-a", gitArgs("casskeeper-5c8b-a"));
    const b = await startReplica(f, "casskeeper-5c8b-b", gitArgs("casskeeper-5c8b-b"));
    const byName = new Map([a, b].map((r) => [r.name, r]));

    // Git → cluster → sidecar: the object the Git sync applied ends COMPLETED.
    await completed(f, "orders-git");
    const backup = f.api.objects.get(BACKUP_API, "CassandraBackup", NS, "orders-git");
    assert.equal(
      (backup?.metadata as { labels?: Record<string, string> } | undefined)?.labels?.[LABEL_SOURCE_NAME],
      "policies",
    );
    const source = f.api.objects.get("casskeeper.io/v1alpha1", "BackupPolicySource", NS, "policies");
    assert.equal((source?.status as Obj | undefined)?.lastAppliedRevision, `main@sha1:${sha}`);
    assert.equal(backupStatus(f, "orders-git").progress, "100%");
    assert.deepEqual(posts(f), [casskopBody("orders-git")], "exactly one POST, CassKop's body");

    // Both parts ran in the one replica that holds the Lease; the other did neither.
    const leader = byName.get(leaseHolder(f) ?? "") as Replica;
    assert.ok(leader, `Lease holder ${leaseHolder(f)}`);
    const follower = leader === a ? b : a;
    assert.equal(logged(leader, "git sync: leading").length, 1);
    assert.equal(logged(leader, "runner: leading").length, 1);
    assert.equal(logged(follower, "git sync: leading").length, 0);
    assert.equal(logged(follower, "runner: leading").length, 0);
    assert.equal(logged(follower, "synced").length, 0);
    assert.equal(await completedRuns(leader), 1);
    assert.equal(await completedRuns(follower), 0);

    for (const r of [follower, leader]) assert.equal(await r.stop(), 0);
    assert.equal(leaseHolder(f), "");
    for (const r of [leader, follower]) assert.deepEqual(errorsLogged(r), [], r.logs.text());
  });
});
