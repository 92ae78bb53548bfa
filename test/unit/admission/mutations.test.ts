// Mutations fill absent fields only and are idempotent: applying the patch and reviewing the result again
// yields no patch. Datacenter credentials never override what the user set, and never carry a value.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DATACENTER_KINDS, datacenterEnvMutations } from "../../../src/admission/datacenter-env.ts";
import { mutateAdmission, validateAdmission } from "../../../src/admission/handlers.ts";
import { applyAddPatch } from "../../../src/admission/json-patch.ts";
import { derivedSnapshotTag } from "../../../src/admission/mutations.ts";
import type { AdmissionRequest } from "../../../src/admission/review.ts";
import { checkSnapshotTag, snapshotTagCollisions } from "../../../src/core/rules/index.ts";
import { assertWellFormed, CTX, NO_WORLD, patchOf, request, WORLD } from "./support.ts";

/** The request after the API server applied the mutating webhook's patch to its object. */
function patched(req: AdmissionRequest): AdmissionRequest {
  const ops = patchOf(mutateAdmission(req, CTX)) ?? [];
  return { ...req, object: applyAddPatch(req.object, ops) };
}

describe("idempotence: patch, review again → no patch", () => {
  // (fixture) — each has something to fill
  for (const file of [
    "create-backup-no-tag.json",
    "create-backup-generate-name.json",
    "datacenter-instaclustr.json",
    "datacenter-elassandra.json",
  ]) {
    it(file, () => {
      const req = request(file);
      assert.ok(patchOf(mutateAdmission(req, CTX)) !== undefined, "there is something to fill");
      const again = mutateAdmission(patched(req), CTX);
      assertWellFormed(again, true);
      assert.equal(again.response.patch, undefined);
      assert.equal(again.response.patchType, undefined);
    });
  }

  it("a backup filled by the mutating webhook then passes the validating one", () => {
    const got = validateAdmission(patched(request("create-backup-no-tag.json")), CTX);
    assert.equal(got.verdict, "allowed", JSON.stringify(got.response));
  });
});

describe("backup and restore fills", () => {
  const base = request("create-backup-no-tag.json");
  const withSpec = (
    spec: Record<string, unknown>,
    extra: Partial<AdmissionRequest> = {},
  ): AdmissionRequest => ({
    ...base,
    object: { ...(base.object as object), spec },
    ...extra,
  });
  const cases: [string, AdmissionRequest, string[]][] = [
    // (tag set to "", datacenter set) → "" is a value the user wrote: validation's to judge, not ours to fill
    [
      "empty tag kept",
      withSpec({
        cassandraCluster: "events",
        storageLocation: "azure://b",
        snapshotTag: "",
        datacenter: "x",
      }),
      [],
    ],
    // (tag null) → filled (the API server prunes null; absent either way)
    [
      "null tag",
      withSpec({
        cassandraCluster: "events",
        storageLocation: "azure://b",
        snapshotTag: null,
        datacenter: "dc1",
      }),
      ["/spec/snapshotTag"],
    ],
    // (cluster with two datacenters) → no datacenter filled (the rules warn that all are backed up)
    [
      "two datacenters",
      withSpec(
        { cassandraCluster: "orders", storageLocation: "s3://b", snapshotTag: "t" },
        { namespace: "prod" },
      ),
      [],
    ],
    // (unknown cluster) → nothing filled
    [
      "unknown cluster",
      withSpec({ cassandraCluster: "nope", storageLocation: "s3://b", snapshotTag: "t" }),
      [],
    ],
    // (no spec) → nothing to fill into; the schema says spec is required
    ["no spec", { ...base, object: { ...(base.object as object), spec: undefined } }, []],
  ];
  for (const [label, req, paths] of cases) {
    it(label, () => {
      const got = mutateAdmission(req, CTX);
      assertWellFormed(got, true);
      assert.deepEqual(
        (patchOf(got) ?? []).map((op) => op.path),
        paths,
      );
    });
  }

  it("the datacenter is not filled without a world", () => {
    assert.deepEqual(
      (patchOf(mutateAdmission(base, NO_WORLD)) ?? []).map((op) => op.path),
      ["/spec/snapshotTag"],
    );
  });

  it("an UPDATE that does not touch the spec is not mutated", () => {
    const obj = base.object as Record<string, unknown>;
    const got = mutateAdmission({ ...base, operation: "UPDATE", oldObject: obj }, CTX);
    assert.equal(got.response.patch, undefined);
  });

  it("an UPDATE that dropped the filled tag (server-side apply from Git) gets the same tag back", () => {
    const first = patched(base);
    const dropped = structuredClone(first.object) as { spec: Record<string, unknown> };
    delete dropped.spec.snapshotTag;
    const got = mutateAdmission(
      { ...base, operation: "UPDATE", oldObject: first.object, object: dropped },
      CTX,
    );
    assert.deepEqual(patchOf(got), [
      { op: "add", path: "/spec/snapshotTag", value: "events-daily_94582829" },
    ]);
  });

  it("a started restore is never filled, even when its spec changes (the validating endpoint denies it)", () => {
    const req = request("update-restore-started-spec.json");
    const old = structuredClone(req.oldObject) as { spec: Record<string, unknown> };
    const obj = structuredClone(req.object) as { spec: Record<string, unknown> };
    delete old.spec.datacenter;
    delete obj.spec.datacenter;
    assert.equal(mutateAdmission({ ...req, oldObject: old, object: obj }, CTX).response.patch, undefined);
  });
});

describe("derivedSnapshotTag", () => {
  it("is a valid tag, deterministic, and derived tags never overlap as prefixes in a bucket", () => {
    const names = ["orders", "orders-weekly", "orders.weekly", "o", "orders-weekly-2", "a".repeat(253)];
    const tags = names.map((n) => derivedSnapshotTag("prod", n));
    for (const t of tags) assert.deepEqual(checkSnapshotTag(t), [], t);
    assert.deepEqual(
      tags,
      names.map((n) => derivedSnapshotTag("prod", n)),
    );
    const backups = tags.map((snapshotTag, i) => ({
      namespace: "prod",
      name: names[i] ?? "",
      spec: { storageLocation: "s3://one-bucket", snapshotTag, cassandraCluster: "c" },
    }));
    assert.equal(snapshotTagCollisions(backups).size, 0);
  });

  it("keeps same-named backups of two namespaces apart", () => {
    assert.notEqual(derivedSnapshotTag("prod", "daily"), derivedSnapshotTag("staging", "daily"));
  });
});

describe("datacenter credentials", () => {
  const [instaclustr, elassandra] = DATACENTER_KINDS;
  assert.ok(instaclustr !== undefined && elassandra !== undefined);
  const dc = (annotation: string | undefined, spec: unknown) => ({
    metadata: {
      name: "dc",
      annotations: annotation === undefined ? {} : { "casskeeper.io/backup-secret": annotation },
    },
    spec,
  });
  const names = (value: unknown) =>
    (Array.isArray(value) ? value : [value]).map((e) => (e as { name: string }).name);

  const cases: [string, unknown, typeof CTX, { paths: string[]; env?: string[]; warn?: RegExp }][] = [
    // (no annotation) → nothing
    ["not annotated", dc(undefined, {}), CTX, { paths: [] }],
    // (annotation not a Secret name) → nothing, and says why
    ["bad name", dc("Not_A_Name", {}), CTX, { paths: [], warn: /not a Secret name/ }],
    // (Secret with the two Azure keys) → only the Azure entries
    [
      "azure secret",
      {
        ...dc("azure-backup-credentials", {}),
        metadata: {
          namespace: "analytics",
          annotations: { "casskeeper.io/backup-secret": "azure-backup-credentials" },
        },
      },
      CTX,
      { paths: ["/spec/sidecarEnv"], env: ["AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY"] },
    ],
    // (GCP Secret) → nothing injected, and a warning that the variable needs a mounted file
    [
      "gcp secret",
      dc("gcp-backup-credentials", {}),
      CTX,
      { paths: [], warn: /GOOGLE_APPLICATION_CREDENTIALS not injected/ },
    ],
    // (Secret unknown to a known world) → all entries, optional, with a warning
    [
      "secret not found",
      dc("later-credentials", {}),
      CTX,
      {
        paths: ["/spec/sidecarEnv"],
        env: [
          "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY",
          "AWS_REGION",
          "AWS_ENDPOINT",
          "AZURE_STORAGE_ACCOUNT",
          "AZURE_STORAGE_KEY",
        ],
        warn: /not found: every credential env entry is added as optional/,
      },
    ],
    // (no world) → all entries, optional, silently
    [
      "no world",
      dc("s3-backup-credentials", {}),
      NO_WORLD,
      {
        paths: ["/spec/sidecarEnv"],
        env: [
          "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY",
          "AWS_REGION",
          "AWS_ENDPOINT",
          "AZURE_STORAGE_ACCOUNT",
          "AZURE_STORAGE_KEY",
        ],
      },
    ],
    // (user set AWS_ACCESS_KEY_ID by value and AWS_REGION from a ConfigMap) → only AWS_SECRET_ACCESS_KEY appended
    [
      "user entries win",
      dc("s3-backup-credentials", {
        sidecarEnv: [
          { name: "AWS_ACCESS_KEY_ID", value: "from-vault" },
          { name: "AWS_REGION", valueFrom: { configMapKeyRef: { name: "cfg", key: "region" } } },
        ],
      }),
      CTX,
      { paths: ["/spec/sidecarEnv/-"], env: ["AWS_SECRET_ACCESS_KEY"] },
    ],
    // (no spec at all) → spec added with the list
    ["no spec", dc("s3-backup-credentials", undefined), CTX, { paths: ["/spec"] }],
    // (sidecarEnv is a map, not a list) → nothing, and says why
    [
      "list not a list",
      dc("s3-backup-credentials", { sidecarEnv: { A: "b" } }),
      CTX,
      { paths: [], warn: /spec\.sidecarEnv: not a list/ },
    ],
  ];
  for (const [label, obj, ctx, want] of cases) {
    it(label, () => {
      const ns = (obj as { metadata: { namespace?: string } }).metadata.namespace ?? "prod";
      const got = datacenterEnvMutations(instaclustr, obj, { world: ctx.world, namespace: ns });
      assert.deepEqual(
        got.ops.map((op) => op.path),
        want.paths,
      );
      if (want.env !== undefined)
        assert.deepEqual(
          got.ops.flatMap((op) => names(op.value)),
          want.env,
        );
      for (const op of got.ops) {
        for (const e of [op.value].flat()) {
          const entry = (e as { sidecarEnv?: unknown[] }).sidecarEnv ?? [e];
          for (const x of [entry].flat()) {
            const ref = (x as { valueFrom: { secretKeyRef: { optional: boolean } } }).valueFrom.secretKeyRef;
            assert.equal(ref.optional, true);
          }
        }
      }
      if (want.warn === undefined) assert.deepEqual(got.warnings, []);
      else
        assert.ok(
          got.warnings.some((w) => want.warn?.test(`${w.path}: ${w.message}`)),
          JSON.stringify(got.warnings),
        );
    });
  }

  it("Elassandra's list is spec.env", () => {
    const got = datacenterEnvMutations(elassandra, dc("s3-backup-credentials", {}), {
      world: WORLD,
      namespace: "prod",
    });
    assert.deepEqual(
      got.ops.map((op) => op.path),
      ["/spec/env"],
    );
  });
});
