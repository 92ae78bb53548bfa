import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { CODES, problem } from "../../../src/core/rules/codes.ts";

const SRC = new URL("../../../src/core/rules/", import.meta.url);

describe("CODES", () => {
  test("every code is kebab-case, namespaced by its rule, with a one-line description", () => {
    for (const [code, info] of Object.entries(CODES)) {
      assert.match(code, /^[a-z]+(-[a-z]+)*\.[a-z]+(-[a-z]+)*$/, code);
      assert.ok(info.severity === "error" || info.severity === "warning", code);
      assert.ok(info.description.length > 10 && !info.description.includes("\n"), code);
    }
  });

  test("every code is emitted somewhere in src/core/rules, and every emitted code is listed", () => {
    const sources = readdirSync(SRC)
      .filter((f) => f.endsWith(".ts") && f !== "codes.ts")
      .map((f) => readFileSync(new URL(f, SRC), "utf8"))
      .join("\n");
    for (const code of Object.keys(CODES)) {
      assert.ok(sources.includes(`"${code}"`), `${code} is never emitted`);
    }
    for (const m of sources.matchAll(/problem\(\s*[^,]+,\s*"([^"]+)"/g)) {
      assert.ok(Object.hasOwn(CODES, m[1] ?? ""), `${m[1]} is not in CODES`);
    }
  });

  test("problem() takes the severity from the table", () => {
    assert.equal(problem("p", "storage.form", "m").severity, "error");
    assert.equal(problem("p", "storage.node-form", "m").severity, "warning");
  });
});
