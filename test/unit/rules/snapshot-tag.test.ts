import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  type BackupRef,
  checkSnapshotTag,
  snapshotTagCollisions,
  suggestSnapshotTag,
} from "../../../src/core/rules/snapshot-tag.ts";
import { assertProblems, type Expect, err, warn } from "./fixtures.ts";

const T = "spec.snapshotTag";

describe("checkSnapshotTag", () => {
  const cases: [string, unknown, Expect[]][] = [
    // (safe tags) → fine
    ["simple", "daily", []],
    // (every allowed character class) → fine
    ["all classes", "Snap_2024.01-a", []],
    // (255 characters) → fine
    ["255", "a".repeat(255), []],
    // (empty) → error with a suggestion
    ["empty", "", [err(T, "snapshot-tag.invalid", "must not be empty", '"backup"')]],
    // (slash) → error, fix suggested
    ["slash", "daily/prod", [err(T, "snapshot-tag.invalid", "only letters", '"daily-prod"')]],
    // (white space) → error
    ["space", "my tag", [err(T, "snapshot-tag.invalid", "white space", '"my-tag"')]],
    // (NUL) → error
    ["control", "tag\u0000", [err(T, "snapshot-tag.invalid", "control")]],
    // (colon) → Cassandra refuses File.pathSeparator
    ["colon", "a:b", [err(T, "snapshot-tag.invalid", '"a-b"')]],
    // (256) → too long
    ["256", "a".repeat(256), [err(T, "snapshot-tag.invalid", "at most 255")]],
    // (dot, dotdot) → directory references
    ["dot", ".", [err(T, "snapshot-tag.invalid", "directory reference")]],
    // (..) → error
    ["dotdot", "..", [err(T, "snapshot-tag.invalid", "directory reference")]],
    // (non-string) → schema's business
    ["number", 5, []],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assertProblems(checkSnapshotTag(input, T), expected, name));
  }

  test("property: the suggestion is always a valid tag", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) =>
        assert.deepEqual(checkSnapshotTag(suggestSnapshotTag(s)), []),
      ),
    );
  });
});

describe("snapshotTagCollisions", () => {
  const b = (
    name: string,
    snapshotTag: string,
    storageLocation = "s3://bucket",
    cassandraCluster = "cc",
  ): BackupRef => ({
    namespace: "ns",
    name,
    spec: { snapshotTag, storageLocation, cassandraCluster },
  });

  test("prefix in the same bucket: both sides warned", () => {
    const r = snapshotTagCollisions([b("a", "daily"), b("b", "daily2")]);
    assertProblems(r.get(0) ?? [], [
      warn(T, "snapshot-tag.collision", '"daily"', "ns/b", '"daily2"', "s3://bucket"),
    ]);
    assertProblems(r.get(1) ?? [], [warn(T, "snapshot-tag.collision", '"daily2"', "ns/a")]);
  });

  test("equal tags on two objects: warned", () => {
    const r = snapshotTagCollisions([b("a", "nightly"), b("b", "nightly")]);
    assert.equal(r.size, 2);
    assertProblems(r.get(1) ?? [], [warn(T, "snapshot-tag.collision", "ns/a")]);
  });

  test("no collision: other bucket, other protocol, unrelated tags, other cluster", () => {
    const r = snapshotTagCollisions([
      b("a", "daily"),
      b("b", "daily2", "s3://other"),
      b("c", "daily", "gcp://bucket"),
      b("d", "weekly"),
      b("e", "daily", "s3://bucket", "another-cluster"),
      b("f", "aily"),
    ]);
    assert.equal(r.size, 0);
  });

  test("acrossClusters compares every cluster", () => {
    const r = snapshotTagCollisions([b("a", "daily"), b("e", "daily", "s3://bucket", "another")], {
      acrossClusters: true,
    });
    assert.equal(r.size, 2);
  });

  test("per-node and bucket-only forms of one bucket collide; one warning lists every other", () => {
    const r = snapshotTagCollisions([
      b("a", "d"),
      b("b", "d1", "s3://bucket/c/dc/n"),
      b("c", "d12"),
      b("x", "zz"),
    ]);
    assert.equal(r.size, 3);
    const [p] = r.get(0) ?? [];
    assert.ok(p?.message.includes("ns/b") && p.message.includes("ns/c"));
    assert.equal(r.get(0)?.length, 1);
  });

  test("invalid entries are skipped, never thrown on", () => {
    const r = snapshotTagCollisions([
      { namespace: "ns", name: "a", spec: undefined },
      { namespace: "ns", name: "b", spec: { snapshotTag: "x" } },
      b("c", "x"),
      null as unknown as BackupRef,
    ]);
    assert.equal(r.size, 0);
  });

  test("many backups stay fast (prefix lookups by tag length)", () => {
    const many = Array.from({ length: 5000 }, (_, i) => b(`b${i}`, `tag-${i}`));
    const started = performance.now();
    const r = snapshotTagCollisions(many);
    assert.ok(performance.now() - started < 2000);
    // tag-1 is a prefix of tag-10..tag-19, tag-100.. etc.
    assert.ok(r.has(1));
    assert.ok(!r.has(4999) || (r.get(4999)?.length ?? 0) === 1);
  });
});
