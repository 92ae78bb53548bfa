// The runner: drives the backup sidecars for CassandraBackups and CassandraRestores as the leader.
//
// Every replica watches both kinds (all namespaces); only the leader (`lead(signal)`) runs anything, and
// when its signal aborts it stops at once: no more sidecar calls, no more API writes, in-flight HTTP aborted.
// The next leader resumes from the objects' status — everything a run needs to be found again is written
// there before the sidecar is called (see backup-runner.ts and restore-runner.ts).
//
// This file holds what both kinds share (`RunnerCore`): the runs in flight, ONE poll timer for all of them
// (every `pollIntervalMs`, CassKop's 2 s; each tick GETs every polling run with bounded concurrency, so 1,000
// concurrent runs cost one timer and ≤ 32 requests at a time), status writes (JSON merge patches of the main
// resource, only when something changed, with a resourceVersion precondition where a write must not be
// based on a stale read), the submit-or-adopt step that never POSTs twice for one run, and the Event and
// metric plumbing.
//
// Status writes go to the main resource: CassKop's CRDs and casskeeper's have no status subresource
// (cscetbon/casskop 37753ed0). Should a CRD have one after all (cscetbon dd11212d lived four days), the API
// server silently drops status from main-resource patches; the runner notices (the answer lacks what it
// wrote) and writes through `/status` from then on. Likewise, it notices when the CRD prunes casskeeper's
// status extras (CassKop's own CRD) and stops sending them; the last scheduled instant is then only in the
// `casskeeper.io/last-schedule-time` annotation, which no schema prunes.

import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import { isRecord } from "../core/world-build.ts";
import {
  describeError,
  kubeRequest,
  type Logger,
  REAL_TIMERS,
  statusCodeOf,
  type Timers,
} from "../kube/client.ts";
import { type EventRecorder, type InvolvedObject, type ResourceRef, resourcePath } from "../kube/objects.ts";
import { type ResourceWatch, type WorldCacheOptions, watchResource } from "../kube/world-cache.ts";
import { createBackupController } from "./backup-runner.ts";
import { createRunnerMetrics, type RunnerMetrics, type RunResult } from "./metrics.ts";
import { type Operation, type OperationRequest, type SidecarApi, TERMINAL_STATES } from "./model.ts";
import type { PodRef } from "./pods.ts";
import { createRestoreController } from "./restore-runner.ts";
import { createScheduler, type Scheduler } from "./scheduler.ts";
import { SidecarError } from "./sidecar-client.ts";
import {
  failedStatus,
  mergePatchOf,
  operationStatus,
  type RunStatus,
  readStatus,
  unfinishedRun,
} from "./status.ts";

export type Kind = "backup" | "restore";
export type Obj = Record<string, unknown>;

export interface RunnerOptions {
  /** The sidecar client of a pod (the lead builds it from `sidecarUrl(pod)`; tests point it at a double). */
  readonly sidecarFor: (pod: PodRef) => SidecarApi;
  readonly logger: Logger;
  readonly events: EventRecorder;
  /** prom-client registry the metrics go to. */
  readonly registry: Registry;
  readonly now?: () => number;
  readonly timers?: Timers;
  /** How often running operations are polled (default 2000 ms, CassKop's ticker). */
  readonly pollIntervalMs?: number;
  /**
   * A sidecar that cannot be reached (or a coordinator pod that cannot be found) for this long fails the run
   * (default 5 min): a pod restart answers again within it, and then the operation is known or lost.
   */
  readonly unreachableTimeoutMs?: number;
  /** First wait before a restore's retry (missing backup, cluster or pods, a refused POST); doubles to 5 min. */
  readonly retryBaseMs?: number;
  /** In [0, 1): chooses the coordinator pod among the Ready ones (default Math.random). */
  readonly random?: () => number;
  /** GETs in flight at once across all polling runs (default 32). */
  readonly maxConcurrentPolls?: number;
  /** The scheduler's longest sleep (default 60 s). */
  readonly schedulerMaxSleepMs?: number;
  /** Watch tuning (tests). */
  readonly watch?: Partial<WorldCacheOptions>;
}

export interface Runner {
  /** Run backups and restores until `signal` aborts (leadership lost: everything stops at once). */
  lead(signal: AbortSignal): void;
  /** True once both kinds were listed (or found not installed). */
  ready(): boolean;
  /** Resolves when no work is running (waits on timers do not count: advance the clock to wake them). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** One run in flight: recorded in the object's status, not finished. */
export interface Run {
  readonly kind: Kind;
  readonly namespace: string;
  readonly name: string;
  /** `namespace/name`. */
  readonly key: string;
  /** Aborted when the run is dropped or leadership is lost. */
  readonly abort: AbortController;
  /** When this runner took the run (its record, or its resumption): the duration metric counts from here. */
  readonly since: number;
  readonly hooks: RunHooks;
  /** Concurrency scope (backups). */
  readonly cluster: string;
  readonly datacenter: string;
  phase: "starting" | "polling" | "done";
  pod?: PodRef;
  sidecar?: SidecarApi;
  id?: string;
  /** The scheduled instant (scheduled backups). */
  scheduledTime?: Date;
  /** When the run was recorded (crash recovery looks for operations created after it). */
  recordedAt?: number;
  /** The record's `condition.lastTransitionTime`, as written. */
  recordLtt?: string;
  /** The status last written, and the one to have. */
  written: RunStatus;
  wanted: RunStatus;
  /** A GET or a write in flight. */
  busy: boolean;
  /** First of consecutive failed GETs. */
  failingSince?: number;
  lastError?: string;
  /** The result once ended (the final status may still be waiting to be written). */
  result?: RunResult;
  /** The terminal operation, when the sidecar gave one. */
  finalOp?: Operation;
  /** The run has left (its after-run step, e.g. retention, ran). */
  settled?: boolean;
}

export interface RunHooks {
  /** The sidecar has the operation (submitted, or found after a lost answer). */
  started(run: Run, op: Operation, adopted: boolean): void;
  /** The run ended; `run.wanted` holds the final status. */
  ended(run: Run, result: RunResult, message: string, op?: Operation): void;
  /** The final status is written (what must not race with it starts here: retention). */
  settled?(run: Run): void;
}

export interface Resolved {
  readonly pollIntervalMs: number;
  readonly unreachableTimeoutMs: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** What backup-runner.ts and restore-runner.ts use. */
export interface RunnerCore {
  readonly kc: KubeConfig;
  readonly log: Logger;
  readonly events: EventRecorder;
  readonly metrics: RunnerMetrics;
  readonly now: () => number;
  readonly timers: Timers;
  readonly random: () => number;
  readonly options: Resolved;
  /** Runs in flight, by `kind/namespace/name`. */
  readonly runs: Map<string, Run>;
  /** The leadership signal; undefined when not leading. */
  signal(): AbortSignal | undefined;
  /** The scheduler of this leadership term; undefined when not leading. */
  scheduler(): Scheduler | undefined;
  /** The latest known object (watch, or this runner's last write). */
  object(kind: Kind, key: string): Obj | undefined;
  /** Every known object of a kind. */
  objects(kind: Kind): Iterable<[string, Obj]>;
  get(kind: Kind, namespace: string, name: string, signal: AbortSignal): Promise<Obj | undefined>;
  /** A JSON merge patch of the main resource (status through `/status` if the CRD turns out to need it). */
  patch(kind: Kind, namespace: string, name: string, body: Obj, signal: AbortSignal): Promise<Obj>;
  involved(kind: Kind, namespace: string, name: string): InvolvedObject;
  sidecar(pod: PodRef): SidecarApi;
  /** Waits `ms` on the injected timers; rejects when `signal` aborts. Does not count as work for idle(). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** Runs `fn` as counted work; errors are logged. */
  spawn(what: string, fn: () => Promise<void>): void;
  /**
   * Runs a run's start (or resumption) as counted work. An error before the run polls (the API refused the
   * record, …) drops the run and wakes its controller again after `retryBaseMs`, so nothing stays stuck.
   */
  runTask(run: Run, what: string, fn: () => Promise<void>): void;
  track(run: Run): void;
  /** Drops a run (deleted object): stops polling it, leaves the sidecar's operation alone. */
  drop(run: Run): void;
  /**
   * Makes the record (compare-and-swap on resourceVersion, retried on conflicts with a fresh read): `build`
   * gets the current object and returns the status and annotations to write, or undefined when the run is no
   * longer wanted (another runner recorded it first). "gone" when the object no longer exists.
   */
  record(
    run: Run,
    build: (obj: Obj) => { status: RunStatus; annotations?: Record<string, string> } | undefined,
  ): Promise<"recorded" | "superseded" | "gone">;
  /** Writes `run.wanted` if it differs from what was written; false when the write failed. */
  write(run: Run): Promise<boolean>;
  /**
   * Gets the operation onto the sidecar exactly once: when it may already exist (`mayExist`: a recovered
   * record, or an earlier POST whose answer was lost) the coordinator's `list` is searched with `match`
   * first, and nothing is POSTed while that search cannot be made. Retried with backoff until
   * `unreachableTimeoutMs`; a 4xx refusal ends at once. Then the run polls.
   */
  submit(
    run: Run,
    request: OperationRequest,
    match: (op: Operation) => boolean,
    mayExist: boolean,
  ): Promise<void>;
  /** Ends a run with casskeeper's own failure (no pod, refused, lost). */
  fail(run: Run, result: RunResult, message: string): Promise<void>;
  /** Applies an operation the sidecar returned to the run (status, end when terminal). */
  observe(run: Run, op: Operation): Promise<void>;
  /**
   * The unfinished run an object's status shows, unless it is one this runner ended and the object is a
   * stale copy (a watch event older than the final write).
   */
  unfinished(kind: Kind, key: string, obj: Obj): ReturnType<typeof unfinishedRun>;
  /** False once the CRD was seen pruning casskeeper's status extras (CassKop's own CRD). */
  extrasKept(kind: Kind): boolean;
  /** Whether a CassandraCluster exists; undefined when it cannot be told (API error, no permission). */
  clusterExists(namespace: string, name: string, signal: AbortSignal): Promise<boolean | undefined>;
  /** Starts polling a run whose operation id is known (a resumption). */
  follow(run: Run): void;
  /** Wakes `key`'s controller after `ms` (a retry); replaces an earlier wake-up of the same key. */
  wakeLater(kind: Kind, key: string, ms: number): void;
  cancelWake(kind: Kind, key: string): void;
}

/** What each kind's controller offers the runner. */
export interface KindController {
  /** Objects changed (keys), or all of them after `lead`. Resumptions first, then new work. */
  sync(keys: readonly string[]): void;
  /** An object is gone (deleted). */
  forget(key: string): void;
  /** A retry timer fired. */
  wake(key: string): void;
}

const DEFAULTS = {
  pollIntervalMs: 2_000,
  unreachableTimeoutMs: 5 * 60_000,
  retryBaseMs: 15_000,
  retryMaxMs: 5 * 60_000,
  maxConcurrentPolls: 32,
};

/** POSTs answered with a 5xx (and confirmed not created) before a run fails. */
const MAX_REFUSALS = 3;

const GROUP = "db.orange.com";
const PLURALS: Record<Kind, string> = { backup: "cassandrabackups", restore: "cassandrarestores" };
const KINDS: Record<Kind, string> = { backup: "CassandraBackup", restore: "CassandraRestore" };
/** Status fields only casskeeper's CRD has. */
const EXTRAS = ["lastScheduleTime", "nextScheduleTime", "lastSuccessfulTime", "history"] as const;

export function startRunner(kc: KubeConfig, opts: RunnerOptions): Runner {
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? REAL_TIMERS;
  const log = opts.logger;
  const metrics = createRunnerMetrics(opts.registry);
  const options: Resolved = {
    pollIntervalMs: opts.pollIntervalMs ?? DEFAULTS.pollIntervalMs,
    unreachableTimeoutMs: opts.unreachableTimeoutMs ?? DEFAULTS.unreachableTimeoutMs,
    retryBaseMs: opts.retryBaseMs ?? DEFAULTS.retryBaseMs,
    retryMaxMs: DEFAULTS.retryMaxMs,
  };
  const maxPolls = Math.max(1, opts.maxConcurrentPolls ?? DEFAULTS.maxConcurrentPolls);

  const runs = new Map<string, Run>();
  /** This runner's last write per object, until the watch catches up with it. */
  const fresh = new Map<string, Obj>();
  /** Changed keys since the last sync, per kind. */
  const dirty: Record<Kind, Set<string>> = { backup: new Set(), restore: new Set() };
  const seen: Record<Kind, Set<string>> = { backup: new Set(), restore: new Set() };
  const subresource: Record<Kind, boolean> = { backup: false, restore: false };
  const extrasPruned: Record<Kind, boolean> = { backup: false, restore: false };
  const wakes = new Map<string, unknown>();
  /** Runs this runner ended, by `kind/key`: their id and record time, against stale watch copies. */
  const ended = new Map<string, { id?: string; recorded?: string }>();
  let leading: AbortSignal | undefined;
  let scheduler: Scheduler | undefined;
  let stopped = false;
  let active = 0;
  let idleWaiters: (() => void)[] = [];
  let tickTimer: unknown;

  function wakeIdle(): void {
    if (active !== 0) return;
    const w = idleWaiters;
    idleWaiters = [];
    for (const f of w) f();
  }

  function spawn(what: string, fn: () => Promise<void>): void {
    active++;
    let p: Promise<void>;
    try {
      p = fn();
    } catch (e) {
      p = Promise.reject(e);
    }
    void p
      .catch((e: unknown) => {
        if (isAbort(e)) return;
        log.error({ task: what, err: describeError(e) }, "runner task failed");
      })
      .finally(() => {
        active--;
        wakeIdle();
      });
  }

  function runTask(run: Run, what: string, fn: () => Promise<void>): void {
    spawn(what, async () => {
      try {
        await fn();
      } catch (e) {
        if (isAbort(e) || run.abort.signal.aborted) return;
        if (run.phase !== "starting") throw e;
        log.error(
          { [run.kind]: run.key, task: what, err: describeError(e) },
          "could not start; retrying later",
        );
        drop(run);
        wakeLater(run.kind, run.key, options.retryBaseMs);
      }
    });
  }

  function sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError());
        return;
      }
      active--;
      wakeIdle();
      const onAbort = () => {
        timers.clearTimeout(h);
        active++;
        reject(abortError());
      };
      const h = timers.setTimeout(() => {
        signal.removeEventListener("abort", onAbort);
        active++; // counted again before the waiter resumes, so idle() cannot slip in between
        resolve();
      }, ms);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Watches

  const makeWatch = (kind: Kind): ResourceWatch<Obj> =>
    watchResource<Obj>(
      kc,
      {
        name: `${PLURALS[kind]}.${GROUP}`,
        group: GROUP,
        plural: PLURALS[kind],
        reduce: (obj, namespace, name) => {
          if (isRecord(obj.metadata)) delete obj.metadata.managedFields;
          const key = `${namespace}/${name}`;
          dirty[kind].add(key);
          const mine = fresh.get(`${kind}/${key}`);
          if (mine !== undefined && !olderRv(rvOf(obj), rvOf(mine))) fresh.delete(`${kind}/${key}`);
          return obj;
        },
      },
      { logger: log, timers, now, ...opts.watch, onChange: () => onChange(kind) },
    );

  const watches: Record<Kind, ResourceWatch<Obj>> = {
    backup: makeWatch("backup"),
    restore: makeWatch("restore"),
  };

  function onChange(kind: Kind): void {
    const w = watches[kind];
    const keys = [...dirty[kind]].filter((k) => w.items.has(k));
    dirty[kind].clear();
    for (const k of keys) seen[kind].add(k);
    // A deletion (an event, or a re-list without the object) leaves `seen` larger than the items.
    if (seen[kind].size > w.items.size) {
      for (const k of [...seen[kind]]) {
        if (w.items.has(k)) continue;
        seen[kind].delete(k);
        fresh.delete(`${kind}/${k}`);
        ended.delete(`${kind}/${k}`);
        controllers[kind].forget(k);
      }
    }
    if (leading === undefined || stopped || keys.length === 0) return;
    controllers[kind].sync(keys);
  }

  function object(kind: Kind, key: string): Obj | undefined {
    const w = watches[kind].items.get(key);
    const mine = fresh.get(`${kind}/${key}`);
    if (mine === undefined) return w;
    if (w === undefined) return undefined; // deleted since
    return olderRv(rvOf(w), rvOf(mine)) ? mine : w;
  }

  // -------------------------------------------------------------------------------------------------------
  // API calls

  function ref(kind: Kind, namespace: string, name: string): ResourceRef {
    const obj = object(kind, `${namespace}/${name}`);
    const apiVersion = typeof obj?.apiVersion === "string" ? obj.apiVersion : `${GROUP}/v1alpha1`;
    const version = apiVersion.includes("/") ? (apiVersion.split("/")[1] as string) : "v1alpha1";
    return { group: GROUP, version, plural: PLURALS[kind], namespaced: true };
  }

  // API writes at once: a fresh install plans 10,000 backups (nextScheduleTime) in one go.
  const MAX_WRITES = 16;
  let writing = 0;
  const writeQueue: (() => void)[] = [];
  async function limited<T>(fn: () => Promise<T>): Promise<T> {
    if (writing >= MAX_WRITES) await new Promise<void>((r) => writeQueue.push(r));
    else writing++;
    try {
      return await fn();
    } finally {
      // The slot goes straight to the next waiter, so a newcomer cannot take it in between.
      const next = writeQueue.shift();
      if (next !== undefined) next();
      else writing--;
    }
  }

  async function rawPatch(
    kind: Kind,
    namespace: string,
    name: string,
    body: Obj,
    sub: "status" | undefined,
    signal: AbortSignal,
  ): Promise<Obj> {
    const out = await limited(() => {
      if (signal.aborted) throw abortError();
      return kubeRequest(kc, {
        method: "PATCH",
        path: resourcePath(ref(kind, namespace, name), namespace, name, sub),
        body,
        contentType: "application/merge-patch+json",
        signal,
        maxBytes: 8 * 1024 * 1024,
      });
    });
    if (!isRecord(out))
      throw new Error(`patch ${PLURALS[kind]} ${namespace}/${name}: the answer is not an object`);
    if (isRecord(out.metadata)) delete out.metadata.managedFields;
    fresh.set(`${kind}/${namespace}/${name}`, out);
    return out;
  }

  async function patch(
    kind: Kind,
    namespace: string,
    name: string,
    body: Obj,
    signal: AbortSignal,
  ): Promise<Obj> {
    let status = isRecord(body.status) ? { ...body.status } : undefined;
    if (status !== undefined && extrasPruned[kind]) {
      for (const k of EXTRAS) delete status[k];
      if (Object.keys(status).length === 0) status = undefined;
    }
    const main: Obj = { ...body };
    delete main.status;
    if (status === undefined) {
      const meta = isRecord(main.metadata) ? main.metadata : {};
      const empty =
        Object.keys(main).every((k) => k === "metadata") &&
        Object.keys(meta).every((k) => k === "resourceVersion");
      if (empty) return object(kind, `${namespace}/${name}`) ?? {};
      return rawPatch(kind, namespace, name, main, undefined, signal);
    }
    if (subresource[kind]) {
      let out: Obj | undefined;
      if (isRecord(main.metadata) && Object.keys(main.metadata).some((k) => k !== "resourceVersion"))
        out = await rawPatch(kind, namespace, name, main, undefined, signal);
      const meta = isRecord(main.metadata) ? main.metadata : {};
      out = await rawPatch(
        kind,
        namespace,
        name,
        {
          status,
          ...(out === undefined && meta.resourceVersion !== undefined
            ? { metadata: { resourceVersion: meta.resourceVersion } }
            : {}),
        },
        "status",
        signal,
      );
      return out;
    }
    const out = await rawPatch(kind, namespace, name, { ...main, status }, undefined, signal);
    if (!statusTaken(status, out)) {
      subresource[kind] = true;
      log.warn(
        { resource: `${PLURALS[kind]}.${GROUP}` },
        "the CRD has a status subresource: status is written through /status from now on",
      );
      return rawPatch(kind, namespace, name, { status }, "status", signal);
    }
    const st = isRecord(out.status) ? out.status : {};
    if (!extrasPruned[kind] && EXTRAS.some((k) => status?.[k] != null && st[k] === undefined)) {
      extrasPruned[kind] = true;
      log.info(
        { resource: `${PLURALS[kind]}.${GROUP}` },
        "the CRD prunes casskeeper's status extras (CassKop's own CRD?): lastScheduleTime is kept in the " +
          "casskeeper.io/last-schedule-time annotation, history and next/last times are not recorded",
      );
    }
    return out;
  }

  async function get(
    kind: Kind,
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<Obj | undefined> {
    try {
      const out = await kubeRequest(kc, {
        path: resourcePath(ref(kind, namespace, name), namespace, name),
        signal,
        maxBytes: 8 * 1024 * 1024,
      });
      if (!isRecord(out)) return undefined;
      if (isRecord(out.metadata)) delete out.metadata.managedFields;
      fresh.set(`${kind}/${namespace}/${name}`, out);
      return out;
    } catch (e) {
      if (statusCodeOf(e) === 404) return undefined;
      throw e;
    }
  }

  function involved(kind: Kind, namespace: string, name: string): InvolvedObject {
    const obj = object(kind, `${namespace}/${name}`);
    const meta = isRecord(obj?.metadata) ? obj.metadata : {};
    return {
      apiVersion: typeof obj?.apiVersion === "string" ? obj.apiVersion : `${GROUP}/v1alpha1`,
      kind: KINDS[kind],
      namespace,
      name,
      ...(typeof meta.uid === "string" ? { uid: meta.uid } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // Runs

  function updateRunning(): void {
    const n: Record<Kind, number> = { backup: 0, restore: 0 };
    for (const key of runs.keys()) n[key.startsWith("backup/") ? "backup" : "restore"]++;
    metrics.running("backup", n.backup);
    metrics.running("restore", n.restore);
  }

  function track(run: Run): void {
    runs.set(`${run.kind}/${run.key}`, run);
    updateRunning();
  }

  function untrack(run: Run): void {
    if (runs.get(`${run.kind}/${run.key}`) === run) runs.delete(`${run.kind}/${run.key}`);
    updateRunning();
  }

  function drop(run: Run): void {
    run.abort.abort();
    untrack(run);
  }

  async function record(
    run: Run,
    build: (obj: Obj) => { status: RunStatus; annotations?: Record<string, string> } | undefined,
  ): Promise<"recorded" | "superseded" | "gone"> {
    const signal = run.abort.signal;
    let obj = object(run.kind, run.key);
    for (let attempt = 0; attempt < 5; attempt++) {
      if (obj === undefined) return "gone";
      const wanted = build(obj);
      if (wanted === undefined) return "superseded";
      const meta = isRecord(obj.metadata) ? obj.metadata : {};
      const statusPatch = mergePatchOf(readStatus(obj), wanted.status);
      const body: Obj = {
        metadata: {
          resourceVersion: meta.resourceVersion,
          ...(wanted.annotations === undefined ? {} : { annotations: wanted.annotations }),
        },
        ...(statusPatch === undefined ? {} : { status: statusPatch }),
      };
      try {
        await patch(run.kind, run.namespace, run.name, body, signal);
        run.written = wanted.status;
        run.wanted = wanted.status;
        run.recordLtt = wanted.status.condition?.lastTransitionTime;
        return "recorded";
      } catch (e) {
        const code = statusCodeOf(e);
        if (code === 404) return "gone";
        if (code !== 409) throw e;
        obj = await get(run.kind, run.namespace, run.name, signal);
      }
    }
    throw new Error(`${KINDS[run.kind]} ${run.key}: the record kept conflicting with other writers`);
  }

  async function write(run: Run): Promise<boolean> {
    const body = mergePatchOf(run.written, run.wanted);
    if (body === undefined) return true;
    const target = run.wanted;
    try {
      await patch(run.kind, run.namespace, run.name, { status: body }, run.abort.signal);
      run.written = target;
      return true;
    } catch (e) {
      if (isAbort(e) || run.abort.signal.aborted) throw abortError();
      if (statusCodeOf(e) === 404) {
        log.info({ [run.kind]: run.key }, "deleted while running: stopped following its operation");
        drop(run);
        return false;
      }
      log.warn(
        { [run.kind]: run.key, err: describeError(e) },
        "status write failed; retrying at the next poll",
      );
      ensureTick();
      return false;
    }
  }

  async function end(run: Run, result: RunResult, message: string, op?: Operation): Promise<void> {
    if (run.result !== undefined) return;
    if (run.abort.signal.aborted) throw abortError(); // leadership lost: the next leader ends it
    run.result = result;
    run.phase = "done";
    ended.set(`${run.kind}/${run.key}`, {
      ...(run.id === undefined ? {} : { id: run.id }),
      ...(run.recordLtt === undefined ? {} : { recorded: run.recordLtt }),
    });
    if (op !== undefined) run.finalOp = op;
    run.hooks.ended(run, result, message, op);
    await exclusive(run, async () => {
      if (await write(run)) settle(run);
    });
  }

  /** The final status is written: the run leaves (once: the poll timer may reach a run another task ended). */
  function settle(run: Run): void {
    if (run.settled === true) return;
    run.settled = true;
    untrack(run);
    try {
      run.hooks.settled?.(run);
    } catch (e) {
      log.error({ [run.kind]: run.key, err: describeError(e) }, "after-run step failed");
    }
  }

  async function fail(run: Run, result: RunResult, message: string): Promise<void> {
    if (run.result !== undefined) return;
    run.wanted = failedStatus(run.wanted, message, new Date(now()));
    await end(run, result, message);
  }

  async function observe(run: Run, op: Operation): Promise<void> {
    run.failingSince = undefined;
    run.lastError = undefined;
    run.wanted = operationStatus(run.wanted, op, new Date(now()), run.kind);
    if (TERMINAL_STATES.has(op.state)) {
      const result: RunResult =
        op.state === "COMPLETED" ? "completed" : op.state === "CANCELLED" ? "cancelled" : "failed";
      await end(run, result, "", op);
      return;
    }
    await write(run);
  }

  async function submit(
    run: Run,
    request: OperationRequest,
    match: (op: Operation) => boolean,
    mayExistAtFirst: boolean,
  ): Promise<void> {
    const signal = run.abort.signal;
    const sidecar = run.sidecar as SidecarApi;
    const started = now();
    let mayExist = mayExistAtFirst;
    let lastError = "";
    // After a POST whose answer was lost the list is read at once (a read: nothing to wait for); any other
    // failure waits 1 s, 2 s, 4 s … (30 s at most) before the next attempt.
    let wait = false;
    let lostBefore = false;
    let answered = 0;
    for (let attempt = 0; ; attempt++) {
      if (wait) {
        if (now() - started >= options.unreachableTimeoutMs) break;
        await sleep(Math.min(30_000, 1_000 * 2 ** Math.min(5, attempt - 1)), signal);
      }
      wait = true;
      if (mayExist) {
        let ops: Operation[];
        try {
          ops = await sidecar.list({ type: request.type }, signal);
        } catch (e) {
          if (signal.aborted) throw abortError();
          lastError = describeError(e);
          continue; // never POST while an earlier POST may have worked and cannot be checked
        }
        const found = ops.filter(match);
        if (found.length > 1) {
          log.warn(
            { [run.kind]: run.key, ids: found.map((o) => o.id) },
            "several operations match the record: following the oldest",
          );
        }
        const op = found[found.length - 1]; // the list is newest first
        if (op !== undefined) {
          await adopt(run, op, true);
          return;
        }
        mayExist = false;
        // A POST answered with an error, and nothing was created: the sidecar refused it (esop's synchronous
        // checks answer 500). Tried three times, then the run fails with the sidecar's answer.
        if (answered >= MAX_REFUSALS) {
          await fail(
            run,
            "failed",
            `the sidecar on ${run.pod?.name} refused the ${request.type}: ${lastError}`,
          );
          return;
        }
      }
      try {
        const op = await sidecar.submit(request, signal);
        await adopt(run, op, false);
        return;
      } catch (e) {
        if (signal.aborted) throw abortError();
        lastError = describeError(e);
        // Said at once, not only when the run gives up minutes later: a wrong --sidecar-address or port, or a
        // NetworkPolicy, shows here first.
        if (attempt === 0 || attempt % 10 === 0) {
          log.warn(
            { [run.kind]: run.key, pod: run.pod?.name, attempt: attempt + 1, err: lastError },
            "sidecar call failed; retrying",
          );
        }
        const status = e instanceof SidecarError ? e.status : undefined;
        if (status !== undefined && status >= 400 && status < 500) {
          // A 4xx creates nothing: the request itself is refused.
          await fail(
            run,
            "failed",
            `the sidecar on ${run.pod?.name} refused the ${request.type}: ${lastError}`,
          );
          return;
        }
        if (!(e instanceof SidecarError) || e.sent) {
          // Sent, and no good answer (a 5xx, a timeout, a cut connection): it may exist now. The first time,
          // the list is read at once.
          if (status !== undefined) answered++;
          wait = lostBefore;
          lostBefore = true;
          mayExist = true;
        }
      }
    }
    await fail(
      run,
      "failed",
      `could not reach the sidecar on ${run.pod?.name} for ${Math.round(options.unreachableTimeoutMs / 1000)} s: ${lastError}` +
        (mayExist ? " (an operation may have started there)" : ""),
    );
  }

  async function adopt(run: Run, op: Operation, adopted: boolean): Promise<void> {
    run.id = op.id;
    run.phase = "polling";
    run.hooks.started(run, op, adopted);
    // Busy while its first observation is written: the poll timer must not write the same run at once.
    await exclusive(run, () => observe(run, op));
    ensureTick();
  }

  /** Runs `fn` with the run marked busy (the poll timer skips busy runs), restoring the mark after. */
  async function exclusive(run: Run, fn: () => Promise<void>): Promise<void> {
    const was = run.busy;
    run.busy = true;
    try {
      await fn();
    } finally {
      run.busy = was;
    }
  }

  // One timer for every polling run.
  function ensureTick(): void {
    if (tickTimer !== undefined || leading === undefined || stopped) return;
    let any = false;
    for (const run of runs.values()) if (run.phase !== "starting") any = true;
    if (!any) return;
    tickTimer = timers.setTimeout(() => {
      tickTimer = undefined;
      tick();
    }, options.pollIntervalMs);
  }

  function tick(): void {
    if (leading === undefined || stopped) return;
    const due = [...runs.values()].filter((r) => !r.busy && r.phase !== "starting");
    if (due.length > 0) {
      let next = 0;
      const worker = async () => {
        while (next < due.length) {
          const run = due[next++] as Run;
          if (run.busy || run.abort.signal.aborted) continue;
          run.busy = true;
          try {
            await pollOne(run);
          } catch (e) {
            if (!isAbort(e)) log.error({ [run.kind]: run.key, err: describeError(e) }, "poll failed");
          } finally {
            run.busy = false;
          }
        }
      };
      for (let i = 0; i < Math.min(maxPolls, due.length); i++) spawn("poll", worker);
    }
    ensureTick();
  }

  async function pollOne(run: Run): Promise<void> {
    if (run.phase === "done") {
      if (await write(run)) settle(run);
      return;
    }
    const sidecar = run.sidecar;
    const id = run.id;
    if (sidecar === undefined || id === undefined) return;
    let op: Operation | undefined;
    try {
      op = await sidecar.get(id, run.abort.signal);
    } catch (e) {
      if (run.abort.signal.aborted) throw abortError();
      const t = now();
      run.failingSince ??= t;
      run.lastError = describeError(e);
      if (t - run.failingSince >= options.unreachableTimeoutMs) {
        await fail(
          run,
          "failed",
          `the sidecar on ${run.pod?.name} did not answer for ${Math.round((t - run.failingSince) / 1000)} s while ` +
            `following operation ${id}: ${run.lastError}`,
        );
      } else {
        await write(run); // a status write that failed earlier
      }
      return;
    }
    if (op === undefined) {
      await fail(
        run,
        "lost",
        `operation ${id} unknown to the sidecar on ${run.pod?.name}: its result was lost ` +
          "(the sidecar forgets finished operations after 1 hour, and all of them when its pod restarts)",
      );
      return;
    }
    await observe(run, op);
  }

  function unfinished(kind: Kind, key: string, obj: Obj): ReturnType<typeof unfinishedRun> {
    const st = readStatus(obj);
    const un = unfinishedRun(st);
    if (un === undefined) return undefined;
    const memo = ended.get(`${kind}/${key}`);
    if (memo !== undefined) {
      if (un.id !== undefined && un.id === memo.id) return undefined;
      if (
        un.id === undefined &&
        memo.recorded !== undefined &&
        st.condition?.lastTransitionTime === memo.recorded
      )
        return undefined;
    }
    return un;
  }

  /** db.orange.com's preferred version (discovery), found once. */
  let groupVersion: Promise<string | undefined> | undefined;
  async function clusterExists(
    namespace: string,
    name: string,
    signal: AbortSignal,
  ): Promise<boolean | undefined> {
    groupVersion ??= kubeRequest(kc, { path: `/apis/${GROUP}`, signal }).then(
      (g) => {
        const v = isRecord(g) && isRecord(g.preferredVersion) ? g.preferredVersion.version : undefined;
        return typeof v === "string" ? v : undefined;
      },
      (e: unknown) => {
        groupVersion = undefined;
        return statusCodeOf(e) === 404 ? "" : undefined;
      },
    );
    const version = await groupVersion;
    if (version === "") return false; // the group is not served: CassKop is not installed
    if (version === undefined) return undefined;
    try {
      await kubeRequest(kc, {
        path: resourcePath(
          { group: GROUP, version, plural: "cassandraclusters", namespaced: true },
          namespace,
          name,
        ),
        signal,
        maxBytes: 8 * 1024 * 1024,
      });
      return true;
    } catch (e) {
      const code = statusCodeOf(e);
      return code === 404 ? false : undefined;
    }
  }

  function follow(run: Run): void {
    run.phase = "polling";
    ensureTick();
  }

  function wakeKey(kind: Kind, key: string): string {
    return `${kind}/${key}`;
  }

  function wakeLater(kind: Kind, key: string, ms: number): void {
    cancelWake(kind, key);
    if (leading === undefined || stopped) return;
    wakes.set(
      wakeKey(kind, key),
      timers.setTimeout(() => {
        wakes.delete(wakeKey(kind, key));
        if (leading === undefined || stopped) return;
        controllers[kind].wake(key);
      }, ms),
    );
  }

  function cancelWake(kind: Kind, key: string): void {
    const h = wakes.get(wakeKey(kind, key));
    if (h !== undefined) timers.clearTimeout(h);
    wakes.delete(wakeKey(kind, key));
  }

  const core: RunnerCore = {
    kc,
    log,
    events: opts.events,
    metrics,
    now,
    timers,
    random: opts.random ?? Math.random,
    options,
    runs,
    signal: () => leading,
    scheduler: () => scheduler,
    object,
    objects: (kind) =>
      [...watches[kind].items.keys()].map((k) => [k, object(kind, k) as Obj] as [string, Obj]),
    get,
    patch,
    involved,
    sidecar: (pod) => opts.sidecarFor(pod),
    sleep,
    spawn,
    runTask,
    track,
    drop,
    record,
    write,
    submit,
    fail,
    observe,
    unfinished,
    extrasKept: (kind) => !extrasPruned[kind],
    clusterExists,
    follow,
    wakeLater,
    cancelWake,
  };

  const controllers: Record<Kind, KindController> = {
    backup: createBackupController(core),
    restore: createRestoreController(core),
  };

  function stepDown(): void {
    leading = undefined;
    // A new term reads every run from the objects again: a run this process ended whose final write did not
    // land (an API blip that also cost the Lease) must be resumed, not remembered as done.
    ended.clear();
    scheduler?.stop();
    scheduler = undefined;
    if (tickTimer !== undefined) timers.clearTimeout(tickTimer);
    tickTimer = undefined;
    for (const h of wakes.values()) timers.clearTimeout(h);
    wakes.clear();
    for (const run of [...runs.values()]) {
      run.abort.abort();
    }
    runs.clear();
    updateRunning();
  }

  return {
    lead(signal) {
      if (stopped || signal.aborted) return;
      if (leading !== undefined) stepDown();
      leading = signal;
      scheduler = createScheduler({
        now,
        timers,
        ...(opts.schedulerMaxSleepMs === undefined ? {} : { maxSleepMs: opts.schedulerMaxSleepMs }),
        onError: (key, e) =>
          log.error({ backup: key, err: describeError(e) }, "scheduled run failed to start"),
      });
      log.info({}, "runner: leading");
      signal.addEventListener(
        "abort",
        () => {
          if (leading !== signal) return;
          stepDown();
          log.info({}, "runner: not leading any more");
        },
        { once: true },
      );
      for (const kind of ["backup", "restore"] as const) {
        dirty[kind].clear();
        controllers[kind].sync([...watches[kind].items.keys()]);
      }
    },
    ready: () => watches.backup.listed() && watches.restore.listed(),
    idle() {
      if (active === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    async stop() {
      stopped = true;
      stepDown();
      watches.backup.stop();
      watches.restore.stop();
      await this.idle();
    },
  };
}

function rvOf(o: Obj | undefined): string {
  const m = isRecord(o?.metadata) ? o.metadata : {};
  return typeof m.resourceVersion === "string" ? m.resourceVersion : "";
}

/**
 * `a` is older than `b`. resourceVersions are opaque, but etcd revisions in practice: compared as integers
 * when both are; otherwise nothing is known to be older.
 */
export function olderRv(a: string, b: string): boolean {
  if (!/^\d{1,18}$/.test(a) || !/^\d{1,18}$/.test(b)) return false;
  return Number(a) < Number(b);
}

/** The status the API server kept shows what was written (no status subresource swallowed it). */
function statusTaken(sent: Obj, out: Obj): boolean {
  const st = isRecord(out.status) ? out.status : {};
  for (const k of ["id", "progress", "coordinatorMember"]) {
    if (typeof sent[k] === "string" && st[k] !== sent[k]) return false;
  }
  const c = isRecord(sent.condition) ? sent.condition : undefined;
  if (c !== undefined && typeof c.type === "string") {
    const oc = isRecord(st.condition) ? st.condition : {};
    if (oc.type !== c.type) return false;
  }
  return true;
}

function abortError(): Error {
  const e = new Error("aborted");
  e.name = "AbortError";
  return e;
}

export function isAbort(e: unknown): boolean {
  return (
    (e instanceof Error && e.name === "AbortError") ||
    (e instanceof SidecarError && e.code === "sidecar-aborted")
  );
}
