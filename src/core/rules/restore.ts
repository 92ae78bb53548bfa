// validateRestore: every rule for one CassandraRestore, all problems at once, and validateRestoreUpdate for the
// immutability of a started restore. What CassKop sends (operators.md §1.6): the backup's storageLocation and
// snapshotTag, `entities` = the restore's or else the backup's, `k8sSecretName` = the restore's or else the
// backup's, HARDLINKS strategy, global request. CassKop checks none of the following up front; the sidecar
// fails the restore late (DOWNLOAD: "Keyspace %s is not in manifest!"), or never (wrong run restored).

import { joinPath, type Problem } from "../problem.ts";
import type { CassandraRestore } from "../types.ts";
import type { BackupInfo } from "../world.ts";
import { key } from "../world.ts";
import { checkCluster } from "./cluster.ts";
import { problem } from "./codes.ts";
import type { RestoreContext } from "./context.ts";
import {
  checkEntities,
  formatEntities,
  isEmptyEntities,
  notCoveredBy,
  type ParsedEntities,
  parseEntities,
} from "./entities.ts";
import { checkSecret } from "./secrets.ts";
import { isRecord, jsonEqual, listing, nonEmpty, q } from "./support.ts";
import { checkConcurrentConnections } from "./tuning.ts";

/** esop deserialises `schemaVersion` with Jackson's UUIDDeserializer (sidecar.md §3.1, §6.1). */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TABLE = /^\w{1,48}\.\w{1,48}$/;
const FAILED_STATES = ["FAILED", "CANCELLED", "CANCELED"];

/** All problems of one CassandraRestore. Total: never throws, for any input. */
export function validateRestore(obj: CassandraRestore, ctx: RestoreContext): Problem[] {
  const spec = isRecord(obj?.spec) ? obj.spec : {};
  const problems: Problem[] = [
    ...checkEntities(spec.entities, "spec.entities"),
    ...checkConcurrentConnections(spec.concurrentConnection, "spec.concurrentConnection"),
    ...checkRestoreOptions(spec),
    ...checkCluster(spec, ctx, "restore"),
  ];

  const backupName = nonEmpty(spec.cassandraBackup);
  const backup = backupName === undefined ? undefined : ctx.findBackup(ctx.namespace, backupName);
  if (backupName !== undefined && backup === undefined && ctx.world.known) {
    problems.push(
      problem(
        "spec.cassandraBackup",
        "restore.backup-not-found",
        `CassandraBackup ${q(backupName)} not found in namespace ${q(ctx.namespace)} (CassKop looks it up there by name)`,
      ),
    );
  }
  const bspec = backup !== undefined && isRecord(backup.spec) ? backup.spec : {};
  if (backup !== undefined) problems.push(...checkAgainstBackup(spec, backup));

  // The entities the sidecar gets: the restore's, else the backup's; unknown without the backup.
  const ownEntities = nonEmpty(spec.entities);
  const effective =
    ownEntities !== undefined
      ? parseEntities(ownEntities)
      : backup !== undefined
        ? parseEntities(bspec.entities)
        : undefined;
  problems.push(...checkRename(spec.rename, effective));

  const secretName = nonEmpty(spec.secret) ?? nonEmpty(bspec.secret);
  if (backup !== undefined) {
    problems.push(
      ...checkSecret(
        { secretName, storageLocation: bspec.storageLocation, path: "spec.secret", restore: true },
        ctx,
      ),
    );
  } else if (
    secretName !== undefined &&
    ctx.world.known &&
    !ctx.world.secrets.has(key(ctx.namespace, secretName))
  ) {
    problems.push(
      problem(
        "spec.secret",
        "secret.not-found",
        `secret ${q(secretName)} not found in namespace ${q(ctx.namespace)}`,
      ),
    );
  }
  return problems;
}

function checkRestoreOptions(spec: Record<string, unknown>): Problem[] {
  const problems: Problem[] = [];
  const schemaVersion = nonEmpty(spec.schemaVersion);
  if (schemaVersion !== undefined && !UUID.test(schemaVersion)) {
    problems.push(
      problem(
        "spec.schemaVersion",
        "restore.schema-version",
        `${q(schemaVersion)}: must be a schema version UUID (as \`nodetool describecluster\` shows); the sidecar refuses anything else`,
      ),
    );
  }
  if (spec.exactSchemaVersion === true && schemaVersion === undefined) {
    // esop RestorationUtilities: with exactSchemaVersion and no schemaVersion the running node's version is used.
    problems.push(
      problem(
        "spec.exactSchemaVersion",
        "restore.exact-schema-version",
        "without schemaVersion only a run taken at the node's current schema version matches; set schemaVersion too",
      ),
    );
  }
  const dir = nonEmpty(spec.cassandraDirectory);
  if (dir !== undefined && !dir.startsWith("/")) {
    problems.push(
      problem(
        "spec.cassandraDirectory",
        "restore.cassandra-directory",
        `${q(dir)}: must be an absolute path`,
      ),
    );
  }
  return problems;
}

function checkAgainstBackup(spec: Record<string, unknown>, backup: BackupInfo): Problem[] {
  const problems: Problem[] = [];
  const name = backup.name;
  const bspec = isRecord(backup.spec) ? backup.spec : {};
  const scheduled = nonEmpty(bspec.schedule) !== undefined;
  const state = typeof backup.state === "string" ? backup.state.toUpperCase() : undefined;

  if (state !== undefined && FAILED_STATES.includes(state)) {
    problems.push(
      scheduled
        ? problem(
            "spec.cassandraBackup",
            "restore.backup-last-run-failed",
            `the last run of scheduled backup ${q(name)} ended ${state}; the restore takes the newest complete run`,
          )
        : problem(
            "spec.cassandraBackup",
            "restore.backup-failed",
            `backup ${q(name)} ended ${state}: there is nothing to restore`,
          ),
    );
  } else if (state !== "COMPLETED") {
    problems.push(
      problem(
        "spec.cassandraBackup",
        "restore.backup-not-completed",
        `backup ${q(name)} has not completed (${state === undefined ? "no status yet" : `state ${state}`})`,
      ),
    );
  }

  const restoreCluster = nonEmpty(spec.cassandraCluster);
  const backupCluster = nonEmpty(bspec.cassandraCluster);
  if (restoreCluster !== undefined && backupCluster !== undefined && restoreCluster !== backupCluster) {
    problems.push(
      problem(
        "spec.cassandraCluster",
        "restore.cross-cluster",
        `restores into ${q(restoreCluster)} a backup of ${q(backupCluster)}; CassKop allows it, but check it is intended`,
      ),
    );
  }

  if (scheduled && !(nonEmpty(spec.schemaVersion) !== undefined && spec.exactSchemaVersion === true)) {
    const tag = nonEmpty(bspec.snapshotTag);
    problems.push(
      problem(
        "spec.cassandraBackup",
        "restore.latest-run",
        `backup ${q(name)} is scheduled: the restore takes its newest run (tag ` +
          `${tag === undefined ? "match" : q(tag)}); pin one with schemaVersion and exactSchemaVersion`,
      ),
    );
  }

  const own = nonEmpty(spec.entities);
  if (own !== undefined) {
    const restoreEntities = parseEntities(own);
    const backupEntities = parseEntities(bspec.entities);
    const missing = notCoveredBy(restoreEntities, backupEntities);
    const tableKeyspaces = new Set(backupEntities.tables.map((t) => t.ks));
    const partial = missing.filter((m) => !m.includes(".") && tableKeyspaces.has(m));
    const absent = missing.filter((m) => !partial.includes(m));
    const holds = formatEntities(backupEntities);
    if (absent.length > 0) {
      problems.push(
        problem(
          "spec.entities",
          "restore.entities-not-in-backup",
          `${listing(absent)} ${absent.length === 1 ? "is" : "are"} not in backup ${q(name)} (it holds ${holds}); ` +
            `the sidecar would fail with "... is not in manifest!"`,
        ),
      );
    }
    if (partial.length > 0) {
      problems.push(
        problem(
          "spec.entities",
          "restore.entities-partial",
          `backup ${q(name)} holds only some tables of ${listing(partial)} (${holds}); only those are restored`,
        ),
      );
    }
  }
  return problems;
}

/**
 * `spec.rename` against esop's rules (`impl/RenamedEntities.java`, `impl/CassandraData.java validate()`,
 * operators.md §1.7): distinct targets, no chains, each side `ks.table`, not to itself, only with table
 * entities, each `from` among the entities, no `to` among them. `entities` is what the sidecar gets (the
 * restore's, else the backup's); undefined when unknown, which skips the checks that need it. Spaces are
 * removed from both sides first, as esop does.
 */
export function checkRename(
  rename: unknown,
  entities: ParsedEntities | undefined,
  path = "spec.rename",
): Problem[] {
  if (!isRecord(rename)) return [];
  const entries: [string, string, string][] = []; // [key as written, from, to]
  for (const [k, v] of Object.entries(rename)) {
    if (typeof v === "string") entries.push([k, k.replaceAll(" ", ""), v.replaceAll(" ", "")]);
  }
  if (entries.length === 0) return [];
  const problems: Problem[] = [];
  const at = (k: string) => joinPath(path, k);

  for (const [k, from, to] of entries) {
    if (from === to) {
      problems.push(problem(at(k), "restore.rename", `Can not rename table ${from} to itself!`));
      continue;
    }
    const bad = [
      ...(TABLE.test(from) ? [] : [`from side ${q(from)}`]),
      ...(TABLE.test(to) ? [] : [`to side ${q(to)}`]),
    ];
    if (bad.length > 0) {
      problems.push(
        problem(at(k), "restore.rename", `${bad.join(" and ")}: not in format {keyspace}.{table}`),
      );
    } else if (from.split(".")[0] !== to.split(".")[0]) {
      problems.push(
        problem(
          at(k),
          "restore.rename-keyspace",
          `${from} → ${to} crosses keyspaces, which some sidecar versions refuse`,
        ),
      );
    }
  }

  const byTarget = new Map<string, string[]>();
  for (const [k, , to] of entries) byTarget.set(to, [...(byTarget.get(to) ?? []), k]);
  for (const [to, keys] of byTarget) {
    for (const k of keys.slice(1)) {
      problems.push(
        problem(
          at(k),
          "restore.rename",
          `all values in rename map have to be distinct: ${listing(keys.map((x) => q(x)))} all rename to ${q(to)}`,
        ),
      );
    }
  }
  const froms = new Set(entries.map(([, from]) => from));
  for (const [k, from, to] of entries) {
    if (from !== to && froms.has(to)) {
      problems.push(
        problem(
          at(k),
          "restore.rename",
          `${q(to)} is itself renamed: rename map contains a key which is one of its value (no chains)`,
        ),
      );
    }
  }

  if (entities === undefined) return problems;
  if (isEmptyEntities(entities)) {
    problems.push(
      problem(
        path,
        "restore.rename",
        "database entities are empty but renamed entities are not: list the tables to restore as ks.table in entities",
      ),
    );
  } else if (entities.tables.length === 0) {
    problems.push(
      problem(path, "restore.rename", "you can not use keyspace entities in connection with rename entities"),
    );
  } else if (entities.keyspaces.length === 0) {
    const listed = new Set(entities.tables.map((t) => `${t.ks}.${t.table}`));
    const shown = formatEntities(entities);
    for (const [k, from, to] of entries) {
      if (from === to || !TABLE.test(from) || !TABLE.test(to)) continue;
      if (!listed.has(from)) {
        problems.push(
          problem(at(k), "restore.rename", `${from} (the 'from' part) is not in the entities ${shown}`),
        );
      }
      if (listed.has(to)) {
        problems.push(
          problem(
            at(k),
            "restore.rename",
            `${to} (the 'to' part) is in the entities ${shown}; it must not be`,
          ),
        );
      }
    }
  }
  return problems;
}

/** Whether CassKop has taken the restore on: a condition or a coordinator member is set (operators.md §1.6). */
export function restoreStarted(obj: CassandraRestore): boolean {
  const status = isRecord(obj?.status) ? obj.status : {};
  return (
    (status.condition !== undefined && status.condition !== null) ||
    nonEmpty(status.coordinatorMember) !== undefined
  );
}

/**
 * An UPDATE of a restore: once started, its spec is immutable (CassKop ignores later edits, and a restore runs
 * exactly once). Status, metadata and annotation changes always pass: CassKop writes status with plain
 * updates (no status subresource, operators.md §1.2).
 */
export function validateRestoreUpdate(oldObj: CassandraRestore, newObj: CassandraRestore): Problem[] {
  if (!restoreStarted(oldObj)) return [];
  const before = isRecord(oldObj?.spec) ? oldObj.spec : {};
  const after = isRecord(newObj?.spec) ? newObj.spec : {};
  if (jsonEqual(before, after)) return [];
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((f) => !jsonEqual(before[f], after[f]))
    .sort();
  return fields.map((f) =>
    problem(
      joinPath("spec", f),
      "restore.immutable",
      "cannot change once the restore has started (CassKop ignores the edit); create a new CassandraRestore",
    ),
  );
}
