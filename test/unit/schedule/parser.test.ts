// parseStandard: robfig/cron v3.0.1's accept/reject and its error text, verbatim (operators.md §4.2).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseStandard } from "../../../src/core/schedule/index.ts";

describe("parseStandard accepts what robfig accepts", () => {
  // (spec, kind, location)
  const accepted: [string, "spec" | "every", string][] = [
    ["0 0 * * *", "spec", "UTC"], // plain five fields, no prefix → UTC
    ["? ? ? ? ?", "spec", "UTC"], // ? in every field (robfig/cron#45)
    ["*-5 * * * *", "spec", "UTC"], // range end after * ignored
    ["*-foo * * * *", "spec", "UTC"], // even a non-number
    ["+5 * * * *", "spec", "UTC"], // Atoi takes a leading +
    ["05 * * * *", "spec", "UTC"], // leading zeros
    ["1,,2 * * * *", "spec", "UTC"], // empty list items dropped
    [", * * * *", "spec", "UTC"], // a field of only commas: no bits, still valid
    ["*/100 * * * *", "spec", "UTC"], // step larger than the range
    ["0 0 * * MON-FRI/2", "spec", "UTC"], // names with a step
    ["0 0 * JAN/3 *", "spec", "UTC"], // N/step = N-max/step
    ["0 0 * * mon,Wed,FRI", "spec", "UTC"], // names in any case
    ["0 0 30 2 *", "spec", "UTC"], // impossible date parses (never fires)
    ["0\t0\t*\t*\t*", "spec", "UTC"], // tabs separate fields
    ["0\u00a00 * * *", "spec", "UTC"], // NBSP is a Go space
    ["0\u00850 * * *", "spec", "UTC"], // NEL is a Go space
    ["0 0 * * * ", "spec", "UTC"], // trailing space
    ["@midnight", "spec", "UTC"], // descriptor
    ["@every 1h30m", "every", "UTC"], // constant delay
    ["@every -1h", "every", "UTC"], // negative: robfig clamps to 1s
    ["@every 0", "every", "UTC"], // zero: 1s
    ["@every 1\u00b5s", "every", "UTC"], // micro sign
    ["@every 1\u03bcs", "every", "UTC"], // Greek mu
    ["CRON_TZ=Europe/Paris 30 2 * * *", "spec", "Europe/Paris"], // zone prefix
    ["TZ=US/Eastern 0 0 * * *", "spec", "US/Eastern"], // TZ= and a backward link
    ["CRON_TZ=Etc/GMT+5 0 0 * * *", "spec", "Etc/GMT+5"], // Etc zone
    ["CRON_TZ= 0 0 * * *", "spec", "UTC"], // empty zone name is UTC
    ["CRON_TZ=Local 0 0 * * *", "spec", "UTC"], // Local: the runner's zone, UTC
    ["CRON_TZ=Asia/Tokyo @daily", "spec", "Asia/Tokyo"], // zone + descriptor
    ["CRON_TZ=Asia/Tokyo @every 1h", "every", "Asia/Tokyo"], // zone + @every (zone irrelevant)
    ["TZ=UTC   0 0 * * *", "spec", "UTC"], // spaces after the zone trimmed
    ["CRON_TZ=Europe//Paris 0 0 * * *", "spec", "Europe/Paris"], // Go opens the path: // is /
    ["0 0 * * FR\u0130", "spec", "UTC"], // Go's ToLower(İ) = i: FRİ is Friday
  ];
  for (const [spec, kind, location] of accepted) {
    it(`${JSON.stringify(spec)} → ${kind} in ${location}`, () => {
      const r = parseStandard(spec);
      assert.ok(r.ok, r.ok ? "" : r.error);
      assert.equal(r.schedule.kind, kind);
      assert.equal(r.schedule.location, location);
    });
  }
});

describe("parseStandard rejects what robfig rejects, with robfig's message", () => {
  // (spec, robfig's error)
  const rejected: [string, string][] = [
    ["", "empty spec string"], // empty
    ["@noon", "unrecognized descriptor: @noon"], // not a robfig descriptor
    ["@daily ", "unrecognized descriptor: @daily "], // descriptors are not trimmed
    [" @daily", "expected exactly 5 fields, found 1: [@daily]"], // leading space: field parsing
    ["@Daily", "unrecognized descriptor: @Daily"], // case-sensitive
    ["@every", "unrecognized descriptor: @every"], // no duration
    ["@every  1h", 'failed to parse duration @every  1h: time: invalid duration " 1h"'], // two spaces
    ["@every 1d", 'failed to parse duration @every 1d: time: unknown unit "d" in duration "1d"'], // no days
    ["@every 1H", 'failed to parse duration @every 1H: time: unknown unit "H" in duration "1H"'], // units are lower case
    ["@every 90m ", 'failed to parse duration @every 90m : time: unknown unit "m " in duration "90m "'], // trailing space
    ["@every 2562048h", 'failed to parse duration @every 2562048h: time: invalid duration "2562048h"'], // overflow
    ["@every 1e3s", 'failed to parse duration @every 1e3s: time: unknown unit "e" in duration "1e3s"'], // no exponent
    ["0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"], // no seconds field
    ["0 0 * *", "expected exactly 5 fields, found 4: [0 0 * *]"], // too few
    ["   ", "expected exactly 5 fields, found 0: []"], // only spaces
    ["0\ufeff0 * * *", "expected exactly 5 fields, found 4: [0\ufeff0 * * *]"], // U+FEFF is not a Go space
    ["0 0 * * 7", "end of range (7) above maximum (6): 7"], // Sunday is 0 only
    ["0 0 * * FRI-MON", "beginning of range (5) beyond end of range (1): FRI-MON"], // no wrap-around
    ["0 0 * * MON-SUN", "beginning of range (1) beyond end of range (0): MON-SUN"], // SUN is 0
    ["0 0 * january *", 'failed to parse int from january: strconv.Atoi: parsing "january": invalid syntax'], // 3 letters only
    ["0 0 * mon *", 'failed to parse int from mon: strconv.Atoi: parsing "mon": invalid syntax'], // names in their own field only
    ["0 0 L * *", 'failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax'], // no L
    ["0 0 * * 1#2", 'failed to parse int from 1#2: strconv.Atoi: parsing "1#2": invalid syntax'], // no #
    ["H * * * *", 'failed to parse int from H: strconv.Atoi: parsing "H": invalid syntax'], // no H
    ["*/0 * * * *", "step of range should be a positive number: */0"], // zero step
    ["*/-1 * * * *", "negative number (-1) not allowed: -1"], // negative step
    ["1-2-3 * * * *", "too many hyphens: 1-2-3"], // hyphens
    ["*/5/2 * * * *", "too many slashes: */5/2"], // slashes
    ["/5 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'], // empty start
    ["5- * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'], // empty end
    ["-5 * * * *", 'failed to parse int from : strconv.Atoi: parsing "": invalid syntax'], // leading hyphen
    ["60 * * * *", "end of range (60) above maximum (59): 60"], // minute bound
    ["0 24 * * *", "end of range (24) above maximum (23): 24"], // hour bound
    ["0 0 0 * *", "beginning of range (0) below minimum (1): 0"], // day-of-month bound
    ["0 0 * 13 *", "end of range (13) above maximum (12): 13"], // month bound
    [
      "99999999999999999999 * * * *",
      'failed to parse int from 99999999999999999999: strconv.Atoi: parsing "99999999999999999999": value out of range',
    ], // int64 overflow
    ["0 0 * * \u00e9", 'failed to parse int from \u00e9: strconv.Atoi: parsing "\u00e9": invalid syntax'], // printable rune kept
    ["0 0 * * \u200b", 'failed to parse int from \u200b: strconv.Atoi: parsing "\\u200b": invalid syntax'], // escaped by Quote
    ["0 0 * * \u0001", 'failed to parse int from \u0001: strconv.Atoi: parsing "\\x01": invalid syntax'], // control char
    ["CRON_TZ=Nowhere/City 0 0 * * *", "provided bad location Nowhere/City: unknown time zone Nowhere/City"], // unknown zone
    ["CRON_TZ=utc 0 0 * * *", "provided bad location utc: unknown time zone utc"], // case-sensitive
    ["CRON_TZ=europe/paris 0 0 * * *", "provided bad location europe/paris: unknown time zone europe/paris"], // case-sensitive
    ["CRON_TZ=../etc/passwd 0 0 * * *", "provided bad location ../etc/passwd: time: invalid location name"], // ..
    ["cron_tz=UTC 0 0 * * *", "expected exactly 5 fields, found 6: [cron_tz=UTC 0 0 * * *]"], // prefix is case-sensitive
    ["CRON_TZ=Europe 0 0 * * *", "provided bad location Europe: is a directory"], // Go reads a directory
    ["CRON_TZ=UTC ", "expected exactly 5 fields, found 0: []"], // zone, then nothing
  ];
  for (const [spec, message] of rejected) {
    it(`${JSON.stringify(spec)} → ${message}`, () => {
      const r = parseStandard(spec);
      assert.deepEqual(r, { ok: false, error: message });
    });
  }
});

describe("parseStandard refuses the inputs that make robfig panic (robfig/cron#554, #470)", () => {
  // (spec) — a TZ=/CRON_TZ= prefix with no ASCII space anywhere
  for (const spec of ["CRON_TZ=UTC", "TZ=", "TZ=0", "TZ=TZ=TZ=", "CRON_TZ=UTC\t0\t0\t*\t*\t*"]) {
    it(JSON.stringify(spec), () => {
      const r = parseStandard(spec);
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.panics === true);
      assert.ok(!r.ok && r.error.includes(JSON.stringify(spec)) && r.error.includes("robfig/cron#554"));
    });
  }
});
