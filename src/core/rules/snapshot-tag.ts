// snapshotTag: the tag names a snapshot directory on every node (`nodetool snapshot -t`) and prefixes the
// manifest names in the bucket (`<tag>-<schemaVersion>-<timestamp>`, sidecar.md §2.1), so it must be a safe
// file name. A restore finds its manifest with a substring filter, `contains(nodePath + "/manifests/" + tag)`
// (esop `RestorationUtilities.ManifestFilteringPredicate`, operators.md §1.6), then takes the newest: a tag
// that is a prefix of another backup's tag in the same bucket can restore the other backup.

import type { Problem } from "../problem.ts";
import type { CassandraBackupSpec } from "../types.ts";
import { problem } from "./codes.ts";
import { bucketKey, parseStorageLocation } from "./storage-location.ts";
import { isRecord, listing, nonEmpty, q } from "./support.ts";

export const MAX_SNAPSHOT_TAG_LENGTH = 255;
const SAFE = /^[A-Za-z0-9._-]+$/;

/** A filesystem-safe tag close to `value` (for "did you mean"); never empty. */
export function suggestSnapshotTag(value: string): string {
  const cleaned = value
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|-+$/g, "")
    .slice(0, MAX_SNAPSHOT_TAG_LENGTH);
  return cleaned === "" || cleaned === "." || cleaned === ".." ? "backup" : cleaned;
}

/** `spec.snapshotTag`: non-empty, at most 255 characters of `[A-Za-z0-9._-]`, not `.` or `..`. */
export function checkSnapshotTag(value: unknown, path = "spec.snapshotTag"): Problem[] {
  if (typeof value !== "string") return [];
  const why: string[] = [];
  if (value === "") why.push("must not be empty");
  if ([...value].length > MAX_SNAPSHOT_TAG_LENGTH) why.push(`at most ${MAX_SNAPSHOT_TAG_LENGTH} characters`);
  if (value !== "" && !SAFE.test(value)) {
    why.push(
      /[\s\p{Cc}]/u.test(value)
        ? "no white space or control characters; only letters, digits, '.', '_' and '-'"
        : "only letters, digits, '.', '_' and '-'",
    );
  }
  if (value === "." || value === "..") why.push("must not be a directory reference");
  if (why.length === 0) return [];
  return [
    problem(
      path,
      "snapshot-tag.invalid",
      `${q(value)}: ${why.join("; ")}; for example ${q(suggestSnapshotTag(value))}`,
    ),
  ];
}

export interface BackupRef {
  readonly namespace: string;
  readonly name: string;
  readonly spec: CassandraBackupSpec | undefined;
}

export interface CollisionOptions {
  /**
   * Also compare backups of different CassandraClusters. Off by default: manifests live under
   * `<bucket>/<cluster>/<dc>/<node>/manifests/`, so two clusters sharing a bucket (one `daily` each, the usual
   * layout) do not see each other's manifests unless a restore crosses clusters.
   */
  readonly acrossClusters?: boolean;
}

/**
 * Cross-object check over one set of backups: for each index whose tag collides with another backup's in the
 * same bucket (one is a prefix of, or equal to, the other), one `snapshot-tag.collision` warning naming the
 * others. Both sides are warned: a restore of either can pick the other's manifest. Linear in the number of
 * backups times the tag length.
 */
export function snapshotTagCollisions(
  backups: readonly BackupRef[],
  options: CollisionOptions = {},
): Map<number, Problem[]> {
  interface Entry {
    readonly tag: string;
    readonly where: string;
    readonly group: Group;
  }
  interface Group {
    readonly byTag: Map<string, number[]>;
    lengths: number[];
  }
  const groups = new Map<string, Group>();
  const entries = backups.map((b): Entry | undefined => {
    const spec = isRecord(b?.spec) ? b.spec : {};
    const tag = nonEmpty(spec.snapshotTag);
    const loc = parseStorageLocation(spec.storageLocation);
    if (tag === undefined || loc === undefined) return undefined;
    const where = bucketKey(loc);
    const cluster = options.acrossClusters === true ? "" : (nonEmpty(spec.cassandraCluster) ?? "");
    const id = `${where}\u0000${cluster}`;
    let group = groups.get(id);
    if (group === undefined) {
      group = { byTag: new Map(), lengths: [] };
      groups.set(id, group);
    }
    return { tag, where, group };
  });
  entries.forEach((e, i) => {
    if (e === undefined) return;
    const list = e.group.byTag.get(e.tag);
    if (list === undefined) e.group.byTag.set(e.tag, [i]);
    else list.push(i);
  });
  for (const g of groups.values())
    g.lengths = [...new Set([...g.byTag.keys()].map((t) => t.length))].sort((a, b) => a - b);

  // Each backup looks up its prefixes among the tags of its group (only the lengths present there, so a long,
  // invalid tag costs little); a hit links both sides.
  const others = new Map<number, Set<number>>();
  const link = (a: number, b: number) => {
    const set = others.get(a) ?? new Set<number>();
    set.add(b);
    others.set(a, set);
  };
  entries.forEach((e, i) => {
    if (e === undefined) return;
    for (const k of e.group.lengths) {
      if (k > e.tag.length) break;
      for (const j of e.group.byTag.get(e.tag.slice(0, k)) ?? []) {
        if (j === i) continue;
        link(i, j);
        link(j, i);
      }
    }
  });

  const result = new Map<number, Problem[]>();
  for (const [i, set] of [...others].sort((a, b) => a[0] - b[0])) {
    const me = entries[i];
    if (me === undefined) continue;
    const names = [...set]
      .sort((a, b) => a - b)
      .map((j) => `${backups[j]?.namespace}/${backups[j]?.name} (${q(entries[j]?.tag ?? "")})`);
    result.set(i, [
      problem(
        "spec.snapshotTag",
        "snapshot-tag.collision",
        `${q(me.tag)} overlaps ${listing(names, 3)} in ${me.where}: a restore of either can pick the other's run`,
      ),
    ]);
  }
  return result;
}
