// An HTTP-level Kubernetes API server double for tests, driven through the real `@kubernetes/client-node`
// (DESIGN.md "Real components, and what stands in for them here": no kube-apiserver can run on these machines).
//
// WHAT IT MODELS (as the real API server does it, so client code that works here has a chance in a cluster):
// - plain HTTP on 127.0.0.1 (port 0); one bearer token checked on every request (401 Status otherwise);
// - discovery: /version, /api, /api/v1, /apis, /apis/<group>, /apis/<group>/<version> (APIResourceList),
//   for v1, db.orange.com v1alpha1+v2, casskeeper.io v1alpha1, admissionregistration.k8s.io v1,
//   coordination.k8s.io v1; a group or resource can be withdrawn and restored (`serve()`), as when a CRD
//   is not installed: its paths answer 404 NotFound and discovery leaves it out;
// - get, list (items sorted by namespace/name, `metadata.resourceVersion` of the list, `limit`/`continue`
//   paging, `labelSelector` with `=`, `==`, `!=`, `key`, `!key`, `fieldSelector` on `metadata.name` and
//   `metadata.namespace` with `=`/`==`/`!=`), for namespaced resources per namespace and across namespaces,
//   and for cluster-scoped resources; built-in lists omit items' apiVersion/kind as the real server does;
// - watch (`?watch=true`): newline-delimited events ADDED/MODIFIED/DELETED, BOOKMARK when the client asked
//   for them (`allowWatchBookmarks`) and the test calls `bookmark()`, ERROR; a resourceVersion older than the
//   last `compact()` gets HTTP 200 and an ERROR event with a 410 Expired Status, as the watch cache answers
//   (or an HTTP 410 with `goneAsHttp`); no resourceVersion (or "0") starts with ADDED for every object;
//   `timeoutSeconds` ends the stream cleanly;
// - create (409 AlreadyExists, `generateName`, `dryRun=All`), replace (PUT; 409 Conflict when
//   `metadata.resourceVersion` is stale, unconditional when absent), JSON merge patch (RFC 7386) and JSON
//   patch (RFC 6902, a failed `test` is 422), a `metadata.resourceVersion` left in a patched object is a
//   precondition (409), delete (404, DeleteOptions preconditions, finalizers keep the object with a
//   `deletionTimestamp` until they are removed); the `status` subresource for custom resources (the main
//   resource ignores status changes, `/status` ignores everything else); `metadata.generation` bumps on
//   changes outside metadata and status; one cluster-wide, monotonically increasing resourceVersion; a
//   write that changes nothing (object and field ownership alike) keeps the resourceVersion and sends no
//   watch event;
// - server-side apply (PATCH `application/apply-patch+yaml`; JSON or YAML body): `fieldManager` required
//   (422 Invalid, the real message), `force`, `dryRun=All`; creates the object when absent (201); the body's
//   apiVersion must be the URL's group/version ("Incorrect version specified in apply patch"), its name the
//   URL's, no `metadata.managedFields` in it; a `metadata.resourceVersion` in it is a precondition (409);
//   `force` on a non-apply patch is 422 Invalid;
// - field management (`metadata.managedFields`, shape as the real server's: manager, operation, apiVersion,
//   time, fieldsType FieldsV1, fieldsV1 with `f:` keys, subresource; sorted Apply before Update, then by
//   time and manager): ownership is kept per leaf field path. MAPS ARE GRANULAR (each key of `labels`,
//   `annotations`, `spec.…` is its own field), LISTS ARE ATOMIC (a list is one leaf, whatever its
//   `x-kubernetes-list-type`), an empty map is a leaf. Apply records operation "Apply" under its manager
//   and owns exactly the leaves it sent; create/update/merge/JSON patch record "Update" under the
//   `fieldManager` parameter or else the user agent's first `/`-separated part (as the real server), own
//   the leaves they changed, and take them from other managers. Apply without force that changes a leaf
//   another manager owns is 409 Conflict with the real Status (message `Apply failed with 1 conflict:
//   conflict with "m" using v1: .spec.x`, `details.causes[]` FieldManagerConflict); the same value is
//   shared ownership; force takes the leaf over. Leaves the applier owned and no longer sends are removed
//   unless another manager owns them (maps left empty by that removal are dropped). Removed leaves leave
//   every manager's set. Metadata the server owns (name, namespace, uid, resourceVersion, generation,
//   creationTimestamp, deletionTimestamp, managedFields) and apiVersion/kind are never owned. For custom
//   resources with a status subresource, apply and updates on the main resource own no `status` leaves and
//   `/status` ones own only `status` leaves (entries with `subresource: status`). A non-empty
//   `metadata.managedFields` sent in a create/update replaces the stored ones (`[{}]` clears them), as the
//   real server lets clients reset them;
// - errors as `Status` bodies with the real server's reasons and messages (NotFound, AlreadyExists,
//   Conflict, Invalid, Expired, MethodNotAllowed, UnsupportedMediaType, RequestEntityTooLarge, InternalError);
// - fault injection: drop every watch connection (socket destroyed, or ended cleanly), make open watches go
//   silent, expire them (ERROR 410 mid-stream), fail the next N requests (optionally of one verb/resource)
//   with a status, hold requests until released (to line up a race), and a log of every request by verb and
//   resource (apply is verb "patch", as in the real audit log; `contentType` tells it apart), with whether
//   it changed anything (`writes()`), so tests can assert "no API call per admission request" or "exactly
//   one write".
//
// WHAT IT DOES NOT MODEL (code that depends on these must be tested against a real cluster, test/e2e/):
// authentication beyond one token, RBAC and authorization, admission (webhooks, quotas, limit ranges), field
// validation and OpenAPI schemas (any JSON object is stored), defaulting, pruning of unknown fields,
// conversion between versions (an object is stored once and served under whichever version is asked, with
// only `apiVersion` rewritten; managedFields keep the version they were written with, unconverted),
// field-management details beyond the above: granular lists (`x-kubernetes-list-type: map|set` items,
// `k:`/`v:`/`i:` keys are read as "the whole list"), `.` self-markers on maps (written only for a map that
// is itself a leaf and has children; ignored when read), ownership of parent maps, `x-kubernetes-map-type:
// atomic`, null values in an applied object (dropped, not "explicitly unset"), the per-version comparison
// of conflicts, time updates exactly as the real server does them (here: the writer's entry gets the
// current time whenever its write changed the object or its set), manager-name validation beyond
// "required for apply", kind checks of apply bodies (the messages for a wrong kind are the double's own),
// strategic merge patch (415 here; the real server accepts it for built-in types), protobuf, tables, CBOR,
// `resourceVersionMatch` and list consistency across `continue` pages (each page reads the current state),
// watch caches lagging behind etcd, periodic bookmarks (only on `bookmark()`), `sendInitialEvents`,
// deletecollection, garbage collection and ownerReferences, namespaces' lifecycle (objects may live in a
// namespace that does not exist), immutable Secrets/ConfigMaps, Secret `stringData` merging, graceful
// deletion periods, HTTP/2, and request limits beyond a 3 MiB body cap.

import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";

// ---------------------------------------------------------------------------------------------------------
// Resources

export interface ResourceDef {
  /** "" for the core group. */
  readonly group: string;
  readonly versions: readonly string[];
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  /** Custom resources with `subresources.status`: main writes keep status, `/status` writes keep the rest. */
  readonly statusSubresource: boolean;
  /** Built-in resources' list items carry no apiVersion/kind on the wire; custom resources' do. */
  readonly builtIn: boolean;
}

const VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"];

export const DEFAULT_RESOURCES: readonly ResourceDef[] = [
  core("namespaces", "namespace", "Namespace", false),
  core("secrets", "secret", "Secret", true),
  core("configmaps", "configmap", "ConfigMap", true),
  core("services", "service", "Service", true),
  core("events", "event", "Event", true),
  core("pods", "pod", "Pod", true),
  cr("db.orange.com", ["v2", "v1alpha1"], "cassandraclusters", "cassandracluster", "CassandraCluster"),
  cr("db.orange.com", ["v2", "v1alpha1"], "cassandrabackups", "cassandrabackup", "CassandraBackup"),
  cr("db.orange.com", ["v2", "v1alpha1"], "cassandrarestores", "cassandrarestore", "CassandraRestore"),
  cr("casskeeper.io", ["v1alpha1"], "backuppolicysources", "backuppolicysource", "BackupPolicySource"),
  {
    group: "admissionregistration.k8s.io",
    versions: ["v1"],
    plural: "validatingwebhookconfigurations",
    singular: "validatingwebhookconfiguration",
    kind: "ValidatingWebhookConfiguration",
    namespaced: false,
    statusSubresource: false,
    builtIn: true,
  },
  {
    group: "admissionregistration.k8s.io",
    versions: ["v1"],
    plural: "mutatingwebhookconfigurations",
    singular: "mutatingwebhookconfiguration",
    kind: "MutatingWebhookConfiguration",
    namespaced: false,
    statusSubresource: false,
    builtIn: true,
  },
  {
    group: "coordination.k8s.io",
    versions: ["v1"],
    plural: "leases",
    singular: "lease",
    kind: "Lease",
    namespaced: true,
    statusSubresource: false,
    builtIn: true,
  },
];

function core(plural: string, singular: string, kind: string, namespaced: boolean): ResourceDef {
  return {
    group: "",
    versions: ["v1"],
    plural,
    singular,
    kind,
    namespaced,
    statusSubresource: false,
    builtIn: true,
  };
}

function cr(group: string, versions: string[], plural: string, singular: string, kind: string): ResourceDef {
  return {
    group,
    versions,
    plural,
    singular,
    kind,
    namespaced: true,
    statusSubresource: true,
    builtIn: false,
  };
}

/** `plural` or `plural.group`, as the API server names a resource in its messages. */
function qualified(def: ResourceDef): string {
  return def.group === "" ? def.plural : `${def.plural}.${def.group}`;
}

function apiVersionOf(def: ResourceDef, version: string): string {
  return def.group === "" ? version : `${def.group}/${version}`;
}

// ---------------------------------------------------------------------------------------------------------
// Public surface

export type Obj = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown>;
};

export interface RequestRecord {
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, or `discovery`. */
  readonly verb: string;
  /** `plural` or `plural.group` (`secrets`, `cassandrabackups.db.orange.com`), "" for discovery. */
  readonly resource: string;
  readonly namespace?: string | undefined;
  readonly name?: string | undefined;
  readonly subresource?: string | undefined;
  readonly method: string;
  readonly path: string;
  /** The request's media type without parameters (`application/apply-patch+yaml` for apply), if it had one. */
  readonly contentType?: string | undefined;
  /** The `fieldManager` query parameter, if any. */
  readonly fieldManager?: string | undefined;
  readonly dryRun: boolean;
  /** The request changed stored state (a new resourceVersion); false for no-ops, dry runs, reads, failures. */
  readonly wrote: boolean;
}

/** Who wrote a set of fields, as in a `metadata.managedFields` entry. */
export interface PutOptions {
  /** Record the write under this manager (default: ownership unchanged, except removed fields leave it). */
  readonly manager?: string;
  /** "Update" (default) owns what changed; "Apply" owns every field of the object, taking them over. */
  readonly operation?: "Apply" | "Update";
}

export interface FailRule {
  /** Requests to fail; each matching request uses one. */
  count: number;
  readonly status: number;
  readonly verb?: string | undefined;
  readonly resource?: string | undefined;
}

export interface KubeApiDoubleOptions {
  /** Extra or replacement resources (same group+plural replaces). */
  readonly resources?: readonly ResourceDef[];
  /** Groups or `plural.group` resources not served at start (a CRD not installed). */
  readonly unserved?: readonly string[];
  /** The bearer token the double accepts. */
  readonly token?: string;
  /** Answer a too-old watch resourceVersion with an HTTP 410 instead of a 200 + ERROR event. */
  readonly goneAsHttp?: boolean;
}

export interface ObjectStore {
  /**
   * Create or replace (status included) as an administrator would, emitting the watch event. Returns the
   * stored copy. Field ownership: `metadata.managedFields` in `obj` when given (decoded as the server
   * would), else as `opts` says.
   */
  put(obj: Obj, opts?: PutOptions): Obj;
  /** The stored object (a copy), if any. `apiVersion` chooses the resource (`v1`, `db.orange.com/v1alpha1`). */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Obj | undefined;
  /** Remove at once (finalizers ignored), emitting DELETED. False when absent. */
  remove(apiVersion: string, kind: string, namespace: string | undefined, name: string): boolean;
  /** Every stored object of a resource (copies), sorted by namespace/name. */
  list(apiVersion: string, kind: string): Obj[];
}

export interface KubeApiDouble {
  readonly url: string;
  readonly token: string;
  /** A KubeConfig for the real client-node: the double's URL, a token user, `skipTLSVerify` (plain HTTP). */
  kubeConfig(): KubeConfig;
  readonly objects: ObjectStore;
  /** The current cluster-wide resourceVersion (the last write's). */
  resourceVersion(): string;
  /** Every request so far, in order. */
  readonly requests: readonly RequestRecord[];
  /** How many requests matched a verb and optionally a resource (`secrets`, `cassandrabackups.db.orange.com`). */
  count(verb: string, resource?: string): number;
  /**
   * How many requests changed stored state (a new resourceVersion), optionally of one resource; no-op
   * writes, dry runs and failed requests do not count.
   */
  writes(resource?: string): number;
  /** Forget the request log. */
  resetCounts(): void;
  /** Forget the event history: watches from a resourceVersion before the current one get 410 Expired. */
  compact(): void;
  /** Send a BOOKMARK at the current resourceVersion on every open watch that asked for bookmarks. */
  bookmark(): void;
  /** End every open watch: `destroy` (default) cuts the socket as a network failure does; `end` closes cleanly. */
  dropWatches(how?: "destroy" | "end"): void;
  /** Every open watch gets an ERROR event with a 410 Expired Status and ends (the watcher fell behind a compaction). */
  expireWatches(): void;
  /** Open watches stay connected but receive nothing more (a stuck watch, as in kubernetes-client/javascript#958). */
  silenceWatches(): void;
  /** Fail the next `count` requests (of a verb / resource when given) with `status` and a Status body. */
  failNext(count: number, opts?: { status?: number; verb?: string; resource?: string }): void;
  /** Forget every pending `failNext` rule. */
  clearFaults(): void;
  /** Hold matching requests until `release()` (to line up a race deterministically); `waiting()` counts them. */
  hold(verb: string, resource?: string): { waiting(): number; release(): void };
  /** Serve or withdraw a group (`db.orange.com`) or one resource (`cassandraclusters.db.orange.com`). */
  serve(groupOrResource: string, served: boolean): void;
  /** How many watch connections are open now. */
  openWatches(): number;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Implementation

interface Stored {
  readonly def: ResourceDef;
  /** The object, `metadata.managedFields` rendered from `managed`. */
  obj: Obj;
  managed: ManagedEntry[];
}

/** One managedFields entry: a manager's set of owned leaf paths (each a JSON array of segments). */
interface ManagedEntry {
  readonly manager: string;
  readonly operation: "Apply" | "Update";
  readonly apiVersion: string;
  /** "" for the main resource. */
  readonly subresource: string;
  readonly time: string | undefined;
  readonly fields: ReadonlySet<string>;
}

type ManagerId = Omit<ManagedEntry, "time" | "fields">;

type MutableRecord = { -readonly [K in keyof RequestRecord]: RequestRecord[K] };

interface HistoryEvent {
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly def: ResourceDef;
  readonly obj: Obj;
}

interface WatchConn {
  readonly def: ResourceDef;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly match: (o: Obj) => boolean;
  readonly bookmarks: boolean;
  readonly res: http.ServerResponse;
  silent: boolean;
  timer?: NodeJS.Timeout | undefined;
}

class HttpError extends Error {
  readonly status: Obj;
  constructor(code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details === undefined ? {} : { details }),
      code,
    };
  }
  get code(): number {
    return this.status.code as number;
  }
}

const MAX_BODY = 3 * 1024 * 1024;

/** The `Status.reason` the real server uses for a code (k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason). */
const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

export async function startKubeApiDouble(opts: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
  const token = opts.token ?? "double-token";
  const defs: ResourceDef[] = [...DEFAULT_RESOURCES];
  for (const extra of opts.resources ?? []) {
    const i = defs.findIndex((d) => d.group === extra.group && d.plural === extra.plural);
    if (i >= 0) defs[i] = extra;
    else defs.push(extra);
  }
  const unserved = new Set(opts.unserved ?? []);
  const store = new Map<string, Stored>(); // qualified/ns/name
  let history: HistoryEvent[] = [];
  let compactedAt = 0;
  let rv = 1;
  const watches = new Set<WatchConn>();
  const requests: RequestRecord[] = [];
  const failRules: FailRule[] = [];
  const holds: { verb: string; resource: string | undefined; held: (() => void)[]; released: boolean }[] = [];
  const sockets = new Set<import("node:net").Socket>();

  const served = (d: ResourceDef) => !unserved.has(d.group) && !unserved.has(qualified(d));
  const storeKey = (d: ResourceDef, ns: string | undefined, name: string) =>
    `${qualified(d)}/${ns ?? ""}/${name}`;

  function findDef(apiVersion: string, kind: string): ResourceDef {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    const def = defs.find((d) => d.group === group && d.kind === kind && d.versions.includes(version ?? ""));
    if (def === undefined) throw new Error(`the double does not know ${apiVersion} ${kind}`);
    return def;
  }

  function emit(type: HistoryEvent["type"], def: ResourceDef, obj: Obj): void {
    const ev: HistoryEvent = { rv: Number(meta(obj).resourceVersion), type, def, obj: clone(obj) };
    history.push(ev);
    for (const w of watches) if (w.def === def) sendEvent(w, ev.type, ev.obj);
  }

  function sendEvent(w: WatchConn, type: string, obj: Obj): void {
    if (w.silent || w.res.writableEnded || w.res.destroyed) return;
    if (type !== "BOOKMARK" && type !== "ERROR") {
      if (w.namespace !== undefined && meta(obj).namespace !== w.namespace) return;
      if (!w.match(obj)) return;
    }
    const out = type === "ERROR" || type === "BOOKMARK" ? obj : served_(obj, w.def, w.version);
    w.res.write(`${JSON.stringify({ type, object: out })}\n`);
  }

  function nextRv(): string {
    rv++;
    return String(rv);
  }

  // Writes shared by the HTTP verbs and the test-facing store.
  function createObj(
    def: ResourceDef,
    ns: string | undefined,
    body: Obj,
    dryRun: boolean,
    who: ManagerId | undefined,
  ): Obj {
    const m = { ...meta(body) };
    if ((m.name === undefined || m.name === "") && typeof m.generateName === "string") {
      m.name = `${m.generateName}${randomUUID().slice(0, 5)}`;
    }
    const name = m.name;
    if (typeof name !== "string" || name === "") {
      throw new HttpError(
        422,
        "Invalid",
        `${def.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        {
          kind: def.kind,
        },
      );
    }
    if (def.namespaced) {
      if (m.namespace !== undefined && m.namespace !== ns) {
        throw new HttpError(
          400,
          "BadRequest",
          "the namespace of the provided object does not match the namespace sent on the request",
        );
      }
      m.namespace = ns;
    } else {
      delete m.namespace;
    }
    const k = storeKey(def, ns, name);
    if (store.has(k)) {
      throw new HttpError(
        409,
        "AlreadyExists",
        `${qualified(def)} "${name}" already exists`,
        details(def, name),
      );
    }
    if (m.resourceVersion !== undefined && m.resourceVersion !== "") {
      throw new HttpError(
        500,
        "InternalError",
        "Internal error occurred: resourceVersion should not be set on objects to be created",
      );
    }
    const obj: Obj = { ...clone(body), metadata: m };
    m.uid = randomUUID();
    m.creationTimestamp = nowSeconds();
    m.generation = 1;
    delete m.deletionTimestamp;
    const sent = decodeManaged(m.managedFields);
    delete m.managedFields;
    const managed = who === undefined ? (sent ?? []) : own(sent ?? [], {}, obj, who);
    setManaged(m, managed);
    if (dryRun) return { ...obj, metadata: { ...m, resourceVersion: String(rv) } };
    m.resourceVersion = nextRv();
    store.set(k, { def, obj, managed });
    emit("ADDED", def, obj);
    return clone(obj);
  }

  function updateObj(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    body: Obj,
    sub: string | undefined,
    dryRun: boolean,
    who: ManagerId | undefined,
  ): Obj {
    const k = storeKey(def, ns, name);
    const cur = store.get(k);
    if (cur === undefined)
      throw new HttpError(404, "NotFound", `${qualified(def)} "${name}" not found`, details(def, name));
    const bm = meta(body);
    if (bm.name !== undefined && bm.name !== name) {
      throw new HttpError(
        400,
        "BadRequest",
        `the name of the object (${String(bm.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (
      bm.resourceVersion !== undefined &&
      bm.resourceVersion !== "" &&
      bm.resourceVersion !== meta(cur.obj).resourceVersion
    ) {
      throw conflict(def, name);
    }
    const old = cur.obj;
    const next: Obj = clone(body);
    if (def.statusSubresource && sub === undefined) {
      if ("status" in old) next.status = clone(old.status);
      else delete next.status;
    } else if (sub === "status") {
      for (const f of Object.keys(next)) if (f !== "status" && f !== "metadata") delete next[f];
      for (const f of Object.keys(old)) if (f !== "status" && f !== "metadata") next[f] = clone(old[f]);
    }
    // Read-only metadata comes from the stored object.
    const om = meta(old);
    const nm: Record<string, unknown> = sub === "status" ? { ...om } : { ...bm };
    for (const f of ["uid", "creationTimestamp", "deletionTimestamp", "generation", "namespace", "name"]) {
      if (om[f] === undefined) delete nm[f];
      else nm[f] = om[f];
    }
    // managedFields sent on the main resource replace the stored ones (how clients reset them); else kept.
    const sent = sub === undefined ? decodeManaged(nm.managedFields) : undefined;
    delete nm.managedFields;
    next.metadata = nm;
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    if (!sameOutside(old, next)) nm.generation = Number(om.generation ?? 1) + 1;
    const base = sent ?? cur.managed;
    const managed = own(base, old, next, who);
    return commit(def, k, cur, next, managed, dryRun);
  }

  /** Stores `next` over `cur` unless nothing changed (object and ownership): a no-op keeps the rv. */
  function commit(
    def: ResourceDef,
    k: string,
    cur: Stored,
    next: Obj,
    managed: ManagedEntry[],
    dryRun: boolean,
  ): Obj {
    const old = cur.obj;
    const nm = meta(next);
    const om = meta(old);
    if (
      JSON.stringify(withoutRv(old)) === JSON.stringify(withoutRv(next)) &&
      sameOwnership(cur.managed, managed)
    ) {
      return clone(old);
    }
    setManaged(nm, managed);
    if (dryRun) return { ...next, metadata: { ...nm, resourceVersion: om.resourceVersion } };
    nm.resourceVersion = nextRv();
    if (nm.deletionTimestamp !== undefined && !hasFinalizers(next)) {
      store.delete(k);
      emit("DELETED", def, next);
      return clone(next);
    }
    cur.obj = next;
    cur.managed = managed;
    emit("MODIFIED", def, next);
    return clone(next);
  }

  /**
   * Server-side apply of `body` (already checked against the URL) by `manager`. Returns the result and
   * whether it created the object. Throws 409 with the real conflict Status when another manager owns a
   * leaf this apply would change and `force` is false.
   */
  function applyObj(
    def: ResourceDef,
    version: string,
    ns: string | undefined,
    name: string,
    body: Obj,
    manager: string,
    force: boolean,
    sub: string | undefined,
    dryRun: boolean,
  ): { obj: Obj; created: boolean } {
    const k = storeKey(def, ns, name);
    const cur = store.get(k);
    if (cur === undefined && sub !== undefined)
      throw new HttpError(404, "NotFound", `${qualified(def)} "${name}" not found`, details(def, name));
    const bm = meta(body);
    if (
      cur !== undefined &&
      bm.resourceVersion !== undefined &&
      bm.resourceVersion !== "" &&
      bm.resourceVersion !== meta(cur.obj).resourceVersion
    ) {
      throw conflict(def, name);
    }
    const who: ManagerId = {
      manager,
      operation: "Apply",
      apiVersion: apiVersionOf(def, version),
      subresource: sub ?? "",
    };
    // What this apply may touch: the main resource of a CR with a status subresource ignores status,
    // `/status` ignores everything but status.
    const config = dropNulls(clone(body)) as Obj;
    if (sub === "status") {
      for (const f of Object.keys(config)) if (f !== "status" && f !== "metadata") delete config[f];
      config.metadata = {};
    } else if (def.statusSubresource) {
      delete config.status;
    }
    const live: Obj =
      cur === undefined
        ? { apiVersion: apiVersionOf(def, version), kind: def.kind, metadata: {} }
        : clone(cur.obj);
    delete meta(live).managedFields;
    const mine = leafMap(config);
    const merged = mergeApply(live, config) as Obj;
    const managed = cur?.managed ?? [];
    const last = managed.find((e) => sameManager(e, who));
    // Prune what this manager applied last time and not now, unless someone else owns it. A path it owned
    // that is a map now (an empty map it applied, since filled by others) loses only its unowned leaves.
    const ownedByOthers = (p: string) => managed.some((e) => e !== last && e.fields.has(p));
    for (const p of last?.fields ?? []) {
      if (mine.has(p) || ownedByOthers(p)) continue;
      const prefix = p.slice(0, -1);
      const under = [...leafMap(merged).keys()].filter((l) => l === p || l.startsWith(`${prefix},`));
      for (const l of under) {
        if (!mine.has(l) && !ownedByOthers(l)) removePath(merged, JSON.parse(l) as string[]);
      }
    }
    // Read-only metadata stays the server's.
    const lm = meta(live);
    const mm = meta(merged);
    for (const f of READ_ONLY_META) {
      if (lm[f] === undefined) delete mm[f];
      else mm[f] = lm[f];
    }
    mm.name = name;
    if (ns !== undefined) mm.namespace = ns;
    else delete mm.namespace;
    merged.apiVersion = live.apiVersion;
    merged.kind = def.kind;
    const { changed, removed } = diffLeaves(live, merged);
    const conflicts: { entry: ManagedEntry; path: string }[] = [];
    for (const e of managed) {
      if (sameManager(e, who)) continue;
      for (const p of changed) if (e.fields.has(p)) conflicts.push({ entry: e, path: p });
    }
    if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
    const time = nowSeconds();
    const next: ManagedEntry[] = [];
    for (const e of managed) {
      if (sameManager(e, who)) continue;
      const fields = new Set([...e.fields].filter((p) => !changed.has(p) && !removed.has(p)));
      if (fields.size > 0) next.push({ ...e, fields });
    }
    const mineNow = new Set([...mine.keys()]);
    if (mineNow.size > 0) {
      const same =
        last !== undefined && sameSet(last.fields, mineNow) && changed.size === 0 && removed.size === 0;
      next.push({ ...who, time: same ? last.time : time, fields: mineNow });
    }
    if (cur === undefined) {
      mm.uid = randomUUID();
      mm.creationTimestamp = time;
      mm.generation = 1;
      setManaged(mm, next);
      if (dryRun)
        return { obj: { ...merged, metadata: { ...mm, resourceVersion: String(rv) } }, created: true };
      mm.resourceVersion = nextRv();
      store.set(k, { def, obj: merged, managed: next });
      emit("ADDED", def, merged);
      return { obj: clone(merged), created: true };
    }
    if (!sameOutside(live, merged)) mm.generation = Number(lm.generation ?? 1) + 1;
    return { obj: commit(def, k, cur, merged, next, dryRun), created: false };
  }

  function deleteObj(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    options: Obj,
    dryRun: boolean,
  ): Obj {
    const k = storeKey(def, ns, name);
    const cur = store.get(k);
    if (cur === undefined)
      throw new HttpError(404, "NotFound", `${qualified(def)} "${name}" not found`, details(def, name));
    const pre = isObj(options.preconditions) ? options.preconditions : {};
    const m = meta(cur.obj);
    if (
      (pre.resourceVersion !== undefined && pre.resourceVersion !== m.resourceVersion) ||
      (pre.uid !== undefined && pre.uid !== m.uid)
    ) {
      const which =
        pre.uid !== undefined && pre.uid !== m.uid
          ? `UID in precondition: ${String(pre.uid)}, UID in object meta: ${String(m.uid)}`
          : `ResourceVersion in precondition: ${String(pre.resourceVersion)}, ResourceVersion in object meta: ${String(m.resourceVersion)}`;
      throw new HttpError(
        409,
        "Conflict",
        `Operation cannot be fulfilled on ${qualified(def)} "${name}": Precondition failed: ${which}`,
        details(def, name),
      );
    }
    if (dryRun) return clone(cur.obj);
    if (hasFinalizers(cur.obj)) {
      if (m.deletionTimestamp !== undefined) return clone(cur.obj);
      const next = clone(cur.obj);
      const nm = meta(next);
      nm.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      nm.resourceVersion = nextRv();
      cur.obj = next;
      emit("MODIFIED", def, next);
      return clone(next);
    }
    store.delete(k);
    const gone = clone(cur.obj);
    meta(gone).resourceVersion = nextRv();
    emit("DELETED", def, gone);
    return gone;
  }

  function patchObj(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    contentType: string,
    patch: unknown,
    sub: string | undefined,
    dryRun: boolean,
    who: ManagerId,
  ): Obj {
    const cur = store.get(storeKey(def, ns, name));
    if (cur === undefined)
      throw new HttpError(404, "NotFound", `${qualified(def)} "${name}" not found`, details(def, name));
    let patched: unknown;
    if (contentType === "application/merge-patch+json") {
      patched = mergePatch(clone(cur.obj), patch);
    } else if (contentType === "application/json-patch+json") {
      if (!Array.isArray(patch))
        throw new HttpError(
          400,
          "BadRequest",
          "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
        );
      try {
        patched = jsonPatch(clone(cur.obj), patch);
      } catch (e) {
        throw new HttpError(422, "Invalid", (e as Error).message);
      }
    } else {
      throw new HttpError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    }
    if (!isObj(patched)) throw new HttpError(422, "Invalid", "the patched object is not an object");
    // A resourceVersion in the result is a precondition, as for an update.
    const pm = meta(patched as Obj);
    if (pm.resourceVersion === undefined) pm.resourceVersion = meta(cur.obj).resourceVersion;
    // The stored managedFields came along in the patched copy: they are not a reset.
    if (JSON.stringify(pm.managedFields) === JSON.stringify(meta(cur.obj).managedFields))
      delete pm.managedFields;
    return updateObj(def, ns, name, patched as Obj, sub, dryRun, who);
  }

  const objects: ObjectStore = {
    put(obj, opts = {}) {
      const def = findDef(String(obj.apiVersion), String(obj.kind));
      const m = meta(obj);
      const ns = def.namespaced ? String(m.namespace ?? "default") : undefined;
      const name = String(m.name);
      const body = clone(obj);
      const bm = meta(body);
      delete bm.resourceVersion;
      const who: ManagerId | undefined =
        opts.manager === undefined
          ? undefined
          : {
              manager: opts.manager,
              operation: opts.operation ?? "Update",
              apiVersion: String(obj.apiVersion),
              subresource: "",
            };
      if (store.has(storeKey(def, ns, name))) {
        // Administrator write: both the main resource and status, unconditional.
        const cur = store.get(storeKey(def, ns, name)) as Stored;
        const next = clone(body);
        const om = meta(cur.obj);
        const nm = meta(next);
        for (const f of ["uid", "creationTimestamp"]) nm[f] = om[f];
        nm.namespace = om.namespace;
        nm.generation = sameOutside(cur.obj, next) ? om.generation : Number(om.generation ?? 1) + 1;
        if (nm.namespace === undefined) delete nm.namespace;
        const sent = decodeManaged(nm.managedFields);
        delete nm.managedFields;
        const managed = own(sent ?? cur.managed, cur.obj, next, who);
        setManaged(nm, managed);
        nm.resourceVersion = nextRv();
        cur.obj = next;
        cur.managed = managed;
        emit("MODIFIED", def, next);
        return clone(next);
      }
      return createObj(def, ns, body, false, who);
    },
    get(apiVersion, kind, namespace, name) {
      const def = findDef(apiVersion, kind);
      const s = store.get(storeKey(def, def.namespaced ? namespace : undefined, name));
      return s === undefined ? undefined : served_(s.obj, def, apiVersion.split("/").pop() ?? "");
    },
    remove(apiVersion, kind, namespace, name) {
      const def = findDef(apiVersion, kind);
      const k = storeKey(def, def.namespaced ? namespace : undefined, name);
      const s = store.get(k);
      if (s === undefined) return false;
      store.delete(k);
      const gone = clone(s.obj);
      meta(gone).resourceVersion = nextRv();
      emit("DELETED", def, gone);
      return true;
    },
    list(apiVersion, kind) {
      const def = findDef(apiVersion, kind);
      return sortedOf(def, undefined).map((o) => served_(o, def, apiVersion.split("/").pop() ?? ""));
    },
  };

  function sortedOf(def: ResourceDef, ns: string | undefined): Obj[] {
    const out: Obj[] = [];
    for (const s of store.values()) {
      if (s.def !== def) continue;
      if (ns !== undefined && meta(s.obj).namespace !== ns) continue;
      out.push(s.obj);
    }
    return out.sort((a, b) => compareKey(objKey(a), objKey(b)));
  }

  // ------------------------------------------------------------------------------------------------------
  // HTTP

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err =
        e instanceof HttpError
          ? e
          : new HttpError(500, "InternalError", `Internal error occurred: ${(e as Error).message}`);
      if (!res.headersSent) sendJson(res, err.code, err.status);
      else res.destroy();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://double");
    const method = req.method ?? "GET";
    const route = parsePath(url.pathname);
    const query = url.searchParams;
    const isWatch = query.get("watch") === "true" || query.get("watch") === "1";
    const verb =
      route.kind === "discovery"
        ? "discovery"
        : route.kind === "resource"
          ? verbOf(method, route.name !== undefined, isWatch)
          : method.toLowerCase();
    const resource = route.kind === "resource" ? route.resource : "";
    const contentType = req.headers["content-type"]?.split(";")[0]?.trim();
    const rec: MutableRecord = {
      verb,
      resource,
      namespace: route.kind === "resource" ? route.namespace : undefined,
      name: route.kind === "resource" ? route.name : undefined,
      subresource: route.kind === "resource" ? route.sub : undefined,
      method,
      path: url.pathname,
      contentType,
      fieldManager: query.get("fieldManager") ?? undefined,
      dryRun: query.get("dryRun") === "All",
      wrote: false,
    };
    requests.push(rec);

    if (req.headers.authorization !== `Bearer ${token}`) {
      await drain(req);
      throw new HttpError(401, "Unauthorized", "Unauthorized");
    }
    const rule = failRules.find(
      (r) =>
        r.count > 0 &&
        (r.verb === undefined || r.verb === verb) &&
        (r.resource === undefined || r.resource === resource),
    );
    if (rule !== undefined) {
      rule.count--;
      await drain(req);
      throw new HttpError(
        rule.status,
        REASONS[rule.status] ?? "InternalError",
        `injected fault (API double): HTTP ${rule.status}`,
      );
    }

    const hold = holds.find(
      (h) => !h.released && h.verb === verb && (h.resource === undefined || h.resource === resource),
    );
    if (hold !== undefined) await new Promise<void>((resolve) => hold.held.push(resolve));

    if (route.kind === "discovery") {
      sendJson(res, 200, discovery(url.pathname));
      return;
    }
    if (route.kind === "unknown") throw notFoundPath();
    const def = defs.find((d) => qualified(d) === route.resource && d.versions.includes(route.version));
    if (def === undefined || !served(def)) throw notFoundPath();
    if (def.namespaced !== (route.namespace !== undefined) && !(def.namespaced && route.name === undefined)) {
      throw notFoundPath();
    }
    if (route.sub !== undefined && !(route.sub === "status" && def.statusSubresource)) throw notFoundPath();
    const dryRun = query.get("dryRun") === "All";
    const ns = route.namespace;
    // Update-type writes are recorded under `fieldManager`, else the user agent's product name.
    const updater: ManagerId = {
      manager: (
        query.get("fieldManager") ||
        String(req.headers["user-agent"] ?? "").split("/")[0] ||
        "unknown"
      ).slice(0, 128),
      operation: "Update",
      apiVersion: apiVersionOf(def, route.version),
      subresource: route.sub ?? "",
    };
    /** Runs a synchronous write and notes whether it changed stored state. */
    const write = <T>(fn: () => T): T => {
      const before = rv;
      const out = fn();
      rec.wrote = rv !== before;
      return out;
    };

    switch (verb) {
      case "get": {
        const s = store.get(storeKey(def, ns, route.name ?? ""));
        if (s === undefined) {
          throw new HttpError(
            404,
            "NotFound",
            `${qualified(def)} "${route.name}" not found`,
            details(def, route.name ?? ""),
          );
        }
        sendJson(res, 200, served_(s.obj, def, route.version));
        return;
      }
      case "list":
        sendJson(res, 200, list(def, route.version, ns, query));
        return;
      case "watch":
        watch(def, route.version, ns, query, req, res);
        return;
      case "create": {
        const body = await readJson(req);
        const out = write(() => createObj(def, ns, body, dryRun, updater));
        sendJson(res, 201, served_(out, def, route.version));
        return;
      }
      case "update": {
        const body = await readJson(req);
        const out = write(() => updateObj(def, ns, route.name ?? "", body, route.sub, dryRun, updater));
        sendJson(res, 200, served_(out, def, route.version));
        return;
      }
      case "patch": {
        const name = route.name ?? "";
        if (contentType === APPLY) {
          const raw = await readBody(req);
          const manager = query.get("fieldManager") ?? "";
          if (manager === "")
            throw patchOptionsInvalid("fieldManager", "Required", "is required for apply patch");
          const body = parseApplyBody(raw);
          checkApplyBody(body, def, route.version, ns, name);
          const force = query.get("force") === "true";
          const out = write(() =>
            applyObj(def, route.version, ns, name, body, manager, force, route.sub, dryRun),
          );
          sendJson(res, out.created ? 201 : 200, served_(out.obj, def, route.version));
          return;
        }
        const body = await readJsonAny(req);
        if (query.has("force")) {
          throw patchOptionsInvalid("force", "Forbidden", "may not be specified for non-apply patch");
        }
        const out = write(() => patchObj(def, ns, name, contentType ?? "", body, route.sub, dryRun, updater));
        sendJson(res, 200, served_(out, def, route.version));
        return;
      }
      case "delete": {
        const raw = await readBody(req);
        const options = raw.length === 0 ? {} : parseObj(raw);
        const out = write(() => deleteObj(def, ns, route.name ?? "", options, dryRun));
        sendJson(res, 200, served_(out, def, route.version));
        return;
      }
      default:
        await drain(req);
        throw new HttpError(
          405,
          "MethodNotAllowed",
          `the server does not allow this method on the requested resource`,
        );
    }
  }

  function list(def: ResourceDef, version: string, ns: string | undefined, query: URLSearchParams): Obj {
    const match = selectors(query);
    let items = sortedOf(def, ns).filter(match);
    let listRv = String(rv);
    const cont = query.get("continue");
    if (cont !== null && cont !== "") {
      let token: { rv: string; after: string };
      try {
        token = JSON.parse(Buffer.from(cont, "base64").toString("utf8")) as typeof token;
      } catch {
        throw new HttpError(400, "BadRequest", "continue key is not valid: invalid base64");
      }
      if (Number(token.rv) < compactedAt) {
        throw new HttpError(
          410,
          "Expired",
          "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
        );
      }
      listRv = token.rv;
      items = items.filter((o) => compareKey(objKey(o), token.after) > 0);
    }
    const limit = Number(query.get("limit") ?? "0");
    const listMeta: Record<string, unknown> = { resourceVersion: listRv };
    if (limit > 0 && items.length > limit) {
      const remaining = items.length - limit;
      items = items.slice(0, limit);
      const last = items[items.length - 1] as Obj;
      listMeta.continue = Buffer.from(JSON.stringify({ rv: listRv, after: objKey(last) })).toString("base64");
      listMeta.remainingItemCount = remaining;
    }
    return {
      kind: `${def.kind}List`,
      apiVersion: apiVersionOf(def, version),
      metadata: listMeta,
      items: items.map((o) => {
        const out = served_(o, def, version);
        if (def.builtIn) {
          delete out.apiVersion;
          delete out.kind;
        }
        return out;
      }),
    };
  }

  function watch(
    def: ResourceDef,
    version: string,
    ns: string | undefined,
    query: URLSearchParams,
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): void {
    const from = query.get("resourceVersion");
    const fromRv = from === null || from === "" || from === "0" ? undefined : Number(from);
    if (fromRv !== undefined && !Number.isFinite(fromRv)) {
      throw new HttpError(400, "BadRequest", `resourceVersion: Invalid value: "${from}": must be a number`);
    }
    const expired = fromRv !== undefined && fromRv < compactedAt;
    if (expired && opts.goneAsHttp === true) {
      throw new HttpError(410, "Expired", `too old resource version: ${fromRv} (${compactedAt})`);
    }
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    const w: WatchConn = {
      def,
      version,
      namespace: ns,
      match: selectors(query),
      bookmarks: query.get("allowWatchBookmarks") === "true",
      res,
      silent: false,
    };
    if (expired) {
      sendEvent(
        w,
        "ERROR",
        new HttpError(410, "Expired", `too old resource version: ${fromRv} (${compactedAt})`).status,
      );
      res.end();
      return;
    }
    if (fromRv === undefined) {
      for (const o of sortedOf(def, ns)) sendEvent(w, "ADDED", o);
    } else {
      for (const ev of history) if (ev.def === def && ev.rv > fromRv) sendEvent(w, ev.type, ev.obj);
    }
    watches.add(w);
    const timeout = Number(query.get("timeoutSeconds") ?? "0");
    if (timeout > 0) w.timer = setTimeout(() => res.end(), timeout * 1000);
    const gone = () => {
      if (w.timer !== undefined) clearTimeout(w.timer);
      watches.delete(w);
    };
    res.on("close", gone);
    req.on("close", gone);
  }

  function discovery(path: string): Obj {
    const groups = new Map<string, string[]>();
    for (const d of defs) {
      if (d.group === "" || !served(d)) continue;
      const vs = groups.get(d.group) ?? [];
      for (const v of d.versions) if (!vs.includes(v)) vs.push(v);
      groups.set(d.group, vs);
    }
    if (path === "/version") {
      return { major: "1", minor: "33", gitVersion: "v1.33.0-casskeeper-double", platform: "linux/amd64" };
    }
    if (path === "/api") {
      return {
        kind: "APIVersions",
        versions: ["v1"],
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }],
      };
    }
    const groupObj = (name: string, vs: string[]) => ({
      name,
      versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0] },
    });
    if (path === "/apis") {
      return {
        kind: "APIGroupList",
        apiVersion: "v1",
        groups: [...groups].map(([n, vs]) => groupObj(n, vs)),
      };
    }
    const parts = path.split("/").filter((p) => p !== "");
    const [root, a, b] = parts;
    const group = root === "api" ? "" : (a ?? "");
    const version = root === "api" ? (a ?? "") : (b ?? "");
    if (root === "apis" && b === undefined) {
      const vs = groups.get(group);
      if (vs === undefined) throw notFoundPath();
      return { kind: "APIGroup", apiVersion: "v1", ...groupObj(group, vs) };
    }
    const resources = defs.filter((d) => d.group === group && d.versions.includes(version) && served(d));
    if (resources.length === 0) throw notFoundPath();
    return {
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: apiVersionOf({ group } as ResourceDef, version),
      resources: resources.flatMap((d) => [
        { name: d.plural, singularName: d.singular, namespaced: d.namespaced, kind: d.kind, verbs: VERBS },
        ...(d.statusSubresource
          ? [
              {
                name: `${d.plural}/status`,
                singularName: "",
                namespaced: d.namespaced,
                kind: d.kind,
                verbs: ["get", "patch", "update"],
              },
            ]
          : []),
      ]),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    token,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: "double", server: url, skipTLSVerify: true }],
        users: [{ name: "double", token }],
        contexts: [{ name: "double", cluster: "double", user: "double", namespace: "default" }],
        currentContext: "double",
      });
      return kc;
    },
    objects,
    resourceVersion: () => String(rv),
    requests,
    count(verb, resource) {
      return requests.filter((r) => r.verb === verb && (resource === undefined || r.resource === resource))
        .length;
    },
    writes(resource) {
      return requests.filter((r) => r.wrote && (resource === undefined || r.resource === resource)).length;
    },
    resetCounts() {
      requests.length = 0;
    },
    compact() {
      compactedAt = rv;
      history = [];
    },
    bookmark() {
      for (const w of watches) {
        if (!w.bookmarks) continue;
        sendEvent(w, "BOOKMARK", {
          kind: w.def.kind,
          apiVersion: apiVersionOf(w.def, w.version),
          metadata: { resourceVersion: String(rv) },
        });
      }
    },
    dropWatches(how = "destroy") {
      for (const w of [...watches]) {
        watches.delete(w);
        if (how === "end") w.res.end();
        else w.res.destroy();
      }
    },
    expireWatches() {
      compactedAt = rv;
      history = [];
      for (const w of [...watches]) {
        watches.delete(w);
        sendEvent(
          w,
          "ERROR",
          new HttpError(410, "Expired", `too old resource version: ${rv} (${compactedAt})`).status,
        );
        w.res.end();
      }
    },
    silenceWatches() {
      for (const w of watches) w.silent = true;
    },
    failNext(count, o = {}) {
      failRules.push({ count, status: o.status ?? 500, verb: o.verb, resource: o.resource });
    },
    clearFaults() {
      failRules.length = 0;
    },
    hold(verb, resource) {
      const h = { verb, resource, held: [] as (() => void)[], released: false };
      holds.push(h);
      return {
        waiting: () => h.held.length,
        release() {
          h.released = true;
          for (const r of h.held.splice(0)) r();
        },
      };
    },
    serve(groupOrResource, on) {
      if (on) unserved.delete(groupOrResource);
      else unserved.add(groupOrResource);
    },
    openWatches: () => [...watches].filter((w) => !w.res.destroyed && !w.res.writableEnded).length,
    async close() {
      for (const w of watches) w.res.destroy();
      watches.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Paths

type Route =
  | { kind: "discovery" }
  | { kind: "unknown" }
  | {
      kind: "resource";
      version: string;
      /** `plural` or `plural.group`. */
      resource: string;
      namespace: string | undefined;
      name: string | undefined;
      sub: string | undefined;
    };

function parsePath(pathname: string): Route {
  if (["/version", "/api", "/apis"].includes(pathname)) return { kind: "discovery" };
  const parts = pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    version = parts[1] ?? "";
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 2) {
    group = parts[1] ?? "";
    if (parts.length === 2) return { kind: "discovery" };
    version = parts[2] ?? "";
    rest = parts.slice(3);
  } else {
    return { kind: "unknown" };
  }
  if (rest.length === 0) return { kind: "discovery" };
  const q = (plural: string) => (group === "" ? plural : `${plural}.${group}`);
  // /namespaces/{ns}/{resource}[/{name}[/{sub}]] — or the namespaces resource itself when group is core.
  if (
    rest[0] === "namespaces" &&
    rest.length >= 3 &&
    !(group === "" && rest.length === 3 && rest[2] === "status")
  ) {
    return {
      kind: "resource",
      version,
      resource: q(rest[2] ?? ""),
      namespace: rest[1],
      name: rest[3],
      sub: rest[4],
    };
  }
  return {
    kind: "resource",
    version,
    resource: q(rest[0] ?? ""),
    namespace: undefined,
    name: rest[1],
    sub: rest[2],
  };
}

function verbOf(method: string, named: boolean, isWatch: boolean): string {
  switch (method) {
    case "GET":
      return isWatch ? "watch" : named ? "get" : "list";
    case "POST":
      return named ? "post-named" : "create";
    case "PUT":
      return named ? "update" : "put-collection";
    case "PATCH":
      return named ? "patch" : "patch-collection";
    case "DELETE":
      return named ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}

function notFoundPath(): HttpError {
  return new HttpError(404, "NotFound", "the server could not find the requested resource", {});
}

function details(def: ResourceDef, name: string): Record<string, unknown> {
  return def.group === "" ? { name, kind: def.plural } : { name, group: def.group, kind: def.plural };
}

function conflict(def: ResourceDef, name: string): HttpError {
  return new HttpError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(def)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    details(def, name),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Selectors

function selectors(query: URLSearchParams): (o: Obj) => boolean {
  const tests: ((o: Obj) => boolean)[] = [];
  for (const term of splitTerms(query.get("labelSelector"))) {
    const m = /^(!?)([^!=]+?)\s*(?:(==|=|!=)\s*(.*))?$/.exec(term);
    if (m === null || term.includes(" in ") || term.includes(" notin ")) {
      throw new HttpError(
        400,
        "BadRequest",
        `unable to parse requirement: the API double models only =, ==, != and existence: ${term}`,
      );
    }
    const [, not, k = "", op, v] = m;
    const labels = (o: Obj) => (isObj(meta(o).labels) ? (meta(o).labels as Record<string, string>) : {});
    if (op === undefined) tests.push((o) => k in labels(o) !== (not === "!"));
    else if (op === "!=") tests.push((o) => labels(o)[k] !== v);
    else tests.push((o) => labels(o)[k] === v);
  }
  for (const term of splitTerms(query.get("fieldSelector"))) {
    const m = /^(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (m === null) {
      throw new HttpError(400, "BadRequest", `field label not supported by the API double: ${term}`);
    }
    const [, field = "", op, v] = m;
    const get = (o: Obj) => meta(o)[field.slice("metadata.".length)];
    tests.push(op === "!=" ? (o) => get(o) !== v : (o) => get(o) === v);
  }
  return (o) => tests.every((t) => t(o));
}

function splitTerms(s: string | null): string[] {
  return s === null || s.trim() === "" ? [] : s.split(",").map((t) => t.trim());
}

// ---------------------------------------------------------------------------------------------------------
// Patches

/** RFC 7386. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902, with the API server's (evanphx/json-patch) messages where a client might show them. */
function jsonPatch(doc: unknown, ops: unknown[]): unknown {
  let root = doc;
  for (const raw of ops) {
    if (!isObj(raw) || typeof raw.op !== "string" || typeof raw.path !== "string") {
      throw new Error("invalid JSON patch operation");
    }
    const op = raw.op;
    const path = parsePointer(raw.path);
    switch (op) {
      case "test": {
        const cur = getAt(root, path);
        if (JSON.stringify(canonical(cur)) !== JSON.stringify(canonical(raw.value))) {
          throw new Error(`testing value ${raw.path} failed: test failed`);
        }
        break;
      }
      case "add":
        root = setAt(root, path, clone(raw.value), "add");
        break;
      case "replace":
        getAt(root, path, true);
        root = setAt(root, path, clone(raw.value), "replace");
        break;
      case "remove":
        root = removeAt(root, path);
        break;
      case "move":
      case "copy": {
        if (typeof raw.from !== "string") throw new Error(`${op} operation missing from`);
        const from = parsePointer(raw.from);
        const v = clone(getAt(root, from, true));
        if (op === "move") root = removeAt(root, from);
        root = setAt(root, path, v, "add");
        break;
      }
      default:
        throw new Error(`Unexpected kind: ${op}`);
    }
  }
  return root;
}

function parsePointer(p: string): string[] {
  if (p === "") return [];
  if (!p.startsWith("/")) throw new Error(`invalid JSON pointer: ${p}`);
  return p
    .slice(1)
    .split("/")
    .map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function getAt(doc: unknown, path: string[], must = false): unknown {
  let cur: unknown = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isObj(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) {
      if (must) throw new Error(`doc is missing path: /${path.join("/")}: missing value`);
      return undefined;
    }
  }
  return cur;
}

function setAt(doc: unknown, path: string[], value: unknown, mode: "add" | "replace"): unknown {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length)
      throw new Error(`add operation does not apply: doc is missing path: /${path.join("/")}`);
    if (mode === "add") parent.splice(i, 0, value);
    else parent[i] = value;
  } else if (isObj(parent)) {
    parent[last] = value;
  } else {
    throw new Error(`add operation does not apply: doc is missing path: "/${path.join("/")}": missing value`);
  }
  return doc;
}

function removeAt(doc: unknown, path: string[]): unknown {
  const parent = getAt(doc, path.slice(0, -1), true);
  const last = path[path.length - 1] as string;
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length)
      throw new Error(`remove operation does not apply: doc is missing path: "/${path.join("/")}"`);
    parent.splice(i, 1);
  } else if (isObj(parent) && last in parent) {
    delete parent[last];
  } else {
    throw new Error(
      `remove operation does not apply: doc is missing path: "/${path.join("/")}": missing value`,
    );
  }
  return doc;
}

// ---------------------------------------------------------------------------------------------------------
// Server-side apply and field management

const APPLY = "application/apply-patch+yaml";

/** Metadata the server owns: never in a manager's set (the real server's stripMeta set, plus deletion). */
const SERVER_META = new Set([
  "name",
  "namespace",
  "creationTimestamp",
  "selfLink",
  "uid",
  "generation",
  "managedFields",
  "resourceVersion",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
]);

/** Metadata an apply cannot change: taken from the stored object. */
const READ_ONLY_META = [
  "uid",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "generation",
  "resourceVersion",
  "selfLink",
];

function nowSeconds(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

/** A 422 on the PatchOptions, as `ValidatePatchOptions` answers (k8s.io/apiserver handlers/patch.go). */
function patchOptionsInvalid(field: string, type: "Required" | "Forbidden", detail: string): HttpError {
  const message = `${type === "Required" ? "Required value" : "Forbidden"}: ${detail}`;
  return new HttpError(422, "Invalid", `PatchOptions.meta.k8s.io "" is invalid: ${field}: ${message}`, {
    group: "meta.k8s.io",
    kind: "PatchOptions",
    causes: [{ reason: `FieldValue${type}`, message, field }],
  });
}

/** The apply body: YAML, of which JSON is a subset (client-node sends JSON). */
function parseApplyBody(raw: Buffer): Obj {
  const text = raw.toString("utf8");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    try {
      v = parseYaml(text, { maxAliasCount: 100 });
    } catch (e) {
      throw new HttpError(400, "BadRequest", `error decoding YAML: ${(e as Error).message}`);
    }
  }
  if (!isObj(v)) throw new HttpError(400, "BadRequest", "error decoding YAML: the body is not an object");
  return v as Obj;
}

function checkApplyBody(
  body: Obj,
  def: ResourceDef,
  version: string,
  ns: string | undefined,
  name: string,
): void {
  const gv = apiVersionOf(def, version);
  if (body.apiVersion !== gv) {
    throw new HttpError(
      400,
      "BadRequest",
      `Incorrect version specified in apply patch. Specified patch version: ${String(body.apiVersion ?? "")}, expected: ${gv}`,
    );
  }
  if (body.kind !== def.kind) {
    throw new HttpError(
      400,
      "BadRequest",
      `the kind of the apply patch (${String(body.kind ?? "")}) does not match the kind of the resource (${def.kind})`,
    );
  }
  const m = isObj(body.metadata) ? body.metadata : {};
  if (m.managedFields !== undefined)
    throw new HttpError(400, "BadRequest", "metadata.managedFields must be nil");
  if (m.name !== name) {
    throw new HttpError(
      400,
      "BadRequest",
      `the name of the object (${String(m.name ?? "")}) does not match the name on the URL (${name})`,
    );
  }
  if (def.namespaced && m.namespace !== undefined && m.namespace !== ns) {
    throw new HttpError(
      400,
      "BadRequest",
      "the namespace of the provided object does not match the namespace sent on the request",
    );
  }
}

/** Every leaf of an object a manager can own, keyed by its path (a JSON array), with its value's JSON. */
function leafMap(o: Obj): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string[], v: unknown): void => {
    if (v === undefined) return;
    if (isObj(v) && Object.keys(v).length > 0) {
      for (const [k, c] of Object.entries(v)) walk([...path, k], c);
      return;
    }
    out.set(JSON.stringify(path), JSON.stringify(canonical(v)));
  };
  for (const [k, v] of Object.entries(o)) {
    if (k === "apiVersion" || k === "kind") continue;
    if (k === "metadata" && isObj(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SERVER_META.has(mk)) walk([k, mk], mv);
      continue;
    }
    walk([k], v);
  }
  return out;
}

function diffLeaves(before: Obj, after: Obj): { changed: Set<string>; removed: Set<string> } {
  const a = leafMap(before);
  const b = leafMap(after);
  const changed = new Set<string>();
  for (const [p, v] of b) if (a.get(p) !== v) changed.add(p);
  const removed = new Set<string>();
  for (const p of a.keys()) if (!b.has(p)) removed.add(p);
  return { changed, removed };
}

/** Apply's merge: maps merge key by key, anything else (scalars, lists) is replaced. */
function mergeApply(live: unknown, cfg: unknown): unknown {
  if (isObj(cfg) && isObj(live)) {
    const out: Record<string, unknown> = { ...live };
    for (const [k, v] of Object.entries(cfg)) out[k] = mergeApply(live[k], v);
    return out;
  }
  return clone(cfg);
}

function dropNulls(v: unknown): unknown {
  if (!isObj(v)) return v;
  for (const [k, c] of Object.entries(v)) {
    if (c === null) delete v[k];
    else dropNulls(c);
  }
  return v;
}

/** Removes a leaf, then the maps its removal left empty (never `metadata` itself). */
function removePath(root: Obj, segs: string[]): void {
  const chain: Record<string, unknown>[] = [root];
  let node: unknown = root;
  for (const seg of segs.slice(0, -1)) {
    node = isObj(node) ? node[seg] : undefined;
    if (!isObj(node)) return;
    chain.push(node);
  }
  delete (chain[chain.length - 1] as Record<string, unknown>)[segs[segs.length - 1] as string];
  for (let i = chain.length - 1; i >= 1; i--) {
    if (Object.keys(chain[i] as object).length > 0) break;
    if (i === 1 && segs[0] === "metadata") break;
    delete (chain[i - 1] as Record<string, unknown>)[segs[i - 1] as string];
  }
}

function sameManager(a: ManagerId, b: ManagerId): boolean {
  return (
    a.manager === b.manager &&
    a.operation === b.operation &&
    a.subresource === b.subresource &&
    (a.operation === "Apply" || a.apiVersion === b.apiVersion)
  );
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  return a.size === b.size && [...a].every((p) => b.has(p));
}

/** Same entries and sets, times aside. */
function sameOwnership(a: readonly ManagedEntry[], b: readonly ManagedEntry[]): boolean {
  const key = (l: readonly ManagedEntry[]) =>
    l
      .map((e) => JSON.stringify([e.manager, e.operation, e.apiVersion, e.subresource, [...e.fields].sort()]))
      .sort()
      .join("\n");
  return key(a) === key(b);
}

/**
 * Ownership after a write from `before` to `after`: removed leaves leave every set; the writer takes the
 * leaves it changed from everyone else (an Update cannot conflict) — an "Apply" writer (the test store's
 * `put`) takes every leaf of the object.
 */
function own(
  managed: readonly ManagedEntry[],
  before: Obj,
  after: Obj,
  who: ManagerId | undefined,
): ManagedEntry[] {
  const { changed, removed } = diffLeaves(before, after);
  const taken = who?.operation === "Apply" ? new Set(leafMap(after).keys()) : changed;
  const out: ManagedEntry[] = [];
  let mine: ManagedEntry | undefined;
  for (const e of managed) {
    if (who !== undefined && sameManager(e, who)) {
      mine = e;
      continue;
    }
    const fields = new Set(
      [...e.fields].filter((p) => !removed.has(p) && !(who !== undefined && taken.has(p))),
    );
    if (fields.size > 0) out.push({ ...e, fields });
  }
  if (who !== undefined) {
    const fields =
      who.operation === "Apply"
        ? new Set(taken)
        : new Set([...(mine?.fields ?? []), ...taken].filter((p) => !removed.has(p)));
    const time = taken.size > 0 || mine === undefined ? nowSeconds() : mine.time;
    if (fields.size > 0) out.push({ ...who, time, fields });
  }
  return out;
}

function setManaged(m: Record<string, unknown>, managed: readonly ManagedEntry[]): void {
  delete m.managedFields;
  if (managed.length === 0) return;
  m.managedFields = [...managed]
    .sort(
      (a, b) =>
        compareKey(a.operation, b.operation) ||
        compareKey(a.time ?? "", b.time ?? "") ||
        compareKey(a.manager, b.manager) ||
        compareKey(a.apiVersion, b.apiVersion) ||
        compareKey(a.subresource, b.subresource),
    )
    .map((e) => ({
      manager: e.manager,
      operation: e.operation,
      apiVersion: e.apiVersion,
      ...(e.time === undefined ? {} : { time: e.time }),
      fieldsType: "FieldsV1",
      fieldsV1: toFieldsV1(e.fields),
      ...(e.subresource === "" ? {} : { subresource: e.subresource }),
    }));
}

/** FieldsV1: nested `f:<field>` keys, `{}` at a leaf, `.` when a node is itself owned and has children. */
function toFieldsV1(fields: ReadonlySet<string>): Record<string, unknown> {
  interface Node {
    self: boolean;
    kids: Map<string, Node>;
  }
  const root: Node = { self: false, kids: new Map() };
  for (const p of fields) {
    let node = root;
    for (const seg of JSON.parse(p) as string[]) {
      let next = node.kids.get(seg);
      if (next === undefined) {
        next = { self: false, kids: new Map() };
        node.kids.set(seg, next);
      }
      node = next;
    }
    node.self = true;
  }
  const render = (n: Node): Record<string, unknown> => {
    const out: Record<string, unknown> = n.self && n.kids.size > 0 ? { ".": {} } : {};
    for (const k of [...n.kids.keys()].sort()) out[`f:${k}`] = render(n.kids.get(k) as Node);
    return out;
  };
  return render(root);
}

/**
 * `metadata.managedFields` as sent by a client or a test; undefined when absent or empty (keep the stored
 * ones). Entries left with no fields are dropped (`[{}]` clears). `.` markers are ignored; list items
 * (`k:`, `v:`, `i:`) are read as the whole list.
 */
function decodeManaged(v: unknown): ManagedEntry[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const out: ManagedEntry[] = [];
  for (const e of v) {
    if (!isObj(e)) continue;
    const fields = new Set<string>();
    fromFieldsV1(e.fieldsV1, [], fields);
    if (fields.size === 0) continue;
    out.push({
      manager: String(e.manager ?? ""),
      operation: e.operation === "Apply" ? "Apply" : "Update",
      apiVersion: String(e.apiVersion ?? ""),
      subresource: String(e.subresource ?? ""),
      time: typeof e.time === "string" ? e.time : undefined,
      fields,
    });
  }
  return out;
}

function fromFieldsV1(node: unknown, prefix: string[], out: Set<string>): void {
  if (!isObj(node)) return;
  for (const [k, child] of Object.entries(node)) {
    if (!k.startsWith("f:")) continue;
    const p = [...prefix, k.slice(2)];
    if (isObj(child) && Object.keys(child).some((c) => c.startsWith("f:"))) fromFieldsV1(child, p, out);
    else out.add(JSON.stringify(p));
  }
}

/** fieldpath's `Path.String()`: `.metadata.labels.app`. */
function pathString(p: string): string {
  return (JSON.parse(p) as string[]).map((s) => `.${s}`).join("");
}

/** As apimachinery's managedfields/internal/conflict.go `printManager`. */
function printManager(e: ManagerId): string {
  const sub = e.subresource === "" ? "" : ` with subresource ${JSON.stringify(e.subresource)}`;
  const using = e.operation === "Update" ? ` using ${e.apiVersion}` : "";
  return `${JSON.stringify(e.manager)}${sub}${using}`;
}

/** The real server's apply conflict: NewConflictError / getConflictMessage (managedfields/internal/conflict.go). */
function applyConflict(list: readonly { entry: ManagedEntry; path: string }[]): HttpError {
  const ident = (e: ManagerId) =>
    JSON.stringify({
      manager: e.manager,
      operation: e.operation,
      ...(e.operation === "Update" ? { apiVersion: e.apiVersion } : {}),
      ...(e.subresource === "" ? {} : { subresource: e.subresource }),
    });
  const sorted = [...list].sort(
    (a, b) => compareKey(ident(a.entry), ident(b.entry)) || compareKey(a.path, b.path),
  );
  const causes = sorted.map((c) => ({
    reason: "FieldManagerConflict",
    message: `conflict with ${printManager(c.entry)}`,
    field: pathString(c.path),
  }));
  let message: string;
  const first = sorted[0] as { entry: ManagedEntry; path: string };
  if (sorted.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(first.entry)}: ${pathString(first.path)}`;
  } else {
    const lines: string[] = [];
    let last = "";
    for (const c of sorted) {
      if (ident(c.entry) !== last) lines.push(`conflicts with ${printManager(c.entry)}:`);
      last = ident(c.entry);
      lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join("\n")}`;
  }
  return new HttpError(409, "Conflict", message, { causes });
}

// ---------------------------------------------------------------------------------------------------------
// Helpers

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function meta(o: Obj): Record<string, unknown> {
  if (!isObj(o.metadata)) o.metadata = {};
  return o.metadata as Record<string, unknown>;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}

function withoutRv(o: Obj): unknown {
  const c = clone(o);
  delete meta(c).resourceVersion;
  delete meta(c).managedFields;
  return canonical(c);
}

/** True when nothing outside metadata and status changed (generation stays). */
function sameOutside(a: Obj, b: Obj): boolean {
  const strip = (o: Obj) =>
    canonical(Object.fromEntries(Object.entries(o).filter(([k]) => k !== "metadata" && k !== "status")));
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function hasFinalizers(o: Obj): boolean {
  const f = meta(o).finalizers;
  return Array.isArray(f) && f.length > 0;
}

function objKey(o: Obj): string {
  return `${String(meta(o).namespace ?? "")}/${String(meta(o).name)}`;
}

function compareKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The stored object as served under `version`: a copy with that apiVersion (no conversion). */
function served_(o: Obj, def: ResourceDef, version: string): Obj {
  const c = clone(o);
  c.apiVersion = apiVersionOf(def, version);
  c.kind = def.kind;
  return c;
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        req.removeAllListeners("data");
        req.resume();
        reject(new HttpError(413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function drain(req: http.IncomingMessage): Promise<void> {
  try {
    await readBody(req);
  } catch {
    // the error answer follows anyway
  }
}

function parseObj(raw: Buffer): Obj {
  const v = parseAny(raw);
  if (!isObj(v)) throw new HttpError(400, "BadRequest", "the body of the request is not a JSON object");
  return v as Obj;
}

function parseAny(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (e) {
    throw new HttpError(
      400,
      "BadRequest",
      `the body of the request was in an unknown format: ${(e as Error).message}`,
    );
  }
}

async function readJson(req: http.IncomingMessage): Promise<Obj> {
  return parseObj(await readBody(req));
}

async function readJsonAny(req: http.IncomingMessage): Promise<unknown> {
  return parseAny(await readBody(req));
}
