// Builds a WorldSnapshot from Kubernetes objects, as exported with `kubectl get … -o yaml` (single objects or
// `List`s): Secrets, CassandraClusters and CassandraBackups. Secret values are dropped here, at the door: only
// the key names of `data` and `stringData` survive, so no later stage can log, echo or cache a value.

import { CASSKOP_GROUP, type CassandraBackup } from "./types.ts";
import { type BackupInfo, type ClusterInfo, key, type WorldSnapshot } from "./world.ts";

/** CassKop's datacenter name when a CassandraCluster has no topology (`DefaultCassandraDC`). */
export const DEFAULT_DATACENTER = "dc1";

export interface WorldObjects {
  readonly world: WorldSnapshot;
  /** Objects of other kinds, which the world does not need (counted, not kept). */
  readonly ignored: number;
}

export function buildWorld(objects: readonly unknown[], defaultNamespace: string): WorldObjects {
  const secrets = new Map<string, ReadonlySet<string>>();
  const clusters = new Map<string, ClusterInfo>();
  const backups = new Map<string, BackupInfo>();
  let ignored = 0;
  for (const o of objects) {
    if (!isRecord(o)) {
      ignored++;
      continue;
    }
    const meta = isRecord(o.metadata) ? o.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : undefined;
    const namespace =
      typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : defaultNamespace;
    const group = typeof o.apiVersion === "string" ? o.apiVersion.split("/")[0] : undefined;
    if (name === undefined) {
      ignored++;
    } else if (o.kind === "Secret" && o.apiVersion === "v1") {
      secrets.set(key(namespace, name), secretKeyNames(o));
    } else if (o.kind === "CassandraCluster" && group === CASSKOP_GROUP) {
      clusters.set(key(namespace, name), { namespace, name, datacenters: datacenterNames(o.spec) });
    } else if (o.kind === "CassandraBackup" && group === CASSKOP_GROUP) {
      backups.set(key(namespace, name), backupInfo(o as CassandraBackup, namespace, name));
    } else {
      ignored++;
    }
  }
  return { world: { known: true, secrets, clusters, backups }, ignored };
}

export function backupInfo(o: CassandraBackup, namespace: string, name: string): BackupInfo {
  const state = o.status?.condition?.type;
  return {
    namespace,
    name,
    spec: isRecord(o.spec) ? o.spec : {},
    state: typeof state === "string" ? state : undefined,
  };
}

/** Key names only. A Secret's values never leave this function. */
export function secretKeyNames(secret: Record<string, unknown>): ReadonlySet<string> {
  const names = new Set<string>();
  for (const field of ["data", "stringData"]) {
    const m = secret[field];
    if (isRecord(m)) for (const k of Object.keys(m)) names.add(k);
  }
  return names;
}

/** CassKop's `spec.topology.dc[].name`; `dc1` when the cluster declares no datacenter. */
export function datacenterNames(spec: unknown): string[] {
  const dcs = isRecord(spec) && isRecord(spec.topology) ? spec.topology.dc : undefined;
  if (!Array.isArray(dcs) || dcs.length === 0) return [DEFAULT_DATACENTER];
  const names = dcs.flatMap((dc) => (isRecord(dc) && typeof dc.name === "string" ? [dc.name] : []));
  return names.length > 0 ? names : [DEFAULT_DATACENTER];
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
