// `casskeeper serve --git-sync`: the Git sync's parts wired together — the sources' watch in every replica,
// isomorphic-git with a cache directory, the cluster port, Events and metrics. It syncs only while its replica
// leads (src/kube/leadership.ts, shared with the runner).

import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { WorldSnapshot } from "../core/world.ts";
import type { Logger } from "../kube/client.ts";
import { createGitSyncCluster } from "../kube/gitsync-cluster.ts";
import { createEventRecorder } from "../kube/objects.ts";
import { loadStructuralValidator } from "../schema/bundled-crds.ts";
import { createGitSource } from "./git-source.ts";
import { createGitSyncMetrics } from "./metrics.ts";
import type { PushEvent } from "./receiver.ts";
import { startGitSync } from "./reconciler.ts";

export interface GitSyncServeOptions {
  readonly cacheDir: string;
  readonly world: () => WorldSnapshot;
  readonly logger: Logger;
  readonly registry: Registry;
}

export async function startGitSyncForServe(
  kc: KubeConfig,
  opts: GitSyncServeOptions,
): Promise<{
  lead(signal: AbortSignal): void;
  idle(): Promise<void>;
  onPush(push: PushEvent): number;
  stop(): Promise<void>;
}> {
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
  return {
    lead: (signal) => controller.lead(signal),
    idle: () => controller.idle(),
    onPush: (push) => controller.onPush(push),
    async stop() {
      await controller.stop();
      await events.flush();
    },
  };
}
