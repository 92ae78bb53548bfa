// CassandraRestores end to end: REQUIRED (recorded before the sidecar is called) → the sidecar's states →
// COMPLETED, FAILED or CANCELLED, exactly once across restarts; a missing backup retried with backoff.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { eventually } from "../support/kube-fake-clock.ts";
import {
  backupObject,
  closeAll,
  eventsOf,
  getRestore,
  ops,
  PODS,
  POLL_MS,
  posts,
  restartRunner,
  restoreObject,
  settle,
  startWorld,
  statusOf,
  step,
  type World,
  waitEvents,
} from "./runner-world.ts";

afterEach(closeAll);

/** A backup that ran (one-shot and COMPLETED): the runner leaves it alone. */
function ranBackup(name: string, o: { datacenter?: string } = {}) {
  return backupObject(name, { ...o, status: { condition: { type: "COMPLETED" }, progress: "100%" } });
}

const state = (w: World) => statusOf(getRestore(w, "restore-1")).condition?.type;

test("a restore: REQUIRED is recorded first, then RUNNING with progress, then COMPLETED; exactly once across a restart", async () => {
  const w = await startWorld({ objects: [ranBackup("orders-nightly")] });
  // The POST never arrives: what is visible meanwhile is the record alone.
  w.sidecar.hangNext(1, { method: "POST" });
  w.api.objects.put(restoreObject("restore-1", "orders-nightly"));
  await eventually("the POST sent", () => posts(w, "restore").length === 1);
  const recorded = statusOf(getRestore(w, "restore-1"));
  assert.equal(recorded.condition?.type, "REQUIRED");
  assert.equal(recorded.coordinatorMember, PODS[0]);
  assert.equal(recorded.id, undefined);
  assert.equal((await waitEvents(w, "RestoreRequired")).length, 1);

  // The runner stops there; the next one looks the operation up (not there) and POSTs it.
  await restartRunner(w);
  await eventually("submitted", () => statusOf(getRestore(w, "restore-1")).id !== undefined);
  await settle(w);
  const id = statusOf(getRestore(w, "restore-1")).id as string;
  assert.equal(ops(w, "restore").length, 1);
  const body = posts(w, "restore")[1] as { body: Record<string, unknown> };
  assert.deepEqual(
    {
      restorationPhase: body.body.restorationPhase,
      restorationStrategyType: body.body.restorationStrategyType,
      globalRequest: body.body.globalRequest,
      snapshotTag: body.body.snapshotTag,
      storageLocation: body.body.storageLocation,
    },
    {
      restorationPhase: "INIT",
      restorationStrategyType: "HARDLINKS",
      globalRequest: true,
      snapshotTag: "orders-nightly_0a1b2c3d",
      storageLocation: "s3://acme-backups",
    },
  );

  w.sidecar.start(id);
  w.sidecar.setProgress(id, 0.25);
  await step(w, POLL_MS);
  assert.deepEqual([state(w), statusOf(getRestore(w, "restore-1")).progress], ["RUNNING", "25%"]);
  w.sidecar.complete(id);
  await step(w, POLL_MS);
  assert.deepEqual([state(w), statusOf(getRestore(w, "restore-1")).progress], ["COMPLETED", "100%"]);
  assert.equal((await waitEvents(w, "RestoreCompleted")).length, 1);
  assert.equal((await eventsOf(w, "RestoreStarted")).length, 1);

  await restartRunner(w);
  await settle(w);
  await step(w, 10 * 60_000);
  assert.equal(posts(w, "restore").length, 2, "one hung POST and one that arrived: never a third");
  assert.equal(ops(w, "restore").length, 1);
});

// (how the sidecar ends the restore, the condition written, the Event)
const ENDINGS = [
  { end: "FAILED", expect: "FAILED", event: /has failed: .*Keyspace k9 is not in manifest!/ },
  { end: "CANCELLED", expect: "CANCELLED", event: /has failed: the operation was cancelled$/ },
] as const;

for (const c of ENDINGS) {
  test(`a restore the sidecar ends ${c.end}: condition ${c.expect}, a RestoreFailed Warning, never run again`, async () => {
    const w = await startWorld({ objects: [ranBackup("orders-nightly")] });
    w.api.objects.put(restoreObject("restore-1", "orders-nightly"));
    await eventually("submitted", () => statusOf(getRestore(w, "restore-1")).id !== undefined);
    await settle(w);
    const id = statusOf(getRestore(w, "restore-1")).id as string;
    w.sidecar.start(id);
    if (c.end === "FAILED") w.sidecar.fail(id, "Keyspace k9 is not in manifest!");
    else w.sidecar.advance(id, { state: "CANCELLED" });
    await step(w, POLL_MS);
    assert.equal(state(w), c.expect);
    const failed = await waitEvents(w, "RestoreFailed");
    assert.equal(failed[0]?.type, "Warning");
    assert.match(String(failed[0]?.message), c.event);
    await restartRunner(w);
    await step(w, 10 * 60_000);
    assert.equal(posts(w, "restore").length, 1);
  });
}

test("a restore of a backup that does not exist yet: BackupNotFound, retried with backoff until it does", async () => {
  const w = await startWorld();
  w.api.objects.put(restoreObject("restore-1", "orders-nightly"));
  const first = await waitEvents(w, "BackupNotFound");
  assert.match(
    String(first[0]?.message),
    /^Backup orders-nightly to restore not found in namespace team-a; trying again in 15 s$/,
  );
  await step(w, 15_000);
  const second = await waitEvents(w, "BackupNotFound", 2);
  assert.match(String(second.at(-1)?.message), /trying again in 30 s$/);
  w.api.objects.put(ranBackup("orders-nightly"));
  await settle(w);
  assert.equal(posts(w, "restore").length, 0, "waits for its retry");
  for (let i = 0; i < 5 && statusOf(getRestore(w, "restore-1")).id === undefined; i++)
    await step(w, 30_000 * 2 ** i);
  assert.ok(statusOf(getRestore(w, "restore-1")).id);
  assert.equal(posts(w, "restore").length, 1);
});

test("the coordinator comes from the BACKUP's datacenter (CassKop), not the restore's", async () => {
  const w = await startWorld({ objects: [ranBackup("orders-nightly", { datacenter: "dc2" })] });
  w.api.objects.put({
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: "team-a",
      name: "orders-dc2-rack1-0",
      labels: {
        app: "cassandracluster",
        cassandracluster: "orders",
        "cassandraclusters.db.orange.com.dc": "dc2",
      },
    },
    spec: { hostname: "orders-dc2-rack1-0", subdomain: "orders-dc2" },
    status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
  });
  w.api.objects.put(restoreObject("restore-1", "orders-nightly"));
  await eventually("recorded", () => statusOf(getRestore(w, "restore-1")).coordinatorMember !== undefined);
  assert.equal(statusOf(getRestore(w, "restore-1")).coordinatorMember, "orders-dc2-rack1-0");
});

test("a restore into a cluster that does not exist: CassandraClusterNotFound, retried, nothing sent", async () => {
  const w = await startWorld({ objects: [ranBackup("orders-nightly")] });
  w.api.objects.put({
    ...restoreObject("restore-1", "orders-nightly"),
    spec: { cassandraCluster: "payments", cassandraBackup: "orders-nightly" },
  });
  const warned = await waitEvents(w, "CassandraClusterNotFound");
  assert.match(
    String(warned[0]?.message),
    /^Cassandra Cluster payments to restore not found; trying again in 15 s$/,
  );
  await step(w, 15_000);
  await waitEvents(w, "CassandraClusterNotFound", 2);
  assert.equal(posts(w, "restore").length, 0);
  assert.equal(statusOf(getRestore(w, "restore-1")).condition, undefined, "not started: nothing recorded");
});
