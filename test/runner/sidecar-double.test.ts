// The sidecar double itself, over plain fetch: it must behave as reference/sidecar.md says Icarus does, or tests
// built on it prove nothing. One scenario per test; each starts its own double.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, type TestContext, test } from "node:test";
import { type SidecarDoubleOptions, startSidecarDouble } from "../support/sidecar-double.ts";

const SCHEMA = "6f5e9841-4f97-3198-9398-161b445b3954";
const T0 = Date.parse("2030-01-01T00:00:00Z");

async function start(t: TestContext, o: SidecarDoubleOptions = {}) {
  const d = await startSidecarDouble(o);
  t.after(() => d.close());
  const call = async (method: string, path: string, body?: unknown, contentType = "application/json") => {
    const res = await fetch(d.url + path, {
      method,
      headers: body === undefined ? {} : { "content-type": contentType },
      ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json: json as Record<string, unknown>, headers: res.headers };
  };
  const submit = async (body: unknown) => {
    const r = await call("POST", "/operations", body);
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  return { d, call, submit };
}

const BACKUP = { type: "backup", storageLocation: "s3://cassie", snapshotTag: "daily", globalRequest: true };
const RESTORE = {
  type: "restore",
  storageLocation: "s3://cassie",
  snapshotTag: "daily",
  restorationPhase: "INIT",
  restorationStrategyType: "HARDLINKS",
  globalRequest: true,
  import: { type: "import", sourceDir: "/var/lib/cassandra/downloadedsstables" },
  resolveHostIdFromTopology: true,
};

describe("POST /operations", () => {
  test("201, absolute Location, PENDING operation echoing the request with the server's defaults", async (t) => {
    const { d, call } = await start(t, { now: () => T0 });
    const r = await call("POST", "/operations", { ...BACKUP, unknownField: 1 });
    assert.equal(r.status, 201);
    assert.equal(r.headers.get("location"), `${d.url}/operations/${r.json.id}`);
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
    assert.deepEqual(r.json, {
      type: "backup",
      id: r.json.id,
      creationTime: "2030-01-01T00:00:00.000Z",
      state: "PENDING",
      errors: [],
      progress: 0,
      storageLocation: "s3://cassie",
      concurrentConnections: 10,
      metadataDirective: "COPY",
      cassandraDirectory: "/var/lib/cassandra",
      entities: "",
      snapshotTag: `daily-${SCHEMA}-${T0}`,
      globalRequest: true,
      timeout: 5,
      insecure: false,
      createMissingBucket: false,
      skipBucketVerification: false,
      schemaVersion: SCHEMA,
      uploadClusterTopology: false,
      retry: { interval: 10, strategy: "LINEAR", maxAttempts: 3, enabled: false },
    });
  });

  test("no snapshotTag: autosnap-<epochSeconds>, then suffixed", async (t) => {
    const { submit } = await start(t, { now: () => T0 });
    const op = await submit({ type: "backup", storageLocation: "s3://cassie" });
    assert.equal(op.snapshotTag, `autosnap-${T0 / 1000}-${SCHEMA}-${T0}`);
  });

  test("restore defaults: IN_PLACE-only fields, enums upper-cased, import.sourceDir as a file URI", async (t) => {
    const { submit } = await start(t);
    const op = await submit({ ...RESTORE, restorationStrategyType: "hardlinks", globalRequest: "true" });
    assert.equal(op.restorationStrategyType, "HARDLINKS");
    assert.equal(op.restorationPhase, "INIT");
    assert.equal(op.globalRequest, true);
    assert.equal(op.cassandraConfigDirectory, "/etc/cassandra");
    assert.deepEqual(
      (op.import as Record<string, unknown>).sourceDir,
      "file:///var/lib/cassandra/downloadedsstables",
    );
    assert.equal(op.snapshotTag, "daily");
  });

  const refused: [string, string, string, RegExp][] = [
    // (not JSON) → 500, Jackson's complaint as text
    ["malformed JSON", '{"type": "backup",', "application/json", /^Unexpected character/],
    // (no type) → Jackson's missing type id
    ["no type", '{"storageLocation": "s3://b"}', "application/json", /missing type id property 'type'/],
    // (unknown type) → the known ids listed
    [
      "unknown type",
      '{"type": "snapshot"}',
      "application/json",
      /Could not resolve type id 'snapshot'.*backup/,
    ],
    // (wrong JSON type) → Jackson refuses
    [
      "non-numeric integer",
      '{"type": "backup", "concurrentConnections": "ten"}',
      "application/json",
      /Integer/,
    ],
    [
      "bad bandwidth unit",
      '{"type": "backup", "bandwidth": {"value": 1, "unit": "MB"}}',
      "application/json",
      /DataRate/,
    ],
    // (restore schemaVersion not a UUID, as CassKop's own test value) → synchronous
    ["schemaVersion not a UUID", '{"type": "restore", "schemaVersion": "test"}', "application/json", /UUID/],
    // (a Go duration on icarus 1.x) → Time has no JSON creator
    ["duration on 1.x", '{"type": "backup", "duration": "15m"}', "application/json", /measure\.Time/],
    // (not JSON content) → Jersey's 415 through the catch-all mapper
    ["text/plain", '{"type": "backup"}', "text/plain", /^HTTP 415 Unsupported Media Type$/],
  ];
  for (const [name, body, contentType, message] of refused) {
    test(`refused synchronously: ${name}`, async (t) => {
      const { d, call } = await start(t);
      const r = await call("POST", "/operations", body, contentType);
      assert.equal(r.status, 500);
      assert.match(r.text, message);
      assert.equal(r.headers.get("content-type"), "text/plain");
      assert.deepEqual(d.operations(), []);
    });
  }

  test("operation types follow the version: remove-backup from 2.0.2, list from 2.0.1", async (t) => {
    const old = await start(t);
    const remove = { type: "remove-backup", storageLocation: "s3://cassie", backupName: "x" };
    assert.equal((await old.call("POST", "/operations", remove)).status, 500);
    assert.equal((await old.call("POST", "/operations", { type: "list" })).status, 500);
    const v201 = await start(t, { version: "2.0.1" });
    assert.equal((await v201.call("POST", "/operations", { type: "list" })).status, 201);
    assert.equal((await v201.call("POST", "/operations", remove)).status, 500);
    const v202 = await start(t, { version: "icarus 2.0.2" });
    assert.equal((await v202.call("POST", "/operations", remove)).status, 201);
  });

  test("duration is read as a Time object from 2.0 on", async (t) => {
    const { call } = await start(t, { version: "2.0.4" });
    assert.equal((await call("POST", "/operations", { ...BACKUP, duration: "15m" })).status, 500);
    const ok = await call("POST", "/operations", { ...BACKUP, duration: { value: 1, unit: "HOURS" } });
    assert.equal(ok.status, 201);
  });
});

describe("start checks: FAILED with the real messages", () => {
  const cases: [string, SidecarDoubleOptions, Record<string, unknown>, string][] = [
    // (no storageLocation) → esop AbstractOperationRequest
    ["no storageLocation", {}, { type: "backup", snapshotTag: "t" }, "storageLocation has to be specified!"],
    // (non-global, two parts) → the per-node form is required
    [
      "non-global, partial location",
      {},
      { ...BACKUP, storageLocation: "s3://b/cluster", globalRequest: false },
      "Invalid storage location: Storage location s3://b/cluster is not in form protocol://bucketName/clusterId/datacenterid/nodeId",
    ],
    // (global, two parts) → the global form is required
    [
      "global, partial location",
      {},
      { ...BACKUP, storageLocation: "s3://b/cluster" },
      "Invalid storage location: Global storage location s3://b/cluster is not in form protocol://bucketName",
    ],
    // (file:// without cluster/dc/node) → no bucket-only form for file
    [
      "file bucket only",
      {},
      { ...BACKUP, storageLocation: "file:///data/test" },
      "Invalid storage location: Storage location file:///data/test is not in form file:///some/backup/path/clusterId/datacenterId/nodeId",
    ],
    // (unknown protocol) → the providers listed
    [
      "unknown provider",
      {},
      { ...BACKUP, storageLocation: "nfs://x" },
      "Available storage providers: [s3, azure, gcp, file, oracle, minio, ceph]",
    ],
    // (mixed entities) → esop DatabaseEntities
    [
      "mixed entities",
      {},
      { ...BACKUP, entities: "k1,k2.t2" },
      "Entities might be either set only as keyspaces or only as keyspaces with tables!",
    ],
    // (a directory the sidecar does not have) → esop BackupOperationRequest
    [
      "cassandraDirectory",
      {},
      { ...BACKUP, cassandraDirectory: "/data" },
      "cassandraDirectory /data does not exist",
    ],
    // (restore without snapshotTag)
    ["restore, no snapshotTag", {}, { ...RESTORE, snapshotTag: undefined }, "snapshotTag can not be blank!"],
    // (global restore not starting at INIT) → icarus' coordinator rule
    [
      "global restore at DOWNLOAD",
      {},
      { ...RESTORE, restorationPhase: "download" },
      "If global request is true and singlePhase is false, restorationPhase has to be INIT",
    ],
    // (HARDLINKS without import)
    [
      "HARDLINKS without import",
      {},
      { ...RESTORE, import: undefined },
      "you can not specify HARDLINKS restorationStrategyType and have 'import' field empty!",
    ],
    // (HARDLINKS without phase)
    [
      "HARDLINKS without phase",
      {},
      { ...RESTORE, restorationPhase: undefined },
      "restorationPhase is not recognized, it has to be set when you use IMPORT or HARDLINKS strategy type",
    ],
    // (IN_PLACE with a phase)
    [
      "IN_PLACE with a phase",
      {},
      { ...RESTORE, restorationStrategyType: "IN_PLACE" },
      "you can not set / use any restoration phases (you used INIT) when your restorationStrategyType is IN_PLACE",
    ],
    [
      "unknown strategy",
      {},
      { ...RESTORE, restorationStrategyType: "COPY" },
      "restorationStrategyType is not recognized",
    ],
    // (remove-backup with nothing to remove) → esop RemoveBackupRequest.validate
    [
      "remove-backup, nothing named",
      { version: "2.0.2" },
      { type: "remove-backup", storageLocation: "s3://cassie", globalRequest: true },
      "You have not specified you want to remove any specific backup but you have not specified olderThan either!",
    ],
    [
      "remove-backup, name and age",
      { version: "2.0.2" },
      {
        type: "remove-backup",
        storageLocation: "s3://cassie",
        globalRequest: true,
        backupName: "b",
        olderThan: { value: 1, unit: "DAYS" },
      },
      "You have specified you want to remove backup b but you specified olderThan too!",
    ],
  ];
  for (const [name, o, body, message] of cases) {
    test(name, async (t) => {
      const { d, submit } = await start(t, { ...o, mode: "hold", hostname: "cassandra-dc1-rack1-0" });
      const op = await submit(body);
      assert.equal(op.state, "PENDING");
      const failed = d.advance(String(op.id));
      assert.equal(failed.state, "FAILED");
      assert.equal(failed.progress, 1);
      assert.ok(failed.startTime !== undefined && failed.completionTime !== undefined);
      assert.deepEqual(failed.errors, [{ source: "cassandra-dc1-rack1-0", message }]);
    });
  }

  test("a global restore while another restore runs", async (t) => {
    const { d, submit } = await start(t, { mode: "hold" });
    const first = await submit(RESTORE);
    d.advance(String(first.id));
    const second = await submit(RESTORE);
    assert.deepEqual(
      d.advance(String(second.id)).errors[0]?.message,
      "There is more than one running restoration operation.",
    );
  });
});

describe("progress", () => {
  test("auto mode: one step per GET of the operation; list GETs do not count", async (t) => {
    const { call, submit } = await start(t, { autoAfterGets: 3 });
    const op = await submit(BACKUP);
    await call("GET", "/operations");
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await call("GET", `/operations/${op.id}`);
      seen.push([r.json.state, r.json.progress]);
    }
    assert.deepEqual(seen, [
      ["RUNNING", 1 / 3],
      ["RUNNING", 2 / 3],
      ["COMPLETED", 1],
      ["COMPLETED", 1],
    ]);
  });

  test("hold mode: GETs change nothing; advance, setProgress, complete do", async (t) => {
    const { d, call, submit } = await start(t, { mode: "hold" });
    const { id } = await submit(BACKUP);
    assert.equal((await call("GET", `/operations/${id}`)).json.state, "PENDING");
    assert.equal(d.start(String(id)).state, "RUNNING");
    assert.equal(d.setProgress(String(id), 0.25).progress, 0.25);
    assert.equal((await call("GET", `/operations/${id}`)).json.progress, 0.25);
    assert.equal(d.complete(String(id)).state, "COMPLETED");
  });

  test("script: the next operation of a type follows the steps, then stays", async (t) => {
    const { d, submit } = await start(t, { mode: "hold" });
    d.script(
      [
        { state: "RUNNING", progress: 0.1 },
        { state: "RUNNING", progress: 0.9 },
      ],
      "restore",
    );
    const backup = await submit(BACKUP);
    const restore = await submit(RESTORE);
    assert.equal(d.advance(String(restore.id)).progress, 0.1);
    assert.equal(d.advance(String(restore.id)).progress, 0.9);
    assert.equal(d.advance(String(restore.id)).state, "RUNNING");
    assert.equal(d.advance(String(backup.id)).progress, 0.5); // the default progression
    assert.equal(
      d.fail(String(restore.id), "Keyspace k9 is not in manifest!").errors[0]?.message,
      "Keyspace k9 is not in manifest!",
    );
  });

  test("a pool of 10: the 11th operation stays PENDING until one ends", async (t) => {
    const { d, submit } = await start(t, { mode: "hold" });
    const ids: string[] = [];
    for (let i = 0; i < 11; i++) ids.push(String((await submit(BACKUP)).id));
    const states = ids.map((id) => d.advance(id).state);
    assert.deepEqual(states, [...Array(10).fill("RUNNING"), "PENDING"]);
    d.complete(ids[0] ?? "");
    assert.equal(d.advance(ids[10] ?? "").state, "RUNNING");
  });
});

describe("GET, DELETE, expiry", () => {
  test("GET /operations: newest first, type and state filters (repeatable, state upper-cased)", async (t) => {
    const { d, call, submit } = await start(t, { mode: "hold" });
    const a = await submit(BACKUP);
    const b = await submit(RESTORE);
    const c = await submit(BACKUP);
    d.advance(String(a.id));
    const ids = async (q: string) =>
      ((await call("GET", `/operations${q}`)).json as unknown as { id: string }[]).map((o) => o.id);
    assert.deepEqual(await ids(""), [c.id, b.id, a.id]);
    assert.deepEqual(await ids("?type=backup"), [c.id, a.id]);
    assert.deepEqual(await ids("?type=backup&type=restore&state=pending"), [c.id, b.id]);
    assert.deepEqual(await ids("?state=RUNNING"), [a.id]);
  });

  test("unknown state or type in a filter: 400 on sidecar-common 1.x, nothing matched on 3.x", async (t) => {
    const old = await start(t);
    const r = await old.call("GET", "/operations?state=DONE");
    assert.equal(r.status, 400);
    assert.match(
      r.text,
      /Operation state is invalid, possible states: \[PENDING, RUNNING, COMPLETED, CANCELLED, FAILED\]/,
    );
    assert.equal((await old.call("GET", "/operations?type=snapshot")).status, 400);
    const v3 = await start(t, { version: "3.0.0" });
    await v3.submit(BACKUP);
    assert.deepEqual((await v3.call("GET", "/operations?state=DONE")).json, []);
  });

  const notFound: [string, string, string][] = [
    ["unknown id", "GET", `/operations/${randomUUID()}`],
    ["not a UUID", "GET", "/operations/42"],
    ["unmatched path", "GET", "/backups"],
  ];
  for (const [name, method, path] of notFound) {
    test(`${name}: 500 "HTTP 404 Not Found"`, async (t) => {
      const { call } = await start(t);
      const r = await call(method, path);
      assert.equal(r.status, 500);
      assert.equal(r.text, "HTTP 404 Not Found");
    });
  }

  test("a wrong method: 500 HTTP 405", async (t) => {
    const { call } = await start(t);
    const r = await call("PUT", "/operations", "{}");
    assert.deepEqual([r.status, r.text], [500, "HTTP 405 Method Not Allowed"]);
  });

  test("DELETE: 202 and CANCELLED at the next step; 404 for an unknown id", async (t) => {
    const { d, call, submit } = await start(t);
    const { id } = await submit(BACKUP);
    const del = await call("DELETE", `/operations/${id}`);
    assert.deepEqual([del.status, del.text], [202, ""]);
    const r = await call("GET", `/operations/${id}`);
    assert.equal(r.json.state, "CANCELLED");
    assert.equal(r.json.progress, 1);
    assert.equal(d.operation(String(id))?.state, "CANCELLED");
    assert.equal((await call("DELETE", `/operations/${randomUUID()}`)).status, 404);
  });

  test("terminal operations expire one hour after completionTime; running ones never", async (t) => {
    let now = T0;
    const { d, call, submit } = await start(t, { now: () => now, mode: "hold" });
    const done = String((await submit(BACKUP)).id);
    const running = String((await submit(BACKUP)).id);
    d.complete(done);
    d.start(running);
    now += 3_600_001;
    assert.equal((await call("GET", `/operations/${done}`)).status, 500);
    assert.equal((await call("GET", `/operations/${running}`)).json.state, "RUNNING");
    assert.deepEqual(
      d.operations().map((o) => o.id),
      [running],
    );
  });

  test("GET /version and /status", async (t) => {
    const { call } = await start(t, { version: "cassandra-sidecar 1.1.0", gitCommit: "abc" });
    assert.deepEqual((await call("GET", "/version")).json, {
      version: "cassandra-sidecar 1.1.0",
      buildTime: "unknown",
      gitCommit: "abc",
    });
    assert.deepEqual((await call("GET", "/status")).json, { nodeState: "NORMAL" });
  });
});

describe("faults", () => {
  test("failNext answers the matching requests only, then lets them through", async (t) => {
    const { d, call } = await start(t);
    d.failNext(1, 503, "busy", { match: { method: "GET", path: "/version" } });
    assert.equal((await call("GET", "/status")).status, 200);
    assert.deepEqual(
      [(await call("GET", "/version")).status, (await call("GET", "/version")).status],
      [503, 200],
    );
  });

  test("slowNext still answers", async (t) => {
    const { d, call } = await start(t);
    d.slowNext(1, 20);
    assert.equal((await call("GET", "/version")).status, 200);
  });

  test("hangNext never answers; close ends it", async (t) => {
    const { d } = await start(t);
    d.hangNext(1);
    const pending = fetch(`${d.url}/version`).then(
      () => "answered",
      () => "cut",
    );
    while (d.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await d.close();
    assert.equal(await pending, "cut");
  });

  test("loseNext carries the request out and cuts the connection", async (t) => {
    const { d } = await start(t);
    d.loseNext(1);
    await assert.rejects(
      fetch(`${d.url}/operations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(BACKUP),
      }),
    );
    assert.equal(d.operations().length, 1);
  });

  test("refuse closes the port and reopens it on the same port", async (t) => {
    const { d, call } = await start(t);
    await d.refuse(true);
    await assert.rejects(fetch(`${d.url}/version`), (e: Error) => {
      assert.equal((e.cause as NodeJS.ErrnoException | undefined)?.code, "ECONNREFUSED");
      return true;
    });
    await d.refuse(false);
    assert.equal((await call("GET", "/version")).status, 200);
  });

  test("failHalfway: RUNNING at 0.5, then FAILED with an upload error", async (t) => {
    const { d, submit } = await start(t, { mode: "hold" });
    d.failHalfway();
    const { id } = await submit(BACKUP);
    assert.equal(d.advance(String(id)).progress, 0.5);
    const failed = d.advance(String(id));
    assert.equal(failed.state, "FAILED");
    assert.match(failed.errors[0]?.message ?? "", /^Unable to upload some files successfully: /);
  });
});
