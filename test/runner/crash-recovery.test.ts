// Crash safety end to end: a runner restarted in the middle of a backup, one that stopped between the record
// and the sidecar's answer, leadership lost mid-run, a sidecar that fails or stops answering while it is
// polled, and an operation the sidecar forgot. The invariant everywhere: one backup, one operation.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import type { CassandraBackup } from "../../src/core/types.ts";
import { backupRequest } from "../../src/runner/requests.ts";
import { createSidecarClient } from "../../src/runner/sidecar-client.ts";
import { casskopTime } from "../../src/runner/status.ts";
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
  restartRunner,
  settle,
  startWorld,
  statusOf,
  step,
  type World,
  waitEvents,
} from "./runner-world.ts";

afterEach(closeAll);

const completed = (w: World) => statusOf(getBackup(w, "orders-once")).condition?.type === "COMPLETED";

async function submitted(w: World): Promise<string> {
  await eventually("the operation id recorded", () => statusOf(getBackup(w, "orders-once")).id !== undefined);
  await settle(w);
  return statusOf(getBackup(w, "orders-once")).id as string;
}

test("restarted in the middle of a backup: the new runner polls the same operation; one POST in all", async () => {
  const w = await startWorld();
  w.api.objects.put(backupObject("orders-once"));
  const id = await submitted(w);
  w.sidecar.start(id);
  w.sidecar.setProgress(id, 0.3);
  await step(w, POLL_MS);
  assert.deepEqual(
    [statusOf(getBackup(w, "orders-once")).condition?.type, statusOf(getBackup(w, "orders-once")).progress],
    ["RUNNING", "30%"],
  );

  await restartRunner(w);
  await settle(w);
  w.sidecar.complete(id);
  await pollUntil(w, "completed", () => completed(w));
  assert.equal(statusOf(getBackup(w, "orders-once")).id, id);
  assert.equal(posts(w).length, 1, "the sidecar saw exactly one POST");
  assert.equal(ops(w).length, 1);
  assert.equal((await eventsOf(w, "BackupCompleted")).length, 1);
});

test("stopped while the POST was on its way (it never arrived): the next runner finds nothing and POSTs once", async () => {
  const w = await startWorld();
  w.sidecar.hangNext(1, { method: "POST" });
  w.api.objects.put(backupObject("orders-once"));
  await eventually("the POST sent", () => posts(w).length === 1);
  const recorded = statusOf(getBackup(w, "orders-once"));
  assert.equal(recorded.condition?.type, "PENDING", "recorded before the sidecar was called");
  assert.equal(recorded.coordinatorMember, PODS[0]);
  assert.equal(recorded.id, undefined);

  await restartRunner(w);
  const id = await submitted(w);
  assert.equal(ops(w).length, 1, "one operation on the sidecar");
  assert.equal(ops(w)[0]?.id, id);
  assert.ok(
    w.sidecar.requests.some((r) => r.method === "GET" && r.path === "/operations?type=backup"),
    "looked it up before POSTing again",
  );
  w.sidecar.complete(id);
  await pollUntil(w, "completed", () => completed(w));
});

test("the POST's answer lost (the connection cut after the sidecar took it): found in the list, adopted", async () => {
  const w = await startWorld();
  w.sidecar.loseNext(1, { method: "POST" });
  w.api.objects.put(backupObject("orders-once"));
  const id = await submitted(w);
  assert.equal(posts(w).length, 1, "not POSTed again");
  assert.deepEqual(
    ops(w).map((o) => o.id),
    [id],
  );
  const started = await waitEvents(w, "BackupStarted");
  assert.match(
    String(started[0]?.message),
    new RegExp(`found running on pod ${PODS[0]} after a restart \\(operation ${id}\\)`),
  );
});

/** A run recorded by hand, as a runner that stopped right after its record would have left it. */
function recordedBackup(at: number): Record<string, unknown> {
  return backupObject("orders-once", {
    status: {
      condition: { type: "PENDING", lastTransitionTime: casskopTime(new Date(at)) },
      coordinatorMember: PODS[1],
    },
  });
}

// (case, operations already on the sidecar relative to the record, whether the runner must POST)
const RECORDED_CASES = [
  {
    name: "the POST went through: its operation is adopted, nothing is POSTed",
    before: [] as number[],
    after: [5_000],
    posts: 0,
  },
  { name: "the POST never happened: POSTed now, once", before: [], after: [], posts: 1 },
  {
    name: "only a previous run's operation, finished before the record: not mistaken for this one",
    before: [-3_600_000],
    after: [],
    posts: 1,
  },
];

for (const c of RECORDED_CASES) {
  test(`a record without an operation id: ${c.name}`, async () => {
    const start = Date.parse("2030-01-10T12:00:00Z");
    const w = await startWorld({ start: "2030-01-10T10:00:00Z", follower: true });
    const client = createSidecarClient({ baseUrl: w.sidecar.url, retries: 0 });
    const request = backupRequest(backupObject("orders-once") as CassandraBackup, NS);
    const existing: string[] = [];
    for (const offset of [...c.before, ...c.after]) {
      w.clock.advance(start + offset - w.clock.now());
      const op = await client.submit(request);
      if (offset < 0) w.sidecar.complete(op.id);
      existing.push(op.id);
    }
    w.clock.advance(start + 10_000 - w.clock.now());
    w.api.objects.put(recordedBackup(start));
    await eventually("seen", () => getBackup(w, "orders-once") !== undefined);
    await settle(w);
    const before = posts(w).length;
    w.runner.lead(w.leader.signal);
    await eventually(
      "an operation id recorded",
      () => statusOf(getBackup(w, "orders-once")).id !== undefined,
    );
    await settle(w);
    assert.equal(posts(w).length - before, c.posts);
    const s = statusOf(getBackup(w, "orders-once"));
    if (c.after.length > 0) assert.equal(s.id, existing[existing.length - 1]);
    else assert.ok(!existing.includes(s.id as string));
    assert.equal(s.coordinatorMember, PODS[1], "on the recorded coordinator");
    assert.equal(w.addressed.at(-1)?.name, PODS[1]);
  });
}

test("leadership lost mid-run: no more sidecar calls, no more writes; the next leader finishes it", async () => {
  const w = await startWorld();
  w.api.objects.put(backupObject("orders-once"));
  const id = await submitted(w);
  w.sidecar.start(id);
  // A poll is on its way when leadership goes: it is aborted, and nothing is written after.
  w.sidecar.hangNext(1, { method: "GET" });
  w.clock.advance(POLL_MS);
  await eventually("the poll sent", () => w.sidecar.requests.filter((r) => r.method === "GET").length === 1);
  w.leader.abort();
  await settle(w);
  const requests = w.sidecar.requests.length;
  const writes = w.api.writes("cassandrabackups.db.orange.com");
  await step(w, 10 * 60_000);
  assert.equal(w.sidecar.requests.length, requests, "no sidecar request after leadership was lost");
  assert.equal(w.api.writes("cassandrabackups.db.orange.com"), writes, "no status write either");
  assert.equal(statusOf(getBackup(w, "orders-once")).condition?.type, "PENDING");

  w.leader = new AbortController();
  w.runner.lead(w.leader.signal);
  await settle(w);
  w.sidecar.complete(id);
  await pollUntil(w, "completed", () => completed(w));
  assert.equal(posts(w).length, 1);
});

/** One poll: the tick, the GET, and when the sidecar holds it, the client's 5 s deadline. */
async function pollOnce(w: World): Promise<void> {
  const gets = () => w.sidecar.requests.filter((r) => r.method === "GET").length;
  const before = gets();
  w.clock.advance(POLL_MS);
  await eventually("the poll sent", () => gets() > before);
  const idle = await Promise.race([
    w.runner.idle().then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 100)),
  ]);
  if (!idle) w.clock.advance(5_000); // held by the sidecar: the client's deadline
  await settle(w);
}

// (case, what the sidecar does while polled, the outcome)
const POLL_FAULTS = [
  {
    name: "500 for three polls, then answers: the run goes on",
    fault: (w: World) =>
      w.sidecar.failNext(3, 500, "java.lang.IllegalStateException: busy", { match: { method: "GET" } }),
    outcome: "COMPLETED",
  },
  {
    name: "a poll that hangs past the client's 5 s deadline, then answers: the run goes on",
    fault: (w: World) => w.sidecar.hangNext(1, { method: "GET" }),
    outcome: "COMPLETED",
  },
  {
    name: "500 for longer than the unreachable timeout (60 s): FAILED, saying so",
    fault: (w: World) =>
      w.sidecar.failNext(1000, 500, "java.lang.IllegalStateException: busy", { match: { method: "GET" } }),
    outcome: "FAILED",
  },
];

for (const c of POLL_FAULTS) {
  test(`the sidecar fails while polled: ${c.name}`, async () => {
    const w = await startWorld({ timeoutMs: 5_000 });
    w.api.objects.put(backupObject("orders-once"));
    const id = await submitted(w);
    c.fault(w);
    for (let i = 0; i < 40 && statusOf(getBackup(w, "orders-once")).condition?.type === "PENDING"; i++) {
      if (i === 5) w.sidecar.complete(id);
      await pollOnce(w);
    }
    const s = statusOf(getBackup(w, "orders-once"));
    assert.equal(s.condition?.type, c.outcome);
    if (c.outcome === "FAILED") {
      assert.match(
        s.condition?.failureCause?.[0]?.message ?? "",
        new RegExp(
          `^the sidecar on ${PODS[0]} did not answer for \\d+ s while following operation ${id}: sidecar GET /operations/${id}: HTTP 500: java.lang.IllegalStateException: busy$`,
        ),
      );
      assert.equal(s.condition?.failureCause?.[0]?.source, "casskeeper");
      assert.equal((await waitEvents(w, "BackupFailed")).length, 1);
    }
    assert.equal(posts(w).length, 1);
  });
}

test("an operation id the sidecar no longer knows (expired, or its pod restarted): FAILED, the result lost", async () => {
  const w = await startWorld();
  w.api.objects.put(backupObject("orders-once"));
  const id = await submitted(w);
  w.sidecar.complete(id);
  w.sidecar.expire(id);
  await step(w, POLL_MS);
  const s = statusOf(getBackup(w, "orders-once"));
  assert.equal(s.condition?.type, "FAILED");
  assert.deepEqual(s.condition?.failureCause, [
    {
      source: "casskeeper",
      message:
        `operation ${id} unknown to the sidecar on ${PODS[0]}: its result was lost (the sidecar forgets finished ` +
        "operations after 1 hour, and all of them when its pod restarts)",
    },
  ]);
  const failed = await waitEvents(w, "BackupFailed");
  assert.match(String(failed[0]?.message), /its result was lost/);
  assert.equal(await metric(w, "casskeeper_runner_runs_total", { kind: "backup", result: "lost" }), 1);
  await step(w, 60_000);
  assert.equal(posts(w).length, 1, "not run again");
});

test("the coordinator pod is gone for good: the run ends as lost after the unreachable timeout", async () => {
  const w = await startWorld();
  w.api.objects.put(backupObject("orders-once"));
  const id = await submitted(w);
  w.leader.abort();
  await settle(w);
  w.api.objects.remove("v1", "Pod", NS, PODS[0] as string);
  w.leader = new AbortController();
  w.runner.lead(w.leader.signal);
  for (let i = 0; i < 20 && statusOf(getBackup(w, "orders-once")).condition?.type === "PENDING"; i++)
    await step(w, 10_000);
  const s = statusOf(getBackup(w, "orders-once"));
  assert.equal(s.condition?.type, "FAILED");
  assert.match(
    s.condition?.failureCause?.[0]?.message ?? "",
    new RegExp(
      `^the coordinator pod ${PODS[0]} of operation ${id} is gone \\(pod ${PODS[0]} not found\\): its result was lost$`,
    ),
  );
});
