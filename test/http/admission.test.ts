// AdmissionReviews as the API server sends them (JSON fixtures of real requests), over HTTPS to the server
// with the real handlers and the examples' world: what each gets back.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { applyAddPatch, decodePatch } from "../../src/admission/json-patch.ts";
import type { Io } from "../../src/cli/main.ts";
import { loadWorld } from "../../src/cli/validate-command.ts";
import { fixture, type Harness, startHarness, staticWorld } from "./harness.ts";

const WORLD_FILE = fileURLToPath(new URL("../../examples/world.yaml", import.meta.url));
const io: Io = {
  stdout: () => {},
  stderr: () => {},
  readStdin: async () => "",
  now: () => Date.now(),
  cwd: process.cwd(),
};

interface Review {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; reason: string; message: string };
    patch?: string;
    patchType?: string;
    warnings?: string[];
  };
}

let h: Harness;
before(async () => {
  const world = await loadWorld([WORLD_FILE], "default", io);
  assert.ok(world?.known);
  h = await startHarness({ world: staticWorld(world) });
});
after(() => h.close());

async function send(path: string, name: string): Promise<{ sent: Record<string, unknown>; review: Review }> {
  const sent = fixture(name);
  const r = await h.client.review(path, sent);
  assert.equal(r.status, 200, r.text);
  assert.match(String(r.headers["content-type"]), /^application\/json/);
  const review = r.json as Review;
  assert.equal(review.apiVersion, "admission.k8s.io/v1");
  assert.equal(review.kind, "AdmissionReview");
  assert.equal(review.response.uid, (sent.request as { uid: string }).uid, "uid echoed");
  return { sent, review };
}

describe("POST /validate", () => {
  // Each tuple: fixture → allowed, and the phrases the denial message names.
  const cases: { fixture: string; allowed: boolean; message?: RegExp[]; warning?: RegExp }[] = [
    // CassandraBackup v2 CREATE that fits the world
    { fixture: "backup-v2-create.json", allowed: true },
    // the same with dryRun: the same answer
    { fixture: "backup-v2-create-dry-run.json", allowed: true },
    // CassandraBackup v1alpha1 CREATE breaking two rules: both named, in one message
    {
      fixture: "backup-v1alpha1-create-denied.json",
      allowed: false,
      message: [/spec\.schedule: .*61/, /spec\.secret: secret "no-such-secret" not found/, /; spec\./],
    },
    // an object the CRD schema rejects
    {
      fixture: "backup-schema-broken.json",
      allowed: false,
      message: [/spec\.concurrentConnections: .*integer/],
    },
    // no snapshotTag (the mutating webhook fills it; alone, validation says it is required)
    { fixture: "backup-create-no-snapshot-tag.json", allowed: false, message: [/spec\.snapshotTag/] },
    // a kind casskeeper does not handle: allowed, with a warning
    { fixture: "unknown-kind.json", allowed: true, warning: /ConfigMap/ },
    // DELETE of a backup
    { fixture: "backup-delete.json", allowed: true },
  ];
  for (const c of cases) {
    test(`${c.fixture} → ${c.allowed ? "allowed" : "denied"}`, async () => {
      const { review } = await send("/validate", c.fixture);
      assert.equal(review.response.allowed, c.allowed, JSON.stringify(review.response));
      assert.equal(review.response.patch, undefined, "a validating webhook never patches");
      if (!c.allowed) {
        assert.equal(review.response.status?.code, 403);
        assert.equal(review.response.status?.reason, "Forbidden");
        for (const m of c.message ?? []) assert.match(review.response.status?.message ?? "", m);
      }
      if (c.warning) assert.ok(review.response.warnings?.some((w) => c.warning?.test(w)));
      for (const w of review.response.warnings ?? []) assert.ok(w.length <= 120, w);
    });
  }

  test("dryRun gets the same answer as the real request", async () => {
    const real = await send("/validate", "backup-v2-create.json");
    const dry = await send("/validate", "backup-v2-create-dry-run.json");
    const { uid: _a, ...realRest } = real.review.response;
    const { uid: _b, ...dryRest } = dry.review.response;
    assert.deepEqual(dryRest, realRest);
  });
});

describe("POST /mutate", () => {
  test("fills the absent snapshotTag, and the patched object gets no further patch", async () => {
    const { sent, review } = await send("/mutate", "backup-create-no-snapshot-tag.json");
    assert.equal(review.response.allowed, true);
    assert.equal(review.response.patchType, "JSONPatch");
    const ops = decodePatch(review.response.patch ?? "");
    assert.deepEqual(
      ops.map((o) => o.path),
      ["/spec/snapshotTag"],
    );
    const request = sent.request as Record<string, unknown>;
    const patched = applyAddPatch(request.object, ops);
    const again = await h.client.review("/mutate", { ...sent, request: { ...request, object: patched } });
    const second = again.json as Review;
    assert.equal(second.response.allowed, true);
    assert.equal(second.response.patch, undefined);
    assert.equal(second.response.patchType, undefined);
    // And the validating webhook now accepts it.
    const validated = await h.client.review("/validate", {
      ...sent,
      request: { ...request, object: patched },
    });
    assert.equal((validated.json as Review).response.allowed, true, validated.text);
  });

  test("a complete object gets no patch", async () => {
    const { review } = await send("/mutate", "backup-v2-create.json");
    assert.equal(review.response.allowed, true);
    assert.equal(review.response.patch, undefined);
  });

  test("never denies, even an object the schema rejects", async () => {
    const { review } = await send("/mutate", "backup-schema-broken.json");
    assert.equal(review.response.allowed, true);
  });
});
