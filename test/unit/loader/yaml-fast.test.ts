import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { backup, restore } from "../../../bench/policy-documents.ts";
import { joinPath } from "../../../src/core/problem.ts";
import {
  DEFAULT_LIMITS,
  type LoadLimits,
  type LoadResult,
  parseYamlDocuments,
} from "../../../src/core/yaml-documents.ts";
import { readFastYaml } from "../../../src/core/yaml-fast.ts";
import { manifestText, mutatedManifestText } from "./yaml-arbitraries.ts";

const takesFastPath = (text: string, limits: LoadLimits = DEFAULT_LIMITS) =>
  readFastYaml(text, limits) !== undefined;

/** Every field path of a JSON value (joinPath form), the value's own path first. */
function pathsOf(value: unknown, path = ""): string[] {
  const out = [path];
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push(...pathsOf(v, joinPath(path, i)));
    });
  } else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, joinPath(path, k)));
  }
  return out;
}

/** Asserts that two load results are the same: objects, starts, every position, problems. */
function assertSameResult(fast: LoadResult, slow: LoadResult, text: string): void {
  const context = `for ${JSON.stringify(text)}`;
  assert.deepStrictEqual(fast.problems, slow.problems, context);
  assert.equal(fast.documents.length, slow.documents.length, context);
  fast.documents.forEach((f, i) => {
    const s = slow.documents[i];
    assert.ok(s !== undefined);
    assert.equal(f.index, s.index, context);
    assert.deepStrictEqual(f.object, s.object, context);
    assert.deepStrictEqual(f.position, s.position, context);
    for (const path of [...pathsOf(f.object), "missing", "spec.missing[3].x"]) {
      assert.deepStrictEqual(f.positionOf(path), s.positionOf(path), `${context} at ${path}`);
    }
  });
}

/** Fast path and `yaml` path agree, or the fast path declines; neither throws. */
function checkDifferential(text: string, limits: LoadLimits = DEFAULT_LIMITS): boolean {
  const slow = parseYamlDocuments("d.yaml", text, limits, { fastPath: false });
  if (!takesFastPath(text, limits)) return false;
  assertSameResult(parseYamlDocuments("d.yaml", text, limits), slow, text);
  return true;
}

describe("fast path differential (against the yaml package path)", () => {
  it("manifest-like YAML: identical results whenever the fast path reads it", () => {
    let taken = 0;
    fc.assert(
      fc.property(manifestText, (text) => {
        if (checkDifferential(text)) taken++;
      }),
      { numRuns: 3000 },
    );
    // About a third of the texts stay inside the subset (the rest hold a spelling YAML or kubectl refuses); if
    // this drops, the fast path declines too much.
    assert.ok(taken > 750, `fast path took ${taken} of 3000`);
  });

  it("mutated YAML outside the subset: identical results or a decline", () => {
    fc.assert(
      fc.property(mutatedManifestText, (text) => void checkDifferential(text)),
      { numRuns: 3000 },
    );
  });

  it("tight limits: identical results or a decline", () => {
    const limits = { ...DEFAULT_LIMITS, maxDepth: 3, maxDocuments: 2 };
    fc.assert(
      fc.property(manifestText, (text) => void checkDifferential(text, limits)),
      { numRuns: 1000 },
    );
  });
});

describe("fast path subset", () => {
  // (name, text) — each is outside the subset, so the fast path declines the whole file
  const declined: [string, string][] = [
    ["tab in indentation", "a:\n\tb: 1\n"],
    ["tab inside a value", "a: x\ty\n"],
    ["CRLF line ends", "a: 1\r\nb: 2\r\n"],
    ["BOM", "\ufeffa: 1\n"],
    ["NEL line break", "a: x\u0085y\n"],
    ["line separator", "a: x\u2028y\n"],
    ["flow sequence", "a: [1, 2]\n"],
    ["flow mapping", "a: {b: 1}\n"],
    ["anchor", "a: &x 1\nb: 2\n"],
    ["alias", "a: 1\nb: *x\n"],
    ["tag", "a: !!str 1\n"],
    ["local tag", "a: !foo x\n"],
    ["literal block scalar", "a: |\n  x\n"],
    ["folded block scalar", "a: >\n  x\n"],
    ["multi-line plain scalar", "a: x\n  y\n"],
    ["plain scalar on the next line", "a:\n  x\n"],
    ["multi-line double-quoted scalar", 'a: "x\n  y"\n'],
    ["multi-line single-quoted scalar", "a: 'x\n  y'\n"],
    ["complex key", "? a\n: 1\n"],
    ["directive", "%YAML 1.1\n---\na: 1\n"],
    ["`: ` inside a plain value", "a: b: c\n"],
    ["`:` ending a plain value", "a: b:\n"],
    ["duplicate key", "a: 1\na: 2\n"],
    ["duplicate after key conversion", "yes: 1\ntrue: 2\n"],
    ["merge key", "a: 1\n<<: {b: 2}\n"],
    ["null key", "~: x\n"],
    ["empty key", ": x\n"],
    ["uint64 key", "18446744073709551615: x\n"],
    ["infinite value", "a: .inf\n"],
    ["NaN value", "a: .NaN\n"],
    ["escape yaml.v2 refuses", 'a: "\\/"\n'],
    ["unknown escape", 'a: "\\q"\n'],
    ["surrogate escape", 'a: "\\ud800"\n'],
    ["root scalar", "just text\n"],
    ["a second root", "a: 1\n- b\n"],
    ["less indented content", "  a: 1\nb: 2\n"],
    ["more indented key", "a: 1\n  b: 2\n"],
    ["entry where a key belongs", "a: 1\n- 2\n"],
    ["seq entry glued to its value", "-a\n- b\n"],
    ["marker with content", "--- a: 1\n"],
    ["marker-like text", "---x: 1\n"],
    ["comment glued to a quoted value", 'a: "x"#c\n'],
    ["text after a quoted value", "a: 'x' y\n"],
    ["reserved indicator", "a: @x\n"],
    ["backtick", "a: `x`\n"],
    ["too deep", `${Array.from({ length: 70 }, (_, i) => `${"  ".repeat(i)}k:`).join("\n")}\n`],
    ["too many documents", "a: 1\n---\n".repeat(1001)],
  ];
  for (const [name, text] of declined) {
    it(`declines: ${name}`, () => {
      assert.equal(takesFastPath(text), false);
      checkDifferential(text);
    });
  }

  // (name, text) — inside the subset: read by the fast path, same result as the yaml path
  const accepted: [string, string][] = [
    ["plain map", "a: 1\nb: x\n"],
    ["nested maps", "a:\n  b:\n    c: d\n"],
    ["sequence under a key, indented", "a:\n  - 1\n  - 2\n"],
    ["sequence under a key, flush", "a:\n- 1\n- 2\nb: 3\n"],
    ["compact maps in a sequence", "- a: 1\n  b: 2\n- c: 3\n"],
    ["compact sequences in a sequence", "- - a\n  - b\n- c\n"],
    ["wide compact entry", "-   a: 1\n    b: 2\n"],
    ["entry on its own line", "-\n  a: 1\n-\n  - x\n"],
    ["empty values", "a:\nb: # c\nc:   \n- \n"],
    ["empty sequence items", "-\n- # c\n-   \n"],
    ["quoted keys and values", "\"a b\": 'c''d'\n'e' : \"f\\tg\"\n"],
    ["comments everywhere", "# top\na: 1 # one\n  # indented\nb: x#y\n\n# end\n"],
    ["documents and markers", "---\na: 1\n...\n---\nb: 2\n--- # c\n---\n"],
    ["indented root", "  a: 1\n  b: 2\n"],
    ["key with spaces before the colon", "a  : 1\n"],
    ["commas and brackets inside plain scalars", "entities: ks1,ks2\nv: a[0]{1}\n"],
    ["colons inside plain scalars", "url: s3://bucket/x:y\nt: 10:30\n"],
    ["YAML 1.1 booleans", "a: yes\nb: Off\nc: y\n"],
    ["numbers", "a: 0x1F\nb: 0755\nc: 1_000\nd: .5\ne: -0\n"],
    ["dates stay strings", "a: 2024-01-01\nb: 1:20\n"],
    ["unicode", "名前: 日本語 😀\n"],
    ["__proto__ key", "__proto__: x\n"],
    ["List of objects", "kind: List\nitems:\n- kind: A\n- kind: B\n"],
  ];
  for (const [name, text] of accepted) {
    it(`reads: ${name}`, () => {
      assert.equal(takesFastPath(text), true);
      assert.ok(checkDifferential(text));
    });
  }

  it("takes every document of the bench (bench/validate-documents.ts) on the fast path", () => {
    const text = [backup(0), restore(1), backup(2), restore(3)].join("---\n");
    assert.ok(checkDifferential(text));
    const r = parseYamlDocuments("bench.yaml", text);
    assert.equal(r.documents.length, 4);
    const first = r.documents[0]?.object as { spec: object } | undefined;
    assert.deepStrictEqual(first?.spec, {
      cassandraCluster: "cluster-0",
      datacenter: "dc1",
      storageLocation: "s3://acme-backups",
      snapshotTag: "tag-0-nightly",
      schedule: "@midnight",
      secret: "s3-creds",
      entities: "ks0,ks1",
      bandwidth: "50M",
      concurrentConnections: 10,
    });
  });
});
