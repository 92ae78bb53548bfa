import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkBandwidth,
  checkConcurrentConnections,
  checkDuration,
  parseBandwidth,
} from "../../../src/core/rules/tuning.ts";
import { assertProblems, type Expect, err, warn } from "./fixtures.ts";

describe("checkDuration (Go time.ParseDuration via ../schedule)", () => {
  const D = "spec.duration";
  const cases: [string, unknown, Expect[]][] = [
    // (15m) → valid, but icarus 1.x may refuse any duration over REST
    ["15m", "15m", [warn(D, "duration.unsupported", "sidecar.md §2.1")]],
    // (1d) → Go has no day unit
    ["1d", "1d", [err(D, "duration.invalid", '"1d"')]],
    // (0, -15m) → Go accepts them, a backup cannot last no time
    ["zero", "0", [err(D, "duration.invalid", "must be positive")]],
    ["negative", "-15m", [err(D, "duration.invalid", "must be positive")]],
    // (empty / absent) → unset
    ["empty", "", []],
    // (absent) → unset
    ["absent", undefined, []],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assertProblems(checkDuration(input, D), expected, name));
  }
});

describe("parseBandwidth / checkBandwidth (CassKop dataRateFromBandwidth)", () => {
  const B = "spec.bandwidth";
  test("parseBandwidth reads CassKop's units", () => {
    assert.deepEqual(parseBandwidth("10M"), { value: 10, unit: "MBPS" });
    assert.deepEqual(parseBandwidth("1 024 k"), { value: 1024, unit: "KBPS" });
    assert.deepEqual(parseBandwidth("2g"), { value: 2, unit: "GBPS" });
    assert.deepEqual(parseBandwidth("1024"), { value: 1024, unit: "BPS" });
    assert.equal(parseBandwidth("10MB"), undefined);
    assert.equal(parseBandwidth("2147483648"), undefined);
    assert.deepEqual(parseBandwidth("2147483647"), { value: 2147483647, unit: "BPS" });
  });
  const cases: [string, unknown, Expect[]][] = [
    // (10M, lower-case, spaces) → fine
    ["10M", "10M", []],
    // (lower-case unit) → fine
    ["lower", "512k", []],
    // (spaces around) → removed, fine
    ["spaces", " 10 M ", []],
    // (MB suffix) → CassKop would silently drop it
    ["10MB", "10MB", [err(B, "bandwidth.invalid", '"10MB"', "silently")]],
    // (decimal) → not \d+
    ["decimal", "1.5G", [err(B, "bandwidth.invalid")]],
    // (tab) → only spaces are removed
    ["tab", "10\tM", [err(B, "bandwidth.invalid")]],
    // (Kelvin sign) → Go's (?i) would match it, the sidecar's enum would not
    ["kelvin", "10\u212A", [err(B, "bandwidth.invalid")]],
    // (int32 overflow) → would wrap in Go's int32()
    ["overflow", "2147483648", [err(B, "bandwidth.invalid", "32 bits")]],
    // (zero) → no transfer at all
    ["zero", "0M", [err(B, "bandwidth.invalid", "greater than 0")]],
    // (empty / absent) → no limit
    ["empty", "", []],
    // (spaces only) → unset
    ["blank", "  ", []],
    // (absent) → unset
    ["absent", undefined, []],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assertProblems(checkBandwidth(input, B), expected, name));
  }
});

describe("checkConcurrentConnections", () => {
  const C = "spec.concurrentConnections";
  const cases: [string, unknown, Expect[]][] = [
    // (10, 1, 50, 100) → fine / warning above 50
    ["10", 10, []],
    // (1) → fine
    ["1", 1, []],
    // (50) → fine, the warning threshold
    ["50", 50, []],
    // (51) → warning
    ["51", 51, [warn(C, "concurrent-connections.high", "default is 10")]],
    // (100) → warning, the maximum
    ["100", 100, [warn(C, "concurrent-connections.high")]],
    // (0, -1, 101, 2.5) → error
    ["0", 0, [err(C, "concurrent-connections.invalid", "1 to 100", "default of 10")]],
    // (-1) → error
    ["negative", -1, [err(C, "concurrent-connections.invalid")]],
    // (101) → error above the maximum
    ["101", 101, [err(C, "concurrent-connections.invalid")]],
    // (2.5) → error
    ["fraction", 2.5, [err(C, "concurrent-connections.invalid")]],
    // (NaN) → error
    ["NaN", Number.NaN, [err(C, "concurrent-connections.invalid")]],
    // (string, absent) → schema's business
    ["string", "10", []],
    // (absent) → unset
    ["absent", undefined, []],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assertProblems(checkConcurrentConnections(input, C), expected, name));
  }
});
