// How compileStructuralValidator translates Kubernetes structural-schema extensions, on small synthetic CRDs,
// and that every CEL rule in the bundled CRDs has its JSON-schema mirror.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Problem } from "../../../src/core/problem.ts";
import { compileStructuralValidator, MIRRORED_CEL_RULES, suggest } from "../../../src/core/structure.ts";
import { readBundledCrds } from "../../../src/schema/bundled-crds.ts";

type Schema = Record<string, unknown>;

/** A CRD `example.io` / `Widget` whose spec has the given properties (and optional extras on spec). */
function widgetCrd(
  properties: Schema,
  specExtras: Schema = {},
  versions = [{ name: "v1", served: true }],
): unknown {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.io" },
    spec: {
      group: "example.io",
      names: { kind: "Widget", plural: "widgets" },
      scope: "Namespaced",
      versions: versions.map((v, i) => ({
        ...v,
        storage: i === 0,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              apiVersion: { type: "string" },
              kind: { type: "string" },
              metadata: { type: "object" },
              spec: { type: "object", properties, ...specExtras },
            },
          },
        },
      })),
    },
  };
}

function check(properties: Schema, spec: unknown, specExtras: Schema = {}): Problem[] {
  return compileStructuralValidator([widgetCrd(properties, specExtras)]).validate({
    apiVersion: "example.io/v1",
    kind: "Widget",
    metadata: { name: "w" },
    spec,
  });
}

function brief(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.path} ${p.code}`);
}

describe("schema translation", () => {
  const cases: [string, Schema, unknown, string[], Schema?][] = [
    // preserve-unknown-fields: unknown fields kept, known ones still typed
    [
      "preserve-unknown-fields accepts extras",
      {
        extra: {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { n: { type: "integer" } },
        },
      },
      { extra: { anything: [1, 2], n: 3 } },
      [],
    ],
    [
      "preserve-unknown-fields still types known fields",
      {
        extra: {
          type: "object",
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { n: { type: "integer" } },
        },
      },
      { extra: { n: "3" } },
      ["spec.extra.n schema.type"],
    ],
    // an object with no properties and no preserve: every field is unknown (as the API server prunes them)
    ["closed empty object", { o: { type: "object" } }, { o: { a: 1 } }, ["spec.o.a schema.unknown-field"]],
    // int-or-string: integer, string accepted; boolean refused
    ["int-or-string integer", { port: { "x-kubernetes-int-or-string": true } }, { port: 8080 }, []],
    ["int-or-string string", { port: { "x-kubernetes-int-or-string": true } }, { port: "50%" }, []],
    [
      "int-or-string boolean",
      { port: { "x-kubernetes-int-or-string": true } },
      { port: true },
      ["spec.port schema.type"],
    ],
    // nullable: null kept and accepted
    ["nullable null", { s: { type: "string", nullable: true } }, { s: null }, []],
    // not nullable: a null field is pruned, so accepted when optional
    ["non-nullable null pruned", { s: { type: "string" } }, { s: null }, []],
    // not nullable and required: pruned, then missing
    [
      "required null",
      { s: { type: "string" } },
      { s: null },
      ["spec.s schema.required"],
      { required: ["s"] },
    ],
    // null in a list item is not pruned
    [
      "null list item",
      { l: { type: "array", items: { type: "string" } } },
      { l: ["a", null] },
      ["spec.l[1] schema.type"],
    ],
    // null map value is pruned like a field
    [
      "null map value",
      { m: { type: "object", additionalProperties: { type: "string" } } },
      { m: { a: null } },
      [],
    ],
    // required with a default: the API server fills it
    ["required with default", { s: { type: "string", default: "x" } }, {}, [], { required: ["s"] }],
    // list-type set: duplicates refused
    [
      "set duplicates",
      { l: { type: "array", "x-kubernetes-list-type": "set", items: { type: "integer" } } },
      { l: [1, 2, 1] },
      ["spec.l[2] schema.duplicate"],
    ],
    // list-type atomic: duplicates fine
    [
      "atomic duplicates",
      { l: { type: "array", "x-kubernetes-list-type": "atomic", items: { type: "integer" } } },
      { l: [1, 1] },
      [],
    ],
    // list-type map with two keys: a duplicate needs both equal
    [
      "map list two keys distinct",
      {
        l: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name", "port"],
          items: {
            type: "object",
            required: ["name", "port"],
            properties: { name: { type: "string" }, port: { type: "integer" } },
          },
        },
      },
      {
        l: [
          { name: "a", port: 1 },
          { name: "a", port: 2 },
        ],
      },
      [],
    ],
    [
      "map list two keys duplicate",
      {
        l: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name", "port"],
          items: {
            type: "object",
            required: ["name", "port"],
            properties: { name: { type: "string" }, port: { type: "integer" } },
          },
        },
      },
      {
        l: [
          { name: "a", port: 1 },
          { name: "b", port: 1 },
          { name: "a", port: 1 },
        ],
      },
      ["spec.l[2] schema.duplicate"],
    ],
    // CEL rule casskeeper does not mirror: ignored (the API server still enforces it)
    [
      "unknown CEL rule ignored",
      { n: { type: "integer" } },
      { n: 0 },
      [],
      { "x-kubernetes-validations": [{ rule: "self.n > 1", message: "n must be above 1" }] },
    ],
    // a mirrored CEL rule applies wherever a CRD uses it
    [
      "mirrored CEL rule elsewhere",
      { branch: { type: "string" }, tag: { type: "string" }, commit: { type: "string" } },
      { branch: "a", tag: "b" },
      ["spec schema.invalid"],
      { "x-kubernetes-validations": [{ rule: [...MIRRORED_CEL_RULES.keys()][0] }] },
    ],
    // OpenAPI v3.0 boolean exclusiveMinimum
    [
      "exclusiveMinimum boolean",
      { n: { type: "integer", minimum: 0, exclusiveMinimum: true } },
      { n: 0 },
      ["spec.n schema.invalid"],
    ],
    ["minimum inclusive", { n: { type: "integer", minimum: 0 } }, { n: 0 }, []],
    // formats: int64 range, date, byte; formats casskeeper does not check are ignored
    ["int64 in range", { n: { type: "integer", format: "int64" } }, { n: 2 ** 53 }, []],
    [
      "int64 out of range",
      { n: { type: "integer", format: "int64" } },
      { n: 2 ** 64 },
      ["spec.n schema.format"],
    ],
    ["date bad", { d: { type: "string", format: "date" } }, { d: "2024-13-01" }, ["spec.d schema.format"]],
    [
      "date-time with offset",
      { d: { type: "string", format: "date-time" } },
      { d: "2024-02-29T23:59:59.5+05:30" },
      [],
    ],
    ["byte bad", { b: { type: "string", format: "byte" } }, { b: "not base64!" }, ["spec.b schema.format"]],
    ["unchecked format", { e: { type: "string", format: "email" } }, { e: "nobody" }, []],
    // enum
    ["enum", { e: { type: "string", enum: ["A", "B"] } }, { e: "C" }, ["spec.e schema.enum"]],
    // explicit additionalProperties: true leaves the object open
    ["additionalProperties true", { o: { type: "object", additionalProperties: true } }, { o: { a: 1 } }, []],
    // embedded resource: apiVersion, kind, metadata implied
    [
      "embedded resource",
      {
        r: {
          type: "object",
          "x-kubernetes-embedded-resource": true,
          "x-kubernetes-preserve-unknown-fields": true,
          properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      },
      { r: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: {} } },
      [],
    ],
    // junctors carry value checks only: no unknown-field closing inside them
    [
      "anyOf value checks",
      { s: { type: "string", anyOf: [{ maxLength: 2 }, { pattern: "^x" }] } },
      { s: "xyz" },
      [],
    ],
    [
      "anyOf no match",
      { s: { type: "string", anyOf: [{ maxLength: 2 }, { pattern: "^x" }] } },
      { s: "abc" },
      ["spec.s schema.invalid"],
    ],
  ];
  for (const [title, properties, spec, expected, specExtras] of cases) {
    it(title, () => assert.deepEqual(brief(check(properties, spec, specExtras)), expected));
  }

  it("a failed anyOf is one problem listing its branches", () => {
    const problems = check(
      { s: { type: "string", anyOf: [{ maxLength: 2 }, { pattern: "^x" }] } },
      { s: "abc" },
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        'must satisfy one of: must be at most 2 characters long (got 3) | must match the pattern ^x (got string "abc")',
      ],
    );
  });

  it("int-or-string message names both types", () => {
    const [p] = check({ port: { "x-kubernetes-int-or-string": true } }, { port: true });
    assert.equal(p?.message, "must be an integer or a string (got boolean true)");
  });

  it("an unknown CEL rule's message never appears; a mirrored rule's does", () => {
    const problems = check(
      { branch: { type: "string" }, tag: { type: "string" } },
      { branch: "a", tag: "b" },
      {
        "x-kubernetes-validations": [
          { rule: "size(self) < 1", message: "never checked" },
          { rule: [...MIRRORED_CEL_RULES.keys()][0], message: "one ref only" },
        ],
      },
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      ["one ref only"],
    );
  });

  it("only served versions are compiled", () => {
    const v = compileStructuralValidator([
      widgetCrd({}, {}, [
        { name: "v1", served: true },
        { name: "v0", served: false },
      ]),
    ]);
    assert.deepEqual(v.kinds[0]?.versions, ["v1"]);
    const problems = v.validate({ apiVersion: "example.io/v0", kind: "Widget", metadata: { name: "w" } });
    assert.deepEqual(brief(problems), ["apiVersion schema.unknown-kind"]);
    assert.match(problems[0]?.message ?? "", /served versions: example\.io\/v1$/);
  });

  it("refuses input that is not a CRD", () => {
    assert.throws(() => compileStructuralValidator([{ kind: "ConfigMap" }]), TypeError);
    assert.throws(() => compileStructuralValidator([null]), TypeError);
  });

  it("compiles nothing to a validator that knows nothing", () => {
    const v = compileStructuralValidator([]);
    assert.equal(v.knows("db.orange.com/v2", "CassandraBackup"), false);
    assert.deepEqual(brief(v.validate({ apiVersion: "db.orange.com/v2", kind: "CassandraBackup" })), [
      "kind schema.unknown-kind",
    ]);
  });
});

describe("suggest", () => {
  const known = ["schedule", "snapshotTag", "storageLocation", "concurrentConnection", "v", "id"];
  const cases: [string, string | undefined][] = [
    // one deletion
    ["shedule", "schedule"],
    // case only
    ["SnapshotTAG", "snapshotTag"],
    // two edits
    ["storagLocatio", "storageLocation"],
    // one insertion (plural)
    ["concurrentConnections", "concurrentConnection"],
    // three edits: too far
    ["scheduleXYZ", undefined],
    // a one-letter name is never a near miss of another one-letter name
    ["x", undefined],
    ["retention", undefined],
  ];
  for (const [name, expected] of cases) {
    it(`${name} → ${expected ?? "nothing"}`, () => assert.equal(suggest(name, known), expected));
  }
});

describe("bundled CRDs and the CEL mirrors", () => {
  it("every x-kubernetes-validations rule in manifests/crds is mirrored", () => {
    const rules: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === "object" && node !== null) {
        for (const [k, v] of Object.entries(node)) {
          if (k === "x-kubernetes-validations" && Array.isArray(v)) for (const r of v) rules.push(r.rule);
          else walk(v);
        }
      }
    };
    walk(readBundledCrds());
    assert.ok(rules.length > 0);
    for (const rule of rules) assert.ok(MIRRORED_CEL_RULES.has(rule), `not mirrored: ${rule}`);
  });
});
