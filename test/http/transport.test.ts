// The HTTP layer of the webhook: what each kind of bad request gets back, the health, readiness and metrics
// endpoints, the logs, and that nothing a client sends brings the process down.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { MAX_BODY_BYTES } from "../../src/admission/constants.ts";
import type { AdmissionHandler } from "../../src/admission/server.ts";
import {
  captureLogger,
  fixture,
  type Harness,
  makeLeaf,
  manualTls,
  startHarness,
  staticWorld,
} from "./harness.ts";

const VALID = fixture("backup-v2-create.json");
const VALID_UID = (VALID.request as { uid: string }).uid;

interface Status {
  kind: string;
  code: number;
  reason: string;
  message: string;
}

function status(json: unknown): Status {
  const s = json as Status;
  assert.equal(s.kind, "Status", `expected a metav1.Status, got ${JSON.stringify(json)}`);
  return s;
}

describe("bad requests get a clear HTTP error and the server stays up", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  // Each tuple: what is sent → HTTP status, Status.reason, a phrase of the message.
  const cases: {
    name: string;
    method?: string;
    path?: string;
    body?: string | Uint8Array;
    headers?: Record<string, string>;
    status: number;
    reason: string;
    message: RegExp;
  }[] = [
    // malformed JSON
    {
      name: "malformed JSON",
      body: '{"apiVersion": ',
      status: 400,
      reason: "BadRequest",
      message: /malformed JSON/,
    },
    // malformed JSON: the message does not quote the body back
    {
      name: "malformed JSON, not echoed",
      body: "xs3cr3t-value",
      status: 400,
      reason: "BadRequest",
      message: /^malformed JSON: Unexpected token 'x' \(not valid JSON\)$/,
    },
    // empty body
    { name: "empty body", body: "", status: 400, reason: "BadRequest", message: /empty body/ },
    // JSON that is not an object
    {
      name: "a JSON array",
      body: "[1,2]",
      status: 400,
      reason: "BadRequest",
      message: /expected a JSON object/,
    },
    // a body that is not UTF-8
    {
      name: "invalid UTF-8",
      body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      status: 400,
      reason: "BadRequest",
      message: /UTF-8/,
    },
    // AdmissionReview without request
    {
      name: "no request",
      body: JSON.stringify(fixture("no-request.json")),
      status: 400,
      reason: "BadRequest",
      message: /no request/,
    },
    // AdmissionReview without request.uid
    {
      name: "no uid",
      body: JSON.stringify(fixture("no-uid.json")),
      status: 400,
      reason: "BadRequest",
      message: /request\.uid is missing/,
    },
    // admission.k8s.io/v1beta1 is not served
    {
      name: "v1beta1 review",
      body: JSON.stringify(fixture("v1beta1.json")),
      status: 400,
      reason: "BadRequest",
      message: /v1beta1 is not served/,
    },
    // wrong content type
    {
      name: "text/plain",
      body: JSON.stringify(VALID),
      headers: { "content-type": "text/plain" },
      status: 415,
      reason: "UnsupportedMediaType",
      message: /application\/json, got "text\/plain"/,
    },
    // JSON in another charset
    {
      name: "charset utf-16",
      body: JSON.stringify(VALID),
      headers: { "content-type": "application/json; charset=utf-16" },
      status: 415,
      reason: "UnsupportedMediaType",
      message: /application\/json/,
    },
    // no content type at all
    {
      name: "no content type",
      body: JSON.stringify(VALID),
      headers: { "content-type": "" },
      status: 415,
      reason: "UnsupportedMediaType",
      message: /application\/json/,
    },
    // an unknown path
    {
      name: "unknown path",
      path: "/admit",
      body: "{}",
      status: 404,
      reason: "NotFound",
      message: /POST \/admit/,
    },
    // paths are exact: case and trailing slash matter
    {
      name: "/Validate",
      path: "/Validate",
      body: "{}",
      status: 404,
      reason: "NotFound",
      message: /\/Validate/,
    },
    {
      name: "/validate/",
      path: "/validate/",
      body: "{}",
      status: 404,
      reason: "NotFound",
      message: /\/validate\//,
    },
    // GET on the review endpoint
    { name: "GET /validate", method: "GET", status: 405, reason: "MethodNotAllowed", message: /use POST/ },
    // POST on a probe
    {
      name: "POST /healthz",
      method: "POST",
      path: "/healthz",
      body: "",
      status: 405,
      reason: "MethodNotAllowed",
      message: /GET/,
    },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.status}`, async () => {
      const headers = { "content-type": "application/json", ...c.headers };
      if (headers["content-type"] === "") delete (headers as Record<string, string>)["content-type"];
      const r = await h.client.request(c.method ?? "POST", c.path ?? "/validate", c.body, headers);
      assert.equal(r.status, c.status, r.text);
      assert.match(String(r.headers["content-type"]), /^application\/json/);
      const s = status(r.json);
      assert.equal(s.code, c.status);
      assert.equal(s.reason, c.reason);
      assert.match(s.message, c.message);
      if (c.status === 405) assert.ok(r.headers.allow);
      // The server still answers on the same keep-alive client.
      assert.equal((await h.client.request("GET", "/healthz")).status, 200);
    });
  }

  test("the query the API server appends (?timeout=10s) is ignored", async () => {
    for (const path of ["/validate?timeout=10s", "/mutate?timeout=30s"]) {
      const r = await h.client.review(path, VALID);
      assert.equal(r.status, 200, r.text);
      assert.equal((r.json as { response: { uid: string } }).response.uid, VALID_UID);
    }
  });

  test("application/json with charset=utf-8 is accepted", async () => {
    const r = await h.client.review("/validate", VALID, {
      "content-type": "application/json; charset=utf-8",
    });
    assert.equal(r.status, 200, r.text);
  });

  test("a Content-Length over the limit → 413 before the body is read, and the server stays up", async () => {
    const r = await rawRequest(h, `Content-Length: ${MAX_BODY_BYTES + 1}\r\n`, "");
    assert.match(r, /^HTTP\/1\.1 413 /);
    assert.match(r, /over the limit of 4194304/);
    assert.equal((await h.client.request("GET", "/healthz")).status, 200);
  });

  test("headers over node's limit → 431, and the server stays up", async () => {
    const r = await rawRequest(h, `X-Padding: ${"p".repeat(20_000)}\r\nContent-Length: 2\r\n`, "{}");
    assert.match(r, /^HTTP\/1\.1 431 /);
    assert.equal((await h.client.request("GET", "/healthz")).status, 200);
  });

  test("a chunked body that grows over the limit → 413, and the server stays up", async () => {
    const big = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","pad":"${"x".repeat(MAX_BODY_BYTES)}"}`;
    const r = await h.client.review("/validate", big, { "transfer-encoding": "chunked" });
    assert.equal(r.status, 413);
    assert.equal(r.headers.connection, "close");
    assert.match(status(r.json).message, /over the limit/);
    assert.equal((await h.client.request("GET", "/healthz", undefined, {}, false)).status, 200);
    const refused = h.logs.lines().filter((l) => l.msg === "admission request refused" && l.status === 413);
    assert.ok(refused.length >= 1, "the 413 is logged");
  });

  test("a body exactly at the limit is read (then judged as JSON)", async () => {
    const prefix = '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","pad":"';
    const body = `${prefix}${"x".repeat(MAX_BODY_BYTES - prefix.length - 2)}"}`;
    assert.equal(Buffer.byteLength(body), MAX_BODY_BYTES);
    const r = await h.client.review("/validate", body);
    assert.equal(r.status, 400);
    assert.match(status(r.json).message, /no request/);
  });
});

describe("a handler that throws", () => {
  let h: Harness;
  const boom: AdmissionHandler = () => {
    throw new Error("boom");
  };
  before(async () => {
    h = await startHarness({ handlers: { validate: boom, mutate: boom } });
  });
  after(() => h.close());

  test("validating: an errored AdmissionReview (500) for the uid, and the process stays up", async () => {
    const r = await h.client.review("/validate", VALID);
    assert.equal(r.status, 200);
    const review = r.json as { kind: string; response: { uid: string; allowed: boolean; status: Status } };
    assert.equal(review.kind, "AdmissionReview");
    assert.equal(review.response.uid, VALID_UID);
    assert.equal(review.response.allowed, false);
    assert.equal(review.response.status.code, 500);
    assert.equal(review.response.status.reason, "InternalError");
    assert.match(review.response.status.message, /boom/);
    assert.equal((await h.client.request("GET", "/healthz")).status, 200);
  });

  test("mutating: allowed unchanged with a warning (fails open), and the process stays up", async () => {
    const r = await h.client.review("/mutate", VALID);
    assert.equal(r.status, 200);
    const review = r.json as {
      response: { uid: string; allowed: boolean; patch?: string; warnings: string[] };
    };
    assert.equal(review.response.uid, VALID_UID);
    assert.equal(review.response.allowed, true);
    assert.equal(review.response.patch, undefined);
    assert.match(review.response.warnings[0] ?? "", /internal error: boom; nothing was changed/);
    assert.ok((review.response.warnings[0] ?? "").length <= 120);
    assert.equal((await h.client.request("GET", "/healthz")).status, 200);
    assert.equal(h.logs.lines().filter((l) => l.msg === "admission handler threw").length, 2);
  });
});

describe("probes", () => {
  test("/healthz is up; /readyz waits for a certificate and for the world", async () => {
    const tlsSource = manualTls(undefined);
    let worldReady = false;
    const world = { ...staticWorld(), ready: () => worldReady };
    const h = await startHarness({ tls: tlsSource, world });
    try {
      // No certificate: the handshake fails, and the server says it is not ready.
      await assert.rejects(h.client.request("GET", "/healthz", undefined, {}, false));
      assert.equal(h.server.ready(), false);
      tlsSource.set(await makeLeaf(h.ca));
      assert.equal((await h.client.request("GET", "/healthz")).status, 200);
      const notReady = await h.client.request("GET", "/readyz");
      assert.equal(notReady.status, 503);
      assert.deepEqual(notReady.json, { status: "not ready", certificate: true, world: false });
      worldReady = true;
      const ready = await h.client.request("GET", "/readyz");
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.json, { status: "ready", certificate: true, world: true });
    } finally {
      await h.close();
    }
  });
});

describe("metrics", () => {
  test("/metrics counts reviews by endpoint, kind, operation and verdict, and refusals", async () => {
    const allow: AdmissionHandler = (req) => ({
      response: { allowed: true },
      kind: req.kind?.kind ?? "",
      operation: req.operation ?? "",
      verdict: "allowed",
      codes: [],
    });
    const deny: AdmissionHandler = (req) => ({
      response: { allowed: false, status: { code: 403, reason: "Forbidden", message: "spec.secret: no" } },
      kind: req.kind?.kind ?? "",
      operation: req.operation ?? "",
      verdict: "denied",
      codes: ["secret.missing", "schedule.invalid"],
    });
    const h = await startHarness({ handlers: { validate: allow, mutate: deny } });
    try {
      await h.client.review("/validate", VALID);
      await h.client.review("/validate", VALID);
      await h.client.review("/mutate", VALID);
      await h.client.review("/validate", "{");
      const r = await h.client.request("GET", "/metrics");
      assert.equal(r.status, 200);
      assert.match(String(r.headers["content-type"]), /^text\/plain/);
      const m = r.text;
      assert.match(
        m,
        /casskeeper_admission_requests_total\{endpoint="validate",kind="CassandraBackup",operation="CREATE",verdict="allowed"\} 2/,
      );
      assert.match(
        m,
        /casskeeper_admission_requests_total\{endpoint="mutate",kind="CassandraBackup",operation="CREATE",verdict="denied"\} 1/,
      );
      assert.match(
        m,
        /casskeeper_admission_requests_total\{endpoint="validate",kind="unknown",operation="unknown",verdict="invalid"\} 1/,
      );
      assert.match(m, /casskeeper_admission_denials_total\{code="secret.missing"\} 1/);
      assert.match(m, /casskeeper_admission_duration_seconds_count\{endpoint="validate"\} 3/);
      assert.match(m, /casskeeper_admission_duration_seconds_bucket\{le="0.0005",endpoint="validate"\}/);
      // The certificate's expiry, two days from the test CA's start: a real timestamp, not 0.
      const expiry = Number(/casskeeper_tls_certificate_expiry_timestamp_seconds (\d+)/.exec(m)?.[1]);
      assert.ok(expiry > Date.now() / 1000, `expiry ${expiry}`);
      assert.match(m, /process_cpu_user_seconds_total/);
    } finally {
      await h.close();
    }
  });
});

describe("logs", () => {
  test("one JSON line per review, with no object body and no secret value", async () => {
    const secretValue = "c3VwZXItc2VjcmV0LXZhbHVl"; // what a Secret's data would hold
    const review = structuredClone(VALID) as { request: { object: Record<string, unknown> } };
    review.request.object = { ...review.request.object, data: { awssecretaccesskey: secretValue } };
    const h = await startHarness();
    try {
      const r = await h.client.review("/validate", review);
      assert.equal(r.status, 200);
      const lines = h.logs.lines().filter((l) => l.msg === "admission review");
      assert.equal(lines.length, 1);
      const line = lines[0] ?? {};
      assert.equal(line.uid, VALID_UID);
      assert.equal(line.kind, "CassandraBackup");
      assert.equal(line.namespace, "prod");
      assert.equal(line.name, "orders-pre-migration");
      assert.equal(line.operation, "CREATE");
      assert.equal(line.dryRun, false);
      assert.equal(typeof line.durationMs, "number");
      assert.equal(typeof line.verdict, "string");
      // Allowed reviews log at debug (CassKop's status writes alone are one review every 2 s); denials at info.
      assert.equal(line.level, line.verdict === "denied" ? "info" : "debug");
      assert.ok(!h.logs.text().includes(secretValue), "the secret value is not logged");
      assert.ok(!h.logs.text().includes('gcp-backup-credentials":'), "no object body");
    } finally {
      await h.close();
    }
  });
});

describe("logger redaction", () => {
  test("object bodies, Secret data, patches and keys are removed even when logged by mistake", () => {
    const logs = captureLogger();
    logs.logger.info(
      {
        request: { uid: "u1", object: { data: { k: "SECRET-1" } }, oldObject: { x: "SECRET-2" } },
        secret: { data: { k: "SECRET-3" }, stringData: { k: "SECRET-4" } },
        pair: { cert: "CERT", key: "SECRET-5" },
        patch: "SECRET-6",
        headers: { authorization: "Bearer SECRET-7" },
      },
      "oops",
    );
    const text = logs.text();
    assert.doesNotMatch(text, /SECRET-\d/);
    const line = logs.lines()[0] as { request: { uid: string }; pair: { cert: string } };
    assert.equal(line.request.uid, "u1");
    assert.equal(line.pair.cert, "CERT");
  });
});

describe("graceful close", () => {
  test("close() resolves with keep-alive connections open, and new connections are refused", async () => {
    const h = await startHarness();
    assert.equal((await h.client.request("GET", "/healthz")).status, 200); // leaves an idle keep-alive socket
    await h.server.close();
    await assert.rejects(h.client.request("GET", "/healthz", undefined, {}, false), /ECONNREFUSED/);
    h.client.destroy();
  });
});

/** Writes a raw request (headers + body) over TLS and returns everything the server sends until it closes. */
function rawRequest(h: Harness, extraHeaders: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port: h.server.port, ca: h.ca.certPem }, () => {
      socket.write(
        `POST /validate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extraHeaders}\r\n${body}`,
      );
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      text += d;
    });
    socket.on("end", () => resolve(text));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}
