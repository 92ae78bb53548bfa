// The runner end to end, one-shot backups: the API-server double, the sidecar double and the real sidecar
// client, the runner's time on a fake clock. What a user sees: the backup's status (CassKop's shape, as its
// kuttl tests assert it), Events, the sidecar's requests, metrics.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { parseCasskopTime } from "../../src/runner/status.ts";
import { eventually } from "../support/kube-fake-clock.ts";
import {
  backupObject,
  closeAll,
  eventsOf,
  getBackup,
  metric,
  NS,
  ops,
  PODS,
  POLL_MS,
  pollUntil,
  posts,
  settle,
  startWorld,
  statusOf,
  step,
  waitEvents,
} from "./runner-world.ts";

afterEach(closeAll);

test("a one-shot backup runs once and completes: status as CassKop's kuttl assert reads it", async () => {
  const w = await startWorld({ sidecar: { mode: "auto", autoAfterGets: 2 } });
  w.api.objects.put(backupObject("orders-once"));
  await eventually("the backup submitted", () => statusOf(getBackup(w, "orders-once")).id !== undefined);
  await settle(w);
  const submitted = statusOf(getBackup(w, "orders-once"));
  assert.equal(submitted.condition?.type, "PENDING");
  assert.equal(submitted.progress, "0%");
  assert.equal(submitted.coordinatorMember, PODS[0], "random() = 0 picks the first Ready pod by name");

  await step(w, POLL_MS);
  assert.equal(statusOf(getBackup(w, "orders-once")).progress, "50%");
  await pollUntil(
    w,
    "COMPLETED",
    () => statusOf(getBackup(w, "orders-once")).condition?.type === "COMPLETED",
  );

  const s = statusOf(getBackup(w, "orders-once"));
  assert.deepEqual(
    { type: s.condition?.type, progress: s.progress },
    { type: "COMPLETED", progress: "100%" },
  );
  const op = ops(w)[0];
  assert.ok(op);
  assert.equal(s.id, op.id);
  assert.equal(s.timeCreated, op.creationTime);
  assert.equal(s.timeStarted, op.startTime);
  assert.equal(s.timeCompleted, op.completionTime);
  assert.match(
    s.condition?.lastTransitionTime ?? "",
    /^[A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/,
  );
  assert.ok(parseCasskopTime(s.condition?.lastTransitionTime));
  assert.equal(s.condition?.failureCause, undefined);

  // Never again: time passes, the object is edited.
  const before = getBackup(w, "orders-once");
  w.api.objects.put({ ...before, spec: { ...(before?.spec as object), entities: "k1" } });
  await step(w, 60_000);
  assert.equal(posts(w).length, 1, "exactly one POST");

  assert.equal((await eventsOf(w, "BackupStarted")).length, 1);
  const done = await eventsOf(w, "BackupCompleted");
  assert.equal(done.length, 1);
  assert.match(
    String(done[0]?.message),
    new RegExp(`Backup operation ${op.id} on pod ${PODS[0]} was completed`),
  );
  assert.equal(await metric(w, "casskeeper_runner_runs_total", { kind: "backup", result: "completed" }), 1);
  const last = await metric(w, "casskeeper_runner_backup_last_success_timestamp_seconds", {
    name: "orders-once",
  });
  assert.equal(last, Math.floor(Date.parse(op.completionTime as string) / 1000));
});

test("a failing backup: the sidecar's error text in failureCause and in the Warning Event", async () => {
  const w = await startWorld();
  w.sidecar.failHalfway("backup", "Unable to upload some files successfully: data/k1/t1/mc-1-big-Data.db");
  w.api.objects.put(backupObject("orders-once"));
  await eventually("submitted", () => statusOf(getBackup(w, "orders-once")).id !== undefined);
  await settle(w);
  const id = statusOf(getBackup(w, "orders-once")).id as string;
  w.sidecar.advance(id);
  await step(w, POLL_MS);
  assert.deepEqual(
    {
      type: statusOf(getBackup(w, "orders-once")).condition?.type,
      progress: statusOf(getBackup(w, "orders-once")).progress,
    },
    { type: "RUNNING", progress: "50%" },
  );
  w.sidecar.advance(id);
  await step(w, POLL_MS);
  const s = statusOf(getBackup(w, "orders-once"));
  assert.equal(s.condition?.type, "FAILED");
  assert.deepEqual(s.condition?.failureCause, [
    {
      source: w.sidecar.hostname,
      message: "Unable to upload some files successfully: data/k1/t1/mc-1-big-Data.db",
    },
  ]);
  const failed = await eventsOf(w, "BackupFailed");
  assert.equal(failed.length, 1);
  assert.equal(failed[0]?.type, "Warning");
  assert.match(String(failed[0]?.message), /Unable to upload some files successfully: data\/k1\/t1/);
  assert.equal(await metric(w, "casskeeper_runner_runs_total", { kind: "backup", result: "failed" }), 1);
  await step(w, 60_000);
  assert.equal(posts(w).length, 1, "a failed one-shot backup is not run again");
});

test("no Ready pod: BackupNotInitiated and a FAILED status that says why; never retried", async () => {
  const w = await startWorld();
  for (const p of PODS)
    w.api.objects.put({
      ...(w.api.objects.get("v1", "Pod", NS, p) as object),
      status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }] },
    } as never);
  w.api.objects.put(backupObject("orders-once"));
  await eventually("failed", () => statusOf(getBackup(w, "orders-once")).condition?.type === "FAILED");
  const s = statusOf(getBackup(w, "orders-once"));
  assert.match(
    s.condition?.failureCause?.[0]?.message ?? "",
    /No Ready pod found in datacenter dc1 of cluster orders/,
  );
  assert.equal(s.condition?.failureCause?.[0]?.source, "casskeeper");
  assert.equal((await waitEvents(w, "BackupNotInitiated")).length, 1);
  await step(w, 60_000);
  assert.equal(posts(w).length, 0);
});

test("a CRD with a status subresource after all: noticed at the first write, status goes through /status", async () => {
  const w = await startWorld({ statusSubresource: true, sidecar: { mode: "auto", autoAfterGets: 2 } });
  w.api.objects.put(backupObject("orders-once"));
  await eventually("submitted", () => statusOf(getBackup(w, "orders-once")).id !== undefined);
  await pollUntil(
    w,
    "COMPLETED",
    () => statusOf(getBackup(w, "orders-once")).condition?.type === "COMPLETED",
  );
  assert.equal(posts(w).length, 1);
  assert.ok(w.logger.lines.some((l) => l.level === "warn" && /status subresource/.test(l.msg ?? "")));
  assert.ok(w.api.requests.some((r) => r.subresource === "status" && r.wrote));
});

test("many runs at once: one poll timer for all of them, every one followed to its end", async () => {
  const w = await startWorld({ sidecar: { threads: 100 } });
  const idleTimers = w.clock.waiting;
  const names = Array.from({ length: 60 }, (_, i) => `once-${String(i).padStart(2, "0")}`);
  for (const n of names) w.api.objects.put(backupObject(n, { snapshotTag: `${n}_0a1b2c3d` }));
  await eventually(
    "all submitted",
    () => names.every((n) => statusOf(getBackup(w, n)).id !== undefined),
    20_000,
  );
  await settle(w);
  assert.ok(
    w.clock.waiting <= idleTimers + 1,
    `timers: ${w.clock.waiting} with 60 runs, ${idleTimers} without`,
  );
  for (const o of ops(w)) w.sidecar.complete(o.id);
  await step(w, POLL_MS);
  assert.deepEqual(
    names.filter((n) => statusOf(getBackup(w, n)).condition?.type !== "COMPLETED"),
    [],
  );
  assert.equal(posts(w).length, 60);
  assert.equal(await metric(w, "casskeeper_runner_running", { kind: "backup" }), 0);
});

test("a request the sidecar refuses (icarus 1.x takes no `duration`): three tries, then FAILED with its answer", async () => {
  const w = await startWorld();
  const b = backupObject("orders-once");
  w.api.objects.put({ ...b, spec: { ...(b.spec as object), duration: "15m" } });
  await eventually("the first POST", () => posts(w).length >= 1);
  for (let i = 0; i < 10 && statusOf(getBackup(w, "orders-once")).condition?.type === "PENDING"; i++)
    await step(w, 1_000);
  const s = statusOf(getBackup(w, "orders-once"));
  assert.equal(s.condition?.type, "FAILED");
  assert.match(
    s.condition?.failureCause?.[0]?.message ?? "",
    /^the sidecar on orders-dc1-rack1-0 refused the backup: sidecar POST \/operations: HTTP 500: /,
  );
  assert.equal(posts(w).length, 3);
  assert.equal(ops(w).length, 0);
  assert.equal(
    w.sidecar.requests.filter((r) => r.method === "GET" && r.path === "/operations?type=backup").length,
    3,
    "each refusal checked: nothing was created",
  );
  // the first failure is in the log at once, not only when the run gives up
  const warned = w.logger.lines.filter(
    (l) => l.level === "warn" && l.msg === "sidecar call failed; retrying",
  );
  assert.equal(warned.length, 1);
});
