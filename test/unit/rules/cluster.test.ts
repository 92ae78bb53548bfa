import { describe, test } from "node:test";
import { checkCluster } from "../../../src/core/rules/cluster.ts";
import { assertProblems, type Expect, err, UNKNOWN, warn, world } from "./fixtures.ts";

describe("checkCluster", () => {
  const w = world({ clusters: { "ns/one": ["dc1"], "ns/two": ["dc1", "dc2"], "ns/bare": [] } });
  const cases: [
    string,
    { cassandraCluster?: unknown; datacenter?: unknown },
    "backup" | "restore",
    Expect[],
  ][] = [
    // (cluster, dc) → fine
    ["known dc", { cassandraCluster: "two", datacenter: "dc2" }, "backup", []],
    // (one-dc cluster, no dc) → fine
    ["single dc", { cassandraCluster: "one" }, "backup", []],
    // (missing cluster) → error
    [
      "no cluster",
      { cassandraCluster: "ghost" },
      "backup",
      [err("spec.cassandraCluster", "cluster.not-found", '"ghost"', '"ns"')],
    ],
    // (unknown dc) → the known ones named
    [
      "unknown dc",
      { cassandraCluster: "two", datacenter: "dc3" },
      "backup",
      [err("spec.datacenter", "cluster.datacenter-not-found", '"dc3"', '"dc1" and "dc2"')],
    ],
    // (multi-dc, no dc) → all backed up
    [
      "all dcs",
      { cassandraCluster: "two" },
      "backup",
      [warn("spec.datacenter", "cluster.all-datacenters", "backed up")],
    ],
    [
      "all dcs restore",
      { cassandraCluster: "two", datacenter: "" },
      "restore",
      [warn("spec.datacenter", "cluster.all-datacenters", "restore")],
    ],
    // (cluster with no known dcs, a dc) → error without a list
    [
      "no dcs known",
      { cassandraCluster: "bare", datacenter: "dc1" },
      "backup",
      [err("spec.datacenter", "cluster.datacenter-not-found")],
    ],
    // (no cluster name) → schema's business
    ["empty name", { cassandraCluster: "" }, "backup", []],
  ];
  for (const [name, spec, action, expected] of cases) {
    test(name, () =>
      assertProblems(checkCluster(spec, { world: w, namespace: "ns" }, action), expected, name),
    );
  }

  test("another namespace's cluster does not count", () => {
    assertProblems(checkCluster({ cassandraCluster: "two" }, { world: w, namespace: "other" }), [
      err("spec.cassandraCluster", "cluster.not-found"),
    ]);
  });

  test("world unknown: skipped", () => {
    assertProblems(
      checkCluster({ cassandraCluster: "ghost", datacenter: "x" }, { world: UNKNOWN, namespace: "ns" }),
      [],
    );
  });
});
