// The requests casskeeper sends, rule by rule against CassKop's mapping (reference/operators.md §1.5, §1.6), and
// a property: whatever valid CassandraBackup (and restore of it) a user writes, the sidecar double accepts the
// request and the operation completes.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { CasskeeperError } from "../../src/core/errors.ts";
import { parseRetention } from "../../src/core/rules/backup.ts";
import type {
  CassandraBackup,
  CassandraBackupSpec,
  CassandraRestore,
  CassandraRestoreSpec,
} from "../../src/core/types.ts";
import type { Operation, SidecarApi } from "../../src/runner/model.ts";
import {
  backupRequest,
  backupRequestWarnings,
  casskopEntities,
  RESTORE_SOURCE_DIR,
  removeBackupRequest,
  restoreRequest,
} from "../../src/runner/requests.ts";
import { createSidecarClient } from "../../src/runner/sidecar-client.ts";
import { type SidecarDouble, startSidecarDouble } from "../support/sidecar-double.ts";

const backup = (spec: CassandraBackupSpec, namespace = "prod"): CassandraBackup => ({
  apiVersion: "db.orange.com/v1alpha1",
  kind: "CassandraBackup",
  metadata: { name: "daily", namespace },
  spec: { cassandraCluster: "cassandra", storageLocation: "s3://cassie", snapshotTag: "daily", ...spec },
});

const restore = (spec: CassandraRestoreSpec): CassandraRestore => ({
  apiVersion: "db.orange.com/v1alpha1",
  kind: "CassandraRestore",
  metadata: { name: "r1", namespace: "prod" },
  spec: { cassandraCluster: "cassandra", cassandraBackup: "daily", ...spec },
});

describe("backupRequest: CassKop PerformBackup", () => {
  test("the whole body, in CassKop's field order", () => {
    const req = backupRequest(
      backup({
        datacenter: "dc1",
        duration: "15m",
        bandwidth: "10M",
        concurrentConnections: 15,
        entities: "k1.t1,k2.t3",
        secret: "cloud-backup-secrets",
      }),
      "prod",
    );
    assert.deepEqual(
      JSON.stringify(req),
      JSON.stringify({
        type: "backup",
        storageLocation: "s3://cassie",
        snapshotTag: "daily",
        duration: "15m",
        bandwidth: { value: 10, unit: "MBPS" },
        concurrentConnections: 15,
        entities: "k1.t1,k2.t3",
        k8sSecretName: "cloud-backup-secrets",
        dc: "dc1",
        globalRequest: true,
        k8sNamespace: "prod",
      }),
    );
  });

  test("the minimum: everything omitempty left out, globalRequest and k8sNamespace always", () => {
    assert.deepEqual(backupRequest(backup({}), "team-a"), {
      type: "backup",
      storageLocation: "s3://cassie",
      snapshotTag: "daily",
      globalRequest: true,
      k8sNamespace: "team-a",
    });
  });

  const bandwidth: [string, string, unknown][] = [
    // (M suffix) → MBPS
    ["10M", "10M", { value: 10, unit: "MBPS" }],
    // (no suffix) → bytes per second
    ["plain", "1024", { value: 1024, unit: "BPS" }],
    // (lower case, spaces removed) → GBPS
    ["spaces, lower case", " 2 g ", { value: 2, unit: "GBPS" }],
    ["k", "512k", { value: 512, unit: "KBPS" }],
    // (not \d+[kmg]?) → left out, as CassKop ignores the parse error
    ["MB", "10MB", undefined],
    ["words", "fast", undefined],
    ["decimal", "1.5G", undefined],
    // (empty) → unset
    ["empty", "", undefined],
  ];
  for (const [name, value, expected] of bandwidth) {
    test(`bandwidth: ${name}`, () =>
      assert.deepEqual(backupRequest(backup({ bandwidth: value }), "p").bandwidth, expected));
  }

  const entities: [string, string, string | undefined][] = [
    // (commas) → as written
    ["commas", "k1,k2", "k1,k2"],
    // (spaces, newlines, runs of commas) → one comma each, CassKop's [\s,]+
    ["white space", " k1.t1 ,, k2.t3\n\tk3.t4 ", "k1.t1,k2.t3,k3.t4"],
    // (duplicates, order) → kept: the sidecar sees what CassKop sent
    ["duplicates kept", "k2 k1 k2", "k2,k1,k2"],
    // (only separators) → left out: all keyspaces
    ["blank", " , ", undefined],
    ["empty", "", undefined],
  ];
  for (const [name, value, expected] of entities) {
    test(`entities: ${name}`, () =>
      assert.equal(backupRequest(backup({ entities: value }), "p").entities, expected));
  }

  const omitted: [string, CassandraBackupSpec, keyof ReturnType<typeof backupRequest>][] = [
    // (0 connections) → omitted, the sidecar's 10 applies
    ["concurrentConnections 0", { concurrentConnections: 0 }, "concurrentConnections"],
    // (fractional) → omitted (CassKop could not even read it)
    ["concurrentConnections 2.5", { concurrentConnections: 2.5 }, "concurrentConnections"],
    // (empty secret) → omitted: the sidecar's default secret name applies
    ["secret empty", { secret: "" }, "k8sSecretName"],
    ["datacenter empty", { datacenter: "" }, "dc"],
    ["duration empty", { duration: "" }, "duration"],
  ];
  for (const [name, spec, key] of omitted) {
    test(`omitted: ${name}`, () => assert.equal(key in backupRequest(backup(spec), "p"), false));
  }

  test("a missing storageLocation or snapshotTag throws instead of sending an empty string", () => {
    for (const spec of [{ storageLocation: "" }, { snapshotTag: undefined }]) {
      assert.throws(
        () => backupRequest(backup(spec), "p"),
        (e) => e instanceof CasskeeperError && e.code === "request-invalid" && e.stage === "runner",
      );
    }
  });

  test("warnings: what CassKop dropped silently", () => {
    assert.deepEqual(backupRequestWarnings(backup({ bandwidth: "10M", concurrentConnections: 4 })), []);
    assert.deepEqual(backupRequestWarnings(backup({ bandwidth: "  " })), []);
    const [w] = backupRequestWarnings(backup({ bandwidth: "10MB" }));
    assert.match(w ?? "", /^spec\.bandwidth "10MB" .*without a bandwidth limit/);
    assert.match(backupRequestWarnings(backup({ concurrentConnections: 2.5 }))[0] ?? "", /not an integer/);
  });

  test("casskopEntities keeps Go's TrimSpace (Unicode) but splits on ASCII white space only", () => {
    assert.equal(casskopEntities("\u00a0k1, k2\u00a0"), "k1,k2");
    assert.equal(casskopEntities("k1\u00a0k2"), "k1\u00a0k2");
    assert.equal(casskopEntities(undefined), "");
  });
});

describe("restoreRequest: CassKop PerformRestore", () => {
  const b = backup({
    storageLocation: "gcp://bucket",
    snapshotTag: "weekly",
    entities: "k1, k2",
    secret: "bsecret",
  });

  test("fixed fields, and storageLocation/snapshotTag from the backup", () => {
    assert.deepEqual(restoreRequest(restore({}), b), {
      type: "restore",
      storageLocation: "gcp://bucket",
      snapshotTag: "weekly",
      restorationPhase: "INIT",
      globalRequest: true,
      import: { type: "import", sourceDir: RESTORE_SOURCE_DIR },
      entities: "k1,k2",
      k8sSecretName: "bsecret",
      restorationStrategyType: "HARDLINKS",
      resolveHostIdFromTopology: true,
    });
    assert.equal(RESTORE_SOURCE_DIR, "/var/lib/cassandra/downloadedsstables");
  });

  test("every restore field, in CassKop's order; no k8sNamespace (the sidecar's own namespace is used)", () => {
    const req = restoreRequest(
      restore({
        datacenter: "dc2",
        entities: "k1.t1",
        rename: { "k1.t1": "k1.t2" },
        secret: "rsecret",
        concurrentConnection: 20,
        cassandraDirectory: "/var/lib/cassandra",
        noDeleteTruncates: true,
        schemaVersion: "6f5e9841-4f97-3198-9398-161b445b3954",
        exactSchemaVersion: true,
      }),
      b,
    );
    assert.equal(
      JSON.stringify(req),
      JSON.stringify({
        type: "restore",
        dc: "dc2",
        storageLocation: "gcp://bucket",
        snapshotTag: "weekly",
        noDeleteTruncates: true,
        exactSchemaVersion: true,
        restorationPhase: "INIT",
        globalRequest: true,
        import: { type: "import", sourceDir: RESTORE_SOURCE_DIR },
        entities: "k1.t1",
        rename: { "k1.t1": "k1.t2" },
        k8sSecretName: "rsecret",
        cassandraDirectory: "/var/lib/cassandra",
        schemaVersion: "6f5e9841-4f97-3198-9398-161b445b3954",
        restorationStrategyType: "HARDLINKS",
        resolveHostIdFromTopology: true,
        concurrentConnections: 20,
      }),
    );
    assert.equal("k8sNamespace" in req, false);
  });

  const entities: [string, string | undefined, string | undefined, string | undefined][] = [
    // (restore's entities) → used
    ["restore's", "k9", "k1,k2", "k9"],
    // (restore's empty) → the backup's
    ["backup's", "", "k1 k2", "k1,k2"],
    ["absent", undefined, "k1,k2", "k1,k2"],
    // (restore's blank: not "" for CassKop) → not substituted, formats to nothing: all keyspaces
    ["blank is not empty", "  ", "k1,k2", undefined],
    // (both empty) → omitted
    ["both empty", "", "", undefined],
  ];
  for (const [name, r, bk, expected] of entities) {
    test(`entities: ${name}`, () =>
      assert.equal(restoreRequest(restore({ entities: r }), backup({ entities: bk })).entities, expected));
  }

  const omitted: [string, CassandraRestoreSpec, string][] = [
    ["noDeleteTruncates false", { noDeleteTruncates: false }, "noDeleteTruncates"],
    ["exactSchemaVersion false", { exactSchemaVersion: false }, "exactSchemaVersion"],
    ["rename empty", { rename: {} }, "rename"],
    ["concurrentConnection 0", { concurrentConnection: 0 }, "concurrentConnections"],
    ["schemaVersion empty", { schemaVersion: "" }, "schemaVersion"],
    ["cassandraDirectory empty", { cassandraDirectory: "" }, "cassandraDirectory"],
  ];
  for (const [name, spec, key] of omitted) {
    test(`omitted: ${name}`, () => assert.equal(key in restoreRequest(restore(spec), backup({})), false));
  }

  test("secret: the restore's, else the backup's, else none", () => {
    assert.equal(restoreRequest(restore({ secret: "r" }), backup({ secret: "b" })).k8sSecretName, "r");
    assert.equal(restoreRequest(restore({ secret: "" }), backup({ secret: "b" })).k8sSecretName, "b");
    assert.equal("k8sSecretName" in restoreRequest(restore({}), backup({})), false);
  });

  test("a backup without storageLocation cannot be restored", () => {
    assert.throws(
      () => restoreRequest(restore({}), backup({ storageLocation: undefined })),
      /storageLocation/,
    );
  });
});

describe("removeBackupRequest", () => {
  test("by name (count retention)", () => {
    const name = "daily-6f5e9841-4f97-3198-9398-161b445b3954-1604922565811";
    assert.deepEqual(removeBackupRequest(backup({ secret: "s" }), { backupName: name }), {
      type: "remove-backup",
      storageLocation: "s3://cassie",
      k8sNamespace: "prod",
      k8sSecretName: "s",
      backupName: name,
      resolveNodes: true,
      globalRequest: true,
    });
  });

  const ages: [string, string, unknown][] = [
    // (days) → DAYS
    ["14d", "14d", { value: 14, unit: "DAYS" }],
    // (weeks) → DAYS
    ["2w", "2w", { value: 14, unit: "DAYS" }],
    // (hours, not whole days) → HOURS
    ["36h", "36h", { value: 36, unit: "HOURS" }],
    // (hours, whole days) → DAYS
    ["48h", "48h", { value: 2, unit: "DAYS" }],
  ];
  for (const [name, value, expected] of ages) {
    test(`by age: ${name}`, () => {
      const retention = parseRetention(value);
      assert.ok(retention?.kind === "age");
      const req = removeBackupRequest(backup({}), retention);
      assert.deepEqual(req.olderThan, expected);
      assert.equal("backupName" in req, false);
    });
  }

  test("namespace: explicit, else the backup's, else none; no secret → omitted", () => {
    assert.equal(removeBackupRequest(backup({}), { backupName: "x" }, "other").k8sNamespace, "other");
    const bare: CassandraBackup = { spec: { storageLocation: "s3://b" } };
    const req = removeBackupRequest(bare, { backupName: "x" });
    assert.equal("k8sNamespace" in req, false);
    assert.equal("k8sSecretName" in req, false);
  });

  test("an empty name or a non-positive age is refused", () => {
    assert.throws(() => removeBackupRequest(backup({}), { backupName: "" }), CasskeeperError);
    assert.throws(() => removeBackupRequest(backup({}), { kind: "age", hours: 0 }), CasskeeperError);
  });

  test("icarus 2.0.2 accepts both forms and completes them", async (t) => {
    const double = await startSidecarDouble({ version: "2.0.2", autoAfterGets: 1 });
    t.after(() => double.close());
    const client = createSidecarClient({ baseUrl: double.url });
    for (const target of [{ backupName: "daily-x-1" }, { kind: "age" as const, hours: 336 }]) {
      const op = await client.submit(removeBackupRequest(backup({}), target));
      assert.equal((await client.get(op.id))?.state, "COMPLETED");
    }
  });
});

// ---- property ------------------------------------------------------------------------------------------------

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);
const bucket = fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,20}$/);
const separator = fc.constantFrom(",", ", ", " ", "\n", " ,, ", "\t,");

const storageLocation = fc.oneof(
  fc
    .tuple(fc.constantFrom("s3", "gcp", "azure", "oracle", "minio", "ceph"), bucket)
    .map(([p, b]) => `${p}://${b}`),
  fc
    .tuple(fc.constantFrom("s3", "gcp", "azure"), bucket, name, name, name)
    .map(([p, b, c, d, n]) => `${p}://${b}/${c}/${d}/${n}`),
  fc.tuple(name, bucket, name, name, name).map(([dir, b, c, d, n]) => `file:///${dir}/${b}/${c}/${d}/${n}`),
);

/** Keyspaces only or tables only (the sidecar refuses a mix), written with any of CassKop's separators. */
const entities = fc.oneof(
  fc.constant(""),
  fc.tuple(fc.array(name, { minLength: 1, maxLength: 4 }), separator).map(([ks, sep]) => ks.join(sep)),
  fc
    .tuple(fc.array(fc.tuple(name, name), { minLength: 1, maxLength: 4 }), separator)
    .map(([ts, sep]) => ts.map(([k, t]) => `${k}.${t}`).join(sep)),
);

/** A CassandraBackup the rules accept, without `duration` (no icarus reads CassKop's string, sidecar.md §2.1 ⚠1). */
const validBackup: fc.Arbitrary<CassandraBackup> = fc
  .record(
    {
      storageLocation,
      snapshotTag: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
      datacenter: name,
      bandwidth: fc.oneof(
        fc.integer({ min: 1, max: 100_000 }).map(String),
        fc
          .tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom("k", "M", "g", "G"))
          .map(([n, u]) => `${n}${u}`),
      ),
      concurrentConnections: fc.integer({ min: 1, max: 100 }),
      entities,
      secret: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
      schedule: fc.constantFrom("@daily", "0 3 * * *", "CRON_TZ=Europe/Paris 30 1 * * 1-5"),
    },
    { requiredKeys: ["storageLocation", "snapshotTag"] },
  )
  .map((spec) => backup(spec));

/** A restore of such a backup, with the restore fields a user may set. */
const restoreOf = (b: CassandraBackup): fc.Arbitrary<CassandraRestore> =>
  fc
    .record(
      {
        datacenter: name,
        secret: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        concurrentConnection: fc.integer({ min: 1, max: 100 }),
        cassandraDirectory: fc.constant("/var/lib/cassandra"),
        noDeleteTruncates: fc.boolean(),
        schemaVersion: fc.uuid(),
        exactSchemaVersion: fc.boolean(),
        rename: fc.constant({ "k1.t1": "k1.t2" }),
        entities: fc.constant(b.spec?.entities ?? ""),
      },
      { requiredKeys: [] },
    )
    .map((spec) => restore(spec));

describe("property: the double accepts and completes what casskeeper sends", () => {
  let double: SidecarDouble;
  let client: SidecarApi;
  before(async () => {
    double = await startSidecarDouble({ autoAfterGets: 1 });
    client = createSidecarClient({ baseUrl: double.url, retries: 0 });
  });
  after(() => double.close());

  async function completes(request: Parameters<SidecarApi["submit"]>[0]): Promise<Operation> {
    const submitted = await client.submit(request);
    assert.equal(submitted.state, "PENDING");
    const op = await client.get(submitted.id);
    assert.equal(op?.state, "COMPLETED", JSON.stringify(op?.errors));
    assert.deepEqual(op?.errors, []);
    return op;
  }

  test("backups, and restores of them", async () => {
    await fc.assert(
      fc.asyncProperty(
        validBackup.chain((b) => fc.tuple(fc.constant(b), restoreOf(b))),
        async ([b, r]) => {
          const req = backupRequest(b, "prod");
          const op = await completes(req);
          assert.ok(op.snapshotTag?.startsWith(`${req.snapshotTag}-`));
          assert.equal(op.raw.entities, req.entities ?? "");
          assert.equal(op.raw.globalRequest, true);
          await completes(restoreRequest(r, b));
        },
      ),
      { numRuns: 60 },
    );
  });
});
