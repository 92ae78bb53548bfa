// The pure rules: one CassandraBackup or CassandraRestore (plus the world) in, all problems out. Used alike by
// the admission webhook, the CLI and the Git sync. No fs, no clock, no network.

export {
  CONCURRENCY_POLICIES,
  CONCURRENCY_POLICY_ANNOTATION,
  checkBackupAnnotations,
  parseRetention,
  parseStartingDeadline,
  RETENTION_ANNOTATION,
  type Retention,
  STARTING_DEADLINE_ANNOTATION,
  validateBackup,
  worldSnapshotTagCollisions,
} from "./backup.ts";
export { type ClusterFields, checkCluster } from "./cluster.ts";
export { CODES, type Code, type CodeInfo, problem } from "./codes.ts";
export { backupFinder, type RestoreContext, type RuleContext } from "./context.ts";
export {
  checkEntities,
  coveredBy,
  formatEntities,
  isEmptyEntities,
  MAX_NAME_LENGTH,
  notCoveredBy,
  type ParsedEntities,
  parseEntities,
  SYSTEM_KEYSPACES,
  type TableEntity,
} from "./entities.ts";
export { checkRename, restoreStarted, validateRestore, validateRestoreUpdate } from "./restore.ts";
export {
  checkSecret,
  DEFAULT_SECRET_PREFIX,
  defaultSecretName,
  missingSecretKeys,
  optionalSecretKeys,
  requiredSecretKeys,
  type SecretInput,
} from "./secrets.ts";
export {
  type BackupRef,
  type CollisionOptions,
  checkSnapshotTag,
  MAX_SNAPSHOT_TAG_LENGTH,
  snapshotTagCollisions,
  suggestSnapshotTag,
} from "./snapshot-tag.ts";
export {
  bucketKey,
  checkBucketName,
  checkStorageLocation,
  isStorageProtocol,
  parseStorageLocation,
  S3_LIKE_PROTOCOLS,
  STORAGE_PROTOCOLS,
  type StorageLocation,
  type StorageLocationOptions,
  type StorageProtocol,
} from "./storage-location.ts";
export {
  checkBandwidth,
  checkConcurrentConnections,
  checkDuration,
  type DataRate,
  DEFAULT_CONCURRENT_CONNECTIONS,
  HIGH_CONCURRENT_CONNECTIONS,
  MAX_CONCURRENT_CONNECTIONS,
  parseBandwidth,
} from "./tuning.ts";
