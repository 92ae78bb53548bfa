// The Cassandra pods a backup or restore runs on, found as CassKop finds them (pkg/k8s/util.go
// LabelsForCassandraDC: `app=cassandracluster`, `cassandracluster=<cluster>`, and
// `cassandraclusters.db.orange.com.dc=<dc>` when a datacenter is set), and the sidecar's address on one.
//
// CassKop picks a random pod of the list; so does this, but only among Ready pods (a pod that is starting
// or terminating has no sidecar to answer) and from the list sorted by name, so that a test injecting the
// random number gets the same pod every time.

import type { KubeConfig } from "@kubernetes/client-node";
import { isRecord } from "../core/world-build.ts";
import { listObjects, type ResourceRef } from "../kube/objects.ts";
import { CASSKOP_POD_LABELS, SIDECAR_PORT, type SidecarApi } from "./model.ts";
import { createSidecarClient, type SidecarClientOptions, SidecarError } from "./sidecar-client.ts";

export const PODS: ResourceRef = { group: "", version: "v1", plural: "pods", namespaced: true };

/** What the runner keeps of a pod: enough to address its sidecar and to name it in the status. */
export interface PodRef {
  readonly name: string;
  readonly namespace: string;
  /** `spec.hostname` (a StatefulSet pod's is its name); the pod's name when unset. */
  readonly hostname: string;
  /** `spec.subdomain` (CassKop's headless service), if any. */
  readonly subdomain?: string;
  /** `status.podIP`, if any. */
  readonly ip?: string;
  readonly ready: boolean;
}

/** The label selector of a cluster's pods, or of one datacenter's. */
export function podSelector(cluster: string, datacenter?: string): string {
  const l = CASSKOP_POD_LABELS;
  const parts = [`${l.app}=${l.appValue}`, `${l.cluster}=${cluster}`];
  if (datacenter !== undefined && datacenter !== "") parts.push(`${l.datacenter}=${datacenter}`);
  return parts.join(",");
}

/** A pod object as a PodRef; undefined without a name. */
export function podRef(obj: Record<string, unknown>): PodRef | undefined {
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const status = isRecord(obj.status) ? obj.status : {};
  if (typeof meta.name !== "string" || meta.name === "") return undefined;
  const conditions = Array.isArray(status.conditions) ? status.conditions : [];
  const ready =
    typeof meta.deletionTimestamp !== "string" &&
    status.phase !== "Failed" &&
    status.phase !== "Succeeded" &&
    conditions.some((c) => isRecord(c) && c.type === "Ready" && c.status === "True");
  return {
    name: meta.name,
    namespace: typeof meta.namespace === "string" ? meta.namespace : "",
    hostname: typeof spec.hostname === "string" && spec.hostname !== "" ? spec.hostname : meta.name,
    ...(typeof spec.subdomain === "string" && spec.subdomain !== "" ? { subdomain: spec.subdomain } : {}),
    ...(typeof status.podIP === "string" && status.podIP !== "" ? { ip: status.podIP } : {}),
    ready,
  };
}

/** Every pod of a cluster (or one datacenter) in a namespace, sorted by name, Ready or not. */
export async function listClusterPods(
  kc: KubeConfig,
  namespace: string,
  cluster: string,
  datacenter?: string,
): Promise<PodRef[]> {
  const items = await listObjects(kc, PODS, {
    namespace,
    labelSelector: podSelector(cluster, datacenter),
    maxItems: 10_000,
  });
  return items
    .map(podRef)
    .filter((p): p is PodRef => p !== undefined)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A Ready pod, chosen by `random()` in [0, 1) among the Ready ones sorted by name; undefined when none. */
export function choosePod(pods: readonly PodRef[], random: () => number): PodRef | undefined {
  const ready = pods.filter((p) => p.ready).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (ready.length === 0) return undefined;
  const i = Math.min(ready.length - 1, Math.max(0, Math.floor(random() * ready.length)));
  return ready[i];
}

export type SidecarAddressing = "dns" | "ip";

/**
 * The sidecar's base URL on a pod. `dns` (default): `<hostname>.<subdomain>.<namespace>.svc`, CassKop's
 * `<hostname>.<subdomain>` (pkg/k8s/util.go PodHostname) made absolute with the namespace, because
 * casskeeper runs in its own namespace, not the cluster's (a pod without a subdomain falls back to its IP);
 * `ip`: the pod's IP. Port 4567 (`SIDECAR_PORT`) unless given. Undefined when the pod has no address yet.
 */
export function sidecarUrl(
  pod: PodRef,
  opts: { addressing?: SidecarAddressing; port?: number } = {},
): string | undefined {
  const port = opts.port ?? SIDECAR_PORT;
  if ((opts.addressing ?? "dns") === "dns" && pod.subdomain !== undefined && pod.namespace !== "") {
    return `http://${pod.hostname}.${pod.subdomain}.${pod.namespace}.svc:${port}`;
  }
  if (pod.ip === undefined) return undefined;
  return pod.ip.includes(":") ? `http://[${pod.ip}]:${port}` : `http://${pod.ip}:${port}`;
}

/**
 * `RunnerOptions.sidecarFor` for a cluster: a sidecar client per pod at `sidecarUrl(pod, …)`. A pod without
 * an address yet gets a client whose every call fails as unreachable (the runner retries, then gives up).
 */
export function sidecarClients(
  o: { addressing?: SidecarAddressing; port?: number } & Omit<SidecarClientOptions, "baseUrl"> = {},
): (pod: PodRef) => SidecarApi {
  const { addressing, port, ...client } = o;
  return (pod) => {
    const url = sidecarUrl(pod, {
      ...(addressing === undefined ? {} : { addressing }),
      ...(port === undefined ? {} : { port }),
    });
    if (url !== undefined) return createSidecarClient({ ...client, baseUrl: url });
    const fail = () =>
      Promise.reject(
        new SidecarError("sidecar-unreachable", `pod ${pod.namespace}/${pod.name} has no address yet`, {
          retryable: true,
          sent: false,
        }),
      );
    return { submit: fail, get: fail, list: fail, cancel: fail, version: fail };
  };
}
