// `casskeeper serve --git-sync`: the Git sync's parts wired together — the sources' watch in every replica,
// leader election on a Lease so only one replica syncs, isomorphic-git with a cache directory, the cluster
// port, Events and metrics. A new leader syncs only once the world cache has listed: the sync validates
// against the same world as the webhook.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { WorldSnapshot } from "../core/world.ts";
import type { Logger } from "../kube/client.ts";
import { createGitSyncCluster } from "../kube/gitsync-cluster.ts";
import { startLeaderElection } from "../kube/leader-election.ts";
import { createEventRecorder } from "../kube/objects.ts";
import { loadStructuralValidator } from "../schema/bundled-crds.ts";
import { createGitSource } from "./git-source.ts";
import { createGitSyncMetrics } from "./metrics.ts";
import type { PushEvent } from "./receiver.ts";
import { startGitSync } from "./reconciler.ts";

/** The Lease the single-writer parts share (the Git sync now, the runner with issue #5). */
export const LEADER_LEASE = "casskeeper-leader";

export interface GitSyncServeOptions {
  readonly namespace: string;
  readonly cacheDir: string;
  readonly world: () => WorldSnapshot;
  readonly logger: Logger;
  readonly registry: Registry;
}

export async function startGitSyncForServe(
  kc: KubeConfig,
  opts: GitSyncServeOptions,
): Promise<{ onPush(push: PushEvent): number; stop(): Promise<void> }> {
  const events = createEventRecorder(kc, { component: "casskeeper-git-sync", logger: opts.logger });
  const controller = startGitSync(kc, {
    git: createGitSource({ cacheDir: opts.cacheDir }),
    cluster: createGitSyncCluster(kc),
    structure: loadStructuralValidator(),
    world: opts.world,
    logger: opts.logger,
    events,
    metrics: createGitSyncMetrics(opts.registry),
  });
  // The pod name when the downward API gives it (what `kubectl get lease` then shows), else host + random.
  const identity = process.env.POD_NAME ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
  let leadership: AbortController | undefined;
  const election = startLeaderElection(
    kc,
    { namespace: opts.namespace, name: LEADER_LEASE, identity, logger: opts.logger },
    {
      onStartedLeading(signal) {
        const mine = new AbortController();
        leadership = mine;
        signal.addEventListener("abort", () => mine.abort(), { once: true });
        whenWorldKnown(opts.world, mine.signal, opts.logger, () => controller.lead(mine.signal));
      },
      onStoppedLeading() {
        leadership?.abort();
      },
    },
  );
  return {
    onPush: (push) => controller.onPush(push),
    async stop() {
      leadership?.abort();
      await controller.stop();
      await election.stop();
      await events.flush();
    },
  };
}

/** How often a new leader looks whether the world cache has listed, before its first sync. */
const WORLD_POLL_MS = 200;

/**
 * Calls `then` once the world is known (the cache listed Secrets, CassandraClusters and CassandraBackups),
 * unless `signal` aborts first. A sync validates against the world as the webhook does; before the first list
 * the world is unknown and its checks would be skipped, so a revision naming a missing Secret would be applied
 * and then kept (a revision that did not move is not validated again).
 */
function whenWorldKnown(
  world: () => WorldSnapshot,
  signal: AbortSignal,
  logger: Logger,
  then: () => void,
): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => clearTimeout(timer);
  const check = () => {
    timer = undefined;
    if (signal.aborted) return;
    if (world().known) {
      signal.removeEventListener("abort", cancel);
      then();
      return;
    }
    timer = setTimeout(check, WORLD_POLL_MS);
  };
  if (!world().known) logger.info({}, "git sync: waiting for the world cache to list before the first sync");
  signal.addEventListener("abort", cancel, { once: true });
  check();
}
