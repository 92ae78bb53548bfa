// validateBackup: every rule for one CassandraBackup, all problems at once, using the world for lookups
// (secret, cluster). The cross-object snapshotTag check is separate: `snapshotTagCollisions` over a set of
// documents plus the world, or `worldSnapshotTagCollisions` for one object (the webhook).

import { joinPath, type Problem } from "../problem.ts";
import { checkSchedule } from "../schedule/index.ts";
import { ANNOTATION_PREFIX, type CassandraBackup } from "../types.ts";
import { checkCluster } from "./cluster.ts";
import { problem } from "./codes.ts";
import type { RuleContext } from "./context.ts";
import { checkEntities } from "./entities.ts";
import { checkSecret } from "./secrets.ts";
import { type BackupRef, checkSnapshotTag, snapshotTagCollisions } from "./snapshot-tag.ts";
import { checkStorageLocation } from "./storage-location.ts";
import { isRecord, nonEmpty, q } from "./support.ts";
import { checkBandwidth, checkConcurrentConnections, checkDuration } from "./tuning.ts";

export const RETENTION_ANNOTATION = `${ANNOTATION_PREFIX}retention`;
export const CONCURRENCY_POLICY_ANNOTATION = `${ANNOTATION_PREFIX}concurrency-policy`;
export const STARTING_DEADLINE_ANNOTATION = `${ANNOTATION_PREFIX}starting-deadline-seconds`;

/**
 * Concurrency policies casskeeper implements: k8ssandra's MedusaBackupSchedule has Forbid (default) and
 * Allow only (operators.md §3.1, k8ssandra-operator#1203 / PR #1204); Kubernetes' CronJob `Replace` is not.
 */
export const CONCURRENCY_POLICIES: readonly string[] = ["Forbid", "Allow"];

export type Retention =
  | { readonly kind: "count"; readonly count: number }
  | { readonly kind: "age"; readonly hours: number };

/** `7` (keep the 7 newest runs) or an age `36h` / `14d` / `2w`; undefined when invalid. */
export function parseRetention(value: string): Retention | undefined {
  const m = /^([1-9][0-9]*)([hdw]?)$/.exec(value);
  if (m === null) return undefined;
  const n = Number(m[1]);
  if (!Number.isSafeInteger(n)) return undefined;
  const unit = m[2];
  if (unit === "") return { kind: "count", count: n };
  const hours = n * (unit === "h" ? 1 : unit === "d" ? 24 : 168);
  return Number.isSafeInteger(hours) ? { kind: "age", hours } : undefined;
}

/** `casskeeper.io/starting-deadline-seconds`: a positive integer; undefined when invalid. */
export function parseStartingDeadline(value: string): number | undefined {
  if (!/^[1-9][0-9]*$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The casskeeper annotations of a backup. */
export function checkBackupAnnotations(annotations: unknown, scheduled: boolean): Problem[] {
  if (!isRecord(annotations)) return [];
  const problems: Problem[] = [];
  const at = (name: string) => joinPath("metadata.annotations", name);
  const present: string[] = [];

  const retention = annotations[RETENTION_ANNOTATION];
  if (typeof retention === "string") {
    present.push(RETENTION_ANNOTATION);
    if (parseRetention(retention) === undefined) {
      problems.push(
        problem(
          at(RETENTION_ANNOTATION),
          "annotation.retention",
          `${q(retention)}: use a count of runs to keep (7) or an age (36h, 14d, 2w)`,
        ),
      );
    }
  }
  const policy = annotations[CONCURRENCY_POLICY_ANNOTATION];
  if (typeof policy === "string") {
    present.push(CONCURRENCY_POLICY_ANNOTATION);
    if (!CONCURRENCY_POLICIES.includes(policy)) {
      const hint = CONCURRENCY_POLICIES.find((p) => p.toLowerCase() === policy.toLowerCase());
      problems.push(
        problem(
          at(CONCURRENCY_POLICY_ANNOTATION),
          "annotation.concurrency-policy",
          `${q(policy)}: use Forbid or Allow` +
            (hint !== undefined
              ? ` (exact case: ${hint})`
              : policy === "Replace"
                ? " (Replace is not supported)"
                : ""),
        ),
      );
    }
  }
  const deadline = annotations[STARTING_DEADLINE_ANNOTATION];
  if (typeof deadline === "string") {
    present.push(STARTING_DEADLINE_ANNOTATION);
    if (parseStartingDeadline(deadline) === undefined) {
      problems.push(
        problem(
          at(STARTING_DEADLINE_ANNOTATION),
          "annotation.starting-deadline",
          `${q(deadline)}: use a positive whole number of seconds`,
        ),
      );
    }
  }
  if (!scheduled && present.length > 0) {
    for (const name of present) {
      problems.push(
        problem(
          at(name),
          "annotation.unscheduled",
          `has no effect: the backup has no schedule (it runs once)`,
        ),
      );
    }
  }
  return problems;
}

/** All problems of one CassandraBackup. Total: never throws, for any input. */
export function validateBackup(obj: CassandraBackup, ctx: RuleContext): Problem[] {
  const spec = isRecord(obj?.spec) ? obj.spec : {};
  const meta = isRecord(obj?.metadata) ? obj.metadata : {};
  const schedule = nonEmpty(spec.schedule);
  return [
    ...checkStorageLocation(spec.storageLocation, "spec.storageLocation"),
    ...checkSnapshotTag(spec.snapshotTag, "spec.snapshotTag"),
    ...(schedule === undefined ? [] : checkSchedule(schedule, "spec.schedule")),
    ...checkDuration(spec.duration, "spec.duration"),
    ...checkBandwidth(spec.bandwidth, "spec.bandwidth"),
    ...checkConcurrentConnections(spec.concurrentConnections, "spec.concurrentConnections"),
    ...checkEntities(spec.entities, "spec.entities"),
    ...checkSecret(
      { secretName: spec.secret, storageLocation: spec.storageLocation, path: "spec.secret" },
      ctx,
    ),
    ...checkCluster(spec, ctx, "backup"),
    ...checkBackupAnnotations(meta.annotations, schedule !== undefined),
  ];
}

/**
 * The snapshotTag collisions of one backup with the world's other backups, for the admission webhook, which
 * sees one object at a time. Not part of {@link validateBackup}: a caller validating a set of documents runs
 * `snapshotTagCollisions` once over the set and the world instead (src/core/validate-set.ts), and would
 * otherwise report each pair twice.
 */
export function worldSnapshotTagCollisions(obj: CassandraBackup, ctx: RuleContext): Problem[] {
  if (!ctx.world.known) return [];
  const spec = isRecord(obj?.spec) ? obj.spec : {};
  const name = nonEmpty(isRecord(obj?.metadata) ? obj.metadata.name : undefined);
  const others: BackupRef[] = [...ctx.world.backups.values()].filter(
    (b) => !(b.namespace === ctx.namespace && b.name === name),
  );
  return (
    snapshotTagCollisions([{ namespace: ctx.namespace, name: name ?? "(new)", spec }, ...others]).get(0) ?? []
  );
}
