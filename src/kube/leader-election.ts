// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics
// (k8s.io/client-go/tools/leaderelection/leaderelection.go, `tryAcquireOrRenew`, `renew`, `release`):
//
// - a candidate gets the Lease (creating it when absent) every retryPeriod (jittered ×[1, 2.2], as
//   client-go's JitterFactor 1.2) and takes it when nobody holds it, or when the record it observed has not
//   changed for the holder's leaseDurationSeconds;
// - expiry is measured from the LOCAL time at which this process last saw the record change, never from
//   the Lease's renewTime: renewTime was written by another machine's clock, and comparing it with ours
//   would let clock skew hand the lease to two holders; our own clock's intervals are all we trust;
// - writes are PUTs carrying the resourceVersion last read (optimistic concurrency: a 409 means someone
//   else wrote first; the leader then re-reads and retries within the round);
// - the leader renews every retryPeriod; a renewal round that has not succeeded within renewDeadline (an
//   in-flight request is aborted at the deadline) stops leading at once: the signal given to
//   onStartedLeading is aborted and onStoppedLeading called. With leaseDuration > renewDeadline, the old
//   leader has stopped before any other candidate can see its lease expire;
// - `stop()` releases a lease it holds (client-go's ReleaseOnCancel): holderIdentity "", leaseDurationSeconds
//   1, so another candidate takes it at its next attempt instead of waiting out the lease.
//
// Departures from client-go, each for safety or for a long-running server:
// - a leader that reads the Lease and finds another holder steps down at once (client-go keeps leading
//   until its renew deadline, while the other already leads);
// - after losing the lease the elector becomes a candidate again (client-go's Run returns, and callers
//   usually exit): onStartedLeading may be called again later, with a new signal;
// - onStoppedLeading is called only after an onStartedLeading, and before the release on `stop()`;
// - no Events on the Lease, no metrics, no `OnNewLeader` (`leader()` answers who holds it, as last seen).

import type { KubeConfig } from "@kubernetes/client-node";
import { CasskeeperError } from "../core/errors.ts";
import { isRecord } from "../core/world-build.ts";
import { describeError, kubeRequest, type Logger, REAL_TIMERS, statusCodeOf, type Timers } from "./client.ts";
import { type ResourceRef, resourcePath } from "./objects.ts";

export interface LeaderElectionOptions {
  readonly namespace: string;
  readonly name: string;
  /** Unique per process (the pod name); written as the Lease's holderIdentity. */
  readonly identity: string;
  /** How long a lease stays valid without a renewal, as others see it (default 15 000 ms). */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps retrying a renewal before it stops leading (default 10 000 ms). */
  readonly renewDeadlineMs?: number;
  /** Time between attempts (default 2 000 ms). */
  readonly retryPeriodMs?: number;
  readonly now?: () => number;
  readonly timers?: Timers;
  readonly logger: Logger;
}

export interface LeaderCallbacks {
  /** Now leading; `signal` aborts when leadership ends. Must not block. */
  onStartedLeading(signal: AbortSignal): void;
  /** No longer leading (after its signal aborted). */
  onStoppedLeading(): void;
}

export interface LeaderElection {
  /** Leading now: between onStartedLeading and onStoppedLeading. */
  isLeader(): boolean;
  /** The holder as last read from the Lease ("" when released), undefined before the first read. */
  leader(): string | undefined;
  /** Stops: no more attempts; stops leading and releases the Lease if held. */
  stop(): Promise<void>;
  /** Resolves once no attempt is in flight (the elector waits on a timer). For tests and shutdown. */
  settled(): Promise<void>;
}

const LEASES: ResourceRef = {
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  namespaced: true,
};
/** client-go's JitterFactor: retries wait retryPeriod × [1, 1 + 1.2]; renewDeadline must exceed retryPeriod × 1.2. */
const JITTER = 1.2;

interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

type Obj = Record<string, unknown>;

export function startLeaderElection(
  kc: KubeConfig,
  opts: LeaderElectionOptions,
  callbacks: LeaderCallbacks,
): LeaderElection {
  const leaseMs = opts.leaseDurationMs ?? 15_000;
  const deadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryMs = opts.retryPeriodMs ?? 2_000;
  checkConfig(opts.identity, leaseMs, deadlineMs, retryMs);
  const now = opts.now ?? Date.now;
  const timers = opts.timers ?? REAL_TIMERS;
  const log = opts.logger;
  const me = opts.identity;
  const where = { lease: `${opts.namespace}/${opts.name}`, identity: me };
  const path = resourcePath(LEASES, opts.namespace, opts.name);

  let stopped = false;
  let leading: AbortController | undefined;
  /** The record last read or written, and the local time it last changed (client-go's observedTime). */
  let observed: { record: LeaseRecord; raw: string; at: number } | undefined;
  /** The Lease object last read or written: its resourceVersion makes our next PUT conditional. */
  let lease: Obj | undefined;
  let next: unknown;
  let deadline: unknown;
  let attempt: { abort: AbortController; done: Promise<void> } | undefined;

  // ---- one attempt (client-go tryAcquireOrRenew) ----

  function observe(record: LeaseRecord): void {
    const raw = rawOf(record);
    if (observed === undefined || observed.raw !== raw) observed = { record, raw, at: now() };
  }
  const observedIsMe = () => observed?.record.holderIdentity === me;
  const leaseValid = (t: number) =>
    observed !== undefined && observed.at + observed.record.leaseDurationSeconds * 1000 > t;

  async function put(record: LeaseRecord, signal: AbortSignal): Promise<void> {
    const body: Obj = { ...(lease as Obj), spec: specOf(record) };
    const m = isRecord(body.metadata) ? { ...body.metadata } : {};
    delete m.managedFields;
    body.metadata = m;
    const out = await kubeRequest(kc, { method: "PUT", path, body, signal });
    lease = isRecord(out) ? out : lease;
    observe(recordOf(lease));
  }

  async function tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const t = now();
    const stamp = microTime(t);
    const desired = {
      holderIdentity: me,
      leaseDurationSeconds: Math.floor(leaseMs / 1000),
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };
    // 1. The leader's fast path: update the lease as last seen.
    if (observed !== undefined && lease !== undefined && observedIsMe() && leaseValid(t)) {
      try {
        await put(
          {
            ...desired,
            acquireTime: observed.record.acquireTime,
            leaseTransitions: observed.record.leaseTransitions,
          },
          signal,
        );
        return true;
      } catch (e) {
        if (signal.aborted) throw e;
        log.debug?.({ ...where, err: describeError(e) }, "lease update failed, reading it again");
      }
    }
    // 2. Read the lease, or create it.
    let got: unknown;
    try {
      got = await kubeRequest(kc, { path, signal });
    } catch (e) {
      if (signal.aborted || statusCodeOf(e) !== 404) throw e;
      const created = await kubeRequest(kc, {
        method: "POST",
        path: resourcePath(LEASES, opts.namespace),
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: opts.name, namespace: opts.namespace },
          spec: specOf(desired),
        },
        signal,
      });
      lease = isRecord(created) ? created : undefined;
      observe(desired);
      return true;
    }
    if (!isRecord(got)) throw new Error("the Lease read is not an object");
    lease = got;
    const current = recordOf(got);
    observe(current);
    // 3. Held by another, and not expired as far as we have seen.
    if (current.holderIdentity !== "" && current.holderIdentity !== me && leaseValid(t)) return false;
    // 4. Take it, or renew it after a failed fast path.
    await put(
      current.holderIdentity === me
        ? { ...desired, acquireTime: current.acquireTime, leaseTransitions: current.leaseTransitions }
        : { ...desired, leaseTransitions: current.leaseTransitions + 1 },
      signal,
    );
    return true;
  }

  /** Starts an attempt now; `then` runs with its outcome unless it was aborted or the elector stopped. */
  function run(then: (ok: boolean) => void): void {
    const abort = new AbortController();
    const done = tryAcquireOrRenew(abort.signal)
      .catch((e: unknown) => {
        if (!abort.signal.aborted) log.warn({ ...where, err: describeError(e) }, "lease attempt failed");
        return false;
      })
      .then((ok) => {
        if (attempt?.abort === abort) attempt = undefined;
        if (!abort.signal.aborted && !stopped) then(ok);
      });
    attempt = { abort, done };
  }

  function later(fn: () => void, ms: number): void {
    timers.clearTimeout(next);
    next = timers.setTimeout(() => {
      next = undefined;
      if (!stopped) fn();
    }, ms);
  }

  // ---- candidate ----

  function acquire(): void {
    run((ok) => {
      if (!ok) {
        if (observed !== undefined)
          log.debug?.({ ...where, holder: observed.record.holderIdentity }, "lease held by another");
        later(acquire, retryMs * (1 + Math.random() * JITTER));
        return;
      }
      leading = new AbortController();
      log.info({ ...where, transitions: observed?.record.leaseTransitions }, "became leader");
      try {
        callbacks.onStartedLeading(leading.signal);
      } catch (e) {
        log.error({ ...where, err: describeError(e) }, "onStartedLeading threw");
      }
      later(renewRound, retryMs);
    });
  }

  // ---- leader (client-go renew: each round polls every retryPeriod until renewDeadline) ----

  function renewRound(): void {
    timers.clearTimeout(deadline);
    deadline = timers.setTimeout(() => {
      deadline = undefined;
      if (!stopped && leading !== undefined) lose("could not renew the lease within the renew deadline");
    }, deadlineMs);
    renewTry();
  }

  function renewTry(): void {
    run((ok) => {
      if (leading === undefined) return;
      if (ok) {
        timers.clearTimeout(deadline);
        deadline = undefined;
        later(renewRound, retryMs);
        return;
      }
      if (observed !== undefined && observed.record.holderIdentity !== "" && !observedIsMe()) {
        lose(`the lease is held by ${observed.record.holderIdentity}`);
        return;
      }
      later(renewTry, retryMs);
    });
  }

  function stopLeading(): void {
    const l = leading;
    if (l === undefined) return;
    leading = undefined;
    l.abort();
    try {
      callbacks.onStoppedLeading();
    } catch (e) {
      log.error({ ...where, err: describeError(e) }, "onStoppedLeading threw");
    }
  }

  function lose(why: string): void {
    timers.clearTimeout(deadline);
    deadline = undefined;
    timers.clearTimeout(next);
    next = undefined;
    attempt?.abort.abort();
    log.warn({ ...where, why }, "stopped leading");
    stopLeading();
    if (!stopped) later(acquire, retryMs);
  }

  // ---- release (client-go ReleaseOnCancel) ----

  async function release(): Promise<void> {
    if (!observedIsMe() || lease === undefined || observed === undefined) return;
    const abort = new AbortController();
    const timeout = timers.setTimeout(() => abort.abort(), deadlineMs);
    const stamp = microTime(now());
    try {
      await put(
        {
          holderIdentity: "",
          leaseDurationSeconds: 1,
          acquireTime: stamp,
          renewTime: stamp,
          leaseTransitions: observed.record.leaseTransitions,
        },
        abort.signal,
      );
      log.info(where, "released the lease");
    } catch (e) {
      log.warn({ ...where, err: describeError(e) }, "could not release the lease");
    } finally {
      timers.clearTimeout(timeout);
    }
  }

  async function settled(): Promise<void> {
    while (attempt !== undefined) await attempt.done;
  }

  let stopping: Promise<void> | undefined;
  acquire();

  return {
    isLeader: () => leading !== undefined,
    leader: () => observed?.record.holderIdentity,
    settled,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        timers.clearTimeout(next);
        timers.clearTimeout(deadline);
        attempt?.abort.abort();
        await settled();
        stopLeading();
        await release();
      })();
      return stopping;
    },
  };
}

function checkConfig(identity: string, leaseMs: number, deadlineMs: number, retryMs: number): void {
  const problems: string[] = [];
  if (identity === "") problems.push("identity is empty");
  if (!(retryMs > 0)) problems.push("retryPeriod must be greater than zero");
  if (!(leaseMs >= 1000)) problems.push("leaseDuration must be at least one second");
  if (!(leaseMs > deadlineMs)) problems.push("leaseDuration must be greater than renewDeadline");
  if (!(deadlineMs > JITTER * retryMs)) problems.push("renewDeadline must be greater than retryPeriod*1.2");
  if (problems.length > 0) {
    throw new CasskeeperError("runner", "leader-election-config", `leader election: ${problems.join("; ")}`);
  }
}

/** metav1.MicroTime: RFC 3339 with six fraction digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function specOf(r: LeaseRecord): Obj {
  return {
    holderIdentity: r.holderIdentity,
    leaseDurationSeconds: r.leaseDurationSeconds,
    ...(r.acquireTime === undefined ? {} : { acquireTime: r.acquireTime }),
    ...(r.renewTime === undefined ? {} : { renewTime: r.renewTime }),
    leaseTransitions: r.leaseTransitions,
  };
}

function recordOf(lease: Obj | undefined): LeaseRecord {
  const s = lease !== undefined && isRecord(lease.spec) ? lease.spec : {};
  return {
    holderIdentity: typeof s.holderIdentity === "string" ? s.holderIdentity : "",
    leaseDurationSeconds: typeof s.leaseDurationSeconds === "number" ? s.leaseDurationSeconds : 0,
    acquireTime: typeof s.acquireTime === "string" ? s.acquireTime : undefined,
    renewTime: typeof s.renewTime === "string" ? s.renewTime : undefined,
    leaseTransitions: typeof s.leaseTransitions === "number" ? s.leaseTransitions : 0,
  };
}

/** What "the record changed" compares (client-go compares the raw record bytes). */
function rawOf(r: LeaseRecord): string {
  return JSON.stringify([
    r.holderIdentity,
    r.leaseDurationSeconds,
    r.acquireTime,
    r.renewTime,
    r.leaseTransitions,
  ]);
}
