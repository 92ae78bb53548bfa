import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkSecret,
  defaultSecretName,
  missingSecretKeys,
  optionalSecretKeys,
  requiredSecretKeys,
} from "../../../src/core/rules/secrets.ts";
import { parseStorageLocation } from "../../../src/core/rules/storage-location.ts";
import { assertProblems, type Expect, err, UNKNOWN, warn, world } from "./fixtures.ts";

const S = "spec.secret";
const AWS = ["awsaccesskeyid", "awssecretaccesskey", "awsregion"];

describe("requiredSecretKeys / missingSecretKeys (sidecar.md §5)", () => {
  test("key lists per provider", () => {
    assert.deepEqual(requiredSecretKeys("s3"), ["awsaccesskeyid", "awssecretaccesskey"]);
    assert.deepEqual(requiredSecretKeys("oracle"), ["awsaccesskeyid", "awssecretaccesskey"]);
    assert.deepEqual(requiredSecretKeys("minio"), ["awsaccesskeyid", "awssecretaccesskey"]);
    assert.deepEqual(requiredSecretKeys("ceph"), [
      "awsaccesskeyid",
      "awssecretaccesskey",
      "awsendpoint",
      "awsregion",
    ]);
    assert.deepEqual(requiredSecretKeys("gcp"), ["gcp"]);
    assert.deepEqual(requiredSecretKeys("azure"), ["azurestorageaccount", "azurestoragekey"]);
    assert.deepEqual(requiredSecretKeys("file"), []);
    assert.deepEqual(requiredSecretKeys("ftp"), []);
    assert.deepEqual(optionalSecretKeys("s3"), ["awsregion", "awsendpoint"]);
    assert.deepEqual(optionalSecretKeys("gcp"), []);
  });

  test("awsregion becomes required with awsendpoint", () => {
    assert.deepEqual(
      missingSecretKeys("minio", new Set(["awsaccesskeyid", "awssecretaccesskey", "awsendpoint"])),
      ["awsregion"],
    );
    assert.deepEqual(missingSecretKeys("s3", new Set(["awsaccesskeyid", "awssecretaccesskey"])), []);
    assert.deepEqual(missingSecretKeys("ceph", new Set()), [
      "awsaccesskeyid",
      "awssecretaccesskey",
      "awsendpoint",
      "awsregion",
    ]);
  });

  test("defaultSecretName: clusterId, or null for a bucket-only location", () => {
    const global = parseStorageLocation("s3://bucket");
    const node = parseStorageLocation("s3://bucket/my-cluster/dc1/n");
    assert.ok(global && node);
    assert.equal(defaultSecretName(global), "cassandra-backup-restore-secret-cluster-null");
    assert.equal(defaultSecretName(node), "cassandra-backup-restore-secret-cluster-my-cluster");
  });
});

describe("checkSecret", () => {
  const w = world({
    secrets: {
      "ns/aws": AWS,
      "ns/aws-no-region": ["awsaccesskeyid", "awssecretaccesskey"],
      "ns/half": ["awsaccesskeyid"],
      "ns/endpoint": ["awsaccesskeyid", "awssecretaccesskey", "awsendpoint"],
      "ns/gcp": ["gcp"],
      "ns/azure": ["azurestorageaccount"],
      "ns/empty": [],
      "other/aws": AWS,
    },
  });
  const cases: [string, { secretName?: unknown; storageLocation: unknown }, Expect[]][] = [
    // (s3, complete secret) → fine
    ["s3 complete", { secretName: "aws", storageLocation: "s3://b1b" }, []],
    // (s3, keys but no region) → CassKop refuses it
    [
      "s3 no region",
      { secretName: "aws-no-region", storageLocation: "s3://b1b" },
      [warn(S, "secret.region", "CassKop")],
    ],
    // (minio, keys but no region) → fine: CassKop checks only s3://
    ["minio no region", { secretName: "aws-no-region", storageLocation: "minio://b1b" }, []],
    // (s3, one key) → the other named
    [
      "s3 half",
      { secretName: "half", storageLocation: "s3://b1b" },
      [err(S, "secret.missing-keys", "lacks key awssecretaccesskey", "s3://")],
    ],
    // (oracle, endpoint without region) → region named with the reason
    [
      "oracle endpoint",
      { secretName: "endpoint", storageLocation: "oracle://b1b" },
      [err(S, "secret.missing-keys", "awsregion", "required with awsendpoint")],
    ],
    // (ceph, empty secret) → all four keys in one message
    [
      "ceph empty",
      { secretName: "empty", storageLocation: "ceph://b1b" },
      [err(S, "secret.missing-keys", "awsaccesskeyid, awssecretaccesskey, awsendpoint and awsregion")],
    ],
    // (gcp) → fine
    ["gcp", { secretName: "gcp", storageLocation: "gcp://b1b" }, []],
    // (gcp with an aws secret) → gcp missing
    [
      "gcp wrong secret",
      { secretName: "aws", storageLocation: "gcp://b1b" },
      [err(S, "secret.missing-keys", "gcp")],
    ],
    // (azure, one key) → the key named
    [
      "azure half",
      { secretName: "azure", storageLocation: "azure://b1b" },
      [err(S, "secret.missing-keys", "azurestoragekey")],
    ],
    // (secret in another namespace only) → not found here
    [
      "not found",
      { secretName: "nope", storageLocation: "s3://b1b" },
      [err(S, "secret.not-found", '"nope"', '"ns"')],
    ],
    // (file + secret) → unused
    ["file secret", { secretName: "aws", storageLocation: "file:///d/b/c/d/n" }, [warn(S, "secret.unused")]],
    // (file, no secret) → nothing to say
    ["file none", { storageLocation: "file:///d/b/c/d/n" }, []],
    // (no secret, bucket-only, default missing) → default named with "null"
    [
      "default null",
      { storageLocation: "s3://b1b" },
      [
        warn(
          S,
          "secret.default",
          "cassandra-backup-restore-secret-cluster-null",
          "not found",
          "surely unintended",
        ),
      ],
    ],
    // (no secret, per node) → default named with the cluster segment
    [
      "default cluster",
      { secretName: "", storageLocation: "s3://b1b/prod/dc1/n" },
      [warn(S, "secret.default", "cassandra-backup-restore-secret-cluster-prod", "cluster segment")],
    ],
    // (unparseable location) → storageLocation's own rule reports it
    ["bad location", { secretName: "aws", storageLocation: "nowhere" }, []],
    // (malformed location of a known provider) → the secret is still checked against it
    [
      "prefix location",
      { secretName: "gcp", storageLocation: "s3://b1b/prefix" },
      [err(S, "secret.missing-keys", "s3://")],
    ],
    // (malformed location, no secret) → no default name to derive
    ["prefix location default", { storageLocation: "s3://b1b/prefix" }, []],
    // (unknown protocol) → storage.protocol reports it
    ["unknown protocol", { secretName: "aws", storageLocation: "ftp://x" }, []],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assertProblems(checkSecret(input, { world: w, namespace: "ns" }), expected, name));
  }

  test("no secret, the default exists: its keys are checked instead", () => {
    const withDefault = world({ secrets: { "ns/cassandra-backup-restore-secret-cluster-null": ["gcp"] } });
    assertProblems(checkSecret({ storageLocation: "s3://b1b" }, { world: withDefault, namespace: "ns" }), [
      warn(S, "secret.default", "(it exists)"),
      err(S, "secret.missing-keys", "cassandra-backup-restore-secret-cluster-null", "awsaccesskeyid"),
    ]);
    assertProblems(checkSecret({ storageLocation: "gcp://b1b" }, { world: withDefault, namespace: "ns" }), [
      warn(S, "secret.default", "(it exists)"),
    ]);
  });

  test("world unknown: no existence or key checks, the default warning stays", () => {
    assertProblems(
      checkSecret({ secretName: "nope", storageLocation: "s3://b1b" }, { world: UNKNOWN, namespace: "ns" }),
      [],
    );
    assertProblems(checkSecret({ storageLocation: "s3://b1b" }, { world: UNKNOWN, namespace: "ns" }), [
      warn(S, "secret.default", "cassandra-backup-restore-secret-cluster-null"),
    ]);
  });

  test("restore wording points at the backup's secret too", () => {
    const [p] = checkSecret(
      { storageLocation: "s3://b1b", restore: true },
      { world: UNKNOWN, namespace: "ns" },
    );
    assert.ok(p?.message.includes("here or on the backup"));
  });
});
