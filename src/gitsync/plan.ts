// What one sync of a revision would do (pure): validate every document, build the object casskeeper would
// apply for each, compare it with the live object, and decide create / update / unchanged / prune. The
// reconciler carries the plan out; `casskeeper plan` prints it. No Git, no cluster, no clock here: the caller
// hands over the documents, the live objects and the previous inventory.
//
// The revision is all or nothing: any error (invalid files, a namespace the source may not write, an empty
// revision) or any conflict (an object Argo CD tracks, or another source owns) yields no actions at all and
// keeps the previous inventory, so the last good revision stays applied.
//
// Prune follows Flux's kustomize-controller (conventions §3.6): only objects in the previous inventory that
// are missing from this revision, still carry this source's labels and are not opted out
// (`casskeeper.io/prune: disabled`) are deleted — never an object merely because it matches a selector.

import { createHash } from "node:crypto";
import { joinPath, type Problem, error as problemError, warning } from "../core/problem.ts";
import type { StructuralValidator } from "../core/structure.ts";
import { type ObjectRef, validateDocuments } from "../core/validate-set.ts";
import type { WorldSnapshot } from "../core/world.ts";
import { isRecord } from "../core/world-build.ts";
import type { LoadedDocument, LocatedProblem } from "../core/yaml-documents.ts";
import {
  ANNOTATION_DIGEST,
  ANNOTATION_PRUNE,
  ANNOTATION_REVISION,
  ANNOTATION_SOURCE_PATH,
  ARGOCD_DEFAULT_INSTANCE_LABEL,
  ARGOCD_INSTANCE_LABEL,
  ARGOCD_TRACKING_ANNOTATION,
  type InventoryEntry,
  inventoryId,
  LABEL_MANAGED_BY,
  LABEL_SOURCE_NAME,
  LABEL_SOURCE_NAMESPACE,
  MANAGED_BY,
  type ObjectId,
  type PlanConflict,
  type PlannedAction,
  PRUNE_DISABLED,
  parseInventoryEntry,
  type SourceKey,
  SYNCED_KINDS,
  type SyncPlan,
} from "./model.ts";

/** The parts of a BackupPolicySource's spec the plan depends on. */
export interface PlanSpec {
  readonly prune: boolean;
  readonly allowEmpty: boolean;
  readonly targetNamespaces?:
    | { readonly allowOutside?: boolean | undefined; readonly namespaces?: readonly string[] | undefined }
    | undefined;
  /** `spec.path`, for the message of an empty revision only. */
  readonly path?: string | undefined;
}

export interface PlanInput {
  readonly source: SourceKey;
  readonly spec: PlanSpec;
  /** The revision being planned, `main@sha1:<sha>`: written into ANNOTATION_REVISION of what changes. */
  readonly revision: string;
  readonly documents: readonly LoadedDocument[];
  readonly loadProblems: readonly LocatedProblem[];
  readonly structure: StructuralValidator;
  readonly world: WorldSnapshot;
  /** Inventory id → live object. Undefined: no cluster at hand, everything is a create. */
  readonly live?: ReadonlyMap<string, Record<string, unknown>> | undefined;
  readonly previousInventory: readonly InventoryEntry[];
}

/** Codes of the Git sync's own findings (the rules' and loader's codes are listed elsewhere). */
export const GITSYNC_CODES = {
  "gitsync.kind": {
    severity: "error",
    description: "a document of a kind Git sync does not apply (only CassandraBackup and CassandraRestore)",
  },
  "gitsync.namespace": {
    severity: "error",
    description:
      "a document targets a namespace the BackupPolicySource's spec.targetNamespaces does not allow",
  },
  "gitsync.empty": {
    severity: "error",
    description: "the revision has no policy documents and the source does not set spec.allowEmpty",
  },
  "gitsync.argocd-label": {
    severity: "warning",
    description: "a document carries Argo CD's tracking label or annotation, which makes Argo CD prune it",
  },
  "gitsync.prune-skipped": {
    severity: "warning",
    description: "an object left Git but is not deleted: opted out, or no longer labelled for this source",
  },
} as const;

/**
 * Metadata the API server writes: never part of what casskeeper applies (a copy from `kubectl get -o yaml`
 * would otherwise fail with a stale resourceVersion, or be refused for setting uid).
 */
const SERVER_METADATA = [
  "resourceVersion",
  "uid",
  "creationTimestamp",
  "generation",
  "managedFields",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
] as const;

/** At most this many drifted fields are named in an update's reason. */
const MAX_DRIFT_NAMED = 1;

/** A finding about the revision as a whole (no file, no line): `file` is "" and `line` 0. */
function unlocated(p: Problem): LocatedProblem {
  return { file: "", line: 0, column: 0, problem: p };
}

function located(doc: LoadedDocument, p: Problem): LocatedProblem {
  const pos = doc.positionOf(p.path);
  return { file: doc.file, line: pos.line, column: pos.column, problem: p };
}

interface Desired {
  readonly ref: ObjectRef;
  readonly id: ObjectId;
  readonly inventory: InventoryEntry;
  readonly body: Record<string, unknown>;
  readonly digest: string;
}

export function planSync(input: PlanInput): SyncPlan {
  const { source, spec } = input;
  const problems: LocatedProblem[] = [];
  const warnings: LocatedProblem[] = [];
  const add = (p: LocatedProblem) => (p.problem.severity === "error" ? problems : warnings).push(p);
  for (const p of input.loadProblems) add(p);

  // Kinds: anything but the synced kinds is refused at its `kind:` line, and not validated further (a
  // BackupPolicySource's own findings, or "unknown kind ConfigMap", would only repeat the refusal).
  const candidates: LoadedDocument[] = [];
  for (const doc of input.documents) {
    const o = doc.object;
    const kind = isRecord(o) && typeof o.kind === "string" ? o.kind : "";
    if (kind !== "" && !SYNCED_KINDS.has(kind)) {
      const synced = [...SYNCED_KINDS.keys()].join(" and ");
      add(
        located(
          doc,
          problemError("kind", "gitsync.kind", `only ${synced} are applied by Git sync, not ${kind}`),
        ),
      );
      continue;
    }
    candidates.push(doc);
  }

  // Structure, rules and the set's own checks (duplicates across apiVersions included), as `validate`.
  const validated = validateDocuments(candidates, {
    structure: input.structure,
    world: input.world,
    defaultNamespace: source.namespace,
  });
  for (const p of validated.problems) add(p);

  const allowed = new Set([source.namespace, ...(spec.targetNamespaces?.namespaces ?? [])]);
  const anyNamespace = spec.targetNamespaces?.allowOutside === true;
  for (const ref of validated.objects) {
    if (!anyNamespace && !allowed.has(ref.namespace)) {
      const message = `namespace "${ref.namespace}" is outside the source's namespace "${source.namespace}"; allow it in the source's spec.targetNamespaces`;
      add(located(ref.doc, problemError("metadata.namespace", "gitsync.namespace", message)));
    }
    for (const p of copiedArgoMarks(ref.object as Record<string, unknown>)) add(located(ref.doc, p));
  }

  if (input.documents.length === 0 && !spec.allowEmpty) {
    const root = spec.path === undefined || spec.path === "" || spec.path === ".";
    const where = root ? "the repository root" : spec.path;
    const n = spec.prune ? input.previousInventory.length : 0;
    const prunes = n > 0 ? ` (this would prune ${n} object${n === 1 ? "" : "s"})` : "";
    const message = `the revision has no policy documents under ${where}; set spec.allowEmpty to accept it${prunes}`;
    add(unlocated(problemError("", "gitsync.empty", message)));
  }

  const byPlace = (a: LocatedProblem, b: LocatedProblem) =>
    compare(a.file, b.file) || a.line - b.line || a.column - b.column;
  problems.sort(byPlace);
  warnings.sort(byPlace);

  const refused = (conflicts: readonly PlanConflict[]): SyncPlan => ({
    actions: [],
    conflicts,
    problems,
    warnings,
    inventory: [...input.previousInventory],
  });
  if (problems.length > 0) return refused([]);

  // The objects to apply, in document order.
  const desired = validated.objects.map((ref) => desiredObject(ref, input));
  const actions: PlannedAction[] = [];
  const conflicts: PlanConflict[] = [];
  for (const d of desired) {
    const where = { file: d.ref.doc.file, line: d.ref.doc.position.line, column: d.ref.doc.position.column };
    const live = input.live?.get(d.inventory.id);
    if (live === undefined) {
      actions.push({ op: "create", id: d.id, desired: d.body, ...where });
      continue;
    }
    const verdict = compareWithLive(d, live, source);
    if ("conflict" in verdict) {
      conflicts.push({ id: d.id, ...where, message: verdict.conflict });
      continue;
    }
    if (verdict.op === "unchanged") {
      // Applying this body changes nothing: the revision annotation keeps the revision that last changed it.
      actions.push({ op: "unchanged", id: d.id, desired: withRevision(d.body, live), ...where });
    } else {
      actions.push({ op: "update", id: d.id, desired: d.body, ...where, reason: verdict.reason });
    }
  }
  if (conflicts.length > 0) return refused(conflicts);

  // Prune: what the previous inventory has and this revision does not.
  const wanted = new Set(desired.map((d) => d.inventory.id));
  const prunes: PlannedAction[] = [];
  const gone = [...input.previousInventory]
    .filter((e) => !wanted.has(e.id))
    .sort((a, b) => compare(a.id, b.id));
  if (spec.prune) {
    for (const entry of gone) {
      const id = parseInventoryEntry(entry);
      if (id === undefined) {
        const message = `inventory entry "${entry.id}" is not <namespace>_<name>_<group>_<kind>; nothing is deleted for it`;
        add(unlocated(warning("", "gitsync.prune-skipped", message)));
        continue;
      }
      if (input.live === undefined) {
        // No cluster to look at: the caller checks the labels and the opt-out when it deletes.
        prunes.push({ op: "prune", id, reason: "no longer in Git" });
        continue;
      }
      const live = input.live.get(entry.id);
      if (live === undefined) continue; // already gone
      const what = `${id.kind} ${id.namespace}/${id.name}`;
      const owner = ownerOf(live);
      if (owner === undefined || owner.namespace !== source.namespace || owner.name !== source.name) {
        const message = `${what} left Git but is kept: it is no longer labelled for BackupPolicySource ${source.namespace}/${source.name}`;
        add(unlocated(warning("", "gitsync.prune-skipped", message)));
        continue;
      }
      if (stringMap(metadataOf(live).annotations)[ANNOTATION_PRUNE] === PRUNE_DISABLED) {
        const message = `${what} left Git but is kept: it is annotated ${ANNOTATION_PRUNE}: ${PRUNE_DISABLED}`;
        add(unlocated(warning("", "gitsync.prune-skipped", message)));
        continue;
      }
      const was = stringMap(metadataOf(live).annotations)[ANNOTATION_SOURCE_PATH];
      prunes.push({
        op: "prune",
        id,
        reason: was === undefined ? "no longer in Git" : `no longer in Git (was ${was})`,
      });
    }
  }
  warnings.sort(byPlace);

  return {
    actions: [...actions, ...prunes],
    conflicts: [],
    problems,
    warnings,
    inventory: desired.map((d) => d.inventory).sort((a, b) => compare(a.id, b.id)),
  };
}

/** The body casskeeper applies for a document: as written, namespaced, without server fields, marked. */
function desiredObject(ref: ObjectRef, input: PlanInput): Desired {
  const body = structuredClone(ref.object) as Record<string, unknown>;
  delete body.status;
  const meta: Record<string, unknown> = isRecord(body.metadata) ? { ...body.metadata } : {};
  for (const k of SERVER_METADATA) delete meta[k];
  meta.namespace = ref.namespace;
  body.metadata = meta;
  const digest = digestOf(body);
  meta.labels = {
    ...(isRecord(meta.labels) ? meta.labels : {}),
    [LABEL_SOURCE_NAME]: input.source.name,
    [LABEL_SOURCE_NAMESPACE]: input.source.namespace,
    [LABEL_MANAGED_BY]: MANAGED_BY,
  };
  meta.annotations = {
    ...(isRecord(meta.annotations) ? meta.annotations : {}),
    [ANNOTATION_SOURCE_PATH]: ref.doc.file,
    [ANNOTATION_REVISION]: input.revision,
    [ANNOTATION_DIGEST]: digest,
  };
  const apiVersion = typeof body.apiVersion === "string" ? body.apiVersion : "";
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const id: ObjectId = { group, version, kind: ref.kind, namespace: ref.namespace, name: ref.name };
  return { ref, id, inventory: { id: inventoryId(id), v: version }, body, digest };
}

type Verdict =
  | { readonly op: "unchanged" }
  | { readonly op: "update"; readonly reason: string }
  | { readonly conflict: string };

function compareWithLive(d: Desired, live: Record<string, unknown>, source: SourceKey): Verdict {
  const owner = ownerOf(live);
  const ours = owner !== undefined && owner.namespace === source.namespace && owner.name === source.name;
  if (!ours) {
    const app = argoApplication(live, d.id);
    if (app !== undefined)
      return { conflict: `tracked by Argo CD application ${app}; casskeeper does not take it over` };
    if (owner !== undefined)
      return { conflict: `owned by BackupPolicySource ${owner.namespace}/${owner.name}` };
    return { op: "update", reason: "not yet labelled by casskeeper" };
  }
  const annotations = stringMap(metadataOf(live).annotations);
  if (annotations[ANNOTATION_DIGEST] !== d.digest) return { op: "update", reason: "changed in Git" };
  const path = annotations[ANNOTATION_SOURCE_PATH];
  if (path !== d.ref.doc.file)
    return { op: "update", reason: `moved in Git${path === undefined ? "" : ` from ${path}`}` };
  const drifted = driftedFields(comparable(d.body), live);
  if (drifted.length === 0) return { op: "unchanged" };
  const named = drifted.slice(0, MAX_DRIFT_NAMED).join(", ");
  const more = drifted.length > MAX_DRIFT_NAMED ? ` and ${drifted.length - MAX_DRIFT_NAMED} more` : "";
  return { op: "update", reason: `${named}${more} drifted in the cluster` };
}

/** The body without what may legitimately differ on an unchanged object: apiVersion, the revision. */
function comparable(body: Record<string, unknown>): Record<string, unknown> {
  const { apiVersion: _apiVersion, ...rest } = body;
  const meta = metadataOf(body);
  const { [ANNOTATION_REVISION]: _revision, ...annotations } = stringMap(meta.annotations);
  return { ...rest, metadata: { ...meta, annotations } };
}

/**
 * Paths where `live` differs from `desired` on a field `desired` sets. Fields only the live object has (a
 * webhook's snapshotTag, status, server metadata) are not drift. A null in desired means "absent", as the
 * API server prunes nulls.
 */
export function driftedFields(desired: unknown, live: unknown, path = "", out: string[] = []): string[] {
  if (desired === null) {
    if (live !== null && live !== undefined) out.push(path);
  } else if (isRecord(desired)) {
    if (!isRecord(live)) out.push(path);
    else for (const [k, v] of Object.entries(desired)) driftedFields(v, live[k], joinPath(path, k), out);
  } else if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) out.push(path);
    else for (const [i, v] of desired.entries()) driftedFields(v, live[i], joinPath(path, i), out);
  } else if (desired !== live) {
    out.push(path);
  }
  return out;
}

function withRevision(body: Record<string, unknown>, live: Record<string, unknown>): Record<string, unknown> {
  const meta = metadataOf(body);
  const { [ANNOTATION_REVISION]: _revision, ...annotations } = stringMap(meta.annotations);
  const kept = stringMap(metadataOf(live).annotations)[ANNOTATION_REVISION];
  if (kept !== undefined) annotations[ANNOTATION_REVISION] = kept;
  return { ...body, metadata: { ...meta, annotations } };
}

/** The BackupPolicySource a live object is labelled for, if it carries either of the source labels. */
export function ownerOf(live: Record<string, unknown>): SourceKey | undefined {
  const labels = stringMap(metadataOf(live).labels);
  const name = labels[LABEL_SOURCE_NAME];
  const namespace = labels[LABEL_SOURCE_NAMESPACE];
  if (name === undefined && namespace === undefined) return undefined;
  return { namespace: namespace ?? "", name: name ?? "" };
}

/**
 * The Argo CD application that tracks a live object, if any (argo-cd docs/user-guide/resource_tracking.md):
 * the tracking annotation when it refers to this very object (a "non self-referencing" annotation does not
 * make Argo CD manage the object), the `argocd.argoproj.io/instance` label, or `app.kubernetes.io/instance`
 * (label tracking before v3.0) unless Helm set it (`app.kubernetes.io/managed-by: Helm`).
 */
export function argoApplication(
  live: Record<string, unknown>,
  id: Pick<ObjectId, "group" | "kind" | "namespace" | "name">,
): string | undefined {
  const meta = metadataOf(live);
  const tracking = stringMap(meta.annotations)[ARGOCD_TRACKING_ANNOTATION];
  if (tracking !== undefined && tracking !== "") {
    // <app>:<group>/<Kind>:<namespace>/<name>
    const m = /^([^:]+):([^/:]*)\/([^:]+):([^/]*)\/(.+)$/.exec(tracking);
    if (m === null) return tracking.split(":")[0] || tracking;
    if (m[2] === id.group && m[3] === id.kind && m[4] === id.namespace && m[5] === id.name) return m[1];
  }
  const labels = stringMap(meta.labels);
  const instance = labels[ARGOCD_INSTANCE_LABEL];
  if (instance !== undefined && instance !== "") return instance;
  const common = labels[ARGOCD_DEFAULT_INSTANCE_LABEL];
  if (common !== undefined && common !== "" && labels[LABEL_MANAGED_BY] !== "Helm") return common;
  return undefined;
}

/** Argo CD's tracking marks written in a document: applied as they are, they make Argo CD claim the object. */
function copiedArgoMarks(obj: Record<string, unknown>): Problem[] {
  const meta = metadataOf(obj);
  const labels = stringMap(meta.labels);
  const annotations = stringMap(meta.annotations);
  const out: Problem[] = [];
  const warn = (path: string, what: string) =>
    out.push(
      warning(
        path,
        "gitsync.argocd-label",
        `copied Argo CD tracking marks make Argo CD prune this object (${what}); remove it from the file`,
      ),
    );
  if (annotations[ARGOCD_TRACKING_ANNOTATION] !== undefined) {
    warn(
      joinPath("metadata.annotations", ARGOCD_TRACKING_ANNOTATION),
      `annotation ${ARGOCD_TRACKING_ANNOTATION}`,
    );
  }
  for (const key of [ARGOCD_INSTANCE_LABEL, ARGOCD_DEFAULT_INSTANCE_LABEL]) {
    if (labels[key] !== undefined) warn(joinPath("metadata.labels", key), `label ${key}`);
  }
  return out;
}

/** sha256 (first 16 hex) of the object's canonical JSON (keys sorted at every level). */
export function digestOf(obj: unknown): string {
  return createHash("sha256").update(canonicalJson(obj)).digest("hex").slice(0, 16);
}

/** JSON with object keys sorted at every level: equal values, equal text, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort(compare);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function metadataOf(obj: Record<string, unknown>): Record<string, unknown> {
  return isRecord(obj.metadata) ? obj.metadata : {};
}

/** The string values of a labels/annotations map (anything else is not a label the API server would keep). */
function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(v)) for (const [k, s] of Object.entries(v)) if (typeof s === "string") out[k] = s;
  return out;
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
