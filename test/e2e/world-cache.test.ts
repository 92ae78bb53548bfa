// Against a real cluster, only when KUBECONFIG is set (read-only: it lists and watches, writes nothing).
// The watch caches fill from the real API server: Secrets as key names only, and CassandraBackups and
// CassandraClusters when CassKop's CRDs are installed (otherwise that part of the world is empty).

import assert from "node:assert/strict";
import { test } from "node:test";
import { CoreV1Api } from "@kubernetes/client-node";
import { loadKubeConfig } from "../../src/kube/client.ts";
import { startWorldCache } from "../../src/kube/world-cache.ts";
import { eventually, recordingLogger } from "../support/kube-fake-clock.ts";

test("the world cache lists Secrets and CassandraBackups from the cluster", {
  timeout: 120_000,
}, async (t) => {
  if (process.env.KUBECONFIG === undefined || process.env.KUBECONFIG === "") {
    t.skip("KUBECONFIG not set");
    return;
  }
  const kc = loadKubeConfig();
  const logger = recordingLogger();
  const cache = await startWorldCache(kc, { logger });
  try {
    await eventually("the cache is ready", () => cache.ready(), 60_000);
    const world = cache.snapshot();
    assert.equal(world.known, true);

    // The same Secrets as a direct list, as key names.
    const direct = await kc.makeApiClient(CoreV1Api).listSecretForAllNamespaces({ limit: 50 });
    for (const s of direct.items) {
      const k = `${s.metadata?.namespace}/${s.metadata?.name}`;
      const names = world.secrets.get(k);
      if (names === undefined) continue; // deleted meanwhile
      assert.deepEqual([...names].sort(), Object.keys(s.data ?? {}).sort(), k);
    }
    assert.ok(world.secrets.size > 0, "a cluster has Secrets");
    t.diagnostic(
      `secrets ${world.secrets.size}, cassandraclusters ${world.clusters.size}, cassandrabackups ${world.backups.size}`,
    );
    for (const b of world.backups.values()) assert.equal(typeof b.spec, "object");
    assert.equal(
      logger.lines.some((l) => l.level === "error"),
      false,
    );
  } finally {
    await cache.stop();
  }
});
