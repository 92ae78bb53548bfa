// The handlers' decisions beyond the fixtures: which updates skip the spec rules, what happens without a
// world, on malformed reviews and on an internal exception.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type AdmissionContext,
  mutateAdmission,
  validateAdmission,
} from "../../../src/admission/handlers.ts";
import type { AdmissionRequest } from "../../../src/admission/review.ts";
import { warningText } from "../../../src/admission/warnings.ts";
import { worldSnapshotTagCollisions } from "../../../src/core/rules/index.ts";
import type { CassandraBackup } from "../../../src/core/types.ts";
import type { WorldSnapshot } from "../../../src/core/world.ts";
import { assertWellFormed, CTX, NO_WORLD, request, structure } from "./support.ts";

const statusOnly = request("update-backup-status-only.json");
const valid = request("create-backup-valid.json");

/** The status-only UPDATE with `edit` applied to a copy of the new object. */
function update(
  edit: (obj: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => void,
): AdmissionRequest {
  const obj = structuredClone(statusOnly.object) as {
    metadata: Record<string, unknown>;
    spec: Record<string, unknown>;
  };
  edit(obj);
  return { ...statusOnly, object: obj };
}

describe("validateAdmission decisions", () => {
  const cases: [
    string,
    AdmissionRequest,
    AdmissionContext,
    { verdict: string; has?: RegExp; code?: number },
  ][] = [
    // (status-only UPDATE whose Secret is gone) → allowed: spec rules not re-run
    ["status write", statusOnly, CTX, { verdict: "allowed" }],
    // (labels, finalizers and the last-applied annotation change too) → still allowed
    [
      "free metadata",
      update((o) => {
        o.metadata.labels = { team: "a" };
        o.metadata.finalizers = ["casskeeper.io/runs"];
        o.metadata.annotations = { "kubectl.kubernetes.io/last-applied-configuration": '{"x":1}' };
      }),
      CTX,
      { verdict: "allowed" },
    ],
    // (a casskeeper.io annotation changes to nonsense) → its own check runs and denies
    [
      "bad retention annotation",
      update((o) => {
        o.metadata.annotations = { "casskeeper.io/retention": "forever" };
      }),
      CTX,
      { verdict: "denied", has: /casskeeper\.io\/retention.*"forever"/, code: 403 },
    ],
    // (a bad retention written before the webhook existed; the runner records its bookkeeping annotation) →
    // allowed: only the annotations this update changes are judged
    [
      "runner bookkeeping beside an old bad annotation",
      {
        ...update((o) => {
          o.metadata.annotations = {
            "casskeeper.io/retention": "forever",
            "casskeeper.io/last-schedule-time": "2026-11-24T00:00:00Z",
          };
        }),
        oldObject: (() => {
          const old = structuredClone(statusOnly.oldObject) as { metadata: Record<string, unknown> };
          old.metadata.annotations = { "casskeeper.io/retention": "forever" };
          return old;
        })(),
      },
      CTX,
      { verdict: "allowed" },
    ],
    // (the spec changes) → the rules run again and see the deleted Secret
    [
      "spec change",
      update((o) => {
        o.spec.bandwidth = "10M";
      }),
      CTX,
      { verdict: "denied", has: /spec\.secret: secret "deleted-credentials" not found/, code: 403 },
    ],
    // (spec change during deletion) → allowed: finalizer removal must go through
    [
      "deleting",
      update((o) => {
        o.spec.bandwidth = "10M";
        o.metadata.deletionTimestamp = "2026-11-24T10:00:00Z";
      }),
      CTX,
      { verdict: "allowed" },
    ],
    // (valid backup, no world) → allowed with one warning that world checks were skipped
    ["no world", valid, NO_WORLD, { verdict: "warned", has: /cluster state unknown/ }],
    // (CREATE without object) → 400 BadRequest naming the field
    ["no object", { ...valid, object: null }, CTX, { verdict: "denied", has: /request\.object/, code: 400 }],
    // (CONNECT) → allowed, nothing to judge
    ["connect", { ...valid, operation: "CONNECT" }, CTX, { verdict: "allowed" }],
    // (an operation the API server never sends) → allowed, labelled "other"
    ["odd operation", { ...valid, operation: "PATCH" }, CTX, { verdict: "allowed" }],
    // (no request.kind: classified from the object) → judged as a backup
    [
      "kind from object",
      { ...request("create-backup-bad-schedule.json"), kind: undefined },
      CTX,
      { verdict: "denied", code: 403 },
    ],
  ];
  for (const [label, req, ctx, want] of cases) {
    it(label, () => {
      const got = validateAdmission(req, ctx);
      assertWellFormed(got, false);
      assert.equal(got.verdict, want.verdict, JSON.stringify(got.response));
      const text = `${got.response.status?.message ?? ""}\n${(got.response.warnings ?? []).join("\n")}`;
      if (want.has !== undefined) assert.match(text, want.has);
      assert.equal(got.response.status?.code, want.code);
    });
  }

  it("labels for metrics are bounded: known kinds, CREATE/UPDATE/DELETE/CONNECT or other", () => {
    assert.deepEqual(
      [validateAdmission(valid, CTX), validateAdmission({ ...valid, operation: "x".repeat(999) }, CTX)].map(
        (o) => [o.kind, o.operation],
      ),
      [
        ["CassandraBackup", "CREATE"],
        ["CassandraBackup", "other"],
      ],
    );
    const odd = validateAdmission(
      { ...valid, kind: { group: "evil", version: "v1", kind: "x".repeat(999) } },
      CTX,
    );
    assert.equal(odd.kind, "other");
  });
});

describe("an exception inside a handler", () => {
  const broken: AdmissionContext = {
    world: CTX.world,
    structure: {
      ...structure,
      validate: () => {
        throw new RangeError("Maximum call stack size exceeded");
      },
    },
  };

  it("validating: denied with 500 InternalError naming the stage, the error kept for the log", () => {
    const got = validateAdmission(valid, broken);
    assertWellFormed(got, false);
    assert.equal(got.verdict, "errored");
    assert.deepEqual(got.response.status, {
      status: "Failure",
      code: 500,
      reason: "InternalError",
      message: 'casskeeper internal error in stage "structure": RangeError: Maximum call stack size exceeded',
    });
    assert.equal(got.error?.stage, "admission");
    assert.equal(got.error?.code, "admission.internal");
  });

  it("mutating: fails open (allowed, no patch, a warning), as failurePolicy Ignore would", () => {
    const throwing: AdmissionContext = {
      structure,
      world: {
        ...CTX.world,
        get clusters(): never {
          throw new Error("cache torn");
        },
      },
    };
    const got = mutateAdmission(request("create-backup-no-tag.json"), throwing);
    assertWellFormed(got, true);
    assert.equal(got.verdict, "errored");
    assert.equal(got.response.allowed, true);
    assert.equal(got.response.patch, undefined);
    assert.match(
      got.response.warnings?.[0] ?? "",
      /internal error in stage "fill absent fields": Error: cache torn/,
    );
  });

  it("a request whose getters throw still gets an answer", () => {
    const hostile = {
      uid: "u",
      get operation(): string {
        throw new Error("boom");
      },
    } as AdmissionRequest;
    assertWellFormed(validateAdmission(hostile, CTX), false);
    assertWellFormed(mutateAdmission(hostile, CTX), true);
  });
});

describe("mutateAdmission scope", () => {
  const cases: [string, AdmissionRequest, string][] = [
    // (status subresource) → untouched
    ["subresource", { ...request("datacenter-instaclustr.json"), subResource: "status" }, "allowed"],
    // (DELETE of an annotated datacenter) → nothing injected
    ["delete", { ...request("datacenter-instaclustr.json"), operation: "DELETE" }, "allowed"],
    // (datacenter being deleted) → nothing injected
    [
      "deleting",
      (() => {
        const r = request("datacenter-instaclustr.json");
        const o = structuredClone(r.object) as { metadata: Record<string, unknown> };
        o.metadata.deletionTimestamp = "2026-11-24T10:00:00Z";
        return { ...r, operation: "UPDATE", object: o };
      })(),
      "allowed",
    ],
    // (ConfigMap) → allowed with the warning
    ["other kind", request("create-configmap.json"), "warned"],
    // (BackupPolicySource) → nothing to fill
    ["policy source", request("create-policy-source-ssh.json"), "allowed"],
  ];
  for (const [label, req, verdict] of cases) {
    it(label, () => {
      const got = mutateAdmission(req, CTX);
      assertWellFormed(got, true);
      assert.equal(got.verdict, verdict);
    });
  }
});

describe("snapshotTag collisions against the world", () => {
  const tagged = (snapshotTag: string, storageLocation: string): AdmissionRequest => {
    const obj = structuredClone(valid.object) as { spec: Record<string, unknown> };
    Object.assign(obj.spec, { snapshotTag, storageLocation });
    return { ...valid, object: obj };
  };
  const cases: [string, AdmissionRequest, boolean][] = [
    // (tag "orders-night", a prefix of orders-nightly's tag, same bucket and cluster) → warned
    ["prefix, same bucket", tagged("orders-night", "s3://acme-cassandra-backups"), true],
    // (same tag as orders-nightly, bucket with a node path) → same bucket: warned
    ["equal, full form", tagged("orders-nightly", "s3://acme-cassandra-backups/orders/dc1/node0"), true],
    // (same tag, another bucket) → no collision
    ["other bucket", tagged("orders-nightly", "s3://other-bucket"), false],
  ];
  for (const [label, req, warned] of cases) {
    it(label, () => {
      const got = validateAdmission(req, CTX);
      assertWellFormed(got, false);
      const collision = (got.response.warnings ?? []).some(
        (w) => w.startsWith("spec.snapshotTag:") && w.includes("overlaps"),
      );
      assert.equal(collision, warned, JSON.stringify(got.response));
    });
  }

  it("narrowing the world to the object's bucket finds exactly what the whole world finds", () => {
    const buckets = ["s3://a", "s3://b", "gcp://a", "s3://a/c/dc1/n1"];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("d", "da", "dai", "x", "d-1"), fc.constantFrom(...buckets)), {
          maxLength: 12,
        }),
        fc.constantFrom("d", "da", "dai", "x"),
        fc.constantFrom(...buckets),
        (others, tag, bucket) => {
          const world: WorldSnapshot = {
            ...CTX.world,
            backups: new Map(
              others.map(([t, b], i) => [
                `prod/o${i}`,
                {
                  namespace: "prod",
                  name: `o${i}`,
                  spec: { cassandraCluster: "orders", snapshotTag: t, storageLocation: b },
                },
              ]),
            ),
          };
          const req = tagged(tag, bucket);
          const expected = worldSnapshotTagCollisions(req.object as CassandraBackup, {
            world,
            namespace: "prod",
          }).map((p) => warningText(p.path, p.message));
          const got = (validateAdmission(req, { ...CTX, world }).response.warnings ?? []).filter((w) =>
            w.startsWith("spec.snapshotTag:"),
          );
          assert.deepEqual(got, expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
