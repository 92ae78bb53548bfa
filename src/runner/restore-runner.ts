// CassandraRestores: each runs exactly once (reference/operators.md §1.6).
//
// 1. No condition and no coordinator: the backup is looked up by name in the restore's namespace, the
//    CassandraCluster too; missing → a Warning Event ("BackupNotFound", "CassandraClusterNotFound") and a
//    retry with backoff (15 s doubling to 5 min; CassKop retries forever at its controller's rate). The
//    coordinator is a Ready pod of the restore's cluster in the BACKUP's datacenter, as CassKop picks it; no
//    pod → "RestoreNotInitiated" and a retry.
// 2. The record, before the sidecar is called: condition `REQUIRED` (CassKop's state for "assigned to a
//    member") and coordinatorMember, with a compare-and-swap on resourceVersion; Event "RestoreRequired".
// 3. POST the restore (CassKop's request: HARDLINKS, INIT, global, resolveHostIdFromTopology) and write the
//    operation's id and state right after; Event "RestoreStarted".
// 4. Poll until COMPLETED, FAILED or CANCELLED ("CANCELLED" with two Ls, the sidecar's spelling, which CassKop's
//    `CANCELED` never matched: its restores just stopped being reconciled). Events "RestoreCompleted" or
//    "RestoreFailed" (a Warning, with the sidecar's first error).
// A restore with a terminal condition is never run again. A runner that finds `REQUIRED` without an id
// (stopped between the record and the answer) looks for the operation in the coordinator's
// `GET /operations?type=restore` (global, the backup's storageLocation and snapshotTag, created after the
// record) and POSTs only when it is not there; with an id, it polls it again.

import type { CassandraBackup, CassandraRestore } from "../core/types.ts";
import { isRecord } from "../core/world-build.ts";
import { describeError } from "../kube/client.ts";
import { failureText } from "./backup-runner.ts";
import type { Operation, RestoreRequest } from "./model.ts";
import { choosePod, listClusterPods, type PodRef, podSelector } from "./pods.ts";
import { restoreRequest } from "./requests.ts";
import { keyIds, newRun } from "./run-state.ts";
import type { KindController, Run, RunHooks, RunnerCore } from "./runner.ts";
import { parseRfc3339, RECORDED_RESTORE, readStatus, recordedStatus } from "./status.ts";

/** How far a sidecar's clock may lag the runner's when a lost POST is looked for. */
const CLOCK_SKEW_MS = 30_000;

type Obj = Record<string, unknown>;

export function createRestoreController(core: RunnerCore): KindController {
  /** Consecutive failed attempts to start, by key (the retry backoff). */
  const attempts = new Map<string, number>();
  const runKey = (key: string) => `restore/${key}`;

  function sync(keys: readonly string[]): void {
    if (core.signal() === undefined) return;
    const fresh: string[] = [];
    for (const key of keys) {
      const obj = core.object("restore", key);
      if (obj === undefined) continue;
      if (deleting(obj)) {
        forget(key);
        continue;
      }
      if (core.runs.has(runKey(key))) continue;
      const st = readStatus(obj);
      const un = core.unfinished("restore", key, obj);
      if (un !== undefined) resume(key, obj, un);
      else if (st.condition === undefined && (st.coordinatorMember ?? "") === "") fresh.push(key);
    }
    for (const key of fresh) start(key);
  }

  function start(key: string): void {
    const obj = core.object("restore", key);
    if (obj === undefined) return;
    core.cancelWake("restore", key);
    const run = newRun(core, "restore", key, obj, hooks);
    core.track(run);
    core.runTask(run, "restore run", () => begin(run));
  }

  /** Not startable yet: a Warning Event and another try later. */
  function retry(run: Run, reason: string, message: string): void {
    core.drop(run);
    const n = (attempts.get(run.key) ?? 0) + 1;
    attempts.set(run.key, n);
    const delay = Math.min(core.options.retryMaxMs, core.options.retryBaseMs * 2 ** Math.min(20, n - 1));
    event(run.key, "Warning", reason, `${message}; trying again in ${Math.round(delay / 1000)} s`);
    core.wakeLater("restore", run.key, delay);
  }

  function backupOf(obj: Obj, namespace: string): Obj | undefined {
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const name = typeof spec.cassandraBackup === "string" ? spec.cassandraBackup : "";
    return name === "" ? undefined : core.object("backup", `${namespace}/${name}`);
  }

  async function begin(run: Run): Promise<void> {
    const signal = run.abort.signal;
    const obj = core.object("restore", run.key);
    if (obj === undefined) {
      core.drop(run);
      return;
    }
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const backupName = String(spec.cassandraBackup ?? "");
    const backup = backupOf(obj, run.namespace);
    if (backup === undefined) {
      retry(run, "BackupNotFound", `Backup ${backupName} to restore not found in namespace ${run.namespace}`);
      return;
    }
    const exists = await core.clusterExists(run.namespace, run.cluster, signal);
    if (signal.aborted) return;
    if (exists === false) {
      retry(run, "CassandraClusterNotFound", `Cassandra Cluster ${run.cluster} to restore not found`);
      return;
    }
    let request: RestoreRequest;
    try {
      request = restoreRequest(obj as CassandraRestore, backup as CassandraBackup);
    } catch (e) {
      retry(
        run,
        "RestoreNotInitiated",
        `Restore of backup ${backupName} cannot be sent: ${describeError(e)}`,
      );
      return;
    }
    const bspec = isRecord(backup.spec) ? backup.spec : {};
    const dc = typeof bspec.datacenter === "string" ? bspec.datacenter : "";
    let pod: PodRef | undefined;
    try {
      pod = choosePod(await listClusterPods(core.kc, run.namespace, run.cluster, dc), core.random);
    } catch (e) {
      if (signal.aborted) return;
      retry(
        run,
        "RestoreNotInitiated",
        `could not list the pods of cluster ${run.cluster}: ${describeError(e)}`,
      );
      return;
    }
    if (signal.aborted) return;
    if (pod === undefined) {
      retry(
        run,
        "RestoreNotInitiated",
        `No Ready pod found in datacenter ${dc === "" ? "(all)" : dc} of cluster ${run.cluster} ` +
          `(labels ${podSelector(run.cluster, dc)})`,
      );
      return;
    }
    run.pod = pod;
    run.sidecar = core.sidecar(pod);
    const at = new Date(core.now());
    const outcome = await core.record(run, (fresh) => {
      const st = readStatus(fresh);
      if (deleting(fresh) || st.condition !== undefined || (st.coordinatorMember ?? "") !== "")
        return undefined;
      return { status: recordedStatus(st, { state: RECORDED_RESTORE, coordinator: pod.name, now: at }) };
    });
    if (outcome !== "recorded") {
      core.drop(run);
      return;
    }
    attempts.delete(run.key);
    run.recordedAt = at.getTime();
    event(
      run.key,
      "Normal",
      "RestoreRequired",
      `${describe(run, backupName, request)} assigned to pod ${pod.name}`,
    );
    await core.submit(run, request, matcher(run, request), false);
  }

  function matcher(run: Run, request: RestoreRequest): (op: Operation) => boolean {
    return (op) => {
      if (op.type !== "restore" || op.raw.globalRequest === false) return false;
      if (typeof op.raw.storageLocation === "string" && op.raw.storageLocation !== request.storageLocation)
        return false;
      if (op.snapshotTag !== undefined && op.snapshotTag !== request.snapshotTag) return false;
      const created = parseRfc3339(op.creationTime);
      return created === undefined || created.getTime() >= (run.recordedAt ?? 0) - CLOCK_SKEW_MS;
    };
  }

  function resume(key: string, obj: Obj, un: NonNullable<ReturnType<RunnerCore["unfinished"]>>): void {
    const run = newRun(core, "restore", key, obj, hooks);
    if (un.id !== undefined) run.id = un.id;
    if (un.recordedAt !== undefined) run.recordedAt = un.recordedAt.getTime();
    const st = readStatus(obj);
    if (st.condition?.lastTransitionTime !== undefined) run.recordLtt = st.condition.lastTransitionTime;
    core.track(run);
    core.runTask(run, "restore resume", () => resumeRun(run, un.coordinator));
  }

  async function resumeRun(run: Run, coordinator: string): Promise<void> {
    const signal = run.abort.signal;
    let pod: PodRef | undefined;
    let lastError = "";
    for (let attempt = 0; pod === undefined; attempt++) {
      try {
        pod = (await listClusterPods(core.kc, run.namespace, run.cluster)).find(
          (p) => p.name === coordinator,
        );
        if (pod === undefined) lastError = `pod ${coordinator} not found`;
      } catch (e) {
        if (signal.aborted) return;
        lastError = describeError(e);
      }
      if (pod !== undefined) break;
      if (core.now() - run.since >= core.options.unreachableTimeoutMs) {
        await core.fail(
          run,
          "lost",
          `the coordinator pod ${coordinator} is gone (${lastError}): the restore's result was lost`,
        );
        return;
      }
      await core.sleep(Math.min(30_000, core.options.pollIntervalMs * 2 ** attempt), signal);
    }
    run.pod = pod;
    run.sidecar = core.sidecar(pod);
    if (run.id !== undefined) {
      core.follow(run);
      return;
    }
    const obj = core.object("restore", run.key);
    const backup = obj === undefined ? undefined : backupOf(obj, run.namespace);
    if (obj === undefined) {
      core.drop(run);
      return;
    }
    if (backup === undefined) {
      // The request needs the backup; the record stays REQUIRED and this is tried again.
      retry(
        run,
        "BackupNotFound",
        `Backup ${String((obj.spec as Obj | undefined)?.cassandraBackup ?? "")} to restore not found`,
      );
      return;
    }
    let request: RestoreRequest;
    try {
      request = restoreRequest(obj as CassandraRestore, backup as CassandraBackup);
    } catch (e) {
      await core.fail(run, "failed", `the restore cannot be sent to the sidecar: ${describeError(e)}`);
      return;
    }
    await core.submit(run, request, matcher(run, request), true);
  }

  const hooks: RunHooks = {
    started(run, op, adopted) {
      const obj = core.object("restore", run.key);
      const backupName = String((isRecord(obj?.spec) ? obj.spec.cassandraBackup : undefined) ?? "");
      event(
        run.key,
        "Normal",
        "RestoreStarted",
        adopted
          ? `Restore of backup ${backupName} found running on pod ${run.pod?.name} after a restart (operation ${op.id}): following it`
          : `Restore of backup ${backupName} started on pod ${run.pod?.name} (operation ${op.id})`,
      );
    },
    ended(run, result, message) {
      core.metrics.run("restore", result, (core.now() - (run.recordedAt ?? run.since)) / 1000);
      const opName = run.id === undefined ? "Restore" : `Restore operation ${run.id}`;
      const where = `on pod ${run.pod?.name ?? run.written.coordinatorMember ?? "?"}`;
      if (result === "completed") {
        event(run.key, "Normal", "RestoreCompleted", `${opName} ${where} was completed`);
        return;
      }
      event(
        run.key,
        "Warning",
        "RestoreFailed",
        `${opName} ${where} has failed: ${failureText(result, message, run.wanted)}`,
      );
    },
  };

  function describe(run: Run, backupName: string, request: RestoreRequest): string {
    return (
      `Restore of backup ${backupName} of datacenter ${request.dc ?? "(all)"} of cluster ${run.cluster} ` +
      `from ${request.storageLocation} under snapshot ${request.snapshotTag}`
    );
  }

  function forget(key: string): void {
    attempts.delete(key);
    core.cancelWake("restore", key);
    const run = core.runs.get(runKey(key));
    if (run === undefined) return;
    core.drop(run);
    core.metrics.run("restore", "abandoned", (core.now() - run.since) / 1000);
    event(
      key,
      "Normal",
      "RestoreUntracked",
      `Deleted while ${run.id === undefined ? "starting" : `operation ${run.id} was running`} on pod ` +
        `${run.pod?.name ?? "?"}: the sidecar finishes it unobserved`,
    );
  }

  function event(key: string, type: "Normal" | "Warning", reason: string, message: string): void {
    const { namespace, name } = keyIds(key);
    core.events.record(core.involved("restore", namespace, name), type, reason, message);
  }

  return { sync, forget, wake: (key) => sync([key]) };
}

function deleting(obj: Obj): boolean {
  return isRecord(obj.metadata) && typeof obj.metadata.deletionTimestamp === "string";
}
