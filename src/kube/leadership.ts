// One leader among casskeeper's replicas for every single-writer part (the Git sync, the runner): one Lease,
// client-go timings (src/kube/leader-election.ts). Every replica serves the webhook whatever happens here.
//
// A new leader starts its parts only once `ready()` holds (the world cache has listed): the Git sync validates
// against the same world as the webhook, and before the first list the world is unknown and its checks would
// be skipped — a revision naming a missing Secret would be applied, then kept (an unmoved revision is not
// validated again).

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "./client.ts";
import { startLeaderElection } from "./leader-election.ts";

/** The Lease the single-writer parts share. */
export const LEADER_LEASE = "casskeeper-leader";

/** Something that works only while leading; `signal` aborts when leadership is lost or the process stops. */
export interface Led {
  lead(signal: AbortSignal): void;
  /** Resolves when the work started while leading has finished (after an abort: promptly). */
  idle?(): Promise<void>;
}

/** How often a new leader looks whether `ready()` holds before it starts its parts. */
const READY_POLL_MS = 200;

export function startLeadership(
  kc: KubeConfig,
  opts: { readonly namespace: string; readonly logger: Logger; readonly ready: () => boolean },
  parts: readonly Led[],
): { stop(): Promise<void> } {
  // The pod name when the downward API gives it (what `kubectl get lease` then shows), else host + random.
  const identity = process.env.POD_NAME ?? `${hostname()}_${randomBytes(4).toString("hex")}`;
  let term: AbortController | undefined;
  const election = startLeaderElection(
    kc,
    { namespace: opts.namespace, name: LEADER_LEASE, identity, logger: opts.logger },
    {
      onStartedLeading(signal) {
        const mine = new AbortController();
        term = mine;
        signal.addEventListener("abort", () => mine.abort(), { once: true });
        whenReady(opts.ready, mine.signal, opts.logger, () => {
          for (const part of parts) part.lead(mine.signal);
        });
      },
      onStoppedLeading() {
        term?.abort();
      },
    },
  );
  return {
    // The Lease is released only after the parts have stopped writing: the next leader starts at once, and
    // two writers must never overlap.
    async stop() {
      term?.abort();
      await Promise.all(parts.map((p) => p.idle?.()));
      await election.stop();
    },
  };
}

/** Calls `then` once `ready()` holds, unless `signal` aborts first. */
function whenReady(ready: () => boolean, signal: AbortSignal, logger: Logger, then: () => void): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => clearTimeout(timer);
  const check = () => {
    timer = undefined;
    if (signal.aborted) return;
    if (ready()) {
      signal.removeEventListener("abort", cancel);
      then();
      return;
    }
    timer = setTimeout(check, READY_POLL_MS);
  };
  if (!ready()) logger.info({}, "leader: waiting for the world cache to list before starting");
  signal.addEventListener("abort", cancel, { once: true });
  check();
}
