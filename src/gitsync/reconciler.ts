// The BackupPolicySource controller: level-based, one status writer. Every replica watches the sources (so
// any replica can take a push delivery); only the leader syncs. A sync runs when a source appears, when its
// spec changes (generation), when its `casskeeper.io/reconcile-requested-at` annotation changes (what the push
// receiver sets, on whichever replica got the delivery), and every `spec.interval` with ±10 % jitter so that
// many sources do not poll a Git host in step. One source is never synced twice at once.
//
// A source carries a finalizer: deleting it prunes what it applied (when `spec.prune`), as Flux's
// `deletionPolicy: MirrorPrune` does, then lets it go.

import type { KubeConfig } from "@kubernetes/client-node";
import { parseGoDuration } from "../core/schedule/index.ts";
import type { StructuralValidator } from "../core/structure.ts";
import type { BackupPolicySource } from "../core/types.ts";
import type { WorldSnapshot } from "../core/world.ts";
import { isRecord } from "../core/world-build.ts";
import { describeError, type Logger, REAL_TIMERS, statusCodeOf, type Timers } from "../kube/client.ts";
import { type EventRecorder, mergePatchObject, type ResourceRef } from "../kube/objects.ts";
import { type ResourceWatch, type WorldCacheOptions, watchResource } from "../kube/world-cache.ts";
import type { GitSyncMetrics } from "./metrics.ts";
import {
  ANNOTATION_PRUNE,
  ANNOTATION_RECONCILE_REQUESTED,
  type GitSource,
  LABEL_SOURCE_NAME,
  LABEL_SOURCE_NAMESPACE,
  PRUNE_DISABLED,
  parseInventoryEntry,
  SOURCE_FINALIZER,
  SYNCED_KINDS,
} from "./model.ts";
import { type PushEvent, pushMatchesSource } from "./receiver.ts";
import {
  type Outcome,
  REASONS,
  type SourceStatus,
  STALLING,
  statusAfter,
  statusReconciling,
} from "./status.ts";
import { type ClusterPort, type SyncResult, syncSource } from "./sync.ts";

export const SOURCE_RESOURCE: ResourceRef = {
  group: "casskeeper.io",
  version: "v1alpha1",
  plural: "backuppolicysources",
  namespaced: true,
};

const INVOLVED = { apiVersion: "casskeeper.io/v1alpha1", kind: "BackupPolicySource" } as const;
const DEFAULT_INTERVAL_MS = 5 * 60_000;
/** Retries after a transient failure: 10 s, 20 s, 40 s … never longer than the interval. */
const RETRY_BASE_MS = 10_000;

export interface GitSyncOptions {
  readonly git: GitSource;
  readonly cluster: ClusterPort;
  readonly structure: StructuralValidator;
  readonly world: () => WorldSnapshot;
  readonly logger: Logger;
  readonly events: EventRecorder;
  readonly metrics: GitSyncMetrics;
  /** Sources synced at once (default 2). */
  readonly concurrency?: number;
  readonly now?: () => number;
  readonly timers?: Timers;
  /** In [0, 1): the interval's jitter. */
  readonly random?: () => number;
  /** Watch tuning (tests). */
  readonly watch?: Partial<WorldCacheOptions>;
}

export interface GitSyncController {
  /** Sync as the leader until `signal` aborts (leadership lost: in-flight syncs are aborted too). */
  lead(signal: AbortSignal): void;
  /** A verified push: asks for a sync of every matching source (an annotation, seen by the leader). */
  onPush(push: PushEvent): number;
  /** True once the sources were listed. */
  ready(): boolean;
  /** Resolves when no sync is queued or running (tests, graceful stop). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

interface Seen {
  generation: unknown;
  requested: unknown;
  deleting: boolean;
}

export function startGitSync(kc: KubeConfig, opts: GitSyncOptions): GitSyncController {
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? REAL_TIMERS;
  const random = opts.random ?? Math.random;
  const concurrency = opts.concurrency ?? 2;
  const log = opts.logger;

  const seen = new Map<string, Seen>();
  const pollTimers = new Map<string, unknown>();
  const failures = new Map<string, number>();
  const queue: string[] = [];
  const queued = new Map<string, boolean>(); // key → force
  const running = new Set<string>();
  const again = new Map<string, boolean>(); // arrived while running → run once more after
  // The status this controller last wrote, per source (by uid): the watch may not have delivered it yet when
  // the next sync starts, and a stale copy would make a no-change poll look like new work.
  const written = new Map<string, { uid: unknown; status: SourceStatus }>();
  let leading: AbortSignal | undefined;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  const watch: ResourceWatch<Record<string, unknown>> = watchResource(
    kc,
    {
      name: "backuppolicysources.casskeeper.io",
      group: SOURCE_RESOURCE.group,
      plural: SOURCE_RESOURCE.plural,
      reduce: (obj) => {
        if (isRecord(obj.metadata)) delete obj.metadata.managedFields;
        return obj;
      },
    },
    { logger: log, ...(opts.timers === undefined ? {} : { timers }), ...opts.watch, onChange },
  );

  function onChange(): void {
    for (const [key, obj] of watch.items) {
      const meta = isRecord(obj.metadata) ? obj.metadata : {};
      const annotations = isRecord(meta.annotations) ? meta.annotations : {};
      const now: Seen = {
        generation: meta.generation,
        requested: annotations[ANNOTATION_RECONCILE_REQUESTED],
        deleting: typeof meta.deletionTimestamp === "string",
      };
      const before = seen.get(key);
      seen.set(key, now);
      if (before === undefined) enqueue(key, false);
      else if (before.requested !== now.requested) enqueue(key, true);
      else if (before.generation !== now.generation || before.deleting !== now.deleting) enqueue(key, false);
    }
    for (const key of [...seen.keys()]) {
      if (watch.items.has(key)) continue;
      seen.delete(key);
      failures.delete(key);
      written.delete(key);
      cancelPoll(key);
      const [namespace = "", name = ""] = key.split("/");
      opts.metrics.forget({ namespace, name });
    }
  }

  function enqueue(key: string, force: boolean): void {
    if (leading === undefined || stopped) return;
    if (running.has(key)) {
      again.set(key, (again.get(key) ?? false) || force);
      return;
    }
    if (queued.has(key)) {
      queued.set(key, (queued.get(key) ?? false) || force);
      return;
    }
    cancelPoll(key);
    queued.set(key, force);
    queue.push(key);
    pump();
  }

  function pump(): void {
    while (running.size < concurrency && queue.length > 0 && leading !== undefined) {
      const key = queue.shift() as string;
      const force = queued.get(key) ?? false;
      queued.delete(key);
      running.add(key);
      const signal = leading;
      void process(key, force, signal)
        .catch((e: unknown) => {
          log.error({ source: key, err: describeError(e) }, "sync crashed");
          schedule(key, retryDelay(key, DEFAULT_INTERVAL_MS));
        })
        .finally(() => {
          running.delete(key);
          const more = again.get(key);
          again.delete(key);
          if (more !== undefined) enqueue(key, more);
          pump();
          if (running.size === 0 && queue.length === 0) {
            const waiters = idleWaiters;
            idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }

  function cancelPoll(key: string): void {
    const t = pollTimers.get(key);
    if (t !== undefined) timers.clearTimeout(t);
    pollTimers.delete(key);
  }

  function schedule(key: string, ms: number): void {
    if (leading === undefined || stopped) return;
    cancelPoll(key);
    pollTimers.set(
      key,
      timers.setTimeout(() => {
        pollTimers.delete(key);
        enqueue(key, false);
      }, ms),
    );
  }

  function retryDelay(key: string, intervalMs: number): number {
    const n = (failures.get(key) ?? 0) + 1;
    failures.set(key, n);
    return Math.min(intervalMs, RETRY_BASE_MS * 2 ** Math.min(20, n - 1));
  }

  async function process(key: string, force: boolean, signal: AbortSignal): Promise<void> {
    const obj = watch.items.get(key);
    if (obj === undefined || signal.aborted) return;
    const source = obj as BackupPolicySource;
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const namespace = String(meta.namespace ?? "");
    const name = String(meta.name ?? "");
    const ids = { namespace, name };
    const spec = source.spec ?? {};
    const finalizers = Array.isArray(meta.finalizers) ? (meta.finalizers as unknown[]) : [];

    if (typeof meta.deletionTimestamp === "string") {
      if (finalizers.includes(SOURCE_FINALIZER)) await finalize(obj, key, signal);
      return;
    }
    if (spec.suspend === true) return; // resumes when the spec changes (generation)
    if (!finalizers.includes(SOURCE_FINALIZER)) {
      try {
        await mergePatchObject(kc, SOURCE_RESOURCE, namespace, name, {
          metadata: { finalizers: [...finalizers, SOURCE_FINALIZER], resourceVersion: meta.resourceVersion },
        });
      } catch (e) {
        if (statusCodeOf(e) === 404) return;
        if (statusCodeOf(e) === 409) {
          // A newer version is on its way through the watch; back off rather than retry a stale copy at once.
          schedule(key, retryDelay(key, DEFAULT_INTERVAL_MS));
          return;
        }
        throw e;
      }
    }

    const intervalMs = intervalOf(spec.interval);
    const annotations = isRecord(meta.annotations) ? meta.annotations : {};
    const requested = annotations[ANNOTATION_RECONCILE_REQUESTED];
    const mine = written.get(key);
    let status = (
      mine !== undefined && mine.uid === meta.uid ? mine.status : isRecord(obj.status) ? obj.status : {}
    ) as SourceStatus;
    const remember = (next: SourceStatus) => written.set(key, { uid: meta.uid, status: next });
    const handled = typeof requested === "string" ? requested : undefined;
    const forced = force || (handled !== undefined && handled !== status.lastHandledReconcileAt);
    const generation = typeof meta.generation === "number" ? meta.generation : undefined;

    const started = now();
    const result: SyncResult = await syncSource(
      { ...source, status } as BackupPolicySource,
      { force: forced },
      {
        git: opts.git,
        cluster: opts.cluster,
        structure: opts.structure,
        world: opts.world,
        signal,
        onProgress: async (revision) => {
          const next = statusReconciling(status, revision, generation, new Date(now()));
          await writeStatus(namespace, name, status, next);
          status = next;
          remember(next);
        },
      },
    ).catch(
      (e: unknown): SyncResult => ({
        kind: "done",
        outcome: { kind: "failed", reason: REASONS.applyFailed, message: describeError(e) },
        counts: { created: 0, updated: 0, unchanged: 0, pruned: 0 },
        warnings: [],
        notes: [],
      }),
    );
    const seconds = (now() - started) / 1000;
    if (signal.aborted) return; // leadership lost: the next leader writes the status

    if (result.kind === "skipped") {
      failures.delete(key);
      opts.metrics.observeSync(ids, "unchanged", seconds);
      schedule(key, jittered(intervalMs));
      return;
    }
    const next = statusAfter(status, result.outcome, generation, new Date(now()), handled);
    await writeStatus(namespace, name, status, next);
    remember(next);
    report(obj, result, seconds);

    if (result.outcome.kind === "applied") {
      failures.delete(key);
      schedule(key, jittered(intervalMs));
    } else if (STALLING.has(result.outcome.reason)) {
      failures.delete(key);
      schedule(key, jittered(intervalMs));
    } else {
      schedule(key, retryDelay(key, intervalMs));
    }
  }

  function report(obj: Record<string, unknown>, result: SyncResult & { kind: "done" }, seconds: number) {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const ids = { namespace: String(meta.namespace ?? ""), name: String(meta.name ?? "") };
    const involved = { ...INVOLVED, ...ids, ...(typeof meta.uid === "string" ? { uid: meta.uid } : {}) };
    const o: Outcome = result.outcome;
    const c = result.counts;
    if (o.kind === "applied") {
      const changed = c.created + c.updated + c.pruned > 0;
      opts.metrics.observeSync(ids, changed ? "applied" : "unchanged", seconds);
      opts.metrics.lastApplied(ids, Math.floor(now() / 1000));
      if (changed) opts.events.record(involved, "Normal", "Synced", o.message);
      log.info({ source: `${ids.namespace}/${ids.name}`, revision: o.revision, ...c, seconds }, "synced");
    } else {
      opts.metrics.observeSync(ids, "failed", seconds);
      opts.events.record(involved, "Warning", o.reason, o.message);
      log.warn(
        {
          source: `${ids.namespace}/${ids.name}`,
          reason: o.reason,
          revision: o.revision,
          message: o.message,
        },
        "sync failed",
      );
    }
    opts.metrics.applied(ids, "create", c.created);
    opts.metrics.applied(ids, "update", c.updated);
    opts.metrics.pruned(ids, c.pruned);
    for (const note of result.notes) opts.events.record(involved, "Warning", "PruneSkipped", note);
    if (result.warnings.length > 0) {
      const first = result.warnings[0];
      opts.events.record(
        involved,
        "Warning",
        "ValidationWarnings",
        `${result.warnings.length} warning(s); first: ${first?.file}:${first?.line}:${first?.column}: ${first?.problem.path}: ${first?.problem.message}`,
      );
    }
  }

  /** Writes the status when it changed (a no-change poll writes nothing). */
  async function writeStatus(
    namespace: string,
    name: string,
    prev: SourceStatus,
    next: SourceStatus,
  ): Promise<void> {
    if (JSON.stringify(prev) === JSON.stringify(next)) return;
    const patch: Record<string, unknown> = { ...next };
    for (const k of Object.keys(prev)) if (!(k in next)) patch[k] = null;
    try {
      await mergePatchObject(
        kc,
        SOURCE_RESOURCE,
        namespace,
        name,
        { status: patch },
        { subresource: "status" },
      );
    } catch (e) {
      if (statusCodeOf(e) === 404) return; // deleted meanwhile
      throw e;
    }
  }

  async function finalize(obj: Record<string, unknown>, key: string, signal: AbortSignal): Promise<void> {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    const namespace = String(meta.namespace ?? "");
    const name = String(meta.name ?? "");
    const source = obj as BackupPolicySource;
    const mine = written.get(key);
    const status = (
      mine !== undefined && mine.uid === meta.uid ? mine.status : isRecord(obj.status) ? obj.status : {}
    ) as SourceStatus;
    const involved = {
      ...INVOLVED,
      namespace,
      name,
      ...(typeof meta.uid === "string" ? { uid: meta.uid } : {}),
    };
    if (source.spec?.prune !== false) {
      const ids = (status.inventory?.entries ?? [])
        .map(parseInventoryEntry)
        .filter((id) => id !== undefined && SYNCED_KINDS.has(id.kind));
      const live = await opts.cluster.listLive([...new Set(ids.map((id) => id?.namespace ?? ""))].sort());
      let failed = 0;
      for (const id of ids) {
        if (id === undefined || signal.aborted) continue;
        const o = live.get(`${id.namespace}_${id.name}_${id.group}_${id.kind}`);
        if (o === undefined) continue;
        const m = isRecord(o.metadata) ? o.metadata : {};
        const labels = isRecord(m.labels) ? m.labels : {};
        const ann = isRecord(m.annotations) ? m.annotations : {};
        if (labels[LABEL_SOURCE_NAME] !== name || labels[LABEL_SOURCE_NAMESPACE] !== namespace) continue;
        if (ann[ANNOTATION_PRUNE] === PRUNE_DISABLED) {
          opts.events.record(
            involved,
            "Warning",
            "PruneSkipped",
            `${id.kind} ${id.namespace}/${id.name} kept: annotated ${ANNOTATION_PRUNE}: ${PRUNE_DISABLED}`,
          );
          continue;
        }
        try {
          await opts.cluster.remove(id, typeof m.uid === "string" ? m.uid : undefined, signal);
        } catch (e) {
          failed++;
          log.warn(
            { source: key, object: `${id.kind} ${id.namespace}/${id.name}`, err: describeError(e) },
            "prune on deletion failed",
          );
        }
      }
      // Leadership lost half-way: the finalizer stays, the next leader finishes the prune.
      if (signal.aborted) return;
      if (failed > 0) {
        schedule(key, retryDelay(key, DEFAULT_INTERVAL_MS));
        return;
      }
    }
    const finalizers = (Array.isArray(meta.finalizers) ? meta.finalizers : []).filter(
      (f) => f !== SOURCE_FINALIZER,
    );
    try {
      await mergePatchObject(kc, SOURCE_RESOURCE, namespace, name, {
        metadata: { finalizers, resourceVersion: meta.resourceVersion },
      });
    } catch (e) {
      if (statusCodeOf(e) === 404) return;
      if (statusCodeOf(e) === 409) return schedule(key, retryDelay(key, DEFAULT_INTERVAL_MS));
      throw e;
    }
  }

  function idle(): Promise<void> {
    if (running.size === 0 && queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => idleWaiters.push(resolve));
  }

  function jittered(ms: number): number {
    return Math.round(ms * (0.9 + random() * 0.2));
  }

  return {
    lead(signal) {
      if (stopped) return;
      leading = signal;
      // Another leader may have written statuses meanwhile: read them from the watch again.
      written.clear();
      log.info({}, "git sync: leading");
      for (const key of watch.items.keys()) enqueue(key, false);
      signal.addEventListener(
        "abort",
        () => {
          if (leading !== signal) return;
          leading = undefined;
          queue.length = 0;
          queued.clear();
          again.clear();
          for (const key of [...pollTimers.keys()]) cancelPoll(key);
          log.info({}, "git sync: not leading any more");
        },
        { once: true },
      );
    },
    onPush(push) {
      let n = 0;
      const at = new Date(now()).toISOString();
      for (const obj of watch.items.values()) {
        const spec = (obj as BackupPolicySource).spec ?? {};
        if (typeof spec.url !== "string" || spec.suspend === true) continue;
        if (!pushMatchesSource(push, { url: spec.url, ...(spec.ref === undefined ? {} : { ref: spec.ref }) }))
          continue;
        const meta = isRecord(obj.metadata) ? obj.metadata : {};
        n++;
        void mergePatchObject(kc, SOURCE_RESOURCE, String(meta.namespace), String(meta.name), {
          metadata: { annotations: { [ANNOTATION_RECONCILE_REQUESTED]: at } },
        }).catch((e: unknown) =>
          log.warn(
            { source: `${meta.namespace}/${meta.name}`, err: describeError(e) },
            "could not request a sync",
          ),
        );
      }
      return n;
    },
    ready: () => watch.listed(),
    idle,
    async stop() {
      stopped = true;
      leading = undefined;
      for (const key of [...pollTimers.keys()]) cancelPoll(key);
      watch.stop();
      await idle();
    },
  };
}

function intervalOf(spec: string | undefined): number {
  if (spec === undefined) return DEFAULT_INTERVAL_MS;
  const d = parseGoDuration(spec);
  if (!d.ok) return DEFAULT_INTERVAL_MS;
  return Math.max(10_000, Number(d.nanos / 1_000_000n));
}
