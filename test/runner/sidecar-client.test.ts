// The sidecar client against the sidecar double (test/support/sidecar-double.ts): what a runner sees of each
// call — the happy paths, the server's quirks (500 "HTTP 404 Not Found", 201 + Location, "NaN" progress) and
// the failures (timeouts, refused connections, lost answers, garbage) with their retry rules.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { ensureLocalCertificate } from "../../src/admission/tls-files.ts";
import type { BackupRequest, RestoreRequest } from "../../src/runner/model.ts";
import {
  createSidecarClient,
  MAX_ERROR_BODY_CHARS,
  parseOperation,
  parseSidecarVersion,
  type SidecarClientOptions,
  SidecarError,
  supportsRemoveBackup,
} from "../../src/runner/sidecar-client.ts";
import { eventually, FakeClock } from "../support/kube-fake-clock.ts";
import { type SidecarDoubleOptions, startSidecarDouble } from "../support/sidecar-double.ts";

const BACKUP: BackupRequest = {
  type: "backup",
  storageLocation: "s3://cassie",
  snapshotTag: "daily",
  entities: "k1.t1,k2.t3",
  k8sSecretName: "cloud-backup-secrets",
  dc: "dc1",
  globalRequest: true,
  k8sNamespace: "prod",
};

const RESTORE: RestoreRequest = {
  type: "restore",
  storageLocation: "s3://cassie",
  snapshotTag: "daily",
  restorationPhase: "INIT",
  globalRequest: true,
  import: { type: "import", sourceDir: "/var/lib/cassandra/downloadedsstables" },
  restorationStrategyType: "HARDLINKS",
  resolveHostIdFromTopology: true,
};

/** A double and a client on it; backoff sleeps are recorded, not waited for; jitter is fixed at its maximum. */
async function setup(t: TestContext, o: SidecarDoubleOptions = {}, c: Partial<SidecarClientOptions> = {}) {
  const double = await startSidecarDouble(o);
  t.after(() => double.close());
  const sleeps: number[] = [];
  const client = createSidecarClient({
    baseUrl: double.url,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
    ...c,
  });
  const count = (method: string) => double.requests.filter((r) => r.method === method).length;
  return { double, client, sleeps, count };
}

function isSidecarError(expect: Partial<Pick<SidecarError, "code" | "status" | "retryable" | "sent">>) {
  return (e: unknown) => {
    assert.ok(e instanceof SidecarError, `expected a SidecarError, got ${String(e)}`);
    assert.equal(e.stage, "runner");
    for (const [k, v] of Object.entries(expect)) assert.equal(e[k as keyof SidecarError], v, k);
    return true;
  };
}

describe("submit", () => {
  test("201: the operation, PENDING, with the sidecar's defaults and rewritten snapshotTag", async (t) => {
    const { double, client } = await setup(t);
    const op = await client.submit(BACKUP);
    assert.equal(op.type, "backup");
    assert.equal(op.state, "PENDING");
    assert.equal(op.progress, 0);
    assert.deepEqual(op.errors, []);
    assert.equal(op.id, double.operations()[0]?.id);
    assert.match(op.snapshotTag ?? "", /^daily-6f5e9841-4f97-3198-9398-161b445b3954-\d+$/);
    assert.equal(op.raw.concurrentConnections, 10);
    assert.equal(op.raw.metadataDirective, "COPY");
    assert.equal(op.raw.k8sNamespace, "prod");
    const sent = double.requests[0];
    assert.equal(sent?.method, "POST");
    assert.equal(sent?.path, "/operations");
    assert.equal(sent?.contentType, "application/json");
    assert.equal(sent?.accept, "application/json");
    assert.deepEqual(sent?.body, BACKUP);
  });

  const answers: [string, number, unknown, Record<string, string>, string | undefined][] = [
    // (200 as the swagger says, full body) → taken like 201
    [
      "200 tolerated",
      200,
      { id: "op-1", type: "backup", state: "PENDING", progress: 0, errors: [] },
      {},
      "op-1",
    ],
    // (201, body without id, Location) → id from Location, as instaclustr/cassandra-operator reads it
    [
      "id from Location",
      201,
      { type: "backup", state: "PENDING", progress: 0.0, errors: [] },
      { location: "http://cassandra-0.cassandra:4567/operations/0b5e5e2a-54e5-4f0e-9d5b-1a2b3c4d5e6f" },
      "0b5e5e2a-54e5-4f0e-9d5b-1a2b3c4d5e6f",
    ],
    // (201, empty body, Location) → a PENDING operation with that id
    ["empty body", 201, "", { location: "/operations/abc" }, "abc"],
  ];
  for (const [name, status, body, headers, id] of answers) {
    test(name, async (t) => {
      const { double, client } = await setup(t);
      double.failNext(1, status, body, { headers });
      const op = await client.submit(BACKUP);
      assert.equal(op.id, id);
      assert.equal(op.state, "PENDING");
      assert.equal(op.type, "backup");
    });
  }

  test("201 with neither body nor Location is a bad answer", async (t) => {
    const { double, client } = await setup(t);
    double.failNext(1, 201, "");
    await assert.rejects(client.submit(BACKUP), isSidecarError({ code: "sidecar-bad-response" }));
  });

  test("a 500 is never retried: the POST may have created the operation", async (t) => {
    const { double, client, sleeps, count } = await setup(t);
    double.failNext(1, 500, "java.lang.IllegalStateException: boom", { match: { method: "POST" } });
    await assert.rejects(
      client.submit(BACKUP),
      isSidecarError({ code: "sidecar-500", status: 500, retryable: true, sent: true }),
    );
    assert.equal(count("POST"), 1);
    assert.deepEqual(sleeps, []);
  });

  test("a 4xx is not retryable", async (t) => {
    const { double, client } = await setup(t);
    double.failNext(1, 400, "Bad Request");
    await assert.rejects(client.submit(BACKUP), isSidecarError({ code: "sidecar-400", retryable: false }));
  });

  test("a synchronous refusal (500 with Jackson's message) carries the text and is not retryable", async (t) => {
    // icarus 1.x cannot read any `duration` (sidecar.md §2.1 ⚠1); the double refuses it as the server would.
    const { client } = await setup(t);
    await assert.rejects(client.submit({ ...BACKUP, duration: "15m" }), (e) => {
      isSidecarError({ code: "sidecar-500", status: 500, retryable: false })(e);
      assert.match((e as SidecarError).body ?? "", /com\.instaclustr\.measure\.Time/);
      assert.match((e as SidecarError).message, /HTTP 500: Cannot construct instance/);
      return true;
    });
  });

  test("remove-backup on icarus 1.1.0 is an unknown type (500)", async (t) => {
    const { client } = await setup(t);
    await assert.rejects(
      client.submit({ type: "remove-backup", storageLocation: "s3://cassie", backupName: "x" }),
      (e) =>
        isSidecarError({ status: 500, retryable: false })(e) && /remove-backup/.test((e as Error).message),
    );
  });

  test("a long Java exception body is kept truncated", async (t) => {
    const { double, client } = await setup(t);
    double.failNext(1, 500, `java.lang.RuntimeException: ${"x".repeat(20_000)}`);
    await assert.rejects(client.submit(BACKUP), (e) => {
      assert.ok(e instanceof SidecarError);
      assert.ok((e.body ?? "").length <= MAX_ERROR_BODY_CHARS);
      assert.ok(e.message.length < 500);
      return true;
    });
  });

  test("a lost answer is not re-sent; the operation is found again with list", async (t) => {
    const { double, client, count } = await setup(t);
    double.loseNext(1, { method: "POST" });
    await assert.rejects(client.submit(BACKUP), isSidecarError({ code: "sidecar-network", sent: true }));
    assert.equal(count("POST"), 1);
    const found = await client.list({ type: "backup" });
    assert.equal(found.length, 1);
    assert.match(found[0]?.snapshotTag ?? "", /^daily-/);
  });

  test("a refused connection sent nothing: the POST is tried again", async (t) => {
    const double = await startSidecarDouble();
    t.after(() => double.close());
    await double.refuse(true);
    const client = createSidecarClient({ baseUrl: double.url, sleep: () => double.refuse(false) });
    const op = await client.submit(BACKUP);
    assert.equal(op.state, "PENDING");
    assert.equal(double.operations().length, 1);
    assert.equal(double.requests.length, 1);
  });
});

describe("get", () => {
  test("auto mode: RUNNING at 0.5, then COMPLETED at 1.0 with completionTime", async (t) => {
    const { client } = await setup(t);
    const { id } = await client.submit(BACKUP);
    const running = await client.get(id);
    assert.equal(running?.state, "RUNNING");
    assert.equal(running?.progress, 0.5);
    assert.ok(running?.startTime);
    const done = await client.get(id);
    assert.equal(done?.state, "COMPLETED");
    assert.equal(done?.progress, 1);
    assert.ok(done?.completionTime);
  });

  test("failed halfway: the errors as the sidecar reports them", async (t) => {
    const { double, client } = await setup(t, { hostname: "cassandra-dc1-rack1-2" });
    double.failHalfway();
    const { id } = await client.submit(BACKUP);
    assert.equal((await client.get(id))?.progress, 0.5);
    const failed = await client.get(id);
    assert.equal(failed?.state, "FAILED");
    assert.equal(failed?.progress, 1);
    assert.equal(failed?.errors[0]?.source, "cassandra-dc1-rack1-2");
    assert.match(failed?.errors[0]?.message ?? "", /^Unable to upload some files successfully: /);
  });

  const unknown: [string, SidecarDoubleOptions, () => string][] = [
    // (unknown UUID, the server's 500 "HTTP 404 Not Found") → undefined
    ["500 HTTP 404 Not Found", {}, () => randomUUID()],
    // (unknown UUID, a real 404) → undefined
    ["real 404", { unknownIdStatus: 404 }, () => randomUUID()],
    // (not a UUID: Jersey's path-param conversion fails the same way) → undefined
    ["not a UUID", {}, () => "not-a-uuid"],
  ];
  for (const [name, o, id] of unknown) {
    test(`unknown id (${name}) → undefined, not retried`, async (t) => {
      const { client, count, sleeps } = await setup(t, o);
      assert.equal(await client.get(id()), undefined);
      assert.equal(count("GET"), 1);
      assert.deepEqual(sleeps, []);
    });
  }

  test("an operation expires one hour after it ended", async (t) => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const { double, client } = await setup(t, { now: () => now, mode: "hold" });
    const { id } = await client.submit(BACKUP);
    double.complete(id);
    now += 3_600_000;
    assert.equal((await client.get(id))?.state, "COMPLETED");
    now += 1;
    assert.equal(await client.get(id), undefined);
  });

  test("5xx: retried with exponential backoff, then answered", async (t) => {
    const { double, client, sleeps, count } = await setup(t, {}, { backoffMs: 500 });
    const { id } = await client.submit(BACKUP);
    double.failNext(2, 503, "Service Unavailable", { match: { method: "GET" } });
    assert.equal((await client.get(id))?.state, "RUNNING");
    assert.deepEqual(sleeps, [500, 1000]);
    assert.equal(count("GET"), 3);
  });

  test("5xx: gives up after `retries` more attempts", async (t) => {
    const { double, client, sleeps, count } = await setup(
      t,
      {},
      { retries: 2, backoffMs: 100, maxBackoffMs: 150 },
    );
    double.failNext(10, 500, "boom");
    await assert.rejects(client.get(randomUUID()), isSidecarError({ status: 500, retryable: true }));
    assert.equal(count("GET"), 3);
    assert.deepEqual(sleeps, [100, 150]);
  });

  test("jitter keeps at least half the backoff", async (t) => {
    const { double, client, sleeps } = await setup(t, {}, { backoffMs: 1000, random: () => 0 });
    double.failNext(1, 502, "Bad Gateway");
    assert.equal(await client.get(randomUUID()), undefined);
    assert.deepEqual(sleeps, [500]);
  });

  const garbage: [string, unknown, Partial<SidecarClientOptions>, string, RegExp][] = [
    // (a 200 that is not JSON) → bad response
    ["malformed JSON", '{"id": "x", "state": ', {}, "sidecar-bad-response", /not JSON/],
    // (a state outside the five) → refused, not guessed at
    [
      "unknown state",
      { id: "x", type: "backup", state: "SUBMITTED", progress: 0, errors: [] },
      {},
      "sidecar-bad-response",
      /"SUBMITTED"/,
    ],
    // (an answer over the cap) → refused while reading
    [
      "oversized",
      { id: "x", type: "backup", state: "RUNNING", progress: 0, errors: [], pad: "x".repeat(5000) },
      { maxResponseBytes: 1024 },
      "sidecar-too-large",
      /larger than 1024 bytes/,
    ],
  ];
  for (const [name, body, c, code, message] of garbage) {
    test(name, async (t) => {
      const { double, client, count } = await setup(t, {}, c);
      double.failNext(1, 200, body);
      await assert.rejects(client.get(randomUUID()), (e) => {
        isSidecarError({ code: code as SidecarError["code"] })(e);
        assert.match((e as Error).message, message);
        return true;
      });
      assert.equal(count("GET"), 1);
    });
  }

  test('"NaN" progress reads as 0', async (t) => {
    const { double, client } = await setup(t);
    double.failNext(1, 200, { id: "x", type: "backup", state: "RUNNING", progress: "NaN", errors: [] });
    assert.equal((await client.get("x"))?.progress, 0);
  });

  test("a hang ends at the deadline (fake clock)", async (t) => {
    const clock = new FakeClock();
    const { double, client } = await setup(t, {}, { timers: clock, retries: 0 });
    double.hangNext(1);
    const answer = client.get(randomUUID());
    await eventually("the GET reaches the sidecar", () => double.requests.length === 1);
    clock.advance(60_000);
    await assert.rejects(answer, isSidecarError({ code: "sidecar-timeout", retryable: true, sent: true }));
  });

  test("a hang is retried like any timeout", async (t) => {
    const clock = new FakeClock();
    const { double, client, sleeps } = await setup(t, {}, { timers: clock, retries: 1, timeoutMs: 5_000 });
    const { id } = await client.submit(BACKUP);
    double.hangNext(1);
    const answer = client.get(id);
    await eventually("the GET reaches the sidecar", () => double.requests.length === 2);
    clock.advance(5_000);
    assert.equal((await answer)?.state, "RUNNING");
    assert.equal(sleeps.length, 1);
  });

  test("abort", async (t) => {
    const { double, client } = await setup(t);
    double.hangNext(1);
    const ac = new AbortController();
    const answer = client.get(randomUUID(), ac.signal);
    await eventually("the GET reaches the sidecar", () => double.requests.length === 1);
    ac.abort();
    await assert.rejects(answer, isSidecarError({ code: "sidecar-aborted", retryable: false }));
  });

  test("refused: retried, then reported as not sent", async (t) => {
    const { double, client, sleeps } = await setup(t);
    await double.refuse(true);
    await assert.rejects(
      client.get(randomUUID()),
      isSidecarError({ code: "sidecar-refused", retryable: true, sent: false }),
    );
    assert.equal(sleeps.length, 3);
    await double.refuse(false);
    assert.equal(await client.get(randomUUID()), undefined);
  });
});

describe("list", () => {
  test("newest first, filtered by type and by state (the server reads `state`)", async (t) => {
    const { double, client } = await setup(t, { mode: "hold" });
    const first = await client.submit(BACKUP);
    const restore = await client.submit(RESTORE);
    const second = await client.submit(BACKUP);
    double.advance(first.id);

    assert.deepEqual(
      (await client.list()).map((o) => o.id),
      [second.id, restore.id, first.id],
    );
    assert.deepEqual(
      (await client.list({ type: "backup" })).map((o) => o.id),
      [second.id, first.id],
    );
    assert.deepEqual(
      (await client.list({ type: "backup", state: "RUNNING" })).map((o) => o.id),
      [first.id],
    );
    assert.equal(double.requests.at(-1)?.path, "/operations?type=backup&state=RUNNING");
  });

  test("an operation in an unknown state fails the whole list", async (t) => {
    const { double, client } = await setup(t);
    double.failNext(1, 200, [{ id: "x", type: "backup", state: "DONE", progress: 1, errors: [] }]);
    await assert.rejects(client.list(), isSidecarError({ code: "sidecar-bad-response" }));
  });

  test("not an array", async (t) => {
    const { double, client } = await setup(t);
    double.failNext(1, 200, { operations: [] });
    await assert.rejects(client.list(), isSidecarError({ code: "sidecar-bad-response" }));
  });
});

describe("cancel", () => {
  test("202 → true, and the operation ends CANCELLED at its next step", async (t) => {
    const { double, client } = await setup(t, { mode: "hold" });
    const { id } = await client.submit(BACKUP);
    double.advance(id);
    assert.equal(await client.cancel(id), true);
    assert.equal((await client.get(id))?.state, "RUNNING");
    double.advance(id);
    const op = await client.get(id);
    assert.equal(op?.state, "CANCELLED");
    assert.ok(op?.completionTime);
    assert.equal(double.requests.find((r) => r.method === "DELETE")?.path, `/operations/${id}`);
  });

  test("404 → false", async (t) => {
    const { client } = await setup(t);
    assert.equal(await client.cancel(randomUUID()), false);
  });
});

describe("version", () => {
  const versions: [string, string, boolean][] = [
    // (CassKop's icarus) → no remove-backup
    ["1.1.0", "1.1.0", false],
    // (first icarus with remove-backup) → yes
    ["2.0.2", "2.0.2", true],
    // (the manifest form the real server sends) → read past the title
    ["with title", "cassandra-sidecar 2.0.4", true],
  ];
  for (const [name, version, supported] of versions) {
    test(name, async (t) => {
      const { client } = await setup(t, { version, buildTime: "2021-04-27T16:05:12Z", gitCommit: "5264f1c" });
      const v = await client.version();
      assert.deepEqual(v, { version, buildTime: "2021-04-27T16:05:12Z", gitCommit: "5264f1c" });
      assert.equal(supportsRemoveBackup(v.version), supported);
    });
  }
});

describe("supportsRemoveBackup", () => {
  const cases: [string, boolean][] = [
    // (CassKop's and cscetbon's icarus) → no
    ["1.1.0", false],
    ["1.1.3", false],
    // (list only) → no
    ["2.0.1", false],
    ["2.0.2", true],
    // (suffixes) → the number decides
    ["2.0.2-SNAPSHOT", true],
    ["2.0.1-SNAPSHOT", false],
    ["icarus 2.0.4", true],
    ["v2.1", true],
    ["3.0.0", true],
    ["10.0.0", true],
    // (no jar manifest: "<title> development build", or Version.parse's default) → unknown, so no
    ["cassandra-sidecar development build", false],
    ["unknown", false],
    ["", false],
  ];
  for (const [version, expected] of cases) {
    test(JSON.stringify(version), () => assert.equal(supportsRemoveBackup(version), expected));
  }

  test("parseSidecarVersion", () => {
    assert.deepEqual(parseSidecarVersion("icarus 2.0.4-SNAPSHOT"), { major: 2, minor: 0, patch: 4 });
    assert.deepEqual(parseSidecarVersion("2.1"), { major: 2, minor: 1, patch: 0 });
    assert.equal(parseSidecarVersion("development build"), undefined);
  });
});

describe("parseOperation", () => {
  const base = { id: "x", type: "backup", state: "RUNNING", errors: [] };
  const progress: [string, unknown, number][] = [
    // (number) → as is
    ["number", 0.25, 0.25],
    // ("NaN" string, as instaclustr/cassandra-operator guards) → 0
    ["NaN string", "NaN", 0],
    // (numeric string, as the swagger types it) → the number
    ["numeric string", "0.75", 0.75],
    // (out of range) → clamped
    ["above 1", 1.5, 1],
    ["negative", -0.1, 0],
    // (absent or garbage) → 0
    ["null", null, 0],
    ["object", {}, 0],
    ["empty string", "", 0],
  ];
  for (const [name, p, expected] of progress) {
    test(`progress: ${name}`, () =>
      assert.equal(parseOperation({ ...base, progress: p }).progress, expected));
  }

  test("errors: source and message kept, strings and junk tolerated, raw untouched", () => {
    const raw = {
      ...base,
      state: "FAILED",
      errors: [{ source: "node-1", message: "boom", extra: 1 }, "plain", 7, { message: 3 }],
    };
    const op = parseOperation(raw);
    assert.deepEqual(op.errors, [{ source: "node-1", message: "boom" }, { message: "plain" }, {}]);
    assert.equal(op.raw, raw);
  });

  const invalid: [string, unknown][] = [
    ["not an object", []],
    ["no id", { ...base, id: undefined }],
    ["empty id", { ...base, id: "" }],
    ["no type", { ...base, type: 3 }],
    ["no state", { ...base, state: undefined }],
    ["lower-case state", { ...base, state: "running" }],
    ["SUBMITTED", { ...base, state: "SUBMITTED" }],
  ];
  for (const [name, v] of invalid) {
    test(`refused: ${name}`, () =>
      assert.throws(() => parseOperation(v), isSidecarError({ retryable: true })));
  }
});

describe("construction", () => {
  test("a base URL that is not http(s)", () => {
    assert.throws(
      () => createSidecarClient({ baseUrl: "ftp://x:4567" }),
      isSidecarError({ code: "sidecar-bad-url" }),
    );
    assert.throws(
      () => createSidecarClient({ baseUrl: "not a url" }),
      isSidecarError({ code: "sidecar-bad-url" }),
    );
  });

  test("a path prefix (a proxy in front) is kept", async (t) => {
    const { double } = await setup(t);
    const client = createSidecarClient({ baseUrl: `${double.url}/sidecar/`, retries: 0 });
    // The double serves no prefix, so it answers as the real server does for an unmatched path.
    await assert.rejects(client.version(), isSidecarError({ status: 500 }));
    assert.equal(double.requests.at(-1)?.path, "/sidecar/version");
  });

  test("https (a proxy in front): the CA is given; without it the handshake fails before anything is sent", async (t) => {
    const dir = join(tmpdir(), `casskeeper-sidecar-tls-${randomUUID()}`);
    t.after(() => rm(dir, { recursive: true, force: true }));
    const files = await ensureLocalCertificate(dir, Date.now());
    const server = https.createServer(
      { cert: await readFile(files.certFile), key: await readFile(files.keyFile) },
      (_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ version: "2.0.2", buildTime: "unknown", gitCommit: "unknown" }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as { port: number };
    const ca = await readFile(files.caFile);
    const client = createSidecarClient({ baseUrl: `https://localhost:${port}`, tls: { ca } });
    assert.equal((await client.version()).version, "2.0.2");
    const untrusting = createSidecarClient({ baseUrl: `https://localhost:${port}`, retries: 0 });
    await assert.rejects(untrusting.version(), isSidecarError({ code: "sidecar-unreachable", sent: false }));
  });
});
