import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkBackupAnnotations,
  parseRetention,
  parseStartingDeadline,
  validateBackup,
  worldSnapshotTagCollisions,
} from "../../../src/core/rules/backup.ts";
import type { CassandraBackup, CassandraBackupSpec } from "../../../src/core/types.ts";
import { assertProblems, type Expect, err, UNKNOWN, warn, world } from "./fixtures.ts";

const AWS = ["awsaccesskeyid", "awssecretaccesskey", "awsregion"];
const w = world({
  secrets: { "ns/creds": AWS },
  clusters: { "ns/cc": ["dc1"] },
  backups: [
    {
      name: "nightly",
      spec: { cassandraCluster: "cc", storageLocation: "s3://cassie", snapshotTag: "night" },
    },
  ],
});
const ctx = { world: w, namespace: "ns" };

const good: CassandraBackupSpec = {
  cassandraCluster: "cc",
  datacenter: "dc1",
  storageLocation: "s3://cassie",
  snapshotTag: "SnapshotTag2",
  secret: "creds",
  entities: "k1.t1,k2.t3",
  bandwidth: "10M",
  concurrentConnections: 15,
};

function backup(
  spec: CassandraBackupSpec,
  annotations?: Record<string, string>,
  name = "b1",
): CassandraBackup {
  return {
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraBackup",
    metadata: { name, namespace: "ns", ...(annotations === undefined ? {} : { annotations }) },
    spec,
  };
}

const ann = (n: string) => `metadata.annotations["casskeeper.io/${n}"]`;

describe("validateBackup", () => {
  const cases: [string, CassandraBackup, Expect[]][] = [
    // (CassKop's documented example, complete world) → clean
    ["good", backup(good), []],
    // (scheduled, @midnight) → clean
    ["scheduled", backup({ ...good, schedule: "@midnight" }), []],
    // (schedule 0 0 * * 7) → robfig's error, via ../schedule
    ["bad schedule", backup({ ...good, schedule: "0 0 * * 7" }), [err("spec.schedule", "schedule.invalid")]],
    // (duration 15m) → valid, with the ⚠1 warning
    ["duration", backup({ ...good, duration: "15m" }), [warn("spec.duration", "duration.unsupported")]],
    // (four mistakes) → four problems
    [
      "four mistakes",
      backup({
        ...good,
        storageLocation: "s3://cassie/prefix",
        bandwidth: "10MB",
        entities: "k1,k2.t2",
        concurrentConnections: 0,
      }),
      [
        err("spec.storageLocation", "storage.form"),
        err("spec.bandwidth", "bandwidth.invalid"),
        err("spec.entities", "entities.mixed"),
        err("spec.concurrentConnections", "concurrent-connections.invalid"),
      ],
    ],
    // (world-dependent mistakes) → secret, cluster and datacenter at once
    [
      "world mistakes",
      backup({ ...good, secret: "nope", cassandraCluster: "ghost" }),
      [err("spec.secret", "secret.not-found"), err("spec.cassandraCluster", "cluster.not-found")],
    ],
    // (tag with a world backup's tag as prefix) → not validateBackup's job (worldSnapshotTagCollisions)
    ["no collision check", backup({ ...good, snapshotTag: "nightly" }), []],
    // (annotations on a scheduled backup) → fine
    [
      "annotations",
      backup(
        { ...good, schedule: "@daily" },
        {
          "casskeeper.io/retention": "14d",
          "casskeeper.io/concurrency-policy": "Forbid",
          "casskeeper.io/starting-deadline-seconds": "300",
        },
      ),
      [],
    ],
    // (bad annotations, unscheduled) → each invalid, each without effect
    [
      "bad annotations",
      backup(good, {
        "casskeeper.io/retention": "0",
        "casskeeper.io/concurrency-policy": "Replace",
        "casskeeper.io/starting-deadline-seconds": "-5",
        "other.io/x": "y",
      }),
      [
        err(ann("retention"), "annotation.retention", '"0"'),
        err(ann("concurrency-policy"), "annotation.concurrency-policy", "Replace is not supported"),
        err(ann("starting-deadline-seconds"), "annotation.starting-deadline"),
        warn(ann("retention"), "annotation.unscheduled"),
        warn(ann("concurrency-policy"), "annotation.unscheduled"),
        warn(ann("starting-deadline-seconds"), "annotation.unscheduled"),
      ],
    ],
  ];
  for (const [name, obj, expected] of cases) {
    test(name, () => assertProblems(validateBackup(obj, ctx), expected, name));
  }

  test("worldSnapshotTagCollisions: one object against the world's backups", () => {
    // (tag "nightly" vs the world's "night", same bucket and cluster) → warning naming it
    assertProblems(worldSnapshotTagCollisions(backup({ ...good, snapshotTag: "nightly" }), ctx), [
      warn("spec.snapshotTag", "snapshot-tag.collision", "ns/nightly", '"night"'),
    ]);
    // (the object's own stored copy) → not a collision
    assertProblems(
      worldSnapshotTagCollisions(backup({ ...good, snapshotTag: "night" }, undefined, "nightly"), ctx),
      [],
    );
    // (world unknown) → skipped
    assertProblems(
      worldSnapshotTagCollisions(backup({ ...good, snapshotTag: "nightly" }), {
        world: UNKNOWN,
        namespace: "ns",
      }),
      [],
    );
  });

  test("world unknown: only world-free rules run", () => {
    assertProblems(
      validateBackup(backup({ ...good, secret: "nope", cassandraCluster: "ghost" }), {
        world: UNKNOWN,
        namespace: "ns",
      }),
      [],
    );
    assertProblems(
      validateBackup(backup({ ...good, secret: undefined }), { world: UNKNOWN, namespace: "ns" }),
      [warn("spec.secret", "secret.default", "cassandra-backup-restore-secret-cluster-null")],
    );
  });

  test("garbage in: no throw", () => {
    for (const v of [
      undefined,
      null,
      1,
      "x",
      [],
      { spec: [] },
      { spec: { storageLocation: 5 } },
      { metadata: 3 },
    ]) {
      assert.doesNotThrow(() => validateBackup(v as never, ctx));
    }
  });
});

describe("annotations", () => {
  test("parseRetention", () => {
    assert.deepEqual(parseRetention("7"), { kind: "count", count: 7 });
    assert.deepEqual(parseRetention("36h"), { kind: "age", hours: 36 });
    assert.deepEqual(parseRetention("14d"), { kind: "age", hours: 336 });
    assert.deepEqual(parseRetention("2w"), { kind: "age", hours: 336 });
    for (const bad of ["0", "07", "-1", "1.5d", "14D", "1m", "", " 7", "99999999999999999999"]) {
      assert.equal(parseRetention(bad), undefined, bad);
    }
  });

  test("parseStartingDeadline", () => {
    assert.equal(parseStartingDeadline("60"), 60);
    for (const bad of ["0", "-1", "1.5", "60s", ""]) assert.equal(parseStartingDeadline(bad), undefined, bad);
  });

  test("concurrency policy: exact case", () => {
    assertProblems(checkBackupAnnotations({ "casskeeper.io/concurrency-policy": "forbid" }, true), [
      err(ann("concurrency-policy"), "annotation.concurrency-policy", "exact case: Forbid"),
    ]);
    assertProblems(checkBackupAnnotations({ "casskeeper.io/concurrency-policy": "Allow" }, true), []);
  });

  test("non-string annotation values and non-objects are the schema's business", () => {
    assertProblems(checkBackupAnnotations({ "casskeeper.io/retention": 7 }, false), []);
    assertProblems(checkBackupAnnotations("x", false), []);
  });
});
