// Properties of structural validation on arbitrary input: it never throws, returns well-formed problems,
// is deterministic, and the mirrored CEL rule agrees with the rule's own meaning.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { Problem } from "../../../src/core/problem.ts";
import { loadStructuralValidator } from "../../../src/schema/bundled-crds.ts";

const validator = loadStructuralValidator();

function assertWellFormed(problems: unknown): void {
  assert.ok(Array.isArray(problems));
  for (const p of problems as Problem[]) {
    assert.equal(typeof p.path, "string");
    assert.match(p.code, /^[a-z]+(\.[a-z-]+)+$/);
    assert.notEqual(p.code, "schema.internal", p.message);
    assert.ok(p.severity === "error" || p.severity === "warning");
    assert.ok(p.message.length > 0);
  }
}

const apiVersions = fc.constantFrom(
  "db.orange.com/v1alpha1",
  "db.orange.com/v2",
  "db.orange.com/v3",
  "casskeeper.io/v1alpha1",
  "v1",
);
const kinds = fc.constantFrom("CassandraBackup", "CassandraRestore", "BackupPolicySource", "ConfigMap");

/** Documents of casskeeper's kinds with arbitrary JSON in every part, and known field names mixed in. */
const knownKeys = fc.constantFrom(
  "cassandraCluster",
  "storageLocation",
  "snapshotTag",
  "rename",
  "concurrentConnections",
  "ref",
  "targetNamespaces",
  "conditions",
  "history",
  "condition",
  "name",
  "labels",
);
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 2 }),
    fc.dictionary(fc.oneof(knownKeys, fc.string()), tie("v"), { maxKeys: 5 }),
    fc.array(tie("v"), { maxLength: 4 }),
  ),
})).v;
const documents = fc.record(
  { apiVersion: apiVersions, kind: kinds, metadata: jsonish, spec: jsonish, status: jsonish },
  { requiredKeys: ["apiVersion", "kind"] },
);

describe("validate on arbitrary input", () => {
  it("never throws on arbitrary JSON values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => assertWellFormed(validator.validate(v))),
      { numRuns: 2000 },
    );
  });

  it("never throws on documents of known kinds with arbitrary parts", () => {
    fc.assert(
      fc.property(documents, (doc) => assertWellFormed(validator.validate(doc))),
      { numRuns: 3000 },
    );
  });

  it("never throws on arbitrary JavaScript values (null prototypes, BigInt, Dates, sparse arrays)", () => {
    const anything = fc.anything({
      withBigInt: true,
      withDate: true,
      withNullPrototype: true,
      withSparseArray: true,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
    });
    fc.assert(
      fc.property(
        fc.record({
          apiVersion: apiVersions,
          kind: kinds,
          metadata: anything,
          spec: anything,
          status: anything,
        }),
        (doc) => assertWellFormed(validator.validate(doc)),
      ),
      { numRuns: 1000 },
    );
  });

  it("does not change its input", () => {
    fc.assert(
      fc.property(documents, (doc) => {
        const before = JSON.stringify(doc);
        validator.validate(doc);
        assert.equal(JSON.stringify(doc), before);
      }),
      { numRuns: 500 },
    );
  });

  it("is deterministic", () => {
    fc.assert(
      fc.property(documents, (doc) => assert.deepEqual(validator.validate(doc), validator.validate(doc))),
      { numRuns: 500 },
    );
  });
});

describe("the CEL mirror agrees with the rule", () => {
  it("spec.ref is refused exactly when more than one of branch, tag, commit is present and not null", () => {
    const value = fc.option(fc.constantFrom("main", "v1", "0123456789abcdef0123456789abcdef01234567"), {
      nil: null,
    });
    const ref = fc.record({ branch: value, tag: value, commit: value }, { requiredKeys: [] });
    fc.assert(
      fc.property(ref, (r) => {
        // CEL: (has(self.branch) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.commit) ? 1 : 0) <= 1,
        // on the object after the API server pruned its nulls.
        const present = Object.values(r).filter((v) => v !== null && v !== undefined).length;
        const problems = validator.validate({
          apiVersion: "casskeeper.io/v1alpha1",
          kind: "BackupPolicySource",
          metadata: { name: "s" },
          spec: { url: "https://git.example.com/x.git", ref: r },
        });
        const refused = problems.some((p) => p.path === "spec.ref" && p.code === "schema.invalid");
        assert.equal(refused, present > 1);
      }),
      { numRuns: 500 },
    );
  });
});
