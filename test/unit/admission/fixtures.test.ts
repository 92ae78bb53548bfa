// Every AdmissionReview fixture (test/fixtures/admission/*.json, requests as the API server sends them)
// through both endpoints, against world.json: the answer a user would see in kubectl.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AdmissionOutcome,
  mutateAdmission,
  validateAdmission,
} from "../../../src/admission/handlers.ts";
import type { AddOperation } from "../../../src/admission/json-patch.ts";
import { assertWellFormed, CTX, patchOf, request } from "./support.ts";

interface Expect {
  verdict: AdmissionOutcome["verdict"];
  /** Exact status.message of a denial (code 403, reason Forbidden). */
  denied?: string;
  codes?: string[];
  /** A fragment per expected warning, in order. */
  warnings?: string[];
  patch?: AddOperation[];
}

const ref = (name: string, key: string) => ({ secretKeyRef: { name, key, optional: true } });

// (fixture, endpoint) → the answer
const cases: [string, "validate" | "mutate", Expect][] = [
  // (valid scheduled backup, validate) → allowed, nothing to say
  ["create-backup-valid.json", "validate", { verdict: "allowed" }],
  // (valid backup, mutate) → every field set already: no patch
  ["create-backup-valid.json", "mutate", { verdict: "allowed" }],
  // (schedule "0 0 * * 7" and an unknown Secret) → both errors, in spec order, joined with "; "
  [
    "create-backup-bad-schedule.json",
    "validate",
    {
      verdict: "denied",
      denied:
        'spec.schedule: end of range (7) above maximum (6): 7; spec.secret: secret "s3-creds-typo" not found in namespace "prod"',
      codes: ["schedule.invalid", "secret.not-found"],
    },
  ],
  // (the same review with dryRun: true) → the very same answer
  [
    "create-backup-dry-run.json",
    "validate",
    {
      verdict: "denied",
      denied:
        'spec.schedule: end of range (7) above maximum (6): 7; spec.secret: secret "s3-creds-typo" not found in namespace "prod"',
      codes: ["schedule.invalid", "secret.not-found"],
    },
  ],
  // (s3 Secret without awssecretaccesskey) → denied naming the key, never a value
  [
    "create-backup-missing-secret-key.json",
    "validate",
    {
      verdict: "denied",
      denied:
        'spec.secret: secret "s3-partial-credentials" lacks key awssecretaccesskey, which the sidecar reads for s3://',
      codes: ["secret.missing-keys"],
    },
  ],
  // (restore of billing.invoices from a backup of orders,customers) → denied before the sidecar fails late
  [
    "create-restore-not-backed-up.json",
    "validate",
    {
      verdict: "denied",
      denied:
        'spec.entities: billing.invoices is not in backup "orders-nightly" (it holds orders,customers); the sidecar would fail with "... is not in manifest!"',
      codes: ["restore.entities-not-in-backup"],
    },
  ],
  // (CassKop's status write on a backup whose Secret was deleted since) → allowed, spec rules not re-run
  ["update-backup-status-only.json", "validate", { verdict: "allowed" }],
  // (the same write through the status subresource) → allowed untouched
  ["update-backup-status-subresource.json", "validate", { verdict: "allowed" }],
  // (status write, mutate) → a status write stays a status write: no patch
  ["update-backup-status-only.json", "mutate", { verdict: "allowed" }],
  // (spec edit of a RUNNING restore) → one immutability error per changed field; the rules' warning stays
  [
    "update-restore-started-spec.json",
    "validate",
    {
      verdict: "denied",
      denied:
        "spec.concurrentConnection: cannot change once the restore has started (CassKop ignores the edit); create a new CassandraRestore; " +
        "spec.entities: cannot change once the restore has started (CassKop ignores the edit); create a new CassandraRestore",
      codes: ["restore.immutable"],
      warnings: ['spec.cassandraBackup: backup "orders-nightly" is scheduled'],
    },
  ],
  // (DELETE of a RUNNING restore) → allowed, with a warning that the sidecar goes on
  [
    "delete-restore-running.json",
    "validate",
    {
      verdict: "warned",
      warnings: ["restore orders-restore-1123 is RUNNING: deleting it does not stop the sidecar"],
    },
  ],
  // (DELETE of a scheduled backup) → allowed, no warning
  ["delete-backup-scheduled.json", "validate", { verdict: "allowed" }],
  // (no snapshotTag, no datacenter, one-datacenter cluster, mutate) → both filled, tag derived from the name
  [
    "create-backup-no-tag.json",
    "mutate",
    {
      verdict: "patched",
      patch: [
        { op: "add", path: "/spec/snapshotTag", value: "events-daily_94582829" },
        { op: "add", path: "/spec/datacenter", value: "dc1" },
      ],
    },
  ],
  // (generateName only, mutate) → no name to derive a tag from: only the datacenter
  [
    "create-backup-generate-name.json",
    "mutate",
    { verdict: "patched", patch: [{ op: "add", path: "/spec/datacenter", value: "dc1" }] },
  ],
  // (generateName only, validate) → the schema's "required", as CassKop's CRD would say
  [
    "create-backup-generate-name.json",
    "validate",
    { verdict: "denied", denied: "spec.snapshotTag: Required value", codes: ["schema.required"] },
  ],
  // (a ConfigMap reaching the webhook) → allowed, with a warning that the rules match too much
  [
    "create-configmap.json",
    "validate",
    { verdict: "warned", warnings: ["casskeeper does not handle v1 ConfigMap; allowed unchecked"] },
  ],
  // (BackupPolicySource with an SSH remote) → denied by the policy-source rules
  [
    "create-policy-source-ssh.json",
    "validate",
    {
      verdict: "denied",
      denied: 'spec.url: only http(s) Git URLs are supported, got "git@git.example.com:ops/backups.git"',
      codes: ["source.url"],
    },
  ],
  // (annotated Instaclustr CassandraDataCenter without sidecarEnv) → the list, with the Secret's three keys
  [
    "datacenter-instaclustr.json",
    "mutate",
    {
      verdict: "patched",
      patch: [
        {
          op: "add",
          path: "/spec/sidecarEnv",
          value: [
            { name: "AWS_ACCESS_KEY_ID", valueFrom: ref("s3-backup-credentials", "awsaccesskeyid") },
            { name: "AWS_SECRET_ACCESS_KEY", valueFrom: ref("s3-backup-credentials", "awssecretaccesskey") },
            { name: "AWS_REGION", valueFrom: ref("s3-backup-credentials", "awsregion") },
          ],
        },
      ],
    },
  ],
  // (annotated ElassandraDatacenter that sets AWS_REGION and AWS_SECRET_ACCESS_KEY itself) → only the third
  [
    "datacenter-elassandra.json",
    "mutate",
    {
      verdict: "patched",
      patch: [
        {
          op: "add",
          path: "/spec/env/-",
          value: { name: "AWS_ACCESS_KEY_ID", valueFrom: ref("s3-backup-credentials", "awsaccesskeyid") },
        },
      ],
    },
  ],
];

describe("admission fixtures", () => {
  for (const [file, endpoint, want] of cases) {
    it(`${file} → ${endpoint}: ${want.verdict}`, () => {
      const handler = endpoint === "validate" ? validateAdmission : mutateAdmission;
      const got = handler(request(file), CTX);
      assertWellFormed(got, endpoint === "mutate");
      assert.equal(got.verdict, want.verdict);
      if (want.denied !== undefined) {
        assert.equal(got.response.allowed, false);
        assert.deepEqual(got.response.status, {
          status: "Failure",
          code: 403,
          reason: "Forbidden",
          message: want.denied,
        });
      } else {
        assert.equal(got.response.allowed, true);
        assert.equal(got.response.status, undefined);
      }
      assert.deepEqual(got.codes, want.codes ?? []);
      const warnings = got.response.warnings ?? [];
      assert.equal(warnings.length, (want.warnings ?? []).length, JSON.stringify(warnings));
      for (const [i, fragment] of (want.warnings ?? []).entries())
        assert.ok(warnings[i]?.includes(fragment), warnings[i]);
      assert.deepEqual(patchOf(got), want.patch);
    });
  }

  it("a dryRun review gets exactly the answer of the same review without dryRun", () => {
    const dry = request("create-backup-dry-run.json");
    assert.equal(dry.dryRun, true);
    const wet = { ...dry, dryRun: false };
    assert.deepEqual(validateAdmission(dry, CTX), validateAdmission(wet, CTX));
    assert.deepEqual(mutateAdmission(dry, CTX), mutateAdmission(wet, CTX));
  });

  it("the Instaclustr fixture's datacenter objects are not the validating endpoint's: allowed with a warning", () => {
    const got = validateAdmission(request("datacenter-instaclustr.json"), CTX);
    assert.equal(got.verdict, "warned");
    assert.equal(got.kind, "other");
  });
});
