// Prometheus metrics of the runner, on the registry `serve` exposes at /metrics. Run counters and durations
// are labelled by kind and result only (bounded); the last-success gauge is per backup, and a deleted
// backup's series is removed.

import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type RunKind = "backup" | "restore" | "retention";
/**
 * completed/failed/cancelled: the sidecar's terminal state; skipped: a scheduled run not started (the
 * concurrency policy, or its own previous run still going); lost: the sidecar no longer knew the operation;
 * abandoned: the object was deleted while its run was in flight.
 */
export type RunResult = "completed" | "failed" | "cancelled" | "skipped" | "lost" | "abandoned";

export interface RunnerMetrics {
  /** A run ended (or was skipped); `seconds` from its record to its end, when it ran. */
  run(kind: RunKind, result: RunResult, seconds?: number): void;
  lastSuccess(backup: { namespace: string; name: string }, epochSeconds: number): void;
  /** Runs in flight now (recorded, not finished). */
  running(kind: RunKind, n: number): void;
  forget(backup: { namespace: string; name: string }): void;
}

/** A backup takes from seconds (an empty keyspace) to hours (terabytes over a throttled link). */
const BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 86_400];

/** The metric `name` registered earlier on `registry` (a runner started again on it), else a new one. */
function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createRunnerMetrics(registry: Registry): RunnerMetrics {
  const runs = reuse(
    registry,
    "casskeeper_runner_runs_total",
    () =>
      new Counter({
        name: "casskeeper_runner_runs_total",
        help: "Backup, restore and retention runs by result (skipped: not started because of the concurrency policy).",
        labelNames: ["kind", "result"],
        registers: [registry],
      }),
  );
  const duration = reuse(
    registry,
    "casskeeper_runner_run_duration_seconds",
    () =>
      new Histogram({
        name: "casskeeper_runner_run_duration_seconds",
        help: "From a run's record to its end, by kind and result.",
        labelNames: ["kind", "result"],
        buckets: BUCKETS,
        registers: [registry],
      }),
  );
  const last = reuse(
    registry,
    "casskeeper_runner_backup_last_success_timestamp_seconds",
    () =>
      new Gauge({
        name: "casskeeper_runner_backup_last_success_timestamp_seconds",
        help: "When a run of the CassandraBackup last reached COMPLETED (epoch seconds).",
        labelNames: ["namespace", "name"],
        registers: [registry],
      }),
  );
  const inFlight = reuse(
    registry,
    "casskeeper_runner_running",
    () =>
      new Gauge({
        name: "casskeeper_runner_running",
        help: "Runs recorded and not finished, by kind.",
        labelNames: ["kind"],
        registers: [registry],
      }),
  );
  return {
    run(kind, result, seconds) {
      runs.inc({ kind, result });
      if (seconds !== undefined && Number.isFinite(seconds) && seconds >= 0)
        duration.observe({ kind, result }, seconds);
    },
    lastSuccess(b, epochSeconds) {
      last.set({ namespace: b.namespace, name: b.name }, epochSeconds);
    },
    running(kind, n) {
      inFlight.set({ kind }, n);
    },
    forget(b) {
      last.remove({ namespace: b.namespace, name: b.name });
    },
  };
}
