// Warnings as kubectl prints them: `path: message`, ≤ 120 characters, no duplicates, a bounded total.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_WARNING_LENGTH } from "../../../src/admission/constants.ts";
import { collectWarnings, MAX_WARNINGS_TOTAL, warningText } from "../../../src/admission/warnings.ts";

describe("warningText", () => {
  const long = "x".repeat(300);
  const cases: [string, string, string, (w: string) => void][] = [
    // (short) → `path: message` unchanged
    ["short", "spec.duration", "15m is short", (w) => assert.equal(w, "spec.duration: 15m is short")],
    // (no path) → the message alone
    [
      "no path",
      "",
      "casskeeper does not handle v1 Pod",
      (w) => assert.equal(w, "casskeeper does not handle v1 Pod"),
    ],
    // (long message) → path kept, message start kept, ends with …
    [
      "long message",
      "spec.snapshotTag",
      `overlaps ${long}`,
      (w) => {
        assert.ok(w.startsWith("spec.snapshotTag: overlaps xxx"));
        assert.ok(w.endsWith("…"));
        assert.equal([...w].length, MAX_WARNING_LENGTH);
      },
    ],
    // (long path) → the path is cut too, so the message still shows
    [
      "long path",
      `spec.rename["${"k".repeat(200)}"]`,
      "crosses keyspaces",
      (w) => {
        assert.ok(w.startsWith('spec.rename["kkk'));
        assert.ok(w.includes("…: crosses keyspaces"), w);
        assert.ok([...w].length <= MAX_WARNING_LENGTH);
      },
    ],
    // (control characters, a newline) → spaces: a warning travels as an HTTP header
    ["newline", "spec.x", "a\nb\u0000c", (w) => assert.equal(w, "spec.x: a b c")],
    // (astral characters at the cut) → never half a surrogate pair
    [
      "emoji",
      "",
      "🙂".repeat(200),
      (w) => {
        assert.equal([...w].length, MAX_WARNING_LENGTH);
        assert.doesNotThrow(() => encodeURIComponent(w));
      },
    ],
  ];
  for (const [label, path, message, check] of cases) it(label, () => check(warningText(path, message)));
});

describe("collectWarnings", () => {
  it("drops duplicates, keeping the first", () => {
    assert.deepEqual(collectWarnings(["a: 1", "b: 2", "a: 1"]), ["a: 1", "b: 2"]);
  });

  it("keeps the total under the API server's 4096 and says how many were left out", () => {
    const many = Array.from({ length: 100 }, (_, i) => `spec.x${i}: ${"w".repeat(100)}`);
    const got = collectWarnings(many);
    const total = got.reduce((n, w) => n + w.length, 0);
    assert.ok(total <= MAX_WARNINGS_TOTAL + 40 && total < 4096, String(total));
    assert.match(got.at(-1) ?? "", /^\d+ more warnings not shown$/);
    assert.ok(got.length < 100);
  });

  it("drops empty lines", () => {
    assert.deepEqual(collectWarnings(["", " "]), []);
  });
});
