// robfig/cron v3.0.1 `SpecSchedule.Next` (spec.go) and `ConstantDelaySchedule.Next` (constantdelay.go),
// ported line by line on epoch milliseconds. Quirks kept on purpose: the search gives up after five
// years (the zero time, here `undefined`); a wall time in a DST gap is moved by Go's `time.Date` rules;
// the midnight correction after `AddDate(0, 0, 1)` adds or removes hours when a DST change moved midnight;
// truncation is on the absolute timeline.

import { MAX_DAYS } from "./describe.ts";
import { addDate, Civil, civilAt, goDate, truncate } from "./go-time.ts";
import type { Zone } from "./zones.ts";

/** A parsed schedule. `next` follows robfig's `Next(t)`: the first activation strictly after `t`. */
export interface Schedule {
  readonly kind: "spec" | "every";
  /** IANA name the schedule runs in; `UTC` when there is no prefix, an empty zone name, or `Local`. */
  readonly location: string;
  /** Epoch ms of the first activation after `afterEpochMs`; `undefined` when robfig returns the zero time. */
  next(afterEpochMs: number): number | undefined;
}

/** The star bit (bit 63 in robfig): set when a field was given as `*` or `?` with step 1. */
export interface FieldBits {
  /** bits[v] is 1 when value v is allowed. */
  readonly bits: Uint8Array;
  readonly star: boolean;
}

export interface SpecFields {
  readonly minute: FieldBits;
  readonly hour: FieldBits;
  readonly dom: FieldBits;
  readonly month: FieldBits;
  readonly dow: FieldBits;
}

/** spec.go `dayMatches`: if either day field has the star bit the two are ANDed, else ORed (Vixie cron). */
export function dayMatches(f: SpecFields, day: number, weekday: number): boolean {
  const domMatch = f.dom.bits[day] === 1;
  const dowMatch = f.dow.bits[weekday] === 1;
  if (f.dom.star || f.dow.star) return domMatch && dowMatch;
  return domMatch || dowMatch;
}

const any = (f: FieldBits, min: number, max: number): boolean => {
  for (let i = min; i <= max; i++) if (f.bits[i] === 1) return true;
  return false;
};

/**
 * Whether some date and time satisfies the fields at all, in any year. When not (a bare `,` field,
 * `0 0 30 2 *`, `0 0 31 4,6 *`), robfig's Next searches five years and returns the zero time from every
 * instant; `next` answers `undefined` at once instead. Every calendar date falls on each weekday in some
 * year, so with AND semantics only "some weekday allowed" matters.
 */
export function canEverFire(f: SpecFields): boolean {
  if (!any(f.minute, 0, 59) || !any(f.hour, 0, 23)) return false;
  const anyDow = any(f.dow, 0, 6);
  const and = f.dom.star || f.dow.star;
  for (let m = 1; m <= 12; m++) {
    if (f.month.bits[m] !== 1) continue;
    if (!and && anyDow) return true;
    for (let d = 1; d <= (MAX_DAYS[m] as number); d++) {
      if (f.dom.bits[d] === 1 && (anyDow || !and)) return true;
    }
  }
  return false;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const SECOND_MS = 1000;
/**
 * robfig's Next loops forever where `AddDate(0, 0, 1)` cannot leave a day: Pacific/Apia skipped 30 December
 * 2011, and `time.Date` maps that day's midnight back onto 29 December's. A webhook must not hang, so the
 * day loop and the wraps share this budget (a five-year search needs about 2,000 steps) and running out
 * answers undefined: never, as robfig's hung scheduler never fires again either.
 */
const MAX_STEPS = 100_000;
/** The ECMAScript time range (±273,790 years): beyond it, millisecond arithmetic loses whole seconds and
 *  Intl has no offsets, so `next` answers undefined there instead of a wrong time. */
const MAX_MS = 8.64e15;
const inRange = (ms: number): boolean => ms >= -MAX_MS && ms <= MAX_MS;

const SECOND_BITS = (() => {
  const b = new Uint8Array(64);
  b[0] = 1;
  return b;
})();

/**
 * How many unit steps robfig's one-step-at-a-time loop (`t = t.Add(unit)` until the field matches or
 * wraps to 0) takes from field value `v`, taken in one jump. Exact while the zone's offset stays the same
 * across the jump, since each step then moves the local field by one; offset changes are days apart, so
 * equal offsets at both ends mean none in between. Otherwise it answers 1 and the loop steps as robfig does.
 */
function stride(bits: Uint8Array, v: number, size: number, t: number, unitMs: number, zone: Zone): number {
  let k = 1;
  while (v + k < size && bits[v + k] !== 1) k++;
  if (k > 1 && zone.fixedOffset === undefined && zone.offsetAt(t) !== zone.offsetAt(t + k * unitMs)) return 1;
  return k;
}

export class SpecSchedule implements Schedule {
  readonly kind = "spec" as const;
  readonly location: string;
  readonly fields: SpecFields;
  readonly zone: Zone;
  /** False when no instant can ever match: `next` is then always undefined, as robfig's zero time. */
  readonly canFire: boolean;
  readonly #c = new Civil();

  constructor(fields: SpecFields, zone: Zone) {
    this.fields = fields;
    this.zone = zone;
    this.location = zone.name;
    this.canFire = canEverFire(fields);
  }

  next(afterEpochMs: number): number | undefined {
    if (!this.canFire || !inRange(afterEpochMs)) return undefined;
    const { minute, hour, month } = this.fields;
    const f = this.fields;
    const zone = this.zone;
    const c = this.#c;
    // Start at the earliest possible time (the upcoming second).
    let t = afterEpochMs + SECOND_MS - (((afterEpochMs % SECOND_MS) + SECOND_MS) % SECOND_MS);
    let added = false;
    civilAt(t, zone, c);
    const yearLimit = c.year + 5;
    let steps = 0;
    wrap: for (;;) {
      if (c.year > yearLimit || ++steps > MAX_STEPS) return undefined;
      while (month.bits[c.month] !== 1) {
        if (!added) {
          added = true;
          t = goDate(c.year, c.month, 1, 0, 0, 0, 0, zone);
          civilAt(t, zone, c);
        }
        t = addDate(c, 0, 1, 0, zone);
        civilAt(t, zone, c);
        if (c.month === 1) continue wrap;
      }
      while (!dayMatches(f, c.day, c.weekday)) {
        if (!added) {
          added = true;
          t = goDate(c.year, c.month, c.day, 0, 0, 0, 0, zone);
          civilAt(t, zone, c);
        }
        t = addDate(c, 0, 0, 1, zone);
        civilAt(t, zone, c);
        // Notice if the hour is no longer midnight due to DST: add an hour if it's 23, subtract if it's 1.
        if (c.hour !== 0) {
          t += c.hour > 12 ? (24 - c.hour) * HOUR_MS : -c.hour * HOUR_MS;
          civilAt(t, zone, c);
        }
        if (c.day === 1) continue wrap;
        if (++steps > MAX_STEPS) return undefined;
      }
      while (hour.bits[c.hour] !== 1) {
        if (!added) {
          added = true;
          t = goDate(c.year, c.month, c.day, c.hour, 0, 0, 0, zone);
          civilAt(t, zone, c);
        }
        t += stride(hour.bits, c.hour, 24, t, HOUR_MS, zone) * HOUR_MS;
        civilAt(t, zone, c);
        if (c.hour === 0) continue wrap;
      }
      while (minute.bits[c.minute] !== 1) {
        if (!added) {
          added = true;
          t = truncate(t, MINUTE_MS);
          civilAt(t, zone, c);
        }
        t += stride(minute.bits, c.minute, 60, t, MINUTE_MS, zone) * MINUTE_MS;
        civilAt(t, zone, c);
        if (c.minute === 0) continue wrap;
      }
      // The seconds field is always exactly {0} for ParseStandard.
      while (c.second !== 0) {
        if (!added) {
          added = true;
          t = truncate(t, SECOND_MS);
          civilAt(t, zone, c);
        }
        t += stride(SECOND_BITS, c.second, 60, t, SECOND_MS, zone) * SECOND_MS;
        civilAt(t, zone, c);
        if (c.second === 0) continue wrap;
      }
      return inRange(t) ? t : undefined;
    }
  }
}

/** constantdelay.go: `@every d`. No wall-clock alignment: each run is `d` after the previous one. */
export class ConstantDelaySchedule implements Schedule {
  readonly kind = "every" as const;
  readonly location: string;
  /** Delay in nanoseconds after robfig's `Every`: at least 1s, sub-second part dropped. */
  readonly delayNanos: bigint;
  /** The delay as given to `@every`, before `Every` rounded it. */
  readonly givenNanos: bigint;
  readonly #delayMs: number;

  constructor(given: bigint, location: string) {
    this.givenNanos = given;
    // Every(): delays under a second become one second; anything below a second is truncated.
    const d = given < 1_000_000_000n ? 1_000_000_000n : given;
    this.delayNanos = d - (d % 1_000_000_000n);
    this.#delayMs = Number(this.delayNanos / 1_000_000n);
    this.location = location;
  }

  next(afterEpochMs: number): number | undefined {
    if (!inRange(afterEpochMs)) return undefined;
    // t.Add(Delay - t.Nanosecond()): lands on a whole second.
    const next = afterEpochMs + this.#delayMs - (((afterEpochMs % SECOND_MS) + SECOND_MS) % SECOND_MS);
    return inRange(next) ? next : undefined;
  }
}
