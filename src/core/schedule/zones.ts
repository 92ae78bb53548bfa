// Time zones as Go's `time.LoadLocation` sees them, with offsets from Intl.
//
// Validity comes from the exact-case IANA name list (zone-names.ts), because Go is case-sensitive and
// reads files, while Intl ignores case and canonicalises. Offsets come from Intl (pure: no clock, no fs),
// cached per zone as the list of offset changes in fixed-size chunks of time, so a lookup is a map hit
// and a short scan.

import { daysFromCivil } from "./go-time.ts";
import { ZONE_NAMES } from "./zone-names.ts";

/** A location: the offset east of UTC, in seconds, in force at an instant. */
export interface Zone {
  /** The name the schedule gave (`US/Eastern`, `Europe/Paris`), or `UTC`. */
  readonly name: string;
  /** Seconds east of UTC when the zone never changes offset (UTC, Etc/GMT+5), else undefined. */
  readonly fixedOffset: number | undefined;
  /** Seconds east of UTC in force at `ms` (epoch milliseconds). */
  offsetAt(ms: number): number;
}

class FixedZone implements Zone {
  readonly name: string;
  readonly fixedOffset: number;
  constructor(name: string, offset: number) {
    this.name = name;
    this.fixedOffset = offset;
  }
  offsetAt(_ms: number): number {
    return this.fixedOffset;
  }
}

export const UTC_ZONE: Zone = new FixedZone("UTC", 0);

const DAY_MS = 86_400_000;
/** Offset changes are at least ~95 hours apart in every zone since 1900 (checked against Go's tzdata), so
 *  sampling every 2 days cannot miss a change and its reversal. */
const SAMPLE_MS = 2 * DAY_MS;
/** 64 samples per chunk (~128 days). */
const CHUNK_MS = 64 * SAMPLE_MS;
/** Intl works on the ECMAScript time range only. */
const MAX_MS = 8.64e15;

interface Chunk {
  /** starts[i] is the first instant (ms) of offsets[i]; starts[0] is the chunk's start. */
  readonly starts: number[];
  readonly offsets: number[];
}

class IntlZone implements Zone {
  readonly name: string;
  readonly fixedOffset = undefined;
  readonly #format: Intl.DateTimeFormat;
  readonly #chunks = new Map<number, Chunk>();
  #lastIndex = Number.NaN;
  #last: Chunk | undefined;

  constructor(name: string, intlName: string) {
    this.name = name;
    this.#format = new Intl.DateTimeFormat("en-US", {
      timeZone: intlName,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  /** The offset Intl reports at a whole second, in seconds. */
  #intlOffset(ms: number): number {
    const at = Math.max(-MAX_MS, Math.min(MAX_MS, Math.floor(ms / 1000) * 1000));
    let y = 0;
    let mo = 1;
    let d = 1;
    let h = 0;
    let mi = 0;
    let s = 0;
    let bc = false;
    for (const p of this.#format.formatToParts(at)) {
      switch (p.type) {
        case "year":
          y = Number(p.value);
          break;
        case "month":
          mo = Number(p.value);
          break;
        case "day":
          d = Number(p.value);
          break;
        case "hour":
          h = Number(p.value);
          break;
        case "minute":
          mi = Number(p.value);
          break;
        case "second":
          s = Number(p.value);
          break;
        case "era":
          bc = p.value.startsWith("B");
          break;
      }
    }
    if (bc) y = 1 - y;
    const local = (daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
    return Math.round((local - at) / 1000);
  }

  #chunk(index: number): Chunk {
    let c = this.#chunks.get(index);
    if (c === undefined) {
      const start = index * CHUNK_MS;
      const starts = [start];
      const offsets = [this.#intlOffset(start)];
      let prevT = start;
      let prevOff = offsets[0] as number;
      for (let t = start + SAMPLE_MS; t <= start + CHUNK_MS; t += SAMPLE_MS) {
        const off = this.#intlOffset(t);
        if (off !== prevOff) {
          // Exactly one change in (prevT, t]: find its first second by bisection.
          let lo = prevT / 1000;
          let hi = t / 1000;
          while (hi - lo > 1) {
            const mid = Math.floor((lo + hi) / 2);
            if (this.#intlOffset(mid * 1000) === prevOff) lo = mid;
            else hi = mid;
          }
          const at = hi * 1000;
          if (at < start + CHUNK_MS) {
            starts.push(at);
            offsets.push(off);
          }
        }
        prevT = t;
        prevOff = off;
      }
      c = { starts, offsets };
      this.#chunks.set(index, c);
    }
    return c;
  }

  offsetAt(ms: number): number {
    const index = Math.floor(ms / CHUNK_MS);
    let c: Chunk;
    if (index === this.#lastIndex) {
      c = this.#last as Chunk;
    } else {
      c = this.#chunk(index);
      this.#lastIndex = index;
      this.#last = c;
    }
    const starts = c.starts;
    let i = starts.length - 1;
    // Transitions fall on whole seconds; compare at second resolution like Go does.
    const sec = Math.floor(ms / 1000) * 1000;
    while (i > 0 && sec < (starts[i] as number)) i--;
    return c.offsets[i] as number;
  }
}

let zoneNames: ReadonlySet<string> | undefined;
let zoneDirs: ReadonlySet<string> | undefined;

/** The exact-case IANA names (zones and links) Go finds in a standard zoneinfo tree. */
export function ianaZoneNames(): ReadonlySet<string> {
  if (zoneNames === undefined) {
    zoneNames = new Set(ZONE_NAMES.split(" "));
    const dirs = new Set<string>();
    for (const n of zoneNames) {
      const parts = n.split("/");
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join("/"));
    }
    zoneDirs = dirs;
  }
  return zoneNames;
}

/** Data files `zic` installs beside the zones; Go reads them and finds no TZif header. */
const NON_ZONE_FILES: ReadonlySet<string> = new Set([
  "iso3166.tab",
  "leap-seconds.list",
  "leapseconds",
  "tzdata.zi",
  "zone.tab",
  "zone1970.tab",
]);

/** Names whose offset never changes: the UTC aliases and the Etc/ zones. */
function isFixed(name: string): boolean {
  return (
    name.startsWith("Etc/") || /^(UTC|UCT|GMT|GMT0|GMT\+0|GMT-0|Greenwich|Universal|Zulu|Factory)$/.test(name)
  );
}

const cache = new Map<string, Zone>();

export type LoadLocationResult = { ok: true; zone: Zone } | { ok: false; error: string };

const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/** ENOENT everywhere: Go then tries /usr/share/lib/zoneinfo/, whose longer path can hit PATH_MAX first. */
function notFound(name: string): LoadLocationResult {
  if (utf8Length(name) + "/usr/share/lib/zoneinfo/".length >= 4096)
    return { ok: false, error: "file name too long" };
  return { ok: false, error: `unknown time zone ${name}` };
}

/**
 * Go 1.19 `time.LoadLocation` on a Linux host whose /usr/share/zoneinfo holds the standard tzdata tree.
 * `""` and `UTC` are UTC; `Local` is the process zone, which casskeeper's runner keeps at UTC. A name
 * with `..` or a leading slash is `time: invalid location name`; otherwise the name is walked as a path,
 * so `Europe//Paris` and `./UTC` load, `Europe` fails with "is a directory", `UTC/x` with "not a
 * directory", a zoneinfo data file with "malformed time zone information", and a name Go would not find
 * with `unknown time zone <name>`. Which names exist depends on the host's tzdata; this list is the
 * IANA release in zone-names.ts.
 */
export function loadLocation(name: string): LoadLocationResult {
  if (name === "" || name === "UTC" || name === "Local") return { ok: true, zone: UTC_ZONE };
  if (name.includes("..") || name[0] === "/" || name[0] === "\\") {
    return { ok: false, error: "time: invalid location name" };
  }
  const cached = cache.get(name);
  if (cached !== undefined) return { ok: true, zone: cached };
  const names = ianaZoneNames();
  const dirs = zoneDirs as ReadonlySet<string>;
  // open(2) of "/usr/share/zoneinfo/" + name: the whole path must stay under PATH_MAX (4096 with NUL).
  if (utf8Length(name) + "/usr/share/zoneinfo/".length >= 4096)
    return { ok: false, error: "file name too long" };
  if (name.includes("\u0000")) return { ok: false, error: "invalid argument" };
  // Walk the components as the kernel does: "" and "." stay put.
  let path = "";
  const parts = name.split("/");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (utf8Length(part) > 255) return { ok: false, error: "file name too long" };
    if (part === "" || part === ".") {
      if (path !== "" && !dirs.has(path)) return { ok: false, error: "not a directory" };
      continue;
    }
    if (path !== "" && !dirs.has(path)) {
      return names.has(path) || NON_ZONE_FILES.has(path)
        ? { ok: false, error: "not a directory" }
        : notFound(name);
    }
    path = path === "" ? part : `${path}/${part}`;
    if (!names.has(path) && !dirs.has(path) && !NON_ZONE_FILES.has(path)) return notFound(name);
  }
  if (path === "" || dirs.has(path)) return { ok: false, error: "is a directory" };
  if (NON_ZONE_FILES.has(path)) return { ok: false, error: "malformed time zone information" };
  if (path === "UTC") return { ok: true, zone: UTC_ZONE };
  let zone: Zone;
  try {
    if (path === "Factory") zone = new FixedZone(path, 0);
    else if (isFixed(path)) zone = new FixedZone(path, new IntlZone(path, path).offsetAt(0));
    else zone = new IntlZone(path, path);
  } catch {
    // A name newer than Node's ICU data (zone-names.ts regenerated from a newer tzdata): Go would load
    // it, but without offsets no fire time can be computed, so refuse it rather than guess.
    return { ok: false, error: `unknown time zone ${name}` };
  }
  cache.set(name, zone);
  return { ok: true, zone };
}
