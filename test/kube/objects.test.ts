// src/kube/objects.ts against the API double through our kubeRequest: server-side apply and its
// conflicts, get, paged lists, deletes with preconditions, merge patches, and the Event recorder's
// aggregation.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { CasskeeperError } from "../../src/core/errors.ts";
import { KubeApiError } from "../../src/kube/client.ts";
import {
  applyConflicts,
  applyObject,
  createEventRecorder,
  deleteObject,
  getObject,
  listObjects,
  mergePatchObject,
  type ResourceRef,
  resourcePath,
} from "../../src/kube/objects.ts";
import { type KubeApiDouble, startKubeApiDouble } from "../support/kube-api-double.ts";
import { eventually, recordingLogger } from "../support/kube-fake-clock.ts";

let double: KubeApiDouble;
let kc: KubeConfig;
before(async () => {
  double = await startKubeApiDouble();
  kc = double.kubeConfig();
});
after(() => double.close());

const BACKUPS: ResourceRef = {
  group: "db.orange.com",
  version: "v1alpha1",
  plural: "cassandrabackups",
  namespaced: true,
};
const CONFIGMAPS: ResourceRef = { group: "", version: "v1", plural: "configmaps", namespaced: true };
const EVENTS: ResourceRef = { group: "", version: "v1", plural: "events", namespaced: true };

function backup(ns: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraBackup",
    metadata: { name, namespace: ns },
    spec,
  };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail("expected a rejection");
}

test("resourcePath names collections, objects and subresources as the API does", () => {
  const ns: ResourceRef = { group: "", version: "v1", plural: "namespaces", namespaced: false };
  // [case, resource, namespace, name, sub, path]
  const cases: [string, ResourceRef, string | undefined, string | undefined, string | undefined, string][] = [
    // (core, namespaced, a namespace's collection)
    ["core list", CONFIGMAPS, "a", undefined, undefined, "/api/v1/namespaces/a/configmaps"],
    // (core, namespaced, no namespace) → the cluster-wide collection
    ["all namespaces", CONFIGMAPS, undefined, undefined, undefined, "/api/v1/configmaps"],
    // (core, cluster-scoped: a namespace given is ignored)
    ["cluster-scoped", ns, "x", "kube-system", undefined, "/api/v1/namespaces/kube-system"],
    // (a group, one object's subresource)
    [
      "status",
      BACKUPS,
      "a",
      "b",
      "status",
      "/apis/db.orange.com/v1alpha1/namespaces/a/cassandrabackups/b/status",
    ],
    // (a name needing escapes)
    ["escaped", CONFIGMAPS, "a", "x/y", undefined, "/api/v1/namespaces/a/configmaps/x%2Fy"],
  ];
  for (const [what, r, namespace, name, sub, path] of cases) {
    assert.equal(resourcePath(r, namespace, name, sub), path, what);
  }
});

test("applyObject creates, changes nothing on a re-apply, updates; dryRun stores nothing", async () => {
  const ns = "apply";
  const opts = { fieldManager: "casskeeper" };
  // [step, spec, options, stored spec after, writes]
  const steps: [string, Record<string, unknown>, { dryRun?: boolean }, unknown, number][] = [
    // (absent) → created
    ["create", { schedule: "@daily" }, {}, { schedule: "@daily" }, 1],
    // (same document) → no write
    ["again", { schedule: "@daily" }, {}, { schedule: "@daily" }, 0],
    // (dry run of a change) → answered, not stored
    ["dry run", { schedule: "@hourly" }, { dryRun: true }, { schedule: "@daily" }, 0],
    // (a change) → one write
    ["change", { schedule: "@hourly" }, {}, { schedule: "@hourly" }, 1],
  ];
  for (const [step, spec, o, stored, writes] of steps) {
    double.resetCounts();
    const out = await applyObject(kc, BACKUPS, backup(ns, "b", spec), { ...opts, ...o });
    assert.deepEqual(out.spec, spec, `${step}: the answer is the applied result`);
    assert.deepEqual(
      double.objects.get("db.orange.com/v1alpha1", "CassandraBackup", ns, "b")?.spec,
      stored,
      step,
    );
    assert.equal(double.writes(), writes, step);
    assert.equal(double.requests[0]?.contentType, "application/apply-patch+yaml", step);
    assert.equal(double.requests[0]?.fieldManager, "casskeeper", step);
    assert.equal(double.requests[0]?.dryRun, o.dryRun === true, step);
  }
  const e = await rejection(
    applyObject(kc, BACKUPS, { ...backup(ns, "b", {}), metadata: { name: "b" } }, opts),
  );
  assert.ok(e instanceof CasskeeperError && e.code === "kube-object-namespace", String(e));
});

test("applyConflicts reads a 409's causes: who owns which field; force takes them", async () => {
  const ns = "conflicts";
  await applyObject(kc, BACKUPS, backup(ns, "b", { schedule: "@daily", snapshotTag: "a" }), {
    fieldManager: "argocd-controller",
  });
  const e = await rejection(
    applyObject(kc, BACKUPS, backup(ns, "b", { schedule: "@hourly", snapshotTag: "b" }), {
      fieldManager: "casskeeper",
      force: false,
    }),
  );
  assert.ok(e instanceof KubeApiError && e.statusCode === 409);
  assert.deepEqual(applyConflicts(e), [
    { manager: "argocd-controller", field: ".spec.schedule" },
    { manager: "argocd-controller", field: ".spec.snapshotTag" },
  ]);
  // The same through client-node's ApiException (an Update-owned field: the message names the version).
  const crs = kc.makeApiClient(CustomObjectsApi);
  await crs.patchNamespacedCustomObject(
    {
      ...BACKUPS,
      namespace: ns,
      name: "b",
      body: { spec: { keyspaces: ["k"] } },
      fieldManager: "kubectl-edit",
    },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
  const viaClientNode = await rejection(
    crs.patchNamespacedCustomObject(
      {
        ...BACKUPS,
        namespace: ns,
        name: "b",
        body: backup(ns, "b", { keyspaces: ["x"] }),
        fieldManager: "casskeeper",
      },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    ),
  );
  assert.deepEqual(applyConflicts(viaClientNode), [{ manager: "kubectl-edit", field: ".spec.keyspaces" }]);
  // Anything else is not an apply conflict.
  const stale = new KubeApiError(409, "Conflict", "the object has been modified");
  for (const other of [stale, new Error("x"), undefined, new KubeApiError(500, "InternalError", "x")]) {
    assert.equal(applyConflicts(other), undefined);
  }
  const forced = await applyObject(kc, BACKUPS, backup(ns, "b", { schedule: "@hourly" }), {
    fieldManager: "casskeeper",
    force: true,
  });
  assert.deepEqual(forced.spec, { schedule: "@hourly", snapshotTag: "a", keyspaces: ["k"] });
});

test("getObject: the object, undefined when absent, the error otherwise", async () => {
  const ns = "get";
  double.objects.put({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace: ns },
    data: { k: "v" },
  });
  assert.deepEqual((await getObject(kc, CONFIGMAPS, ns, "c"))?.data, { k: "v" });
  assert.equal(await getObject(kc, CONFIGMAPS, ns, "missing"), undefined);
  double.failNext(1, { status: 500, verb: "get" });
  const e = await rejection(getObject(kc, CONFIGMAPS, ns, "c"));
  assert.ok(e instanceof KubeApiError && e.statusCode === 500);
});

test("listObjects pages through limit/continue, filters by label, and names each item's kind", async () => {
  for (let i = 0; i < 7; i++) {
    double.objects.put({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: `c${i}`,
        namespace: i < 5 ? "list-a" : "list-b",
        labels: { odd: String(i % 2 === 1) },
      },
    });
  }
  // [case, options, names, list requests]
  const cases: [string, Parameters<typeof listObjects>[2], string[], number][] = [
    // (one namespace, pages of 2) → three pages
    ["paged", { namespace: "list-a", pageSize: 2 }, ["c0", "c1", "c2", "c3", "c4"], 3],
    // (a label selector)
    ["selector", { namespace: "list-a", labelSelector: "odd=true" }, ["c1", "c3"], 1],
    // (every namespace)
    ["all", { labelSelector: "odd" }, ["c0", "c1", "c2", "c3", "c4", "c5", "c6"], 1],
  ];
  for (const [what, o, names, lists] of cases) {
    double.resetCounts();
    const items = await listObjects(kc, CONFIGMAPS, o);
    assert.deepEqual(
      items.map((i) => (i.metadata as { name: string }).name),
      names,
      what,
    );
    assert.ok(
      items.every((i) => i.apiVersion === "v1" && i.kind === "ConfigMap"),
      what,
    );
    assert.equal(double.count("list", "configmaps"), lists, what);
  }
  const e = await rejection(listObjects(kc, CONFIGMAPS, { namespace: "list-a", pageSize: 2, maxItems: 4 }));
  assert.ok(e instanceof CasskeeperError && e.code === "kube-list-too-large", String(e));
});

test("listObjects starts again when a continue token expires between pages (410)", async () => {
  const ns = "list-expired";
  for (let i = 0; i < 3; i++) {
    double.objects.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `c${i}`, namespace: ns } });
  }
  const first = double.hold("list", "configmaps");
  const listing = listObjects(kc, CONFIGMAPS, { namespace: ns, pageSize: 2 });
  await eventually("the first page is held", () => first.waiting() === 1);
  first.release();
  const second = double.hold("list", "configmaps");
  await eventually("the second page is held", () => second.waiting() === 1);
  double.objects.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c3", namespace: ns } });
  double.compact();
  second.release();
  const items = await listing;
  assert.deepEqual(
    items.map((i) => (i.metadata as { name: string }).name),
    ["c0", "c1", "c2", "c3"],
  );
});

test("deleteObject: deleted, absent, and preconditions that refuse", async () => {
  const ns = "delete";
  const put = (name: string, finalizers?: string[]) =>
    double.objects.put({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name, namespace: ns, ...(finalizers === undefined ? {} : { finalizers }) },
    });
  type Ids = { uid: string; rv: string };
  // [case, object exists, preconditions from its ids, outcome or the HTTP status thrown]
  const cases: [
    string,
    boolean,
    (o: Ids) => { uid?: string; resourceVersion?: string },
    "deleted" | "absent" | number,
  ][] = [
    // (exists, no preconditions)
    ["plain", true, () => ({}), "deleted"],
    // (never existed)
    ["absent", false, () => ({}), "absent"],
    // (the uid and resourceVersion match)
    ["matching", true, (o) => ({ uid: o.uid, resourceVersion: o.rv }), "deleted"],
    // (another object of the same name: the uid differs)
    ["other-uid", true, () => ({ uid: "someone-else" }), 409],
    // (changed since it was read)
    ["stale-rv", true, () => ({ resourceVersion: "1" }), 409],
  ];
  for (const [name, exists, pre, outcome] of cases) {
    const o = exists ? put(name).metadata : undefined;
    const call = deleteObject(
      kc,
      CONFIGMAPS,
      ns,
      name,
      pre({ uid: String(o?.uid), rv: String(o?.resourceVersion) }),
    );
    if (typeof outcome === "number") {
      const e = await rejection(call);
      assert.ok(e instanceof KubeApiError && e.statusCode === outcome, `${name}: ${String(e)}`);
      assert.ok(double.objects.get("v1", "ConfigMap", ns, name) !== undefined, `${name}: kept`);
    } else {
      assert.equal(await call, outcome, name);
      assert.equal(double.objects.get("v1", "ConfigMap", ns, name), undefined, name);
    }
  }
  // Finalizers: deletion is requested ("deleted"); the object stays until they are removed.
  put("held", ["x/y"]);
  assert.equal(await deleteObject(kc, CONFIGMAPS, ns, "held"), "deleted");
  assert.ok(double.objects.get("v1", "ConfigMap", ns, "held")?.metadata?.deletionTimestamp !== undefined);
});

test("mergePatchObject patches an object or its status, under the fieldManager given", async () => {
  const ns = "merge";
  await applyObject(kc, BACKUPS, backup(ns, "b", { schedule: "@daily" }), { fieldManager: "casskeeper" });
  const main = await mergePatchObject(kc, BACKUPS, ns, "b", { spec: { snapshotTag: "t" } });
  assert.deepEqual(main.spec, { schedule: "@daily", snapshotTag: "t" });
  const status = await mergePatchObject(
    kc,
    BACKUPS,
    ns,
    "b",
    { status: { phase: "Done" }, spec: { schedule: "ignored" } },
    { subresource: "status", fieldManager: "casskeeper-status" },
  );
  assert.deepEqual(status.status, { phase: "Done" });
  assert.equal((status.spec as { schedule: string }).schedule, "@daily");
  const managers = (
    status.metadata as { managedFields: { manager: string; subresource?: string }[] }
  ).managedFields
    .map((e) => `${e.manager}${e.subresource === undefined ? "" : `/${e.subresource}`}`)
    .sort();
  assert.deepEqual(managers, ["casskeeper", "casskeeper", "casskeeper-status/status"]);
});

// ---------------------------------------------------------------------------------------------------------
// Events

interface EventWire {
  metadata: { name: string; namespace: string };
  involvedObject: Record<string, unknown>;
  reason: string;
  message: string;
  type: string;
  source: { component: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  reportingComponent: string;
}

function eventsIn(ns: string): EventWire[] {
  return (double.objects.list("v1", "Event") as unknown as EventWire[]).filter(
    (e) => e.metadata.namespace === ns,
  );
}

test("an Event has client-go's shape: name, involvedObject, source, timestamps, count", async () => {
  const at = new Date("2030-01-01T10:00:00.123Z");
  const events = createEventRecorder(kc, {
    component: "casskeeper-git-sync",
    logger: recordingLogger(),
    clock: () => at,
  });
  const involved = {
    apiVersion: "casskeeper.io/v1alpha1",
    kind: "BackupPolicySource",
    namespace: "ev-shape",
    name: "src",
    uid: "u-1",
  };
  events.record(involved, "Warning", "ApplyConflict", "x".repeat(2000));
  events.record(
    { ...involved, kind: "Node", namespace: "", name: "n1", uid: "u-2" },
    "Normal",
    "Seen",
    "cluster-scoped",
  );
  await events.flush();
  const [e] = eventsIn("ev-shape");
  assert.ok(e !== undefined);
  assert.match(e.metadata.name, /^src\.[0-9a-f]+$/);
  const nanos = BigInt(`0x${e.metadata.name.slice("src.".length)}`);
  assert.equal(nanos / 1_000_000n, BigInt(at.getTime()), "the suffix is the time in nanoseconds, in hex");
  assert.deepEqual(
    { ...e, metadata: undefined, message: e.message.length },
    {
      apiVersion: "v1",
      kind: "Event",
      metadata: undefined,
      involvedObject: {
        apiVersion: "casskeeper.io/v1alpha1",
        kind: "BackupPolicySource",
        namespace: "ev-shape",
        name: "src",
        uid: "u-1",
      },
      reason: "ApplyConflict",
      message: 1024,
      type: "Warning",
      source: { component: "casskeeper-git-sync" },
      firstTimestamp: "2030-01-01T10:00:00Z",
      lastTimestamp: "2030-01-01T10:00:00Z",
      count: 1,
      reportingComponent: "casskeeper-git-sync",
    },
  );
  // A cluster-scoped object's Events go to `default`, without a namespace in involvedObject.
  const [node] = eventsIn("default").filter((x) => x.involvedObject.name === "n1");
  assert.equal(node?.involvedObject.namespace, undefined);
});

test("the same Event within 10 minutes updates count and lastTimestamp; otherwise a new Event", async () => {
  const ns = "ev-agg";
  let now = Date.parse("2030-01-01T10:00:00Z");
  const events = createEventRecorder(kc, {
    component: "c",
    logger: recordingLogger(),
    clock: () => new Date(now),
  });
  const obj = { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "o" };
  // [step, minutes later, reason, message, events in the namespace after, count of the newest]
  const steps: [string, number, string, string, number, number][] = [
    // (first) → created
    ["first", 0, "Synced", "m1", 1, 1],
    // (same, 5 min later) → aggregated
    ["repeat", 5, "Synced", "m1", 1, 2],
    // (same, 9 min after the last) → aggregated: the window runs from the last occurrence
    ["repeat again", 9, "Synced", "m1", 1, 3],
    // (another message) → a new Event
    ["other message", 0, "Synced", "m2", 2, 1],
    // (the first again, 11 min after its last) → a new Event
    ["stale", 11, "Synced", "m1", 3, 1],
  ];
  let newest = "";
  for (const [step, minutes, reason, message, total, count] of steps) {
    now += minutes * 60_000;
    double.resetCounts();
    events.record(obj, "Normal", reason, message);
    await events.flush();
    const list = eventsIn(ns);
    assert.equal(list.length, total, step);
    const last = list.find(
      (e) => e.lastTimestamp === new Date(now).toISOString().replace(/\.\d+Z$/, "Z") && e.message === message,
    );
    assert.ok(last !== undefined, step);
    assert.equal(last.count, count, step);
    if (count > 1) {
      assert.equal(last.metadata.name, newest, `${step}: the same Event`);
      assert.equal(double.count("patch", "events"), 1, step);
      assert.notEqual(last.firstTimestamp, last.lastTimestamp, step);
    }
    newest = last.metadata.name;
  }
});

test("recording never throws: failures are logged, an expired aggregated Event is created anew", async () => {
  const ns = "ev-fail";
  const logger = recordingLogger();
  const events = createEventRecorder(kc, { component: "c", logger });
  const obj = { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "o" };
  double.failNext(1, { status: 500, verb: "create", resource: "events" });
  events.record(obj, "Warning", "Failed", "first");
  await events.flush();
  assert.equal(eventsIn(ns).length, 0);
  assert.ok(logger.lines.some((l) => l.level === "warn" && l.msg === "could not record an event"));
  events.record(obj, "Warning", "Failed", "second");
  await events.flush();
  const [e] = eventsIn(ns);
  assert.ok(e !== undefined);
  // The Event expires (deleted by the API server after its TTL): the next occurrence creates one.
  assert.equal(await deleteObject(kc, EVENTS, ns, e.metadata.name), "deleted");
  events.record(obj, "Warning", "Failed", "second");
  await events.flush();
  const again = eventsIn(ns);
  assert.equal(again.length, 1);
  assert.equal(again[0]?.count, 1);
  assert.notEqual(again[0]?.metadata.name, e.metadata.name);
});
