// The shapes of the objects the rules read. Field names are exactly CassKop's (db.orange.com v1alpha1/v2,
// reference/operators.md §1.2–1.4). Everything is optional here because rules run on untrusted input:
// the structural schema (CRD OpenAPI via ajv) reports missing or mistyped fields, the rules never assume.

export const CASSKOP_GROUP = "db.orange.com";
export const CASSKEEPER_GROUP = "casskeeper.io";
export const ANNOTATION_PREFIX = "casskeeper.io/";

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

export interface CassandraBackupSpec {
  cassandraCluster?: string;
  datacenter?: string;
  storageLocation?: string;
  snapshotTag?: string;
  schedule?: string;
  duration?: string;
  bandwidth?: string;
  concurrentConnections?: number;
  entities?: string;
  secret?: string;
}

export interface CassandraRestoreSpec {
  cassandraCluster?: string;
  cassandraBackup?: string;
  datacenter?: string;
  entities?: string;
  rename?: Record<string, string>;
  secret?: string;
  concurrentConnection?: number;
  cassandraDirectory?: string;
  noDeleteTruncates?: boolean;
  schemaVersion?: string;
  exactSchemaVersion?: boolean;
}

export interface BackRestCondition {
  type?: string;
  lastTransitionTime?: string;
  failureCause?: { source?: string; message?: string }[];
}

/** CassKop's BackRestStatus (operators.md §1.4). casskeeper's extras degrade gracefully when absent. */
export interface BackRestStatus {
  timeCreated?: string;
  timeStarted?: string;
  timeCompleted?: string;
  condition?: BackRestCondition;
  coordinatorMember?: string;
  progress?: string;
  id?: string;
}

export interface CassandraBackup extends KubeObject {
  spec?: CassandraBackupSpec;
  status?: BackRestStatus;
}

export interface CassandraRestore extends KubeObject {
  spec?: CassandraRestoreSpec;
  status?: BackRestStatus;
}

export interface BackupPolicySourceSpec {
  url?: string;
  ref?: { branch?: string; tag?: string; commit?: string };
  path?: string;
  interval?: string;
  secretRef?: { name?: string };
  targetNamespaces?: { allowOutside?: boolean; namespaces?: string[] };
  prune?: boolean;
  allowEmpty?: boolean;
  suspend?: boolean;
}

export interface BackupPolicySource extends KubeObject {
  spec?: BackupPolicySourceSpec;
}
