// `casskeeper serve --runner`: the backup runner wired for a cluster — sidecar clients per pod (DNS name or
// pod IP, port 4567 by default), Events, metrics. It runs backups only while its replica leads
// (src/kube/leadership.ts, shared with the Git sync).

import type { KubeConfig } from "@kubernetes/client-node";
import type { Registry } from "prom-client";
import type { Logger } from "../kube/client.ts";
import { createEventRecorder } from "../kube/objects.ts";
import { type SidecarAddressing, sidecarClients } from "./pods.ts";
import { startRunner } from "./runner.ts";

export interface RunnerServeOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly sidecarPort: number;
  readonly addressing: SidecarAddressing;
}

export function startRunnerForServe(
  kc: KubeConfig,
  opts: RunnerServeOptions,
): { lead(signal: AbortSignal): void; idle(): Promise<void>; stop(): Promise<void> } {
  const events = createEventRecorder(kc, { component: "casskeeper-runner", logger: opts.logger });
  const runner = startRunner(kc, {
    sidecarFor: sidecarClients({ addressing: opts.addressing, port: opts.sidecarPort }),
    logger: opts.logger,
    events,
    registry: opts.registry,
  });
  return {
    lead: (signal) => runner.lead(signal),
    idle: () => runner.idle(),
    async stop() {
      await runner.stop();
      await events.flush();
    },
  };
}
