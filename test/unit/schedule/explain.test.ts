// explainSchedule: the schedule in plain English, from the parsed fields.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { explainSchedule } from "../../../src/core/schedule/index.ts";

describe("explainSchedule", () => {
  // (expression, explanation)
  const cases: [string, string][] = [
    ["CRON_TZ=Europe/Paris 30 2 * * *", "at 02:30 every day (Europe/Paris)"], // daily in a zone
    ["30 2 * * *", "at 02:30 every day"], // UTC is not named
    ["@every 1h30m", "every 1h30m0s"], // Go's Duration.String
    ["@every 500ms", "every 1s"], // what robfig runs
    ["0 */2 * * MON", "at minute 0 past every 2nd hour on Mondays"], // step in hours
    ["0 1-23/2 * * *", "at minute 0 past every 2nd hour from 01:00"], // offset step
    ["* * * * *", "every minute"], // every minute
    ["*/5 * * * *", "every 5 minutes"], // every 5 minutes
    ["0-59/15 9-17 * * MON-FRI", "every 15 minutes during hours 9 through 17 on Monday through Friday"], // office hours
    ["5/15 * * * *", "at minutes 5, 20, 35 and 50 past every hour"], // N/step listed
    ["0 9,17 * * *", "at 09:00 and 17:00 every day"], // two times
    ["@hourly", "at minute 0 past every hour"], // descriptor
    ["@daily", "at 00:00 every day"], // descriptor
    ["@weekly", "at 00:00 on Sundays"], // descriptor
    ["@monthly", "at 00:00 on day 1 of the month"], // descriptor
    ["@yearly", "at 00:00 on 1 January"], // descriptor
    ["CRON_TZ=Asia/Tokyo @daily", "at 00:00 every day (Asia/Tokyo)"], // descriptor in a zone
    ["0 0 1,15 * *", "at 00:00 on days 1 and 15 of the month"], // days of month
    ["0 0 13 * FRI", "at 00:00 on day 13 of the month or on Fridays"], // OR
    ["0 0 */1 * MON", "at 00:00 on Mondays"], // AND through the star bit
    ["0 0 1-31 * MON", "at 00:00 every day"], // OR with every day
    ["0 0 * * SAT,SUN", "at 00:00 on Sundays and Saturdays"], // two weekdays
    ["0 0 1 */3 *", "at 00:00 on day 1 of the month in every 3rd month"], // quarterly
    ["0 12 * JAN-MAR,OCT *", "at 12:00 every day in January through March and October"], // month ranges
    ["0 0 30 2 *", "at 00:00 on 30 February; never fires: day 30 never occurs in February (at most 29 days)"], // never
    ["0 0 * * 7", "invalid schedule: end of range (7) above maximum (6): 7"], // invalid
  ];
  for (const [expr, text] of cases) {
    it(`${JSON.stringify(expr)} → ${text}`, () => assert.equal(explainSchedule(expr), text));
  }

  it("never throws, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => {
        assert.equal(typeof explainSchedule(s), "string");
      }),
      { numRuns: 2000 },
    );
  });
});
