// The status of a BackupPolicySource after one sync attempt (pure). kstatus convention
// (kubernetes-sigs/cli-utils pkg/kstatus): `observedGeneration`, `Ready` True only when the last attempted
// revision is applied, `Reconciling` True while work is under way, `Stalled` True when nothing will change
// without a change in Git or in the spec (invalid files, conflicts, an invalid spec).
//
// A condition keeps its `lastTransitionTime` while its status does not change, so writing the same outcome
// twice yields the same status, and the reconciler can skip the write (a no-change poll writes nothing).

import type { InventoryEntry } from "./model.ts";

export interface Condition {
  readonly type: string;
  readonly status: "True" | "False" | "Unknown";
  readonly observedGeneration?: number;
  readonly lastTransitionTime: string;
  readonly reason: string;
  readonly message: string;
}

/** One entry of `status.errors`: where in the repository, and what. */
export interface StatusError {
  readonly file?: string;
  readonly line?: number;
  readonly column?: number;
  readonly field?: string;
  readonly message: string;
}

export interface SourceStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  lastAppliedRevision?: string;
  lastAttemptedRevision?: string;
  lastHandledReconcileAt?: string;
  inventory?: { entries: InventoryEntry[] };
  errors?: StatusError[];
}

/** Reasons, stable: Argo CD's health check, alerts and users' scripts match on them. */
export const REASONS = {
  succeeded: "ReconciliationSucceeded",
  progressing: "Progressing",
  invalidSpec: "InvalidSpec",
  authFailed: "AuthenticationFailed",
  gitFailed: "GitOperationFailed",
  validationFailed: "ValidationFailed",
  conflict: "ApplyConflict",
  /** The API server (schema, admission webhook) refused a write in the dry run: nothing was applied. */
  refused: "ApplyRefused",
  applyFailed: "ApplyFailed",
  pruneFailed: "PruneFailed",
} as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];

/** Reasons that need a change in Git or in the spec before another attempt can succeed. */
export const STALLING: ReadonlySet<string> = new Set([
  REASONS.invalidSpec,
  REASONS.validationFailed,
  REASONS.conflict,
  REASONS.refused,
]);

/** At most this many entries in `status.errors` (the object must stay far below etcd's 1.5 MiB). */
export const MAX_STATUS_ERRORS = 100;
const MAX_MESSAGE = 1024;

export type Outcome =
  | {
      readonly kind: "applied";
      readonly revision: string;
      readonly inventory: readonly InventoryEntry[];
      readonly message: string;
    }
  | {
      readonly kind: "failed";
      readonly reason: Reason;
      /** Undefined when the failure came before a revision was known (auth, network). */
      readonly revision?: string | undefined;
      readonly message: string;
      readonly errors?: readonly StatusError[] | undefined;
      /** The inventory to keep (what is in the cluster now); undefined keeps the previous one. */
      readonly inventory?: readonly InventoryEntry[] | undefined;
    };

/** The status after an attempt; `prev` is the status before it. */
export function statusAfter(
  prev: SourceStatus,
  outcome: Outcome,
  generation: number | undefined,
  now: Date,
  handledReconcileAt?: string,
): SourceStatus {
  const at = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const next: SourceStatus = {};
  if (generation !== undefined) next.observedGeneration = generation;
  if (outcome.kind === "applied") {
    next.lastAppliedRevision = outcome.revision;
    next.lastAttemptedRevision = outcome.revision;
    next.inventory = { entries: [...outcome.inventory] };
    next.conditions = [condition(prev, "Ready", "True", REASONS.succeeded, outcome.message, generation, at)];
  } else {
    if (prev.lastAppliedRevision !== undefined) next.lastAppliedRevision = prev.lastAppliedRevision;
    const attempted = outcome.revision ?? prev.lastAttemptedRevision;
    if (attempted !== undefined) next.lastAttemptedRevision = attempted;
    const entries = outcome.inventory ?? prev.inventory?.entries;
    if (entries !== undefined) next.inventory = { entries: [...entries] };
    const errors = (outcome.errors ?? []).slice(0, MAX_STATUS_ERRORS).map(clipError);
    if (errors.length > 0) next.errors = errors;
    const message = clip(outcome.message);
    next.conditions = [condition(prev, "Ready", "False", outcome.reason, message, generation, at)];
    if (STALLING.has(outcome.reason)) {
      next.conditions.push(condition(prev, "Stalled", "True", outcome.reason, message, generation, at));
    }
  }
  const handled = handledReconcileAt ?? prev.lastHandledReconcileAt;
  if (handled !== undefined) next.lastHandledReconcileAt = handled;
  return next;
}

/** The status while a sync of `revision` is under way: `Reconciling` True, the rest as it was. */
export function statusReconciling(
  prev: SourceStatus,
  revision: string,
  generation: number | undefined,
  now: Date,
): SourceStatus {
  const at = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const others = (prev.conditions ?? []).filter((c) => c.type !== "Reconciling" && c.type !== "Stalled");
  return {
    ...prev,
    conditions: [
      ...others,
      condition(
        prev,
        "Reconciling",
        "True",
        REASONS.progressing,
        `applying revision ${revision}`,
        generation,
        at,
      ),
    ],
  };
}

function condition(
  prev: SourceStatus,
  type: string,
  status: Condition["status"],
  reason: string,
  message: string,
  generation: number | undefined,
  at: string,
): Condition {
  const before = prev.conditions?.find((c) => c.type === type);
  return {
    type,
    status,
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    lastTransitionTime: before !== undefined && before.status === status ? before.lastTransitionTime : at,
    reason,
    message: clip(message),
  };
}

function clip(s: string): string {
  return s.length <= MAX_MESSAGE ? s : `${s.slice(0, MAX_MESSAGE - 1)}…`;
}

function clipError(e: StatusError): StatusError {
  return { ...e, message: clip(e.message) };
}

/** The `Ready` condition, if any. */
export function readyCondition(s: SourceStatus): Condition | undefined {
  return s.conditions?.find((c) => c.type === "Ready");
}
