// Regressions found in review, end to end in the runner's world (API-server double, sidecar double, fake
// clock): an API blip that costs a final status write and the Lease at once, and a scheduled run whose record
// could not be written at its fire time.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { eventually } from "../support/kube-fake-clock.ts";
import {
  annotationsOf,
  backupObject,
  closeAll,
  eventsOf,
  getBackup,
  POLL_MS,
  pollUntil,
  posts,
  scheduledBackup,
  settle,
  startWorld,
  statusOf,
  step,
  type World,
} from "./runner-world.ts";

afterEach(closeAll);

const BACKUPS = "cassandrabackups.db.orange.com";

const condition = (w: World, name: string) => statusOf(getBackup(w, name)).condition?.type;

test("the final status write fails and leadership goes with it: the next term in the same process finishes the run", async () => {
  const w = await startWorld();
  w.api.objects.put(backupObject("orders-once"));
  await eventually("the operation id recorded", () => statusOf(getBackup(w, "orders-once")).id !== undefined);
  await settle(w);
  const id = statusOf(getBackup(w, "orders-once")).id as string;

  // The poll sees COMPLETED; the write of the final status fails (an API blip that also cost the Lease).
  w.sidecar.complete(id);
  w.api.failNext(1, { status: 500, verb: "patch", resource: BACKUPS });
  await step(w, POLL_MS);
  assert.equal(condition(w, "orders-once"), "PENDING", "the final write did not land");
  w.leader.abort();
  await settle(w);

  // Leading again in the same process: the run is read from the object again, not remembered as done.
  w.leader = new AbortController();
  w.runner.lead(w.leader.signal);
  await pollUntil(w, "COMPLETED after the new term", () => condition(w, "orders-once") === "COMPLETED");
  const s = statusOf(getBackup(w, "orders-once"));
  assert.deepEqual([s.id, s.progress], [id, "100%"]);
  assert.equal(posts(w).length, 1, "followed, not run again");
});

test("a scheduled run whose record PATCH fails at its fire time: retried within minutes, one POST for the instant", async () => {
  const w = await startWorld({ start: "2030-01-10T12:00:00Z", sidecar: { mode: "auto", autoAfterGets: 2 } });
  w.api.objects.put(scheduledBackup("hourly", "0 * * * *", w.clock.now()));
  await eventually(
    "planned",
    () => statusOf(getBackup(w, "hourly")).nextScheduleTime === "2030-01-10T13:00:00Z",
  );
  await settle(w);

  w.api.failNext(1, { status: 500, verb: "patch", resource: BACKUPS });
  await step(w, Date.parse("2030-01-10T13:00:00Z") - w.clock.now());
  assert.equal(posts(w).length, 0, "the record failed: nothing was sent to the sidecar");
  assert.equal(
    annotationsOf(getBackup(w, "hourly"))["casskeeper.io/last-schedule-time"],
    "2030-01-10T12:00:00Z",
    "the 13:00 instant is not recorded as started",
  );

  for (let i = 0; i < 5 && posts(w).length === 0; i++) await step(w, 60_000);
  assert.equal(posts(w).length, 1, "the 13:00 instant ran once, a few minutes late");
  const s = statusOf(getBackup(w, "hourly"));
  assert.equal(s.lastScheduleTime, "2030-01-10T13:00:00Z");
  assert.equal(s.history?.[0]?.scheduledTime, "2030-01-10T13:00:00Z");
  assert.equal(s.nextScheduleTime, "2030-01-10T14:00:00Z");
  assert.deepEqual(await eventsOf(w, "BackupMissed"), [], "a retry, not a missed run");
  await pollUntil(w, "completed", () => condition(w, "hourly") === "COMPLETED");
  await step(w, 10 * 60_000);
  assert.equal(posts(w).length, 1, "not run twice");
});
