// Watch caches of the world the admission rules read (src/core/world.ts): Secrets (key names only),
// CassandraClusters (datacenter names) and CassandraBackups (spec and state), in all namespaces, so that an
// admission request costs no API call.
//
// Each resource runs its own list-then-watch loop (a reflector). Secrets are reduced to their key names the
// moment a list page or a watch event is parsed; no object is kept, so no value can be logged or leaked
// from here (client-node's informer cache keeps whole objects, which is why this does not use it).
//
// A watch that is alive can still stop delivering (kubernetes-client/javascript#958, #596: informers going
// silent after about an hour; defenseunicorns/pepr#745 "Watch is not Responding to Changes after 90 mins"),
// so, as Pepr and kubernetes-fluent-client do, a watchdog re-lists and re-watches when:
//   - the watch ends or fails (after an exponential back-off with jitter when it did not live long);
//   - the server says the resourceVersion is too old (410 Expired/Gone): at once;
//   - nothing (event or bookmark; bookmarks are requested) arrived for `quietAfterMs` (default 5 min; the
//     API server sends a bookmark about every minute to watchers that ask);
//   - every `relistEveryMs` (default 30 min), as a safety net.
// A custom resource whose CRD is not installed (CassKop absent) is an empty part of the world, logged once
// and looked for again every `missingRetryMs`; it does not hold readiness back.

import type { KubeConfig } from "@kubernetes/client-node";
import type { CassandraBackup } from "../core/types.ts";
import type { BackupInfo, ClusterInfo, WorldSnapshot } from "../core/world.ts";
import { EMPTY_WORLD, key } from "../core/world.ts";
import { backupInfo, datacenterNames, isRecord, secretKeyNames } from "../core/world-build.ts";
import {
  describeError,
  kubeRequest,
  type Logger,
  openWatch,
  REAL_TIMERS,
  statusCodeOf,
  type Timers,
  type WatchHandle,
} from "./client.ts";

export interface WorldCacheOptions {
  readonly logger: Logger;
  /** Milliseconds since the epoch (injected for tests). */
  readonly now?: () => number;
  /** Re-list when a watch delivered nothing (not even a bookmark) for this long. Default 5 min. */
  readonly quietAfterMs?: number;
  /** Re-list at least this often. Default 30 min. */
  readonly relistEveryMs?: number;
  /** Injected timers (a fake clock in tests). */
  readonly timers?: Timers;
  /** In [0, 1): the jitter of the back-off (injected for tests). */
  readonly random?: () => number;
  /** Back-off after failures: `initialMs · 2^(n-1)`, capped at `maxMs`, times a jitter in [0.5, 1). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** How often to look for a custom resource that is not served (CRD not installed). Default 5 min. */
  readonly missingRetryMs?: number;
  /** Objects per list page. Default 100 (Secrets can weigh up to 1.5 MiB each; Helm keeps releases in them). */
  readonly pageSize?: number;
}

export interface WorldCache {
  /** The current world: cheap (rebuilt only after a change), immutable; `known: false` until `ready()`. */
  snapshot(): WorldSnapshot;
  /** True once Secrets, CassandraClusters and CassandraBackups have each been listed (or found not installed). */
  ready(): boolean;
  stop(): Promise<void>;
}

const DEFAULTS = {
  quietAfterMs: 5 * 60_000,
  relistEveryMs: 30 * 60_000,
  backoff: { initialMs: 1_000, maxMs: 2 * 60_000 },
  missingRetryMs: 5 * 60_000,
  pageSize: 100,
};

/** A watch that lived this long is healthy: when it ends, the next one starts without back-off. */
const HEALTHY_WATCH_MS = 30_000;

export interface SourceDef<T> {
  /** For logs: `secrets`, `cassandraclusters.db.orange.com`. */
  readonly name: string;
  /** "" for the core group (fixed version v1); custom resources find their version by discovery. */
  readonly group: string;
  readonly plural: string;
  /** The reduced value kept for an object; never the object. */
  readonly reduce: (obj: Record<string, unknown>, namespace: string, name: string) => T;
}

const SECRETS: SourceDef<ReadonlySet<string>> = {
  name: "secrets",
  group: "",
  plural: "secrets",
  reduce: (obj) => secretKeyNames(obj),
};

const CLUSTERS: SourceDef<ClusterInfo> = {
  name: "cassandraclusters.db.orange.com",
  group: "db.orange.com",
  plural: "cassandraclusters",
  reduce: (obj, namespace, name) =>
    Object.freeze({ namespace, name, datacenters: Object.freeze(datacenterNames(obj.spec)) }),
};

const BACKUPS: SourceDef<BackupInfo> = {
  name: "cassandrabackups.db.orange.com",
  group: "db.orange.com",
  plural: "cassandrabackups",
  reduce: (obj, namespace, name) => deepFreeze(backupInfo(obj as CassandraBackup, namespace, name)),
};

export async function startWorldCache(kc: KubeConfig, opts: WorldCacheOptions): Promise<WorldCache> {
  const env = envOf(kc, opts, () => {
    dirty = true;
  });
  let dirty = true;
  let current: WorldSnapshot = EMPTY_WORLD;
  const secrets = new Reflector(env, SECRETS);
  const clusters = new Reflector(env, CLUSTERS);
  const backups = new Reflector(env, BACKUPS);
  const all = [secrets, clusters, backups];
  for (const r of all) r.start();

  // The watchdog: one timer for the three reflectors.
  const stopWatchdog = startWatchdog(env, all);

  const ready = () => all.every((r) => r.listed);
  return {
    ready,
    snapshot() {
      if (!ready()) return EMPTY_WORLD;
      if (dirty) {
        dirty = false;
        current = Object.freeze({
          known: true,
          secrets: new Map(secrets.items),
          clusters: new Map(clusters.items),
          backups: new Map(backups.items),
        });
      }
      return current;
    },
    async stop() {
      stopWatchdog();
      for (const r of all) r.stop();
    },
  };
}

interface Env {
  readonly kc: KubeConfig;
  readonly logger: Logger;
  readonly now: () => number;
  readonly timers: Timers;
  readonly random: () => number;
  readonly quietAfterMs: number;
  readonly relistEveryMs: number;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly missingRetryMs: number;
  readonly pageSize: number;
  readonly changed: () => void;
}

/** The watchdog: one timer checking the reflectors a few times per quiet period. Returns its stop. */
function startWatchdog(env: Env, reflectors: readonly { check(): void }[]): () => void {
  const tickMs = Math.max(1, Math.min(env.quietAfterMs, env.relistEveryMs) / 4);
  let stopped = false;
  let timer: unknown;
  const tick = () => {
    if (stopped) return;
    for (const r of reflectors) r.check();
    timer = env.timers.setTimeout(tick, tickMs);
  };
  timer = env.timers.setTimeout(tick, tickMs);
  return () => {
    stopped = true;
    env.timers.clearTimeout(timer);
  };
}

function envOf(kc: KubeConfig, opts: WorldCacheOptions, changed: () => void): Env {
  return {
    kc,
    logger: opts.logger,
    now: opts.now ?? Date.now,
    timers: opts.timers ?? REAL_TIMERS,
    random: opts.random ?? Math.random,
    quietAfterMs: opts.quietAfterMs ?? DEFAULTS.quietAfterMs,
    relistEveryMs: opts.relistEveryMs ?? DEFAULTS.relistEveryMs,
    backoff: opts.backoff ?? DEFAULTS.backoff,
    missingRetryMs: opts.missingRetryMs ?? DEFAULTS.missingRetryMs,
    pageSize: opts.pageSize ?? DEFAULTS.pageSize,
    changed,
  };
}

type Phase = "listing" | "watching" | "waiting" | "stopped";

/** List-then-watch for one resource, keeping only `reduce(obj)` per `namespace/name`. */
class Reflector<T> {
  readonly items = new Map<string, T>();
  /** Listed at least once, or known not to be installed. */
  listed = false;
  private readonly env: Env;
  private readonly def: SourceDef<T>;
  private phase: Phase = "waiting";
  /** Bumped on every restart; callbacks of an older cycle see a different number and do nothing. */
  private cycle = 0;
  private resourceVersion = "";
  private lastActivity = 0;
  private lastList = 0;
  private watchStarted = 0;
  private failures = 0;
  private missing = false;
  private watch: WatchHandle | undefined;
  private listAbort: AbortController | undefined;
  private retryTimer: unknown;

  constructor(env: Env, def: SourceDef<T>) {
    this.env = env;
    this.def = def;
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.phase = "stopped";
    this.cycle++;
    this.halt();
  }

  /** Called by the watchdog tick. */
  check(): void {
    const now = this.env.now();
    if (this.phase !== "listing" && this.phase !== "watching") return;
    if (now - this.lastActivity > this.env.quietAfterMs) {
      this.env.logger.warn(
        { resource: this.def.name, phase: this.phase, quietMs: now - this.lastActivity },
        "watch quiet for too long; re-listing",
      );
      void this.run();
    } else if (this.phase === "watching" && now - this.lastList > this.env.relistEveryMs) {
      this.env.logger.info({ resource: this.def.name }, "periodic re-list");
      void this.run();
    }
  }

  private halt(): void {
    this.watch?.abort();
    this.watch = undefined;
    this.listAbort?.abort();
    this.listAbort = undefined;
    if (this.retryTimer !== undefined) this.env.timers.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  private retryIn(ms: number): void {
    this.phase = "waiting";
    const cycle = this.cycle;
    this.retryTimer = this.env.timers.setTimeout(() => {
      if (cycle === this.cycle) void this.run();
    }, ms);
  }

  private backoffMs(): number {
    const { initialMs, maxMs } = this.env.backoff;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, this.failures - 1)));
    return Math.round(base * (0.5 + this.env.random() / 2));
  }

  private async run(): Promise<void> {
    if (this.phase === "stopped") return;
    const cycle = ++this.cycle;
    this.halt();
    this.phase = "listing";
    this.lastActivity = this.env.now();
    const abort = new AbortController();
    this.listAbort = abort;
    try {
      const path = await this.resolvePath(abort.signal);
      if (cycle !== this.cycle) return;
      if (path === undefined) {
        this.markMissing();
        this.retryIn(this.env.missingRetryMs);
        return;
      }
      const rv = await this.list(path, abort.signal, cycle);
      if (cycle !== this.cycle) return;
      if (this.missing) this.env.logger.info({ resource: this.def.name }, "resource is served now");
      this.missing = false;
      this.resourceVersion = rv;
      this.listed = true;
      this.lastList = this.env.now();
      this.startWatch(path, cycle);
    } catch (e) {
      if (cycle !== this.cycle) return;
      if (statusCodeOf(e) === 404) {
        this.markMissing();
        this.retryIn(this.env.missingRetryMs);
        return;
      }
      this.failures++;
      const delay = this.backoffMs();
      this.env.logger.warn(
        { resource: this.def.name, err: describeError(e), failures: this.failures, retryInMs: delay },
        "list failed; retrying",
      );
      this.retryIn(delay);
    }
  }

  private markMissing(): void {
    if (!this.missing) {
      this.env.logger.warn(
        { resource: this.def.name, retryInMs: this.env.missingRetryMs },
        "resource not served (CRD not installed?); that part of the world stays empty",
      );
    }
    this.missing = true;
    this.listed = true;
    if (this.items.size > 0) {
      this.items.clear();
      this.env.changed();
    }
  }

  /** The collection path across namespaces; undefined when the resource is not served. */
  private async resolvePath(signal: AbortSignal): Promise<string | undefined> {
    if (this.def.group === "") return `/api/v1/${this.def.plural}`;
    let group: unknown;
    try {
      group = await kubeRequest(this.env.kc, { path: `/apis/${this.def.group}`, signal });
    } catch (e) {
      if (statusCodeOf(e) === 404) return undefined;
      throw e;
    }
    const versions: string[] = [];
    if (isRecord(group)) {
      const preferred = isRecord(group.preferredVersion) ? group.preferredVersion.version : undefined;
      if (typeof preferred === "string") versions.push(preferred);
      if (Array.isArray(group.versions)) {
        for (const v of group.versions) {
          if (isRecord(v) && typeof v.version === "string" && !versions.includes(v.version))
            versions.push(v.version);
        }
      }
    }
    for (const version of versions) {
      let list: unknown;
      try {
        list = await kubeRequest(this.env.kc, { path: `/apis/${this.def.group}/${version}`, signal });
      } catch (e) {
        if (statusCodeOf(e) === 404) continue;
        throw e;
      }
      const resources = isRecord(list) && Array.isArray(list.resources) ? list.resources : [];
      if (resources.some((r) => isRecord(r) && r.name === this.def.plural)) {
        return `/apis/${this.def.group}/${version}/${this.def.plural}`;
      }
    }
    return undefined;
  }

  /** A full, paged list replacing the items; returns the list's resourceVersion. */
  private async list(path: string, signal: AbortSignal, cycle: number): Promise<string> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await kubeRequest(this.env.kc, {
        path,
        query: { limit: this.env.pageSize, continue: cont },
        signal,
      });
      if (cycle !== this.cycle) return "";
      this.lastActivity = this.env.now();
      if (!isRecord(page) || !Array.isArray(page.items)) throw new Error(`list ${path}: not a list`);
      const meta = isRecord(page.metadata) ? page.metadata : {};
      rv = typeof meta.resourceVersion === "string" ? meta.resourceVersion : "";
      for (const item of page.items) {
        const k = this.keyOf(item);
        if (k !== undefined)
          fresh.set(k.key, this.def.reduce(item as Record<string, unknown>, k.namespace, k.name));
      }
      page.items.length = 0; // let the page's objects go before the next page arrives
      cont = typeof meta.continue === "string" && meta.continue !== "" ? meta.continue : undefined;
    } while (cont !== undefined);
    this.items.clear();
    for (const [k, v] of fresh) this.items.set(k, v);
    this.env.changed();
    return rv;
  }

  private startWatch(path: string, cycle: number): void {
    this.phase = "watching";
    this.watchStarted = this.env.now();
    this.lastActivity = this.watchStarted;
    this.watch = openWatch(
      this.env.kc,
      path,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (ev) => {
        if (cycle !== this.cycle) return;
        this.lastActivity = this.env.now();
        this.onEvent(ev.type, ev.object);
      },
      (err) => {
        if (cycle !== this.cycle) return;
        this.watch = undefined;
        if (statusCodeOf(err) === 410) {
          this.env.logger.info({ resource: this.def.name }, "resourceVersion too old (410); re-listing");
          void this.run();
          return;
        }
        // A watch that lived long ended normally (server timeout, rolling API server); one that keeps ending
        // at once is failing: back off.
        if (this.env.now() - this.watchStarted >= HEALTHY_WATCH_MS) this.failures = 0;
        this.failures++;
        const delay = this.backoffMs();
        this.env.logger[err === undefined ? "info" : "warn"](
          {
            resource: this.def.name,
            ...(err === undefined ? {} : { err: describeError(err) }),
            retryInMs: delay,
          },
          "watch ended; re-listing",
        );
        this.retryIn(delay);
      },
    );
  }

  private onEvent(type: string, obj: Record<string, unknown>): void {
    const meta = isRecord(obj.metadata) ? obj.metadata : {};
    if (typeof meta.resourceVersion === "string" && type !== "ERROR")
      this.resourceVersion = meta.resourceVersion;
    switch (type) {
      case "ADDED":
      case "MODIFIED": {
        const k = this.keyOf(obj);
        if (k === undefined) return;
        this.items.set(k.key, this.def.reduce(obj, k.namespace, k.name));
        this.env.changed();
        return;
      }
      case "DELETED": {
        const k = this.keyOf(obj);
        if (k !== undefined && this.items.delete(k.key)) this.env.changed();
        return;
      }
      case "BOOKMARK":
        this.env.logger.debug?.(
          { resource: this.def.name, resourceVersion: this.resourceVersion },
          "bookmark",
        );
        return;
      case "ERROR": {
        const code = typeof obj.code === "number" ? obj.code : undefined;
        if (code === 410) {
          this.env.logger.info({ resource: this.def.name }, "resourceVersion too old (410); re-listing");
          void this.run();
          return;
        }
        this.failures++;
        const delay = this.backoffMs();
        this.env.logger.warn(
          {
            resource: this.def.name,
            code,
            reason: typeof obj.reason === "string" ? obj.reason : undefined,
            message: typeof obj.message === "string" ? obj.message.slice(0, 300) : undefined,
            retryInMs: delay,
          },
          "watch error; re-listing",
        );
        this.cycle++; // retire this watch
        this.halt();
        this.retryIn(delay);
        return;
      }
      default:
        return;
    }
  }

  private keyOf(item: unknown): { key: string; namespace: string; name: string } | undefined {
    if (!isRecord(item) || !isRecord(item.metadata)) return undefined;
    const { name, namespace } = item.metadata;
    if (typeof name !== "string" || typeof namespace !== "string") return undefined;
    return { key: key(namespace, name), namespace, name };
  }
}

export interface ResourceWatch<T> {
  /** `namespace/name` → the reduced object; changes as events arrive. */
  readonly items: ReadonlyMap<string, T>;
  /** Listed at least once (or known not to be installed). */
  listed(): boolean;
  stop(): void;
}

/**
 * One resource's list-then-watch loop with the same watchdog as the world cache, for other consumers (the
 * Git sync's BackupPolicySources). `onChange` runs after every list and event; read `items` then.
 */
export function watchResource<T>(
  kc: KubeConfig,
  def: SourceDef<T>,
  opts: WorldCacheOptions & { readonly onChange: () => void },
): ResourceWatch<T> {
  const env = envOf(kc, opts, opts.onChange);
  const reflector = new Reflector(env, def);
  reflector.start();
  const stopWatchdog = startWatchdog(env, [reflector]);
  return {
    items: reflector.items,
    listed: () => reflector.listed,
    stop() {
      stopWatchdog();
      reflector.stop();
    },
  };
}

/** Freezes a reduced value (plain data parsed from JSON) so snapshots cannot be changed by their readers. */
function deepFreeze<V>(v: V): V {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}
