// Retention of a scheduled CassandraBackup (annotation `casskeeper.io/retention`: a count of runs to keep,
// `7`, or an age, `14d`), carried out after each successful run with the sidecar's `remove-backup`
// (icarus ≥ 2.0.2, reference/sidecar.md §3.5). CassKop had none (its maintainer pointed users at bucket
// lifecycle rules, cscetbon/casskop#122); k8ssandra added purges later (k8ssandra-operator #634, #1154).
//
// What is removed:
// - A count N: the runs of THIS backup beyond the N newest COMPLETED ones in `status.history`, each by name.
//   esop's `backupName` is a manifest name, `<snapshotTag>-<schemaVersion>-<epochMillis>`: the snapshotTag
//   the sidecar echoed for that run (esop Manifest.getManifestName, AllManifestsReport.get compares names
//   exactly). Removed runs leave the history. The history holds 20 runs, so a count of 20 or more keeps
//   everything that has fallen out of it (documented); a CRD that prunes the history (CassKop's) leaves
//   nothing to count: a "RetentionUnsupported" Warning says so, once.
// - An age: esop's `olderThan` when no other CassandraBackup writes to the same storageLocation, because
//   olderThan removes EVERY manifest older than the age under the location, whoever made it
//   (RemoveBackupOperation.getBackupsToDelete filters on the timestamp only). When the location is shared,
//   only this backup's runs in its history older than the age are removed, by name.
// A sidecar older than 2.0.2 (CassKop ships 1.1.x) has no remove-backup: a "RetentionUnsupported" Warning
// Event, ONCE per backup — remembered in the `casskeeper.io/retention-unsupported` annotation, so restarts
// and new leaders do not repeat it.
//
// Retention is idempotent: a runner that stops in the middle leaves the rest to the next successful run.

import { parseRetention, RETENTION_ANNOTATION, type Retention } from "../core/rules/backup.ts";
import type { CassandraBackup } from "../core/types.ts";
import { isRecord } from "../core/world-build.ts";
import { describeError, statusCodeOf } from "../kube/client.ts";
import { type Operation, type SidecarApi, TERMINAL_STATES } from "./model.ts";
import { type RemoveTarget, removeBackupRequest } from "./requests.ts";
import type { Run, RunnerCore } from "./runner.ts";
import { supportsRemoveBackup } from "./sidecar-client.ts";
import { type HistoryEntry, parseRfc3339, readStatus } from "./status.ts";

/** Set (to the sidecar's version, or a reason) once the RetentionUnsupported Warning was given. */
export const RETENTION_UNSUPPORTED_ANNOTATION = "casskeeper.io/retention-unsupported";

export interface RetentionPlan {
  readonly targets: readonly RemoveTarget[];
  /** Why nothing can be done, when so. */
  readonly unsupported?: string;
}

/**
 * What to remove (pure). `history` newest first, as in the status; `shared`: another CassandraBackup writes
 * to the same storageLocation; `historyKept`: the CRD keeps status.history.
 */
export function retentionPlan(
  retention: Retention,
  history: readonly HistoryEntry[],
  o: { readonly shared: boolean; readonly historyKept: boolean; readonly now: Date },
): RetentionPlan {
  const completed = history.filter(
    (h) => h.state === "COMPLETED" && h.snapshotTag !== undefined && h.snapshotTag !== "",
  );
  if (retention.kind === "age" && !o.shared) return { targets: [retention] };
  if (!o.historyKept) {
    return {
      targets: [],
      unsupported:
        retention.kind === "count"
          ? "a count retention needs status.history, which this CRD prunes (install casskeeper's CRD)"
          : "the storageLocation is shared with other backups, so only this backup's runs may be removed, and " +
            "finding them needs status.history, which this CRD prunes (install casskeeper's CRD)",
    };
  }
  if (retention.kind === "count") {
    return {
      targets: completed.slice(retention.count).map((h) => ({ backupName: h.snapshotTag as string })),
    };
  }
  const cut = o.now.getTime() - retention.hours * 3_600_000;
  const old = completed.filter((h) => {
    const t = parseRfc3339(h.timeCompleted) ?? parseRfc3339(h.scheduledTime);
    return t !== undefined && t.getTime() < cut;
  });
  return { targets: old.map((h) => ({ backupName: h.snapshotTag as string })) };
}

/** After a COMPLETED scheduled run: carries out the backup's retention, if it has one. Never throws. */
export async function applyRetention(core: RunnerCore, run: Run, signal: AbortSignal): Promise<void> {
  const obj = core.object("backup", run.key);
  const sidecar = run.sidecar;
  if (obj === undefined || sidecar === undefined || signal.aborted) return;
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const ann = isRecord(meta.annotations) ? meta.annotations : {};
  const value = ann[RETENTION_ANNOTATION];
  if (typeof value !== "string") return;
  const retention = parseRetention(value);
  const involved = core.involved("backup", run.namespace, run.name);
  const warn = (reason: string, message: string) => core.events.record(involved, "Warning", reason, message);
  if (retention === undefined) {
    core.log.warn(
      { backup: run.key, retention: value },
      "retention annotation not understood; nothing removed",
    );
    return;
  }
  const unsupportedOnce = async (why: string) => {
    if (typeof ann[RETENTION_UNSUPPORTED_ANNOTATION] === "string") return;
    warn("RetentionUnsupported", `${RETENTION_ANNOTATION} ${value} is not carried out: ${why}`);
    await core.patch(
      "backup",
      run.namespace,
      run.name,
      { metadata: { annotations: { [RETENTION_UNSUPPORTED_ANNOTATION]: why.slice(0, 200) } } },
      signal,
    );
  };
  try {
    let version: string;
    try {
      version = (await sidecar.version(signal)).version;
    } catch (e) {
      if (signal.aborted) return;
      warn(
        "RetentionFailed",
        `could not read the version of the sidecar on ${run.pod?.name}: ${describeError(e)}`,
      );
      core.metrics.run("retention", "failed");
      return;
    }
    if (!supportsRemoveBackup(version)) {
      await unsupportedOnce(
        `the sidecar on ${run.pod?.name} is ${version}, and remove-backup needs icarus 2.0.2 or later; ` +
          "use the storage's lifecycle rules instead",
      );
      return;
    }
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const location = typeof spec.storageLocation === "string" ? spec.storageLocation : "";
    const shared = [...core.objects("backup")].some(([key, other]) => {
      if (key === run.key) return false;
      const s = isRecord(other.spec) ? other.spec : {};
      return typeof s.storageLocation === "string" && sameLocation(s.storageLocation, location);
    });
    // The run's final status is written (this starts once it is): its history is the object's.
    const plan = retentionPlan(retention, run.written.history ?? [], {
      shared,
      historyKept: core.extrasKept("backup") && run.written.history !== undefined,
      now: new Date(core.now()),
    });
    if (plan.unsupported !== undefined) {
      await unsupportedOnce(plan.unsupported);
      return;
    }
    const removed: string[] = [];
    for (const target of plan.targets) {
      if (signal.aborted) return;
      const what = "backupName" in target ? target.backupName : `older than ${value}`;
      const started = core.now();
      let op: Operation | undefined;
      try {
        op = await follow(
          core,
          sidecar,
          await sidecar.submit(removeBackupRequest(obj as CassandraBackup, target, run.namespace), signal),
          signal,
        );
      } catch (e) {
        if (signal.aborted) return;
        warn("RetentionFailed", `could not remove ${what} on pod ${run.pod?.name}: ${describeError(e)}`);
        core.metrics.run("retention", "failed", (core.now() - started) / 1000);
        continue;
      }
      const seconds = (core.now() - started) / 1000;
      if (op?.state === "COMPLETED") {
        core.metrics.run("retention", "completed", seconds);
        if ("backupName" in target) removed.push(target.backupName);
        continue;
      }
      const cause =
        op?.errors.find((e) => e.message !== undefined)?.message ?? `operation ${op?.state ?? "lost"}`;
      warn("RetentionFailed", `could not remove ${what} on pod ${run.pod?.name}: ${cause}`);
      core.metrics.run("retention", op === undefined ? "lost" : "failed", seconds);
    }
    if (removed.length > 0) await dropFromHistory(core, run, removed, signal);
    if (plan.targets.length > 0) {
      core.events.record(
        involved,
        "Normal",
        "RetentionApplied",
        retention.kind === "age" && !shared
          ? `Removed the backups older than ${value} from ${location}`
          : `Removed ${removed.length} backup(s) beyond ${RETENTION_ANNOTATION} ${value}: ${removed.join(", ")}`,
      );
    }
  } catch (e) {
    if (signal.aborted) return;
    core.log.warn({ backup: run.key, err: describeError(e) }, "retention failed");
  }
}

/** Follows a remove-backup to its end; undefined when the sidecar forgot it. */
async function follow(
  core: RunnerCore,
  sidecar: SidecarApi,
  submitted: Operation,
  signal: AbortSignal,
): Promise<Operation | undefined> {
  let op: Operation | undefined = submitted;
  let failingSince: number | undefined;
  while (op !== undefined && !TERMINAL_STATES.has(op.state)) {
    await core.sleep(core.options.pollIntervalMs, signal);
    try {
      op = await sidecar.get(submitted.id, signal);
      failingSince = undefined;
    } catch (e) {
      if (signal.aborted) throw e;
      failingSince ??= core.now();
      if (core.now() - failingSince >= core.options.unreachableTimeoutMs) throw e;
    }
  }
  return op;
}

/** Removes the removed runs from status.history (compare-and-swap: a new run may be recording meanwhile). */
async function dropFromHistory(
  core: RunnerCore,
  run: Run,
  names: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  const gone = new Set(names);
  let obj = core.object("backup", run.key);
  for (let attempt = 0; attempt < 5 && obj !== undefined; attempt++) {
    const history = readStatus(obj).history ?? [];
    const kept = history.filter((h) => h.snapshotTag === undefined || !gone.has(h.snapshotTag));
    if (kept.length === history.length) return;
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    try {
      await core.patch(
        "backup",
        run.namespace,
        run.name,
        { metadata: { resourceVersion: meta.resourceVersion }, status: { history: kept } },
        signal,
      );
      return;
    } catch (e) {
      const code = statusCodeOf(e);
      if (code === 404) return;
      if (code !== 409) throw e;
      obj = await core.get("backup", run.namespace, run.name, signal);
    }
  }
}

/** Two storage locations name the same place (a trailing slash aside). */
function sameLocation(a: string, b: string): boolean {
  return a.replace(/\/+$/, "") === b.replace(/\/+$/, "");
}
