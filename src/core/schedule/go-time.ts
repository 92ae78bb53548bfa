// The parts of Go's `time` package that robfig's SpecSchedule.Next uses, on epoch milliseconds in a Zone:
// calendar fields (`t.Year()` … `t.Weekday()`), `time.Date` with its normalisation and its choice of
// offset for wall times in a DST gap or overlap, `AddDate`, and `Truncate`. Proleptic Gregorian calendar.

import type { Zone } from "./zones.ts";

/** Days since 1970-01-01 of a civil date (month 1–12; day may overflow, as in Go). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Calendar fields of an instant in a zone; reused by the hot loop, so mutable. */
export class Civil {
  year = 1970;
  month = 1;
  day = 1;
  hour = 0;
  minute = 0;
  second = 0;
  /** Sunday = 0, as Go's `time.Weekday`. */
  weekday = 4;
  /** Milliseconds within the second (Go's `Nanosecond() / 1e6`). */
  millis = 0;
}

/** Fills `out` with the fields of instant `ms` in `zone` (Go's `t.In(loc).Date()`, `Clock()`, `Weekday()`). */
export function civilAt(ms: number, zone: Zone, out: Civil): Civil {
  const off = zone.fixedOffset ?? zone.offsetAt(ms);
  const secs = Math.floor(ms / 1000);
  out.millis = ms - secs * 1000;
  const local = secs + off;
  let days = Math.floor(local / 86400);
  const sod = local - days * 86400;
  out.hour = Math.floor(sod / 3600);
  const rem = sod - out.hour * 3600;
  out.minute = Math.floor(rem / 60);
  out.second = rem - out.minute * 60;
  out.weekday = (((days + 4) % 7) + 7) % 7;
  // Hinnant's civil_from_days.
  days += 719468;
  const era = Math.floor(days / 146097);
  const doe = days - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  out.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  out.month = mp < 10 ? mp + 3 : mp - 9;
  out.year = era * 400 + yoe + (out.month <= 2 ? 1 : 0);
  return out;
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);

/**
 * Go's `time.Date(year, month, day, hour, min, sec, nsec, loc)` with millisecond precision. Out-of-range
 * values normalise (month 13 is January next year, 31 February is early March). The wall time is turned
 * into an instant the way Go 1.19 does it: take the offset in force at the wall time read as UTC; if the
 * instant that gives lies outside that offset's period, use the offset in force at that instant instead.
 * The result in a spring-forward gap is therefore not always "the later side", and in a fall-back overlap
 * it is whichever side that rule lands on.
 */
export function goDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  min: number,
  sec: number,
  millis: number,
  zone: Zone,
): number {
  let m = month - 1;
  year += floorDiv(m, 12);
  m -= floorDiv(m, 12) * 12;
  sec += floorDiv(millis, 1000);
  millis -= floorDiv(millis, 1000) * 1000;
  min += floorDiv(sec, 60);
  sec -= floorDiv(sec, 60) * 60;
  hour += floorDiv(min, 60);
  min -= floorDiv(min, 60) * 60;
  day += floorDiv(hour, 24);
  hour -= floorDiv(hour, 24) * 24;
  const wall = (daysFromCivil(year, m + 1, 1) + day - 1) * 86400 + hour * 3600 + min * 60 + sec;
  let unix = wall;
  if (zone.fixedOffset !== undefined) {
    unix -= zone.fixedOffset;
  } else {
    const offset = zone.offsetAt(wall * 1000);
    // Within the period of `offset` the second lookup returns `offset` again; outside it, Go looks up
    // the offset at the candidate instant. Both cases are this one expression.
    if (offset !== 0) unix -= zone.offsetAt((wall - offset) * 1000);
  }
  return unix * 1000 + millis;
}

/** Go's `t.AddDate(years, months, days)` for `t` in `zone`, whose fields are `c`. */
export function addDate(c: Civil, years: number, months: number, days: number, zone: Zone): number {
  return goDate(c.year + years, c.month + months, c.day + days, c.hour, c.minute, c.second, c.millis, zone);
}

/**
 * Go's `t.Truncate(d)`: rounds down on the absolute timeline since year 1 UTC, not in local time (a zone
 * with a sub-minute offset keeps its odd seconds). Year 1 starts on a whole minute of the Unix epoch, so
 * flooring the epoch milliseconds is the same.
 */
export function truncate(ms: number, unitMs: number): number {
  return ms - (((ms % unitMs) + unitMs) % unitMs);
}
