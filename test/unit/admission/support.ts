// Shared by the admission tests: the fixtures (AdmissionReviews as the API server sends them, and the world
// they are judged against), a context, and helpers to read responses.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { MAX_WARNING_LENGTH } from "../../../src/admission/constants.ts";
import type { AdmissionContext, AdmissionOutcome } from "../../../src/admission/handlers.ts";
import { type AddOperation, decodePatch } from "../../../src/admission/json-patch.ts";
import { type AdmissionRequest, parseAdmissionReview } from "../../../src/admission/review.ts";
import { EMPTY_WORLD, type WorldSnapshot } from "../../../src/core/world.ts";
import { buildWorld } from "../../../src/core/world-build.ts";
import { loadStructuralValidator } from "../../../src/schema/bundled-crds.ts";

const FIXTURES = new URL("../../fixtures/admission/", import.meta.url);

export function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), "utf8"));
}

/** The request of a fixture, parsed as the server parses it (the fixture must be a well-formed review). */
export function request(name: string): AdmissionRequest {
  const parsed = parseAdmissionReview(fixture(name));
  assert.ok(parsed.ok, `${name}: ${parsed.ok ? "" : parsed.message}`);
  return parsed.request;
}

/** test/fixtures/admission/world.json: Secrets (with placeholder values), CassandraClusters, a backup. */
export const WORLD: WorldSnapshot = buildWorld(
  (fixture("world.json") as { items: unknown[] }).items,
  "default",
).world;

/** Every Secret value of world.json, decoded and as written: none may ever reach a response. */
export const SECRET_VALUES: readonly string[] = (
  fixture("world.json") as { items: Record<string, unknown>[] }
).items
  .filter((o) => o.kind === "Secret")
  .flatMap((o) => [
    ...Object.values((o.data ?? {}) as Record<string, string>).flatMap((v) => [
      v,
      Buffer.from(v, "base64").toString("utf8"),
    ]),
    ...Object.values((o.stringData ?? {}) as Record<string, string>),
  ]);

export const structure = loadStructuralValidator();
export const CTX: AdmissionContext = { world: WORLD, structure };
export const NO_WORLD: AdmissionContext = { world: EMPTY_WORLD, structure };

export function patchOf(outcome: AdmissionOutcome): AddOperation[] | undefined {
  const patch = outcome.response.patch;
  return patch === undefined ? undefined : decodePatch(patch);
}

/** What every response must be, whatever the input: the shape the API server accepts. */
export function assertWellFormed(outcome: AdmissionOutcome, mutating: boolean): void {
  const r = outcome.response as Record<string, unknown>;
  assert.equal(typeof r.allowed, "boolean");
  assert.ok(!("uid" in r), "the server adds the uid");
  for (const k of Object.keys(r)) {
    assert.ok(["allowed", "status", "patch", "patchType", "warnings", "auditAnnotations"].includes(k), k);
  }
  if (mutating)
    assert.equal(r.patch === undefined, r.patchType === undefined, "patch and patchType together");
  else assert.equal(r.patch ?? r.patchType, undefined, "the validating endpoint never patches");
  if (r.patch !== undefined) {
    assert.equal(r.patchType, "JSONPatch");
    assert.ok(decodePatch(r.patch as string).length > 0, "no empty patch");
  }
  if (r.allowed === false) {
    const s = r.status as Record<string, unknown>;
    assert.ok(typeof s.code === "number" && s.code >= 400, "a denial carries an error code");
    assert.ok(["Forbidden", "BadRequest", "InternalError"].includes(s.reason as string), String(s.reason));
    assert.ok(typeof s.message === "string" && s.message.length > 0);
  }
  const warnings = (r.warnings ?? []) as string[];
  assert.ok(Array.isArray(warnings));
  let total = 0;
  for (const w of warnings) {
    assert.equal(typeof w, "string");
    assert.ok(w.length > 0 && [...w].length <= MAX_WARNING_LENGTH, `warning too long: ${w}`);
    assert.ok(!w.startsWith("Warning:"));
    assert.ok(!/[\p{Cc}]/u.test(w), "no control characters in a warning");
    total += w.length;
  }
  assert.equal(new Set(warnings).size, warnings.length, "no duplicate warnings");
  assert.ok(total < 4096);
  assert.ok(["allowed", "warned", "denied", "errored", "patched"].includes(outcome.verdict));
  assert.ok(["CREATE", "UPDATE", "DELETE", "CONNECT", "other"].includes(outcome.operation));
}
