// The sidecar requests casskeeper sends, exactly as CassKop builds them (pkg/backrest/backrest.go PerformBackup and
// PerformRestore; reference/operators.md §1.5 and §1.6 tables), so a CassandraBackup/CassandraRestore does here
// what it did under CassKop. Go's `omitempty` (the icarus-go-client models) is reproduced: "", 0, false, empty
// maps are left out and the sidecar applies its own defaults (sidecar.md §2.1, §3.1).
//
// Where casskeeper departs from CassKop, it is said below:
//   - A missing storageLocation or snapshotTag throws (CassKop would send "" and the sidecar would fail the
//     operation later); the CRDs require both, so only a hand-made object can lack them.
//   - Restores do not send k8sNamespace, as CassKop: the sidecar then reads secrets from its own pod's namespace
//     (esop AbstractOperationRequest.resolveKubernetesNamespace). That is the restore's namespace in every
//     CassKop layout — the Cassandra pods live with their CassandraCluster, which CassKop looks up in the
//     restore's namespace — so sending it would change nothing there, and leaving it out keeps requests
//     byte-for-byte CassKop's.
//   - Bandwidth that does not parse is left out as CassKop does, but `backupRequestWarnings` says so, where
//     CassKop was silent.
//
// Pure: no I/O, no clock.

import { CasskeeperError } from "../core/errors.ts";
import type { Retention } from "../core/rules/backup.ts";
import { goTrimSpace, isRecord, nonEmpty } from "../core/rules/support.ts";
import { parseBandwidth } from "../core/rules/tuning.ts";
import type { CassandraBackup, CassandraRestore } from "../core/types.ts";
import type { BackupRequest, RemoveBackupRequest, RestoreRequest } from "./model.ts";

/** Where a HARDLINKS restore downloads SSTables before hard-linking them (CassKop PerformRestore). */
export const RESTORE_SOURCE_DIR = "/var/lib/cassandra/downloadedsstables";

const invalid = (message: string) => new CasskeeperError("runner", "request-invalid", message);

/** A request field casskeeper cannot do without. */
function required(v: unknown, what: string): string {
  const s = nonEmpty(v);
  if (s === undefined) throw invalid(`${what} is empty: the sidecar needs it`);
  return s;
}

/**
 * CassKop's `formatEntities`: TrimSpace, split on Go's `[\s,]+` (ASCII white space and commas), drop empty
 * parts, join with `,`. Unlike `formatEntities(parseEntities(…))` in src/core/rules/entities.ts (the sidecar's
 * reading), tokens are kept as written, in order, duplicates included: the sidecar sees what CassKop sent.
 */
export function casskopEntities(s: string | undefined): string {
  return goTrimSpace(s ?? "")
    .split(/[\t\n\f\r ,]+/)
    .filter((t) => t !== "")
    .join(",");
}

/** An integer other than 0 (Go's int32 `omitempty`; a non-integer could not have been read by CassKop at all). */
function nonZeroInt(v: unknown): number | undefined {
  return typeof v === "number" && Number.isInteger(v) && v !== 0 ? v : undefined;
}

const opt = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } =>
  (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };

/** CassKop PerformBackup: the body of `POST /operations` for one run of `backup` (operators.md §1.5). */
export function backupRequest(backup: CassandraBackup, namespace: string): BackupRequest {
  const spec = backup.spec ?? {};
  const bandwidth = nonEmpty(spec.bandwidth);
  return {
    type: "backup",
    storageLocation: required(spec.storageLocation, "spec.storageLocation"),
    snapshotTag: required(spec.snapshotTag, "spec.snapshotTag"),
    ...opt("duration", nonEmpty(spec.duration)),
    ...opt("bandwidth", bandwidth === undefined ? undefined : parseBandwidth(bandwidth)),
    ...opt("concurrentConnections", nonZeroInt(spec.concurrentConnections)),
    ...opt("entities", nonEmpty(casskopEntities(spec.entities))),
    ...opt("k8sSecretName", nonEmpty(spec.secret)),
    ...opt("dc", nonEmpty(spec.datacenter)),
    globalRequest: true,
    // The secret is read in the backup's namespace (so the sidecar's service account needs to list secrets there).
    k8sNamespace: namespace,
  };
}

/**
 * What {@link backupRequest} silently leaves out of the user's spec, as CassKop did (a bandwidth that is not
 * `\d+[KMG]?`, a fractional connection count): callers surface these as warnings. Empty when nothing is lost.
 */
export function backupRequestWarnings(backup: CassandraBackup): string[] {
  const spec = backup.spec ?? {};
  const warnings: string[] = [];
  const bandwidth = spec.bandwidth;
  if (
    typeof bandwidth === "string" &&
    bandwidth.replaceAll(" ", "") !== "" &&
    parseBandwidth(bandwidth) === undefined
  ) {
    warnings.push(
      `spec.bandwidth ${JSON.stringify(bandwidth)} is not a number with an optional K, M or G: ` +
        "the backup runs without a bandwidth limit, as under CassKop",
    );
  }
  const cc = spec.concurrentConnections;
  if (typeof cc === "number" && !Number.isInteger(cc)) {
    warnings.push(`spec.concurrentConnections ${cc} is not an integer: the sidecar's default (10) is used`);
  }
  return warnings;
}

/** CassKop PerformRestore: the body of `POST /operations` restoring `backup` for `restore` (operators.md §1.6). */
export function restoreRequest(restore: CassandraRestore, backup: CassandraBackup): RestoreRequest {
  const spec = restore.spec ?? {};
  const bspec = backup.spec ?? {};
  // CassKop: the restore's entities, or the backup's when the restore's field is empty ("" — not blank).
  const entities = typeof spec.entities === "string" && spec.entities !== "" ? spec.entities : bspec.entities;
  const rename = isRecord(spec.rename)
    ? Object.fromEntries(
        Object.entries(spec.rename).filter((e): e is [string, string] => typeof e[1] === "string"),
      )
    : {};
  return {
    type: "restore",
    ...opt("dc", nonEmpty(spec.datacenter)),
    storageLocation: required(bspec.storageLocation, "the backup's spec.storageLocation"),
    snapshotTag: required(bspec.snapshotTag, "the backup's spec.snapshotTag"),
    ...opt("noDeleteTruncates", spec.noDeleteTruncates === true ? true : undefined),
    ...opt("exactSchemaVersion", spec.exactSchemaVersion === true ? true : undefined),
    // INIT: the global coordinator then drives DOWNLOAD, TRUNCATE, IMPORT, CLEANUP itself (sidecar.md §3.1).
    restorationPhase: "INIT",
    globalRequest: true,
    import: { type: "import", sourceDir: RESTORE_SOURCE_DIR },
    ...opt("entities", nonEmpty(casskopEntities(entities))),
    ...opt("rename", Object.keys(rename).length > 0 ? rename : undefined),
    ...opt("k8sSecretName", nonEmpty(spec.secret) ?? nonEmpty(bspec.secret)),
    ...opt("cassandraDirectory", nonEmpty(spec.cassandraDirectory)),
    ...opt("schemaVersion", nonEmpty(spec.schemaVersion)),
    // Hard-coded since CassKop PR #290 ("Enforce HARDLINKS restore strategy as it is faster").
    restorationStrategyType: "HARDLINKS",
    resolveHostIdFromTopology: true,
    ...opt("concurrentConnections", nonZeroInt(spec.concurrentConnection)),
  };
}

/**
 * What one `remove-backup` removes. `backupName` is a manifest name — the sidecar's rewritten snapshotTag
 * `<tag>-<schemaVersion>-<epochMillis>` as the backup operation echoed it (esop `AllManifestsReport.get` compares
 * names exactly). An age retention (`parseRetention`'s `{kind: "age"}`) is passed as is.
 */
export type RemoveTarget = { readonly backupName: string } | Extract<Retention, { kind: "age" }>;

/**
 * The body of a `remove-backup` (icarus ≥ 2.0.2; esop RemoveBackupRequest, sidecar.md §3.5). Count retention:
 * the runner decides which runs go and sends one request per `backupName`. Age retention: `olderThan`, in days
 * when the age is whole days. `globalRequest` (every node under the location) and `resolveNodes` (fill cluster,
 * DC and host id from the node's topology) as icarus' own tests do.
 *
 * CAUTION: `olderThan` removes every manifest older than the age in the storage location, whatever backup
 * made it (esop RemoveBackupOperation.getBackupsToDelete filters by timestamp only; `dcs` is not settable over
 * REST). Use it only for a location that one CassandraBackup owns; otherwise remove by name.
 */
export function removeBackupRequest(
  backup: CassandraBackup,
  target: RemoveTarget,
  namespace: string | undefined = backup.metadata?.namespace,
): RemoveBackupRequest {
  const spec = backup.spec ?? {};
  let what: Pick<RemoveBackupRequest, "backupName" | "olderThan">;
  if ("backupName" in target) {
    what = { backupName: required(target.backupName, "backupName") };
  } else {
    if (!Number.isSafeInteger(target.hours) || target.hours <= 0) {
      throw invalid(`retention age ${target.hours}h: must be a positive whole number of hours`);
    }
    what = {
      olderThan:
        target.hours % 24 === 0
          ? { value: target.hours / 24, unit: "DAYS" }
          : { value: target.hours, unit: "HOURS" },
    };
  }
  return {
    type: "remove-backup",
    storageLocation: required(spec.storageLocation, "spec.storageLocation"),
    ...opt("k8sNamespace", nonEmpty(namespace)),
    ...opt("k8sSecretName", nonEmpty(spec.secret)),
    ...what,
    resolveNodes: true,
    globalRequest: true,
  };
}
