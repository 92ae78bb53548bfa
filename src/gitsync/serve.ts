// `casskeeper serve --git-sync`: the Git sync's parts wired together — the sources' watch in every replica,
// leader election on a Lease so only one replica syncs, isomorphic-git with a cache directory, the cluster
// port, Events and metrics.

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
        leadership = new AbortController();
        signal.addEventListener("abort", () => leadership?.abort(), { once: true });
        controller.lead(leadership.signal);
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
