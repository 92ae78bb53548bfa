import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { joinPath } from "../../../src/core/problem.ts";
import { backupFinder, type RestoreContext } from "../../../src/core/rules/context.ts";
import { parseEntities } from "../../../src/core/rules/entities.ts";
import {
  checkRename,
  restoreStarted,
  validateRestore,
  validateRestoreUpdate,
} from "../../../src/core/rules/restore.ts";
import type { CassandraBackup, CassandraRestore, CassandraRestoreSpec } from "../../../src/core/types.ts";
import { assertProblems, type Expect, err, UNKNOWN, warn, world } from "./fixtures.ts";

const AWS = ["awsaccesskeyid", "awssecretaccesskey", "awsregion"];
const base = { cassandraCluster: "cc", storageLocation: "s3://cassie", secret: "creds" };
const w = world({
  secrets: { "ns/creds": AWS, "ns/restore-creds": ["gcp"] },
  clusters: { "ns/cc": ["dc1"], "ns/other": ["dc1"] },
  backups: [
    { name: "tables", spec: { ...base, snapshotTag: "t", entities: "k1.t1,k2.t3" }, state: "COMPLETED" },
    { name: "keyspaces", spec: { ...base, snapshotTag: "k", entities: "k1,k2" }, state: "COMPLETED" },
    { name: "all", spec: { ...base, snapshotTag: "a" }, state: "COMPLETED" },
    { name: "failed", spec: { ...base, snapshotTag: "f" }, state: "FAILED" },
    { name: "cancelled", spec: { ...base, snapshotTag: "c" }, state: "CANCELLED" },
    { name: "running", spec: { ...base, snapshotTag: "r" }, state: "RUNNING" },
    { name: "fresh", spec: { ...base, snapshotTag: "n" } },
    { name: "daily", spec: { ...base, snapshotTag: "d", schedule: "@daily" }, state: "COMPLETED" },
    { name: "daily-failed", spec: { ...base, snapshotTag: "df", schedule: "@daily" }, state: "FAILED" },
    {
      name: "gcp",
      spec: { ...base, storageLocation: "gcp://cassie", secret: undefined, snapshotTag: "g" },
      state: "COMPLETED",
    },
  ],
});
const ctx: RestoreContext = { world: w, namespace: "ns", findBackup: backupFinder(w) };

function restore(spec: CassandraRestoreSpec, status?: CassandraRestore["status"]): CassandraRestore {
  return {
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraRestore",
    metadata: { name: "r1", namespace: "ns" },
    spec,
    ...(status === undefined ? {} : { status }),
  };
}

const R = (k: string) => joinPath("spec.rename", k);
const UUID = "9d9e6a1e-1b5a-3b5a-9d54-8a5b5f1c3f3a";

describe("validateRestore", () => {
  const cases: [string, CassandraRestoreSpec, Expect[]][] = [
    // (subset of a table backup) → clean
    ["subset", { cassandraCluster: "cc", cassandraBackup: "tables", entities: "k1.t1" }, []],
    // (no entities: the backup's are used) → clean
    ["backup's entities", { cassandraCluster: "cc", cassandraBackup: "tables" }, []],
    // (tables of a keyspace backup) → a keyspace covers its tables
    [
      "keyspace covers",
      { cassandraCluster: "cc", cassandraBackup: "keyspaces", entities: "k1.t9,k2.t1" },
      [],
    ],
    // (anything from an everything-backup) → clean
    ["all", { cassandraCluster: "cc", cassandraBackup: "all", entities: "k9" }, []],
    // (entity outside the backup) → error naming it and the backup's entities
    [
      "outside",
      { cassandraCluster: "cc", cassandraBackup: "tables", entities: "k1.t1,k2.t9" },
      [err("spec.entities", "restore.entities-not-in-backup", "k2.t9", "k1.t1,k2.t3", "not in manifest")],
    ],
    // (keyspace whose tables are partly backed up) → warning
    [
      "partial",
      { cassandraCluster: "cc", cassandraBackup: "tables", entities: "k1" },
      [warn("spec.entities", "restore.entities-partial", "k1")],
    ],
    // (backup not found, world known) → error
    [
      "not found",
      { cassandraCluster: "cc", cassandraBackup: "ghost" },
      [err("spec.cassandraBackup", "restore.backup-not-found", '"ghost"')],
    ],
    // (FAILED / CANCELLED one-shot backups) → deny
    [
      "failed",
      { cassandraCluster: "cc", cassandraBackup: "failed" },
      [err("spec.cassandraBackup", "restore.backup-failed", "FAILED")],
    ],
    [
      "cancelled",
      { cassandraCluster: "cc", cassandraBackup: "cancelled" },
      [err("spec.cassandraBackup", "restore.backup-failed", "CANCELLED")],
    ],
    // (RUNNING, no status) → warning
    [
      "running",
      { cassandraCluster: "cc", cassandraBackup: "running" },
      [warn("spec.cassandraBackup", "restore.backup-not-completed", "RUNNING")],
    ],
    [
      "fresh",
      { cassandraCluster: "cc", cassandraBackup: "fresh" },
      [warn("spec.cassandraBackup", "restore.backup-not-completed", "no status")],
    ],
    // (scheduled backup) → the newest run is restored
    [
      "scheduled",
      { cassandraCluster: "cc", cassandraBackup: "daily" },
      [warn("spec.cassandraBackup", "restore.latest-run", '"d"', "schemaVersion")],
    ],
    // (scheduled, pinned run) → clean
    [
      "pinned",
      { cassandraCluster: "cc", cassandraBackup: "daily", schemaVersion: UUID, exactSchemaVersion: true },
      [],
    ],
    // (scheduled, last run failed) → warning only: earlier runs exist
    [
      "scheduled failed",
      { cassandraCluster: "cc", cassandraBackup: "daily-failed" },
      [
        warn("spec.cassandraBackup", "restore.backup-last-run-failed"),
        warn("spec.cassandraBackup", "restore.latest-run"),
      ],
    ],
    // (other cluster) → warning
    [
      "cross-cluster",
      { cassandraCluster: "other", cassandraBackup: "all" },
      [warn("spec.cassandraCluster", "restore.cross-cluster", '"other"', '"cc"')],
    ],
    // (restore's own secret, wrong keys for the backup's s3 location) → keys named
    [
      "restore secret",
      { cassandraCluster: "cc", cassandraBackup: "all", secret: "restore-creds" },
      [err("spec.secret", "secret.missing-keys", '"restore-creds"', "awsaccesskeyid")],
    ],
    // (no secret anywhere, gcp backup) → the default, pointing at the backup too
    [
      "default secret",
      { cassandraCluster: "cc", cassandraBackup: "gcp" },
      [warn("spec.secret", "secret.default", "here or on the backup")],
    ],
    // (options) → schemaVersion UUID, exactSchemaVersion alone, absolute directory, connections
    [
      "options",
      {
        cassandraCluster: "cc",
        cassandraBackup: "all",
        schemaVersion: "test",
        cassandraDirectory: "var/lib/cassandra",
        concurrentConnection: 0,
      },
      [
        err("spec.schemaVersion", "restore.schema-version", '"test"'),
        err("spec.cassandraDirectory", "restore.cassandra-directory"),
        err("spec.concurrentConnection", "concurrent-connections.invalid"),
      ],
    ],
    [
      "exact alone",
      { cassandraCluster: "cc", cassandraBackup: "all", exactSchemaVersion: true },
      [warn("spec.exactSchemaVersion", "restore.exact-schema-version")],
    ],
    // (rename within the backup's table entities) → clean
    ["rename ok", { cassandraCluster: "cc", cassandraBackup: "tables", rename: { "k1.t1": "k1.t2" } }, []],
    // (rename with keyspace entities) → esop's message
    [
      "rename keyspaces",
      { cassandraCluster: "cc", cassandraBackup: "keyspaces", rename: { "k1.t1": "k1.t2" } },
      [err("spec.rename", "restore.rename", "keyspace entities in connection with rename")],
    ],
    // (rename with an everything-backup and no entities) → esop's message
    [
      "rename empty entities",
      { cassandraCluster: "cc", cassandraBackup: "all", rename: { "k1.t1": "k1.t2" } },
      [err("spec.rename", "restore.rename", "database entities are empty")],
    ],
    // (several mistakes) → all at once
    [
      "all at once",
      {
        cassandraCluster: "ghost",
        cassandraBackup: "failed",
        entities: "k1,k1.t1",
        schemaVersion: "x",
        concurrentConnection: 500,
      },
      [
        err("spec.cassandraCluster", "cluster.not-found"),
        err("spec.cassandraBackup", "restore.backup-failed"),
        err("spec.entities", "entities.mixed"),
        err("spec.schemaVersion", "restore.schema-version"),
        err("spec.concurrentConnection", "concurrent-connections.invalid"),
        warn("spec.cassandraCluster", "restore.cross-cluster"),
      ],
    ],
  ];
  for (const [name, spec, expected] of cases) {
    test(name, () => assertProblems(validateRestore(restore(spec), ctx), expected, name));
  }

  test("world unknown, backup unknown: skipped without error", () => {
    const unknown: RestoreContext = { world: UNKNOWN, namespace: "ns", findBackup: backupFinder(UNKNOWN) };
    assertProblems(
      validateRestore(restore({ cassandraCluster: "cc", cassandraBackup: "ghost", secret: "x" }), unknown),
      [],
    );
  });

  test("backup found among the documents of the same set", () => {
    const doc: CassandraBackup = {
      metadata: { name: "new", namespace: "ns" },
      spec: {
        cassandraCluster: "cc",
        storageLocation: "s3://cassie",
        snapshotTag: "n",
        secret: "creds",
        entities: "k1",
      },
    };
    const c: RestoreContext = { world: UNKNOWN, namespace: "ns", findBackup: backupFinder(UNKNOWN, [doc]) };
    assertProblems(
      validateRestore(restore({ cassandraCluster: "cc", cassandraBackup: "new", entities: "k2" }), c),
      [
        warn("spec.cassandraBackup", "restore.backup-not-completed"),
        err("spec.entities", "restore.entities-not-in-backup", "k2"),
      ],
    );
  });

  test("garbage in: no throw", () => {
    for (const v of [
      undefined,
      null,
      1,
      [],
      { spec: 3 },
      { spec: { rename: [1] } },
      { spec: { rename: { a: 1 } } },
    ]) {
      assert.doesNotThrow(() => validateRestore(v as never, ctx));
    }
  });
});

describe("checkRename (esop RenamedEntities + CassandraData.validate)", () => {
  const tables = parseEntities("k1.t1,k1.t2,k2.t1");
  const cases: [string, unknown, ReturnType<typeof parseEntities> | undefined, Expect[]][] = [
    // (valid) → clean
    ["ok", { "k1.t1": "k1.t9" }, tables, []],
    // (to itself, spaces stripped first) → esop's message
    [
      "itself",
      { "k1.t1": "k1 .t1" },
      tables,
      [err(R("k1.t1"), "restore.rename", "Can not rename table k1.t1 to itself!")],
    ],
    // (from side not ks.table) → format error
    [
      "from format",
      { k1: "k1.t9" },
      tables,
      [err("spec.rename.k1", "restore.rename", "from side", "{keyspace}.{table}")],
    ],
    // (to side not ks.table) → format error
    ["to format", { "k1.t1": "a.b.c" }, tables, [err(R("k1.t1"), "restore.rename", "to side")]],
    // (duplicate targets) → distinct values
    [
      "distinct",
      { "k1.t1": "k1.t9", "k2.t1": "k1.t9" },
      tables,
      [err(R("k2.t1"), "restore.rename", "have to be distinct"), warn(R("k2.t1"), "restore.rename-keyspace")],
    ],
    // (chain) → no value may be a key
    [
      "chain",
      { "k1.t1": "k1.t9", "k1.t9": "k1.t8" },
      parseEntities("k1.t1,k1.t9"),
      [err(R("k1.t1"), "restore.rename", "itself renamed"), err(R("k1.t1"), "restore.rename", "'to' part")],
    ],
    // (from not in entities) → named
    [
      "from missing",
      { "k1.t5": "k1.t9" },
      tables,
      [err(R("k1.t5"), "restore.rename", "k1.t5", "'from' part")],
    ],
    // (to in entities) → named
    ["to listed", { "k1.t1": "k1.t2" }, tables, [err(R("k1.t1"), "restore.rename", "k1.t2", "'to' part")]],
    // (across keyspaces) → warning only
    ["cross keyspace", { "k1.t1": "k3.t1" }, tables, [warn(R("k1.t1"), "restore.rename-keyspace")]],
    // (unknown entities) → only the map's own rules
    ["unknown entities", { "k1.t1": "k1.t9" }, undefined, []],
    // (not a map, empty, non-string values) → nothing
    ["not a map", ["k1.t1"], tables, []],
    // (empty map) → nothing
    ["empty", {}, tables, []],
    // (non-string target) → the schema's business
    ["non-string value", { "k1.t1": 3 }, tables, []],
  ];
  for (const [name, rename, entities, expected] of cases) {
    test(name, () => assertProblems(checkRename(rename, entities), expected, name));
  }
});

describe("validateRestoreUpdate (immutability of a started restore)", () => {
  const spec: CassandraRestoreSpec = { cassandraCluster: "cc", cassandraBackup: "tables", entities: "k1.t1" };
  const started = restore(spec, { condition: { type: "RUNNING" }, coordinatorMember: "cc-dc1-rack1-0" });

  test("started: restoreStarted on condition or coordinatorMember", () => {
    assert.ok(restoreStarted(started));
    assert.ok(restoreStarted(restore(spec, { coordinatorMember: "pod-0" })));
    assert.ok(restoreStarted(restore(spec, { condition: { type: "REQUIRED" } })));
    assert.ok(!restoreStarted(restore(spec)));
    assert.ok(!restoreStarted(restore(spec, { progress: "0%" })));
  });

  const cases: [string, CassandraRestore, CassandraRestore, Expect[]][] = [
    // (started, spec changed) → one error per changed field
    [
      "spec changed",
      started,
      restore({ ...spec, entities: "k2.t3", datacenter: "dc1" }, started.status),
      [
        err("spec.datacenter", "restore.immutable"),
        err("spec.entities", "restore.immutable", "create a new CassandraRestore"),
      ],
    ],
    // (started, status-only change) → allowed
    ["status only", started, restore(spec, { condition: { type: "COMPLETED" }, progress: "100%" }), []],
    // (started, metadata-only change) → allowed
    [
      "metadata only",
      started,
      { ...restore(spec, started.status), metadata: { name: "r1", annotations: { a: "b" } } },
      [],
    ],
    // (started, same spec with keys in another order) → allowed
    [
      "key order",
      started,
      restore({ entities: "k1.t1", cassandraBackup: "tables", cassandraCluster: "cc" }, started.status),
      [],
    ],
    // (not started, spec changed) → allowed
    ["not started", restore(spec), restore({ ...spec, entities: "k2.t3" }), []],
    // (started, rename map changed) → error at spec.rename
    [
      "rename",
      restore({ ...spec, rename: { "k1.t1": "k1.t2" } }, started.status),
      restore({ ...spec, rename: { "k1.t1": "k1.t3" } }, started.status),
      [err("spec.rename", "restore.immutable")],
    ],
  ];
  for (const [name, before, after, expected] of cases) {
    test(name, () => assertProblems(validateRestoreUpdate(before, after), expected, name));
  }
});
