import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { buildWorld, datacenterNames } from "../../../src/core/world-build.ts";
import {
  DEFAULT_LIMITS,
  decodeText,
  parentPath,
  parseYamlDocuments,
} from "../../../src/core/yaml-documents.ts";

const BACKUP = `# a comment first
apiVersion: db.orange.com/v2
kind: CassandraBackup
metadata:
  name: nightly
spec:
  schedule: "0 0 * * 7"
  datacenter: no
  rename:
    k1.t1: k1.t2
  list:
    - a
    - b
`;

describe("parseYamlDocuments positions", () => {
  const [doc] = parseYamlDocuments("b.yaml", BACKUP).documents;
  // (field path, line, column) — scalars point at the value, collections at the key
  const cases: [string, number, number][] = [
    ["spec.schedule", 7, 13], // quoted scalar value
    ["metadata.name", 5, 9], // plain scalar value
    ['spec.rename["k1.t1"]', 10, 12], // dotted map key, quoted path
    ["spec.list[1]", 13, 7], // sequence item
    ["spec.snapshotTag", 6, 1], // missing field → nearest ancestor (the spec key)
    ['spec.rename["k9.t9"]', 9, 3], // missing map key → the map's key
    ["nothing.here", 2, 1], // nothing on the path → the document start
    ["", 2, 1], // the object itself
  ];
  for (const [path, line, column] of cases) {
    it(`${path || "(root)"} → ${line}:${column}`, () => {
      assert.deepEqual(doc?.positionOf(path), { line, column });
    });
  }

  it("reads YAML 1.1 as kubectl does: `no` is a boolean", () => {
    const object = doc?.object as { spec: { datacenter: unknown } } | undefined;
    assert.equal(object?.spec.datacenter, false);
  });
});

describe("parseYamlDocuments documents", () => {
  it("splits multi-document files, skips empty documents, expands Lists with item positions", () => {
    const text =
      "a: 1\n---\n# only a comment\n---\n---\nkind: List\nitems:\n  - kind: Secret\n    data: {k: dg==}\n  - kind: X\n";
    const r = parseYamlDocuments("m.yaml", text);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.documents.map((d) => [d.index, d.position.line]),
      [
        [0, 1],
        [1, 8],
        [2, 10],
      ],
    );
    assert.deepEqual(r.documents[1]?.positionOf("data.k"), { line: 9, column: 15 });
  });

  // (input, code, line) — bad input becomes a located finding, never an exception
  const bad: [string, string, string, number][] = [
    ["syntax error", "a: [1, 2\nb: 3\n", "yaml.invalid", 2],
    ["duplicate key", "a: 1\na: 2\n", "yaml.invalid", 2],
    ["tab indentation", "a:\n\tb: 1\n", "yaml.invalid", 2],
    [
      "alias bomb",
      `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [${"*a,".repeat(10)}]\nc: &c [${"*b,".repeat(10)}]\nd: [${"*c,".repeat(10)}]\n`,
      "yaml.aliases",
      1,
    ],
    ["deep nesting", `a: ${"[".repeat(100)}${"]".repeat(100)}\n`, "yaml.too-deep", 1],
    ["very deep nesting", "[".repeat(200_000), "yaml.invalid", 1],
    ["infinity, which JSON cannot hold", "a: 1\nb: .inf\n", "yaml.not-json", 2],
    ["NaN in a list", "a:\n  - .NaN\n", "yaml.not-json", 2],
    ["null key", "a: 1\n~: 2\n", "yaml.not-json", 2],
    ["key above int64", "18446744073709551615: x\n", "yaml.not-json", 1],
    ["keys that collide once converted", "yes: 1\ntrue: 2\n", "yaml.invalid", 2],
    ["escape yaml.v2 refuses", 'a: "x\\/y"\n', "yaml.invalid", 1],
    ["alias inside its own anchor", "a: &x\n  b: *x\n", "yaml.invalid", 2],
    ["merge of a scalar", "<<: 5\n", "yaml.invalid", 1],
    ["tag that does not fit", "a: !!int x\n", "yaml.invalid", 1],
    ["mapping as a key", "? [a]\n: x\n", "yaml.invalid", 1],
  ];
  for (const [name, text, code, line] of bad) {
    it(`${name} → ${code}`, () => {
      const r = parseYamlDocuments("bad.yaml", text);
      assert.equal(r.documents.length, 0);
      assert.equal(r.problems[0]?.problem.code, code);
      assert.equal(r.problems[0]?.line, line);
      assert.ok(r.problems.length <= 5, "a cascade of parser errors is cut to the first few");
    });
  }

  it("stops at the document limit", () => {
    const r = parseYamlDocuments("many.yaml", "a: 1\n---\n".repeat(20), {
      ...DEFAULT_LIMITS,
      maxDocuments: 5,
    });
    assert.equal(r.documents.length, 5);
    assert.equal(r.problems[0]?.problem.code, "file.too-many-documents");
  });

  // Duplicate keys used to be found by comparing each key with all before it: a 1 MB map took minutes.
  it("finds duplicate keys in linear time, on both paths", { timeout: 60_000 }, () => {
    const text = `${Array.from({ length: 50_000 }, (_, i) => `k${i}: v`).join("\n")}\nk7: again\n`;
    for (const fastPath of [true, false]) {
      const r = parseYamlDocuments("flat.yaml", text, DEFAULT_LIMITS, { fastPath });
      assert.equal(r.problems[0]?.line, 50_001);
    }
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        const r = parseYamlDocuments("fuzz.yaml", text);
        for (const p of r.problems) assert.ok(p.line >= 1 && p.column >= 1);
        for (const d of r.documents) d.positionOf("spec.schedule");
      }),
      { numRuns: 500 },
    );
  });

  it("never throws on YAML-shaped text built from structural characters", () => {
    const token = fc.constantFrom(
      "a",
      ": ",
      "\n",
      "  ",
      "- ",
      "[",
      "]",
      "{",
      "}",
      ",",
      "&x ",
      "*x",
      "---\n",
      '"',
      "'",
      "#",
      "!!str ",
      "|\n",
      "? ",
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 80 }), (parts) => {
        parseYamlDocuments("fuzz.yaml", parts.join(""));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("parseYamlDocuments reads what kubectl sends", () => {
  // (YAML, object) — the JSON kubectl makes of the document (see kube-yaml-golden.test.ts for hundreds more)
  const cases: [string, unknown][] = [
    ["a: 2024-01-01\nb: 1:20\n", { a: "2024-01-01", b: "1:20" }], // no timestamps, no base 60
    ["a: 0755\nb: 1_000\nc: on\n", { a: 493, b: 1000, c: true }], // YAML 1.1 ints and booleans
    ["1: a\non: b\n1.5: c\n", { "1": "a", true: "b", "1.5": "c" }], // keys converted to strings
    ["a: 1\n<<: {a: 2, b: 3}\n", { a: 2, b: 3 }], // yaml.v2: a merge overrides the keys before it
    ["<<: {a: 2, b: 3}\na: 1\n", { a: 1, b: 3 }], // and the keys after it override the merge
    [
      "p: &p {a: 1}\nq: &q {a: 2, b: 2}\nr:\n  <<: [*p, *q]\n",
      { p: { a: 1 }, q: { a: 2, b: 2 }, r: { a: 1, b: 2 } },
    ], // earlier maps win
    ["a: &a [1]\nb: *a\n", { a: [1], b: [1] }], // aliases
    ['a: "it\\\'s"\n', { a: "it's" }], // yaml.v2's \' escape
    ["a: !!binary aGk=\nb: !!str 5\n", { a: "hi", b: "5" }], // tags
  ];
  for (const [text, object] of cases)
    it(JSON.stringify(text), () => {
      for (const fastPath of [true, false]) {
        const r = parseYamlDocuments("k.yaml", text, DEFAULT_LIMITS, { fastPath });
        assert.deepEqual(r.problems, []);
        assert.deepStrictEqual(r.documents[0]?.object, object);
      }
    });

  it("places a kubectl conversion error at the field", () => {
    const r = parseYamlDocuments("k.yaml", "spec:\n  ratio: -.Inf\n");
    assert.deepEqual(
      r.problems.map((p) => [p.line, p.column, p.problem.path, p.problem.code]),
      [[2, 10, "spec.ratio", "yaml.not-json"]],
    );
  });
});

describe("decodeText", () => {
  // (bytes, expected code or text)
  const cases: [string, Uint8Array, string][] = [
    ["utf-8 text", new TextEncoder().encode("a: é\n"), "a: é\n"],
    ["NUL byte", new Uint8Array([0x61, 0x00, 0x62]), "file.binary"],
    ["invalid UTF-8", new Uint8Array([0x61, 0xff, 0xfe, 0x62]), "file.encoding"],
    ["over the limit", new Uint8Array(DEFAULT_LIMITS.maxBytes + 1).fill(0x61), "file.too-large"],
  ];
  for (const [name, bytes, expected] of cases) {
    it(name, () => {
      const r = decodeText("f.yaml", bytes);
      assert.equal("text" in r ? r.text : r.problem.problem.code, expected);
    });
  }
});

describe("parentPath", () => {
  // (path, parent)
  const cases: [string, string | undefined][] = [
    ["spec.schedule", "spec"],
    ["spec", ""],
    ["", undefined],
    ['spec.rename["k1.t1"]', "spec.rename"],
    ['spec.rename["a[0]"]', "spec.rename"],
    ["items[3]", "items"],
    ["items[3].spec", "items[3]"],
  ];
  for (const [path, parent] of cases) it(`${path} → ${parent}`, () => assert.equal(parentPath(path), parent));
});

describe("buildWorld", () => {
  it("keeps secret key names only, reads datacenters and backup states", () => {
    const { world, ignored } = buildWorld(
      [
        {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: "s", namespace: "prod" },
          data: { awsregion: "ZXU=" },
          stringData: { gcp: "{}" },
        },
        {
          apiVersion: "db.orange.com/v2",
          kind: "CassandraCluster",
          metadata: { name: "c" },
          spec: { topology: { dc: [{ name: "east" }, { name: "west" }] } },
        },
        {
          apiVersion: "db.orange.com/v1alpha1",
          kind: "CassandraBackup",
          metadata: { name: "b" },
          spec: {},
          status: { condition: { type: "FAILED" } },
        },
        { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" } },
      ],
      "default",
    );
    assert.equal(ignored, 1);
    assert.deepEqual([...(world.secrets.get("prod/s") ?? [])].sort(), ["awsregion", "gcp"]);
    assert.ok(!JSON.stringify([...world.secrets]).includes("ZXU="));
    assert.deepEqual(world.clusters.get("default/c")?.datacenters, ["east", "west"]);
    assert.equal(world.backups.get("default/b")?.state, "FAILED");
  });

  // (spec, datacenters) — CassKop's default datacenter is dc1
  const dcs: [unknown, string[]][] = [
    [{}, ["dc1"]],
    [{ topology: { dc: [] } }, ["dc1"]],
    [{ topology: { dc: [{ name: "a" }, { nope: 1 }] } }, ["a"]],
    ["not an object", ["dc1"]],
  ];
  for (const [spec, expected] of dcs)
    it(`datacenters of ${JSON.stringify(spec)}`, () => assert.deepEqual(datacenterNames(spec), expected));
});
