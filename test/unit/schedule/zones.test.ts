// loadLocation: Go 1.19 time.LoadLocation over a standard zoneinfo tree, and offsets from Intl.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goDate } from "../../../src/core/schedule/go-time.ts";
import { ianaZoneNames, loadLocation } from "../../../src/core/schedule/zones.ts";

describe("loadLocation", () => {
  // (name, zone name or Go's error)
  const cases: [string, { zone: string } | { error: string }][] = [
    ["", { zone: "UTC" }], // empty is UTC
    ["UTC", { zone: "UTC" }], // special name
    ["Local", { zone: "UTC" }], // the process zone; casskeeper's runner is UTC
    ["Europe/Paris", { zone: "Europe/Paris" }], // canonical zone
    ["US/Eastern", { zone: "US/Eastern" }], // backward link
    ["Asia/Calcutta", { zone: "Asia/Calcutta" }], // renamed zone's old name
    ["Etc/GMT+5", { zone: "Etc/GMT+5" }], // Etc zone
    ["EST5EDT", { zone: "EST5EDT" }], // POSIX-style name in the database
    ["Europe//Paris", { zone: "Europe/Paris" }], // a path: // is /
    ["./Europe/Paris", { zone: "Europe/Paris" }], // a path: . stays
    ["utc", { error: "unknown time zone utc" }], // case-sensitive
    ["europe/paris", { error: "unknown time zone europe/paris" }], // case-sensitive
    ["Europe/Pariss", { error: "unknown time zone Europe/Pariss" }], // typo
    ["../etc/passwd", { error: "time: invalid location name" }], // ..
    ["a..b", { error: "time: invalid location name" }], // .. anywhere
    ["/etc/localtime", { error: "time: invalid location name" }], // absolute
    ["\\x", { error: "time: invalid location name" }], // backslash first
    ["Europe", { error: "is a directory" }], // read(2) of a directory
    ["Europe/", { error: "is a directory" }], // same
    ["UTC/x", { error: "not a directory" }], // a file as a directory
    ["Europe/Paris/", { error: "not a directory" }], // trailing slash on a file
    ["zone.tab", { error: "malformed time zone information" }], // not a TZif file
    ["a\u0000b", { error: "invalid argument" }], // NUL in a path
    [`${"x".repeat(256)}`, { error: "file name too long" }], // NAME_MAX
    [`Nowhere/${"x".repeat(256)}`, { error: `unknown time zone Nowhere/${"x".repeat(256)}` }], // ENOENT first
  ];
  for (const [name, want] of cases) {
    it(`${JSON.stringify(name.length > 40 ? `${name.slice(0, 20)}…` : name)} → ${JSON.stringify(want)}`, () => {
      const r = loadLocation(name);
      if ("zone" in want) {
        assert.ok(r.ok, r.ok ? "" : r.error);
        assert.equal(r.zone.name, want.zone);
      } else {
        assert.deepEqual(r, { ok: false, error: want.error });
      }
    });
  }

  it("knows every name in the IANA list, and Intl can load each", () => {
    const names = ianaZoneNames();
    assert.ok(names.size > 500);
    for (const n of names) {
      const r = loadLocation(n);
      assert.ok(r.ok, n);
      assert.equal(typeof r.zone.offsetAt(Date.UTC(2024, 6, 1)), "number");
    }
  });
});

describe("offsets and Go's time.Date", () => {
  const zone = (n: string) => {
    const r = loadLocation(n);
    if (!r.ok) throw new Error(r.error);
    return r.zone;
  };
  // (zone, instant, offset seconds)
  const offsets: [string, string, number][] = [
    ["Europe/Paris", "2024-07-01T00:00:00Z", 7200], // CEST
    ["Europe/Paris", "2024-03-31T00:59:59Z", 3600], // last second of CET
    ["Europe/Paris", "2024-03-31T01:00:00Z", 7200], // first second of CEST
    ["Australia/Lord_Howe", "2024-07-01T00:00:00Z", 37800], // +10:30
    ["Pacific/Chatham", "2024-01-01T00:00:00Z", 49500], // +13:45
    ["Etc/GMT+5", "2024-01-01T00:00:00Z", -18000], // UTC-5
    ["Europe/Paris", "1900-01-01T00:00:00Z", 561], // LMT +00:09:21
  ];
  for (const [name, at, off] of offsets) {
    it(`${name} at ${at} is ${off}s`, () => assert.equal(zone(name).offsetAt(Date.parse(at)), off));
  }

  // (zone, wall time, instant Go's time.Date picks)
  const dates: [string, [number, number, number, number, number], string][] = [
    // Go reads the wall time as UTC, takes the offset in force then, and checks it: west of UTC that
    // lands before the change, east of UTC after it. Values from Go 1.19.
    ["America/New_York", [2024, 3, 10, 2, 30], "2024-03-10T06:30:00Z"], // gap → 01:30 EST
    ["America/New_York", [2024, 11, 3, 1, 30], "2024-11-03T05:30:00Z"], // overlap → the EDT (first) side
    ["Europe/Paris", [2024, 3, 31, 2, 30], "2024-03-31T01:30:00Z"], // gap → 03:30 CEST
    ["Europe/Paris", [2024, 10, 27, 2, 30], "2024-10-27T01:30:00Z"], // overlap → CET side
    ["Europe/Paris", [2024, 2, 30, 0, 0], "2024-02-29T23:00:00Z"], // 30 Feb normalises to 1 Mar
    ["UTC", [2024, 13, 1, 0, 0], "2025-01-01T00:00:00Z"], // month 13 is next January
  ];
  for (const [name, [y, mo, d, h, mi], want] of dates) {
    it(`time.Date(${y}-${mo}-${d} ${h}:${mi}, ${name}) = ${want}`, () => {
      assert.equal(
        new Date(goDate(y, mo, d, h, mi, 0, 0, zone(name))).toISOString().replace(".000Z", "Z"),
        want,
      );
    });
  }
});
