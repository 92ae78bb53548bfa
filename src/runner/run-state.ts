// A run as both controllers start it: from the object as last seen, its status read once (what was written and
// what is wanted start equal). Shared so that backups and restores track runs the same way.

import { isRecord } from "../core/world-build.ts";
import type { Kind, Obj, Run, RunHooks, RunnerCore } from "./runner.ts";
import { readStatus } from "./status.ts";

/** `namespace/name` → its parts. */
export function keyIds(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export function newRun(
  core: RunnerCore,
  kind: Kind,
  key: string,
  obj: Obj,
  hooks: RunHooks,
  scheduledTime?: Date,
): Run {
  const { namespace, name } = keyIds(key);
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const status = readStatus(obj);
  return {
    kind,
    namespace,
    name,
    key,
    abort: new AbortController(),
    since: core.now(),
    hooks,
    cluster: typeof spec.cassandraCluster === "string" ? spec.cassandraCluster : "",
    datacenter: typeof spec.datacenter === "string" ? spec.datacenter : "",
    phase: "starting",
    written: status,
    wanted: status,
    busy: false,
    ...(scheduledTime === undefined ? {} : { scheduledTime }),
  };
}
