// Properties over arbitrary and mutated AdmissionReviews: the handlers never throw and always answer in a
// shape the API server accepts, and no Secret value that reaches them ever comes back out.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { mutateAdmission, validateAdmission } from "../../../src/admission/handlers.ts";
import { type AdmissionRequest, parseAdmissionReview } from "../../../src/admission/review.ts";
import { assertWellFormed, CTX, fixture, NO_WORLD, SECRET_VALUES } from "./support.ts";

const REVIEWS = readdirSync(new URL("../../fixtures/admission/", import.meta.url))
  .filter((f) => f.endsWith(".json") && f !== "world.json")
  .sort()
  .map((f) => fixture(f));

function answerBoth(body: unknown): unknown[] {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) {
    assert.ok(parsed.message.length > 0);
    return [];
  }
  const out: unknown[] = [];
  for (const ctx of [CTX, NO_WORLD]) {
    const v = validateAdmission(parsed.request, ctx);
    const m = mutateAdmission(parsed.request, ctx);
    assertWellFormed(v, false);
    assertWellFormed(m, true);
    out.push(v.response, m.response);
  }
  return out;
}

/** Every path (as key lists) of a JSON value, the root included. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  } else if (typeof v === "object" && v !== null)
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

/** `doc` with the value at `path` replaced (or deleted when `value` is undefined). */
function edit(doc: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let parent = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1) as string | number;
  if (value === undefined && !Array.isArray(parent)) delete parent[last];
  else parent[last] = value;
  return copy;
}

/** JSON that looks like Kubernetes: known-ish keys and values mixed with anything. */
const kubeish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      "CREATE",
      "UPDATE",
      "DELETE",
      "status",
      "db.orange.com",
      "CassandraBackup",
      "@daily",
      "0 0 * * 7",
    ),
    fc.dictionary(
      fc.oneof(
        fc.constantFrom("spec", "metadata", "status", "snapshotTag", "name", "annotations", "env"),
        fc.string(),
      ),
      tie("value"),
      { maxKeys: 4 },
    ),
  ),
})).value;

describe("admission properties", () => {
  it("arbitrary JSON bodies: a 400 message or a well-formed answer, never a throw", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (body) => {
        answerBoth(body);
        answerBoth({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: body });
      }),
      { numRuns: 300 },
    );
  });

  it("arbitrary requests with a uid: a well-formed answer", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), kubeish, { maxKeys: 8 }),
        kubeish,
        kubeish,
        (request, object, oldObject) => {
          answerBoth({
            apiVersion: "admission.k8s.io/v1",
            kind: "AdmissionReview",
            request: { ...request, object, oldObject, uid: "u-1" },
          });
          // The handlers also hold up when called with a request nobody parsed.
          const raw = { ...request, object, oldObject, uid: "u-2" } as unknown as AdmissionRequest;
          assertWellFormed(validateAdmission(raw, CTX), false);
          assertWellFormed(mutateAdmission(raw, CTX), true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("mutated fixtures (one value replaced or removed anywhere): a well-formed answer", () => {
    fc.assert(
      fc.property(
        fc.nat(REVIEWS.length - 1),
        fc.nat(),
        fc.option(kubeish, { nil: undefined }),
        (which, where, value) => {
          const doc = REVIEWS[which];
          const all = paths(doc);
          const path = all[where % all.length] ?? [];
          answerBoth(edit(doc, path, value));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("no Secret value in a request or in the world ever appears in a response", () => {
    const secretValue = fc.string({ minLength: 1, maxLength: 40 }).map((s) => `s3cr3t:${s}`);
    const kinds = fc.constantFrom(
      { group: "", version: "v1", kind: "Secret" },
      { group: "db.orange.com", version: "v1alpha1", kind: "CassandraBackup" },
      { group: "db.orange.com", version: "v2", kind: "CassandraRestore" },
      { group: "cassandraoperator.instaclustr.com", version: "v1alpha1", kind: "CassandraDataCenter" },
      { group: "elassandra.strapdata.com", version: "v1beta1", kind: "ElassandraDatacenter" },
    );
    fc.assert(
      fc.property(
        kinds,
        fc.constantFrom("CREATE", "UPDATE", "DELETE"),
        fc.dictionary(
          fc.constantFrom("awsaccesskeyid", "awssecretaccesskey", "gcp", "azurestoragekey", "x"),
          secretValue,
          {
            minKeys: 1,
          },
        ),
        fc.boolean(),
        (kind, operation, data, asStringData) => {
          const secret = {
            apiVersion: "v1",
            kind: "Secret",
            metadata: {
              name: "s3-backup-credentials",
              namespace: "prod",
              annotations: { "casskeeper.io/backup-secret": "s3-backup-credentials" },
            },
            type: "Opaque",
            ...(asStringData
              ? { stringData: data }
              : {
                  data: Object.fromEntries(
                    Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]),
                  ),
                }),
          };
          const body = {
            apiVersion: "admission.k8s.io/v1",
            kind: "AdmissionReview",
            request: {
              uid: "u",
              kind,
              operation,
              namespace: "prod",
              name: "s3-backup-credentials",
              object: operation === "DELETE" ? null : secret,
              oldObject: operation === "CREATE" ? null : secret,
            },
          };
          const text = JSON.stringify(answerBoth(body));
          assert.ok(!text.includes("s3cr3t:"), text);
          for (const v of Object.values(data))
            assert.ok(!text.includes(Buffer.from(v).toString("base64")), text);
        },
      ),
      { numRuns: 300 },
    );
    // The world's Secrets hold key names only: no value of world.json comes back for any fixture.
    for (const review of REVIEWS) {
      const text = JSON.stringify(answerBoth(review));
      for (const v of SECRET_VALUES) assert.ok(!text.includes(v), v);
    }
  });
});
