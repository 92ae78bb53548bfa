// Keeps README.md true where a machine can tell: the fresh-machine commands, the CI entry point, every
// stable problem code and every CLI command.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { USAGE } from "../../src/cli/main.ts";
import { CODES } from "../../src/core/rules/codes.ts";
import { SCHEDULE_CODES } from "../../src/core/schedule/check.ts";

const root = new URL("../../", import.meta.url);
const readme = await readFile(new URL("README.md", root), "utf8");

describe("README.md", () => {
  it("starts with the two fresh-machine commands", () => {
    const top = readme.slice(0, 1200);
    assert.match(top, /^npm ci && npm start\b/m);
    assert.match(top, /^npm ci && npm test\b/m);
  });

  it(".ci/run runs exactly the README's test command", async () => {
    const ci = await readFile(new URL(".ci/run", root), "utf8");
    assert.match(ci, /^npm ci && npm test$/m);
  });

  // (registry, code) — every rule code has a row in the README's table
  for (const code of Object.keys({ ...SCHEDULE_CODES, ...CODES })) {
    it(`documents ${code}`, () => assert.ok(readme.includes(`\`${code}\``), `README.md lacks ${code}`));
  }

  it("documents every command of the usage text", () => {
    for (const line of USAGE.split("\n").filter((l) => l.trim().startsWith("casskeeper "))) {
      const words = line.trim().split(" ");
      const end = words.findIndex((w, i) => i > 0 && !/^[a-z]+$/.test(w));
      const command = words.slice(0, end < 0 ? words.length : end);
      assert.ok(readme.includes(command.join(" ")), `README.md lacks "${command.join(" ")}"`);
    }
  });
});
