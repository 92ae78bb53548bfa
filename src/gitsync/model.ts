// What the Git sync's stages agree on: the names it writes onto objects, the shape of a source's revision and
// files, the inventory, and the interfaces the reconciler drives (Git on one side, the cluster on the other),
// so each stage can be tested with a real server or an honest double behind the same interface.

import type { LocatedProblem } from "../core/yaml-documents.ts";

/** The server-side apply field manager of every write the Git sync makes. Stable: changing it orphans fields. */
export const FIELD_MANAGER = "casskeeper";

/** Labels on every applied object: which BackupPolicySource owns it (prune's inclusion test, as Flux's owner labels). */
export const LABEL_SOURCE_NAME = "casskeeper.io/source-name";
export const LABEL_SOURCE_NAMESPACE = "casskeeper.io/source-namespace";
export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "casskeeper";

/** Annotations on every applied object. */
export const ANNOTATION_SOURCE_PATH = "casskeeper.io/source-path";
/** The revision that last changed this object (not every revision: an unchanged object is never rewritten). */
export const ANNOTATION_REVISION = "casskeeper.io/source-revision";
/** sha256 (first 16 hex) of the document as it is in Git: equal digests mean nothing to apply. */
export const ANNOTATION_DIGEST = "casskeeper.io/source-digest";
/** `disabled` on a live object: never pruned (kept in the cluster when it leaves Git). */
export const ANNOTATION_PRUNE = "casskeeper.io/prune";
export const PRUNE_DISABLED = "disabled";
/** On a BackupPolicySource: any new value asks for a sync now (Flux's `reconcile.fluxcd.io/requestedAt`). */
export const ANNOTATION_RECONCILE_REQUESTED = "casskeeper.io/reconcile-requested-at";
/** On a BackupPolicySource: on deletion, prune what it applied (when `spec.prune`) before it goes. */
export const SOURCE_FINALIZER = "casskeeper.io/git-sync";

/** Argo CD's tracking marks (argo-cd docs/user-guide/resource_tracking.md): such objects are not taken over. */
export const ARGOCD_TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id";
export const ARGOCD_INSTANCE_LABEL = "argocd.argoproj.io/instance";
export const ARGOCD_DEFAULT_INSTANCE_LABEL = "app.kubernetes.io/instance";
export const ARGOCD_FIELD_MANAGER = "argocd-controller";

/** The kinds a policy repository may hold; anything else is an error at its file:line. */
export const SYNCED_KINDS: ReadonlyMap<string, { group: string; plural: string }> = new Map([
  ["CassandraBackup", { group: "db.orange.com", plural: "cassandrabackups" }],
  ["CassandraRestore", { group: "db.orange.com", plural: "cassandrarestores" }],
]);

export interface SourceKey {
  readonly namespace: string;
  readonly name: string;
}

/** Credentials from the source's `secretRef`: key `token`, or keys `username` and `password`. Never logged. */
export type GitAuth = { readonly token: string } | { readonly username: string; readonly password: string };

export interface GitRef {
  readonly branch?: string | undefined;
  readonly tag?: string | undefined;
  readonly commit?: string | undefined;
}

export interface FetchRequest {
  readonly url: string;
  readonly ref: GitRef;
  /** Directory inside the repository (no leading `/`, no `..`); "" or "." is the root. */
  readonly path: string;
  readonly auth?: GitAuth | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** A resolved revision: `name` is the branch or tag (`HEAD`'s branch when none was asked), `sha` the commit. */
export interface Revision {
  readonly name: string;
  readonly sha: string;
}

/** Flux's revision string: `main@sha1:<sha>` (a commit asked for by SHA alone: `sha1:<sha>`). */
export function formatRevision(r: Revision): string {
  return r.name === "" ? `sha1:${r.sha}` : `${r.name}@sha1:${r.sha}`;
}

/** A YAML file read at one commit; `path` is relative to the repository root, `/`-separated. */
export interface SourceFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Set (to the file's size in bytes) when the file is over the reader's per-file limit; `bytes` is then empty. */
  readonly tooLarge?: number | undefined;
}

/** The Git side of a sync. Implementations bound everything they read and never log credentials. */
export interface GitSource {
  /** The commit the ref points at on the remote now (one `listServerRefs`, no objects fetched). */
  resolve(req: FetchRequest): Promise<Revision>;
  /** The `.yaml`/`.yml` files under `req.path` at `rev` (fetched shallow, read from the tree without checkout). */
  read(req: FetchRequest, rev: Revision): Promise<SourceFile[]>;
}

/** Flux's inventory entry: id `<namespace>_<name>_<group>_<kind>`, v the API version applied. */
export interface InventoryEntry {
  readonly id: string;
  readonly v: string;
}

export interface ObjectId {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export function inventoryId(o: Pick<ObjectId, "namespace" | "name" | "group" | "kind">): string {
  return `${o.namespace}_${o.name}_${o.group}_${o.kind}`;
}

export function parseInventoryEntry(e: InventoryEntry): ObjectId | undefined {
  const parts = e.id.split("_");
  if (parts.length !== 4) return undefined;
  const [namespace, name, group, kind] = parts as [string, string, string, string];
  return { namespace, name, group, kind, version: e.v };
}

/** What a sync does to one object. */
export type ActionOp = "create" | "update" | "unchanged" | "prune";

export interface PlannedAction {
  readonly op: ActionOp;
  readonly id: ObjectId;
  /** The body to apply (create/update), with casskeeper's labels and annotations. */
  readonly desired?: Record<string, unknown> | undefined;
  /** Where the object comes from in the repository (create/update/unchanged). */
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  /** Why (update: what differs; prune: why it goes). Short, no values of Secrets (policies hold none). */
  readonly reason?: string | undefined;
}

/** An object Git wants that casskeeper will not write (tracked by Argo CD, owned by another source, …). */
export interface PlanConflict {
  readonly id: ObjectId;
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly column?: number | undefined;
  readonly message: string;
}

export interface SyncPlan {
  readonly actions: readonly PlannedAction[];
  readonly conflicts: readonly PlanConflict[];
  /** Findings that refuse the revision (validation errors, namespaces not allowed, an empty revision). */
  readonly problems: readonly LocatedProblem[];
  /** Warnings to surface (Events), the revision still applies. */
  readonly warnings: readonly LocatedProblem[];
  /** The inventory after this plan is carried out (entries of prunes that fail are added back by the caller). */
  readonly inventory: readonly InventoryEntry[];
}
