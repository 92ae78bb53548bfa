// What a rule may know besides the object it checks: the world (Secrets' key names, CassandraClusters,
// CassandraBackups) and the namespace the object lives in. A restore also needs to find its backup, which may
// be in the same set of documents (a Git revision, a `casskeeper validate` run) rather than in the cluster.

import type { CassandraBackup } from "../types.ts";
import { type BackupInfo, key, type WorldSnapshot } from "../world.ts";
import { isRecord, str } from "./support.ts";

export interface RuleContext {
  readonly world: WorldSnapshot;
  /** The namespace of the object under validation (CassKop looks everything up in the object's namespace). */
  readonly namespace: string;
}

export interface RestoreContext extends RuleContext {
  /** The backup `namespace/name`, from the documents being validated or from the world; undefined if unknown. */
  findBackup(namespace: string, name: string): BackupInfo | undefined;
}

/**
 * A `findBackup` that looks in `documents` first (a backup edited in the same revision wins over the
 * cluster's copy), then in the world. Documents without a namespace count as `defaultNamespace`.
 */
export function backupFinder(
  world: WorldSnapshot,
  documents: readonly CassandraBackup[] = [],
  defaultNamespace = "default",
): (namespace: string, name: string) => BackupInfo | undefined {
  const local = new Map<string, BackupInfo>();
  for (const doc of documents) {
    if (!isRecord(doc)) continue;
    const meta = isRecord(doc.metadata) ? doc.metadata : {};
    const name = str(meta.name);
    if (name === undefined || name === "") continue;
    const namespace = str(meta.namespace) || defaultNamespace;
    const status = isRecord(doc.status) ? doc.status : {};
    const condition = isRecord(status.condition) ? status.condition : {};
    local.set(key(namespace, name), {
      namespace,
      name,
      spec: isRecord(doc.spec) ? doc.spec : {},
      state: str(condition.type),
    });
  }
  return (namespace, name) => local.get(key(namespace, name)) ?? world.backups.get(key(namespace, name));
}
