import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decodeDoubleQuoted,
  goFormatFloat32,
  plainKeyString,
  resolvePlain,
  resolveTagged,
  resolveTaggedKey,
} from "../../../src/core/yaml-scalars.ts";

describe("resolvePlain (yaml.v2 into interface{})", () => {
  // (plain scalar, JSON value) — NaN/±Infinity are the values JSON cannot hold
  const cases: [string, unknown][] = [
    ["", null], // empty is null
    ["~", null], // tilde
    ["Null", null], // capitalised null
    ["nULL", "nULL"], // not a spelling yaml.v2 lists
    ["yes", true], // YAML 1.1 boolean
    ["Y", true], // one letter
    ["off", false], // on/off too
    ["tRUE", "tRUE"], // mixed case stays a string
    ["0755", 493], // leading zero is octal
    ["0o17", 15], // Go's 0o prefix
    ["0x1F", 31], // hex
    ["-0b101", -5], // signed binary
    ["0b+101", 5], // yaml.v2's own binary fallback
    ["1_000", 1000], // underscores deleted
    ["-0", 0], // an int, not -0
    ["-0.0", -0], // a float keeps its sign
    ["08", 8], // not octal, but a float
    ["9223372036854775808", 2 ** 63], // above int64: uint64
    ["99999999999999999999", 1e20], // above uint64: float
    [".5", 0.5], // leading dot
    [".5_0", 0.5], // Go's ParseFloat takes underscores between digits
    ["._5", "._5"], // but not after the dot
    ["1.", 1], // trailing dot
    ["1e400", "1e400"], // overflows: stays a string
    ["1e-400", 0], // underflows to zero
    [".inf", Number.POSITIVE_INFINITY], // not JSON
    ["-.Inf", Number.NEGATIVE_INFINITY], // not JSON
    [".NaN", Number.NaN], // not JSON
    ["inf", "inf"], // Go's own spellings are not YAML's
    ["2024-01-01", "2024-01-01"], // timestamps keep their text
    ["1:20", "1:20"], // no base 60
    ["1.10", 1.1], // a version that is a float
    ["1.20.3", "1.20.3"], // a version that is not
    ["50M", "50M"], // a quantity
    ["<<", "<<"], // the merge key is a string as a value
    ["é", "é"], // non-ASCII first character
  ];
  for (const [text, value] of cases) {
    it(`${JSON.stringify(text)} → ${String(value)}`, () => assert.deepStrictEqual(resolvePlain(text), value));
  }
});

describe("plainKeyString (ghodss key conversion)", () => {
  // (plain key, JSON object key, or undefined when YAMLToJSON fails)
  const cases: [string, string | undefined][] = [
    ["name", "name"], // a string
    ["on", "true"], // booleans print as true/false
    ["N", "false"], // one letter
    ["0x1F", "31"], // ints print in decimal
    ["-0", "0"], // no negative zero for ints
    ["9223372036854775807", "9223372036854775807"], // int64 max is exact
    ["18446744073709551615", undefined], // uint64: ghodss has no case for it
    ["~", undefined], // null key
    ["", undefined], // empty key
    ["1.5", "1.5"], // float, %g of a float32
    ["1e6", "1e+06"], // %g switches to an exponent at 1e6
    ["123456789.0", "1.2345679e+08"], // float32 precision
    ["0.00001", "1e-05"], // and below 1e-4
    ["1e39", ".inf"], // beyond float32
    [".nan", ".nan"], // NaN renamed
    ["-.inf", "-.inf"], // so is -Inf
    ["2024-01-01", "2024-01-01"], // timestamps keep their text
  ];
  for (const [text, key] of cases) {
    it(`${JSON.stringify(text)} → ${String(key)}`, () => assert.equal(plainKeyString(text), key));
  }
});

describe("goFormatFloat32", () => {
  // (float, Go's strconv.FormatFloat(f, 'g', -1, 32))
  const cases: [number, string][] = [
    [0, "0"], // zero
    [-0, "-0"], // negative zero
    [1, "1"], // integer
    [0.1, "0.1"], // shortest for float32
    [100000, "100000"], // exponent 5: fixed
    [1000000, "1e+06"], // exponent 6: %e
    [0.0001, "0.0001"], // exponent -4: fixed
    [3.4e38, "3.4e+38"], // near float32 max
    [16777217, "1.6777216e+07"], // rounds to float32
    [1e-45, "1e-45"], // smallest denormal
    [0.000244140625, "0.00024414062"], // exactly halfway at the shortest length: half to even
    [1478132.25, "1.4781322e+06"], // the same, with an exponent
    [Number.POSITIVE_INFINITY, "+Inf"], // infinity
    [Number.NaN, "NaN"], // NaN
  ];
  for (const [v, s] of cases) it(`${v} → ${s}`, () => assert.equal(goFormatFloat32(v), s));
});

describe("decodeDoubleQuoted (yaml.v2 escapes)", () => {
  // (source with quotes, value or error)
  const cases: [string, string | RegExp][] = [
    ['"plain"', "plain"], // no escapes
    ['"a\\tb\\n"', "a\tb\n"], // common escapes
    ['"it\\\'s"', "it's"], // yaml.v2 knows \'
    ['"\\/"', /unknown escape character \\\//], // and refuses \/
    ['"\\x41\\u00e9\\U0001F600"', "Aé😀"], // hex escapes
    ['"\\ud800"', /invalid Unicode/], // surrogates refused
    ['"\\x4"', /hexdecimal/], // short hex
    ['"\\N\\_\\L\\P"', "\u0085\u00a0\u2028\u2029"], // YAML's named characters
    ['"a\n  b"', "a b"], // a line break folds to a space
    ['"a  \n\n  b"', "a\nb"], // an empty line is a newline; trailing spaces go
    ['"a\\\n   b"', "ab"], // an escaped line break joins
  ];
  for (const [source, expected] of cases) {
    it(`${JSON.stringify(source)}`, () => {
      const r = decodeDoubleQuoted(source);
      if (typeof expected === "string") assert.deepEqual(r, { value: expected });
      else assert.match("error" in r ? r.error : "", expected);
    });
  }
});

describe("resolveTagged and resolveTaggedKey (explicit tags)", () => {
  const T = "tag:yaml.org,2002:";
  // (tag, text, value or error)
  const cases: [string, string, unknown][] = [
    [`${T}int`, "5", 5], // quoted or not, the tag decides
    [`${T}int`, "1.5", /cannot decode !!float `1.5` as a !!int/], // wrong kind
    [`${T}float`, "1", 1], // an int is a float
    [`${T}float`, "18446744073709551615", /as a !!float/], // but a uint64 is not
    [`${T}bool`, "yes", true], // YAML 1.1 spelling
    [`${T}null`, "", null], // empty
    [`${T}str`, "yes", "yes"], // a string whatever it looks like
    [`${T}timestamp`, "2001-12-14", "2001-12-14"], // keeps its text
    [`${T}timestamp`, "2001-02-30", /as a !!timestamp/], // not a date
    [`${T}binary`, "aGVsbG8=", "hello"], // base64
    [`${T}binary`, "/w==", "\ufffd"], // invalid UTF-8 as Go's JSON prints it
    [`${T}binary`, "aGVsbG8", /invalid base64/], // unpadded
    [`${T}set`, "x", "x"], // tags yaml.v2 cannot resolve leave a string
    ["!local", "5", "5"], // local tags too
  ];
  for (const [tag, text, expected] of cases) {
    it(`${tag} ${JSON.stringify(text)}`, () => {
      const r = resolveTagged(tag, text);
      if (expected instanceof RegExp) assert.match("error" in r ? r.error : "", expected);
      else assert.deepStrictEqual(r, { value: expected });
    });
  }

  // (tag, text, key) — ints print in decimal, floats as float32 %g
  const keys: [string, string, string | undefined][] = [
    [`${T}int`, "0x10", "16"], // int key
    [`${T}float`, "123456789", "1.2345679e+08"], // float key
    [`${T}str`, "1", "1"], // string key
    [`${T}null`, "~", undefined], // null key fails
  ];
  for (const [tag, text, key] of keys) {
    it(`key ${tag} ${text} → ${String(key)}`, () => assert.deepEqual(resolveTaggedKey(tag, text), { key }));
  }
});
