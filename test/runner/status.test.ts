// The status mapping (pure): CassKop's BackRestStatus from the sidecar's operation (operators.md §1.4), the
// record made before the sidecar is called, and the merge patches that write only what changed.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import type { Operation } from "../../src/runner/model.ts";
import {
  casskopTime,
  failedStatus,
  HISTORY_LIMIT,
  jsonEqual,
  mergePatchOf,
  operationStatus,
  parseCasskopTime,
  progressPercent,
  type RunStatus,
  recordedStatus,
  unfinishedRun,
} from "../../src/runner/status.ts";

// (instant, CassKop's layout "Mon, 2 Jan 2006 15:04:05 GMT": day not padded, time padded)
const LAYOUT = [
  ["2006-01-02T15:04:05Z", "Mon, 2 Jan 2006 15:04:05 GMT"],
  ["2030-12-31T23:59:59Z", "Tue, 31 Dec 2030 23:59:59 GMT"],
  ["2030-03-09T00:00:07.900Z", "Sat, 9 Mar 2030 00:00:07 GMT"],
] as const;

for (const [iso, expected] of LAYOUT) {
  test(`lastTransitionTime in CassKop's layout: ${iso} → ${expected}`, () => {
    assert.equal(casskopTime(new Date(iso)), expected);
    assert.equal(parseCasskopTime(expected)?.getTime(), Math.floor(Date.parse(iso) / 1000) * 1000);
  });
}

test("CassKop's layout reads back to the same second, for any instant", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253_402_300_799 }), (s) => {
      assert.equal(parseCasskopTime(casskopTime(new Date(s * 1000)))?.getTime(), s * 1000);
    }),
  );
});

// (sidecar progress, CassKop's `strconv.Itoa(int(progress*100)) + "%"`: truncated as Go converts)
const PROGRESS = [
  [0, "0%"],
  [0.5, "50%"],
  [0.29, "28%"],
  [0.999, "99%"],
  [1, "100%"],
  [Number.NaN, "0%"],
] as const;

for (const [p, expected] of PROGRESS) {
  test(`progress ${p} → ${expected}`, () => assert.equal(progressPercent(p), expected));
}

function op(o: Partial<Operation> & { state: Operation["state"] }): Operation {
  return { id: "id-1", type: "backup", progress: 0, errors: [], raw: {}, ...o };
}

const T0 = new Date("2030-01-10T12:00:00Z");
const T1 = new Date("2030-01-10T12:00:02Z");
const T2 = new Date("2030-01-10T12:00:04Z");

test("lastTransitionTime moves only when the state changes, not on every poll as CassKop's does", () => {
  const recorded = recordedStatus({}, { state: "PENDING", coordinator: "pod-0", now: T0 });
  const a = operationStatus(
    recorded,
    op({ state: "RUNNING", progress: 0.1, creationTime: "c", startTime: "s" }),
    T1,
  );
  const b = operationStatus(
    a,
    op({ state: "RUNNING", progress: 0.4, creationTime: "c", startTime: "s" }),
    T2,
  );
  assert.equal(a.condition?.lastTransitionTime, casskopTime(T1));
  assert.equal(b.condition?.lastTransitionTime, casskopTime(T1));
  assert.equal(b.progress, "40%");
  assert.deepEqual(mergePatchOf(a, b), { progress: "40%" }, "a progress change writes the progress alone");
  assert.equal(
    mergePatchOf(
      b,
      operationStatus(b, op({ state: "RUNNING", progress: 0.4, creationTime: "c", startTime: "s" }), T2),
    ),
    undefined,
  );
});

test("the sidecar's errors become failureCause verbatim (source = the host that raised it)", () => {
  const s = operationStatus(
    {},
    op({
      state: "FAILED",
      progress: 1,
      errors: [{ source: "cassandra-dc1-rack1-0", message: "Unable to upload" }, { message: "x" }],
    }),
    T0,
  );
  assert.deepEqual(s.condition, {
    type: "FAILED",
    lastTransitionTime: casskopTime(T0),
    failureCause: [{ source: "cassandra-dc1-rack1-0", message: "Unable to upload" }, { message: "x" }],
  });
});

test("a new run resets CassKop's fields (CassKop's updateStatus(BackRestStatus{})) and keeps casskeeper's extras", () => {
  const prev: RunStatus = {
    condition: { type: "FAILED", lastTransitionTime: "x", failureCause: [{ message: "old" }] },
    id: "old",
    progress: "100%",
    timeCreated: "a",
    timeStarted: "b",
    timeCompleted: "c",
    coordinatorMember: "pod-2",
    lastSuccessfulTime: "2030-01-09T00:00:00Z",
    history: [{ scheduledTime: "2030-01-09T00:00:00Z", state: "FAILED", id: "old" }],
  };
  const next = recordedStatus(prev, { state: "PENDING", coordinator: "pod-0", now: T0, scheduledTime: T0 });
  assert.deepEqual(next, {
    condition: { type: "PENDING", lastTransitionTime: casskopTime(T0) },
    coordinatorMember: "pod-0",
    lastSuccessfulTime: "2030-01-09T00:00:00Z",
    lastScheduleTime: "2030-01-10T12:00:00Z",
    history: [
      { scheduledTime: "2030-01-10T12:00:00Z", state: "PENDING" },
      { scheduledTime: "2030-01-09T00:00:00Z", state: "FAILED", id: "old" },
    ],
  });
  assert.deepEqual(mergePatchOf(prev, next), {
    condition: { type: "PENDING", lastTransitionTime: casskopTime(T0), failureCause: null },
    id: null,
    progress: null,
    timeCreated: null,
    timeStarted: null,
    timeCompleted: null,
    coordinatorMember: "pod-0",
    lastScheduleTime: "2030-01-10T12:00:00Z",
    history: next.history,
  });
});

test(`history keeps the ${HISTORY_LIMIT} newest runs, newest first; a run's entry follows its operation`, () => {
  let s: RunStatus = {};
  for (let i = 0; i < HISTORY_LIMIT + 5; i++) {
    const at = new Date(T0.getTime() + i * 3_600_000);
    s = recordedStatus(s, { state: "PENDING", coordinator: "pod-0", now: at, scheduledTime: at });
    s = operationStatus(
      s,
      op({
        id: `op-${i}`,
        state: "COMPLETED",
        progress: 1,
        snapshotTag: `t-${i}`,
        completionTime: at.toISOString(),
      }),
      at,
    );
  }
  assert.equal(s.history?.length, HISTORY_LIMIT);
  assert.equal(s.history?.[0]?.id, `op-${HISTORY_LIMIT + 4}`);
  assert.equal(s.history?.[0]?.snapshotTag, `t-${HISTORY_LIMIT + 4}`);
  assert.equal(s.history?.at(-1)?.id, "op-5");
  assert.equal(s.lastSuccessfulTime, s.history?.[0]?.scheduledTime);
});

test("a restore's status has no history and no lastSuccessfulTime", () => {
  const s = operationStatus(
    recordedStatus({}, { state: "REQUIRED", coordinator: "p", now: T0 }),
    op({ type: "restore", state: "COMPLETED", progress: 1 }),
    T1,
    "restore",
  );
  assert.equal(s.history, undefined);
  assert.equal(s.lastSuccessfulTime, undefined);
  assert.equal(s.coordinatorMember, "p");
});

test("a failure casskeeper decides: FAILED with casskeeper as the source, the history head too", () => {
  const s = failedStatus(
    recordedStatus({}, { state: "PENDING", coordinator: "p", now: T0, scheduledTime: T0 }),
    "operation x unknown",
    T1,
  );
  assert.deepEqual(s.condition?.failureCause, [{ source: "casskeeper", message: "operation x unknown" }]);
  assert.equal(s.history?.[0]?.state, "FAILED");
});

// (status, what a restarted runner makes of it)
const UNFINISHED: [string, RunStatus, ReturnType<typeof unfinishedRun>][] = [
  ["never ran", {}, undefined],
  ["finished", { condition: { type: "COMPLETED" }, coordinatorMember: "p", id: "i" }, undefined],
  [
    "CANCELLED is final too",
    { condition: { type: "CANCELLED" }, coordinatorMember: "p", id: "i" },
    undefined,
  ],
  [
    "a condition without a coordinator (not casskeeper's record)",
    { condition: { type: "RUNNING" } },
    undefined,
  ],
  [
    "recorded, no id: stopped between the record and the answer",
    { condition: { type: "PENDING", lastTransitionTime: casskopTime(T0) }, coordinatorMember: "p" },
    { coordinator: "p", state: "PENDING", recordedAt: T0 },
  ],
  [
    "running with an id",
    { condition: { type: "RUNNING", lastTransitionTime: "garbage" }, coordinatorMember: "p", id: "i" },
    { coordinator: "p", state: "RUNNING", id: "i" },
  ],
];

for (const [name, status, expected] of UNFINISHED) {
  test(`unfinished run: ${name}`, () => assert.deepEqual(unfinishedRun(status), expected));
}

/** RFC 7386 MergePatch(target, patch). */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

test("mergePatchOf: applying the patch to the old status gives the new one, for any two JSON objects", () => {
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.array(tie("value"), { maxLength: 3 }),
      tie("object"),
    ),
    object: fc.dictionary(fc.constantFrom("a", "b", "c", "condition", "history"), tie("value"), {
      maxKeys: 4,
    }),
  }));
  fc.assert(
    fc.property(json.object, json.object, (prev, next) => {
      const patch = mergePatchOf(prev, next);
      const applied = patch === undefined ? prev : applyMergePatch(prev, patch);
      assert.ok(jsonEqual(applied, next), JSON.stringify({ prev, next, patch, applied }));
    }),
  );
});
