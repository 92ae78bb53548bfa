// Go's `time.ParseDuration` and `Duration.String` (Go 1.19 `src/time/format.go` and `time.go`), exactly:
// robfig's `@every <d>` and the backup `duration` field both take Go durations, and users see Go's error
// text in the operator's logs, so ours must say the same.

const NS = 1n;
const US = 1000n;
const MS = 1_000_000n;
const SEC = 1_000_000_000n;
const MIN = 60n * SEC;
const HOUR = 60n * MIN;
const TWO63 = 1n << 63n;

/** Go's `time.Second` in nanoseconds. */
export const GO_SECOND = SEC;
export const GO_MINUTE = MIN;
export const GO_HOUR = HOUR;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", NS],
  ["us", US],
  ["\u00b5s", US], // U+00B5 MICRO SIGN
  ["\u03bcs", US], // U+03BC GREEK SMALL LETTER MU
  ["ms", MS],
  ["s", SEC],
  ["m", MIN],
  ["h", HOUR],
]);

/**
 * The `time` package's private `quote` (not strconv.Quote): ASCII control characters and every byte of
 * a non-ASCII character's UTF-8 encoding are written as `\xNN`; `"` and `\` get a backslash.
 */
export function goTimeQuote(s: string): string {
  let out = '"';
  const bytes = new TextEncoder().encode(s);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b >= 0x80 || b < 0x20) {
      out += `\\x${b.toString(16).padStart(2, "0")}`;
    } else {
      if (b === 0x22 || b === 0x5c) out += "\\";
      out += String.fromCharCode(b);
    }
  }
  return `${out}"`;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

export type GoDurationResult = { ok: true; nanos: bigint } | { ok: false; error: string };

/**
 * Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or a lone `0`; units ns, us, µs, μs, ms,
 * s, m, h (case-sensitive); at most 2562047h47m16.854775807s. Errors are Go's, e.g.
 * `time: unknown unit "d" in duration "1d"`.
 */
export function parseGoDuration(orig: string): GoDurationResult {
  const invalid = { ok: false as const, error: `time: invalid duration ${goTimeQuote(orig)}` };
  let s = orig;
  let neg = false;
  let d = 0n;
  if (s !== "") {
    const c = s[0];
    if (c === "-" || c === "+") {
      neg = c === "-";
      s = s.slice(1);
    }
  }
  if (s === "0") return { ok: true, nanos: 0n };
  if (s === "") return invalid;
  while (s !== "") {
    let v = 0n;
    let f = 0n;
    let scale = 1;
    const c0 = s.charCodeAt(0);
    if (!(c0 === 46 || isDigit(c0))) return invalid;
    // leadingInt: [0-9]*, failing on overflow past 1<<63.
    let i = 0;
    for (; i < s.length && isDigit(s.charCodeAt(i)); i++) {
      if (v > TWO63 / 10n) return invalid;
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO63) return invalid;
    }
    const pre = i !== 0;
    s = s.slice(i);
    let post = false;
    if (s !== "" && s[0] === ".") {
      s = s.slice(1);
      // leadingFraction: keeps accumulating digits until they would overflow, then just consumes them.
      let j = 0;
      let overflow = false;
      for (; j < s.length && isDigit(s.charCodeAt(j)); j++) {
        if (overflow) continue;
        if (f > (TWO63 - 1n) / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > TWO63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j !== 0;
      s = s.slice(j);
    }
    if (!pre && !post) return invalid;
    let k = 0;
    for (; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c === 46 || isDigit(c)) break;
    }
    if (k === 0) return { ok: false, error: `time: missing unit in duration ${goTimeQuote(orig)}` };
    const u = s.slice(0, k);
    s = s.slice(k);
    const unit = UNITS.get(u);
    if (unit === undefined) {
      return { ok: false, error: `time: unknown unit ${goTimeQuote(u)} in duration ${goTimeQuote(orig)}` };
    }
    if (v > TWO63 / unit) return invalid;
    v *= unit;
    if (f > 0n) {
      // Go does this step in float64 (nanosecond-accurate for fractions of an hour); so do we.
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO63) return invalid;
    }
    // d is a uint64 in Go: 2^63 + 2^63 wraps to 0 and passes this check (so Go parses
    // "9223372036854775808ns9223372036854775808ns" as 0s); keep the wrap.
    d = BigInt.asUintN(64, d + v);
    if (d > TWO63) return invalid;
  }
  if (neg) return { ok: true, nanos: -d };
  if (d > TWO63 - 1n) return invalid;
  return { ok: true, nanos: d };
}

function fmtFrac(v: bigint, prec: number): { text: string; rest: bigint } {
  let text = "";
  let print = false;
  for (let i = 0; i < prec; i++) {
    const digit = v % 10n;
    print = print || digit !== 0n;
    if (print) text = `${digit}${text}`;
    v /= 10n;
  }
  return { text: print ? `.${text}` : "", rest: v };
}

/** Go's `Duration.String()`: `1h30m0s`, `1.5s`, `500ms`, `1µs`, `0s`, `-1h0m0s`. */
export function formatGoDuration(nanos: bigint): string {
  // Durations are int64 in Go; wrap like a conversion would, so any bigint formats.
  let d = BigInt.asIntN(64, nanos);
  const neg = d < 0n;
  let u = neg ? -d : d;
  d = 0n;
  let out: string;
  if (u < SEC) {
    if (u === 0n) return "0s";
    let prec: number;
    let unit: string;
    if (u < US) {
      prec = 0;
      unit = "ns";
    } else if (u < MS) {
      prec = 3;
      unit = "\u00b5s";
    } else {
      prec = 6;
      unit = "ms";
    }
    const { text, rest } = fmtFrac(u, prec);
    out = `${rest}${text}${unit}`;
  } else {
    const { text, rest } = fmtFrac(u, 9);
    u = rest;
    out = `${u % 60n}${text}s`;
    u /= 60n;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? `-${out}` : out;
}
