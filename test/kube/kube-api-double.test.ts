// The API double answers the real client-node as the API server would, for what it claims to model
// (its file header): discovery, errors as Status bodies, optimistic concurrency, patches, the status
// subresource, finalizers, selectors, paging and watches.

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
    // server-side apply is not modeled yet (issue #4)
    [
      "apply",
      () =>
        core.patchNamespacedSecret(
          { namespace: "e", name: "s", body: { metadata: { name: "s" } }, fieldManager: "t" },
          setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
        ),
      415,
      "UnsupportedMediaType",
      /server-side apply/,
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
