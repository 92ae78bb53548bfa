// Retention: which runs a `casskeeper.io/retention` removes (pure plan), and end to end after a successful
// scheduled run — remove-backup on icarus 2.0.2, one RetentionUnsupported Warning (ever) on 1.1.0.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { retentionPlan } from "../../src/runner/retention.ts";
import type { HistoryEntry } from "../../src/runner/status.ts";
import { eventually } from "../support/kube-fake-clock.ts";
import {
  annotationsOf,
  backupObject,
  closeAll,
  eventsOf,
  getBackup,
  pollUntil,
  posts,
  restartRunner,
  scheduledBackup,
  settle,
  startWorld,
  statusOf,
  step,
  type World,
  waitEvents,
} from "./runner-world.ts";

afterEach(closeAll);

const DAY = 86_400_000;
const NOW = Date.parse("2030-01-10T12:00:00Z");

function run(tag: string, daysAgo: number, state = "COMPLETED"): HistoryEntry {
  const t = new Date(NOW - daysAgo * DAY).toISOString().replace(/\.\d+Z$/, "Z");
  return { snapshotTag: tag, scheduledTime: t, timeCompleted: t, state };
}

const HISTORY = [run("t5", 1), run("t4", 2, "FAILED"), run("t3", 3), run("t2", 15), run("t1", 30)];

// (case, retention, shared location, history kept by the CRD, the removals)
const PLANS = [
  {
    name: "count 2: the COMPLETED runs beyond the 2 newest, by name",
    retention: { kind: "count", count: 2 },
    shared: false,
    kept: true,
    expect: [{ backupName: "t2" }, { backupName: "t1" }],
  },
  {
    name: "count 10: nothing beyond",
    retention: { kind: "count", count: 10 },
    shared: false,
    kept: true,
    expect: [],
  },
  {
    name: "age 14d, the location is this backup's alone: esop's olderThan",
    retention: { kind: "age", hours: 336 },
    shared: false,
    kept: true,
    expect: [{ kind: "age", hours: 336 }],
  },
  {
    name: "age 14d, a shared location: only this backup's runs older than 14 days, by name",
    retention: { kind: "age", hours: 336 },
    shared: true,
    kept: true,
    expect: [{ backupName: "t2" }, { backupName: "t1" }],
  },
] as const;

for (const c of PLANS) {
  test(`retention plan: ${c.name}`, () => {
    const plan = retentionPlan(c.retention, HISTORY, {
      shared: c.shared,
      historyKept: c.kept,
      now: new Date(NOW),
    });
    assert.deepEqual(plan.targets, c.expect);
    assert.equal(plan.unsupported, undefined);
  });
}

test("retention plan: a count without the history (CassKop's CRD prunes it) cannot be carried out, and says so", () => {
  const plan = retentionPlan({ kind: "count", count: 2 }, [], {
    shared: false,
    historyKept: false,
    now: new Date(NOW),
  });
  assert.deepEqual(plan.targets, []);
  assert.match(plan.unsupported ?? "", /needs status.history, which this CRD prunes/);
});

/** A scheduled backup at 13:00 with `retention`, and three earlier COMPLETED runs in its history. */
function withHistory(w: World, retention: string, extra: Record<string, string> = {}) {
  const since = w.clock.now();
  const tag = (d: number) => `nightly_0a1b2c3d-6f5e9841-4f97-3198-9398-161b445b3954-${since - d * DAY}`;
  return scheduledBackup("nightly", "0 13 * * *", since, {
    annotations: { "casskeeper.io/retention": retention, ...extra },
    status: {
      condition: { type: "COMPLETED" },
      history: [1, 20, 40].map((d) => ({
        snapshotTag: tag(d),
        id: `00000000-0000-0000-0000-00000000000${d % 10}`,
        scheduledTime: new Date(since - d * DAY).toISOString().replace(/\.\d+Z$/, "Z"),
        timeCompleted: new Date(since - d * DAY + 60_000).toISOString(),
        state: "COMPLETED",
      })),
    },
  });
}

async function runAt13(w: World): Promise<void> {
  const before = posts(w).length;
  await step(w, Date.parse("2030-01-10T13:00:00Z") - w.clock.now());
  await eventually("the 13:00 run", () => posts(w).length === before + 1);
  await pollUntil(
    w,
    "completed",
    () => statusOf(getBackup(w, "nightly")).history?.[0]?.state === "COMPLETED",
  );
}

test("count retention on icarus 2.0.2: the runs beyond the newest 2 are removed by name and leave the history", async () => {
  const w = await startWorld({
    start: "2030-01-10T12:40:00Z",
    sidecar: { version: "2.0.2", mode: "auto", autoAfterGets: 2 },
  });
  const b = withHistory(w, "2");
  w.api.objects.put(b);
  const old = (b.status as { history: HistoryEntry[] }).history;
  await runAt13(w);
  await pollUntil(
    w,
    "two removals",
    () => posts(w, "remove-backup").length === 2 && statusOf(getBackup(w, "nightly")).history?.length === 2,
  );
  const bodies = posts(w, "remove-backup").map((r) => (r as { body: Record<string, unknown> }).body);
  assert.deepEqual(
    bodies.map((x) => x.backupName),
    [old[1]?.snapshotTag, old[2]?.snapshotTag],
  );
  assert.deepEqual(bodies[0], {
    type: "remove-backup",
    storageLocation: "s3://acme-backups",
    k8sNamespace: "team-a",
    k8sSecretName: "s3-credentials",
    backupName: old[1]?.snapshotTag,
    resolveNodes: true,
    globalRequest: true,
  });
  const history = statusOf(getBackup(w, "nightly")).history ?? [];
  assert.equal(history[0]?.scheduledTime, "2030-01-10T13:00:00Z");
  assert.equal(history[1]?.snapshotTag, old[0]?.snapshotTag);
  const applied = await waitEvents(w, "RetentionApplied");
  assert.match(String(applied[0]?.message), /^Removed 2 backup\(s\) beyond casskeeper.io\/retention 2: /);
});

// (case, other backups writing to the same location, what remove-backup gets)
const AGE_CASES = [
  {
    name: "the location is its own: esop's olderThan",
    shared: false,
    expect: [{ olderThan: { value: 14, unit: "DAYS" } }],
  },
  { name: "the location is shared: its own runs older than 14 days, by name", shared: true, expect: "names" },
] as const;

for (const c of AGE_CASES) {
  test(`age retention 14d on icarus 2.0.2: ${c.name}`, async () => {
    const w = await startWorld({
      start: "2030-01-10T12:40:00Z",
      sidecar: { version: "2.0.2", mode: "auto", autoAfterGets: 2 },
    });
    if (c.shared) {
      w.api.objects.put(backupObject("other", { status: { condition: { type: "COMPLETED" } } }));
    }
    const b = withHistory(w, "14d");
    w.api.objects.put(b);
    await eventually("seen", () => statusOf(getBackup(w, "nightly")).nextScheduleTime !== undefined);
    await runAt13(w);
    await pollUntil(w, "removals", () => posts(w, "remove-backup").length === (c.shared ? 2 : 1));
    await settle(w);
    const bodies = posts(w, "remove-backup").map((r) => (r as { body: Record<string, unknown> }).body);
    if (c.expect === "names") {
      const old = (b.status as { history: HistoryEntry[] }).history;
      assert.deepEqual(
        bodies.map((x) => x.backupName),
        [old[1]?.snapshotTag, old[2]?.snapshotTag],
      );
      assert.ok(bodies.every((x) => x.olderThan === undefined));
    } else {
      assert.deepEqual(
        bodies.map((x) => ({ olderThan: x.olderThan })),
        c.expect,
      );
      assert.ok(bodies.every((x) => x.backupName === undefined));
    }
  });
}

test("retention on icarus 1.1.0: one RetentionUnsupported Warning, across two runs and a restart", async () => {
  const w = await startWorld({
    start: "2030-01-10T12:40:00Z",
    sidecar: { version: "1.1.0", mode: "auto", autoAfterGets: 2 },
  });
  w.api.objects.put(
    scheduledBackup("nightly", "0 * * * *", w.clock.now(), {
      annotations: { "casskeeper.io/retention": "7" },
    }),
  );
  await eventually("planned", () => statusOf(getBackup(w, "nightly")).nextScheduleTime !== undefined);
  for (const hour of ["13", "14"]) {
    await step(w, Date.parse(`2030-01-10T${hour}:00:00Z`) - w.clock.now());
    await pollUntil(
      w,
      `the ${hour}:00 run completed`,
      () => statusOf(getBackup(w, "nightly")).history?.[0]?.state === "COMPLETED",
    );
    await eventually(
      "the warning remembered",
      () => annotationsOf(getBackup(w, "nightly"))["casskeeper.io/retention-unsupported"] !== undefined,
    );
    if (hour === "13") await restartRunner(w);
  }
  await settle(w);
  const warned = await eventsOf(w, "RetentionUnsupported");
  assert.equal(warned.length, 1);
  assert.equal(warned[0]?.count, 1, "not repeated (an aggregated Event would count 2)");
  assert.match(
    String(warned[0]?.message),
    /^casskeeper.io\/retention 7 is not carried out: the sidecar on orders-dc1-rack1-0 is 1.1.0, and remove-backup needs icarus 2.0.2 or later; use the storage's lifecycle rules instead$/,
  );
  assert.equal(posts(w, "remove-backup").length, 0);
  assert.equal(posts(w).length, 2);
});
