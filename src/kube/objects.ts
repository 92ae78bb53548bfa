// Generic object calls over `kubeRequest` (client.ts): server-side apply, get, paged list, delete with
// preconditions, JSON merge patch, the apply conflicts of a 409, and an Event recorder.
//
// Apply is a PATCH with `application/apply-patch+yaml` and a JSON body (JSON is YAML), always with that
// content type: client-node's default strategic merge patch is refused by custom resources with 415
// (kubernetes-client/javascript#529). `fieldManager` is required by the server; `force` is sent as given.

import type { KubeConfig } from "@kubernetes/client-node";
import { ApiException } from "@kubernetes/client-node";
import { CasskeeperError } from "../core/errors.ts";
import { isRecord } from "../core/world-build.ts";
import { describeError, KubeApiError, kubeRequest, type Logger, statusCodeOf } from "./client.ts";

/** A resource: `group` "" for the core group. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

type Obj = Record<string, unknown>;

/**
 * The API path of a resource, a namespace's collection, one object or a subresource:
 * `/apis/db.orange.com/v2/namespaces/ns/cassandrabackups/b/status`. A namespaced resource without a
 * namespace is the cluster-wide collection; a cluster-scoped one ignores `namespace`.
 */
export function resourcePath(r: ResourceRef, namespace?: string, name?: string, sub?: string): string {
  let p = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (r.namespaced && namespace !== undefined) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.plural}`;
  if (name !== undefined) {
    p += `/${encodeURIComponent(name)}`;
    if (sub !== undefined) p += `/${encodeURIComponent(sub)}`;
  }
  return p;
}

function nameOf(obj: Obj): { namespace: string | undefined; name: string } {
  const m = isRecord(obj.metadata) ? obj.metadata : {};
  if (typeof m.name !== "string" || m.name === "") {
    throw new CasskeeperError("world", "kube-object-unnamed", "an object to apply has no metadata.name");
  }
  return { namespace: typeof m.namespace === "string" ? m.namespace : undefined, name: m.name };
}

function asObject(v: unknown, what: string): Obj {
  if (!isRecord(v)) throw new KubeApiError(0, "BadResponse", `${what}: the answer is not an object`);
  return v;
}

/**
 * Server-side apply of `obj` (apiVersion, kind, metadata.name, and metadata.namespace for a namespaced
 * resource) as `fieldManager`. Sent as given: fields left out are released (and removed when nobody else
 * owns them). A 409 is an apply conflict unless `force`: see `applyConflicts`. Returns the object as
 * stored (or as it would be, with `dryRun`).
 */
export async function applyObject(
  kc: KubeConfig,
  r: ResourceRef,
  obj: Record<string, unknown>,
  opts: { fieldManager: string; force?: boolean; dryRun?: boolean; signal?: AbortSignal },
): Promise<Record<string, unknown>> {
  const { namespace, name } = nameOf(obj);
  if (r.namespaced && namespace === undefined) {
    throw new CasskeeperError(
      "world",
      "kube-object-namespace",
      `${r.plural} "${name}" to apply has no metadata.namespace`,
    );
  }
  const out = await kubeRequest(kc, {
    method: "PATCH",
    path: resourcePath(r, namespace, name),
    query: {
      fieldManager: opts.fieldManager,
      force: opts.force,
      dryRun: opts.dryRun === true ? "All" : undefined,
    },
    body: obj,
    contentType: "application/apply-patch+yaml",
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  return asObject(out, `apply ${r.plural} "${name}"`);
}

/** The object, or undefined when the API answers 404. */
export async function getObject(
  kc: KubeConfig,
  r: ResourceRef,
  namespace: string | undefined,
  name: string,
): Promise<Record<string, unknown> | undefined> {
  try {
    return asObject(await kubeRequest(kc, { path: resourcePath(r, namespace, name) }), `get ${name}`);
  } catch (e) {
    if (statusCodeOf(e) === 404) return undefined;
    throw e;
  }
}

const DEFAULT_PAGE_SIZE = 500;
/** A bound on one list (every page together): beyond it the list is refused rather than held in memory. */
const DEFAULT_MAX_ITEMS = 100_000;
/** Restarts of a paged list whose `continue` token expired (410), as client-go's pager falls back. */
const MAX_LIST_RESTARTS = 3;

/**
 * Every object of a resource (in one namespace, or all), page by page (`limit`/`continue`). Items carry
 * apiVersion and kind even where the wire omits them (built-in lists). When a `continue` token expires
 * (410), the list starts again from the first page (at most 3 times).
 */
export async function listObjects(
  kc: KubeConfig,
  r: ResourceRef,
  opts: { namespace?: string; labelSelector?: string; pageSize?: number; maxItems?: number } = {},
): Promise<Record<string, unknown>[]> {
  const apiVersion = r.group === "" ? r.version : `${r.group}/${r.version}`;
  const maxItems = opts.maxItems ?? DEFAULT_MAX_ITEMS;
  for (let attempt = 0; ; attempt++) {
    const items: Obj[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = asObject(
          await kubeRequest(kc, {
            path: resourcePath(r, opts.namespace),
            query: {
              limit: opts.pageSize ?? DEFAULT_PAGE_SIZE,
              continue: cont,
              labelSelector: opts.labelSelector,
            },
          }),
          `list ${r.plural}`,
        );
        const kind = typeof page.kind === "string" ? page.kind.replace(/List$/, "") : undefined;
        for (const item of Array.isArray(page.items) ? page.items : []) {
          if (!isRecord(item)) continue;
          if (items.length >= maxItems) {
            throw new CasskeeperError(
              "world",
              "kube-list-too-large",
              `list of ${r.plural} has more than ${maxItems} items`,
            );
          }
          items.push({ apiVersion, ...(kind === undefined ? {} : { kind }), ...item });
        }
        const m = isRecord(page.metadata) ? page.metadata : {};
        cont = typeof m.continue === "string" && m.continue !== "" ? m.continue : undefined;
      } while (cont !== undefined);
      return items;
    } catch (e) {
      if (cont !== undefined && statusCodeOf(e) === 410 && attempt < MAX_LIST_RESTARTS) continue;
      throw e;
    }
  }
}

/**
 * Deletes an object; `uid`/`resourceVersion` are preconditions (a 409 when the object is another one or
 * changed since). "absent" when it was already gone (404). An object with finalizers is "deleted" once
 * its deletion is requested, though it stays until they are removed.
 */
export async function deleteObject(
  kc: KubeConfig,
  r: ResourceRef,
  namespace: string | undefined,
  name: string,
  opts: { uid?: string; resourceVersion?: string; signal?: AbortSignal } = {},
): Promise<"deleted" | "absent"> {
  const preconditions = {
    ...(opts.uid === undefined ? {} : { uid: opts.uid }),
    ...(opts.resourceVersion === undefined ? {} : { resourceVersion: opts.resourceVersion }),
  };
  try {
    await kubeRequest(kc, {
      method: "DELETE",
      path: resourcePath(r, namespace, name),
      body: { kind: "DeleteOptions", apiVersion: "v1", preconditions },
      contentType: "application/json",
      ...(opts.signal === undefined ? {} : { signal: opts.signal }),
    });
    return "deleted";
  } catch (e) {
    if (statusCodeOf(e) === 404) return "absent";
    throw e;
  }
}

/**
 * A JSON merge patch (RFC 7386) of an object or its status subresource. Recorded by the server as an
 * "Update" under `fieldManager` when given, else under the user agent (`casskeeper`).
 */
export async function mergePatchObject(
  kc: KubeConfig,
  r: ResourceRef,
  namespace: string | undefined,
  name: string,
  patch: unknown,
  opts: { subresource?: "status"; fieldManager?: string } = {},
): Promise<Record<string, unknown>> {
  const out = await kubeRequest(kc, {
    method: "PATCH",
    path: resourcePath(r, namespace, name, opts.subresource),
    query: { fieldManager: opts.fieldManager },
    body: patch,
    contentType: "application/merge-patch+json",
  });
  return asObject(out, `patch ${r.plural} "${name}"`);
}

/**
 * The conflicts of a failed apply (409 Conflict whose `details.causes` are FieldManagerConflict): which
 * manager owns which field (`.spec.schedule`). Undefined for any other error. The manager is the quoted
 * name of the cause's message (`conflict with "argocd-controller" using db.orange.com/v1alpha1`).
 */
export function applyConflicts(e: unknown): { manager: string; field: string }[] | undefined {
  let status: number | undefined;
  let details: unknown;
  if (e instanceof KubeApiError) {
    status = e.statusCode;
    details = e.details;
  } else if (e instanceof ApiException) {
    status = e.code;
    const body: unknown = typeof e.body === "string" ? safeJson(e.body) : e.body;
    details = isRecord(body) ? body.details : undefined;
  }
  if (status !== 409 || !isRecord(details) || !Array.isArray(details.causes)) return undefined;
  const out: { manager: string; field: string }[] = [];
  for (const c of details.causes) {
    if (!isRecord(c) || c.reason !== "FieldManagerConflict") continue;
    out.push({ manager: managerOf(String(c.message ?? "")), field: String(c.field ?? "") });
  }
  return out.length === 0 ? undefined : out;
}

/** `conflict with "m" using v1` → m (Go's %q: a JSON string for printable names). */
function managerOf(message: string): string {
  const m = /^conflict with ("(?:[^"\\]|\\.)*")/.exec(message);
  if (m === null) return message.replace(/^conflict with /, "");
  const quoted = safeJson(m[1] as string);
  return typeof quoted === "string" ? quoted : (m[1] as string).slice(1, -1);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Events

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  /** "" for a cluster-scoped object (its Events go to `default`, as client-go's). */
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecorder {
  /** Records an Event in the background: never throws, never waits; failures are logged. */
  record(involved: InvolvedObject, type: "Normal" | "Warning", reason: string, message: string): void;
  /** Waits for every Event recorded so far to be written (or to have failed). */
  flush(): Promise<void>;
}

const EVENTS: ResourceRef = { group: "", version: "v1", plural: "events", namespaced: true };
/** The API server refuses longer Event messages (events.k8s.io `note`); client-go truncates likewise. */
const MAX_MESSAGE = 1024;
/** client-go's correlator: the same event within this window updates a count instead of a new Event. */
const AGGREGATE_WINDOW_MS = 10 * 60 * 1000;
/** client-go's LRU of recent events (maxLruCacheEntries) and broadcaster queue (maxQueuedEvents). */
const MAX_CACHED = 4096;
const MAX_QUEUED = 1000;

interface Seen {
  readonly namespace: string;
  readonly name: string;
  readonly first: string;
  count: number;
  lastMs: number;
}

/**
 * core/v1 Events, as client-go's recorder writes them: named `<object>.<hex nanoseconds>`, `source.component`
 * and `reportingComponent` the component (`source.host` and `reportingInstance` the instance, when given),
 * `firstTimestamp`/`lastTimestamp`/`count`. The same (object,
 * type, reason, message) again within 10 minutes of its last occurrence patches that Event's `count` and
 * `lastTimestamp` instead of creating another (client-go's EventCorrelator, without its spam filter); an
 * aggregated Event that is gone (Events expire after an hour) is created anew. Writes go one at a time in
 * the background; beyond 1000 waiting, new Events are dropped with a warning, as client-go's broadcaster.
 */
export function createEventRecorder(
  kc: KubeConfig,
  opts: { component: string; logger: Logger; clock?: () => Date; instance?: string },
): EventRecorder {
  const clock = opts.clock ?? (() => new Date());
  const seen = new Map<string, Seen>();
  let tail: Promise<void> = Promise.resolve();
  let queued = 0;
  let seq = 0;

  async function write(key: string, body: Obj, at: Date): Promise<void> {
    const prev = seen.get(key);
    const atMs = at.getTime();
    const stamp = rfc3339(at);
    if (prev !== undefined && atMs - prev.lastMs <= AGGREGATE_WINDOW_MS) {
      try {
        await mergePatchObject(kc, EVENTS, prev.namespace, prev.name, {
          count: prev.count + 1,
          lastTimestamp: stamp,
        });
        prev.count++;
        prev.lastMs = atMs;
        touch(key, prev);
        return;
      } catch (e) {
        if (statusCodeOf(e) !== 404) throw e;
        // The Event expired: start a new one.
      }
    }
    const namespace = String((body.metadata as Obj).namespace);
    await kubeRequest(kc, { method: "POST", path: resourcePath(EVENTS, namespace), body });
    const name = String((body.metadata as Obj).name);
    touch(key, { namespace, name, first: stamp, count: 1, lastMs: atMs });
  }

  function touch(key: string, s: Seen): void {
    seen.delete(key);
    seen.set(key, s);
    if (seen.size > MAX_CACHED) seen.delete(seen.keys().next().value as string);
  }

  return {
    record(involved, type, reason, message) {
      try {
        if (queued >= MAX_QUEUED) {
          opts.logger.warn(
            { reason, object: `${involved.kind}/${involved.name}` },
            "event queue full: dropped",
          );
          return;
        }
        const at = clock();
        const namespace = involved.namespace === "" ? "default" : involved.namespace;
        const text = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
        const key = JSON.stringify([
          involved.apiVersion,
          involved.kind,
          involved.namespace,
          involved.name,
          involved.uid ?? "",
          type,
          reason,
          text,
        ]);
        const stamp = rfc3339(at);
        const body: Obj = {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: `${involved.name}.${eventSuffix(at, seq++)}`, namespace },
          involvedObject: {
            apiVersion: involved.apiVersion,
            kind: involved.kind,
            ...(involved.namespace === "" ? {} : { namespace: involved.namespace }),
            name: involved.name,
            ...(involved.uid === undefined ? {} : { uid: involved.uid }),
          },
          reason,
          message: text,
          type,
          source: {
            component: opts.component,
            ...(opts.instance === undefined ? {} : { host: opts.instance }),
          },
          firstTimestamp: stamp,
          lastTimestamp: stamp,
          count: 1,
          reportingComponent: opts.component,
          ...(opts.instance === undefined ? {} : { reportingInstance: opts.instance }),
        };
        queued++;
        tail = tail
          .then(() => write(key, body, at))
          .catch((e: unknown) => {
            opts.logger.warn(
              {
                reason,
                object: `${involved.kind}/${involved.namespace}/${involved.name}`,
                err: describeError(e),
              },
              "could not record an event",
            );
          })
          .finally(() => {
            queued--;
          });
      } catch (e) {
        opts.logger.error({ err: describeError(e) }, "could not record an event");
      }
    },
    flush() {
      return tail;
    },
  };
}

/** RFC 3339 to the second, as metav1.Time. */
function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

/** client-go names Events `<object>.<UnixNano in hex>`; a counter makes two in the same millisecond differ. */
function eventSuffix(at: Date, n: number): string {
  const nanos = BigInt(at.getTime()) * 1_000_000n + BigInt(n % 1_000_000);
  return nanos.toString(16);
}
