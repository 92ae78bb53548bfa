// Go's unicode.IsSpace, strings.Fields, strconv.Atoi and strconv.Quote as robfig's parser sees them.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { goAtoi, goFields, goQuote, goTrimSpace, isGoSpace } from "../../../src/core/schedule/go-strings.ts";

describe("isGoSpace", () => {
  // (code point, Go's unicode.IsSpace)
  const cases: [number, boolean][] = [
    [0x20, true], // space
    [0x09, true], // tab
    [0x0a, true], // newline
    [0x0b, true], // vertical tab
    [0x0c, true], // form feed
    [0x0d, true], // carriage return
    [0x85, true], // NEL: a Go space, not a JavaScript \s
    [0xa0, true], // NBSP
    [0x1680, true], // Ogham space mark
    [0x2000, true], // en quad
    [0x200a, true], // hair space
    [0x2028, true], // line separator
    [0x202f, true], // narrow NBSP
    [0x3000, true], // ideographic space
    [0xfeff, false], // BOM: a JavaScript \s, not a Go space
    [0x200b, false], // zero-width space
    [0x180e, false], // Mongolian vowel separator (not White_Space since Unicode 6.3)
    [0x1c, false], // file separator: Go's IsSpace says no
  ];
  for (const [c, space] of cases) {
    it(`U+${c.toString(16).padStart(4, "0")} → ${space}`, () => assert.equal(isGoSpace(c), space));
  }

  it("fields and trim use it", () => {
    assert.deepEqual(goFields("\u00a0a\tb\u0085c \ufeffd "), ["a", "b", "c", "\ufeffd"]);
    assert.equal(goTrimSpace("\u3000 x \u2029"), "x");
  });
});

describe("goAtoi", () => {
  // (input, value or error)
  const cases: [string, bigint | string][] = [
    ["5", 5n], // plain
    ["+5", 5n], // plus sign
    ["-5", -5n], // minus sign
    ["007", 7n], // leading zeros
    ["9223372036854775807", 9223372036854775807n], // int64 max
    ["-9223372036854775808", -9223372036854775808n], // int64 min
    ["9223372036854775808", 'strconv.Atoi: parsing "9223372036854775808": value out of range'], // over
    ["99999999999999999999x", 'strconv.Atoi: parsing "99999999999999999999x": value out of range'], // overflow first
    ["9999999999999999999x", 'strconv.Atoi: parsing "9999999999999999999x": invalid syntax'], // no overflow yet
    ["", 'strconv.Atoi: parsing "": invalid syntax'], // empty
    ["+", 'strconv.Atoi: parsing "+": invalid syntax'], // sign alone
    ["1_000", 'strconv.Atoi: parsing "1_000": invalid syntax'], // no underscores
    ["0x10", 'strconv.Atoi: parsing "0x10": invalid syntax'], // no prefixes
    ["\u0661", 'strconv.Atoi: parsing "\u0661": invalid syntax'], // Arabic-Indic digit: not a digit to Go
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${want}`, () => {
      assert.deepEqual(
        goAtoi(input),
        typeof want === "bigint" ? { ok: true, value: want } : { ok: false, error: want },
      );
    });
  }
});

describe("goQuote", () => {
  // (input, strconv.Quote)
  const cases: [string, string][] = [
    ["abc", '"abc"'], // plain
    ['a"b\\c', '"a\\"b\\\\c"'], // quote and backslash
    ["\t\n\u0007", '"\\t\\n\\a"'], // named escapes
    ["\u0001\u007f", '"\\x01\\x7f"'], // other controls
    ["\u00e9\u4e16", '"\u00e9\u4e16"'], // printable Unicode kept
    ["\u00a0\u200b\ufeff", '"\\u00a0\\u200b\\ufeff"'], // spaces and format characters escaped
    ["\u{1f600}", '"\u{1f600}"'], // printable astral kept
    ["\u{e0001}", '"\\U000e0001"'], // astral format character
    ["\u{1fae0}", '"\\U0001fae0"'], // emoji newer than Go 1.19's Unicode 13
    ["\ud800", '"\ufffd"'], // a lone surrogate arrives in Go as U+FFFD
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} → ${want}`, () => assert.equal(goQuote(input), want));
  }
});
