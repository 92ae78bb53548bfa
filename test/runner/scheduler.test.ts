// The scheduler: every backup schedule on one timer, on a fake clock. What a user notices: backups start
// at robfig's fire times (DST days included, as robfig does them), in order, once each; replacing or
// removing a schedule takes effect at once; a wall-clock jump is noticed within maxSleepMs; one failing
// backup does not stop the others.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CasskeeperError } from "../../src/core/errors.ts";
import { nextTimes, parseStandard } from "../../src/core/schedule/index.ts";
import type { Timers } from "../../src/kube/client.ts";
import { createScheduler } from "../../src/runner/scheduler.ts";
import { FakeClock } from "../support/kube-fake-clock.ts";
import { validSpec } from "../unit/schedule/cron-arbitraries.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

interface Fired {
  key: string;
  at: string;
  skipped: number;
  /** The clock when the callback ran. */
  wall: string;
}

/** A scheduler on a fake clock, recording every fire. `skew` moves the wall clock without firing timers. */
function world(start: string, opts: { maxSleepMs?: number; timers?: (c: FakeClock) => Timers } = {}) {
  const clock = new FakeClock(Date.parse(start));
  const wall = { skew: 0 };
  const now = () => clock.now() + wall.skew;
  const fired: Fired[] = [];
  const errors: [string, unknown][] = [];
  const sched = createScheduler({
    now,
    timers: opts.timers?.(clock) ?? clock,
    ...(opts.maxSleepMs !== undefined ? { maxSleepMs: opts.maxSleepMs } : {}),
    onError: (key, e) => errors.push([key, e]),
  });
  const record =
    (key: string) =>
    (t: Date, skipped: number): void => {
      fired.push({ key, at: t.toISOString(), skipped, wall: iso(now()) });
    };
  const set = (key: string, spec: string, after = clock.now()): void =>
    sched.set(key, spec, new Date(after), record(key));
  return { clock, wall, now, fired, errors, sched, set, record };
}

describe("scheduler", () => {
  it("fires many keys in time order, each at its robfig fire times, on one timer", () => {
    const w = world("2030-01-01T00:00:00Z");
    w.set("hourly", "@hourly");
    w.set("five", "*/5 * * * *");
    w.set("every", "@every 90s");
    w.set("paris", "CRON_TZ=Europe/Paris 30 1 * * *"); // 00:30Z in winter
    w.set("utc", "30 1 * * *"); // 01:30Z
    let maxTimers = 0;
    for (let i = 0; i < 180; i++) {
      w.clock.advance(MIN);
      maxTimers = Math.max(maxTimers, w.clock.waiting);
    }
    assert.equal(maxTimers, 1, "one timer for every schedule");
    const times = w.fired.map((f) => Date.parse(f.at));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => a - b),
    );
    const by = (k: string) => w.fired.filter((f) => f.key === k).map((f) => f.at);
    assert.deepEqual(by("hourly"), [
      "2030-01-01T01:00:00.000Z",
      "2030-01-01T02:00:00.000Z",
      "2030-01-01T03:00:00.000Z",
    ]);
    assert.equal(by("five").length, 36);
    assert.equal(by("every").length, 120);
    assert.deepEqual(by("paris"), ["2030-01-01T00:30:00.000Z"]);
    assert.deepEqual(by("utc"), ["2030-01-01T01:30:00.000Z"]);
    // Fired on time, nothing skipped.
    assert.ok(w.fired.every((f) => f.wall === f.at && f.skipped === 0));
  });

  it("set replaces a key's schedule; remove stops it", () => {
    const w = world("2030-01-01T00:00:00Z");
    w.set("a", "@hourly");
    w.set("a", "*/30 * * * *");
    assert.equal(w.sched.size(), 1);
    assert.equal(w.sched.next("a")?.toISOString(), "2030-01-01T00:30:00.000Z");
    w.clock.advance(HOUR);
    assert.deepEqual(
      w.fired.map((f) => f.at),
      ["2030-01-01T00:30:00.000Z", "2030-01-01T01:00:00.000Z"],
    );
    w.sched.remove("a");
    w.sched.remove("unknown");
    assert.equal(w.sched.size(), 0);
    assert.equal(w.sched.next("a"), undefined);
    w.clock.advance(DAY);
    assert.equal(w.fired.length, 2);
    assert.equal(w.clock.waiting, 0, "no timer left when nothing is scheduled");
  });

  it("re-arms the timer when an earlier schedule is added", () => {
    const w = world("2030-01-01T00:00:00Z", { maxSleepMs: 7 * DAY });
    w.set("daily", "@daily");
    w.clock.advance(MIN);
    w.set("soon", "*/5 * * * *");
    assert.equal(w.clock.waiting, 1);
    w.clock.advance(4 * MIN);
    assert.deepEqual(
      w.fired.map((f) => `${f.key} ${f.at} at ${f.wall}`),
      ["soon 2030-01-01T00:05:00.000Z at 2030-01-01T00:05:00.000Z"],
    );
  });

  it("a wall-clock jump forward is noticed within maxSleepMs: one catch-up fire with the skipped count", () => {
    const w = world("2030-01-01T00:00:00Z", { maxSleepMs: MIN });
    w.set("hourly", "@hourly");
    w.clock.advance(10 * MIN);
    w.wall.skew = 2 * HOUR + 20 * MIN; // NTP step / resume from suspend: now reads 02:30
    w.clock.advance(MIN);
    assert.deepEqual(w.fired, [
      { key: "hourly", at: "2030-01-01T02:00:00.000Z", skipped: 1, wall: "2030-01-01T02:31:00.000Z" },
    ]);
    assert.equal(w.sched.next("hourly")?.toISOString(), "2030-01-01T03:00:00.000Z");
  });

  it("after a wall-clock jump forward, a newly set key fires at its time, not at the old timer's wake-up", () => {
    const w = world("2030-01-01T00:00:00Z", { maxSleepMs: HOUR });
    w.set("daily", "@daily"); // timer armed for 01:00
    w.wall.skew = 5 * HOUR; // now reads 05:00
    w.set("soon", "*/5 * * * *", w.now());
    w.clock.advance(10 * MIN);
    assert.deepEqual(
      w.fired.map((f) => `${f.key} ${f.at} at ${f.wall}`),
      [
        "soon 2030-01-01T05:05:00.000Z at 2030-01-01T05:05:00.000Z",
        "soon 2030-01-01T05:10:00.000Z at 2030-01-01T05:10:00.000Z",
      ],
    );
  });

  it("a wall clock that goes back repeats nothing: it waits for the next instant", () => {
    const w = world("2030-01-01T00:00:00Z", { maxSleepMs: MIN });
    w.set("hourly", "@hourly");
    w.clock.advance(HOUR + MIN); // 01:00 fired
    w.wall.skew = -HOUR; // now reads 00:01 again
    w.clock.advance(2 * HOUR);
    assert.deepEqual(
      w.fired.map((f) => `${f.at} at ${f.wall}`),
      [
        "2030-01-01T01:00:00.000Z at 2030-01-01T01:00:00.000Z",
        "2030-01-01T02:00:00.000Z at 2030-01-01T02:00:00.000Z",
      ],
    );
  });

  it("a late timer does not shift the series: each next fire is computed from the scheduled instant", () => {
    // Timers that always fire 7 s late (a busy event loop).
    const late = (c: FakeClock): Timers => ({
      setTimeout: (fn, ms) => c.setTimeout(fn, ms + 7000),
      clearTimeout: (h) => c.clearTimeout(h),
    });
    const w = world("2030-01-01T00:00:00Z", { timers: late });
    w.set("m", "* * * * *");
    w.clock.advance(3 * MIN + 10_000);
    assert.deepEqual(
      w.fired.map((f) => `${f.at} at ${f.wall}`),
      [
        "2030-01-01T00:01:00.000Z at 2030-01-01T00:01:07.000Z",
        "2030-01-01T00:02:00.000Z at 2030-01-01T00:02:07.000Z",
        "2030-01-01T00:03:00.000Z at 2030-01-01T00:03:07.000Z",
      ],
    );
  });

  it("a fire callback that throws is reported and the others keep firing", () => {
    const w = world("2030-01-01T00:00:00Z");
    w.sched.set("bad", "* * * * *", new Date(w.clock.now()), () => {
      throw new Error("sidecar down");
    });
    w.set("good", "* * * * *");
    w.clock.advance(5 * MIN);
    assert.equal(w.fired.length, 5);
    assert.equal(w.errors.length, 5);
    assert.ok(w.errors.every(([k, e]) => k === "bad" && (e as Error).message === "sidecar down"));
    assert.equal(w.sched.next("bad")?.toISOString(), "2030-01-01T00:06:00.000Z");
  });

  it("a callback may replace or remove schedules while firing", () => {
    const w = world("2030-01-01T00:00:00Z");
    w.sched.set("self", "* * * * *", new Date(w.clock.now()), (t) => {
      w.fired.push({ key: "self", at: t.toISOString(), skipped: 0, wall: iso(w.now()) });
      w.sched.remove("victim");
      w.sched.set("self", "@hourly", t, w.record("self-hourly"));
    });
    w.set("victim", "* * * * *");
    w.clock.advance(2 * HOUR);
    assert.deepEqual(
      w.fired.map((f) => `${f.key} ${f.at}`),
      [
        "self 2030-01-01T00:01:00.000Z",
        "self-hourly 2030-01-01T01:00:00.000Z",
        "self-hourly 2030-01-01T02:00:00.000Z",
      ],
    );
  });

  it("a callback that re-sets its key in the past fires again on a later timer turn, not in a loop", () => {
    let turns = 0;
    const counted = (c: FakeClock): Timers => ({
      setTimeout: (fn, ms) =>
        c.setTimeout(() => {
          turns++;
          fn();
        }, ms),
      clearTimeout: (h) => c.clearTimeout(h),
    });
    const w = world("2030-01-01T00:30:00Z", { timers: counted });
    const past = new Date("2030-01-01T00:00:00Z");
    let left = 3;
    const again = (t: Date): void => {
      w.fired.push({ key: "again", at: t.toISOString(), skipped: 0, wall: iso(w.now()) });
      if (left-- > 0) w.sched.set("again", "*/10 * * * *", past, again);
    };
    w.sched.set("again", "*/10 * * * *", past, again);
    w.clock.advance(0);
    assert.equal(w.fired.length, 4);
    assert.ok(w.fired.every((f) => f.at === "2030-01-01T00:30:00.000Z"));
    assert.equal(turns, 4, "one fire per timer turn");
  });

  it("@every counts from `after` (lastScheduleTime): a restart does not postpone it", () => {
    const w = world("2030-01-01T00:40:00Z");
    const last = Date.parse("2030-01-01T00:00:00Z");
    w.set("e", "@every 1h", last); // the runner restarted 40 min after the last run
    w.clock.advance(HOUR);
    assert.deepEqual(
      w.fired.map((f) => f.at),
      ["2030-01-01T01:00:00.000Z"],
    );
  });

  it("`after` in the past: fires at once, once, for the most recent due instant", () => {
    const w = world("2030-01-01T05:30:00Z");
    w.set("h", "@hourly", Date.parse("2030-01-01T00:00:00Z"));
    w.clock.advance(0);
    assert.deepEqual(w.fired, [
      { key: "h", at: "2030-01-01T05:00:00.000Z", skipped: 4, wall: "2030-01-01T05:30:00.000Z" },
    ]);
  });

  it("an invalid schedule throws robfig's message and keeps the key's previous schedule", () => {
    const w = world("2030-01-01T00:00:00Z");
    w.set("a", "@hourly");
    assert.throws(
      () => w.set("a", "0 0 * * 7"),
      (e: unknown) =>
        e instanceof CasskeeperError &&
        e.stage === "runner" &&
        e.code === "schedule.invalid" &&
        e.message === "end of range (7) above maximum (6): 7",
    );
    assert.equal(w.sched.next("a")?.toISOString(), "2030-01-01T01:00:00.000Z");
  });

  it("a schedule that never fires is kept without a next time or a timer", () => {
    const w = world("2030-01-01T00:00:00Z");
    w.set("never", "0 0 30 2 *");
    assert.equal(w.sched.size(), 1);
    assert.equal(w.sched.next("never"), undefined);
    assert.equal(w.clock.waiting, 0);
  });

  it("stop clears every key and the timer; set after stop does nothing", () => {
    const w = world("2030-01-01T00:00:00Z");
    w.set("a", "* * * * *");
    w.sched.stop();
    assert.equal(w.clock.waiting, 0);
    assert.equal(w.sched.size(), 0);
    w.set("b", "* * * * *");
    w.clock.advance(HOUR);
    assert.equal(w.fired.length, 0);
  });

  it("10,000 keys: each fires its instants in order, once each, on one timer", () => {
    const w = world("2030-01-01T00:00:00Z");
    const specs = ["@hourly", "*/5 * * * *", "CRON_TZ=Asia/Tokyo 0 9 * * *", "15,45 * * * *"];
    const keys: { key: string; spec: string; after: number }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const spec = i % 2 === 0 ? `@every ${(i % 60) + 1}s` : (specs[(i >> 1) % specs.length] as string);
      const after = w.clock.now() - (i % 1000); // staggered by up to a second
      keys.push({ key: `k${i}`, spec, after });
      w.set(`k${i}`, spec, after);
    }
    assert.equal(w.sched.size(), 10_000);
    const end = w.clock.now() + 5 * MIN;
    w.clock.advance(5 * MIN);
    assert.equal(w.clock.waiting, 1);
    const got = new Map<string, string[]>();
    for (const f of w.fired) {
      assert.equal(f.skipped, 0);
      assert.equal(f.wall, f.at);
      const list = got.get(f.key);
      if (list === undefined) got.set(f.key, [f.at]);
      else list.push(f.at);
    }
    for (const { key, spec, after } of keys) {
      const r = parseStandard(spec);
      assert.ok(r.ok);
      const expected: string[] = [];
      for (let t = r.schedule.next(after); t !== undefined && t <= end; t = r.schedule.next(t))
        expected.push(iso(t));
      assert.deepEqual(got.get(key) ?? [], expected, `${key} ${spec}`);
    }
  });
});

describe("scheduler on DST days (robfig's behaviour, checked against robfig/cron v3.0.1 in Go)", () => {
  // (scenario, schedule, start, hours to run, fire times)
  const table: [string, string, string, number, string[]][] = [
    [
      "Europe/Paris spring forward: 02:30 does not exist on 31 March, that day has no run",
      "CRON_TZ=Europe/Paris 30 2 * * *",
      "2024-03-30T00:00:00Z",
      72,
      ["2024-03-30T01:30:00.000Z", "2024-04-01T00:30:00.000Z"],
    ],
    [
      "Europe/Paris fall back: 02:30 happens twice on 27 October, robfig runs both",
      "CRON_TZ=Europe/Paris 30 2 * * *",
      "2024-10-26T12:00:00Z",
      48,
      ["2024-10-27T00:30:00.000Z", "2024-10-27T01:30:00.000Z", "2024-10-28T01:30:00.000Z"],
    ],
    [
      "America/New_York fall back: 01:30 happens twice on 3 November, robfig runs both (EDT, then EST)",
      "CRON_TZ=America/New_York 30 1 * * *",
      "2024-11-02T12:00:00Z",
      48,
      ["2024-11-03T05:30:00.000Z", "2024-11-03T06:30:00.000Z", "2024-11-04T06:30:00.000Z"],
    ],
    [
      "America/New_York spring forward: 02:30 does not exist on 10 March",
      "CRON_TZ=America/New_York 30 2 * * *",
      "2024-03-09T12:00:00Z",
      72,
      ["2024-03-11T06:30:00.000Z", "2024-03-12T06:30:00.000Z"],
    ],
    [
      "Europe/Paris hourly on the fall-back day: 25 runs in the 25-hour local day, one an hour",
      "CRON_TZ=Europe/Paris 0 * * * *",
      "2024-10-26T21:30:00Z", // 23:30 on the 26th in Paris
      25,
      Array.from({ length: 25 }, (_, h) => iso(Date.parse("2024-10-26T22:00:00Z") + h * HOUR)),
    ],
  ];
  for (const [name, spec, start, hours, expected] of table) {
    it(name, () => {
      const w = world(start);
      w.set("dst", spec);
      for (let i = 0; i < hours; i++) w.clock.advance(HOUR);
      assert.deepEqual(
        w.fired.map((f) => f.at),
        expected,
      );
    });
  }
});

describe("scheduler properties", () => {
  it("over a simulated week, every key fires each of its robfig instants once, in increasing order", () => {
    const spec = fc.oneof(
      { weight: 3, arbitrary: validSpec().map((m) => m.spec) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 7200 }).map((s) => `@every ${s}s`) },
      { weight: 1, arbitrary: fc.constantFrom("@hourly", "@daily", "@weekly", "*/5 * * * *") },
    );
    fc.assert(
      fc.property(
        fc.array(spec, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.array(fc.integer({ min: MIN, max: 6 * HOUR }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 10 * MIN, max: 2 * HOUR }), // maxSleepMs
        (specs, start, steps, maxSleepMs) => {
          const w = world(iso(start), { maxSleepMs });
          specs.forEach((s, i) => {
            w.set(`k${i}`, s);
          });
          const end = start + 7 * DAY;
          let k = 0;
          while (w.clock.now() < end)
            w.clock.advance(Math.min(steps[k++ % steps.length] as number, end - w.clock.now()));
          specs.forEach((s, i) => {
            const r = parseStandard(s);
            assert.ok(r.ok);
            const expected: string[] = [];
            for (let t = r.schedule.next(start); t !== undefined && t <= end; t = r.schedule.next(t))
              expected.push(iso(t));
            const got = w.fired.filter((f) => f.key === `k${i}`);
            assert.deepEqual(
              got.map((f) => f.at),
              expected,
              s,
            );
            assert.ok(got.every((f) => f.skipped === 0 && f.wall === f.at));
          });
          assert.ok(w.clock.waiting <= 1);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("nextTimes and the scheduler agree on the first fires after `after`", () => {
    fc.assert(
      fc.property(
        validSpec(),
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
        (m, start) => {
          const w = world(iso(start));
          w.set("k", m.spec);
          const r = parseStandard(m.spec);
          assert.ok(r.ok);
          assert.equal(w.sched.next("k")?.getTime(), nextTimes(r.schedule, start, 1)[0]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
