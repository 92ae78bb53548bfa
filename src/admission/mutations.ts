// The mutations of CassandraBackup and CassandraRestore: minimal and idempotent (conventions.md §2.1), they
// only fill fields that are absent, as `add` operations, so a file in Git that sets a field is never changed
// and Argo CD sees no diff for it (conventions.md §3.2). Nothing the sidecar defaults itself
// (concurrentConnections, …) is filled: that would only make Argo CD diffs noisy.
//   - `spec.snapshotTag`, which CassKop's CRD requires, derived from the object's namespace and name, so a
//     second review yields the same value and no patch;
//   - `spec.datacenter`, when the CassandraCluster (from the world) has exactly one datacenter.

import { nonEmpty } from "../core/rules/support.ts";
import { key, type WorldSnapshot } from "../core/world.ts";
import { isRecord } from "../core/world-build.ts";
import { type AddOperation, pointer } from "./json-patch.ts";

export interface MutationContext {
  readonly world: WorldSnapshot;
  readonly namespace: string;
}

/** Room kept for the `_` and the 8-hex-digit suffix under the sidecar's 255-character tag limit. */
const TAG_NAME_ROOM = 255 - 9;

/**
 * The snapshotTag filled in for a backup without one: `<name>_<hash>`, the hash being FNV-1a (32 bits, hex)
 * of `<namespace>/<name>`. Why not the bare name: the sidecar finds a restore's manifest with a substring
 * match on `manifests/<tag>` (operators.md §1.6), so backups `orders` and `orders-weekly` in one bucket would
 * restore each other's runs. Object names never contain `_`, so `_` ends the name part and two derived tags
 * are never prefixes of each other; the hash keeps same-named backups of two namespaces apart. Deterministic:
 * the same object always gets the same tag.
 */
export function derivedSnapshotTag(namespace: string, name: string): string {
  return `${[...name].slice(0, TAG_NAME_ROOM).join("")}_${fnv1a32(`${namespace}/${name}`)}`;
}

/** The fills for a CassandraBackup or CassandraRestore (`kind`), as add operations; [] when nothing is absent. */
export function casskopMutations(
  kind: "CassandraBackup" | "CassandraRestore",
  obj: unknown,
  ctx: MutationContext,
): AddOperation[] {
  if (!isRecord(obj) || !isRecord(obj.spec)) return []; // no spec: the schema says so, nothing to fill into
  const spec = obj.spec;
  const ops: AddOperation[] = [];

  if (kind === "CassandraBackup" && absent(spec.snapshotTag)) {
    // With only generateName there is no name yet to derive from: validation then says the tag is required.
    const name = isRecord(obj.metadata) ? nonEmpty(obj.metadata.name) : undefined;
    if (name !== undefined) {
      ops.push({
        op: "add",
        path: pointer(["spec", "snapshotTag"]),
        value: derivedSnapshotTag(ctx.namespace, name),
      });
    }
  }

  if (absent(spec.datacenter) && ctx.world.known) {
    const clusterName = nonEmpty(spec.cassandraCluster);
    const cluster =
      clusterName === undefined ? undefined : ctx.world.clusters.get(key(ctx.namespace, clusterName));
    const only = cluster?.datacenters.length === 1 ? cluster.datacenters[0] : undefined;
    if (only !== undefined && only !== "") {
      ops.push({ op: "add", path: pointer(["spec", "datacenter"]), value: only });
    }
  }
  return ops;
}

/** Not set at all: missing or null (the API server prunes null from non-nullable fields). `""` is set. */
function absent(v: unknown): boolean {
  return v === undefined || v === null;
}

function fnv1a32(s: string): string {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(s, "utf8")) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
