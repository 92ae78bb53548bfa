// next(): robfig/cron v3.0.1 SpecSchedule.Next and ConstantDelaySchedule.Next, across DST changes, leap
// days and the five-year search limit. Expected instants come from the Go oracle (test/oracle/robfig).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextTimes, parseStandard, type Schedule } from "../../../src/core/schedule/index.ts";

function schedule(spec: string): Schedule {
  const r = parseStandard(spec);
  if (!r.ok) throw new Error(`${spec}: ${r.error}`);
  return r.schedule;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");

describe("next fire times equal robfig's", () => {
  // (spec, from, robfig's next times)
  const cases: [string, string, string[]][] = [
    // Appendix A base time, a Monday
    ["@midnight", "2024-01-01T00:00:30Z", ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]],
    ["1 1 */2 11 *", "2024-01-01T00:00:30Z", ["2024-11-01T01:01:00Z", "2024-11-03T01:01:00Z"]], // steps in DOM
    ["5/15 * * * *", "2024-01-01T00:00:30Z", ["2024-01-01T00:05:00Z", "2024-01-01T00:20:00Z"]], // N/step
    ["0 0 1-31 * MON", "2024-01-01T00:00:30Z", ["2024-01-02T00:00:00Z"]], // OR: every day
    ["0 0 */1 * MON", "2024-01-01T00:00:30Z", ["2024-01-08T00:00:00Z"]], // AND: the star bit of */1
    ["0 0 */2 * MON", "2024-01-01T00:00:30Z", ["2024-01-03T00:00:00Z"]], // OR: */2 drops the star bit
    [
      "0 0 13 * FRI",
      "2024-01-01T00:00:00Z",
      ["2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z"],
    ], // OR
    ["0 0 29 2 MON", "2024-01-01T00:00:00Z", ["2024-02-05T00:00:00Z", "2024-02-12T00:00:00Z"]], // OR: Mondays in Feb too
    ["0 0 31 * *", "2024-01-31T00:00:00Z", ["2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z"]], // months without 31 skipped
    // leap days and the five-year limit
    [
      "0 0 29 2 *",
      "2024-01-01T00:00:30Z",
      ["2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"],
    ],
    ["0 0 29 2 *", "2097-01-01T00:00:00Z", []], // 2100 is not leap: none within 5 years → zero time
    ["0 0 30 2 *", "2024-01-01T00:00:00Z", []], // never
    [", * * * *", "2024-01-01T00:00:00Z", []], // a field with no bits: never
    // @every: no alignment, sub-second parts dropped from t and from the delay
    ["@every 1h", "2024-01-01T00:00:30.750Z", ["2024-01-01T01:00:30Z", "2024-01-01T02:00:30Z"]],
    ["@every 1.5s", "2024-01-01T00:00:30Z", ["2024-01-01T00:00:31Z", "2024-01-01T00:00:32Z"]],
    ["@every -1h", "2024-01-01T00:00:30Z", ["2024-01-01T00:00:31Z", "2024-01-01T00:00:32Z"]], // clamped to 1s
    // zones
    ["TZ=Europe/Paris 0 0 * * *", "2024-01-01T00:00:30Z", ["2024-01-01T23:00:00Z"]],
    ["CRON_TZ=Asia/Tokyo @daily", "2024-01-01T00:00:30Z", ["2024-01-01T15:00:00Z"]],
    ["CRON_TZ=Asia/Kolkata 0 2 * * *", "2024-01-01T00:00:30Z", ["2024-01-01T20:30:00Z"]], // +05:30
    ["CRON_TZ=Etc/GMT+5 0 0 * * *", "2024-01-01T00:00:30Z", ["2024-01-01T05:00:00Z"]], // POSIX sign: UTC-5
    // spring forward: 02:30 does not exist that day and robfig skips the day
    [
      "CRON_TZ=America/New_York 30 2 * * *",
      "2024-03-09T00:00:00Z",
      ["2024-03-09T07:30:00Z", "2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"],
    ],
    [
      "CRON_TZ=Europe/Paris 30 2 * * *",
      "2024-03-30T00:00:00Z",
      ["2024-03-30T01:30:00Z", "2024-04-01T00:30:00Z", "2024-04-02T00:30:00Z"],
    ],
    // fall back: 02:30 happens twice and robfig fires twice
    [
      "CRON_TZ=Europe/Paris 30 2 * * *",
      "2024-10-26T00:00:00Z",
      ["2024-10-26T00:30:00Z", "2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"],
    ],
    // hourly across both changes
    [
      "CRON_TZ=America/New_York 0 * * * *",
      "2024-11-03T03:30:00Z",
      ["2024-11-03T04:00:00Z", "2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z", "2024-11-03T07:00:00Z"],
    ],
    [
      "CRON_TZ=America/New_York 0 * * * *",
      "2024-03-10T05:30:00Z",
      ["2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"],
    ],
    // Lord Howe moves its clocks by 30 minutes: 01:45 repeats in April
    [
      "CRON_TZ=Australia/Lord_Howe 45 1 * * *",
      "2024-04-06T06:00:00Z",
      ["2024-04-06T14:45:00Z", "2024-04-06T15:15:00Z"],
    ],
    ["CRON_TZ=Australia/Lord_Howe 15 2 * * *", "2024-10-05T06:00:00Z", ["2024-10-06T15:15:00Z"]], // 02:15 skipped
    ["CRON_TZ=Pacific/Chatham 0 3 * * *", "2024-09-28T06:00:00Z", ["2024-09-29T13:15:00Z"]], // +13:45
    // midnight itself missing (DST at 00:00): the midnight correction in the day loop
    [
      "CRON_TZ=America/Sao_Paulo 0 0 * * *",
      "2018-11-02T12:00:00Z",
      ["2018-11-03T03:00:00Z", "2018-11-05T02:00:00Z", "2018-11-06T02:00:00Z"],
    ],
    [
      "CRON_TZ=America/Havana 0 0 * * *",
      "2024-03-09T12:00:00Z",
      ["2024-03-11T04:00:00Z", "2024-03-12T04:00:00Z"],
    ],
    [
      "CRON_TZ=America/Santiago 0 0 * * *",
      "2024-09-06T12:00:00Z",
      ["2024-09-07T04:00:00Z", "2024-09-09T03:00:00Z", "2024-09-10T03:00:00Z"],
    ],
  ];
  for (const [spec, from, expected] of cases) {
    it(`${spec} from ${from}`, () => {
      const s = schedule(spec);
      assert.deepEqual(nextTimes(s, Date.parse(from), Math.max(expected.length, 1)).map(iso), expected);
    });
  }
});

describe("nextTimes", () => {
  it("iterates next() and stops at the first undefined", () => {
    const s = schedule("0 0 29 2 *");
    const from = Date.parse("2092-01-01T00:00:00Z");
    const got = nextTimes(s, from, 10);
    // 2092 and 2096; from 2096-02-29 the five-year window (to 2101) holds no 29 February.
    assert.deepEqual(got.map(iso), ["2092-02-29T00:00:00Z", "2096-02-29T00:00:00Z"]);
  });

  it("returns nothing for count 0", () => {
    assert.deepEqual(nextTimes(schedule("* * * * *"), 0, 0), []);
  });

  it("answers undefined outside the ECMAScript time range instead of looping", () => {
    assert.equal(schedule("* * * * *").next(Number.NaN), undefined);
    assert.equal(schedule("@every 1h").next(Number.POSITIVE_INFINITY), undefined);
    assert.equal(schedule("CRON_TZ=Europe/Paris 30 2 * * *").next(1e300), undefined);
    assert.equal(schedule("0 2 * * *").next(8.64e15), undefined);
    assert.equal(schedule("@every 2562047h").next(8.64e15 - 1000), undefined);
  });
});
