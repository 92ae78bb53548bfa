// robfig/cron v3.0.1 `ParseStandard` (parser.go with options Minute|Hour|Dom|Month|Dow|Descriptor), ported
// exactly: same accepted language, same error text. Every branch below mirrors a line of parser.go.

import { type GoDurationResult, parseGoDuration } from "./go-duration.ts";
import { goAtoi, goFields, goStringSlice, goTrimSpace, splitCommas } from "./go-strings.ts";
import {
  ConstantDelaySchedule,
  type FieldBits,
  type Schedule,
  type SpecFields,
  SpecSchedule,
} from "./spec.ts";
import { loadLocation, UTC_ZONE, type Zone } from "./zones.ts";

export type ParseResult = { ok: true; schedule: Schedule } | { ok: false; error: string; panics?: boolean };

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: ReadonlyMap<string, number>;
}

export const MINUTES: Bounds = { min: 0, max: 59 };
export const HOURS: Bounds = { min: 0, max: 23 };
export const DOM: Bounds = { min: 1, max: 31 };
export const MONTHS: Bounds = {
  min: 1,
  max: 12,
  names: new Map(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map((n, i) => [
      n,
      i + 1,
    ]),
  ),
};
export const DOW: Bounds = {
  min: 0,
  max: 6,
  names: new Map(["sun", "mon", "tue", "wed", "thu", "fri", "sat"].map((n, i) => [n, i])),
};

type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** mustParseInt: Atoi, then no negatives. */
function mustParseInt(expr: string): Result<bigint> {
  const n = goAtoi(expr);
  if (!n.ok) return { ok: false, error: `failed to parse int from ${expr}: ${n.error}` };
  if (n.value < 0n) return { ok: false, error: `negative number (${n.value}) not allowed: ${expr}` };
  return n;
}

/**
 * Go's `strings.ToLower`, as far as a name lookup can tell: simple case mapping, under which only
 * U+0130 (İ → i) and U+212A (Kelvin sign → k) lower-case to ASCII, so `FRİ` is Friday in Go. JavaScript's
 * toLowerCase uses full mappings (`İ` → `i̇`), so it is not used.
 */
function goLowerAscii(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) out += String.fromCharCode(c + 32);
    else if (c === 0x130) out += "i";
    else if (c === 0x212a) out += "k";
    else out += s[i];
  }
  return out;
}

/** parseIntOrName: 3-letter names, lower-cased, only in the field that has them. */
function parseIntOrName(expr: string, names: ReadonlyMap<string, number> | undefined): Result<bigint> {
  if (names !== undefined) {
    const named = names.get(goLowerAscii(expr));
    if (named !== undefined) return { ok: true, value: BigInt(named) };
  }
  return mustParseInt(expr);
}

/** getRange: `number | number "-" number [ "/" number ]`, `*` or `?`, with bits and the star flag. */
function getRange(expr: string, r: Bounds, bits: Uint8Array): Result<boolean> {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = (rangeAndStep[0] as string).split("-");
  const singleDigit = lowAndHigh.length === 1;
  let start: bigint;
  let end: bigint;
  let step: bigint;
  let star = false;
  const low = lowAndHigh[0] as string;
  if (low === "*" || low === "?") {
    // Anything after "*-" is ignored: "*-5" is "*". "?" is "*" in every field (robfig/cron#45).
    start = BigInt(r.min);
    end = BigInt(r.max);
    star = true;
  } else {
    const s = parseIntOrName(low, r.names);
    if (!s.ok) return s;
    start = s.value;
    if (lowAndHigh.length === 1) {
      end = start;
    } else if (lowAndHigh.length === 2) {
      const e = parseIntOrName(lowAndHigh[1] as string, r.names);
      if (!e.ok) return e;
      end = e.value;
    } else {
      return { ok: false, error: `too many hyphens: ${expr}` };
    }
  }
  if (rangeAndStep.length === 1) {
    step = 1n;
  } else if (rangeAndStep.length === 2) {
    const st = mustParseInt(rangeAndStep[1] as string);
    if (!st.ok) return st;
    step = st.value;
    // "N/step" means "N-max/step".
    if (singleDigit) end = BigInt(r.max);
    if (step > 1n) star = false;
  } else {
    return { ok: false, error: `too many slashes: ${expr}` };
  }
  if (start < BigInt(r.min)) {
    return { ok: false, error: `beginning of range (${start}) below minimum (${r.min}): ${expr}` };
  }
  if (end > BigInt(r.max))
    return { ok: false, error: `end of range (${end}) above maximum (${r.max}): ${expr}` };
  if (start > end)
    return { ok: false, error: `beginning of range (${start}) beyond end of range (${end}): ${expr}` };
  if (step === 0n) return { ok: false, error: `step of range should be a positive number: ${expr}` };
  const stepN = Number(step);
  for (let i = Number(start); i <= Number(end); i += stepN) bits[i] = 1;
  return { ok: true, value: star };
}

/** getField: a comma-separated list of ranges; empty items are skipped (`1,,2`; a bare `,` sets nothing). */
function getField(field: string, r: Bounds): Result<FieldBits> {
  const bits = new Uint8Array(64);
  let star = false;
  for (const expr of splitCommas(field)) {
    const res = getRange(expr, r, bits);
    if (!res.ok) return res;
    star = star || res.value;
  }
  return { ok: true, value: { bits, star } };
}

function range(min: number, max: number, star: boolean): FieldBits {
  const bits = new Uint8Array(64);
  for (let i = min; i <= max; i++) bits[i] = 1;
  return { bits, star };
}

const one = (v: number): FieldBits => {
  const bits = new Uint8Array(64);
  bits[v] = 1;
  return { bits, star: false };
};

const ALL_DOM = (): FieldBits => range(1, 31, true);
const ALL_MONTHS = (): FieldBits => range(1, 12, true);
const ALL_DOW = (): FieldBits => range(0, 6, true);

/** The five-field spec each descriptor stands for (what parseDescriptor builds). */
export const DESCRIPTORS: ReadonlyMap<string, string> = new Map([
  ["@yearly", "0 0 1 1 *"],
  ["@annually", "0 0 1 1 *"],
  ["@monthly", "0 0 1 * *"],
  ["@weekly", "0 0 * * 0"],
  ["@daily", "0 0 * * *"],
  ["@midnight", "0 0 * * *"],
  ["@hourly", "0 * * * *"],
]);

function descriptorFields(d: string): SpecFields | undefined {
  switch (d) {
    case "@yearly":
    case "@annually":
      return { minute: one(0), hour: one(0), dom: one(1), month: one(1), dow: ALL_DOW() };
    case "@monthly":
      return { minute: one(0), hour: one(0), dom: one(1), month: ALL_MONTHS(), dow: ALL_DOW() };
    case "@weekly":
      return { minute: one(0), hour: one(0), dom: ALL_DOM(), month: ALL_MONTHS(), dow: one(0) };
    case "@daily":
    case "@midnight":
      return { minute: one(0), hour: one(0), dom: ALL_DOM(), month: ALL_MONTHS(), dow: ALL_DOW() };
    case "@hourly":
      return {
        minute: one(0),
        hour: range(0, 23, true),
        dom: ALL_DOM(),
        month: ALL_MONTHS(),
        dow: ALL_DOW(),
      };
    default:
      return undefined;
  }
}

/** What a successful parse found, for the checks and the explanation. */
export interface ParsedSpec {
  readonly schedule: SpecSchedule | ConstantDelaySchedule;
  /** The zone name exactly as written after `TZ=`/`CRON_TZ=`, or undefined without a prefix. */
  readonly zoneName: string | undefined;
  readonly prefix: "TZ=" | "CRON_TZ=" | undefined;
  /** The spec after the prefix (trimmed), as robfig continues with it. */
  readonly body: string;
  /** The descriptor (`@daily`, `@every`), if any. */
  readonly descriptor: string | undefined;
  /** The five fields as split by `strings.Fields`, for field specs. */
  readonly fieldTexts: readonly string[] | undefined;
  /** For `@every`: the parsed duration before `Every` rounded it. */
  readonly every: GoDurationResult | undefined;
}

export type DetailedParseResult =
  | { ok: true; parsed: ParsedSpec }
  | { ok: false; error: string; panics?: boolean };

/** Parse with everything the checks need to know. `parseStandard` is this without the details. */
export function parseDetailed(spec: string): DetailedParseResult {
  if (spec.length === 0) return { ok: false, error: "empty spec string" };
  let zone: Zone = UTC_ZONE;
  let zoneName: string | undefined;
  let prefix: "TZ=" | "CRON_TZ=" | undefined;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    prefix = spec.startsWith("TZ=") ? "TZ=" : "CRON_TZ=";
    // robfig slices spec[eq+1:i] with i the first ASCII space; with no space, i is -1 and Go panics
    // (robfig/cron#554, #470): the operator crashes or drops the schedule, so refuse it here.
    const i = spec.indexOf(" ");
    if (i < 0) {
      return {
        ok: false,
        panics: true,
        error: `time zone prefix ${JSON.stringify(spec)} must be followed by a space and a schedule (robfig/cron panics on this input, robfig/cron#554)`,
      };
    }
    const eq = spec.indexOf("=");
    zoneName = spec.slice(eq + 1, i);
    const loc = loadLocation(zoneName);
    if (!loc.ok) return { ok: false, error: `provided bad location ${zoneName}: ${loc.error}` };
    zone = loc.zone;
    spec = goTrimSpace(spec.slice(i));
  }
  const base = { zoneName, prefix, body: spec };
  if (spec.startsWith("@")) {
    const fields = descriptorFields(spec);
    if (fields !== undefined) {
      return {
        ok: true,
        parsed: {
          ...base,
          schedule: new SpecSchedule(fields, zone),
          descriptor: spec,
          fieldTexts: undefined,
          every: undefined,
        },
      };
    }
    const every = "@every ";
    if (spec.startsWith(every)) {
      const d = parseGoDuration(spec.slice(every.length));
      if (!d.ok) return { ok: false, error: `failed to parse duration ${spec}: ${d.error}` };
      return {
        ok: true,
        parsed: {
          ...base,
          schedule: new ConstantDelaySchedule(d.nanos, zone.name),
          descriptor: "@every",
          fieldTexts: undefined,
          every: d,
        },
      };
    }
    return { ok: false, error: `unrecognized descriptor: ${spec}` };
  }
  const fields = goFields(spec);
  if (fields.length !== 5) {
    return {
      ok: false,
      error: `expected exactly 5 fields, found ${fields.length}: ${goStringSlice(fields)}`,
    };
  }
  const [mi, h, dm, mo, dw] = fields as [string, string, string, string, string];
  const minute = getField(mi, MINUTES);
  if (!minute.ok) return minute;
  const hour = getField(h, HOURS);
  if (!hour.ok) return hour;
  const dom = getField(dm, DOM);
  if (!dom.ok) return dom;
  const month = getField(mo, MONTHS);
  if (!month.ok) return month;
  const dow = getField(dw, DOW);
  if (!dow.ok) return dow;
  const specFields: SpecFields = {
    minute: minute.value,
    hour: hour.value,
    dom: dom.value,
    month: month.value,
    dow: dow.value,
  };
  return {
    ok: true,
    parsed: {
      ...base,
      schedule: new SpecSchedule(specFields, zone),
      descriptor: undefined,
      fieldTexts: fields,
      every: undefined,
    },
  };
}

/**
 * robfig/cron v3.0.1 `ParseStandard`: five fields (minute hour day-of-month month day-of-week), the
 * descriptors, `@every <Go duration>`, and an optional `TZ=`/`CRON_TZ=` prefix. Inputs that make robfig
 * panic (a zone prefix with no space after it) come back as `ok: false, panics: true`.
 */
export function parseStandard(spec: string): ParseResult {
  const r = parseDetailed(spec);
  if (!r.ok) return r;
  return { ok: true, schedule: r.parsed.schedule };
}

/** Iterates `next` `count` times from `fromEpochMs`; stops early when the schedule never fires again. */
export function nextTimes(schedule: Schedule, fromEpochMs: number, count: number): number[] {
  const out: number[] = [];
  let t = fromEpochMs;
  for (let i = 0; i < count; i++) {
    const n = schedule.next(t);
    if (n === undefined) break;
    out.push(n);
    t = n;
  }
  return out;
}
