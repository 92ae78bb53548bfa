// Scalars exactly as kubectl reads them. kubectl and the API server turn YAML into JSON with sigs.k8s.io/yaml
// (ghodss/yaml `YAMLToJSON`), which decodes with gopkg.in/yaml.v2 into interface{} and then json.Marshal's the
// result. So a plain scalar means what yaml.v2's `resolve` makes of it, and a map key becomes the string that
// ghodss's key conversion prints. Both YAML readers (the fast path and the `yaml` package fallback) resolve
// through this file; test/fixtures/loader/kube-yaml-golden.json holds the Go answers it is checked against.
//
// Decisions (each matches yaml.v2 2.4.0 + ghodss, unless it says otherwise):
// - Booleans are the YAML 1.1 spellings yaml.v2 lists: y Y yes Yes YES true True TRUE on On ON and their
//   negatives. `tRUE`, `yES` stay strings.
// - Nulls: empty, ~, null, Null, NULL.
// - Integers: Go's strconv.ParseInt(s, 0, 64) after deleting every `_`: 0755 is octal, 0o17, 0x1F, 0b101,
//   +5; above int64 and up to uint64 still a number; `-0` is 0. Larger or malformed ones may still be floats.
// - Floats: yaml.v2's regexp, then Go's ParseFloat; one that overflows (1e400) stays a string.
// - Timestamps (2024-01-01) and sexagesimal numbers (1:20) stay strings: yaml.v2 keeps a timestamp's text when
//   decoding into interface{}, and has no base 60.
// - .inf, -.inf and .nan are floats JSON cannot hold: json.Marshal fails, so kubectl rejects the document.
//   Callers treat a non-finite number as "not JSON" (the loader reports it; the fast path declines).
// - JS numbers are doubles, so integers beyond 2^53 lose precision (the JSON the API server stores would keep
//   them); objects hold the nearest double, as JSON.parse of kubectl's JSON would.
// - Keys: booleans become "true"/"false", integers their decimal ("0x1F" → "31"), floats Go's float32 %g
//   ("1e6" → "1e+06", "123456789.0" → "1.2345679e+08", .inf → ".inf"). A null key or one above int64 makes
//   YAMLToJSON fail. (Keys that collide once converted are refused by the loader, unlike kubectl: see
//   yaml-documents.ts.)
// - Double quotes: yaml.v2's escapes, which include `\'` and exclude `\/` (kubectl refuses "\/").
// - Explicit tags (`!!int "5"`, `!!binary`, `!!timestamp`) resolve and fail as in yaml.v2; unknown tags leave
//   a string.

/** A plain scalar's JSON value: string, number (NaN/±Infinity mean "not JSON"), boolean or null. */
export type PlainValue = string | number | boolean | null;

// yaml.v2's resolveTable: the first character decides what a plain scalar may be.
const SIGN = 1;
const DIGIT = 2;
const MAPPED = 3;
const DOT = 4;
const HINT = new Uint8Array(128);
HINT[0x2b] = SIGN;
HINT[0x2d] = SIGN;
for (let c = 0x30; c <= 0x39; c++) HINT[c] = DIGIT;
for (const c of "yYnNtTfFoO~") HINT[c.charCodeAt(0)] = MAPPED;
HINT[0x2e] = DOT;

// yaml.v2's resolveMap, without `<<` (its first character has no hint, so resolve never looks it up).
const SPECIAL = new Map<string, PlainValue>();
for (const [value, spellings] of [
  [true, "y Y yes Yes YES true True TRUE on On ON"],
  [false, "n N no No NO false False FALSE off Off OFF"],
  [null, "~ null Null NULL"],
  [Number.NaN, ".nan .NaN .NAN"],
  [Number.POSITIVE_INFINITY, ".inf .Inf .INF +.inf +.Inf +.INF"],
  [Number.NEGATIVE_INFINITY, "-.inf -.Inf -.INF"],
] as const) {
  for (const s of spellings.split(" ")) SPECIAL.set(s, value);
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
// Go's ParseFloat on text that starts with `.` (once `_` separators are checked and dropped).
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;
// Go's underscoreOK for such text: each `_` between two digits.
const GO_UNDERSCORES = /^[^_]*(?:(?<=[0-9])_(?=[0-9])[^_]*)*$/;
const SHORT_DECIMAL = /^(?:0|[1-9][0-9]{0,14})$/;
const MAX_UINT64 = (1n << 64n) - 1n;
const INT64_CUTOFF = 1n << 63n;

type Numeric =
  | { readonly kind: "int"; readonly value: bigint }
  | { readonly kind: "uint"; readonly value: bigint }
  | { readonly kind: "float"; readonly value: number };

/** The JSON value of a plain (unquoted, untagged) scalar, as yaml.v2 resolves it. */
export function resolvePlain(s: string): PlainValue {
  if (s.length === 0) return null;
  const c = s.charCodeAt(0);
  const hint = c < 128 ? (HINT[c] ?? 0) : 0;
  if (hint === 0) return s;
  const special = SPECIAL.get(s);
  if (special !== undefined) return special;
  if (hint === MAPPED) return s;
  if (hint === DIGIT && SHORT_DECIMAL.test(s)) return Number(s);
  const n = numeric(s, hint);
  if (n === undefined) return s;
  return n.kind === "float" ? n.value : Number(n.value);
}

/**
 * The JSON object key ghodss makes of a plain map key, or undefined when YAMLToJSON fails on it (a null key,
 * or an integer above int64, which yaml.v2 decodes as uint64 and ghodss does not convert).
 */
export function plainKeyString(s: string): string | undefined {
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(0);
  const hint = c < 128 ? (HINT[c] ?? 0) : 0;
  if (hint === 0) return s;
  const special = SPECIAL.get(s);
  if (special !== undefined) return keyOf(special);
  if (hint === MAPPED) return s;
  const n = numeric(s, hint);
  if (n === undefined) return s;
  if (n.kind === "int") return n.value.toString();
  if (n.kind === "uint") return undefined;
  return keyOf(n.value);
}

function keyOf(v: PlainValue): string | undefined {
  if (v === null) return undefined;
  if (typeof v === "number") return floatKey(v);
  return String(v);
}

/** ghodss: strconv.FormatFloat(k, 'g', -1, 32), with Go's infinities and NaN renamed to YAML's. */
function floatKey(v: number): string {
  const s = goFormatFloat32(v);
  return s === "+Inf" ? ".inf" : s === "-Inf" ? "-.inf" : s === "NaN" ? ".nan" : s;
}

/** yaml.v2's reading of a scalar that may be a number (hint DOT, DIGIT or SIGN), or undefined for a string. */
function numeric(s: string, hint: number): Numeric | undefined {
  if (hint === DOT) {
    const digits = s.includes("_") && GO_UNDERSCORES.test(s) ? s.replaceAll("_", "") : s;
    if (!DOT_FLOAT.test(digits)) return undefined;
    const f = Number(digits);
    return Number.isFinite(f) ? { kind: "float", value: f } : undefined;
  }
  // (A timestamp would be tried first; its text is kept, and no timestamp parses as a number below.)
  const plain = s.includes("_") ? s.replaceAll("_", "") : s;
  const i = goParseInt(plain, 0);
  if (i !== undefined) return { kind: "int", value: i };
  const u = goParseUint(plain, 0);
  if (u !== undefined) return { kind: "uint", value: u };
  if (YAML_STYLE_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return { kind: "float", value: f };
  }
  // yaml.v2's own binary fallbacks (reachable only for oddities such as `0b+101`).
  if (plain.startsWith("0b")) {
    const bi = goParseInt(plain.slice(2), 2);
    if (bi !== undefined) return { kind: "int", value: bi };
    const bu = goParseUint(plain.slice(2), 2);
    if (bu !== undefined) return { kind: "uint", value: bu };
  } else if (plain.startsWith("-0b")) {
    const bi = goParseInt(`-${plain.slice(3)}`, 2);
    if (bi !== undefined) return { kind: "int", value: bi };
  }
  return undefined;
}

/** Go's strconv.ParseUint(s, base, 64); base 0 reads 0x/0o/0b/0 prefixes. Undefined on any error. */
function goParseUint(s: string, base: number): bigint | undefined {
  if (s.length === 0) return undefined;
  let i = 0;
  if (base === 0) {
    base = 10;
    if (s.charCodeAt(0) === 0x30) {
      const p = s.length >= 3 ? s.charCodeAt(1) | 0x20 : 0;
      if (p === 0x62) [base, i] = [2, 2];
      else if (p === 0x6f) [base, i] = [8, 2];
      else if (p === 0x78) [base, i] = [16, 2];
      else [base, i] = [8, 1];
    }
  }
  const b = BigInt(base);
  let n = 0n;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const lower = c | 0x20;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : lower >= 0x61 && lower <= 0x7a ? lower - 0x57 : 99;
    if (d >= base) return undefined;
    n = n * b + BigInt(d);
    if (n > MAX_UINT64) return undefined;
  }
  return n;
}

/** Go's strconv.ParseInt(s, base, 64). Undefined on any error. */
function goParseInt(s: string, base: number): bigint | undefined {
  if (s.length === 0) return undefined;
  const c = s.charCodeAt(0);
  const neg = c === 0x2d;
  const un = goParseUint(neg || c === 0x2b ? s.slice(1) : s, base);
  if (un === undefined) return undefined;
  if (neg ? un > INT64_CUTOFF : un >= INT64_CUTOFF) return undefined;
  return neg ? -un : un;
}

/**
 * Go's strconv.FormatFloat(v, 'g', -1, 32): the shortest decimal that reads back as the same float32, in %e
 * form when the exponent is below -4 or at least 6 (what ghodss prints for a float map key).
 */
export function goFormatFloat32(v: number): string {
  const x = Math.fround(v);
  if (Number.isNaN(x)) return "NaN";
  if (x === Number.POSITIVE_INFINITY) return "+Inf";
  if (x === Number.NEGATIVE_INFINITY) return "-Inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const a = Math.abs(x);
  const [digits, exp] = shortestFloat32Digits(a);
  const nd = digits.length;
  let out: string;
  if (exp < -4 || exp >= 6) {
    const frac = nd > 1 ? `.${digits.slice(1)}` : "";
    out = `${digits[0]}${frac}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  } else {
    const dp = exp + 1;
    if (dp <= 0) out = `0.${"0".repeat(-dp)}${digits}`;
    else if (dp >= nd) out = digits + "0".repeat(dp - nd);
    else out = `${digits.slice(0, dp)}.${digits.slice(dp)}`;
  }
  return x < 0 ? `-${out}` : out;
}

/**
 * The shortest digits (and the decimal exponent of the first) that read back as float32 `a` (> 0), as Go's
 * roundShortest picks them: from the exact decimal expansion, rounded down or up to p digits, the nearer (half
 * to even) when both read back.
 */
function shortestFloat32Digits(a: number): [string, number] {
  const [exact, exp10] = exactDecimal(a);
  for (let p = 1; p < exact.length; p++) {
    const head = exact.slice(0, p);
    const rest = exact.slice(p);
    const down = BigInt(head);
    const up = down + 1n;
    const scale = exp10 - p + 1;
    const readsBack = (m: bigint) => Math.fround(Number(`${m}e${scale}`)) === a;
    const okDown = readsBack(down);
    const okUp = readsBack(up);
    if (!okDown && !okUp) continue;
    const half = rest[0] === "5" && rest.length === 1;
    const nearerUp =
      rest[0] !== undefined && (rest[0] > "5" || (rest[0] === "5" && !half) || (half && (down & 1n) === 1n));
    const m = okDown && okUp ? (nearerUp ? up : down) : okDown ? down : up;
    const text = m.toString();
    return [text.replace(/0+$/, ""), scale + text.length - 1];
  }
  return [exact, exp10];
}

/** The exact decimal digits of a finite double > 0 (no trailing zeros), and the exponent after the first. */
function exactDecimal(a: number): [string, number] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const e2 = (biased === 0 ? 1 : biased) - 1075;
  let text: string;
  let point: number;
  if (e2 >= 0) {
    text = (mantissa << BigInt(e2)).toString();
    point = text.length;
  } else {
    text = (mantissa * 5n ** BigInt(-e2)).toString();
    point = text.length + e2;
  }
  const trimmed = text.replace(/0+$/, "");
  return [trimmed, point - 1];
}

/** What an explicitly tagged scalar means to yaml.v2, or why yaml.v2 refuses it. */
export type TaggedResult = { readonly value: PlainValue } | { readonly error: string };

const TAG = "tag:yaml.org,2002:";

/**
 * yaml.v2's `resolve` for a scalar with an explicit tag (`!!int "5"`, `!!str 5`). Tags yaml.v2 cannot resolve
 * (`!foo`, `!!set`, `!!map`) leave the text a string; `!!binary` decodes base64; `!!timestamp` keeps the text.
 * `tag` is the full tag name (`tag:yaml.org,2002:int`).
 */
export function resolveTagged(tag: string, text: string): TaggedResult {
  if (!tag.startsWith(TAG)) return { value: text };
  const name = tag.slice(TAG.length);
  const fail = (found: string): TaggedResult => ({
    error: `cannot decode !!${found} \`${text}\` as a !!${name}`,
  });
  switch (name) {
    case "str":
      return { value: text };
    case "binary": {
      const bytes = decodeGoBase64(text);
      return bytes === undefined
        ? { error: "!!binary value contains invalid base64 data" }
        : { value: goStringFromBytes(bytes) };
    }
    case "timestamp":
    case "int":
    case "float":
    case "bool":
    case "null": {
      // yaml.v2 accepts a value of the tag's own kind, and an int (not a uint64) where a float is wanted.
      const found = kindName(text, name === "timestamp");
      if (found === name || (name === "int" && found === "uint") || (name === "float" && found === "int")) {
        return { value: name === "timestamp" ? text : resolvePlain(text) };
      }
      return fail(found === "uint" ? "int" : found);
    }
    default:
      return { value: text };
  }
}

/**
 * The JSON object key ghodss makes of an explicitly tagged map key (undefined when YAMLToJSON fails on it), or
 * yaml.v2's refusal of the tagged value.
 */
export function resolveTaggedKey(tag: string, text: string): { key: string | undefined } | { error: string } {
  const r = resolveTagged(tag, text);
  if ("error" in r) return r;
  if (typeof r.value !== "number") return { key: keyOf(r.value) };
  // yaml.v2 decodes !!int to an int (or uint64), !!float to a float64.
  return { key: tag === `${TAG}int` ? plainKeyString(text) : floatKey(r.value) };
}

/** The yaml.v2 tag a scalar's text resolves to (`uint` for an int above int64), for explicit-tag checks. */
function kindName(s: string, timestamps: boolean): string {
  if (s.length === 0) return "null";
  const c = s.charCodeAt(0);
  const hint = c < 128 ? (HINT[c] ?? 0) : 0;
  if (hint === 0) return "str";
  const special = SPECIAL.get(s);
  if (special !== undefined) {
    return special === null ? "null" : typeof special === "boolean" ? "bool" : "float";
  }
  if (hint === MAPPED) return "str";
  // yaml.v2 tries timestamps only for untagged and !!timestamp scalars.
  if (timestamps && hint !== DOT && looksLikeGoTimestamp(s)) return "timestamp";
  const n = numeric(s, hint);
  return n === undefined ? "str" : n.kind;
}

// yaml.v2 tries time.Parse with "2006-1-2T15:4:5.999999999Z07:00" (also with a lower-case t),
// "2006-1-2 15:4:5.999999999" and "2006-1-2". Only explicit `!!timestamp` tags care: an untagged timestamp's
// text is kept either way.
const GO_TIMESTAMP =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}))|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.\d+)?))?$/;

function looksLikeGoTimestamp(s: string): boolean {
  const m = GO_TIMESTAMP.exec(s);
  if (m === null) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  if (day > days) return false;
  const hour = Number(m[4] ?? m[7] ?? 0);
  const minute = Number(m[5] ?? m[8] ?? 0);
  const second = Number(m[6] ?? m[9] ?? 0);
  return hour < 24 && minute < 60 && second < 60;
}

/** Go's base64.StdEncoding.DecodeString: padded, strict, skipping only \r and \n. */
function decodeGoBase64(s: string): Uint8Array | undefined {
  const clean = s.replace(/[\r\n]/g, "");
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(clean)) {
    return undefined;
  }
  const binary = atob(clean);
  // Go rejects non-zero padding bits; re-encoding tells.
  if (btoa(binary) !== clean) return undefined;
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

/** Bytes as Go's json.Marshal prints a Go string: each byte of an invalid UTF-8 sequence becomes U+FFFD. */
function goStringFromBytes(b: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < b.length) {
    const c = b[i] ?? 0;
    let cp = -1;
    let size = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c <= 0xdf) [cp, size] = [c & 0x1f, 2];
    else if (c >= 0xe0 && c <= 0xef) [cp, size] = [c & 0x0f, 3];
    else if (c >= 0xf0 && c <= 0xf4) [cp, size] = [c & 0x07, 4];
    if (size > 1) {
      for (let k = 1; k < size; k++) {
        const cc = b[i + k];
        if (cc === undefined || (cc & 0xc0) !== 0x80) {
          cp = -1;
          break;
        }
        cp = (cp << 6) | (cc & 0x3f);
      }
      const min = size === 2 ? 0x80 : size === 3 ? 0x800 : 0x10000;
      if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = -1;
    }
    if (cp < 0) {
      out += "\ufffd";
      i += 1;
    } else {
      out += String.fromCodePoint(cp);
      i += size;
    }
  }
  return out;
}

// yaml.v2's double-quoted escapes. Unlike the `yaml` package it knows `\'` and refuses `\/`.
const ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "'": "'",
  "\\": "\\",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
};
const HEX_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

/** A double-quoted scalar's value, or yaml.v2's complaint and its offset in `source`. */
export type QuotedResult = { readonly value: string } | { readonly error: string; readonly at: number };

/**
 * The value of a double-quoted scalar, `source` being its text with both quotes, with yaml.v2's escapes and
 * the YAML line folding (the `yaml` package's, which yaml.v2 shares for everything but escapes).
 */
export function decodeDoubleQuoted(source: string): QuotedResult {
  let res = "";
  const last = source.length - 1;
  for (let i = 1; i < last; i++) {
    const ch = source[i] as string;
    if (ch === "\n") {
      let fold = "";
      while (i + 1 < last && (source[i + 1] === " " || source[i + 1] === "\t" || source[i + 1] === "\n")) {
        if (source[i + 1] === "\n") fold += "\n";
        i++;
      }
      res += fold === "" ? " " : fold;
    } else if (ch === "\\") {
      const next = source[i + 1] ?? "";
      const simple = ESCAPES[next];
      if (simple !== undefined) {
        res += simple;
        i++;
      } else if (next === "\n") {
        i++;
        while (source[i + 1] === " " || source[i + 1] === "\t") i++;
      } else if (HEX_LENGTH[next] !== undefined) {
        const length = HEX_LENGTH[next] as number;
        const hex = source.slice(i + 2, i + 2 + length);
        if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) {
          return { error: "did not find expected hexdecimal number", at: i };
        }
        const code = Number.parseInt(hex, 16);
        if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) {
          return { error: "found invalid Unicode character escape code", at: i };
        }
        res += String.fromCodePoint(code);
        i += 1 + length;
      } else {
        return { error: `found unknown escape character \\${next}`, at: i };
      }
    } else if (ch === " " || ch === "\t") {
      // Whitespace before a line break is folded away.
      let j = i;
      while (j + 1 < last && (source[j + 1] === " " || source[j + 1] === "\t")) j++;
      if (source[j + 1] !== "\n") res += source.slice(i, j + 1);
      i = j;
    } else {
      res += ch;
    }
  }
  return { value: res };
}
