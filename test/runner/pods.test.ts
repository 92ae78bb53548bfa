// Finding the coordinator pod (CassKop's labels, Ready pods only, a random pick made deterministic by the
// sort) and the sidecar's address on it.

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  choosePod,
  type PodRef,
  podRef,
  podSelector,
  sidecarClients,
  sidecarUrl,
} from "../../src/runner/pods.ts";

// (cluster, datacenter, CassKop's LabelsForCassandraDC selector)
const SELECTORS = [
  ["orders", "dc1", "app=cassandracluster,cassandracluster=orders,cassandraclusters.db.orange.com.dc=dc1"],
  ["orders", undefined, "app=cassandracluster,cassandracluster=orders"],
  ["orders", "", "app=cassandracluster,cassandracluster=orders"],
] as const;

for (const [cluster, dc, expected] of SELECTORS) {
  test(`pods of cluster ${cluster}, datacenter ${dc === undefined ? "(none)" : JSON.stringify(dc)}: ${expected}`, () => {
    assert.equal(podSelector(cluster, dc), expected);
  });
}

function pod(name: string, o: { ready?: boolean; deleting?: boolean; phase?: string } = {}) {
  return {
    metadata: {
      name,
      namespace: "team-a",
      ...(o.deleting === true ? { deletionTimestamp: "2030-01-01T00:00:00Z" } : {}),
    },
    spec: { hostname: name, subdomain: "orders-dc1" },
    status: {
      phase: o.phase ?? "Running",
      podIP: "10.0.0.7",
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  };
}

// (pod, Ready as the runner reads it)
const READINESS = [
  ["Ready", pod("a"), true],
  ["not Ready", pod("a", { ready: false }), false],
  ["terminating", pod("a", { deleting: true }), false],
  ["Succeeded", pod("a", { phase: "Succeeded" }), false],
] as const;

for (const [name, obj, ready] of READINESS) {
  test(`a pod that is ${name}: ready=${ready}`, () => assert.equal(podRef(obj)?.ready, ready));
}

test("the pick is among Ready pods sorted by name, whatever the list order; random() chooses which", () => {
  const pods = [pod("c"), pod("a", { ready: false }), pod("d"), pod("b")].map((p) => podRef(p) as PodRef);
  assert.equal(choosePod(pods, () => 0)?.name, "b");
  assert.equal(choosePod(pods, () => 0.5)?.name, "c");
  assert.equal(choosePod(pods, () => 0.9999)?.name, "d");
  assert.equal(choosePod([...pods].reverse(), () => 0)?.name, "b");
  assert.equal(
    choosePod(
      pods.filter((p) => !p.ready),
      () => 0,
    ),
    undefined,
  );
});

test("the sidecar's address: CassKop's <hostname>.<subdomain> made absolute with the namespace, or the pod IP", () => {
  const p = podRef(pod("orders-dc1-rack1-0")) as PodRef;
  assert.equal(sidecarUrl(p), "http://orders-dc1-rack1-0.orders-dc1.team-a.svc:4567");
  assert.equal(sidecarUrl(p, { addressing: "ip", port: 14567 }), "http://10.0.0.7:14567");
  assert.equal(sidecarUrl({ ...p, ip: "fd00::7" }, { addressing: "ip" }), "http://[fd00::7]:4567");
  const bare = podRef({ metadata: { name: "x", namespace: "n" }, spec: {}, status: {} }) as PodRef;
  assert.equal(sidecarUrl(bare), undefined, "no subdomain and no IP yet: no address");
});

test("a pod without an address yet: its sidecar client fails as unreachable, so the runner retries", async () => {
  const bare = podRef({ metadata: { name: "x", namespace: "n" }, spec: {}, status: {} }) as PodRef;
  await assert.rejects(sidecarClients()(bare).get("id"), { code: "sidecar-unreachable", retryable: true });
});
