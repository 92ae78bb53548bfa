// checkSchedule: every problem at once — robfig's error verbatim, panics, never-firing schedules, and
// warnings for accepted-but-odd spellings.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatProblem } from "../../../src/core/problem.ts";
import { checkSchedule, SCHEDULE_CODES } from "../../../src/core/schedule/index.ts";

const P = "spec.schedule";
const codes = (expr: string): string[] => checkSchedule(expr, P).map((p) => `${p.severity} ${p.code}`);

describe("checkSchedule errors", () => {
  // (expression, the single error as printed)
  const errors: [string, string][] = [
    ["0 0 * * 7", "spec.schedule: end of range (7) above maximum (6): 7"], // robfig's message verbatim
    [
      "@every 1d",
      'spec.schedule: failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"',
    ], // Go's
    ["0 0 * *", "spec.schedule: expected exactly 5 fields, found 4: [0 0 * *]"], // field count
    ["0 0 30 2 *", "spec.schedule: schedule never fires: day 30 never occurs in February (at most 29 days)"], // impossible date
    [
      "0 0 31 4,6 *",
      "spec.schedule: schedule never fires: day 31 never occurs in April and June (at most 30 days)",
    ], // impossible in every listed month
    [
      "0 0 30,31 2 *",
      "spec.schedule: schedule never fires: days 30 and 31 never occur in February (at most 29 days)",
    ], // two days
    [", * * * *", 'spec.schedule: schedule never fires: the minute field "," selects no values'], // bare comma
    ["0 ,,, * * *", 'spec.schedule: schedule never fires: the hour field ",,," selects no values'], // hour
    ["0 0 * , *", 'spec.schedule: schedule never fires: the month field "," selects no values'], // month
    ["0 0 * * ,", 'spec.schedule: schedule never fires: the day of week field "," selects no days'], // AND with empty DOW
    ["0 0 , * *", 'spec.schedule: schedule never fires: the day of month field "," selects no days'], // AND with empty DOM
  ];
  for (const [expr, printed] of errors) {
    it(`${JSON.stringify(expr)} → ${printed}`, () => {
      const errs = checkSchedule(expr, P).filter((p) => p.severity === "error");
      assert.deepEqual(errs.map(formatProblem), [printed]);
    });
  }

  // (expression) — robfig panics: schedule.panics
  for (const expr of ["CRON_TZ=UTC", "TZ=", "TZ=0", "TZ=TZ=TZ="]) {
    it(`${JSON.stringify(expr)} → schedule.panics`, () => {
      const [p, ...rest] = checkSchedule(expr, P);
      assert.equal(rest.length, 0);
      assert.equal(p?.code, "schedule.panics");
      assert.equal(p?.severity, "error");
      assert.match(p?.message ?? "", /must be followed by a space.*robfig\/cron#554/);
    });
  }

  it("uses codes from SCHEDULE_CODES with their severities", () => {
    for (const expr of [
      "0 0 * * 7",
      "CRON_TZ=UTC",
      "0 0 30 2 *",
      "? 0 * * *",
      "@every 1.5s",
      "*/2 * * * *",
    ]) {
      for (const p of checkSchedule(expr, P)) {
        const info = SCHEDULE_CODES[p.code as keyof typeof SCHEDULE_CODES];
        assert.ok(info, p.code);
        assert.equal(p.severity, info.severity, p.code);
      }
    }
  });
});

describe("checkSchedule warnings", () => {
  // (expression, problems as "severity code", a fragment of the first message)
  const cases: [string, string[], RegExp | undefined][] = [
    ["0 2 * * *", [], undefined], // plain: nothing to say
    ["@midnight", [], undefined], // descriptor: nothing
    ["TZ=Europe/Paris 30 2 * * *", [], undefined], // TZ= is fine
    ["05 02 * * *", [], undefined], // leading zeros are fine
    ["0 0 * * MON-FRI", [], undefined], // day of week alone: fine
    ["@every 24h", [], undefined], // whole minutes: no alignment warning
    ["0 ? * * *", ["warning schedule.unusual-syntax"], /"\?" as "\*".*robfig\/cron#45.*write "\*"/], // ?
    ["0 0 ? * MON", ["warning schedule.unusual-syntax"], /day of month "\?"/], // Quartz habit
    ["+5 0 * * *", ["warning schedule.unusual-syntax"], /leading "\+".*write "5"/], // +5
    ["0 0 */+2 * *", ["warning schedule.unusual-syntax"], /write "\*\/2"/], // + in a step
    ["0 *-5 * * *", ["warning schedule.unusual-syntax"], /ignores the range end.*write "\*"/], // *-5
    ["*-foo/5 0 * * *", ["warning schedule.unusual-syntax"], /write "\*\/5"/], // *-foo with a step
    ["1,,31 0 * * *", ["warning schedule.unusual-syntax"], /empty list items.*write "1,31"/], // 1,,2
    [",5 0 * * *", ["warning schedule.unusual-syntax"], /write "5"/], // leading comma
    ["0 0 */1 * MON", ["warning schedule.day-semantics"], /"\*\/1".*AND.*Mondays/], // */1 keeps the star bit
    ["0 0 *,13 * FRI", ["warning schedule.day-semantics"], /AND.*Fridays/], // * in a list keeps it too
    ["0 0 13 * */1", ["warning schedule.day-semantics"], /day of week "\*\/1".*AND/], // the other way round
    ["0 0 13 * FRI", ["warning schedule.day-semantics"], /EITHER matches \(OR\)/], // Vixie OR
    ["0 0 1-31 * MON", ["warning schedule.day-semantics"], /"1-31" covers every day/], // OR: daily
    ["0 0 31 * *", ["warning schedule.skips-months"], /February, April, June, September and November/], // day 31
    ["0 0 29 * *", ["warning schedule.skips-months"], /February in common years/], // day 29
    ["0 0 29 2 *", ["warning schedule.skips-months"], /only on 29 February/], // leap day only
    ["@every 500ms", ["warning schedule.every-rounded", "warning schedule.too-frequent"], /every second/], // < 1s
    ["@every -1h", ["warning schedule.every-rounded", "warning schedule.too-frequent"], /every second/], // negative
    ["@every 1h0.5s", ["warning schedule.every-rounded"], /drops the sub-second part.*every 1h0m0s/], // truncated
    ["@every 90s", ["warning schedule.every-unaligned", "warning schedule.too-frequent"], /loaded/], // odd seconds
    ["@every 1h30s", ["warning schedule.every-unaligned"], /when the schedule is loaded/], // odd seconds
    [
      "CRON_TZ= 0 0 * * *",
      ["warning schedule.zone"],
      /empty CRON_TZ= zone name means UTC: write CRON_TZ=UTC/,
    ], // empty zone
    ["TZ=Local 0 0 * * *", ["warning schedule.zone"], /Local.*UTC/], // process zone
    ["*/2 * * * *", ["warning schedule.too-frequent"], /2 minutes apart/], // every 2 minutes
    ["* 3 * * *", ["warning schedule.too-frequent"], /1 minute apart/], // every minute for an hour
    ["58 23,0 * * *", [], undefined], // 23:58 and 00:58: an hour apart
    ["58,1 23,0 * * *", ["warning schedule.too-frequent"], /3 minutes apart/], // 23:58 → 00:01
    ["*/5 * * * *", [], undefined], // exactly 5 minutes is allowed
    ["@every 4m", ["warning schedule.too-frequent"], /every 4m0s/], // @every too
  ];
  for (const [expr, want, message] of cases) {
    it(`${JSON.stringify(expr)} → ${want.length === 0 ? "no problems" : want.join(", ")}`, () => {
      assert.deepEqual(codes(expr), want);
      if (message !== undefined) assert.match(checkSchedule(expr, P)[0]?.message ?? "", message);
    });
  }

  it("reports several problems at once", () => {
    assert.deepEqual(codes("? */1 1,,2 * MON"), [
      "warning schedule.unusual-syntax",
      "warning schedule.unusual-syntax",
      "warning schedule.day-semantics",
      "warning schedule.too-frequent",
    ]);
  });

  it("puts every problem at the given path", () => {
    for (const p of checkSchedule("? */1 1,,2 * MON", "spec.x[0]")) assert.equal(p.path, "spec.x[0]");
  });

  it("never throws, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
        const problems = checkSchedule(s, P);
        for (const p of problems) assert.ok(p.message.length > 0 && p.code.startsWith("schedule."));
      }),
      { numRuns: 3000 },
    );
  });
});
