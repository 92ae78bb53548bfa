// Properties of the port that hold for any input: no throws, and next() times that are increasing,
// match their fields in their zone, and agree with nextTimes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { checkSchedule, nextTimes, parseStandard } from "../../../src/core/schedule/index.ts";
import { cronSpec, instant, type SpecModel, validSpec } from "./cron-arbitraries.ts";

const formats = new Map<string, Intl.DateTimeFormat>();
/** Local calendar fields from Intl directly, independent of the port's own arithmetic. */
function local(ms: number, zone: string) {
  let f = formats.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
      weekday: "short",
    });
    formats.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(ms).map((p) => [p.type, p.value]));
  return {
    minute: Number(parts.minute),
    hour: Number(parts.hour),
    day: Number(parts.day),
    month: Number(parts.month),
    weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(String(parts.weekday)),
    second: Number(parts.second),
  };
}

function matches(m: SpecModel, ms: number): boolean {
  const t = local(ms, m.zone);
  const [minute, hour, dom, month, dow] = m.fields as [SpecModel["fields"][0], ...SpecModel["fields"]];
  if (
    t.second !== 0 ||
    !minute.values.has(t.minute) ||
    !hour?.values.has(t.hour) ||
    !month?.values.has(t.month)
  ) {
    return false;
  }
  const domMatch = dom?.values.has(t.day) ?? false;
  const dowMatch = dow?.values.has(t.weekday) ?? false;
  // spec.go dayMatches: AND when either field carries the star bit, else OR.
  return dom?.star || dow?.star ? domMatch && dowMatch : domMatch || dowMatch;
}

describe("properties", () => {
  it("parseStandard, checkSchedule never throw for arbitrary strings (Unicode included)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 50 }), cronSpec()), (s) => {
        const r = parseStandard(s);
        assert.equal(typeof r.ok, "boolean");
        assert.ok(Array.isArray(checkSchedule(s, "spec.schedule")));
      }),
      { numRuns: 3000 },
    );
  });

  it("every spec robfig accepts gives strictly increasing next() times that agree with nextTimes", () => {
    fc.assert(
      fc.property(cronSpec(), instant(), (spec, from) => {
        const r = parseStandard(spec);
        fc.pre(r.ok);
        if (!r.ok) return;
        const times = nextTimes(r.schedule, from, 5);
        let t = from;
        for (const n of times) {
          assert.ok(n > t, `${spec}: ${n} after ${t}`);
          assert.equal(r.schedule.next(t), n);
          t = n;
        }
        if (times.length < 5) assert.equal(r.schedule.next(t), undefined);
      }),
      { numRuns: 1500 },
    );
  });

  it("every next() time of a valid spec matches its fields in its zone (star-bit AND/OR rule)", () => {
    fc.assert(
      fc.property(validSpec(), instant(), (m, from) => {
        const r = parseStandard(m.spec);
        assert.ok(r.ok, `${m.spec}: ${r.ok ? "" : r.error}`);
        for (const n of nextTimes(r.schedule, from, 4)) {
          assert.ok(matches(m, n), `${m.spec}: ${new Date(n).toISOString()} does not match`);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
