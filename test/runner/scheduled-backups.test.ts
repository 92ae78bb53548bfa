// Scheduled backups end to end: robfig fire times on the runner's fake clock (DST days with CRON_TZ), the
// catch-up after downtime (at most one, within the starting deadline), the concurrency policy, a schedule
// edited, a backup deleted while its run is in flight.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { eventually } from "../support/kube-fake-clock.ts";
import {
  annotationsOf,
  closeAll,
  eventsOf,
  getBackup,
  metric,
  NS,
  ops,
  POLL_MS,
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

/** Moves the clock to `iso` (forward), then waits for what that woke up. */
async function at(w: World, iso: string): Promise<void> {
  const target = Date.parse(iso);
  assert.ok(target >= w.clock.now(), `${iso} is not in the past`);
  await step(w, target - w.clock.now());
}

/** Polls the running operation of `name` to its end (the sidecar double completes at the 2nd GET). */
async function finish(w: World, name: string): Promise<void> {
  await pollUntil(w, `${name} completed`, () => statusOf(getBackup(w, name)).condition?.type === "COMPLETED");
}

// (case, schedule, clock start, the fire times in UTC robfig gives, in order)
const DST_CASES = [
  {
    name: "spring forward in Paris: 02:30 does not exist on 31 March 2030, so no run that day",
    schedule: "CRON_TZ=Europe/Paris 30 2 * * *",
    start: "2030-03-29T12:00:00Z",
    fires: ["2030-03-30T01:30:00Z", "2030-04-01T00:30:00Z"],
  },
  {
    name: "fall back in Paris: 02:30 happens twice on 27 October 2030, so two runs an hour apart",
    schedule: "CRON_TZ=Europe/Paris 30 2 * * *",
    start: "2030-10-25T12:00:00Z",
    fires: ["2030-10-26T00:30:00Z", "2030-10-27T00:30:00Z", "2030-10-27T01:30:00Z", "2030-10-28T01:30:00Z"],
  },
  {
    name: "no prefix: UTC, whatever the runner's zone",
    schedule: "0 3 * * *",
    start: "2030-03-29T12:00:00Z",
    fires: ["2030-03-30T03:00:00Z", "2030-03-31T03:00:00Z"],
  },
];

for (const c of DST_CASES) {
  test(`fires at robfig's times: ${c.name}`, async () => {
    const w = await startWorld({ start: c.start, sidecar: { mode: "auto", autoAfterGets: 2 } });
    w.api.objects.put(scheduledBackup("nightly", c.schedule, w.clock.now()));
    await eventually("planned", () => statusOf(getBackup(w, "nightly")).nextScheduleTime === c.fires[0]);
    for (const [i, fire] of c.fires.entries()) {
      await at(w, new Date(Date.parse(fire) - 1000).toISOString());
      assert.equal(posts(w).length, i, `nothing before ${fire}`);
      await at(w, fire);
      await eventually(`the run due at ${fire}`, () => posts(w).length === i + 1);
      await settle(w);
      const s = statusOf(getBackup(w, "nightly"));
      assert.equal(s.lastScheduleTime, fire);
      assert.equal(s.history?.[0]?.scheduledTime, fire);
      assert.equal(annotationsOf(getBackup(w, "nightly"))["casskeeper.io/last-schedule-time"], fire);
      if (i + 1 < c.fires.length) assert.equal(s.nextScheduleTime, c.fires[i + 1]);
      await finish(w, "nightly");
    }
    const s = statusOf(getBackup(w, "nightly"));
    assert.deepEqual(
      s.history?.map((h) => [h.scheduledTime, h.state]),
      [...c.fires].reverse().map((f) => [f, "COMPLETED"]),
      "history: newest first, one entry per run",
    );
    assert.equal(posts(w).length, c.fires.length);
  });
}

// (case, starting deadline annotation, the instant that runs as the catch-up or none)
const DOWNTIME_CASES = [
  {
    name: "no deadline: one catch-up run for the most recent instant",
    deadline: undefined,
    runs: "2030-01-10T12:00:00Z",
  },
  {
    name: "deadline 3600 s, the instant 20 min old: it runs",
    deadline: "3600",
    runs: "2030-01-10T12:00:00Z",
  },
  {
    name: "deadline 600 s, the instant 20 min old: too late, nothing runs",
    deadline: "600",
    runs: undefined,
  },
];

for (const c of DOWNTIME_CASES) {
  test(`runs missed during downtime: ${c.name}; a restart adds nothing`, async () => {
    // The last run was at 06:00; nobody led until 12:20: six hourly instants (07:00 … 12:00) passed.
    const last = Date.parse("2030-01-10T06:00:00Z");
    const backup = scheduledBackup("hourly", "0 * * * *", last, {
      annotations: c.deadline === undefined ? {} : { "casskeeper.io/starting-deadline-seconds": c.deadline },
    });
    const w = await startWorld({
      start: "2030-01-10T12:20:00Z",
      sidecar: { mode: "auto", autoAfterGets: 2 },
      objects: [backup],
    });
    await settle(w);
    if (c.runs === undefined) {
      await eventually(
        "the missed instant recorded",
        () =>
          annotationsOf(getBackup(w, "hourly"))["casskeeper.io/last-schedule-time"] ===
          "2030-01-10T12:00:00Z",
      );
      assert.equal(posts(w).length, 0);
      const missed = await eventsOf(w, "BackupMissed");
      assert.equal(missed.length, 1);
      assert.match(String(missed[0]?.message), /past its starting deadline of 600 s/);
    } else {
      await eventually("the catch-up run", () => posts(w).length === 1);
      await settle(w);
      assert.equal(statusOf(getBackup(w, "hourly")).lastScheduleTime, c.runs);
      await finish(w, "hourly");
      const missed = await eventsOf(w, "BackupMissed");
      assert.match(
        String(missed[0]?.message),
        /^5 scheduled run\(s\) missed .* running the one due at 2030-01-10T12:00:00Z once$/,
      );
    }
    await restartRunner(w);
    await settle(w);
    await step(w, 60_000);
    assert.equal(posts(w).length, c.runs === undefined ? 0 : 1, "no second catch-up after a restart");
    await at(w, "2030-01-10T13:00:00Z");
    await eventually("the 13:00 run", () => posts(w).length === (c.runs === undefined ? 1 : 2));
    await settle(w);
    assert.equal(statusOf(getBackup(w, "hourly")).lastScheduleTime, "2030-01-10T13:00:00Z");
  });
}

// (policy annotation of the second backup, POSTs when both are due, whether it was skipped)
const OVERLAP_CASES = [
  { policy: undefined, name: "Forbid (the default) skips the run", runs: 1 },
  { policy: "Forbid", name: "Forbid skips the run", runs: 1 },
  { policy: "Allow", name: "Allow runs both at once", runs: 2 },
];

for (const c of OVERLAP_CASES) {
  test(`overlapping runs on one cluster and datacenter: ${c.name}`, async () => {
    const w = await startWorld({ start: "2030-01-10T12:40:00Z" });
    const since = w.clock.now();
    w.api.objects.put(scheduledBackup("full", "0 * * * *", since));
    w.api.objects.put(
      scheduledBackup("hourly-k1", "30 * * * *", since, {
        annotations: c.policy === undefined ? {} : { "casskeeper.io/concurrency-policy": c.policy },
      }),
    );
    await eventually("planned", () => statusOf(getBackup(w, "hourly-k1")).nextScheduleTime !== undefined);
    await at(w, "2030-01-10T13:00:00Z");
    await eventually("full started", () => posts(w).length === 1);
    await settle(w);
    // The sidecar holds it (PENDING): still running at 13:30.
    await at(w, "2030-01-10T13:30:00Z");
    await settle(w);
    assert.equal(posts(w).length, c.runs);
    const skipped = await eventsOf(w, "BackupSkipped");
    if (c.runs === 1) {
      assert.equal(skipped.length, 1);
      assert.equal(skipped[0]?.type, "Warning");
      assert.equal((skipped[0]?.involvedObject as { name?: string } | undefined)?.name, "hourly-k1");
      assert.match(
        String(skipped[0]?.message),
        /^Run due at 2030-01-10T13:30:00Z skipped: backup full of the same cluster and datacenter is running \(operation [0-9a-f-]+\) and the concurrency policy is Forbid$/,
      );
      assert.equal(await metric(w, "casskeeper_runner_runs_total", { kind: "backup", result: "skipped" }), 1);
      assert.equal(
        annotationsOf(getBackup(w, "hourly-k1"))["casskeeper.io/last-schedule-time"],
        "2030-01-10T13:30:00Z",
        "a skipped instant is decided: a restart does not run it as a catch-up",
      );
    } else {
      assert.equal(skipped.length, 0);
      assert.equal(statusOf(getBackup(w, "hourly-k1")).condition?.type, "PENDING");
    }
    // Either way, a backup never overlaps itself: `full` is still running at 14:00.
    await at(w, "2030-01-10T14:00:00Z");
    const own = (await eventsOf(w, "BackupSkipped")).filter(
      (e) => (e.involvedObject as { name?: string }).name === "full",
    );
    assert.equal(own.length, 1);
    assert.match(String(own[0]?.message), /its previous run \(operation [0-9a-f-]+\) is still running/);
    assert.equal(posts(w).length, c.runs);
    // once `full` has ended, its status shows the next fire again (14:00 was skipped while it ran); before, it
    // kept showing 14:00 until the 15:00 fire
    w.sidecar.complete(String(w.sidecar.operations()[0]?.id));
    await eventually("full's next fire time after it ended", () => {
      if (statusOf(getBackup(w, "full")).nextScheduleTime === "2030-01-10T15:00:00Z") return true;
      w.clock.advance(1_000);
      return false;
    });
  });
}

test("a backup without a datacenter conflicts with every datacenter of its cluster", async () => {
  const w = await startWorld({ start: "2030-01-10T12:40:00Z" });
  const since = w.clock.now();
  w.api.objects.put(scheduledBackup("whole-cluster", "0 * * * *", since, { datacenter: "" }));
  w.api.objects.put(scheduledBackup("dc1-only", "30 * * * *", since));
  await eventually("planned", () => statusOf(getBackup(w, "dc1-only")).nextScheduleTime !== undefined);
  await at(w, "2030-01-10T13:00:00Z");
  await eventually("started", () => posts(w).length === 1);
  await at(w, "2030-01-10T13:30:00Z");
  assert.equal(posts(w).length, 1);
  assert.equal((await eventsOf(w, "BackupSkipped")).length, 1);
});

test("a schedule edited: re-planned at once, the old fire time is gone", async () => {
  const w = await startWorld({ start: "2030-01-10T12:00:00Z", sidecar: { mode: "auto", autoAfterGets: 2 } });
  w.api.objects.put(scheduledBackup("hourly", "0 * * * *", w.clock.now()));
  await eventually(
    "planned",
    () => statusOf(getBackup(w, "hourly")).nextScheduleTime === "2030-01-10T13:00:00Z",
  );
  await step(w, 5 * 60_000);
  const b = getBackup(w, "hourly");
  w.api.objects.put({ ...b, spec: { ...(b?.spec as object), schedule: "15 * * * *" } });
  await eventually(
    "re-planned",
    () => statusOf(getBackup(w, "hourly")).nextScheduleTime === "2030-01-10T12:15:00Z",
  );
  await at(w, "2030-01-10T12:15:00Z");
  await eventually("the 12:15 run", () => posts(w).length === 1);
  await finish(w, "hourly");
  await at(w, "2030-01-10T13:00:00Z");
  assert.equal(posts(w).length, 1, "the old schedule's 13:00 does not fire");
});

test("an invalid schedule: one Warning Event, nothing runs", async () => {
  const w = await startWorld({ start: "2030-01-10T12:00:00Z" });
  w.api.objects.put(scheduledBackup("bad", "CRON_TZ=Mars/Olympus 0 * * * *", w.clock.now()));
  await waitEvents(w, "BackupInvalidSchedule");
  await step(w, 3 * 3_600_000);
  const warned = await eventsOf(w, "BackupInvalidSchedule");
  assert.equal(warned.length, 1);
  assert.match(String(warned[0]?.message), /^Schedule CRON_TZ=Mars\/Olympus 0 \* \* \* \* is not valid: /);
  assert.equal(posts(w).length, 0);
});

test("a backup deleted while its run is in flight: polling stops, the sidecar's operation is left alone", async () => {
  const w = await startWorld({ start: "2030-01-10T12:00:00Z" });
  w.api.objects.put(scheduledBackup("hourly", "0 * * * *", w.clock.now()));
  await eventually("planned", () => statusOf(getBackup(w, "hourly")).nextScheduleTime !== undefined);
  await at(w, "2030-01-10T13:00:00Z");
  await eventually("started", () => statusOf(getBackup(w, "hourly")).id !== undefined);
  await step(w, POLL_MS);
  w.api.objects.remove("db.orange.com/v1alpha1", "CassandraBackup", NS, "hourly");
  await waitEvents(w, "BackupUntracked");
  await settle(w);
  const gets = w.sidecar.requests.filter((r) => r.method === "GET").length;
  await step(w, 10 * POLL_MS);
  await at(w, "2030-01-10T14:00:00Z");
  assert.equal(w.sidecar.requests.filter((r) => r.method === "GET").length, gets, "no more polls");
  assert.equal(w.sidecar.requests.filter((r) => r.method === "DELETE").length, 0, "not cancelled");
  assert.equal(posts(w).length, 1, "unscheduled");
  assert.equal(ops(w)[0]?.state, "PENDING");
  const untracked = await eventsOf(w, "BackupUntracked");
  assert.equal(untracked.length, 1);
  assert.match(String(untracked[0]?.message), /the sidecar finishes it unobserved/);
});
