// Go's `strings` and `strconv` behaviour that robfig's parser relies on, reproduced exactly:
// `unicode.IsSpace` (what `strings.Fields` and `strings.TrimSpace` split and trim on), `strings.FieldsFunc`
// for ',' and `strconv.Atoi` with its error text, including `strconv.Quote`'s escaping of the input.

import { GO_PRINTABLE_RANGES } from "./go-printable.ts";

/**
 * Go's `unicode.IsSpace`: the Latin-1 spaces (`\t \n \v \f \r`, space, U+0085 NEL, U+00A0 NBSP) and the
 * Unicode White_Space property. U+FEFF (BOM) and U+200B are not spaces in Go (unlike JavaScript's `\s`).
 */
export function isGoSpace(c: number): boolean {
  if (c <= 0xff) {
    return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  }
  return (
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Go's `strings.Fields`: splits around runs of `unicode.IsSpace`; never yields empty strings. */
export function goFields(s: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i < s.length; i++) {
    // Every Go space is in the BMP, so testing UTF-16 code units is exact (surrogates are never spaces).
    if (isGoSpace(s.charCodeAt(i))) {
      if (start >= 0) {
        out.push(s.slice(start, i));
        start = -1;
      }
    } else if (start < 0) {
      start = i;
    }
  }
  if (start >= 0) out.push(s.slice(start));
  return out;
}

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** `strings.FieldsFunc(s, func(r rune) bool { return r == ',' })`: empty items are dropped. */
export function splitCommas(s: string): string[] {
  return s.split(",").filter((x) => x !== "");
}

/** Go's `fmt` `%s` of a `[]string`: `[a b c]`. */
export function goStringSlice(items: readonly string[]): string {
  return `[${items.join(" ")}]`;
}

let printable: Uint32Array | undefined;

function printableTable(): Uint32Array {
  if (printable === undefined) {
    const parts = GO_PRINTABLE_RANGES.split(" ");
    printable = new Uint32Array(parts.length * 2);
    parts.forEach((p, i) => {
      const [lo, hi] = p.split("-");
      (printable as Uint32Array)[2 * i] = Number.parseInt(lo ?? "0", 16);
      (printable as Uint32Array)[2 * i + 1] = Number.parseInt(hi ?? "0", 16);
    });
  }
  return printable;
}

/** Go's `strconv.IsPrint` (Unicode 13 tables generated from Go 1.19). */
export function isGoPrint(c: number): boolean {
  const t = printableTable();
  let lo = 0;
  let hi = t.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (c < (t[2 * mid] as number)) hi = mid - 1;
    else if (c > (t[2 * mid + 1] as number)) lo = mid + 1;
    else return true;
  }
  return false;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/**
 * Go's `strconv.Quote`. A lone UTF-16 surrogate cannot occur in a Go string; it is quoted as U+FFFD, which
 * is what Go sees after decoding the same text from JSON.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    let c = ch.codePointAt(0) as number;
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c === 0x22 || c === 0x5c) {
      out += `\\${String.fromCodePoint(c)}`;
    } else if (isGoPrint(c)) {
      out += String.fromCodePoint(c);
    } else {
      switch (c) {
        case 0x07:
          out += "\\a";
          break;
        case 0x08:
          out += "\\b";
          break;
        case 0x0c:
          out += "\\f";
          break;
        case 0x0a:
          out += "\\n";
          break;
        case 0x0d:
          out += "\\r";
          break;
        case 0x09:
          out += "\\t";
          break;
        case 0x0b:
          out += "\\v";
          break;
        default:
          if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
          else if (c < 0x10000) out += `\\u${hex(c, 4)}`;
          else out += `\\U${hex(c, 8)}`;
      }
    }
  }
  return `${out}"`;
}

const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Go's `strconv.Atoi` on a 64-bit platform: optional sign, ASCII digits only (no `_`), int64 range. The
 * error is the `*NumError` text, e.g. `strconv.Atoi: parsing "x": invalid syntax`. ParseUint stops at the
 * first overflow, so an overlong number reports "value out of range" even if a bad character follows.
 */
export function goAtoi(s: string): { ok: true; value: bigint } | { ok: false; error: string } {
  const syntax = { ok: false as const, error: `strconv.Atoi: parsing ${goQuote(s)}: invalid syntax` };
  const range = { ok: false as const, error: `strconv.Atoi: parsing ${goQuote(s)}: value out of range` };
  let i = 0;
  let neg = false;
  if (s.length > 0 && (s[0] === "+" || s[0] === "-")) {
    neg = s[0] === "-";
    i = 1;
  }
  if (i >= s.length) return syntax;
  // Fast path: up to 14 digits fit a double exactly.
  if (s.length - i < 15) {
    let n = 0;
    for (; i < s.length; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return syntax;
      n = n * 10 + d;
    }
    return { ok: true, value: BigInt(neg ? -n : n) };
  }
  let n = 0n;
  for (; i < s.length; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return syntax;
    n = n * 10n + BigInt(d);
    if (n > UINT64_MAX) return range;
  }
  if (!neg && n > INT64_MAX) return range;
  if (neg && n > INT64_MAX + 1n) return range;
  return { ok: true, value: neg ? -n : n };
}
