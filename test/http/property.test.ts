// Property: whatever arrives on /validate or /mutate — random JSON, truncated bodies, huge strings, wrong types
// in the request's fields — the answer is a well-formed HTTP response: 200 with an AdmissionReview echoing the
// uid, or a 4xx JSON Status; never a 5xx, a hang or a dropped connection; and the server still answers.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import type { Io } from "../../src/cli/main.ts";
import { loadWorld } from "../../src/cli/validate-command.ts";
import { fixture, type Harness, startHarness, staticWorld } from "./harness.ts";

const WORLD_FILE = fileURLToPath(new URL("../../examples/world.yaml", import.meta.url));
const io: Io = {
  stdout: () => {},
  stderr: () => {},
  readStdin: async () => "",
  now: () => Date.now(),
  cwd: ".",
};

const BASES = [
  fixture("backup-v2-create.json"),
  fixture("backup-v1alpha1-create-denied.json"),
  fixture("backup-delete.json"),
  fixture("backup-create-no-snapshot-tag.json"),
];

let h: Harness;
before(async () => {
  const world = await loadWorld([WORLD_FILE], "default", io);
  assert.ok(world);
  h = await startHarness({ world: staticWorld(world) });
});
after(() => h.close());

/** Any JSON-ish value, including the wrong types for a field. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, "", 0, -1, 1e308, true, [], {}),
  fc.string({ minLength: 10_000, maxLength: 200_000 }).map((s) => s),
  fc.nat({ max: 300_000 }).map((n) => "x".repeat(n)),
);

const REQUEST_FIELDS = [
  "uid",
  "kind",
  "resource",
  "requestKind",
  "name",
  "namespace",
  "operation",
  "userInfo",
  "object",
  "oldObject",
  "dryRun",
  "options",
];
const OBJECT_PATHS = [
  ["apiVersion"],
  ["kind"],
  ["metadata"],
  ["metadata", "name"],
  ["metadata", "namespace"],
  ["metadata", "annotations"],
  ["spec"],
  ["spec", "cassandraCluster"],
  ["spec", "datacenter"],
  ["spec", "storageLocation"],
  ["spec", "schedule"],
  ["spec", "snapshotTag"],
  ["spec", "secret"],
  ["spec", "entities"],
  ["spec", "concurrentConnections"],
];

type Mutation = {
  where: "envelope" | "request" | "object";
  path: readonly string[];
  value: unknown;
  remove: boolean;
};

// Mostly inside the request and its object, so most mutated reviews reach the handlers.
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    where: fc.constant("envelope" as const),
    path: fc.constantFrom(["apiVersion"], ["kind"], ["request"]),
    value: anyValue,
    remove: fc.boolean(),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      where: fc.constant("request" as const),
      path: fc.constantFrom(...REQUEST_FIELDS).map((f) => [f]),
      value: anyValue,
      remove: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      where: fc.constant("object" as const),
      path: fc.constantFrom(...OBJECT_PATHS),
      value: anyValue,
      remove: fc.boolean(),
    }),
  },
);

function mutate(base: Record<string, unknown>, ms: readonly Mutation[]): unknown {
  const review = structuredClone(base);
  for (const m of ms) {
    const prefix = m.where === "envelope" ? [] : m.where === "request" ? ["request"] : ["request", "object"];
    setPath(review, [...prefix, ...m.path], m.remove ? undefined : m.value);
  }
  return review;
}

function setPath(root: unknown, path: readonly string[], value: unknown): void {
  let node = root;
  for (const p of path.slice(0, -1)) {
    if (typeof node !== "object" || node === null || Array.isArray(node)) return;
    node = (node as Record<string, unknown>)[p];
  }
  if (typeof node !== "object" || node === null || Array.isArray(node)) return;
  const last = path[path.length - 1] ?? "";
  if (value === undefined) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = value;
}

/** A body to send: text plus, when it is a JSON review with a string uid, the uid the answer must echo. */
const body: fc.Arbitrary<string> = fc.oneof(
  // random JSON
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null"),
  // mutated real reviews
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.constantFrom(...BASES), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([base, ms]) => JSON.stringify(mutate(base, ms))),
  },
  // truncated real reviews
  fc.tuple(fc.constantFrom(...BASES), fc.double({ min: 0, max: 1, noNaN: true })).map(([base, cut]) => {
    const text = JSON.stringify(base);
    return text.slice(0, Math.floor(text.length * cut));
  }),
  // random text
  fc.string({ maxLength: 200 }),
);

test("every body gets a well-formed answer, and the server stays up", async () => {
  await fc.assert(
    fc.asyncProperty(body, fc.constantFrom("/validate", "/mutate"), async (text, path) => {
      const r = await h.client.review(path, text);
      assert.match(String(r.headers["content-type"]), /^application\/json/);
      let sentUid: unknown;
      try {
        sentUid = (JSON.parse(text) as { request?: { uid?: unknown } })?.request?.uid;
      } catch {
        sentUid = undefined;
      }
      if (r.status === 200) {
        const review = r.json as { apiVersion: string; kind: string; response: Record<string, unknown> };
        assert.equal(review.apiVersion, "admission.k8s.io/v1");
        assert.equal(review.kind, "AdmissionReview");
        assert.equal(review.response.uid, sentUid);
        assert.equal(typeof review.response.allowed, "boolean");
        if (path === "/validate") assert.equal(review.response.patch, undefined);
        if (review.response.patch !== undefined) assert.equal(review.response.patchType, "JSONPatch");
        for (const w of (review.response.warnings as string[] | undefined) ?? []) assert.ok(w.length <= 120);
      } else {
        assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}: ${r.text.slice(0, 300)}`);
        const status = r.json as { kind: string; code: number; message: string };
        assert.equal(status.kind, "Status");
        assert.equal(status.code, r.status);
        assert.ok(status.message.length > 0);
      }
    }),
    { numRuns: 300 },
  );
  assert.equal((await h.client.request("GET", "/healthz")).status, 200);
  assert.equal((await h.client.request("GET", "/readyz")).status, 200);
});
