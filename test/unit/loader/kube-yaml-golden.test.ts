// Both YAML readers against what kubectl makes of a document: the committed golden fixture (every machine),
// and the Go oracle itself on random scalars (machines with Go; skipped elsewhere).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type LoadResult, parseYamlDocuments } from "../../../src/core/yaml-documents.ts";
import { type KubeYamlResult, oracleUnavailable, runKubeYaml } from "../../oracle/kube-yaml/oracle.ts";

interface GoldenCase {
  readonly yaml: string;
  readonly json?: string;
  readonly error?: string;
}

const golden = JSON.parse(
  readFileSync(new URL("../../fixtures/loader/kube-yaml-golden.json", import.meta.url), "utf8"),
) as { cases: GoldenCase[] };

// Deliberate differences. kubectl's YAMLToJSON keeps the last of duplicate keys (and, for keys that only
// collide once converted, whichever Go's map order gives); casskeeper rejects them, as the API server's strict
// field validation does. Keys are compared after conversion, so `yes` and `true` collide.
const DUPLICATES = new Set(["a: 1\na: 2", '"1": x\n1: y', "yes: x\ntrue: y"]);

/** Whether a load result says what kubectl says (one object, or none for a null document; or an error). */
function agrees(r: LoadResult, expected: KubeYamlResult): string | undefined {
  if ("error" in expected) {
    return r.problems.length > 0 && r.documents.length === 0 ? undefined : "kubectl refuses it, we do not";
  }
  if (r.problems.length > 0) return `we refuse it: ${r.problems[0]?.problem.message}`;
  const value: unknown = JSON.parse(expected.json);
  const objects = r.documents.map((d) => d.object);
  try {
    assert.deepStrictEqual(objects, value === null ? [] : [value]);
    return undefined;
  } catch {
    return `we read ${JSON.stringify(objects)}, kubectl ${expected.json}`;
  }
}

describe("kube-yaml golden (ghodss/yaml YAMLToJSON on gopkg.in/yaml.v2)", () => {
  for (const fastPath of [true, false]) {
    it(`${fastPath ? "fast path (or its fallback)" : "yaml package path"} reads every case as kubectl does`, () => {
      const wrong: string[] = [];
      for (const c of golden.cases) {
        const r = parseYamlDocuments("golden.yaml", c.yaml, undefined, { fastPath });
        if (DUPLICATES.has(c.yaml)) {
          if (r.problems[0]?.problem.message !== "Map keys must be unique")
            wrong.push(`${c.yaml}: not refused`);
          continue;
        }
        const why = agrees(r, c.json !== undefined ? { json: c.json } : { error: c.error ?? "" });
        if (why !== undefined) wrong.push(`${JSON.stringify(c.yaml)}: ${why}`);
      }
      assert.deepEqual(wrong, []);
    });
  }

  it("covers a few hundred cases", () => assert.ok(golden.cases.length >= 500));
});

// Scalars from the characters that decide yaml.v2's resolution.
const scalarish = fc
  .array(
    fc.constantFrom(
      ..."0123456789+-._eExXoObB:~ ".split(""),
      ..."y n Y N on off yes no true false True NULL null inf Inf nan NaN T Z a f".split(" "),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => parts.join("").trim())
  .filter((s) => s !== "");

const documentOf = fc.oneof(
  scalarish.map((s) => `v: ${s}`),
  scalarish.map((s) => `${s}: v`),
  scalarish.map((s) => `- ${s}`),
  scalarish.map((s) => `v: "${s}"`),
  scalarish.map((s) => `v: !!float ${s}`),
);

describe("kube-yaml live differential (Go oracle)", () => {
  const unavailable = oracleUnavailable();

  it("random scalars resolve as yaml.v2 + ghodss resolve them", (t) => {
    if (unavailable !== undefined) {
      t.skip(unavailable === "go not installed" ? "go not installed" : unavailable);
      return;
    }
    const inputs = [...new Set(fc.sample(documentOf, { numRuns: 3000 }))];
    const expected = runKubeYaml(inputs);
    const wrong: string[] = [];
    inputs.forEach((yaml, i) => {
      const want = expected[i] as KubeYamlResult;
      for (const fastPath of [true, false]) {
        const why = agrees(parseYamlDocuments("live.yaml", yaml, undefined, { fastPath }), want);
        if (why !== undefined) wrong.push(`${JSON.stringify(yaml)} (${fastPath ? "fast" : "yaml"}): ${why}`);
      }
    });
    assert.deepEqual(wrong.slice(0, 20), []);
  });
});
