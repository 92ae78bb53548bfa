import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  bucketKey,
  checkBucketName,
  checkStorageLocation,
  parseStorageLocation,
} from "../../../src/core/rules/storage-location.ts";
import { assertProblems, type Expect, err, warn } from "./fixtures.ts";

const P = "spec.storageLocation";

describe("parseStorageLocation: esop's StorageLocation reading", () => {
  const cases: [string, string, ReturnType<typeof parseStorageLocation>][] = [
    // (bucket-only cloud) → global
    ["global", "s3://my-bucket", { protocol: "s3", bucket: "my-bucket", global: true }],
    // (one trailing slash) → stripped
    ["trailing slash", "gcp://b1b/", { protocol: "gcp", bucket: "b1b", global: true }],
    // (per node) → bucket/cluster/dc/node
    [
      "per node",
      "azure://cont/clu/dc1/node1",
      { protocol: "azure", bucket: "cont", cluster: "clu", dc: "dc1", node: "node1", global: false },
    ],
    // (greedy groups) → the prefix becomes part of the bucket, as in Java
    [
      "greedy bucket",
      "s3://b/prefix/c/d/n",
      { protocol: "s3", bucket: "b/prefix", cluster: "c", dc: "d", node: "n", global: false },
    ],
    // (1 segment) → no esop form
    ["prefix", "s3://bucket/prefix", undefined],
    // (two trailing slashes) → only one stripped, then no form
    ["two slashes", "s3://bucket//", undefined],
    // (file, full) → directory + 4 segments
    [
      "file",
      "file:///var/backups/b/c/d/n",
      {
        protocol: "file",
        directory: "/var/backups",
        bucket: "b",
        cluster: "c",
        dc: "d",
        node: "n",
        global: false,
      },
    ],
    // (file bucket-only) → no form
    ["file bucket-only", "file:///data/test", undefined],
    // (line terminator) → Java's `.` does not match it
    ["newline", "s3://bucket\n", undefined],
    // (no ://) → no form
    ["no scheme", "bucket", undefined],
    // (nothing after ://) → the stripped trailing slash leaves "s3:/", no form
    ["empty bucket", "s3://", undefined],
    // (s3:///) → "s3://" after stripping: global form with an empty bucket
    ["empty global bucket", "s3:///", { protocol: "s3", bucket: "", global: true }],
    // (double scheme) → group 1 is greedy up to the last ://
    ["double scheme", "s3://a://b", { protocol: "s3://a", bucket: "b", global: true }],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.deepEqual(parseStorageLocation(input), expected));
  }

  test("non-strings give undefined", () => {
    for (const v of [undefined, null, 3, {}, []]) assert.equal(parseStorageLocation(v), undefined);
  });

  test("matches the Java regexes on random slash-heavy input", () => {
    // The hand-written matcher must agree with the (backtracking) patterns esop compiles.
    const cloud = /^(.*):\/\/(.*)\/(.*)\/(.*)\/(.*)$/;
    const file = /^(.*):\/\/(.*)\/(.*)\/(.*)\/(.*)\/(.*)$/;
    const global = /^(.*):\/\/(.*)$/;
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "/", ":", "file", "s3", "//", "://"), { maxLength: 14 }),
        (parts) => {
          const s = parts.join("");
          const raw = s.endsWith("/") ? s.slice(0, -1) : s;
          const got = parseStorageLocation(s);
          if (raw.startsWith("file")) {
            const m = file.exec(raw);
            assert.deepEqual(
              got,
              m === null
                ? undefined
                : {
                    protocol: m[1],
                    directory: m[2],
                    bucket: m[3],
                    cluster: m[4],
                    dc: m[5],
                    node: m[6],
                    global: false,
                  },
            );
            return;
          }
          const g = global.exec(raw);
          if (g !== null && !(g[2] ?? "").includes("/")) {
            assert.deepEqual(got, { protocol: g[1], bucket: g[2], global: true });
            return;
          }
          const m = cloud.exec(raw);
          assert.deepEqual(
            got,
            m === null
              ? undefined
              : { protocol: m[1], bucket: m[2], cluster: m[3], dc: m[4], node: m[5], global: false },
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("bucketKey: protocol and bucket (file: with its directory)", () => {
    assert.equal(bucketKey({ protocol: "s3", bucket: "b", global: true }), "s3://b");
    const f = parseStorageLocation("file:///x/y/b/c/d/n");
    assert.ok(f);
    assert.equal(bucketKey(f), "file:///x/y/b");
  });
});

describe("checkStorageLocation", () => {
  const cases: [string, unknown, Expect[]][] = [
    // (s3, bucket-only) → fine
    ["s3 global", "s3://cassie", []],
    // (every cloud provider, bucket-only) → fine
    ["gcp global", "gcp://my_bucket-1", []],
    ["azure global", "azure://backups-01", []],
    ["oracle global", "oracle://My_Bucket.1", []],
    ["minio global", "minio://backups", []],
    ["ceph global", "ceph://cassandra-icarus2-ird-backup-dev", []],
    // (file, full form) → fine, no node-form warning (file has no other form)
    ["file full", "file:///var/backups/b1/cluster/dc1/node", []],
    // (non-string) → the structural schema's business
    ["number", 42, []],
    // (per node, global request) → the coordinator rewrites the tail
    ["per node", "s3://cassie/c/d/n", [warn(P, "storage.node-form", "s3://cassie")]],
    // (bucket prefix, 1 segment) → expected form named
    [
      "prefix",
      "s3://bucket/prefix",
      [err(P, "storage.form", "1 path segment", "s3://bucket/cluster/dc/node")],
    ],
    // (3 segments) → still no form
    ["three segments", "s3://bucket/a/b/c/", [warn(P, "storage.node-form")]],
    ["two segments", "s3://bucket/a/b", [err(P, "storage.form", "2 path segments")]],
    // (prefix + 3 segments) → esop takes bucket/prefix as the bucket
    ["greedy prefix", "s3://bucket/pre/c/d/n", [err(P, "storage.form", "bucket prefixes", '"bucket/pre"')]],
    // (unknown protocol) → suggestion
    ["gs", "gs://bucket", [err(P, "storage.protocol", "did you mean gcp?", "s3, gcp, azure")]],
    ["upper-case protocol", "S3://bucket", [err(P, "storage.protocol", "did you mean s3?")]],
    ["http", "https://bucket", [err(P, "storage.protocol", '"https"')]],
    // (no scheme) → form
    ["no scheme", "cassie", [err(P, "storage.form", 'has no "://"')]],
    // (empty) → form
    ["empty", "", [err(P, "storage.form", "must not be empty")]],
    // (no bucket) → form
    ["no bucket", "s3://", [err(P, "storage.form", "no bucket")]],
    // (s3:///) → empty bucket name
    ["empty bucket name", "s3:///", [err(P, "storage.bucket", "not 0")]],
    // (white space) → form
    ["space", "s3://my bucket", [err(P, "storage.form", "white space")]],
    ["leading space", " s3://bucket", [err(P, "storage.form", "white space")]],
    // (file, bucket-only) → file has no global form
    ["file bucket-only", "file:///data/test", [err(P, "storage.form", "no bucket-only form")]],
    // (file, no directory) → the sidecar's working directory
    ["file no dir", "file:///b/c/d/n", [err(P, "storage.form", "working directory")]],
    // (file, relative) → must be absolute
    ["file relative", "file://rel/b/c/d/n", [err(P, "storage.form", "relative")]],
    // (file, empty segment) → named
    ["file empty segment", "file:///data//c/d/n", [err(P, "storage.form", "empty bucket segment")]],
    // (cloud, empty cluster segment) → named, no node-form warning
    ["empty cluster", "s3://bucket//dc/node", [err(P, "storage.form", "empty cluster segment")]],
    // (bad bucket + prefix) → both at once
    [
      "two problems",
      "s3://My_Bucket/x",
      [
        err(P, "storage.form", "1 path segment"),
        err(P, "storage.bucket", '"My_Bucket"', "upper-case letters", '"_"'),
      ],
    ],
    // (bad bucket + per node) → both at once
    [
      "bad bucket per node",
      "azure://a/c/d/n",
      [err(P, "storage.bucket", 'container "a"', "3-63 characters, not 1"), warn(P, "storage.node-form")],
    ],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assertProblems(checkStorageLocation(input, P), expected, name));
  }

  test("globalRequest: false drops the node-form warning", () => {
    assertProblems(checkStorageLocation("s3://cassie/c/d/n", P, { globalRequest: false }), []);
  });
});

describe("checkBucketName per provider", () => {
  const B = "spec.storageLocation";
  const cases: [string, string, string, Expect[]][] = [
    // S3 (AWS "General purpose bucket naming rules")
    ["s3 ok", "s3", "my.bucket-01", []],
    // (2 characters) → error
    ["s3 short", "s3", "ab", [err(B, "storage.bucket", "3-63 characters, not 2")]],
    // (64 characters) → error
    ["s3 long", "s3", "a".repeat(64), [err(B, "storage.bucket", "not 64")]],
    // (upper case) → error
    ["s3 upper", "s3", "MyBucket", [err(B, "storage.bucket", "upper-case letters")]],
    // (underscore) → error
    ["s3 underscore", "s3", "my_bucket", [err(B, "storage.bucket", '"_"')]],
    // (trailing hyphen) → error
    ["s3 ends with -", "s3", "bucket-", [err(B, "storage.bucket", "begin and end")]],
    // (adjacent dots) → error
    ["s3 ..", "s3", "a..b", [err(B, "storage.bucket", '".."')]],
    // (IPv4 form) → error
    ["s3 ip", "s3", "192.168.5.4", [err(B, "storage.bucket", "IP address")]],
    // (xn-- prefix) → warning: reserved by AWS only
    ["s3 reserved prefix", "s3", "xn--bucket", [warn(B, "storage.bucket-reserved", '"xn--"')]],
    // (-s3alias suffix) → warning: reserved by AWS only
    ["s3 reserved suffix", "s3", "bucket-s3alias", [warn(B, "storage.bucket-reserved", '"-s3alias"')]],
    // S3 allows a dot next to a hyphen; MinIO and Ceph do not
    ["s3 dot-dash", "s3", "a-.b", []],
    // (dot next to hyphen on MinIO) → error
    ["minio dot-dash", "minio", "a-.b", [err(B, "storage.bucket", '"." next to "-"')]],
    // (upper case on MinIO) → error
    ["minio upper", "minio", "Backups", [err(B, "storage.bucket", "MinIO", "upper-case")]],
    // Ceph: strict by default, relaxed names only with rgw_relaxed_s3_bucket_names
    ["ceph ok", "ceph", "backups", []],
    [
      "ceph relaxed",
      "ceph",
      "My_Backups",
      [warn(B, "storage.bucket-relaxed", "rgw_relaxed_s3_bucket_names")],
    ],
    // (space and ! on Ceph) → error even when relaxed
    ["ceph invalid", "ceph", "my bucket!", [err(B, "storage.bucket", "Ceph")]],
    // Oracle (OCI CreateBucketDetails): upper case and underscores allowed, 1-256
    ["oracle upper", "oracle", "Backups_2024", []],
    // (257 characters on OCI) → error
    ["oracle long", "oracle", "a".repeat(257), [err(B, "storage.bucket", "1-256")]],
    // (+ on OCI) → error
    ["oracle bad char", "oracle", "a+b", [err(B, "storage.bucket", '"+"')]],
    // GCS
    ["gcs underscore", "gcp", "my_bucket", []],
    // (100 characters with a dot) → fine
    ["gcs dots 100", "gcp", `${"a".repeat(50)}.${"b".repeat(49)}`, []],
    // (a dot-separated part of 64) → error
    ["gcs dots part too long", "gcp", `${"a".repeat(64)}.b`, [err(B, "storage.bucket", "at most 63")]],
    // (64 characters, no dot) → error
    ["gcs no dots 64", "gcp", "a".repeat(64), [err(B, "storage.bucket", "3-63")]],
    // (goog prefix) → error
    ["gcs goog", "gcp", "goog-backups", [err(B, "storage.bucket", '"goog"')]],
    // (g00gle look-alike) → error
    ["gcs google", "gcp", "my-g00gle-backups", [err(B, "storage.bucket", '"google"')]],
    // (upper case on GCS) → error
    ["gcs upper", "gcp", "Backups", [err(B, "storage.bucket", "upper-case")]],
    // Azure containers
    ["azure ok", "azure", "my-container-1", []],
    // (consecutive hyphens) → error
    ["azure --", "azure", "my--container", [err(B, "storage.bucket", '"--"')]],
    // (trailing hyphen) → error
    ["azure trailing -", "azure", "container-", [err(B, "storage.bucket", '"-"')]],
    // (dot in a container) → error
    ["azure dot", "azure", "my.container", [err(B, "storage.bucket", '"."')]],
    // (underscore in a container) → error
    ["azure underscore", "azure", "my_container", [err(B, "storage.bucket", '"_"')]],
    // file: the bucket is a directory name, no provider rules
    ["file anything", "file", "Any_Name", []],
  ];
  for (const [name, protocol, bucket, expected] of cases) {
    test(name, () => assertProblems(checkBucketName(protocol, bucket, B), expected, name));
  }

  test("all violations of one bucket in one message", () => {
    const [p, ...rest] = checkBucketName("s3", "-A_", B);
    assert.equal(rest.length, 0);
    assert.ok(p?.message.includes("upper-case letters"));
    assert.ok(p?.message.includes("begin and end"));
  });
});
