// Every stable code the rules in this directory emit, with its severity and a one-line description. The
// README renders this table; tools, metrics and tests key on the codes, so a code is never renamed or reused
// for another meaning. Schedule codes (`schedule.*`) belong to `../schedule/` and are listed there.

import { error, type Problem, type Severity, warning } from "../problem.ts";

export interface CodeInfo {
  readonly severity: Severity;
  readonly description: string;
}

export const CODES = {
  "storage.protocol": {
    severity: "error",
    description:
      "storageLocation uses a protocol the sidecar has no provider for (s3, gcp, azure, oracle, minio, ceph, file)",
  },
  "storage.form": {
    severity: "error",
    description:
      "storageLocation is not `protocol://bucket`, `protocol://bucket/cluster/dc/node` or `file:///path/bucket/cluster/dc/node`",
  },
  "storage.bucket": {
    severity: "error",
    description: "the bucket (or container) name breaks the provider's naming rules",
  },
  "storage.bucket-reserved": {
    severity: "warning",
    description: "the bucket name uses a prefix or suffix AWS reserves for its own features",
  },
  "storage.bucket-relaxed": {
    severity: "warning",
    description: "the Ceph bucket name is valid only when RGW runs with rgw_relaxed_s3_bucket_names",
  },
  "storage.node-form": {
    severity: "warning",
    description:
      "per-node storageLocation on a global request: the sidecar's coordinator replaces cluster/dc/node",
  },
  "secret.not-found": { severity: "error", description: "the named Secret does not exist in the namespace" },
  "secret.missing-keys": {
    severity: "error",
    description: "the Secret lacks keys the sidecar reads for the provider",
  },
  "secret.region": {
    severity: "warning",
    description: "an s3 Secret with both AWS keys but no awsregion, which CassKop refuses",
  },
  "secret.default": {
    severity: "warning",
    description:
      "no secret named: the sidecar falls back to cassandra-backup-restore-secret-cluster-<clusterId>",
  },
  "secret.unused": {
    severity: "warning",
    description: "a secret is named for a file:// location, which reads none",
  },
  "entities.mixed": {
    severity: "error",
    description: "entities mix keyspaces and keyspace.table, which the sidecar refuses",
  },
  "entities.identifier": {
    severity: "error",
    description: "an entity is not a valid CQL name (1-48 letters, digits or underscores)",
  },
  "entities.dropped": {
    severity: "error",
    description: "an entity the sidecar silently drops (three parts, or a trailing dot)",
  },
  "entities.spacing": {
    severity: "error",
    description: "whitespace next to '.', which CassKop splits and the sidecar joins",
  },
  "entities.duplicate": { severity: "warning", description: "an entity is listed more than once" },
  "entities.system": { severity: "warning", description: "an entity names a Cassandra system keyspace" },
  "entities.case": {
    severity: "warning",
    description: "an entity has upper-case letters; names created without quotes are lower-case",
  },
  "duration.invalid": {
    severity: "error",
    description: "duration is not a positive Go duration (time.ParseDuration)",
  },
  "duration.unsupported": {
    severity: "warning",
    description: "icarus 1.x may refuse a `duration` sent over REST (sidecar.md §2.1 ⚠1)",
  },
  "bandwidth.invalid": {
    severity: "error",
    description: "bandwidth is not `\\d+[KMG]?` with a value in 1..2147483647 (CassKop silently drops it)",
  },
  "concurrent-connections.invalid": {
    severity: "error",
    description: "concurrentConnections (restore: concurrentConnection) is not an integer in 1..100",
  },
  "concurrent-connections.high": {
    severity: "warning",
    description: "more than 50 concurrent connections per node (the sidecar's default is 10)",
  },
  "cluster.not-found": {
    severity: "error",
    description: "the CassandraCluster does not exist in the namespace",
  },
  "cluster.datacenter-not-found": {
    severity: "error",
    description: "the datacenter is not in the CassandraCluster's topology",
  },
  "cluster.all-datacenters": {
    severity: "warning",
    description: "no datacenter on a multi-datacenter cluster: every datacenter takes part",
  },
  "snapshot-tag.invalid": {
    severity: "error",
    description: "snapshotTag is empty, too long or has characters other than A-Z a-z 0-9 . _ -",
  },
  "snapshot-tag.collision": {
    severity: "warning",
    description:
      "another backup to the same bucket has a tag that is a prefix of this one (or the reverse, or equal)",
  },
  "annotation.retention": {
    severity: "error",
    description: "casskeeper.io/retention is not a positive count (7) or age (36h, 14d, 2w)",
  },
  "annotation.concurrency-policy": {
    severity: "error",
    description: "casskeeper.io/concurrency-policy is not Forbid or Allow",
  },
  "annotation.starting-deadline": {
    severity: "error",
    description: "casskeeper.io/starting-deadline-seconds is not a positive integer",
  },
  "annotation.unscheduled": {
    severity: "warning",
    description: "a scheduling annotation on a backup without a schedule, where it has no effect",
  },
  "restore.backup-not-found": {
    severity: "error",
    description: "the CassandraBackup to restore does not exist in the namespace",
  },
  "restore.backup-failed": {
    severity: "error",
    description: "the one-shot backup to restore ended FAILED or CANCELLED",
  },
  "restore.backup-last-run-failed": {
    severity: "warning",
    description: "the last run of the scheduled backup to restore failed",
  },
  "restore.backup-not-completed": {
    severity: "warning",
    description: "the backup to restore has not reported COMPLETED",
  },
  "restore.entities-not-in-backup": {
    severity: "error",
    description: "the restore names entities the backup does not contain",
  },
  "restore.entities-partial": {
    severity: "warning",
    description: "the restore names a keyspace the backup holds only some tables of",
  },
  "restore.rename": {
    severity: "error",
    description: "the rename map breaks the sidecar's rules (esop RenamedEntities)",
  },
  "restore.rename-keyspace": {
    severity: "warning",
    description: "a rename across keyspaces, which some sidecar versions refuse",
  },
  "restore.cross-cluster": {
    severity: "warning",
    description: "the backup was taken from another CassandraCluster than the restore's",
  },
  "restore.latest-run": {
    severity: "warning",
    description:
      "the backup is scheduled: the restore picks its newest run unless schemaVersion and exactSchemaVersion pin one",
  },
  "restore.schema-version": { severity: "error", description: "schemaVersion is not a UUID" },
  "restore.exact-schema-version": {
    severity: "warning",
    description: "exactSchemaVersion without schemaVersion matches the running node's schema version",
  },
  "restore.cassandra-directory": {
    severity: "error",
    description: "cassandraDirectory is not an absolute path",
  },
  "restore.immutable": {
    severity: "error",
    description: "the spec of a restore that has started (condition or coordinatorMember set) changed",
  },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;

/**
 * A problem with a code from {@link CODES}; its severity comes from the table, so one code always means one
 * severity (and a typo in a code does not compile).
 */
export function problem(path: string, code: Code, message: string): Problem {
  const info: CodeInfo = CODES[code];
  return info.severity === "error" ? error(path, code, message) : warning(path, code, message);
}
