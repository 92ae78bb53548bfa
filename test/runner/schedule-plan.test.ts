// decideRun: which scheduled instant a backup runs for after the runner looks at it — Kubernetes CronJob
// semantics (one catch-up run, missed ones counted, a starting deadline) over robfig's fire times — and the
// bounded chain search behind it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { nextTimes, parseStandard, type Schedule } from "../../src/core/schedule/index.ts";
import {
  chainPosition,
  decideRun,
  MISSED_EXACT_LIMIT,
  parseSchedule,
  type RunDecision,
  type RunDecisionInput,
} from "../../src/runner/schedule-plan.ts";
import { dstInstant, instant, validSpec } from "../unit/schedule/cron-arbitraries.ts";

const at = (iso: string): Date => new Date(iso);
const iso = (d: Date | undefined): string | undefined => d?.toISOString();

function parse(spec: string): Schedule {
  const r = parseStandard(spec);
  if (!r.ok) throw new Error(r.error);
  return r.schedule;
}

/** A schedule that counts its next() calls. */
function counting(spec: string): { schedule: Schedule; calls: () => number } {
  const s = parse(spec);
  let calls = 0;
  return {
    schedule: {
      kind: s.kind,
      location: s.location,
      next: (t) => {
        calls++;
        return s.next(t);
      },
    },
    calls: () => calls,
  };
}

interface Expected {
  run?: string;
  missed: number;
  next?: string;
  lastDue?: string;
  missedEstimated?: boolean;
  error?: string;
}

const shape = (d: RunDecision): Expected => ({
  ...(d.run ? { run: iso(d.run.scheduledTime) } : {}),
  missed: d.missed,
  ...(d.next ? { next: iso(d.next) } : {}),
  ...(d.lastDue ? { lastDue: iso(d.lastDue) } : {}),
  ...(d.missedEstimated ? { missedEstimated: true } : {}),
  ...(d.error !== undefined ? { error: d.error } : {}),
});

describe("decideRun", () => {
  const created = "2030-01-01T10:00:00.000Z";
  // (scenario, input, expected decision)
  const table: [
    string,
    Omit<RunDecisionInput, "lastScheduleTime" | "createdAt" | "now"> & {
      last?: string;
      created?: string;
      now: string;
    },
    Expected,
  ][] = [
    [
      "first run after creation: the first fire time after creationTimestamp",
      { schedule: "@midnight", now: "2030-01-02T00:00:05.000Z" },
      {
        run: "2030-01-02T00:00:00.000Z",
        missed: 0,
        lastDue: "2030-01-02T00:00:00.000Z",
        next: "2030-01-03T00:00:00.000Z",
      },
    ],
    [
      "created, not yet due: nothing runs, the next fire time is given",
      { schedule: "@midnight", now: "2030-01-01T23:59:59.000Z" },
      { missed: 0, next: "2030-01-02T00:00:00.000Z" },
    ],
    [
      "catch-up after downtime: the most recent due time runs once, four older ones are missed",
      { schedule: "@hourly", last: "2030-01-02T00:00:00.000Z", now: "2030-01-02T05:30:00.000Z" },
      {
        run: "2030-01-02T05:00:00.000Z",
        missed: 4,
        lastDue: "2030-01-02T05:00:00.000Z",
        next: "2030-01-02T06:00:00.000Z",
      },
    ],
    [
      "starting deadline passed: nothing runs, all five are missed",
      {
        schedule: "@hourly",
        last: "2030-01-02T00:00:00.000Z",
        now: "2030-01-02T05:30:00.000Z",
        startingDeadlineSeconds: 600,
      },
      { missed: 5, lastDue: "2030-01-02T05:00:00.000Z", next: "2030-01-02T06:00:00.000Z" },
    ],
    [
      "starting deadline not passed: the catch-up runs",
      {
        schedule: "@hourly",
        last: "2030-01-02T00:00:00.000Z",
        now: "2030-01-02T05:05:00.000Z",
        startingDeadlineSeconds: 600,
      },
      {
        run: "2030-01-02T05:00:00.000Z",
        missed: 4,
        lastDue: "2030-01-02T05:00:00.000Z",
        next: "2030-01-02T06:00:00.000Z",
      },
    ],
    [
      "exactly at the deadline still runs (CronJob's tooLate is scheduled + deadline < now)",
      {
        schedule: "@hourly",
        last: "2030-01-02T04:00:00.000Z",
        now: "2030-01-02T05:10:00.000Z",
        startingDeadlineSeconds: 600,
      },
      {
        run: "2030-01-02T05:00:00.000Z",
        missed: 0,
        lastDue: "2030-01-02T05:00:00.000Z",
        next: "2030-01-02T06:00:00.000Z",
      },
    ],
    [
      "no prefix: UTC (02:00Z)",
      { schedule: "0 2 * * *", last: "2030-01-01T02:00:00.000Z", now: "2030-01-02T02:00:30.000Z" },
      {
        run: "2030-01-02T02:00:00.000Z",
        missed: 0,
        lastDue: "2030-01-02T02:00:00.000Z",
        next: "2030-01-03T02:00:00.000Z",
      },
    ],
    [
      "CRON_TZ=Europe/Paris: 02:00 in Paris is 01:00Z in winter",
      {
        schedule: "CRON_TZ=Europe/Paris 0 2 * * *",
        last: "2030-01-01T01:00:00.000Z",
        now: "2030-01-02T01:00:30.000Z",
      },
      {
        run: "2030-01-02T01:00:00.000Z",
        missed: 0,
        lastDue: "2030-01-02T01:00:00.000Z",
        next: "2030-01-03T01:00:00.000Z",
      },
    ],
    [
      "@every after a restart counts from lastScheduleTime, not from the restart",
      { schedule: "@every 2h", last: "2030-01-02T00:00:00.000Z", now: "2030-01-02T03:10:00.000Z" },
      {
        run: "2030-01-02T02:00:00.000Z",
        missed: 0,
        lastDue: "2030-01-02T02:00:00.000Z",
        next: "2030-01-02T04:00:00.000Z",
      },
    ],
    [
      "@every before its first run counts from creation (robfig lands on a whole second)",
      { schedule: "@every 90s", created: "2030-01-01T10:00:00.250Z", now: "2030-01-01T10:03:10.000Z" },
      {
        run: "2030-01-01T10:03:00.000Z",
        missed: 1,
        lastDue: "2030-01-01T10:03:00.000Z",
        next: "2030-01-01T10:04:30.000Z",
      },
    ],
    [
      "a schedule that never fires: nothing runs, no next time, no error",
      { schedule: "0 0 30 2 *", now: "2031-01-01T00:00:00.000Z" },
      { missed: 0 },
    ],
    [
      "an invalid schedule: robfig's message",
      { schedule: "0 0 * * 7", now: "2031-01-01T00:00:00.000Z" },
      { missed: 0, error: "end of range (7) above maximum (6): 7" },
    ],
    [
      "a zone prefix with no space (robfig panics): the core's message",
      { schedule: "CRON_TZ=UTC", now: "2031-01-01T00:00:00.000Z" },
      {
        missed: 0,
        error:
          'time zone prefix "CRON_TZ=UTC" must be followed by a space and a schedule (robfig/cron panics on this input, robfig/cron#554)',
      },
    ],
    [
      "same instant never twice: lastScheduleTime is the due time, now just after it",
      { schedule: "@hourly", last: "2030-01-02T05:00:00.000Z", now: "2030-01-02T05:00:30.000Z" },
      { missed: 0, next: "2030-01-02T06:00:00.000Z" },
    ],
    [
      "same instant never twice: lastScheduleTime = now = a fire time",
      { schedule: "@hourly", last: "2030-01-02T05:00:00.000Z", now: "2030-01-02T05:00:00.000Z" },
      { missed: 0, next: "2030-01-02T06:00:00.000Z" },
    ],
    [
      "lastScheduleTime in the future (the clock went back): wait for its successor",
      { schedule: "@hourly", last: "2030-01-02T06:00:00.000Z", now: "2030-01-02T05:30:00.000Z" },
      { missed: 0, next: "2030-01-02T07:00:00.000Z" },
    ],
    [
      "@every 1s down for 30 days: exact count, closed form",
      { schedule: "@every 1s", last: "2030-01-01T00:00:00.000Z", now: "2030-01-31T00:00:00.500Z" },
      {
        run: "2030-01-31T00:00:00.000Z",
        missed: 30 * 86_400 - 1,
        lastDue: "2030-01-31T00:00:00.000Z",
        next: "2030-01-31T00:00:01.000Z",
      },
    ],
    [
      "every minute down for 30 days: more than 100 missed, extrapolated (exact for a regular schedule)",
      { schedule: "* * * * *", last: "2030-01-01T00:00:00.000Z", now: "2030-01-31T00:00:20.000Z" },
      {
        run: "2030-01-31T00:00:00.000Z",
        missed: 30 * 1440 - 1,
        lastDue: "2030-01-31T00:00:00.000Z",
        next: "2030-01-31T00:01:00.000Z",
        missedEstimated: true,
      },
    ],
    [
      "weekdays at 09:00 down for a year: the last weekday's run (2030-12-31 is a Tuesday)",
      {
        schedule: "0 9 * * MON-FRI",
        last: "2030-01-01T09:00:00.000Z",
        now: "2031-01-01T08:00:00.000Z",
      },
      {
        run: "2030-12-31T09:00:00.000Z",
        missed: 259, // 260 weekdays after 1 January, one runs; estimated, and exact here
        lastDue: "2030-12-31T09:00:00.000Z",
        next: "2031-01-01T09:00:00.000Z",
        missedEstimated: true,
      },
    ],
  ];
  for (const [name, i, expected] of table) {
    it(name, () => {
      const d = decideRun({
        schedule: i.schedule,
        ...(i.last !== undefined ? { lastScheduleTime: at(i.last) } : {}),
        createdAt: at(i.created ?? created),
        now: at(i.now),
        ...(i.startingDeadlineSeconds !== undefined
          ? { startingDeadlineSeconds: i.startingDeadlineSeconds }
          : {}),
      });
      assert.deepEqual(shape(d), expected);
    });
  }

  it("invalid dates are an error, not a throw", () => {
    const d = decideRun({ schedule: "@hourly", createdAt: new Date(Number.NaN), now: new Date() });
    assert.match(d.error ?? "", /invalid time/);
  });
});

describe("parseSchedule", () => {
  it("parses a string once and stays bounded: the same schedule back while cached, a correct one after", () => {
    const first = parseSchedule("CRON_TZ=Europe/Paris 0 2 * * *");
    assert.equal(parseSchedule("CRON_TZ=Europe/Paris 0 2 * * *"), first);
    for (let i = 0; i < 5000; i++) parseSchedule(`${i % 60} ${Math.floor(i / 60) % 24} ${1 + (i % 28)} * *`);
    const again = parseSchedule("CRON_TZ=Europe/Paris 0 2 * * *");
    assert.ok(again.ok && first.ok);
    assert.deepEqual(nextTimes(again.schedule, 0, 3), nextTimes(first.schedule, 0, 3));
    assert.deepEqual(parseSchedule("0 0 * * 7"), {
      ok: false,
      error: "end of range (7) above maximum (6): 7",
    });
  });
});

describe("chainPosition cost", () => {
  // (schedule, gap, at most this many next() calls)
  const cases: [string, number, number][] = [
    ["@every 1s", 30 * 86_400_000, 3],
    ["* * * * *", 30 * 86_400_000, 200],
    ["* * * * *", 5 * 365 * 86_400_000, 220],
    ["0 9 * * MON-FRI", 4 * 365 * 86_400_000, 220],
    ["CRON_TZ=Europe/Paris */5 * * * *", 400 * 86_400_000, 220],
  ];
  for (const [spec, gap, bound] of cases) {
    it(`${spec} over ${Math.round(gap / 86_400_000)} days: ≤ ${bound} next() calls`, () => {
      const from = Date.UTC(2030, 0, 1);
      const c = counting(spec);
      const pos = chainPosition(c.schedule, from, from + gap);
      assert.ok(pos.latest !== undefined && pos.latest <= from + gap);
      assert.ok(c.calls() <= bound, `${c.calls()} calls`);
    });
  }
});

/** The chain from `after` walked one by one, up to `limit` fire times (undefined past the limit). */
function naive(s: Schedule, after: number, now: number, limit: number) {
  let latest: number | undefined;
  let count = 0;
  let n = s.next(after);
  while (n !== undefined && n <= now) {
    if (++count > limit) return undefined;
    latest = n;
    n = s.next(n);
  }
  return { latest, count, next: n };
}

const schedules = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: validSpec().map((m) => m.spec) },
    {
      weight: 1,
      arbitrary: fc.constantFrom("@hourly", "@daily", "@every 90s", "@every 1h30m", "@every 7s", "* * * * *"),
    },
  );

describe("decideRun properties", () => {
  it("the run time is in (last, now], on robfig's chain from last, and the most recent due time", () => {
    fc.assert(
      fc.property(
        schedules(),
        fc.oneof(instant(), dstInstant()),
        fc.integer({ min: 0, max: 4 * 86_400_000 }),
        fc.option(fc.integer({ min: 0, max: 86_400 }), { nil: undefined }),
        (spec, last, gap, deadline) => {
          const now = last + gap;
          const s = parse(spec);
          const truth = naive(s, last, now, 20_000);
          fc.pre(truth !== undefined);
          const d = decideRun({
            schedule: spec,
            lastScheduleTime: new Date(last),
            createdAt: new Date(last - 86_400_000),
            now: new Date(now),
            ...(deadline !== undefined ? { startingDeadlineSeconds: deadline } : {}),
          });
          assert.equal(d.error, undefined);
          assert.equal(d.lastDue?.getTime(), truth.latest);
          assert.equal(d.next?.getTime(), truth.next);
          if (d.run) {
            const t = d.run.scheduledTime.getTime();
            assert.ok(t > last && t <= now);
            assert.equal(t, truth.latest);
            assert.ok(deadline === undefined || now - t <= deadline * 1000);
          }
          const ran = d.run ? 1 : 0;
          // Exact up to the limit (and always for @every); past it, an estimate flagged as such.
          if (d.missedEstimated)
            assert.ok(truth.count > MISSED_EXACT_LIMIT && d.missed + ran > MISSED_EXACT_LIMIT);
          else assert.equal(d.missed + ran, truth.count);
          if (truth.latest !== undefined && deadline === undefined) assert.ok(d.run);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("deciding again with the run recorded as lastScheduleTime never returns the same instant", () => {
    fc.assert(
      fc.property(schedules(), instant(), fc.integer({ min: 0, max: 3 * 86_400_000 }), (spec, last, gap) => {
        const now = last + gap;
        const first = decideRun({
          schedule: spec,
          lastScheduleTime: new Date(last),
          createdAt: new Date(0),
          now: new Date(now),
        });
        fc.pre(first.run !== undefined);
        const again = decideRun({
          schedule: spec,
          lastScheduleTime: first.run?.scheduledTime,
          createdAt: new Date(0),
          now: new Date(now),
        });
        assert.equal(again.run, undefined);
        assert.equal(again.missed, 0);
      }),
      { numRuns: 200 },
    );
  });

  it("agrees with nextTimes on the next fire time when nothing is due", () => {
    fc.assert(
      fc.property(schedules(), instant(), (spec, last) => {
        const d = decideRun({
          schedule: spec,
          lastScheduleTime: new Date(last),
          createdAt: new Date(0),
          now: new Date(last),
        });
        assert.equal(d.run, undefined);
        assert.equal(d.next?.getTime(), nextTimes(parse(spec), last, 1)[0]);
      }),
      { numRuns: 200 },
    );
  });
});
