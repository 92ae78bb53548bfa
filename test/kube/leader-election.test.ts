// Leader election on a Lease in the API double, with a fake clock: acquisition, renewal, takeover after
// expiry, stepping down when renewals fail past the deadline or someone else holds the lease, release on
// stop, and never two leaders at once (a property over random faults and timings).
//
// Time is the FakeClock's; requests are real HTTP to the double. After moving the clock, tests wait for
// every elector to be `settled()` (no request in flight) before looking: fake time does not move meanwhile.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { KubeConfig } from "@kubernetes/client-node";
import fc from "fast-check";
import { CasskeeperError } from "../../src/core/errors.ts";
import type { Timers } from "../../src/kube/client.ts";
import { type LeaderElection, microTime, startLeaderElection } from "../../src/kube/leader-election.ts";
import { type KubeApiDouble, type Obj, startKubeApiDouble } from "../support/kube-api-double.ts";
import { eventually, FakeClock, recordingLogger } from "../support/kube-fake-clock.ts";

let double: KubeApiDouble;
let kc: KubeConfig;
before(async () => {
  double = await startKubeApiDouble();
  kc = double.kubeConfig();
});
after(() => double.close());

const LEASES = "leases.coordination.k8s.io";
const MICROTIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Candidate {
  readonly id: string;
  readonly le: LeaderElection;
  /** Signals given to onStartedLeading, in order. */
  readonly started: AbortSignal[];
  /** Calls of onStoppedLeading. */
  readonly stopped: number;
  /** Its timers stop firing: the process is gone without releasing anything. */
  kill(): void;
}

function candidate(ns: string, id: string, clock: FakeClock, extra: { now?: () => number } = {}): Candidate {
  let dead = false;
  let stopped = 0;
  const started: AbortSignal[] = [];
  const timers: Timers = {
    setTimeout: (fn, ms) => clock.setTimeout(() => (dead ? undefined : fn()), ms),
    clearTimeout: (h) => clock.clearTimeout(h),
  };
  const le = startLeaderElection(
    kc,
    {
      namespace: ns,
      name: "lock",
      identity: id,
      now: extra.now ?? clock.now,
      timers,
      logger: recordingLogger(),
    },
    {
      onStartedLeading: (signal) => started.push(signal),
      onStoppedLeading: () => {
        stopped++;
      },
    },
  );
  return {
    id,
    le,
    started,
    get stopped() {
      return stopped;
    },
    kill() {
      dead = true;
    },
  };
}

/** Moves the clock, then waits until no candidate has a request in flight. */
async function step(clock: FakeClock, ms: number, ...cs: Candidate[]): Promise<void> {
  clock.advance(ms);
  for (const c of cs) await c.le.settled();
}

function lease(ns: string): Obj & { spec: Record<string, unknown> } {
  const l = double.objects.get("coordination.k8s.io/v1", "Lease", ns, "lock");
  assert.ok(l !== undefined, "the Lease exists");
  return l as Obj & { spec: Record<string, unknown> };
}

const parseMicro = (s: unknown) => Date.parse(String(s).replace(/(\.\d{3})\d{3}Z$/, "$1Z"));

test("a single candidate creates the Lease, leads, and renews it every retry period with one write", async () => {
  const ns = "le-single";
  const clock = new FakeClock();
  const t0 = clock.now();
  const a = candidate(ns, "a", clock);
  await a.le.settled();
  assert.equal(a.le.isLeader(), true);
  assert.equal(a.started.length, 1);
  assert.equal(a.started[0]?.aborted, false);
  assert.deepEqual(lease(ns).spec, {
    holderIdentity: "a",
    leaseDurationSeconds: 15,
    acquireTime: microTime(t0),
    renewTime: microTime(t0),
    leaseTransitions: 0,
  });
  assert.match(microTime(t0), MICROTIME);
  for (let i = 1; i <= 3; i++) {
    double.resetCounts();
    await step(clock, 2_000, a);
    const spec = lease(ns).spec;
    assert.equal(spec.renewTime, microTime(t0 + i * 2_000), `renewal ${i}`);
    assert.equal(spec.acquireTime, microTime(t0), `renewal ${i}: acquireTime kept`);
    assert.equal(double.writes(LEASES), 1, `renewal ${i}: one write`);
    assert.equal(double.count("get", LEASES), 0, `renewal ${i}: no read on the fast path`);
  }
  assert.equal(a.le.leader(), "a");
  await a.le.stop();
});

test("a second candidate waits while the leader renews, and takes over once the lease has not changed for its duration", async () => {
  const ns = "le-takeover";
  const clock = new FakeClock();
  const a = candidate(ns, "a", clock);
  await a.le.settled();
  const b = candidate(ns, "b", clock);
  await b.le.settled();
  assert.equal(b.le.isLeader(), false);
  assert.equal(b.le.leader(), "a");
  for (let i = 0; i < 30; i++) {
    await step(clock, 1_000, a, b);
    assert.ok(a.le.isLeader() && !b.le.isLeader(), `second ${i}: a leads, b waits`);
  }
  a.kill();
  const lastRenewal = parseMicro(lease(ns).spec.renewTime);
  let tookOver: number | undefined;
  for (let i = 0; i < 40 && tookOver === undefined; i++) {
    await step(clock, 1_000, b);
    if (b.le.isLeader()) tookOver = clock.now();
  }
  assert.ok(tookOver !== undefined, "b took over");
  // b saw the last renewal at its next attempt (≤ 2.2 retry periods later), then waited a lease duration.
  assert.ok(tookOver - lastRenewal >= 15_000, `not before the lease expired (${tookOver - lastRenewal} ms)`);
  assert.ok(
    tookOver - lastRenewal <= 15_000 + 2 * 4_400 + 1_000,
    `soon after (${tookOver - lastRenewal} ms)`,
  );
  const spec = lease(ns).spec;
  assert.equal(spec.holderIdentity, "b");
  assert.equal(spec.leaseTransitions, 1);
  assert.equal(spec.acquireTime, spec.renewTime);
  assert.equal(b.started.length, 1);
  await b.le.stop();
});

test("renewals failing past the renew deadline stop leading at once; the elector leads again when it can", async () => {
  // [case, how renewals fail]
  const cases: [string, "update-500" | "all-500" | "hang"][] = [
    // (every lease update answers 500; reads work)
    ["updates fail", "update-500"],
    // (every lease request answers 500)
    ["API down", "all-500"],
    // (the renewal never answers: aborted at the deadline)
    ["hangs", "hang"],
  ];
  for (const [what, fault] of cases) {
    const ns = `le-deadline-${fault}`;
    const clock = new FakeClock();
    const a = candidate(ns, "a", clock);
    await a.le.settled();
    const signal = a.started[0];
    let hold: ReturnType<KubeApiDouble["hold"]> | undefined;
    try {
      if (fault === "update-500") double.failNext(1000, { status: 500, verb: "update", resource: LEASES });
      if (fault === "all-500") double.failNext(1000, { status: 500, resource: LEASES });
      if (fault === "hang") hold = double.hold("update", LEASES);
      // Renewal rounds start 2 s after the last success; the deadline is 10 s into the round.
      clock.advance(2_000);
      if (hold !== undefined) await eventually("the renewal is held", () => hold?.waiting() === 1);
      else await a.le.settled();
      for (let s = 2; s <= 8; s += 2) {
        if (hold === undefined) await step(clock, 2_000, a);
        else clock.advance(2_000);
        assert.equal(a.le.isLeader(), true, `${what}: still leading ${s} s into the round`);
        assert.equal(signal?.aborted, false, what);
      }
      clock.advance(2_000);
      assert.equal(a.le.isLeader(), false, `${what}: stopped at the deadline`);
      assert.equal(signal?.aborted, true, what);
      assert.equal(a.stopped, 1, what);
      await a.le.settled();
      double.clearFaults();
      hold?.release();
      for (let i = 0; i < 5 && !a.le.isLeader(); i++) await step(clock, 2_000, a);
      assert.equal(a.le.isLeader(), true, `${what}: leads again once the API answers`);
      assert.equal(a.started.length, 2, what);
      assert.equal(a.started[1]?.aborted, false, what);
      assert.equal(lease(ns).spec.holderIdentity, "a", what);
      assert.equal(lease(ns).spec.leaseTransitions, 0, `${what}: never lost the Lease itself`);
    } finally {
      double.clearFaults();
      hold?.release();
      await a.le.stop();
    }
  }
});

test("expiry is measured on the candidate's own clock from when it saw the Lease change, not from renewTime", async () => {
  // [case, the candidate's clock against the leader's]
  const cases: [string, number][] = [
    // (an hour ahead: renewTime + 15 s is long past on its clock, yet the lease is renewed)
    ["ahead", 3_600_000],
    // (an hour behind)
    ["behind", -3_600_000],
  ];
  for (const [what, skew] of cases) {
    const ns = `le-skew-${what}`;
    const clock = new FakeClock();
    const a = candidate(ns, "a", clock);
    await a.le.settled();
    const b = candidate(ns, "b", clock, { now: () => clock.now() + skew });
    await b.le.settled();
    for (let i = 0; i < 40; i++) {
      await step(clock, 1_000, a, b);
      assert.ok(a.le.isLeader() && !b.le.isLeader(), `${what}, second ${i}: a leads, b waits`);
    }
    a.kill();
    for (let i = 0; i < 30 && !b.le.isLeader(); i++) await step(clock, 1_000, b);
    assert.equal(b.le.isLeader(), true, `${what}: b takes over once a stops renewing`);
    await b.le.stop();
  }
});

test("a renewal that meets a 409 re-reads the Lease: steps down at once if another holds it, else renews", async () => {
  // [case, what someone else wrote to the Lease, leading after the next renewal]
  const cases: [string, (l: Obj & { spec: Record<string, unknown> }, now: number) => Obj, boolean][] = [
    // (another holder took it) → stop leading now, not at the deadline
    [
      "taken",
      (l, now) => ({
        ...l,
        spec: {
          ...l.spec,
          holderIdentity: "intruder",
          renewTime: microTime(now),
          leaseTransitions: Number(l.spec.leaseTransitions) + 1,
        },
      }),
      false,
    ],
    // (a label added, still ours) → renewed with the new resourceVersion
    ["touched", (l) => ({ ...l, metadata: { ...(l.metadata as object), labels: { x: "y" } } }), true],
  ];
  for (const [what, write, leading] of cases) {
    const ns = `le-409-${what}`;
    const clock = new FakeClock();
    const a = candidate(ns, "a", clock);
    await a.le.settled();
    double.objects.put(write(lease(ns), clock.now()));
    double.resetCounts();
    await step(clock, 2_000, a);
    assert.equal(a.le.isLeader(), leading, what);
    assert.equal(a.started[0]?.aborted, !leading, what);
    assert.equal(a.stopped, leading ? 0 : 1, what);
    assert.ok(
      double.requests.some((r) => r.verb === "get" && r.resource === LEASES),
      `${what}: re-read`,
    );
    assert.equal(lease(ns).spec.holderIdentity, leading ? "a" : "intruder", what);
    if (leading) assert.equal(lease(ns).spec.renewTime, microTime(clock.now()), what);
    await a.le.stop();
  }
});

test("stop() releases the Lease: a waiting candidate takes it at its next attempt", async () => {
  const ns = "le-release";
  const clock = new FakeClock();
  const a = candidate(ns, "a", clock);
  await a.le.settled();
  const b = candidate(ns, "b", clock);
  const c = candidate(ns, "c", clock);
  await b.le.settled();
  await c.le.settled();
  // A candidate that never led leaves the Lease alone.
  const rv = (lease(ns).metadata as { resourceVersion: string }).resourceVersion;
  await c.le.stop();
  assert.equal((lease(ns).metadata as { resourceVersion: string }).resourceVersion, rv);
  assert.equal(c.stopped, 0, "onStoppedLeading only after onStartedLeading");

  await a.le.stop();
  assert.equal(a.le.isLeader(), false);
  assert.equal(a.started[0]?.aborted, true);
  assert.equal(a.stopped, 1);
  const released = lease(ns).spec;
  assert.equal(released.holderIdentity, "");
  assert.equal(released.leaseDurationSeconds, 1);
  assert.equal(released.leaseTransitions, 0);
  // b's next attempt is at most 2.2 retry periods away; without the release it would wait 15 s.
  await step(clock, 4_400, b);
  assert.equal(b.le.isLeader(), true);
  assert.equal(lease(ns).spec.holderIdentity, "b");
  assert.equal(lease(ns).spec.leaseTransitions, 1);
  await a.le.stop(); // twice: nothing more
  assert.equal(a.stopped, 1);
  await b.le.stop();
});

test("settings client-go refuses are refused", () => {
  // [case, identity, lease, deadline, retry, message part]
  const cases: [string, string, number, number, number, RegExp][] = [
    // (no identity)
    ["identity", "", 15_000, 10_000, 2_000, /identity is empty/],
    // (the deadline not shorter than the lease: two leaders possible)
    ["deadline", "a", 10_000, 10_000, 2_000, /leaseDuration must be greater than renewDeadline/],
    // (the deadline leaves no room for a jittered retry)
    ["retry", "a", 15_000, 2_000, 2_000, /renewDeadline must be greater than retryPeriod\*1.2/],
  ];
  for (const [what, identity, leaseDurationMs, renewDeadlineMs, retryPeriodMs, message] of cases) {
    assert.throws(
      () =>
        startLeaderElection(
          kc,
          {
            namespace: "x",
            name: "y",
            identity,
            leaseDurationMs,
            renewDeadlineMs,
            retryPeriodMs,
            logger: recordingLogger(),
          },
          { onStartedLeading() {}, onStoppedLeading() {} },
        ),
      (e: unknown) =>
        e instanceof CasskeeperError && e.code === "leader-election-config" && message.test(e.message),
      what,
    );
  }
});

test("property: two electors never lead at once, whatever fails and whenever time moves; one leads when faults stop", async () => {
  let run = 0;
  // Time moves most often; faults are short (a few failed requests) or outages until healed.
  const action = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("advance" as const),
        ms: fc.integer({ min: 100, max: 8_000 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("fail" as const),
        verb: fc.constantFrom("get", "update", "create"),
        status: fc.constantFrom(500, 409, 503),
        count: fc.integer({ min: 1, max: 40 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("outage" as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("heal" as const) }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("restart" as const), which: fc.constantFrom(0, 1) }),
    },
  );
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 50 }), async (actions) => {
      const ns = `le-prop-${run++}`;
      const clock = new FakeClock();
      const cs = [candidate(ns, "a", clock), candidate(ns, "b", clock)];
      const settle = async () => {
        for (const c of cs) await c.le.settled();
      };
      const check = (when: string) => {
        assert.ok(!(cs[0]?.le.isLeader() && cs[1]?.le.isLeader()), `two leaders ${when}`);
        for (const c of cs) {
          const current = c.le.isLeader() ? 1 : 0;
          assert.equal(c.started.length - c.stopped, current, `${c.id}: started/stopped ${when}`);
          c.started.forEach((s, i) => {
            assert.equal(
              s.aborted,
              !(current === 1 && i === c.started.length - 1),
              `${c.id}: signal ${i} ${when}`,
            );
          });
        }
      };
      try {
        await settle();
        check("at start");
        for (const [i, a] of actions.entries()) {
          if (a.kind === "advance") clock.advance(a.ms);
          else if (a.kind === "fail")
            double.failNext(a.count, { status: a.status, verb: a.verb, resource: LEASES });
          else if (a.kind === "outage") double.failNext(1_000_000, { status: 503, resource: LEASES });
          else if (a.kind === "heal") double.clearFaults();
          else {
            const old = cs[a.which] as Candidate;
            await old.le.stop();
            check(`after stopping ${old.id}`);
            cs[a.which] = candidate(ns, old.id, clock);
          }
          await settle();
          check(`after action ${i} (${JSON.stringify(a)})`);
        }
        double.clearFaults();
        for (let s = 0; s < 20; s++) {
          clock.advance(2_000);
          await settle();
          check(`quiet step ${s}`);
        }
        const leaders = cs.filter((c) => c.le.isLeader());
        assert.equal(leaders.length, 1, "one leader once faults stop");
        assert.equal(lease(ns).spec.holderIdentity, leaders[0]?.id);
      } finally {
        double.clearFaults();
        for (const c of cs) await c.le.stop();
      }
    }),
    { numRuns: 60 },
  );
});
