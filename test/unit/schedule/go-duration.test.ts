// parseGoDuration / formatGoDuration: Go 1.19 time.ParseDuration and Duration.String, exactly.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatGoDuration, parseGoDuration } from "../../../src/core/schedule/index.ts";

describe("parseGoDuration", () => {
  // (input, nanoseconds)
  const ok: [string, bigint][] = [
    ["1h30m", 5_400_000_000_000n], // two units
    [".5h", 1_800_000_000_000n], // no integer part
    ["1.h", 3_600_000_000_000n], // no fraction digits
    ["+1h", 3_600_000_000_000n], // plus sign
    ["-1h", -3_600_000_000_000n], // minus sign
    ["0", 0n], // a lone zero needs no unit
    ["-0", 0n], // signed zero
    ["500ms", 500_000_000n], // milliseconds
    ["1\u00b5s", 1000n], // micro sign U+00B5
    ["1\u03bcs", 1000n], // Greek mu U+03BC
    ["1us", 1000n], // ASCII u
    ["1ns", 1n], // nanoseconds
    ["1.0000000001s", 1_000_000_000n], // fraction below 1ns truncated
    ["0.1ns", 0n], // truncates to zero
    ["1h0.5m", 3_630_000_000_000n], // fraction of a minute
    ["2562047h", 9_223_369_200_000_000_000n], // largest whole hour count
    ["2562047h47m16.854775807s", 9_223_372_036_854_775_807n], // max int64
    ["-2562047h47m16.854775808s", -9_223_372_036_854_775_808n], // min int64
    ["9223372036854775807ns", 9_223_372_036_854_775_807n], // max as ns
    ["0.000000001h", 3600n], // a billionth of an hour
    ["0.0000000000001h", 0n], // float64 step of Go: 0.36ns → 0
    ["1.5h1.5m1.5s", 5_491_500_000_000n], // fractions in several units
    ["000001s", 1_000_000_000n], // leading zeros
    ["9223372036854775808ns9223372036854775808ns", 0n], // Go's uint64 sum wraps 2^64 to 0 (found by fuzzing)
    ["-9223372036854775808ns9223372036854775808ns1h", -3_600_000_000_000n], // and keeps going
  ];
  for (const [input, nanos] of ok) {
    it(`${JSON.stringify(input)} = ${nanos}ns`, () => {
      assert.deepEqual(parseGoDuration(input), { ok: true, nanos });
    });
  }

  // (input, Go's error)
  const bad: [string, string][] = [
    ["", 'time: invalid duration ""'], // empty
    ["1d", 'time: unknown unit "d" in duration "1d"'], // no days
    ["1H", 'time: unknown unit "H" in duration "1H"'], // case-sensitive
    ["1e3s", 'time: unknown unit "e" in duration "1e3s"'], // no exponents
    ["1", 'time: missing unit in duration "1"'], // a number alone (but "0")
    ["1.5", 'time: missing unit in duration "1.5"'], // fraction alone
    [".s", 'time: invalid duration ".s"'], // no digits
    ["-", 'time: invalid duration "-"'], // sign alone
    ["h", 'time: invalid duration "h"'], // unit alone
    [" 1h", 'time: invalid duration " 1h"'], // leading space
    ["90m ", 'time: unknown unit "m " in duration "90m "'], // trailing space joins the unit
    ["2562048h", 'time: invalid duration "2562048h"'], // overflow
    ["9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'], // int64 overflow
    ["1\u00e9", 'time: unknown unit "\\xc3\\xa9" in duration "1\\xc3\\xa9"'], // time's own quote: UTF-8 bytes
    ["1\ts", 'time: unknown unit "\\x09s" in duration "1\\x09s"'], // control characters as \x
    ['1"s', 'time: unknown unit "\\"s" in duration "1\\"s"'], // quote escaped
  ];
  for (const [input, error] of bad) {
    it(`${JSON.stringify(input)} → ${error}`, () => {
      assert.deepEqual(parseGoDuration(input), { ok: false, error });
    });
  }

  it("never throws, for any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        const r = parseGoDuration(s);
        assert.ok(r.ok ? typeof r.nanos === "bigint" : r.error.startsWith("time: "));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("formatGoDuration", () => {
  // (nanoseconds, Go's String())
  const cases: [bigint, string][] = [
    [0n, "0s"], // zero
    [1n, "1ns"], // nanoseconds
    [1500n, "1.5\u00b5s"], // micro sign
    [1_000_000n, "1ms"], // milliseconds
    [1_500_000_000n, "1.5s"], // fractional seconds
    [60_000_000_000n, "1m0s"], // minutes always show seconds
    [5_400_000_000_000n, "1h30m0s"], // hours
    [-3_600_000_000_000n, "-1h0m0s"], // negative
    [9_223_372_036_854_775_807n, "2562047h47m16.854775807s"], // max
    [-9_223_372_036_854_775_808n, "-2562047h47m16.854775808s"], // min
  ];
  for (const [nanos, text] of cases) {
    it(`${nanos}ns → ${text}`, () => assert.equal(formatGoDuration(nanos), text));
  }

  it("round-trips through parseGoDuration", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }), (n) => {
        assert.deepEqual(parseGoDuration(formatGoDuration(n)), { ok: true, nanos: n });
      }),
      { numRuns: 2000 },
    );
  });
});
