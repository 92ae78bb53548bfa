// The world is what the rules need to know about the cluster: Secrets (key names only — values are dropped
// before they reach here and are never kept), CassandraClusters (their datacenters) and CassandraBackups.
// It is plain data so rules stay pure; the webhook fills it from watch caches, the CLI from `--world` files.
// A rule that needs a part of the world the caller does not have skips its check (`known: false`).

import type { CassandraBackupSpec } from "./types.ts";

export interface ClusterInfo {
  readonly namespace: string;
  readonly name: string;
  /** Datacenter names from `spec.topology.dc[].name`; CassKop's default is `dc1` when no topology is set. */
  readonly datacenters: readonly string[];
}

export interface BackupInfo {
  readonly namespace: string;
  readonly name: string;
  readonly spec: CassandraBackupSpec;
  /** `status.condition.type` as CassKop writes it (the sidecar state verbatim), if any. */
  readonly state?: string | undefined;
}

export interface WorldSnapshot {
  /** False when there is no world at all (no cluster, no `--world`): world-dependent checks are skipped. */
  readonly known: boolean;
  /** `namespace/name` → the secret's key names (data ∪ stringData). */
  readonly secrets: ReadonlyMap<string, ReadonlySet<string>>;
  readonly clusters: ReadonlyMap<string, ClusterInfo>;
  readonly backups: ReadonlyMap<string, BackupInfo>;
}

export function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export const EMPTY_WORLD: WorldSnapshot = {
  known: false,
  secrets: new Map(),
  clusters: new Map(),
  backups: new Map(),
};
