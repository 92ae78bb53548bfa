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
//   changes outside metadata and status; one cluster-wide, monotonically increasing resourceVersion;
// - errors as `Status` bodies with the real server's reasons and messages (NotFound, AlreadyExists,
//   Conflict, Invalid, Expired, MethodNotAllowed, UnsupportedMediaType, RequestEntityTooLarge, InternalError);
// - fault injection: drop every watch connection (socket destroyed, or ended cleanly), make open watches go
//   silent, expire them (ERROR 410 mid-stream), fail the next N requests (optionally of one verb/resource)
//   with a status, hold requests until released (to line up a race), and a log of every request by verb and
//   resource so tests can assert "no API call per admission request".
//
// WHAT IT DOES NOT MODEL (code that depends on these must be tested against a real cluster, test/e2e/):
// authentication beyond one token, RBAC and authorization, admission (webhooks, quotas, limit ranges), field
// validation and OpenAPI schemas (any JSON object is stored), defaulting, pruning of unknown fields,
// conversion between versions (an object is stored once and served under whichever version is asked, with
// only `apiVersion` rewritten), server-side apply, managedFields and field managers (until issue #4),
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
  /** Create or replace (status included) as an administrator would, emitting the watch event. Returns the stored copy. */
  put(obj: Obj): Obj;
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
  obj: Obj;
}

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
  function createObj(def: ResourceDef, ns: string | undefined, body: Obj, dryRun: boolean): Obj {
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
    m.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    m.generation = 1;
    delete m.deletionTimestamp;
    if (dryRun) return { ...obj, metadata: { ...m, resourceVersion: String(rv) } };
    m.resourceVersion = nextRv();
    store.set(k, { def, obj });
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
    next.metadata = nm;
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    if (!sameOutside(old, next)) nm.generation = Number(om.generation ?? 1) + 1;
    if (JSON.stringify(withoutRv(old)) === JSON.stringify(withoutRv(next))) return clone(old); // no-op keeps the rv
    if (dryRun) return { ...next, metadata: { ...nm, resourceVersion: om.resourceVersion } };
    nm.resourceVersion = nextRv();
    if (nm.deletionTimestamp !== undefined && !hasFinalizers(next)) {
      store.delete(k);
      emit("DELETED", def, next);
      return clone(next);
    }
    cur.obj = next;
    emit("MODIFIED", def, next);
    return clone(next);
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
    } else if (contentType === "application/apply-patch+yaml") {
      throw new HttpError(
        415,
        "UnsupportedMediaType",
        "server-side apply is not modeled by the API double (issue #4)",
      );
    } else {
      throw new HttpError(
        415,
        "UnsupportedMediaType",
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`,
      );
    }
    if (!isObj(patched)) throw new HttpError(422, "Invalid", "the patched object is not an object");
    // A resourceVersion in the result is a precondition, as for an update.
    const pm = meta(patched as Obj);
    if (pm.resourceVersion === undefined) pm.resourceVersion = meta(cur.obj).resourceVersion;
    return updateObj(def, ns, name, patched as Obj, sub, dryRun);
  }

  const objects: ObjectStore = {
    put(obj) {
      const def = findDef(String(obj.apiVersion), String(obj.kind));
      const m = meta(obj);
      const ns = def.namespaced ? String(m.namespace ?? "default") : undefined;
      const name = String(m.name);
      const body = clone(obj);
      const bm = meta(body);
      delete bm.resourceVersion;
      if (store.has(storeKey(def, ns, name))) {
        // Administrator write: both the main resource and status, unconditional.
        const cur = store.get(storeKey(def, ns, name)) as Stored;
        const next = clone(body);
        const om = meta(cur.obj);
        const nm = meta(next);
        for (const f of ["uid", "creationTimestamp"]) nm[f] = om[f];
        nm.namespace = om.namespace;
        nm.generation = sameOutside(cur.obj, next) ? om.generation : Number(om.generation ?? 1) + 1;
        nm.resourceVersion = nextRv();
        if (nm.namespace === undefined) delete nm.namespace;
        cur.obj = next;
        emit("MODIFIED", def, next);
        return clone(next);
      }
      return createObj(def, ns, body, false);
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
    requests.push({
      verb,
      resource,
      namespace: route.kind === "resource" ? route.namespace : undefined,
      name: route.kind === "resource" ? route.name : undefined,
      subresource: route.kind === "resource" ? route.sub : undefined,
      method,
      path: url.pathname,
    });

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
        sendJson(res, 201, served_(createObj(def, ns, body, dryRun), def, route.version));
        return;
      }
      case "update": {
        const body = await readJson(req);
        sendJson(
          res,
          200,
          served_(updateObj(def, ns, route.name ?? "", body, route.sub, dryRun), def, route.version),
        );
        return;
      }
      case "patch": {
        const ct = (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
        const body = await readJsonAny(req);
        const out = patchObj(def, ns, route.name ?? "", ct, body, route.sub, dryRun);
        sendJson(res, 200, served_(out, def, route.version));
        return;
      }
      case "delete": {
        const raw = await readBody(req);
        const options = raw.length === 0 ? {} : parseObj(raw);
        sendJson(
          res,
          200,
          served_(deleteObj(def, ns, route.name ?? "", options, dryRun), def, route.version),
        );
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
