// The AdmissionReview v1 envelope: what is refused with HTTP 400 (and why, in words), what a request keeps
// after parsing, and the exact shape of the answer.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { admissionReviewResponse, parseAdmissionReview } from "../../../src/admission/review.ts";
import { fixture } from "./support.ts";

const review = (request: unknown) => ({
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request,
});

describe("parseAdmissionReview refuses (HTTP 400)", () => {
  const cases: [string, unknown, RegExp][] = [
    // (a JSON array) → not an object
    ["array body", [], /expected a JSON object, got an array/],
    // (null) → not an object
    ["null body", null, /got null/],
    // (a string) → not an object
    ["string body", "AdmissionReview", /got string/],
    // (fixture: a v1beta1 review) → v1beta1 is not served, and what to configure instead
    [
      "v1beta1",
      fixture("review-v1beta1.json"),
      /admission\.k8s\.io\/v1beta1 is not served.*admissionReviewVersions: \[v1\]/,
    ],
    // (another apiVersion) → names the expected one
    [
      "apps/v1",
      { ...review({ uid: "u" }), apiVersion: "apps/v1" },
      /apiVersion must be admission\.k8s\.io\/v1, got "apps\/v1"/,
    ],
    // (no apiVersion) → says nothing was sent
    ["no apiVersion", { kind: "AdmissionReview", request: { uid: "u" } }, /got nothing/],
    // (kind AdmissionResponse) → kind must be AdmissionReview
    ["wrong kind", { ...review({ uid: "u" }), kind: "AdmissionResponse" }, /kind must be AdmissionReview/],
    // (no request) → no request
    ["no request", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, /has no request/],
    // (request is a string) → must be an object
    ["request string", review("x"), /request must be an object, got string/],
    // (fixture: a review without uid) → nothing to answer to
    ["no uid", fixture("review-without-uid.json"), /request\.uid is missing/],
    // (empty uid) → must be non-empty
    ["empty uid", review({ uid: "" }), /request\.uid must be a non-empty string, got ""/],
    // (numeric uid) → must be a string
    ["numeric uid", review({ uid: 42 }), /request\.uid must be a non-empty string, got number/],
    // (a 10,000-character uid) → not from an API server
    ["huge uid", review({ uid: "u".repeat(10_000) }), /longer than 256 characters/],
  ];
  for (const [label, body, message] of cases) {
    it(label, () => {
      const got = parseAdmissionReview(body);
      assert.equal(got.ok, false);
      if (!got.ok) {
        assert.match(got.message, message);
        assert.ok(got.message.length < 300, "a message, not an echo of the input");
      }
    });
  }
});

describe("parseAdmissionReview reads", () => {
  it("every field of a real request", () => {
    const got = parseAdmissionReview(fixture("update-backup-status-subresource.json"));
    assert.ok(got.ok);
    const r = got.request;
    assert.equal(r.uid, "0f1e2d3c-0012-4a5b-8c7d-000000000012");
    assert.deepEqual(r.kind, { group: "db.orange.com", version: "v1alpha1", kind: "CassandraBackup" });
    assert.deepEqual(r.resource, {
      group: "db.orange.com",
      version: "v1alpha1",
      resource: "cassandrabackups",
    });
    assert.equal(r.subResource, "status");
    assert.equal(r.requestSubResource, "status");
    assert.equal(r.operation, "UPDATE");
    assert.equal(r.name, "orders-monthly");
    assert.equal(r.namespace, "prod");
    assert.equal(r.userInfo?.username, "alice@example.com");
    assert.equal(r.dryRun, false);
    assert.ok(typeof r.object === "object" && typeof r.oldObject === "object");
    assert.equal((r.options as { kind: string }).kind, "UpdateOptions");
  });

  it("leaves out fields of the wrong type instead of trusting them", () => {
    const got = parseAdmissionReview(
      review({
        uid: "u1",
        kind: "CassandraBackup",
        operation: 7,
        namespace: ["x"],
        dryRun: "yes",
        userInfo: 1,
      }),
    );
    assert.ok(got.ok);
    assert.deepEqual(got.request, { uid: "u1" });
  });
});

describe("admissionReviewResponse", () => {
  it("is a v1 AdmissionReview whose response echoes the uid", () => {
    assert.deepEqual(admissionReviewResponse("abc-1", { allowed: true, warnings: ["w"] }), {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "abc-1", allowed: true, warnings: ["w"] },
    });
  });
});
