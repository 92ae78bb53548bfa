// The Git sync's view of the cluster (ClusterPort in src/gitsync/sync.ts) over the Kubernetes API:
// server-side apply with field manager `casskeeper` and no force (another manager's field is a conflict to
// report, not to take: reference/conventions.md §5), lists of the synced kinds, deletes with a uid
// precondition, and the Git credentials read from a Secret at each sync and never kept.

import type { KubeConfig } from "@kubernetes/client-node";
import { isRecord } from "../core/world-build.ts";
import { FIELD_MANAGER, inventoryId, type ObjectId, SYNCED_KINDS } from "../gitsync/model.ts";
import type { ClusterPort } from "../gitsync/sync.ts";
import { KubeApiError, kubeRequest, statusCodeOf } from "./client.ts";
import {
  applyConflicts,
  applyObject,
  deleteObject,
  getObject,
  listObjects,
  type ResourceRef,
} from "./objects.ts";

/** Namespaces listed one by one up to this many; beyond, one cluster-wide list per kind is cheaper. */
const MAX_NAMESPACE_LISTS = 8;

export function createGitSyncCluster(kc: KubeConfig): ClusterPort {
  /** The version lists use per group (discovery's preferred version), found once. */
  const listVersion = new Map<string, Promise<string>>();
  const preferred = (group: string): Promise<string> => {
    let v = listVersion.get(group);
    if (v === undefined) {
      v = kubeRequest(kc, { path: `/apis/${group}` }).then((g) => {
        const pv = isRecord(g) && isRecord(g.preferredVersion) ? g.preferredVersion.version : undefined;
        if (typeof pv !== "string") throw new Error(`no preferred version for ${group}`);
        return pv;
      });
      v.catch(() => listVersion.delete(group));
      listVersion.set(group, v);
    }
    return v;
  };
  const ref = (id: ObjectId): ResourceRef => {
    const k = SYNCED_KINDS.get(id.kind);
    if (k === undefined) throw new Error(`not a synced kind: ${id.kind}`);
    return { group: k.group, version: id.version, plural: k.plural, namespaced: true };
  };

  return {
    async readSecretKeys(namespace, name, keys) {
      const secret = await getObject(
        kc,
        { group: "", version: "v1", plural: "secrets", namespaced: true },
        namespace,
        name,
      );
      if (secret === undefined) return undefined;
      const data = isRecord(secret.data) ? secret.data : {};
      const out: Record<string, string> = {};
      for (const k of keys) {
        const v = data[k];
        if (typeof v === "string") out[k] = Buffer.from(v, "base64").toString("utf8").trim();
      }
      return out;
    },

    async listLive(namespaces) {
      const live = new Map<string, Record<string, unknown>>();
      for (const [kind, k] of SYNCED_KINDS) {
        const version = await preferred(k.group);
        const r: ResourceRef = { group: k.group, version, plural: k.plural, namespaced: true };
        const scopes = namespaces.length > MAX_NAMESPACE_LISTS ? [undefined] : namespaces;
        for (const ns of scopes) {
          let items: Record<string, unknown>[];
          try {
            items = await listObjects(kc, r, ns === undefined ? {} : { namespace: ns });
          } catch (e) {
            if (statusCodeOf(e) === 404) continue; // CRD not installed: nothing lives there
            throw e;
          }
          for (const item of items) {
            const m = isRecord(item.metadata) ? item.metadata : {};
            if (typeof m.name !== "string" || typeof m.namespace !== "string") continue;
            live.set(inventoryId({ namespace: m.namespace, name: m.name, group: k.group, kind }), item);
          }
        }
      }
      return live;
    },

    async apply(id, body, opts) {
      await applyObject(kc, ref(id), body, {
        fieldManager: FIELD_MANAGER,
        force: false,
        dryRun: opts.dryRun,
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
    },

    async remove(id, uid, signal) {
      return deleteObject(kc, ref(id), id.namespace, id.name, {
        ...(uid === undefined ? {} : { uid }),
        ...(signal === undefined ? {} : { signal }),
      });
    },

    refusal(e) {
      const conflicts = applyConflicts(e);
      if (conflicts !== undefined && conflicts.length > 0) {
        const managers = [...new Set(conflicts.map((c) => c.manager))];
        const fields = conflicts.map((c) => c.field).join(", ");
        const argo = managers.some((m) => m.startsWith("argocd"));
        return {
          conflict: true,
          message: `fields owned by ${managers.map((m) => `"${m}"`).join(", ")} (${fields})${argo ? ": managed by Argo CD, not taken over" : ""}`,
        };
      }
      if (e instanceof KubeApiError && [400, 403, 404, 409, 422].includes(e.statusCode)) {
        return { conflict: e.statusCode === 409, message: e.message };
      }
      return undefined;
    },
  };
}
