// Properties over arbitrary input: the rules never throw, every problem carries a listed code with the listed
// severity, and no message ever contains a secret value.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { Problem } from "../../../src/core/problem.ts";
import { validateBackup } from "../../../src/core/rules/backup.ts";
import { checkCluster } from "../../../src/core/rules/cluster.ts";
import { CODES } from "../../../src/core/rules/codes.ts";
import { backupFinder, type RestoreContext } from "../../../src/core/rules/context.ts";
import { checkEntities, coveredBy, parseEntities } from "../../../src/core/rules/entities.ts";
import { checkRename, validateRestore, validateRestoreUpdate } from "../../../src/core/rules/restore.ts";
import { checkSecret } from "../../../src/core/rules/secrets.ts";
import { checkSnapshotTag, snapshotTagCollisions } from "../../../src/core/rules/snapshot-tag.ts";
import { checkStorageLocation, parseStorageLocation } from "../../../src/core/rules/storage-location.ts";
import { checkBandwidth, checkConcurrentConnections, checkDuration } from "../../../src/core/rules/tuning.ts";
import { SCHEDULE_CODES } from "../../../src/core/schedule/index.ts";
import type { WorldSnapshot } from "../../../src/core/world.ts";
import { key } from "../../../src/core/world.ts";
import { world } from "./fixtures.ts";

function assertWellFormed(problems: readonly Problem[]): void {
  for (const p of problems) {
    assert.equal(typeof p.path, "string");
    assert.equal(typeof p.message, "string");
    const table: Record<string, { severity: string }> = p.code.startsWith("schedule.")
      ? SCHEDULE_CODES
      : CODES;
    assert.ok(Object.hasOwn(table, p.code), `unlisted code ${p.code}`);
    assert.equal(p.severity, table[p.code]?.severity, p.code);
  }
}

// Strings that look like what the rules parse, mixed with arbitrary ones.
const fieldString = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme-ascii" }),
  fc.constantFrom(
    "s3://",
    "file://",
    "gcp://b/c/d/n",
    "k1.t1",
    "k1,k2.t1",
    "10M",
    "15m",
    "@daily",
    "0 0 * * 7",
    ".",
  ),
  fc
    .array(fc.constantFrom("s3", "file", "://", "/", "a", ".", ",", " ", "\n", "k1", "-", "_"), {
      maxLength: 12,
    })
    .map((a) => a.join("")),
);
const fieldValue = fc.oneof(fieldString, fc.anything());
const spec = fc.record(
  {
    cassandraCluster: fieldValue,
    cassandraBackup: fieldValue,
    datacenter: fieldValue,
    storageLocation: fieldValue,
    snapshotTag: fieldValue,
    schedule: fieldValue,
    duration: fieldValue,
    bandwidth: fieldValue,
    concurrentConnections: fc.oneof(fc.integer(), fc.double(), fieldValue),
    concurrentConnection: fc.oneof(fc.integer(), fieldValue),
    entities: fieldValue,
    secret: fieldValue,
    rename: fc.oneof(fc.dictionary(fieldString, fieldValue), fieldValue),
    schemaVersion: fieldValue,
    exactSchemaVersion: fieldValue,
    cassandraDirectory: fieldValue,
  },
  { requiredKeys: [] },
);
const object = fc.oneof(
  fc.record({
    metadata: fc.oneof(fc.record({ name: fieldValue, annotations: fieldValue }), fc.anything()),
    spec,
    status: fc.anything(),
  }),
  fc.anything(),
);

const someWorld = world({
  secrets: { "ns/creds": ["awsaccesskeyid"] },
  clusters: { "ns/cc": ["dc1", "dc2"] },
  backups: [
    {
      name: "b",
      spec: { cassandraCluster: "cc", storageLocation: "s3://cassie", snapshotTag: "t", entities: "k1" },
    },
  ],
});

describe("properties", () => {
  test("parsers and field rules never throw on arbitrary input", () => {
    fc.assert(
      fc.property(fieldValue, (v) => {
        parseStorageLocation(v);
        parseEntities(v);
        assertWellFormed(checkStorageLocation(v));
        assertWellFormed(checkEntities(v));
        assertWellFormed(checkSnapshotTag(v));
        assertWellFormed(checkDuration(v));
        assertWellFormed(checkBandwidth(v));
        assertWellFormed(checkConcurrentConnections(v));
        assertWellFormed(checkRename(v, parseEntities(v)));
        assertWellFormed(
          checkSecret({ secretName: v, storageLocation: v }, { world: someWorld, namespace: "ns" }),
        );
        assertWellFormed(
          checkCluster({ cassandraCluster: v, datacenter: v }, { world: someWorld, namespace: "ns" }),
        );
      }),
      { numRuns: 1000 },
    );
  });

  test("validateBackup / validateRestore / validateRestoreUpdate never throw on arbitrary objects", () => {
    const ctx: RestoreContext = { world: someWorld, namespace: "ns", findBackup: backupFinder(someWorld) };
    fc.assert(
      fc.property(object, object, (a, b) => {
        assertWellFormed(validateBackup(a as never, ctx));
        assertWellFormed(validateRestore(a as never, ctx));
        assertWellFormed(validateRestoreUpdate(a as never, b as never));
        assertWellFormed(validateRestoreUpdate(a as never, a as never));
      }),
      { numRuns: 500 },
    );
  });

  test("snapshotTagCollisions never throws and warns symmetric pairs", () => {
    const ref = fc.record({
      namespace: fc.constant("ns"),
      name: fc.string(),
      spec: fc.oneof(
        fc.record({
          snapshotTag: fc.constantFrom("a", "ab", "abc", "b", ""),
          storageLocation: fc.constantFrom("s3://bkt", "s3://bkt/c/d/n", "gcp://bkt", "x"),
        }),
        fc.anything() as fc.Arbitrary<never>,
      ),
    });
    fc.assert(
      fc.property(fc.array(ref, { maxLength: 8 }), (refs) => {
        const r = snapshotTagCollisions(refs);
        for (const [i, ps] of r) {
          assert.ok(i >= 0 && i < refs.length);
          assert.equal(ps.length, 1);
          assertWellFormed(ps);
        }
      }),
    );
  });

  test("coveredBy is reflexive on arbitrary strings", () => {
    fc.assert(fc.property(fc.string(), (s) => assert.ok(coveredBy(parseEntities(s), parseEntities(s)))));
  });

  test("no message contains a secret value", () => {
    // Secrets as kubectl shows them; the world keeps key names only (as src/core/world-build.ts does), and
    // the values must not surface in any message, whatever the specs say.
    const keyName = fc.constantFrom(
      "awsaccesskeyid",
      "awssecretaccesskey",
      "awsregion",
      "awsendpoint",
      "gcp",
      "azurestorageaccount",
      "azurestoragekey",
      "other",
    );
    const secretValue = fc.stringMatching(/^[A-Za-z0-9+/=]{16,40}$/);
    const secretObject = fc.record({
      name: fc.constantFrom(
        "creds",
        "cassandra-backup-restore-secret-cluster-null",
        "cassandra-backup-restore-secret-cluster-prod",
      ),
      data: fc.dictionary(keyName, secretValue, { minKeys: 1 }),
    });
    const backupSpec = fc.record({
      cassandraCluster: fc.constantFrom("cc", "prod"),
      storageLocation: fc.constantFrom(
        "s3://bkt",
        "ceph://bkt",
        "gcp://bkt",
        "azure://bkt",
        "minio://bkt/prod/dc1/n",
        "file:///d/b/c/d/n",
      ),
      snapshotTag: fc.constantFrom("t", "t1"),
      secret: fc.constantFrom(undefined, "", "creds", "missing"),
    });
    fc.assert(
      fc.property(
        fc.array(secretObject, { maxLength: 3 }),
        backupSpec,
        fc.option(fc.constantFrom("creds", "")),
        (secrets, bspec, restoreSecret) => {
          const values = secrets.flatMap((s) => Object.values(s.data));
          const secretMap = new Map<string, ReadonlySet<string>>();
          for (const s of secrets) secretMap.set(key("ns", s.name), new Set(Object.keys(s.data)));
          const w: WorldSnapshot = {
            ...someWorld,
            secrets: secretMap,
            backups: new Map([["ns/b", { namespace: "ns", name: "b", spec: bspec }]]),
          };
          const ctx: RestoreContext = { world: w, namespace: "ns", findBackup: backupFinder(w) };
          const problems = [
            ...validateBackup({ metadata: { name: "x" }, spec: bspec }, ctx),
            ...validateRestore(
              { spec: { cassandraCluster: "cc", cassandraBackup: "b", secret: restoreSecret ?? undefined } },
              ctx,
            ),
          ];
          for (const p of problems)
            for (const v of values) assert.ok(!p.message.includes(v), `${p.code} leaks a value`);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("hostile long inputs stay fast (no regex backtracking blow-up)", () => {
    const inputs = [
      `file://${"/".repeat(50_000)}\n`,
      `s3://${"://".repeat(20_000)}`,
      "a".repeat(100_000),
      "k .".repeat(30_000),
      `${"k1.".repeat(30_000)}t`,
      " ,".repeat(50_000),
    ];
    for (const s of inputs) {
      const started = performance.now();
      checkStorageLocation(s);
      checkEntities(s);
      checkSnapshotTag(s);
      checkBandwidth(s);
      checkRename({ [s]: s }, parseEntities(s));
      snapshotTagCollisions([
        { namespace: "n", name: "a", spec: { snapshotTag: s, storageLocation: "s3://bkt" } },
        { namespace: "n", name: "b", spec: { snapshotTag: s.slice(0, 10), storageLocation: "s3://bkt" } },
      ]);
      assert.ok(performance.now() - started < 1000, `${s.slice(0, 20)}… took too long`);
    }
  });
});
