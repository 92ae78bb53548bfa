// Prometheus metrics of the Git sync, on the registry the webhook serves at /metrics. Series are labelled by
// source (namespace, name): their number is the number of BackupPolicySources, and a deleted source's series
// are removed.

import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type SyncResultLabel = "applied" | "unchanged" | "failed";

export interface GitSyncMetrics {
  observeSync(source: { namespace: string; name: string }, result: SyncResultLabel, seconds: number): void;
  applied(source: { namespace: string; name: string }, op: "create" | "update", n: number): void;
  pruned(source: { namespace: string; name: string }, n: number): void;
  lastApplied(source: { namespace: string; name: string }, epochSeconds: number): void;
  forget(source: { namespace: string; name: string }): void;
}

/** A sync is a Git round trip plus API writes: from 10 ms (nothing moved) to minutes (a cold sync of 10k). */
const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createGitSyncMetrics(registry: Registry): GitSyncMetrics {
  const duration = new Histogram({
    name: "casskeeper_gitsync_duration_seconds",
    help: "Duration of BackupPolicySource syncs, by result (unchanged: the ref did not move, nothing fetched).",
    labelNames: ["namespace", "name", "result"],
    buckets: BUCKETS,
    registers: [registry],
  });
  const objects = new Counter({
    name: "casskeeper_gitsync_objects_applied_total",
    help: "Objects created or updated by the Git sync.",
    labelNames: ["namespace", "name", "operation"],
    registers: [registry],
  });
  const prunes = new Counter({
    name: "casskeeper_gitsync_objects_pruned_total",
    help: "Objects deleted by the Git sync because they left Git.",
    labelNames: ["namespace", "name"],
    registers: [registry],
  });
  const last = new Gauge({
    name: "casskeeper_gitsync_last_applied_timestamp_seconds",
    help: "When the source's last revision was applied successfully (epoch seconds).",
    labelNames: ["namespace", "name"],
    registers: [registry],
  });
  return {
    observeSync(s, result, seconds) {
      duration.observe({ namespace: s.namespace, name: s.name, result }, seconds);
    },
    applied(s, op, n) {
      if (n > 0) objects.inc({ namespace: s.namespace, name: s.name, operation: op }, n);
    },
    pruned(s, n) {
      if (n > 0) prunes.inc({ namespace: s.namespace, name: s.name }, n);
    },
    lastApplied(s, epochSeconds) {
      last.set({ namespace: s.namespace, name: s.name }, epochSeconds);
    },
    forget(s) {
      const l = { namespace: s.namespace, name: s.name };
      last.remove(l);
      prunes.remove(l);
      for (const operation of ["create", "update"]) objects.remove({ ...l, operation });
      for (const result of ["applied", "unchanged", "failed"]) duration.remove({ ...l, result });
    },
  };
}
