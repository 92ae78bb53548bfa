// cluster: the CassandraCluster exists in the object's namespace (CassKop looks it up there:
// operators.md §1.5 step 10, §1.6) and the datacenter is in its topology. CassKop never checks the datacenter
// up front; an unknown one used to panic the operator (Orange-OpenSource/casskop#312, fixed by PR #330).

import type { Problem } from "../problem.ts";
import { key } from "../world.ts";
import { problem } from "./codes.ts";
import type { RuleContext } from "./context.ts";
import { listing, nonEmpty, q } from "./support.ts";

export interface ClusterFields {
  readonly cassandraCluster?: unknown;
  readonly datacenter?: unknown;
}

/** Skipped entirely when `ctx.world.known` is false. `action` words the all-datacenters warning. */
export function checkCluster(
  spec: ClusterFields,
  ctx: RuleContext,
  action: "backup" | "restore" = "backup",
): Problem[] {
  if (!ctx.world.known) return [];
  const name = nonEmpty(spec.cassandraCluster);
  if (name === undefined) return [];
  const cluster = ctx.world.clusters.get(key(ctx.namespace, name));
  if (cluster === undefined) {
    return [
      problem(
        "spec.cassandraCluster",
        "cluster.not-found",
        `CassandraCluster ${q(name)} not found in namespace ${q(ctx.namespace)}`,
      ),
    ];
  }
  const dc = nonEmpty(spec.datacenter);
  const known = cluster.datacenters;
  if (dc !== undefined) {
    if (!known.includes(dc)) {
      return [
        problem(
          "spec.datacenter",
          "cluster.datacenter-not-found",
          `${q(dc)} is not a datacenter of CassandraCluster ${q(name)}` +
            (known.length === 0
              ? ""
              : `; it has ${listing(
                  known.map((d) => q(d)),
                  10,
                )}`),
        ),
      ];
    }
  } else if (known.length > 1) {
    return [
      problem(
        "spec.datacenter",
        "cluster.all-datacenters",
        `no datacenter set: all ${known.length} datacenters of ${q(name)} (${listing(known, 10)}) ` +
          (action === "backup" ? "are backed up" : "take part in the restore"),
      ),
    ];
  }
  return [];
}
