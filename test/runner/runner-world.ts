// The world the runner's end-to-end tests run in: the API-server double (CassKop's CRDs without a status
// subresource, as casskeeper's and CassKop's are), three Ready Cassandra pods of cluster `orders` / dc1, the
// sidecar double (every pod's sidecar is the same double), a fake clock for the runner, the sidecar client's
// deadlines and the sidecar's own timestamps, and the real sidecar client.

import { Registry } from "prom-client";
import { createEventRecorder, type EventRecorder } from "../../src/kube/objects.ts";
import type { SidecarApi } from "../../src/runner/model.ts";
import type { PodRef } from "../../src/runner/pods.ts";
import { type Runner, type RunnerOptions, startRunner } from "../../src/runner/runner.ts";
import { createSidecarClient } from "../../src/runner/sidecar-client.ts";
import { rfc3339 } from "../../src/runner/status.ts";
import {
  DEFAULT_RESOURCES,
  type KubeApiDouble,
  type Obj,
  startKubeApiDouble,
} from "../support/kube-api-double.ts";
import { eventually, FakeClock, recordingLogger } from "../support/kube-fake-clock.ts";
import {
  type SidecarDouble,
  type SidecarDoubleOptions,
  startSidecarDouble,
} from "../support/sidecar-double.ts";

export const NS = "team-a";
export const CLUSTER = "orders";
export const BACKUP_API = "db.orange.com/v1alpha1";
export const POLL_MS = 2_000;
export const UNREACHABLE_MS = 60_000;
export const PODS = ["orders-dc1-rack1-0", "orders-dc1-rack1-1", "orders-dc1-rack1-2"];

export interface World {
  readonly api: KubeApiDouble;
  readonly sidecar: SidecarDouble;
  readonly clock: FakeClock;
  readonly registry: Registry;
  readonly events: EventRecorder;
  readonly logger: ReturnType<typeof recordingLogger>;
  runner: Runner;
  leader: AbortController;
  /** Pods the runner asked for a sidecar client. */
  readonly addressed: PodRef[];
}

const open: World[] = [];

/** Stops every world started by the test (call from afterEach). */
export async function closeAll(): Promise<void> {
  for (const w of open.splice(0)) {
    w.leader.abort();
    await w.runner.stop();
    await w.events.flush();
    await w.sidecar.close();
    await w.api.close();
  }
}

export interface WorldOptions {
  readonly start?: string;
  readonly sidecar?: SidecarDoubleOptions;
  readonly runner?: Partial<RunnerOptions>;
  /** Sidecar client timeout (fake clock). */
  readonly timeoutMs?: number;
  /** Objects to create before the runner starts. */
  readonly objects?: readonly Obj[];
  /** Start the runner without leading. */
  readonly follower?: boolean;
  /** Give CassKop's CRDs a status subresource (cscetbon/casskop dd11212d, reverted four days later). */
  readonly statusSubresource?: boolean;
}

export async function startWorld(o: WorldOptions = {}): Promise<World> {
  const clock = new FakeClock(Date.parse(o.start ?? "2030-01-10T12:00:00Z"));
  // CassKop's CRDs and casskeeper's have no status subresource: status is written on the main resource.
  const resources = DEFAULT_RESOURCES.map((r) =>
    r.group === "db.orange.com" && r.plural !== "cassandraclusters"
      ? { ...r, statusSubresource: o.statusSubresource === true }
      : r,
  );
  const api = await startKubeApiDouble({ resources });
  const sidecar = await startSidecarDouble({ mode: "hold", now: clock.now, ...o.sidecar });
  const logger = recordingLogger();
  const events = createEventRecorder(api.kubeConfig(), {
    component: "casskeeper-runner",
    logger,
    clock: () => new Date(clock.now()),
  });
  for (const pod of PODS) api.objects.put(podObject(pod));
  api.objects.put({
    apiVersion: "db.orange.com/v2",
    kind: "CassandraCluster",
    metadata: { namespace: NS, name: CLUSTER },
    spec: { topology: { dc: [{ name: "dc1" }] } },
  });
  for (const obj of o.objects ?? []) api.objects.put(obj);
  const w: World = {
    api,
    sidecar,
    clock,
    registry: new Registry(),
    events,
    logger,
    runner: undefined as unknown as Runner,
    leader: new AbortController(),
    addressed: [],
  };
  open.push(w);
  w.runner = newRunner(w, o);
  await eventually("the runner listed both kinds", () => w.runner.ready(), 20_000);
  if (o.follower !== true) w.runner.lead(w.leader.signal);
  return w;
}

function newRunner(w: World, o: WorldOptions): Runner {
  return startRunner(w.api.kubeConfig(), {
    sidecarFor: (pod): SidecarApi => {
      w.addressed.push(pod);
      return createSidecarClient({
        baseUrl: w.sidecar.url,
        timers: w.clock,
        timeoutMs: o.timeoutMs ?? 30_000,
        retries: 0,
      });
    },
    logger: w.logger,
    events: w.events,
    registry: w.registry,
    now: w.clock.now,
    timers: w.clock,
    pollIntervalMs: POLL_MS,
    unreachableTimeoutMs: UNREACHABLE_MS,
    random: () => 0,
    watch: { quietAfterMs: 1e12, relistEveryMs: 1e12 },
    ...o.runner,
  });
}

/** The runner stops (a crash, or a rollout) and another takes over, leading at once. */
export async function restartRunner(w: World, o: WorldOptions = {}): Promise<void> {
  w.leader.abort();
  await w.runner.stop();
  w.leader = new AbortController();
  w.runner = newRunner(w, o);
  await eventually("the new runner listed both kinds", () => w.runner.ready(), 20_000);
  w.runner.lead(w.leader.signal);
}

export function podObject(name: string, ready = true): Obj {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      namespace: NS,
      name,
      labels: {
        app: "cassandracluster",
        cassandracluster: CLUSTER,
        "cassandraclusters.db.orange.com.dc": "dc1",
        "cassandraclusters.db.orange.com.rack": "rack1",
      },
    },
    spec: { hostname: name, subdomain: "orders-dc1", containers: [{ name: "cassandra" }] },
    status: {
      phase: "Running",
      podIP: `10.0.0.${PODS.indexOf(name) + 10}`,
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  };
}

export function backupObject(
  name: string,
  o: {
    schedule?: string;
    annotations?: Record<string, string>;
    status?: Record<string, unknown>;
    datacenter?: string;
    snapshotTag?: string;
    storageLocation?: string;
  } = {},
): Obj {
  return {
    apiVersion: BACKUP_API,
    kind: "CassandraBackup",
    metadata: { namespace: NS, name, ...(o.annotations === undefined ? {} : { annotations: o.annotations }) },
    spec: {
      cassandraCluster: CLUSTER,
      datacenter: o.datacenter ?? "dc1",
      storageLocation: o.storageLocation ?? "s3://acme-backups",
      snapshotTag: o.snapshotTag ?? `${name}_0a1b2c3d`,
      secret: "s3-credentials",
      ...(o.schedule === undefined ? {} : { schedule: o.schedule }),
    },
    ...(o.status === undefined ? {} : { status: o.status }),
  };
}

/**
 * A scheduled backup whose schedule counts from `since` (the API double stamps creationTimestamp with the
 * real clock, years before the fake one: the annotation is the reference point instead).
 */
export function scheduledBackup(
  name: string,
  schedule: string,
  since: number,
  o: { annotations?: Record<string, string>; datacenter?: string; status?: Record<string, unknown> } = {},
): Obj {
  return backupObject(name, {
    schedule,
    annotations: { "casskeeper.io/last-schedule-time": rfc3339(new Date(since)), ...o.annotations },
    ...(o.datacenter === undefined ? {} : { datacenter: o.datacenter }),
    ...(o.status === undefined ? {} : { status: o.status }),
  });
}

export function restoreObject(
  name: string,
  backup: string,
  o: { status?: Record<string, unknown> } = {},
): Obj {
  return {
    apiVersion: BACKUP_API,
    kind: "CassandraRestore",
    metadata: { namespace: NS, name },
    spec: { cassandraCluster: CLUSTER, cassandraBackup: backup },
    ...(o.status === undefined ? {} : { status: o.status }),
  };
}

export function getBackup(w: World, name: string): Obj | undefined {
  return w.api.objects.get(BACKUP_API, "CassandraBackup", NS, name);
}

export function getRestore(w: World, name: string): Obj | undefined {
  return w.api.objects.get(BACKUP_API, "CassandraRestore", NS, name);
}

export interface StatusView {
  condition?: {
    type?: string;
    lastTransitionTime?: string;
    failureCause?: { source?: string; message?: string }[];
  };
  coordinatorMember?: string;
  progress?: string;
  id?: string;
  timeCreated?: string;
  timeStarted?: string;
  timeCompleted?: string;
  lastScheduleTime?: string;
  nextScheduleTime?: string;
  lastSuccessfulTime?: string;
  history?: { snapshotTag?: string; id?: string; scheduledTime?: string; state?: string }[];
}

export function statusOf(o: Obj | undefined): StatusView {
  return ((o as { status?: StatusView } | undefined)?.status ?? {}) as StatusView;
}

export function annotationsOf(o: Obj | undefined): Record<string, string> {
  const m = (o?.metadata ?? {}) as { annotations?: Record<string, string> };
  return m.annotations ?? {};
}

/** POSTs of operations of a type the sidecar received. */
export function posts(w: World, type = "backup"): unknown[] {
  return w.sidecar.requests.filter(
    (r) => r.method === "POST" && (r.body as { type?: string } | undefined)?.type === type,
  );
}

export function ops(w: World, type = "backup") {
  return w.sidecar.operations().filter((o) => o.type === type);
}

/** Events written so far (flushed), optionally of one reason. */
export async function eventsOf(w: World, reason?: string): Promise<Obj[]> {
  await w.events.flush();
  return w.api.objects.list("v1", "Event").filter((e) => reason === undefined || e.reason === reason);
}

/** Waits (real time) until `n` Events of `reason` were written. */
export async function waitEvents(w: World, reason: string, n = 1): Promise<Obj[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = await eventsOf(w, reason);
    if (found.length >= n) return found;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${n} ${reason} Event(s); got ${found.length}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Moves the fake clock and waits for the work it woke up. */
export async function step(w: World, ms: number): Promise<void> {
  w.clock.advance(ms);
  await settle(w);
}

/** Waits for the runner's work, including what watch events start (they arrive in real time). */
export async function settle(w: World): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await w.runner.idle();
    await new Promise((r) => setTimeout(r, 10));
  }
  await w.runner.idle();
}

/** Advances poll by poll until `cond` holds (at most `max` polls). */
export async function pollUntil(w: World, what: string, cond: () => boolean, max = 20): Promise<void> {
  for (let i = 0; i < max; i++) {
    await settle(w);
    if (cond()) return;
    await step(w, POLL_MS);
  }
  await eventually(what, cond, 2_000);
}

export async function metric(
  w: World,
  name: string,
  labels: Record<string, string>,
): Promise<number | undefined> {
  const m = (await w.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) =>
    Object.entries(labels).every(([k, val]) => (x.labels as Record<string, unknown>)[k] === val),
  );
  return v?.value;
}
