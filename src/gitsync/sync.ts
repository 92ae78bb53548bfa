// One sync of one BackupPolicySource, as one straight pipeline (the shape of Flux's kustomize-controller
// `reconcile()`): resolve the ref → (nothing moved: stop) → credentials → fetch and read the tree → load with
// positions → validate and plan against the live objects → dry-run every write → apply → prune → outcome.
// The caller (reconciler.ts) is the only status writer; this returns what happened.
//
// Atomic as far as the API allows: a revision with any invalid document, namespace, conflict or a write the
// API server (or the admission webhook) refuses in a server-side dry run is not applied at all, and the last
// good revision stays. Only a failure between the dry run and the real writes (the API server going away)
// can leave a revision half-applied; the inventory then records what was written, and the next attempt
// finishes the job.

import { CasskeeperError } from "../core/errors.ts";
import { validatePolicySource } from "../core/policy-source.ts";
import { formatProblem } from "../core/problem.ts";
import type { StructuralValidator } from "../core/structure.ts";
import type { BackupPolicySource } from "../core/types.ts";
import type { WorldSnapshot } from "../core/world.ts";
import { isRecord } from "../core/world-build.ts";
import type { LocatedProblem } from "../core/yaml-documents.ts";
import { loadSourceFiles } from "./loader.ts";
import {
  type FetchRequest,
  formatRevision,
  type GitAuth,
  type GitSource,
  type InventoryEntry,
  inventoryId,
  type ObjectId,
  type PlannedAction,
  parseInventoryEntry,
} from "./model.ts";
import { planSync } from "./plan.ts";
import {
  type Outcome,
  REASONS,
  type Reason,
  readyCondition,
  type SourceStatus,
  type StatusError,
} from "./status.ts";

/** What the sync needs of the cluster. The real one is src/kube/gitsync-cluster.ts; tests use the API double. */
export interface ClusterPort {
  /** Some keys of a Secret, decoded; undefined when the Secret does not exist. Never cached, never logged. */
  readSecretKeys(
    namespace: string,
    name: string,
    keys: readonly string[],
  ): Promise<Record<string, string> | undefined>;
  /** Live objects of the synced kinds in these namespaces, by inventory id. */
  listLive(namespaces: readonly string[]): Promise<Map<string, Record<string, unknown>>>;
  /** Server-side apply (field manager casskeeper, no force). A refusal throws (see `refusal()`). */
  apply(
    id: ObjectId,
    body: Record<string, unknown>,
    opts: { dryRun: boolean; signal?: AbortSignal | undefined },
  ): Promise<void>;
  /** Delete exactly the object with this uid (a precondition): "absent" when it is already gone. */
  remove(id: ObjectId, uid: string | undefined, signal?: AbortSignal): Promise<"deleted" | "absent">;
  /** A refused write in words, and whether it was a field-manager conflict; undefined for other errors. */
  refusal(e: unknown): { conflict: boolean; message: string } | undefined;
}

export interface SyncDeps {
  readonly git: GitSource;
  readonly cluster: ClusterPort;
  readonly structure: StructuralValidator;
  readonly world: () => WorldSnapshot;
  /** Called once a new revision is known and work begins (the reconciler writes `Reconciling`). */
  readonly onProgress?: ((revision: string) => Promise<void>) | undefined;
  /** Writes in flight at once (Flux's `--concurrent-ssa` is 4; our objects are small). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal | undefined;
}

export interface SyncCounts {
  created: number;
  updated: number;
  unchanged: number;
  pruned: number;
}

export type SyncResult =
  | { readonly kind: "skipped"; readonly revision: string }
  | {
      readonly kind: "done";
      readonly outcome: Outcome;
      readonly counts: SyncCounts;
      readonly warnings: readonly LocatedProblem[];
      /** Prunes skipped or failed, for Events. */
      readonly notes: readonly string[];
    };

/** Secret keys the Git credentials are read from (the CRD's secretRef description). */
export const SECRET_KEYS = ["token", "username", "password"] as const;

export async function syncSource(
  source: BackupPolicySource,
  opts: { force: boolean },
  deps: SyncDeps,
): Promise<SyncResult> {
  const counts: SyncCounts = { created: 0, updated: 0, unchanged: 0, pruned: 0 };
  const fail = (
    reason: Reason,
    message: string,
    extra: { revision?: string; errors?: readonly StatusError[]; inventory?: readonly InventoryEntry[] } = {},
  ): SyncResult => ({
    kind: "done",
    outcome: { kind: "failed", reason, message, ...extra },
    counts,
    warnings: [],
    notes: [],
  });

  const meta = isRecord(source.metadata) ? source.metadata : {};
  const namespace = typeof meta.namespace === "string" ? meta.namespace : "default";
  const spec = source.spec ?? {};
  const status = (isRecord(source.status) ? source.status : {}) as SourceStatus;
  const generation = typeof meta.generation === "number" ? meta.generation : undefined;

  // The spec's own rules (the webhook does not see casskeeper.io objects applied before it ran).
  const specErrors = validatePolicySource(source).filter((p) => p.severity === "error");
  if (specErrors.length > 0 || typeof spec.url !== "string") {
    const list = specErrors.map((p) => ({ field: p.path, message: p.message }));
    return fail(REASONS.invalidSpec, specErrors.map(formatProblem).join("; ") || "spec.url is required", {
      errors: list,
    });
  }

  // Credentials: read at each sync, never kept.
  let auth: GitAuth | undefined;
  const secretName = spec.secretRef?.name;
  if (secretName !== undefined) {
    let data: Record<string, string> | undefined;
    try {
      data = await deps.cluster.readSecretKeys(namespace, secretName, SECRET_KEYS);
    } catch (e) {
      return fail(
        REASONS.authFailed,
        `cannot read secret ${namespace}/${secretName} (spec.secretRef): ${errorMessage(e)}`,
      );
    }
    if (data === undefined) {
      return fail(REASONS.authFailed, `secret ${namespace}/${secretName} (spec.secretRef) not found`);
    }
    if (data.token !== undefined && data.token !== "") auth = { token: data.token };
    else if (data.username !== undefined && data.password !== undefined)
      auth = { username: data.username, password: data.password };
    else {
      return fail(
        REASONS.authFailed,
        `secret ${namespace}/${secretName} has neither key "token" nor keys "username" and "password"`,
      );
    }
  }

  const req: FetchRequest = {
    url: spec.url,
    ref: spec.ref ?? {},
    path: spec.path ?? "",
    auth,
    signal: deps.signal,
  };

  let revision: string;
  let files: Awaited<ReturnType<GitSource["read"]>>;
  try {
    const rev = await deps.git.resolve(req);
    revision = formatRevision(rev);
    // Nothing moved since the last attempt of this generation, and it either succeeded or stalled (needs a
    // change in Git or in the spec): no fetch, no API call, no status write.
    const stalled = status.conditions?.some((c) => c.type === "Stalled" && c.status === "True") === true;
    if (
      !opts.force &&
      status.lastAttemptedRevision === revision &&
      status.observedGeneration === generation &&
      ((status.lastAppliedRevision === revision && readyCondition(status)?.status === "True") || stalled)
    ) {
      return { kind: "skipped", revision };
    }
    await deps.onProgress?.(revision);
    files = await deps.git.read(req, rev);
  } catch (e) {
    const code = e instanceof CasskeeperError ? e.code : "";
    return fail(
      code === "git-auth" ? REASONS.authFailed : REASONS.gitFailed,
      e instanceof Error ? e.message : String(e),
    );
  }

  // Load, validate and plan against what is in the cluster now.
  const loaded = loadSourceFiles(files);
  const previous = status.inventory?.entries ?? [];
  const namespaces = new Set<string>();
  for (const d of loaded.documents) {
    const m = isRecord(d.object) && isRecord(d.object.metadata) ? d.object.metadata : {};
    namespaces.add(typeof m.namespace === "string" && m.namespace !== "" ? m.namespace : namespace);
  }
  for (const e of previous) {
    const id = parseInventoryEntry(e);
    if (id !== undefined) namespaces.add(id.namespace);
  }
  const live = await deps.cluster.listLive([...namespaces].sort());
  const plan = planSync({
    source: { namespace, name: typeof meta.name === "string" ? meta.name : "" },
    spec: {
      prune: spec.prune ?? true,
      allowEmpty: spec.allowEmpty ?? false,
      ...(spec.targetNamespaces === undefined ? {} : { targetNamespaces: spec.targetNamespaces }),
    },
    revision,
    documents: loaded.documents,
    loadProblems: loaded.problems,
    structure: deps.structure,
    world: deps.world(),
    live,
    previousInventory: previous,
  });

  if (plan.problems.length > 0) {
    const errors = plan.problems.map(located);
    return fail(
      REASONS.validationFailed,
      `revision ${revision} refused: ${summary(plan.problems.length, "error")}; first: ${formatLocated(plan.problems[0] as LocatedProblem)}`,
      { revision, errors },
    );
  }
  if (plan.conflicts.length > 0) {
    const errors = plan.conflicts.map((c) => ({
      ...(c.file === undefined ? {} : { file: c.file }),
      ...(c.line === undefined ? {} : { line: c.line }),
      ...(c.column === undefined ? {} : { column: c.column }),
      message: `${c.id.kind} ${c.id.namespace}/${c.id.name}: ${c.message}`,
    }));
    return fail(
      REASONS.conflict,
      `revision ${revision} refused: ${summary(plan.conflicts.length, "conflict")}; first: ${errors[0]?.message}`,
      { revision, errors },
    );
  }

  const writes = plan.actions.filter((a) => a.op === "create" || a.op === "update");
  const limit = deps.concurrency ?? 8;

  // Dry run of every write: the API server's schema and the admission webhook judge the whole revision
  // before anything changes.
  const refused = await collectRefusals(writes, limit, deps, true);
  if (refused.errors.length > 0) {
    return fail(
      refused.conflict ? REASONS.conflict : REASONS.refused,
      `revision ${revision} refused by the API server: ${summary(refused.errors.length, "object")}; first: ${refused.errors[0]?.message}`,
      { revision, errors: refused.errors },
    );
  }

  // The writes. What was written joins the inventory even if a later write fails, so it can be pruned.
  // Leadership lost (the signal): no write starts any more — the next leader owns the cluster.
  const written = new Set<string>();
  const writeErrors: StatusError[] = [];
  await mapLimit(writes, limit, async (a) => {
    if (deps.signal?.aborted) return;
    try {
      await deps.cluster.apply(a.id, a.desired ?? {}, { dryRun: false, signal: deps.signal });
      written.add(inventoryId(a.id));
      if (a.op === "create") counts.created++;
      else counts.updated++;
    } catch (e) {
      writeErrors.push(actionError(a, deps.cluster.refusal(e)?.message ?? errorMessage(e)));
    }
  });
  counts.unchanged = plan.actions.filter((a) => a.op === "unchanged").length;
  if (writeErrors.length > 0) {
    const keep = new Map(previous.map((e) => [e.id, e]));
    for (const e of plan.inventory) if (written.has(e.id)) keep.set(e.id, e);
    return fail(
      REASONS.applyFailed,
      `revision ${revision} partly applied: ${summary(writeErrors.length, "write")} failed; first: ${writeErrors[0]?.message}`,
      { revision, errors: writeErrors, inventory: sortEntries([...keep.values()]) },
    );
  }

  // Prune what left Git. A delete that fails keeps its entry, to be retried (kustomize-controller#1664).
  const notes: string[] = plan.warnings
    .filter((w) => w.problem.code === "gitsync.prune-skipped")
    .map((w) => w.problem.message);
  const survivors: InventoryEntry[] = [];
  const pruneErrors: StatusError[] = [];
  const prunes = plan.actions.filter((a) => a.op === "prune");
  await mapLimit(prunes, limit, async (a) => {
    if (deps.signal?.aborted) return;
    const liveObj = live.get(inventoryId(a.id));
    const m = isRecord(liveObj?.metadata) ? liveObj.metadata : {};
    try {
      const r = await deps.cluster.remove(a.id, typeof m.uid === "string" ? m.uid : undefined, deps.signal);
      if (r === "deleted") counts.pruned++;
    } catch (e) {
      survivors.push({ id: inventoryId(a.id), v: a.id.version });
      pruneErrors.push({
        message: `${a.id.kind} ${a.id.namespace}/${a.id.name}: not pruned: ${deps.cluster.refusal(e)?.message ?? errorMessage(e)}`,
      });
    }
  });
  const inventory = sortEntries([...plan.inventory, ...survivors]);
  if (pruneErrors.length > 0) {
    return {
      kind: "done",
      outcome: {
        kind: "failed",
        reason: REASONS.pruneFailed,
        revision,
        message: `revision ${revision} applied, but ${summary(pruneErrors.length, "object")} could not be pruned; first: ${pruneErrors[0]?.message}`,
        errors: pruneErrors,
        inventory,
      },
      counts,
      warnings: plan.warnings,
      notes,
    };
  }
  return {
    kind: "done",
    outcome: { kind: "applied", revision, inventory, message: appliedMessage(revision, counts) },
    counts,
    warnings: plan.warnings,
    notes,
  };
}

export function appliedMessage(revision: string, c: SyncCounts): string {
  return `Applied revision: ${revision} (${c.created} created, ${c.updated} updated, ${c.pruned} pruned, ${c.unchanged} unchanged)`;
}

async function collectRefusals(
  writes: readonly PlannedAction[],
  limit: number,
  deps: SyncDeps,
  dryRun: boolean,
): Promise<{ errors: StatusError[]; conflict: boolean }> {
  const errors: StatusError[] = [];
  let conflict = false;
  await mapLimit(writes, limit, async (a) => {
    if (deps.signal?.aborted) return;
    try {
      await deps.cluster.apply(a.id, a.desired ?? {}, { dryRun, signal: deps.signal });
    } catch (e) {
      const r = deps.cluster.refusal(e);
      if (r === undefined) throw e;
      if (r.conflict) conflict = true;
      errors.push(actionError(a, r.message));
    }
  });
  errors.sort(byPlace);
  return { errors, conflict };
}

function actionError(a: PlannedAction, message: string): StatusError {
  return {
    ...(a.file === undefined ? {} : { file: a.file }),
    ...(a.line === undefined ? {} : { line: a.line }),
    ...(a.column === undefined ? {} : { column: a.column }),
    message: `${a.id.kind} ${a.id.namespace}/${a.id.name}: ${message}`,
  };
}

function byPlace(a: StatusError, b: StatusError): number {
  return (
    (a.file ?? "").localeCompare(b.file ?? "") ||
    (a.line ?? 0) - (b.line ?? 0) ||
    (a.column ?? 0) - (b.column ?? 0)
  );
}

function located(p: LocatedProblem): StatusError {
  return { file: p.file, line: p.line, column: p.column, field: p.problem.path, message: p.problem.message };
}

function formatLocated(p: LocatedProblem): string {
  return `${p.file}:${p.line}:${p.column}: ${formatProblem(p.problem)}`;
}

function summary(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

function sortEntries(entries: InventoryEntry[]): InventoryEntry[] {
  const byId = new Map(entries.map((e) => [e.id, e]));
  return [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error after all settle. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.e;
}
