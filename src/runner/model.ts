// What the runner's parts agree on: the sidecar's operation as it really answers (reference/sidecar.md §4),
// the requests casskeeper sends (CassKop's mapping, reference/operators.md §1.5–§1.6), and the interfaces
// between the scheduler, the sidecar client and the backup/restore controllers.

/** The sidecar's REST port (Icarus `DEFAULT_SIDECAR_HTTP_PORT`, CassKop `DefaultCassandraSidecarPort`). */
export const SIDECAR_PORT = 4567;

/** The sidecar's states (instaclustr-commons Operation.java); terminal: COMPLETED, FAILED, CANCELLED. */
export type OperationState = "PENDING" | "RUNNING" | "COMPLETED" | "FAILED" | "CANCELLED";
export const TERMINAL_STATES: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "CANCELLED"]);

/** One `errors[]` entry: `source` is the sidecar host that raised it. */
export interface OperationError {
  readonly source?: string;
  readonly message?: string;
}

/** `GET /operations/{id}`: the operation, with every request field echoed (kept in `raw`). */
export interface Operation {
  readonly id: string;
  readonly type: string;
  readonly state: OperationState;
  /** 0..1 (a JSON number; "NaN" strings are read as 0). */
  readonly progress: number;
  readonly creationTime?: string;
  readonly startTime?: string;
  readonly completionTime?: string;
  readonly errors: readonly OperationError[];
  /** The sidecar's `snapshotTag` (suffixed with `-<schemaVersion>-<epochMillis>` for backups). */
  readonly snapshotTag?: string;
  /** The whole JSON object as the sidecar returned it. */
  readonly raw: Record<string, unknown>;
}

/** Bandwidth as Icarus takes it (`DataRate`). */
export interface DataRate {
  readonly value: number;
  readonly unit: "BPS" | "KBPS" | "MBPS" | "GBPS";
}

export interface BackupRequest {
  readonly type: "backup";
  readonly storageLocation: string;
  readonly snapshotTag: string;
  readonly duration?: string;
  readonly bandwidth?: DataRate;
  readonly concurrentConnections?: number;
  readonly entities?: string;
  readonly k8sSecretName?: string;
  readonly dc?: string;
  readonly globalRequest: true;
  readonly k8sNamespace: string;
}

export interface RestoreRequest {
  readonly type: "restore";
  readonly storageLocation: string;
  readonly snapshotTag: string;
  readonly dc?: string;
  readonly entities?: string;
  readonly k8sSecretName?: string;
  readonly concurrentConnections?: number;
  readonly noDeleteTruncates?: boolean;
  readonly exactSchemaVersion?: boolean;
  readonly schemaVersion?: string;
  readonly cassandraDirectory?: string;
  readonly rename?: Readonly<Record<string, string>>;
  readonly restorationPhase: "INIT";
  readonly restorationStrategyType: "HARDLINKS";
  readonly globalRequest: true;
  readonly resolveHostIdFromTopology: true;
  readonly import: { readonly type: "import"; readonly sourceDir: string };
}

/** Retention (icarus ≥ 2.0.2): exactly one of `backupName`, `olderThan`, `removeOldest`. */
export interface RemoveBackupRequest {
  readonly type: "remove-backup";
  readonly storageLocation: string;
  readonly k8sNamespace?: string;
  readonly k8sSecretName?: string;
  readonly backupName?: string;
  readonly olderThan?: { readonly value: number; readonly unit: "DAYS" | "HOURS" | "MINUTES" };
  readonly removeOldest?: boolean;
  readonly dry?: boolean;
  readonly resolveNodes?: boolean;
  readonly globalRequest?: boolean;
}

export type OperationRequest = BackupRequest | RestoreRequest | RemoveBackupRequest;

/** `GET /version`. */
export interface SidecarVersion {
  readonly version: string;
  readonly buildTime?: string;
  readonly gitCommit?: string;
}

/** The sidecar's REST API on one pod. Errors are `SidecarError`s (src/runner/sidecar-client.ts). */
export interface SidecarApi {
  /** `POST /operations` → 201 with the operation (its id from the body, else from `Location`). */
  submit(request: OperationRequest, signal?: AbortSignal): Promise<Operation>;
  /** `GET /operations/{id}`; undefined for an unknown (or expired, 1 h after the end) id. */
  get(id: string, signal?: AbortSignal): Promise<Operation | undefined>;
  /** `GET /operations?type=…` newest first (crash recovery: find an operation submitted before a crash). */
  list(filter?: { type?: string; state?: OperationState }, signal?: AbortSignal): Promise<Operation[]>;
  /** `DELETE /operations/{id}`: false when the id is unknown. */
  cancel(id: string, signal?: AbortSignal): Promise<boolean>;
  version(signal?: AbortSignal): Promise<SidecarVersion>;
}

/** Labels CassKop puts on Cassandra pods (pkg/k8s/util.go LabelsForCassandraDC). */
export const CASSKOP_POD_LABELS = {
  app: "app",
  appValue: "cassandracluster",
  cluster: "cassandracluster",
  datacenter: "cassandraclusters.db.orange.com.dc",
} as const;
