// CassandraBackups: one-shot and scheduled runs on the sidecar, crash-safe.
//
// One-shot (no `spec.schedule`): runs once, when the backup has no `status.condition` (CassKop's `Ran()`: a
// non-scheduled backup with a condition has run, and editing it never runs it again).
//
// Scheduled: robfig fire times on the runner's one scheduler. When a backup is first planned in a
// leadership term, `decideRun` (Kubernetes CronJob semantics) starts at most ONE catch-up run for the most
// recent instant missed while nobody led, unless `casskeeper.io/starting-deadline-seconds` has passed for it.
// The concurrency policy (`casskeeper.io/concurrency-policy`, Forbid by default, Allow; k8ssandra-operator
// #1203) is per namespace, cluster and datacenter: under Forbid, a run due while another backup of the same
// cluster and datacenter (or of the whole cluster, when either has no datacenter) is in flight is skipped
// with a "BackupSkipped" Warning Event. A backup never overlaps ITSELF, whatever its policy: its status
// follows one operation at a time (CassKop's status has one id), so a run due while its previous run is in
// flight is skipped the same way.
//
// Crash safety. Before the sidecar is called, the run is recorded with a compare-and-swap on the object's
// resourceVersion: condition PENDING, coordinatorMember, and for a scheduled run lastScheduleTime (status
// and the `casskeeper.io/last-schedule-time` annotation, which survives CassKop's CRD pruning the status
// extras) and a new history entry. Only then the POST, and the operation id is written right after. A
// runner that finds a recorded run that did not end (after a restart, or as a new leader):
//   - with an id: polls it again on the recorded coordinator pod;
//   - without one (stopped between the record and the sidecar's answer): looks for it in the coordinator's
//     `GET /operations?type=backup` (global, same storageLocation, snapshotTag `<tag>` or `<tag>-…`, created
//     after the record minus a clock-skew margin, not a previous run's), adopts it when found, POSTs when not.
// A scheduled instant is never started twice: the record is conditional on the instant not being recorded
// yet (lastScheduleTime), and a concurrent writer makes the compare-and-swap fail.
// Instants skipped (policy) or missed past their deadline are recorded in the annotation too, so a restart
// does not run them as a catch-up.

import {
  CONCURRENCY_POLICY_ANNOTATION,
  parseStartingDeadline,
  STARTING_DEADLINE_ANNOTATION,
} from "../core/rules/backup.ts";
import { parseStandard } from "../core/schedule/index.ts";
import type { CassandraBackup } from "../core/types.ts";
import { isRecord } from "../core/world-build.ts";
import { describeError, statusCodeOf } from "../kube/client.ts";
import type { RunResult } from "./metrics.ts";
import type { BackupRequest, Operation } from "./model.ts";
import { choosePod, listClusterPods, type PodRef, podSelector } from "./pods.ts";
import { backupRequest, backupRequestWarnings } from "./requests.ts";
import { applyRetention } from "./retention.ts";
import { keyIds, newRun } from "./run-state.ts";
import type { KindController, Run, RunHooks, RunnerCore } from "./runner.ts";
import { decideRun } from "./schedule-plan.ts";
import {
  failedStatus,
  firstFailure,
  parseRfc3339,
  RECORDED_BACKUP,
  type RunStatus,
  readStatus,
  recordedStatus,
  rfc3339,
  unfinishedRun,
} from "./status.ts";

/** The last scheduled instant started, skipped or missed (RFC 3339): survives CRDs that prune status extras. */
export const LAST_SCHEDULE_ANNOTATION = "casskeeper.io/last-schedule-time";
/** How far a sidecar's clock may lag the runner's when a lost POST is looked for. */
export const CLOCK_SKEW_MS = 30_000;

type Obj = Record<string, unknown>;

export function createBackupController(core: RunnerCore): KindController {
  /** Schedules set in this term's scheduler, by key. */
  const planned = new Map<string, string>();
  /** Invalid schedules already reported, by key. */
  const warned = new Map<string, string>();
  let term: AbortSignal | undefined;

  const runKey = (key: string) => `backup/${key}`;

  function sync(keys: readonly string[]): void {
    const signal = core.signal();
    if (signal === undefined) return;
    if (term !== signal) {
      term = signal;
      planned.clear();
    }
    // Resumptions first: the concurrency policy must see every run in flight before new ones start.
    const rest: string[] = [];
    for (const key of keys) {
      const obj = core.object("backup", key);
      if (obj === undefined) continue;
      if (deleting(obj)) {
        forget(key);
        continue;
      }
      rest.push(key);
      if (core.runs.has(runKey(key))) continue;
      const un = core.unfinished("backup", key, obj);
      if (un !== undefined) resume(key, obj, un);
    }
    for (const key of rest) plan(key);
  }

  function plan(key: string): void {
    const scheduler = core.scheduler();
    const obj = core.object("backup", key);
    if (scheduler === undefined || obj === undefined || deleting(obj)) return;
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const schedule = typeof spec.schedule === "string" && spec.schedule !== "" ? spec.schedule : undefined;
    if (schedule === undefined) {
      if (planned.delete(key)) scheduler.remove(key);
      clearNext(key);
      // One-shot: runs when it never ran (CassKop: a condition means "already run").
      if (!core.runs.has(runKey(key)) && readStatus(obj).condition === undefined) start(key, undefined);
      return;
    }
    if (planned.get(key) === schedule) return;
    const parsed = parseStandard(schedule);
    if (!parsed.ok) {
      if (planned.delete(key)) scheduler.remove(key);
      clearNext(key);
      if (warned.get(key) !== schedule) {
        warned.set(key, schedule);
        event(key, "Warning", "BackupInvalidSchedule", `Schedule ${schedule} is not valid: ${parsed.error}`);
      }
      return;
    }
    warned.delete(key);
    const first = !planned.has(key);
    planned.set(key, schedule);
    const now = new Date(core.now());
    let after = now;
    if (first) {
      const last = lastScheduleTime(obj);
      const createdAt = parseRfc3339(meta(obj).creationTimestamp) ?? now;
      const deadline = parseStartingDeadline(annotations(obj)[STARTING_DEADLINE_ANNOTATION] ?? "");
      const d = decideRun({
        schedule,
        ...(last === undefined ? {} : { lastScheduleTime: last }),
        createdAt,
        now,
        ...(deadline === undefined ? {} : { startingDeadlineSeconds: deadline }),
      });
      if (d.missed > 0 || (d.run === undefined && d.lastDue !== undefined)) {
        const n = `${d.missed}${d.missedEstimated ? " (about)" : ""}`;
        const message =
          d.run === undefined
            ? `${n} scheduled run(s) missed while no runner was leading; the last one, due at ` +
              `${rfc3339(d.lastDue as Date)}, is past its starting deadline of ${deadline} s and does not run`
            : `${n} scheduled run(s) missed while no runner was leading; running the one due at ` +
              `${rfc3339(d.run.scheduledTime)} once`;
        event(key, "Warning", "BackupMissed", message);
      }
      if (d.run !== undefined) fire(key, d.run.scheduledTime, 0);
      else if (d.lastDue !== undefined) markHandled(key, d.lastDue);
      // The chain continues from the last due instant (`@every` counts from there, not from now).
      after = d.lastDue ?? last ?? createdAt;
      if (after.getTime() > now.getTime()) after = now;
    }
    try {
      scheduler.set(key, schedule, after, (t, skipped) => fire(key, t, skipped));
    } catch (e) {
      core.log.error({ backup: key, err: describeError(e) }, "could not schedule");
      return;
    }
    writeNext(key);
  }

  /** A scheduled instant is due. */
  function fire(key: string, scheduledTime: Date, skipped: number): void {
    const obj = core.object("backup", key);
    if (obj === undefined || deleting(obj) || core.signal() === undefined) return;
    const last = lastScheduleTime(obj);
    if (last !== undefined && last.getTime() >= scheduledTime.getTime()) return; // started already
    if (skipped > 0) {
      core.log.warn(
        { backup: key, skipped, scheduledTime: rfc3339(scheduledTime) },
        "woke late: older instants skipped",
      );
    }
    const own = core.runs.get(runKey(key));
    if (own !== undefined) {
      skip(
        key,
        scheduledTime,
        `its previous run (${own.id === undefined ? "not submitted yet" : `operation ${own.id}`}) is still running`,
      );
      return;
    }
    if (annotations(obj)[CONCURRENCY_POLICY_ANNOTATION] !== "Allow") {
      const other = runningOn(key, obj);
      if (other !== undefined) {
        skip(
          key,
          scheduledTime,
          `backup ${other.name} of the same cluster and datacenter is running` +
            `${other.id === undefined ? "" : ` (operation ${other.id})`} and the concurrency policy is Forbid`,
        );
        return;
      }
    }
    start(key, scheduledTime);
  }

  /** Another backup's run in flight on the same cluster and an overlapping datacenter. */
  function runningOn(key: string, obj: Obj): Run | undefined {
    const { namespace } = keyIds(key);
    const spec = isRecord(obj.spec) ? obj.spec : {};
    const cluster = typeof spec.cassandraCluster === "string" ? spec.cassandraCluster : "";
    const dc = typeof spec.datacenter === "string" ? spec.datacenter : "";
    for (const run of core.runs.values()) {
      if (run.kind !== "backup" || run.key === key || run.phase === "done") continue;
      if (run.namespace !== namespace || run.cluster !== cluster) continue;
      if (run.datacenter === "" || dc === "" || run.datacenter === dc) return run;
    }
    return undefined;
  }

  function skip(key: string, scheduledTime: Date, reason: string): void {
    event(key, "Warning", "BackupSkipped", `Run due at ${rfc3339(scheduledTime)} skipped: ${reason}`);
    core.metrics.run("backup", "skipped");
    core.log.info({ backup: key, scheduledTime: rfc3339(scheduledTime), reason }, "scheduled run skipped");
    markHandled(key, scheduledTime);
  }

  /** Records an instant as decided (skipped or missed) in the annotation, unless a later one is there. */
  function markHandled(key: string, instant: Date): void {
    const signal = core.signal();
    if (signal === undefined) return;
    const { namespace, name } = keyIds(key);
    core.spawn("mark schedule", async () => {
      const obj = core.object("backup", key);
      if (obj === undefined) return;
      const current = parseRfc3339(annotations(obj)[LAST_SCHEDULE_ANNOTATION]);
      if (current !== undefined && current.getTime() >= instant.getTime()) return;
      const next = core.scheduler()?.next(key);
      try {
        await core.patch(
          "backup",
          namespace,
          name,
          {
            metadata: { annotations: { [LAST_SCHEDULE_ANNOTATION]: rfc3339(instant) } },
            ...(next === undefined || core.runs.has(runKey(key))
              ? {}
              : { status: { nextScheduleTime: rfc3339(next) } }),
          },
          signal,
        );
      } catch (e) {
        if (statusCodeOf(e) !== 404) throw e;
      }
    });
  }

  /** status.nextScheduleTime, when it is not what the scheduler says (and no run owns the status now). */
  function writeNext(key: string): void {
    const signal = core.signal();
    const next = core.scheduler()?.next(key);
    const obj = core.object("backup", key);
    if (signal === undefined || next === undefined || obj === undefined || core.runs.has(runKey(key))) return;
    const at = rfc3339(next);
    if (readStatus(obj).nextScheduleTime === at) return;
    const { namespace, name } = keyIds(key);
    core.spawn("next schedule time", async () => {
      try {
        await core.patch("backup", namespace, name, { status: { nextScheduleTime: at } }, signal);
      } catch (e) {
        if (statusCodeOf(e) !== 404) throw e;
      }
    });
  }

  /** A backup that no longer fires (schedule removed or invalid) shows no next time. */
  function clearNext(key: string): void {
    const signal = core.signal();
    const obj = core.object("backup", key);
    if (signal === undefined || obj === undefined || core.runs.has(runKey(key))) return;
    if (readStatus(obj).nextScheduleTime === undefined) return;
    const { namespace, name } = keyIds(key);
    core.spawn("next schedule time", async () => {
      try {
        await core.patch("backup", namespace, name, { status: { nextScheduleTime: null } }, signal);
      } catch (e) {
        if (statusCodeOf(e) !== 404) throw e;
      }
    });
  }

  function start(key: string, scheduledTime: Date | undefined): void {
    const obj = core.object("backup", key);
    if (obj === undefined) return;
    const run = newRun(core, "backup", key, obj, hooks, scheduledTime);
    core.track(run);
    core.runTask(run, "backup run", () => begin(run));
  }

  async function begin(run: Run): Promise<void> {
    const signal = run.abort.signal;
    const obj = core.object("backup", run.key);
    if (obj === undefined) {
      core.drop(run);
      return;
    }
    const spec = isRecord(obj.spec) ? obj.spec : {};
    let request: BackupRequest;
    try {
      request = backupRequest(obj as CassandraBackup, run.namespace);
    } catch (e) {
      await refuse(run, `the backup cannot be sent to the sidecar: ${describeError(e)}`);
      return;
    }
    for (const w of backupRequestWarnings(obj as CassandraBackup))
      event(run.key, "Warning", "BackupSpecIgnored", w);
    let pod: PodRef | undefined;
    try {
      pod = choosePod(
        await listClusterPods(core.kc, run.namespace, run.cluster, run.datacenter),
        core.random,
      );
    } catch (e) {
      if (signal.aborted) return;
      await refuse(run, `could not list the pods of cluster ${run.cluster}: ${describeError(e)}`);
      return;
    }
    if (signal.aborted) return;
    if (pod === undefined) {
      await refuse(run, await noPodMessage(run, String(spec.snapshotTag ?? "")));
      return;
    }
    run.pod = pod;
    run.sidecar = core.sidecar(pod);
    const at = new Date(core.now());
    const outcome = await core.record(run, (fresh) => {
      const st = readStatus(fresh);
      if (!recordable(run, fresh, st)) return undefined;
      return {
        status: recordedStatus(st, {
          state: RECORDED_BACKUP,
          coordinator: pod.name,
          now: at,
          scheduledTime: run.scheduledTime,
          nextScheduleTime: run.scheduledTime === undefined ? undefined : core.scheduler()?.next(run.key),
        }),
        ...(run.scheduledTime === undefined
          ? {}
          : { annotations: { [LAST_SCHEDULE_ANNOTATION]: rfc3339(run.scheduledTime) } }),
      };
    });
    if (outcome !== "recorded") {
      core.drop(run);
      if (outcome === "superseded")
        core.log.info({ backup: run.key }, "another runner recorded this run first");
      return;
    }
    run.recordedAt = at.getTime();
    await core.submit(run, request, matcher(run, request), false);
  }

  /** The run is still to be recorded on this (fresh) object. */
  function recordable(run: Run, obj: Obj, st: RunStatus): boolean {
    if (deleting(obj)) return false;
    if (run.scheduledTime === undefined) return st.condition === undefined;
    if (unfinishedRun(st) !== undefined) return false; // a run of it is in flight elsewhere
    const last = lastScheduleTime(obj);
    return last === undefined || last.getTime() < run.scheduledTime.getTime();
  }

  /**
   * The run cannot start (no pod, an unreadable spec): recorded as FAILED at once, so a one-shot backup has
   * run (as under CassKop, which never retries it) and a scheduled instant is not tried again.
   */
  async function refuse(run: Run, message: string): Promise<void> {
    const at = new Date(core.now());
    let outcome: "recorded" | "superseded" | "gone";
    try {
      outcome = await core.record(run, (fresh) => {
        const st = readStatus(fresh);
        if (!recordable(run, fresh, st)) return undefined;
        return {
          status: failedStatus(
            recordedStatus(st, {
              state: RECORDED_BACKUP,
              now: at,
              scheduledTime: run.scheduledTime,
              nextScheduleTime: run.scheduledTime === undefined ? undefined : core.scheduler()?.next(run.key),
            }),
            message,
            at,
          ),
          ...(run.scheduledTime === undefined
            ? {}
            : { annotations: { [LAST_SCHEDULE_ANNOTATION]: rfc3339(run.scheduledTime) } }),
        };
      });
    } catch (e) {
      if (run.abort.signal.aborted) return;
      core.drop(run);
      core.log.warn({ backup: run.key, err: describeError(e) }, "could not record a failed start; retrying");
      core.wakeLater("backup", run.key, core.options.retryBaseMs);
      return;
    }
    core.drop(run);
    if (outcome !== "recorded") return;
    event(run.key, "Warning", "BackupNotInitiated", message);
    core.metrics.run("backup", "failed");
  }

  async function noPodMessage(run: Run, snapshotTag: string): Promise<string> {
    const where = `datacenter ${run.datacenter === "" ? "(all)" : run.datacenter} of cluster ${run.cluster}`;
    const exists = await core.clusterExists(run.namespace, run.cluster, run.abort.signal);
    if (exists === false)
      return `CassandraCluster ${run.cluster} not found in namespace ${run.namespace}: snapshot ${snapshotTag} not taken`;
    return `No Ready pod found in ${where} (labels ${podSelector(run.cluster, run.datacenter)}): snapshot ${snapshotTag} not taken`;
  }

  function matcher(run: Run, request: BackupRequest): (op: Operation) => boolean {
    const excluded = new Set((run.written.history ?? []).map((h) => h.id).filter((id) => id !== undefined));
    return (op) => {
      if (op.type !== "backup" || excluded.has(op.id)) return false;
      if (op.raw.globalRequest === false) return false; // a node's child operation
      if (typeof op.raw.storageLocation === "string" && op.raw.storageLocation !== request.storageLocation)
        return false;
      const tag = op.snapshotTag;
      if (tag === undefined || (tag !== request.snapshotTag && !tag.startsWith(`${request.snapshotTag}-`)))
        return false;
      const created = parseRfc3339(op.creationTime);
      const since = (run.recordedAt ?? 0) - CLOCK_SKEW_MS;
      if (created !== undefined && created.getTime() < since) return false;
      const completed = parseRfc3339(op.completionTime);
      // Ended before this run was recorded: a previous run's.
      if (
        completed !== undefined &&
        run.recordedAt !== undefined &&
        completed.getTime() < run.recordedAt - 1_000
      )
        return false;
      return true;
    };
  }

  /** Picks up a run recorded earlier (by this process's predecessor, or another leader). */
  function resume(key: string, obj: Obj, un: NonNullable<ReturnType<RunnerCore["unfinished"]>>): void {
    const scheduled = typeof (isRecord(obj.spec) ? obj.spec.schedule : undefined) === "string";
    const st = readStatus(obj);
    const scheduledTime = scheduled
      ? (parseRfc3339(st.history?.[0]?.scheduledTime) ??
        parseRfc3339(st.lastScheduleTime) ??
        lastScheduleTime(obj))
      : undefined;
    const run = newRun(core, "backup", key, obj, hooks, scheduledTime);
    if (un.id !== undefined) run.id = un.id;
    // Second precision: the record may have been made up to a second after its stamp.
    if (un.recordedAt !== undefined) run.recordedAt = un.recordedAt.getTime();
    if (st.condition?.lastTransitionTime !== undefined) run.recordLtt = st.condition.lastTransitionTime;
    core.track(run);
    core.runTask(run, "backup resume", () => resumeRun(run, un.coordinator));
  }

  async function resumeRun(run: Run, coordinator: string): Promise<void> {
    const signal = run.abort.signal;
    const pod = await findCoordinator(run, coordinator);
    if (pod === undefined || signal.aborted) return;
    run.pod = pod;
    run.sidecar = core.sidecar(pod);
    if (run.id !== undefined) {
      core.log.info({ backup: run.key, id: run.id, pod: pod.name }, "following a recorded operation again");
      core.follow(run);
      return;
    }
    const obj = core.object("backup", run.key);
    if (obj === undefined) {
      core.drop(run);
      return;
    }
    let request: BackupRequest;
    try {
      request = backupRequest(obj as CassandraBackup, run.namespace);
    } catch (e) {
      await core.fail(run, "failed", `the backup cannot be sent to the sidecar: ${describeError(e)}`);
      return;
    }
    core.log.info(
      { backup: run.key, pod: pod.name },
      "recorded without an operation id: looking for it on the sidecar",
    );
    await core.submit(run, request, matcher(run, request), true);
  }

  /** The recorded coordinator pod, waited for while it is away (a restart), up to the unreachable timeout. */
  async function findCoordinator(run: Run, name: string): Promise<PodRef | undefined> {
    const signal = run.abort.signal;
    let lastError = "";
    for (let attempt = 0; ; attempt++) {
      try {
        const pods = await listClusterPods(core.kc, run.namespace, run.cluster);
        const pod = pods.find((p) => p.name === name);
        if (pod !== undefined) return pod;
        lastError = `pod ${name} not found`;
      } catch (e) {
        if (signal.aborted) return undefined;
        lastError = describeError(e);
      }
      if (core.now() - run.since >= core.options.unreachableTimeoutMs) break;
      await core.sleep(Math.min(30_000, core.options.pollIntervalMs * 2 ** attempt), signal);
    }
    await core.fail(
      run,
      "lost",
      `the coordinator pod ${name} of ${run.id === undefined ? "this run" : `operation ${run.id}`} is gone ` +
        `(${lastError}): its result was lost`,
    );
    return undefined;
  }

  const hooks: RunHooks = {
    started(run, op, adopted) {
      const obj = core.object("backup", run.key);
      const spec = isRecord(obj?.spec) ? obj.spec : {};
      const where = `datacenter ${run.datacenter === "" ? "(all)" : run.datacenter} of cluster ${run.cluster}`;
      event(
        run.key,
        "Normal",
        "BackupStarted",
        adopted
          ? `Backup of ${where} found running on pod ${run.pod?.name} after a restart (operation ${op.id}): following it`
          : `Backup of ${where} to ${String(spec.storageLocation ?? "")} under snapshot ${String(spec.snapshotTag ?? "")} ` +
              `started on pod ${run.pod?.name} (operation ${op.id})`,
      );
    },
    ended(run, result, message) {
      const seconds = (core.now() - (run.recordedAt ?? run.since)) / 1000;
      core.metrics.run("backup", result, seconds);
      const where = `on pod ${run.pod?.name ?? run.written.coordinatorMember ?? "?"}`;
      const opName = run.id === undefined ? "Backup" : `Backup operation ${run.id}`;
      if (result === "completed") {
        event(run.key, "Normal", "BackupCompleted", `${opName} ${where} was completed`);
        const done = parseRfc3339(run.wanted.lastSuccessfulTime) ?? new Date(core.now());
        core.metrics.lastSuccess(
          { namespace: run.namespace, name: run.name },
          Math.floor(done.getTime() / 1000),
        );
        return;
      }
      const why = failureText(result, message, run.wanted);
      event(run.key, "Warning", "BackupFailed", `${opName} ${where} has failed: ${why}`);
    },
    settled(run) {
      // Fires skipped while the run was in flight left nextScheduleTime behind: bring it up to date.
      if (run.scheduledTime !== undefined) writeNext(run.key);
      // Retention after the final status is written: it rewrites the history too.
      if (run.result !== "completed" || run.scheduledTime === undefined || run.finalOp === undefined) return;
      const signal = core.signal();
      if (signal !== undefined) core.spawn("retention", () => applyRetention(core, run, signal));
    },
  };

  function forget(key: string): void {
    planned.delete(key);
    warned.delete(key);
    core.scheduler()?.remove(key);
    core.cancelWake("backup", key);
    const run = core.runs.get(runKey(key));
    if (run !== undefined) {
      core.drop(run);
      core.metrics.run("backup", "abandoned", (core.now() - run.since) / 1000);
      event(
        key,
        "Normal",
        "BackupUntracked",
        `Deleted while ${run.id === undefined ? "starting" : `operation ${run.id} was running`} on pod ` +
          `${run.pod?.name ?? "?"}: the sidecar finishes it unobserved`,
      );
    }
    const { namespace, name } = keyIds(key);
    core.metrics.forget({ namespace, name });
  }

  function event(key: string, type: "Normal" | "Warning", reason: string, message: string): void {
    const { namespace, name } = keyIds(key);
    core.events.record(core.involved("backup", namespace, name), type, reason, message);
  }

  return {
    sync,
    forget,
    // A wake after a start that could not be recorded plans the backup afresh: `decideRun` then sees the
    // instant as due again (its lastScheduleTime was never written) and runs it within the starting deadline.
    wake: (key) => {
      planned.delete(key);
      sync([key]);
    },
  };
}

/** The sidecar's own word when it gave one; casskeeper's otherwise. */
export function failureText(result: RunResult, message: string, status: RunStatus): string {
  if (result === "cancelled") return "the operation was cancelled";
  if (message !== "") return message;
  return firstFailure(status);
}

function meta(obj: Obj): Record<string, unknown> {
  return isRecord(obj.metadata) ? obj.metadata : {};
}

function annotations(obj: Obj): Record<string, string> {
  const a = meta(obj).annotations;
  if (!isRecord(a)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (typeof v === "string") out[k] = v;
  return out;
}

function deleting(obj: Obj): boolean {
  return typeof meta(obj).deletionTimestamp === "string";
}

/** The last scheduled instant recorded: the later of the annotation and status.lastScheduleTime. */
export function lastScheduleTime(obj: Obj): Date | undefined {
  const a = parseRfc3339(annotations(obj)[LAST_SCHEDULE_ANNOTATION]);
  const s = parseRfc3339(readStatus(obj).lastScheduleTime);
  if (a === undefined) return s;
  if (s === undefined) return a;
  return a.getTime() >= s.getTime() ? a : s;
}
