// The API double answers the real client-node as the API server would, for what it claims to model
// (its file header): discovery, errors as Status bodies, optimistic concurrency, patches, the status
// subresource, finalizers, selectors, paging, watches, server-side apply and field ownership.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import { type KubeApiDouble, startKubeApiDouble } from "../support/kube-api-double.ts";
import { eventually } from "../support/kube-fake-clock.ts";

let double: KubeApiDouble;
let core: CoreV1Api;
let crs: CustomObjectsApi;
before(async () => {
  double = await startKubeApiDouble({ unserved: ["casskeeper.io"] });
  core = double.kubeConfig().makeApiClient(CoreV1Api);
  crs = double.kubeConfig().makeApiClient(CustomObjectsApi);
});
after(() => double.close());

const G = { group: "db.orange.com", version: "v2", plural: "cassandrabackups" };

async function failure(
  call: () => Promise<unknown>,
): Promise<{ code: number; reason: unknown; message: unknown }> {
  try {
    await call();
  } catch (e) {
    assert.ok(e instanceof ApiException, String(e));
    const raw: unknown = typeof e.body === "string" ? JSON.parse(e.body) : e.body;
    const body = raw as { kind: string; reason: unknown; message: unknown; code: number };
    assert.equal(body.kind, "Status");
    assert.equal(body.code, e.code);
    return { code: e.code, reason: body.reason, message: body.message };
  }
  assert.fail("expected a failure");
}

test("errors are Status bodies with the real server's code, reason and message", async () => {
  await core.createNamespacedSecret({ namespace: "e", body: { metadata: { name: "s" } } });
  const stale = (await core.readNamespacedSecret({ namespace: "e", name: "s" })).metadata?.resourceVersion;
  await core.replaceNamespacedSecret({
    namespace: "e",
    name: "s",
    body: { metadata: { name: "s", resourceVersion: stale }, data: { a: "YQ==" } },
  });
  const cases: [string, () => Promise<unknown>, number, string, RegExp][] = [
    // get of a missing object
    [
      "missing",
      () => core.readNamespacedSecret({ namespace: "e", name: "nope" }),
      404,
      "NotFound",
      /^secrets "nope" not found$/,
    ],
    // create of an existing name
    [
      "exists",
      () => core.createNamespacedSecret({ namespace: "e", body: { metadata: { name: "s" } } }),
      409,
      "AlreadyExists",
      /already exists/,
    ],
    // update with a resourceVersion someone else moved past
    [
      "stale update",
      () =>
        core.replaceNamespacedSecret({
          namespace: "e",
          name: "s",
          body: { metadata: { name: "s", resourceVersion: stale } },
        }),
      409,
      "Conflict",
      /^Operation cannot be fulfilled on secrets "s": the object has been modified/,
    ],
    // a JSON patch whose test fails
    [
      "json patch test",
      () =>
        core.patchNamespacedSecret(
          {
            namespace: "e",
            name: "s",
            body: [{ op: "test", path: "/metadata/resourceVersion", value: stale }],
          },
          setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
        ),
      422,
      "Invalid",
      /test/,
    ],
    // strategic merge patch is not modeled (the real server takes it for built-in types only)
    [
      "strategic merge",
      () =>
        core.patchNamespacedSecret(
          { namespace: "e", name: "s", body: { metadata: { name: "s" } } },
          setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
        ),
      415,
      "UnsupportedMediaType",
      /unknown format/,
    ],
    // a group whose CRDs are not installed
    [
      "unserved",
      () =>
        crs.listClusterCustomObject({
          group: "casskeeper.io",
          version: "v1alpha1",
          plural: "backuppolicysources",
        }),
      404,
      "NotFound",
      /could not find/,
    ],
  ];
  for (const [what, p, code, reason, message] of cases) {
    const f = await failure(p);
    assert.equal(f.code, code, what);
    assert.equal(f.reason, reason, what);
    assert.match(String(f.message), message, what);
  }
  // The wrong token (client-node drops the body of a 401, so ask directly).
  const res = await fetch(`${double.url}/api/v1/namespaces`, { headers: { authorization: "Bearer wrong" } });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: "Unauthorized",
    reason: "Unauthorized",
    code: 401,
  });
});

test("discovery is enough for client-node's generic object API", async () => {
  const objects = KubernetesObjectApi.makeApiClient(double.kubeConfig());
  await objects.create({
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraBackup",
    metadata: { namespace: "d", name: "b" },
    spec: { cassandraCluster: "c" },
  } as never);
  const read = await objects.read({
    apiVersion: "db.orange.com/v2",
    kind: "CassandraBackup",
    metadata: { namespace: "d", name: "b" },
  });
  assert.equal(read.apiVersion, "db.orange.com/v2", "served under the version asked (no conversion)");
  const webhooks = await objects.list("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration");
  assert.deepEqual(webhooks.items, []);
});

test("resourceVersion increases with every write; merge patch; status subresource; generation", async () => {
  const body = {
    apiVersion: "db.orange.com/v2",
    kind: "CassandraBackup",
    metadata: { name: "g" },
    spec: { snapshotTag: "a" },
  };
  const created = (await crs.createNamespacedCustomObject({ ...G, namespace: "g", body })) as {
    metadata: { resourceVersion: string; generation: number };
  };
  assert.equal(created.metadata.generation, 1);
  // The main resource ignores status.
  const withStatus = (await crs.patchNamespacedCustomObject(
    {
      ...G,
      namespace: "g",
      name: "g",
      body: { spec: { snapshotTag: "b" }, status: { condition: { type: "X" } } },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  )) as { metadata: { resourceVersion: string; generation: number }; status?: unknown; spec: unknown };
  assert.ok(Number(withStatus.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
  assert.equal(withStatus.status, undefined);
  assert.deepEqual(withStatus.spec, { snapshotTag: "b" });
  assert.equal(withStatus.metadata.generation, 2);
  // /status ignores everything but status, and does not bump the generation.
  const status = (await crs.patchNamespacedCustomObjectStatus(
    {
      ...G,
      namespace: "g",
      name: "g",
      body: { spec: { snapshotTag: "c" }, status: { condition: { type: "DONE" } } },
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  )) as { metadata: { generation: number }; status: unknown; spec: unknown };
  assert.deepEqual(status.status, { condition: { type: "DONE" } });
  assert.deepEqual(status.spec, { snapshotTag: "b" });
  assert.equal(status.metadata.generation, 2);
});

test("finalizers hold a deleted object until they are removed", async () => {
  await core.createNamespacedConfigMap({
    namespace: "f",
    body: { metadata: { name: "cm", finalizers: ["x/y"] } },
  });
  await core.deleteNamespacedConfigMap({ namespace: "f", name: "cm" });
  const held = await core.readNamespacedConfigMap({ namespace: "f", name: "cm" });
  assert.ok(held.metadata?.deletionTimestamp !== undefined);
  await core.replaceNamespacedConfigMap({
    namespace: "f",
    name: "cm",
    body: { ...held, metadata: { ...held.metadata, finalizers: [] } },
  });
  const f = await failure(() => core.readNamespacedConfigMap({ namespace: "f", name: "cm" }));
  assert.equal(f.code, 404);
});

test("label and field selectors, paging with continue", async () => {
  for (let i = 0; i < 5; i++) {
    await core.createNamespacedConfigMap({
      namespace: "p",
      body: { metadata: { name: `c${i}`, labels: { even: String(i % 2 === 0) } } },
    });
  }
  const even = await core.listNamespacedConfigMap({ namespace: "p", labelSelector: "even=true" });
  assert.deepEqual(
    even.items.map((c) => c.metadata?.name),
    ["c0", "c2", "c4"],
  );
  const named = await core.listNamespacedConfigMap({ namespace: "p", fieldSelector: "metadata.name!=c0" });
  assert.equal(named.items.length, 4);
  const page1 = await core.listNamespacedConfigMap({ namespace: "p", limit: 2 });
  const page2 = await core.listNamespacedConfigMap({
    namespace: "p",
    limit: 2,
    _continue: page1.metadata?._continue,
  });
  assert.deepEqual(
    [...page1.items, ...page2.items].map((c) => c.metadata?.name),
    ["c0", "c1", "c2", "c3"],
  );
  assert.equal(page1.metadata?.remainingItemCount, 3);
  assert.equal(page1.items[0]?.kind, undefined, "built-in list items carry no kind, as on the wire");
});

test("client-node's Watch sees ADDED, MODIFIED, DELETED in order, then 410 Expired from a compacted version", async () => {
  const start = double.resourceVersion();
  await core.createNamespacedSecret({ namespace: "w", body: { metadata: { name: "s" } } });
  await core.patchNamespacedSecret(
    { namespace: "w", name: "s", body: { data: { k: "dg==" } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  await core.deleteNamespacedSecret({ namespace: "w", name: "s" });
  const seen: string[] = [];
  let ended = false;
  await new Watch(double.kubeConfig()).watch(
    "/api/v1/namespaces/w/secrets",
    { resourceVersion: start },
    (type, obj: { metadata?: { name?: string }; code?: number }) =>
      seen.push(`${type} ${obj.metadata?.name ?? obj.code}`),
    () => {
      ended = true;
    },
  );
  await eventually("three events", () => seen.length === 3);
  assert.deepEqual(seen, ["ADDED s", "MODIFIED s", "DELETED s"]);
  double.dropWatches();

  double.compact();
  const expired: string[] = [];
  await new Watch(double.kubeConfig()).watch(
    "/api/v1/secrets",
    { resourceVersion: start },
    (type, obj: { code?: number; reason?: string }) => expired.push(`${type} ${obj.code} ${obj.reason}`),
    () => {},
  );
  await eventually("expired", () => expired.length === 1);
  assert.deepEqual(expired, ["ERROR 410 Expired"]);
  assert.ok(ended);
});

// ---------------------------------------------------------------------------------------------------------
// Server-side apply and field ownership

const V1A1 = { group: "db.orange.com", version: "v1alpha1", plural: "cassandrabackups" };
const APPLY_CT = "application/apply-patch+yaml";

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}
interface Wire {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: unknown;
  metadata: {
    resourceVersion: string;
    generation: number;
    labels?: Record<string, string>;
    managedFields?: Entry[];
  };
  spec?: Record<string, unknown>;
  status?: unknown;
}

function backup(
  ns: string,
  name: string,
  spec: Record<string, unknown>,
  labels?: Record<string, string>,
): Record<string, unknown> & { metadata: { name: string; namespace?: string } } {
  return {
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraBackup",
    metadata: { name, namespace: ns, ...(labels === undefined ? {} : { labels }) },
    spec,
  };
}

/** One request on the wire (status code and the JSON body exactly as sent), bypassing client-node. */
async function wire(
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string; query?: Record<string, string> } = {},
): Promise<{ status: number; body: Wire }> {
  const url = new URL(double.url + path);
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const res = await fetch(url, {
    method,
    headers: {
      authorization: `Bearer ${double.token}`,
      ...(opts.contentType === undefined ? {} : { "content-type": opts.contentType }),
    },
    ...(opts.body === undefined
      ? {}
      : { body: typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body) }),
  });
  return { status: res.status, body: (await res.json()) as Wire };
}

const backupPath = (ns: string, name = "") =>
  `/apis/db.orange.com/v1alpha1/namespaces/${ns}/cassandrabackups${name === "" ? "" : `/${name}`}`;

/** Server-side apply through the real client-node, as casskeeper's callers would. */
async function apply(
  ns: string,
  obj: Record<string, unknown> & { metadata: { name: string; namespace?: string } },
  fieldManager: string,
  opts: { force?: boolean; dryRun?: boolean } = {},
): Promise<Wire> {
  return (await crs.patchNamespacedCustomObject(
    {
      ...V1A1,
      namespace: ns,
      name: obj.metadata.name,
      body: obj,
      fieldManager,
      ...(opts.force === undefined ? {} : { force: opts.force }),
      ...(opts.dryRun === true ? { dryRun: "All" } : {}),
    },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  )) as Wire;
}

/** Who owns what: manager/operation → the leaf paths of its fieldsV1 (`.spec.schedule`). */
function owners(o: Wire): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const e of o.metadata.managedFields ?? []) {
    const paths: string[] = [];
    const walk = (node: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(node)) {
        if (!k.startsWith("f:")) continue;
        const p = `${prefix}.${k.slice(2)}`;
        const kids = Object.keys(v as object).filter((c) => c !== ".");
        if (kids.length === 0) paths.push(p);
        else walk(v as Record<string, unknown>, p);
      }
    };
    walk(e.fieldsV1, "");
    out[`${e.manager}/${e.operation}${e.subresource === undefined ? "" : `/${e.subresource}`}`] =
      paths.sort();
  }
  return out;
}

test("apply creates, a re-apply changes nothing, each change is one write, omitted fields are removed", async () => {
  const ns = "ssa-steps";
  const spec = { schedule: "@daily", keyspaces: ["a", "b"], storage: { bucket: "x", region: "eu" } };
  // [step, spec applied, labels applied, HTTP status, wrote, generation after, spec after, labels after]
  const steps: [
    string,
    Record<string, unknown>,
    Record<string, string> | undefined,
    number,
    boolean,
    number,
    Record<string, unknown>,
    Record<string, string> | undefined,
  ][] = [
    // (absent object) → created by the apply
    ["create", spec, { team: "db" }, 201, true, 1, spec, { team: "db" }],
    // (the same document again) → no write, same resourceVersion
    ["no-op", spec, { team: "db" }, 200, false, 1, spec, { team: "db" }],
    // (one spec value changed) → one write, generation bumps
    [
      "change",
      { ...spec, schedule: "@hourly" },
      { team: "db" },
      200,
      true,
      2,
      { ...spec, schedule: "@hourly" },
      { team: "db" },
    ],
    // (a list with one item changed) → lists are atomic: replaced whole
    [
      "list",
      { ...spec, schedule: "@hourly", keyspaces: ["c"] },
      { team: "db" },
      200,
      true,
      3,
      { ...spec, schedule: "@hourly", keyspaces: ["c"] },
      { team: "db" },
    ],
    // (spec.storage.region and the label left out) → removed: nobody else owns them
    [
      "omit",
      { schedule: "@hourly", keyspaces: ["c"], storage: { bucket: "x" } },
      undefined,
      200,
      true,
      4,
      { schedule: "@hourly", keyspaces: ["c"], storage: { bucket: "x" } },
      undefined,
    ],
    // (a label added back, spec unchanged) → a write without a generation bump
    [
      "label",
      { schedule: "@hourly", keyspaces: ["c"], storage: { bucket: "x" } },
      { team: "ops" },
      200,
      true,
      4,
      { schedule: "@hourly", keyspaces: ["c"], storage: { bucket: "x" } },
      { team: "ops" },
    ],
  ];
  let rv = "";
  for (const [step, applied, labels, status, wrote, generation, specAfter, labelsAfter] of steps) {
    double.resetCounts();
    const res = await wire("PATCH", backupPath(ns, "b"), {
      body: backup(ns, "b", applied, labels),
      contentType: APPLY_CT,
      query: { fieldManager: "casskeeper" },
    });
    assert.equal(res.status, status, step);
    assert.equal(double.writes(), wrote ? 1 : 0, step);
    assert.equal(
      res.body.metadata.resourceVersion !== rv,
      wrote,
      `${step}: resourceVersion moves iff written`,
    );
    rv = res.body.metadata.resourceVersion;
    assert.equal(res.body.metadata.generation, generation, step);
    assert.deepEqual(res.body.spec, specAfter, step);
    assert.deepEqual(res.body.metadata.labels, labelsAfter, step);
    const [r] = double.requests;
    assert.equal(r?.verb, "patch", `${step}: apply is a patch in the request log`);
    assert.equal(r?.contentType, APPLY_CT, step);
    assert.equal(r?.fieldManager, "casskeeper", step);
  }
});

test("managedFields have the real shape: Apply under the applier, Update under fieldManager or the user agent", async () => {
  const ns = "ssa-shape";
  await apply(ns, backup(ns, "b", { schedule: "@daily", keyspaces: ["a"] }, { team: "db" }), "casskeeper");
  await crs.patchNamespacedCustomObject(
    { ...V1A1, namespace: ns, name: "b", body: { spec: { snapshotTag: "t" } }, fieldManager: "editor" },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  await crs.patchNamespacedCustomObject(
    { ...V1A1, namespace: ns, name: "b", body: { metadata: { annotations: { note: "n" } } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  const got = (await wire("GET", backupPath(ns, "b"))).body;
  const fields = got.metadata.managedFields ?? [];
  assert.equal(fields.length, 3);
  const [applied, ...updates] = fields;
  assert.match(applied?.time ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.deepEqual(
    { ...applied, time: "" },
    {
      manager: "casskeeper",
      operation: "Apply",
      apiVersion: "db.orange.com/v1alpha1",
      time: "",
      fieldsType: "FieldsV1",
      fieldsV1: {
        "f:metadata": { "f:labels": { "f:team": {} } },
        "f:spec": { "f:keyspaces": {}, "f:schedule": {} },
      },
    },
  );
  // Update entries: the fieldManager parameter, else the user agent's product name (client-node's).
  assert.deepEqual(
    updates.map((e) => [e.manager, e.operation, e.apiVersion, e.fieldsV1]).sort(),
    [
      ["editor", "Update", "db.orange.com/v1alpha1", { "f:spec": { "f:snapshotTag": {} } }],
      [
        "kubernetes-client-javascript",
        "Update",
        "db.orange.com/v1alpha1",
        { "f:metadata": { "f:annotations": { "f:note": {} } } },
      ],
    ].sort(),
  );
});

test("apply conflicts with another manager's fields: the real Status, shared ownership on equal values, force takes over", async () => {
  const argoSpec = { schedule: "@daily", snapshotTag: "argo", keyspaces: ["a"] };
  // How argocd-controller came to own the object.
  const byUpdate = async (ns: string) => {
    await crs.createNamespacedCustomObject({
      ...V1A1,
      namespace: ns,
      body: backup(ns, "b", argoSpec),
      fieldManager: "argocd-controller",
    });
  };
  const byApply = async (ns: string) => {
    await apply(ns, backup(ns, "b", argoSpec), "argocd-controller");
  };
  const byPut = async (ns: string) => {
    double.objects.put(backup(ns, "b", argoSpec), { manager: "argocd-controller", operation: "Apply" });
  };
  const conflict = (manager: string, field: string) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${manager}`,
    field,
  });
  // [case, how argocd owns it, spec we apply, force, expected status, message, causes, owners after (on success)]
  const cases: [
    string,
    (ns: string) => Promise<void>,
    Record<string, unknown>,
    boolean,
    number,
    string | undefined,
    unknown[] | undefined,
    Record<string, string[]> | undefined,
  ][] = [
    // (Update-owned, one value differs, no force) → 409, the manager printed with its apiVersion
    [
      "update-owned",
      byUpdate,
      { schedule: "@hourly" },
      false,
      409,
      'Apply failed with 1 conflict: conflict with "argocd-controller" using db.orange.com/v1alpha1: .spec.schedule',
      [conflict('"argocd-controller" using db.orange.com/v1alpha1', ".spec.schedule")],
      undefined,
    ],
    // (Apply-owned, one value differs, no force) → 409, appliers are printed without a version
    [
      "apply-owned",
      byApply,
      { schedule: "@hourly" },
      false,
      409,
      'Apply failed with 1 conflict: conflict with "argocd-controller": .spec.schedule',
      [conflict('"argocd-controller"', ".spec.schedule")],
      undefined,
    ],
    // (owned through the test store, two values differ, no force) → 409 listing both
    [
      "two-conflicts",
      byPut,
      { schedule: "@hourly", keyspaces: ["b"] },
      false,
      409,
      'Apply failed with 2 conflicts: conflicts with "argocd-controller":\n- .spec.keyspaces\n- .spec.schedule',
      [conflict('"argocd-controller"', ".spec.keyspaces"), conflict('"argocd-controller"', ".spec.schedule")],
      undefined,
    ],
    // (the same values) → no conflict, both own them
    [
      "same-value",
      byApply,
      { schedule: "@daily", snapshotTag: "argo" },
      false,
      200,
      undefined,
      undefined,
      {
        "argocd-controller/Apply": [".spec.keyspaces", ".spec.schedule", ".spec.snapshotTag"],
        "casskeeper/Apply": [".spec.schedule", ".spec.snapshotTag"],
      },
    ],
    // (a value differs, force) → we take the field; argocd keeps the rest
    [
      "force",
      byUpdate,
      { schedule: "@hourly" },
      true,
      200,
      undefined,
      undefined,
      {
        "argocd-controller/Update": [".spec.keyspaces", ".spec.snapshotTag"],
        "casskeeper/Apply": [".spec.schedule"],
      },
    ],
  ];
  for (const [what, own, spec, force, status, message, causes, after] of cases) {
    const ns = `ssa-conflict-${what}`;
    await own(ns);
    double.resetCounts();
    const rv = double.resourceVersion();
    const res = await wire("PATCH", backupPath(ns, "b"), {
      body: backup(ns, "b", spec),
      contentType: APPLY_CT,
      query: { fieldManager: "casskeeper", force: String(force) },
    });
    assert.equal(res.status, status, what);
    if (status === 409) {
      assert.deepEqual(
        res.body,
        {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message,
          reason: "Conflict",
          details: { causes },
          code: 409,
        },
        what,
      );
      assert.equal(double.writes(), 0, `${what}: a conflict writes nothing`);
      assert.equal(double.resourceVersion(), rv, what);
    } else {
      assert.deepEqual(owners(res.body), after, what);
      assert.deepEqual(res.body.spec, { ...argoSpec, ...spec }, what);
    }
  }
});

test("a field we stop applying stays while another manager owns it, and leaves our set", async () => {
  const ns = "ssa-shared";
  await apply(ns, backup(ns, "b", { schedule: "@daily", snapshotTag: "t" }), "casskeeper");
  await apply(ns, backup(ns, "b", { snapshotTag: "t" }), "other");
  const after = await apply(ns, backup(ns, "b", { schedule: "@daily" }), "casskeeper");
  assert.deepEqual(after.spec, { schedule: "@daily", snapshotTag: "t" });
  assert.deepEqual(owners(after), {
    "casskeeper/Apply": [".spec.schedule"],
    "other/Apply": [".spec.snapshotTag"],
  });
  // Now nobody else owns spec.schedule: leaving it out removes it. An empty map applied is owned as such.
  const gone = await apply(ns, backup(ns, "b", {}), "casskeeper");
  assert.deepEqual(gone.spec, { snapshotTag: "t" });
  assert.deepEqual(owners(gone), { "casskeeper/Apply": [".spec"], "other/Apply": [".spec.snapshotTag"] });
  // Leaving spec out altogether: what others own under it stays.
  const bare = { apiVersion: "db.orange.com/v1alpha1", kind: "CassandraBackup", metadata: { name: "b" } };
  const still = await apply(ns, bare, "casskeeper");
  assert.deepEqual(still.spec, { snapshotTag: "t" });
  assert.deepEqual(owners(still), { "other/Apply": [".spec.snapshotTag"] });
});

test("apply with dryRun=All answers the result and stores nothing", async () => {
  const ns = "ssa-dry";
  // [case, object exists before]
  const cases: [string, boolean][] = [
    // (absent object) → a create that is not stored
    ["create", false],
    // (existing object, a change) → an update that is not stored
    ["update", true],
  ];
  for (const [what, exists] of cases) {
    const name = `b-${what}`;
    if (exists) await apply(ns, backup(ns, name, { schedule: "@daily" }), "casskeeper");
    const before = double.objects.get("db.orange.com/v1alpha1", "CassandraBackup", ns, name);
    const rv = double.resourceVersion();
    double.resetCounts();
    const res = await wire("PATCH", backupPath(ns, name), {
      body: backup(ns, name, { schedule: "@hourly" }),
      contentType: APPLY_CT,
      query: { fieldManager: "casskeeper", dryRun: "All" },
    });
    assert.equal(res.status, exists ? 200 : 201, what);
    assert.deepEqual(res.body.spec, { schedule: "@hourly" }, what);
    assert.equal(double.resourceVersion(), rv, `${what}: no resourceVersion spent`);
    assert.equal(double.writes(), 0, what);
    assert.equal(double.requests[0]?.dryRun, true, what);
    assert.deepEqual(double.objects.get("db.orange.com/v1alpha1", "CassandraBackup", ns, name), before, what);
  }
});

test("apply requests the real server refuses: the same status, reason and message", async () => {
  const ns = "ssa-bad";
  await apply(ns, backup(ns, "b", { schedule: "@daily" }), "casskeeper");
  // [case, body, content type, query, status, reason, message]
  const cases: [string, unknown, string, Record<string, string>, number, string, string][] = [
    // (apply without fieldManager) → 422 on the PatchOptions
    [
      "no fieldManager",
      backup(ns, "b", {}),
      APPLY_CT,
      {},
      422,
      "Invalid",
      'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
    ],
    // (force on a merge patch) → 422
    [
      "force on merge",
      { spec: {} },
      "application/merge-patch+json",
      { force: "true" },
      422,
      "Invalid",
      'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
    ],
    // (a body of another version than the URL's) → 400
    [
      "version",
      { ...backup(ns, "b", {}), apiVersion: "db.orange.com/v2" },
      APPLY_CT,
      { fieldManager: "casskeeper" },
      400,
      "BadRequest",
      "Incorrect version specified in apply patch. Specified patch version: db.orange.com/v2, expected: db.orange.com/v1alpha1",
    ],
    // (a body naming another object) → 400
    [
      "name",
      backup(ns, "other", {}),
      APPLY_CT,
      { fieldManager: "casskeeper" },
      400,
      "BadRequest",
      "the name of the object (other) does not match the name on the URL (b)",
    ],
    // (managedFields in the body, as in a copy of `kubectl get -o yaml`) → 400
    [
      "managedFields",
      { ...backup(ns, "b", {}), metadata: { name: "b", managedFields: [] } },
      APPLY_CT,
      { fieldManager: "casskeeper" },
      400,
      "BadRequest",
      "metadata.managedFields must be nil",
    ],
  ];
  for (const [what, body, contentType, query, status, reason, message] of cases) {
    const res = await wire("PATCH", backupPath(ns, "b"), { body, contentType, query });
    assert.equal(res.status, status, what);
    assert.equal(res.body.reason, reason, what);
    assert.equal(res.body.message, message, what);
  }
  const missing = await wire("PATCH", backupPath(ns, "b"), {
    body: backup(ns, "b", {}),
    contentType: APPLY_CT,
  });
  assert.deepEqual(missing.body.details, {
    group: "meta.k8s.io",
    kind: "PatchOptions",
    causes: [
      {
        reason: "FieldValueRequired",
        message: "Required value: is required for apply patch",
        field: "fieldManager",
      },
    ],
  });
});

test("an apply body in YAML is read as YAML", async () => {
  const ns = "ssa-yaml";
  const yaml = [
    "apiVersion: db.orange.com/v1alpha1",
    "kind: CassandraBackup",
    "metadata:",
    "  name: b",
    "spec:",
    "  schedule: '@daily'",
    "  keyspaces: [a, b]",
  ].join("\n");
  const res = await wire("PATCH", backupPath(ns, "b"), {
    body: yaml,
    contentType: APPLY_CT,
    query: { fieldManager: "casskeeper" },
  });
  assert.equal(res.status, 201);
  assert.deepEqual(res.body.spec, { schedule: "@daily", keyspaces: ["a", "b"] });
});

test("watch events follow applies: ADDED on create, none for a no-op, MODIFIED on a change", async () => {
  const ns = "ssa-watch";
  const start = double.resourceVersion();
  const seen: string[] = [];
  await new Watch(double.kubeConfig()).watch(
    backupPath(ns),
    { resourceVersion: start },
    (type, obj: { metadata?: { name?: string } }) => seen.push(`${type} ${obj.metadata?.name}`),
    () => {},
  );
  await apply(ns, backup(ns, "b", { schedule: "@daily" }), "casskeeper");
  await apply(ns, backup(ns, "b", { schedule: "@daily" }), "casskeeper");
  await apply(ns, backup(ns, "b", { schedule: "@hourly" }), "casskeeper");
  await apply(ns, backup(ns, "marker", {}), "casskeeper");
  await eventually("the marker's event", () => seen.includes("ADDED marker"));
  assert.deepEqual(seen, ["ADDED b", "MODIFIED b", "ADDED marker"]);
  double.dropWatches();
});

test("the status subresource: the main resource's apply owns no status, /status applies own only status", async () => {
  const ns = "ssa-status";
  const main = await apply(
    ns,
    { ...backup(ns, "b", { schedule: "@daily" }), status: { phase: "X" } },
    "casskeeper",
  );
  assert.equal(main.status, undefined, "status ignored on the main resource");
  const st = (await crs.patchNamespacedCustomObjectStatus(
    {
      ...V1A1,
      namespace: ns,
      name: "b",
      body: { ...backup(ns, "b", { schedule: "@never" }), status: { phase: "Done" } },
      fieldManager: "runner",
    },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  )) as Wire;
  assert.deepEqual(st.spec, { schedule: "@daily" }, "/status ignores spec");
  assert.deepEqual(st.status, { phase: "Done" });
  assert.equal(st.metadata.generation, 1);
  assert.deepEqual(owners(st), {
    "casskeeper/Apply": [".spec.schedule"],
    "runner/Apply/status": [".status.phase"],
  });
  // Re-applying the main resource without status leaves status alone.
  const again = await apply(ns, backup(ns, "b", { schedule: "@daily" }), "casskeeper");
  assert.deepEqual(again.status, { phase: "Done" });
  assert.equal(again.metadata.resourceVersion, st.metadata.resourceVersion, "a no-op");
});

test("managedFields sent to the test store or in an update replace the stored ones; [{}] clears them", async () => {
  const ns = "ssa-reset";
  double.objects.put({
    ...backup(ns, "b", { schedule: "@daily" }),
    metadata: {
      name: "b",
      namespace: ns,
      managedFields: [
        {
          manager: "argocd-controller",
          operation: "Apply",
          apiVersion: "db.orange.com/v1alpha1",
          fieldsType: "FieldsV1",
          fieldsV1: { "f:spec": { ".": {}, "f:schedule": {} } },
        },
      ],
    },
  });
  const f = await failure(() => apply(ns, backup(ns, "b", { schedule: "@hourly" }), "casskeeper"));
  assert.equal(f.code, 409);
  const cur = (await wire("GET", backupPath(ns, "b"))).body;
  const cleared = await wire("PUT", backupPath(ns, "b"), {
    body: { ...cur, metadata: { ...cur.metadata, managedFields: [{}] } },
    contentType: "application/json",
  });
  assert.equal(cleared.body.metadata.managedFields, undefined);
  const ok = await apply(ns, backup(ns, "b", { schedule: "@hourly" }), "casskeeper");
  assert.deepEqual(ok.spec, { schedule: "@hourly" });
});
