// An HTTP double of the Instaclustr Cassandra sidecar ("Icarus") for tests and the CLI (DESIGN.md "Real
// components, and what stands in for them here": no Icarus can be built or run here). Built from
// reference/sidecar.md, which describes what the server does — quirks included — rather than its swagger.
//
// WHAT IT MODELS (one node's sidecar):
// - plain HTTP on 127.0.0.1 (port 0); CORS headers on every answer (sidecar-common JerseyHttpServerModule);
// - POST /operations: a JSON body polymorphic on `type` (the types registered by the configured version: `list`
//   from icarus 2.0.1, `remove-backup` from 2.0.2, sidecar.md §1.5); synchronous refusals answer HTTP 500 with a
//   plain-text body, as Jersey's catch-all mapper most likely does (§6.2): malformed JSON, a missing or unknown
//   `type`, a wrong JSON type where Jackson would fail (integers, booleans — with Jackson's string coercion —,
//   the `bandwidth`/`olderThan` objects and their enums, `metadataDirective`, a restore `schemaVersion` that is
//   not a UUID, any `duration` on 1.x where `Time` has no JSON creator (§2.1 ⚠1; `acceptDuration` to lift it)), a
//   non-JSON content type (500 "HTTP 415 Unsupported Media Type"). Otherwise 201, an absolute
//   `Location: http://<Host header>/operations/<uuid>`, and the operation JSON: id, type, creationTime, state
//   PENDING, errors [], progress 0.0, and every request field echoed with the server's defaults
//   (concurrentConnections 10, metadataDirective COPY, cassandraDirectory /var/lib/cassandra, timeout 5, retry
//   {…}, cassandraConfigDirectory /etc/cassandra, restorationStrategyType IN_PLACE, import.sourceDir as a
//   file:// URI, …); unknown top-level fields are ignored (not echoed), as @JsonIgnoreProperties does;
// - backups: snapshotTag (default `autosnap-<epochSeconds>`) rewritten to `<tag>-<schemaVersion>-<epochMillis>`
//   and `schemaVersion` filled at submission;
// - states PENDING → RUNNING (startTime) → COMPLETED | FAILED | CANCELLED (completionTime, progress 1.0 also on
//   failure); the checks esop runs at the start of `run0` turn the operation FAILED with
//   errors [{source: <hostname>, message}] and the real messages (§2.2, §3.1, §3.5, §6.1): storage location
//   format and provider, `snapshotTag can not be blank!`, restore strategy/phase/import/rename rules, mixed
//   entities, a cassandraDirectory that does not exist (only `cassandraDirectories` exist), remove-backup's
//   "exactly one of" rules, and a global restore while another restore runs;
// - a pool of `threads` (10) operations: more stay PENDING until one ends;
// - GET /operations newest first, filters `type` and `state` (repeatable, state upper-cased); an unknown state or
//   type is 400 on sidecar-common 1.x (icarus < 3), an empty match on 3.x; GET /operations/{id}; an unknown,
//   expired or non-UUID id → 500 "HTTP 404 Not Found" (or a real 404 with `unknownIdStatus: 404`); DELETE
//   /operations/{id} → 202 and the `shouldCancel` flag (the operation ends CANCELLED at its next step) / 404;
//   terminal operations disappear `expirationMs` (1 h) after their completionTime (`now` is injectable);
//   GET /version and /version/sidecar {version, buildTime, gitCommit}; GET /status {"nodeState":"NORMAL"};
//   unmatched paths → 500 "HTTP 404 Not Found", wrong methods → 500 "HTTP 405 Method Not Allowed".
// - Progress is driven by the test: mode "auto" moves an operation one step per GET of it (list GETs do not
//   count) and completes it at the `autoAfterGets`-th (default 2: RUNNING 0.5, then COMPLETED); mode "hold" moves
//   it only on `advance(id)`. `script(steps)` gives the next operation (of a type) its own steps; `complete`,
//   `fail`, `setProgress`, `start` act at once.
// - Faults: `failNext` (any status and body, also a 200 with a body of the test's choosing), `slowNext`,
//   `hangNext` (never answers), `loseNext` (carries the request out, then cuts the connection: a submit whose
//   answer is lost), `refuse(true)` (the port is closed: connection refused; `refuse(false)` reopens it),
//   `failHalfway` (RUNNING at 0.5, then FAILED with "Unable to upload some files successfully: …").
// - `version` is served verbatim. The real server builds it from its jar manifest as "<title> <version>"
//   (instaclustr-commons JarManifestVersionProvider), e.g. "cassandra-sidecar 1.1.0", or "<title> development
//   build" without one; pass such strings to test a client's reading of them.
//
// WHAT IT DOES NOT MODEL: Cassandra, JMX, storage and credentials (no bucket, no secret is read: a backup of a
// well-formed request always succeeds unless a test says otherwise), the global coordinator's fan-out to other
// nodes and its child operations (so no per-node errors, no aggregated progress), restore phases after INIT,
// `list` results (`toRequest`/`response`), what a cancelled operation leaves behind, the exact text of
// Jackson's messages for synchronous refusals (ours are close, not verbatim: §6.2 is code-derived itself),
// Bean-Validation 400s (none apply to backup/restore), whether Jersey sends those 500s as text/plain (here) or
// application/json, `truncate`, keep-alive, HTTP/2, TLS, and request bodies over 4 MiB (refused with a 500).

import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Socket } from "node:net";
import { isRecord } from "../../src/core/world-build.ts";
import type { Operation, OperationError, OperationState } from "../../src/runner/model.ts";

export type Step =
  | { readonly state: "RUNNING"; readonly progress?: number }
  | { readonly state: "COMPLETED" }
  | { readonly state: "FAILED"; readonly errors?: string | readonly (string | OperationError)[] }
  | { readonly state: "CANCELLED" };

export interface RequestMatch {
  readonly method?: string;
  /** Matched against the path with its query. */
  readonly path?: string | RegExp;
}

export interface RecordedRequest {
  readonly method: string;
  /** Path with query string. */
  readonly path: string;
  /** Parsed JSON when it was JSON, else the text (undefined without a body). */
  readonly body: unknown;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
}

export interface SidecarDoubleOptions {
  /** errors[].source (the sidecar's `InetAddress.getLocalHost().getHostName()`). */
  readonly hostname?: string;
  /** GET /version's `version`, verbatim; also decides the operation types. Default "1.1.0" (CassKop's icarus). */
  readonly version?: string;
  readonly buildTime?: string;
  readonly gitCommit?: string;
  /** Milliseconds since the epoch; drives timestamps, snapshotTag suffixes and expiry. */
  readonly now?: () => number;
  readonly mode?: "auto" | "hold";
  /** Auto mode: the GET that completes an operation (default 2). */
  readonly autoAfterGets?: number;
  /** Operations running at once (instaclustr-commons executor, default 10). */
  readonly threads?: number;
  /** Terminal operations are dropped this long after completionTime (default 1 h, `--operations-expiration`). */
  readonly expirationMs?: number;
  /** The Cassandra schema version a backup records (default the one in icarus' README). */
  readonly schemaVersion?: string;
  /** Directories that exist on the sidecar's file system (default ["/var/lib/cassandra"]). */
  readonly cassandraDirectories?: readonly string[];
  /** Accept a `duration` (icarus 1.x most likely refuses any, sidecar.md §2.1 ⚠1). Default: only on ≥ 2.0. */
  readonly acceptDuration?: boolean;
  /** The status of GET /operations/{unknown id}: 500 "HTTP 404 Not Found" (the server's code) or a real 404. */
  readonly unknownIdStatus?: 404 | 500;
}

export interface SidecarDouble {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly hostname: string;
  /** Every request received, in order (also those answered by a fault). */
  readonly requests: RecordedRequest[];
  /** Current operations as the client model reads them, oldest first (expired ones are gone). */
  operations(): Operation[];
  operation(id: string): Operation | undefined;
  setMode(mode: "auto" | "hold", autoAfterGets?: number): void;
  /** The next `n` matching requests are answered `status` with `body` (text, or JSON when not a string). */
  failNext(
    n: number,
    status: number,
    body?: unknown,
    o?: { headers?: Record<string, string>; match?: RequestMatch },
  ): void;
  /** The next `n` matching requests are answered after `ms` real milliseconds. */
  slowNext(n: number, ms: number, match?: RequestMatch): void;
  /** The next `n` matching requests are never answered (until `close`). */
  hangNext(n: number, match?: RequestMatch): void;
  /** The next `n` matching requests are carried out, then the connection is cut without an answer. */
  loseNext(n: number, match?: RequestMatch): void;
  /** Close (true) or reopen (false) the listening port: clients get ECONNREFUSED meanwhile. */
  refuse(on: boolean): Promise<void>;
  /** The next submitted operation (of `type` when given) goes through `steps`, one per step, then stays. */
  script(steps: readonly Step[], type?: string): void;
  /** Scripts the next operation to reach RUNNING at 0.5, then FAIL with an upload error (cscetbon/casskop#128). */
  failHalfway(type?: string, message?: string): void;
  /** One step of operation `id` (its script's next step, or the default progression; `step` overrides). */
  advance(id: string, step?: Step): Operation;
  /** PENDING → RUNNING now (the start checks may fail it). */
  start(id: string): Operation;
  setProgress(id: string, progress: number): Operation;
  complete(id: string): Operation;
  fail(id: string, errors?: string | readonly (string | OperationError)[]): Operation;
  /** Drop operation `id` as the expiry would. */
  expire(id: string): void;
  close(): Promise<void>;
}

const DEFAULT_SCHEMA_VERSION = "6f5e9841-4f97-3198-9398-161b445b3954";
const STATES: readonly OperationState[] = ["PENDING", "RUNNING", "COMPLETED", "CANCELLED", "FAILED"];
const TERMINAL = new Set<string>(["COMPLETED", "FAILED", "CANCELLED"]);
const PROVIDERS = ["s3", "azure", "gcp", "file", "oracle", "minio", "ceph"];
const BASE_TYPES = [
  "backup",
  "commitlog-backup",
  "restore",
  "commitlog-restore",
  "import",
  "cleanup",
  "decommission",
  "drain",
  "flush",
  "rebuild",
  "refresh",
  "restart",
  "scrub",
  "upgradesstables",
  "stop",
];
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const MAX_BODY = 4 * 1024 * 1024;
const RETRY_DEFAULT = { interval: 10, strategy: "LINEAR", maxAttempts: 3, enabled: false };

interface Op {
  readonly id: string;
  readonly type: string;
  readonly creationTime: number;
  state: OperationState;
  progress: number;
  startTime?: number;
  completionTime?: number;
  errors: OperationError[];
  readonly echo: Record<string, unknown>;
  readonly script: Step[] | undefined;
  ticks: number;
  shouldCancel: boolean;
}

interface Fault {
  n: number;
  readonly match: RequestMatch | undefined;
  readonly kind:
    | {
        readonly t: "fail";
        readonly status: number;
        readonly body: unknown;
        readonly headers: Record<string, string>;
      }
    | { readonly t: "slow"; readonly ms: number }
    | { readonly t: "hang" }
    | { readonly t: "lose" };
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A synchronous refusal: Jackson's exception message through the catch-all mapper (HTTP 500, text). */
class Refusal extends Error {}

export async function startSidecarDouble(opts: SidecarDoubleOptions = {}): Promise<SidecarDouble> {
  const hostname = opts.hostname ?? "cassandra-dc1-rack1-0";
  const version = opts.version ?? "1.1.0";
  const v = versionOf(version);
  const now = opts.now ?? (() => Date.now());
  let mode = opts.mode ?? "auto";
  let autoAfterGets = Math.max(1, opts.autoAfterGets ?? 2);
  const threads = opts.threads ?? 10;
  const expirationMs = opts.expirationMs ?? 3_600_000;
  const schemaVersion = opts.schemaVersion ?? DEFAULT_SCHEMA_VERSION;
  const directories = new Set(opts.cassandraDirectories ?? ["/var/lib/cassandra"]);
  const acceptDuration = opts.acceptDuration ?? atLeast(v, 2, 0, 0);
  const unknownIdStatus = opts.unknownIdStatus ?? 500;
  const commons1x = !atLeast(v, 3, 0, 0);
  const types = [
    ...BASE_TYPES,
    ...(atLeast(v, 2, 0, 1) ? ["list"] : []),
    ...(atLeast(v, 2, 0, 2) ? ["remove-backup"] : []),
  ];

  const ops = new Map<string, Op>();
  const requests: RecordedRequest[] = [];
  let faults: Fault[] = [];
  const scripts: { steps: Step[]; type: string | undefined }[] = [];
  const sockets = new Set<Socket>();
  const hung = new Set<http.ServerResponse>();
  const slowTimers = new Set<NodeJS.Timeout>();

  const iso = (ms: number) => new Date(ms).toISOString();

  function sweep(): void {
    const cut = now() - expirationMs;
    for (const [id, op] of ops) {
      if (TERMINAL.has(op.state) && op.completionTime !== undefined && op.completionTime < cut)
        ops.delete(id);
    }
  }

  function json(op: Op): Record<string, unknown> {
    return {
      type: op.type,
      id: op.id,
      creationTime: iso(op.creationTime),
      state: op.state,
      errors: op.errors.map((e) => ({ ...e })),
      progress: op.progress,
      ...(op.startTime === undefined ? {} : { startTime: iso(op.startTime) }),
      ...structuredClone(op.echo),
      ...(op.completionTime === undefined ? {} : { completionTime: iso(op.completionTime) }),
    };
  }

  function model(op: Op): Operation {
    const raw = json(op);
    return {
      id: op.id,
      type: op.type,
      state: op.state,
      progress: op.progress,
      creationTime: iso(op.creationTime),
      ...(op.startTime === undefined ? {} : { startTime: iso(op.startTime) }),
      ...(op.completionTime === undefined ? {} : { completionTime: iso(op.completionTime) }),
      errors: op.errors.map((e) => ({ ...e })),
      ...(typeof op.echo.snapshotTag === "string" ? { snapshotTag: op.echo.snapshotTag } : {}),
      raw,
    };
  }

  const running = () => [...ops.values()].filter((o) => o.state === "RUNNING");

  function finish(op: Op, state: "COMPLETED" | "FAILED" | "CANCELLED", errors: OperationError[] = []): void {
    if (op.startTime === undefined) op.startTime = now();
    op.state = state;
    op.progress = 1;
    op.completionTime = now();
    op.errors.push(...errors);
  }

  /** PENDING → RUNNING, then esop's checks at the start of run0. False when no thread is free. */
  function begin(op: Op): boolean {
    if (op.state !== "PENDING") return true;
    if (running().length >= threads) return false;
    const problems = startChecks(op);
    op.state = "RUNNING";
    op.startTime = now();
    if (problems.length > 0) {
      finish(
        op,
        "FAILED",
        problems.map((message) => ({ source: hostname, message })),
      );
    }
    return true;
  }

  function toErrors(
    e: string | readonly (string | OperationError)[] | undefined,
    fallback: string,
  ): OperationError[] {
    const list = e === undefined ? [fallback] : typeof e === "string" ? [e] : e;
    return list.map((x) => (typeof x === "string" ? { source: hostname, message: x } : { ...x }));
  }

  function apply(op: Op, step: Step): void {
    if (TERMINAL.has(op.state)) return;
    if (!begin(op) || TERMINAL.has(op.state)) return;
    switch (step.state) {
      case "RUNNING":
        if (step.progress !== undefined) op.progress = Math.min(1, Math.max(0, step.progress));
        break;
      case "COMPLETED":
        finish(op, "COMPLETED");
        break;
      case "FAILED":
        finish(op, "FAILED", toErrors(step.errors, "operation failed"));
        break;
      case "CANCELLED":
        finish(op, "CANCELLED");
        break;
    }
  }

  /** One step: a pending cancel, the script's next step, or the default progression. */
  function tick(op: Op, override?: Step): void {
    if (TERMINAL.has(op.state)) return;
    if (op.shouldCancel) {
      finish(op, "CANCELLED");
      return;
    }
    if (op.state === "PENDING" && running().length >= threads) return; // still queued
    let step = override;
    if (step === undefined && op.script !== undefined) step = op.script.shift();
    if (step === undefined && op.script === undefined) {
      op.ticks += 1;
      step =
        op.ticks >= autoAfterGets
          ? { state: "COMPLETED" }
          : { state: "RUNNING", progress: op.ticks / autoAfterGets };
    }
    if (step === undefined) {
      begin(op); // a finished script leaves the operation where it is, but started
      return;
    }
    apply(op, step);
  }

  function find(id: string): Op {
    sweep();
    const op = ops.get(id);
    if (op === undefined) throw new Error(`sidecar double: no operation ${id}`);
    return op;
  }

  // ---- start checks (esop validate() at the start of run0; asynchronous failures) -------------------------

  function startChecks(op: Op): string[] {
    const e = op.echo;
    const problems: string[] = [];
    if (op.type === "backup" || op.type === "restore" || op.type === "remove-backup") {
      const loc = storageLocationProblem(e.storageLocation, e.globalRequest === true);
      if (loc !== undefined) return [loc];
    }
    if (op.type === "backup") {
      const dir = e.cassandraDirectory;
      if (typeof dir === "string" && !directories.has(dir))
        problems.push(`cassandraDirectory ${dir} does not exist`);
      if (mixedEntities(e.entities)) {
        problems.push("Entities might be either set only as keyspaces or only as keyspaces with tables!");
      }
    } else if (op.type === "restore") {
      const p = restoreProblem(op);
      if (p !== undefined) return [p];
    } else if (op.type === "remove-backup") {
      const p = removeProblem(e);
      if (p !== undefined) return [p];
    }
    return problems;
  }

  function storageLocationProblem(loc: unknown, global: boolean): string | undefined {
    if (typeof loc !== "string" || loc === "") return "storageLocation has to be specified!";
    const s = loc.replace(/\/+$/, "");
    const m = /^(.*?):\/\/(.*)$/.exec(s);
    const protocol = m?.[1] ?? "";
    if (m === null || !PROVIDERS.includes(protocol)) {
      return `Available storage providers: [${PROVIDERS.join(", ")}]`;
    }
    const rest = m[2] ?? "";
    if (protocol === "file") {
      // file:///some/path/<bucket>/<cluster>/<dc>/<node>: no bucket-only form (§2.2).
      if (!/^\/.+\/[^/]+\/[^/]+\/[^/]+\/[^/]+$/.test(rest)) {
        return `Invalid storage location: Storage location ${loc} is not in form file:///some/backup/path/clusterId/datacenterId/nodeId`;
      }
      return undefined;
    }
    const parts = rest.split("/");
    if (parts.some((p) => p === "")) {
      return global
        ? `Invalid storage location: Global storage location ${loc} is not in form protocol://bucketName`
        : `Invalid storage location: Storage location ${loc} is not in form protocol://bucketName/clusterId/datacenterid/nodeId`;
    }
    if (parts.length === 4 || (global && parts.length === 1)) return undefined;
    return global
      ? `Invalid storage location: Global storage location ${loc} is not in form protocol://bucketName`
      : `Invalid storage location: Storage location ${loc} is not in form protocol://bucketName/clusterId/datacenterid/nodeId`;
  }

  function restoreProblem(op: Op): string | undefined {
    const e = op.echo;
    if (typeof e.snapshotTag !== "string" || e.snapshotTag.trim() === "")
      return "snapshotTag can not be blank!";
    const strategy = e.restorationStrategyType;
    const phase = e.restorationPhase;
    if (strategy === "UNKNOWN") return "restorationStrategyType is not recognized";
    if (strategy === "IN_PLACE") {
      if (phase !== undefined && phase !== "UNKNOWN") {
        return `you can not set / use any restoration phases (you used ${String(phase)}) when your restorationStrategyType is IN_PLACE`;
      }
      if (isRecord(e.rename) && Object.keys(e.rename).length > 0) {
        return "rename field can not be used for in-place strategy, only for import or hardlinks";
      }
    } else {
      if (phase === undefined || phase === "UNKNOWN") {
        return "restorationPhase is not recognized, it has to be set when you use IMPORT or HARDLINKS strategy type";
      }
      if (!isRecord(e.import)) {
        return `you can not specify ${String(strategy)} restorationStrategyType and have 'import' field empty!`;
      }
    }
    if (e.globalRequest === true && e.singlePhase !== true && phase !== "INIT" && strategy !== "IN_PLACE") {
      return "If global request is true and singlePhase is false, restorationPhase has to be INIT";
    }
    const dir = e.cassandraDirectory;
    if (typeof dir === "string" && !directories.has(dir)) return `cassandraDirectory ${dir} does not exist`;
    if (mixedEntities(e.entities)) {
      return "Entities might be either set only as keyspaces or only as keyspaces with tables!";
    }
    // icarus IcarusRestoreOperationCoordinator: a global restore must be the only running restore on the node.
    const others = running().filter((o) => o.type === "restore" && o.id !== op.id);
    if (e.globalRequest === true && others.length > 0)
      return "There is more than one running restoration operation.";
    if (e.globalRequest !== true && others.length > 2) {
      return "There are more than two concurrent restore operations running!";
    }
    return undefined;
  }

  function removeProblem(e: Record<string, unknown>): string | undefined {
    const older = isRecord(e.olderThan) && typeof e.olderThan.value === "number" ? e.olderThan.value : 0;
    const name = typeof e.backupName === "string" ? e.backupName : undefined;
    if (e.removeOldest === true) {
      if (name !== undefined) {
        return "You have specified you want to remove the oldest backup but you specified backupName too!";
      }
      if (older !== 0)
        return "You have specified you want to remove the oldest backup but you specified olderThan too!";
    } else if (name !== undefined) {
      if (older !== 0) {
        return `You have specified you want to remove backup ${name} but you specified olderThan too!`;
      }
    } else if (older === 0) {
      return "You have not specified you want to remove any specific backup but you have not specified olderThan either!";
    }
    return undefined;
  }

  // ---- submission (Jackson + the request classes' constructors: synchronous) ---------------------------------

  function submit(body: unknown): Op {
    if (!isRecord(body)) {
      throw new Refusal(
        "Cannot deserialize instance of `com.instaclustr.operations.OperationRequest` out of " +
          `${Array.isArray(body) ? "START_ARRAY" : "VALUE"} token`,
      );
    }
    const type = body.type;
    if (type === undefined || type === null) {
      throw new Refusal(
        "Missing type id when trying to resolve subtype of [simple type, class " +
          "com.instaclustr.operations.OperationRequest]: missing type id property 'type'",
      );
    }
    if (typeof type !== "string" || !types.includes(type)) {
      throw new Refusal(
        `Could not resolve type id '${String(type)}' as a subtype of [simple type, class ` +
          `com.instaclustr.operations.OperationRequest]: known type ids = [${[...types].sort().join(", ")}]`,
      );
    }
    const echo =
      type === "backup"
        ? backupEcho(body)
        : type === "restore"
          ? restoreEcho(body)
          : type === "remove-backup"
            ? removeEcho(body)
            : otherEcho(body);
    const scriptIndex = scripts.findIndex((s) => s.type === undefined || s.type === type);
    const script = scriptIndex >= 0 ? scripts.splice(scriptIndex, 1)[0]?.steps : undefined;
    const op: Op = {
      id: randomUUID(),
      type,
      creationTime: now(),
      state: "PENDING",
      progress: 0,
      errors: [],
      echo,
      script: script === undefined ? undefined : [...script],
      ticks: 0,
      shouldCancel: false,
    };
    ops.set(op.id, op);
    return op;
  }

  function common(b: Record<string, unknown>): Record<string, unknown> {
    return {
      storageLocation:
        b.storageLocation === undefined || b.storageLocation === null ? undefined : str(b, "storageLocation"),
      k8sNamespace: optStr(b, "k8sNamespace"),
      k8sSecretName: optStr(b, "k8sSecretName"),
      insecure: bool(b, "insecure"),
      skipBucketVerification: bool(b, "skipBucketVerification"),
    };
  }

  function backupEcho(b: Record<string, unknown>): Record<string, unknown> {
    if (b.duration !== undefined && b.duration !== null) {
      if (!acceptDuration) {
        throw new Refusal(
          "Cannot construct instance of `com.instaclustr.measure.Time` (no Creators, like default constructor, " +
            "exist): cannot deserialize from Object value (no delegate- or property-based Creator)",
        );
      }
      timeObject(b.duration, "duration");
    }
    const tag = optStr(b, "snapshotTag") ?? `autosnap-${Math.floor(now() / 1000)}`;
    const entities = optStr(b, "entities") ?? "";
    const c = common(b);
    const cassandraDirectory = optStr(b, "cassandraDirectory");
    return clean({
      storageLocation: c.storageLocation,
      duration: b.duration ?? undefined,
      bandwidth: b.bandwidth === undefined || b.bandwidth === null ? undefined : dataRate(b.bandwidth),
      concurrentConnections: int(b, "concurrentConnections") ?? 10,
      metadataDirective: metadataDirective(b.metadataDirective),
      cassandraDirectory:
        cassandraDirectory === undefined || cassandraDirectory === "/"
          ? "/var/lib/cassandra"
          : cassandraDirectory,
      entities,
      // BaseBackupOperationCoordinator.resolveSnapshotTag: "%s-%s-%s" of tag, schema version, timestamp.
      snapshotTag: `${tag}-${schemaVersion}-${now()}`,
      k8sNamespace: c.k8sNamespace,
      k8sSecretName: c.k8sSecretName,
      globalRequest: bool(b, "globalRequest"),
      dc: optStr(b, "dc"),
      timeout: Math.max(1, int(b, "timeout") ?? 5),
      insecure: c.insecure,
      createMissingBucket: bool(b, "createMissingBucket"),
      skipBucketVerification: c.skipBucketVerification,
      schemaVersion,
      uploadClusterTopology: bool(b, "uploadClusterTopology"),
      proxySettings: isRecord(b.proxySettings) ? b.proxySettings : undefined,
      retry: retry(b.retry),
    });
  }

  function restoreEcho(b: Record<string, unknown>): Record<string, unknown> {
    const schema = optStr(b, "schemaVersion");
    if (schema !== undefined && !UUID.test(schema)) {
      throw new Refusal(
        `Cannot deserialize value of type \`java.util.UUID\` from String "${schema}": UUID has to be represented ` +
          "by standard 36-char representation",
      );
    }
    const c = common(b);
    const strategy = enumOf(b.restorationStrategyType, ["IN_PLACE", "HARDLINKS", "IMPORT"], "IN_PLACE");
    const phase =
      b.restorationPhase === undefined || b.restorationPhase === null
        ? undefined
        : enumOf(b.restorationPhase, [
            "INIT",
            "CLUSTER_HEALTHCHECK",
            "DOWNLOAD",
            "TRUNCATE",
            "IMPORT",
            "CLEANUP",
          ]);
    let imp: Record<string, unknown> | undefined;
    if (isRecord(b.import)) {
      const sourceDir = optStr(b.import, "sourceDir") ?? "/tmp/cassandra-import-source";
      imp = {
        type: "import",
        keyspace: optStr(b.import, "keyspace"),
        table: optStr(b.import, "table"),
        keepLevel: bool(b.import, "keepLevel"),
        noVerify: bool(b.import, "noVerify"),
        noVerifyTokens: bool(b.import, "noVerifyTokens"),
        noInvalidateCaches: bool(b.import, "noInvalidateCaches"),
        quick: bool(b.import, "quick"),
        extendedVerify: bool(b.import, "extendedVerify"),
        keepRepaired: false,
        // Jackson's NioPathSerializer writes a path as a URI (sidecar.md §3.1, code-derived).
        sourceDir: `file://${sourceDir.startsWith("/") ? "" : "/"}${sourceDir}`,
      };
    } else if (b.import !== undefined && b.import !== null) {
      throw new Refusal("Cannot deserialize instance of `ImportOperationRequest` out of VALUE token");
    }
    const rename = b.rename === undefined || b.rename === null ? {} : b.rename;
    if (!isRecord(rename))
      throw new Refusal("Cannot deserialize instance of `java.util.HashMap` out of VALUE token");
    return clean({
      storageLocation: c.storageLocation,
      concurrentConnections: int(b, "concurrentConnections") ?? 10,
      cassandraDirectory: optStr(b, "cassandraDirectory") ?? "/var/lib/cassandra",
      cassandraConfigDirectory: optStr(b, "cassandraConfigDirectory") ?? "/etc/cassandra",
      restoreSystemKeyspace: bool(b, "restoreSystemKeyspace"),
      snapshotTag: optStr(b, "snapshotTag"),
      entities: optStr(b, "entities") ?? "",
      updateCassandraYaml: bool(b, "updateCassandraYaml"),
      restorationStrategyType: strategy,
      restorationPhase: phase,
      import: imp === undefined ? undefined : clean(imp),
      noDeleteTruncates: bool(b, "noDeleteTruncates"),
      noDeleteDownloads: bool(b, "noDeleteDownloads"),
      noDownloadData: bool(b, "noDownloadData"),
      exactSchemaVersion: bool(b, "exactSchemaVersion"),
      schemaVersion: schema,
      k8sNamespace: c.k8sNamespace,
      k8sSecretName: c.k8sSecretName,
      globalRequest: bool(b, "globalRequest"),
      dc: optStr(b, "dc"),
      timeout: Math.max(1, int(b, "timeout") ?? 5),
      resolveHostIdFromTopology: bool(b, "resolveHostIdFromTopology"),
      insecure: c.insecure,
      skipBucketVerification: c.skipBucketVerification,
      newCluster: bool(b, "newCluster"),
      rename,
      singlePhase: bool(b, "singlePhase"),
      retry: retry(b.retry),
    });
  }

  function removeEcho(b: Record<string, unknown>): Record<string, unknown> {
    const c = common(b);
    return clean({
      storageLocation: c.storageLocation,
      k8sNamespace: c.k8sNamespace,
      k8sSecretName: c.k8sSecretName,
      insecure: c.insecure,
      skipBucketVerification: c.skipBucketVerification,
      retry: retry(b.retry),
      backupName: optStr(b, "backupName"),
      dry: bool(b, "dry"),
      resolveNodes: bool(b, "resolveNodes"),
      olderThan:
        b.olderThan === undefined || b.olderThan === null
          ? { value: 0, unit: "SECONDS" }
          : timeObject(b.olderThan, "olderThan"),
      removeOldest: bool(b, "removeOldest"),
      concurrentConnections: int(b, "concurrentConnections"),
      globalRequest: bool(b, "globalRequest"),
    });
  }

  /** Other types (nodetool-like operations): the request as sent, without the operation's own fields. */
  function otherEcho(b: Record<string, unknown>): Record<string, unknown> {
    const own = new Set([
      "type",
      "id",
      "state",
      "progress",
      "errors",
      "creationTime",
      "startTime",
      "completionTime",
    ]);
    return structuredClone(Object.fromEntries(Object.entries(b).filter(([k]) => !own.has(k))));
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------------

  function route(method: string, url: URL, rawBody: string, contentType: string | undefined): Answer {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    if (path === "/operations") {
      if (method === "POST") {
        if (!/^application\/json\b/i.test(contentType ?? "")) {
          return { status: 500, body: "HTTP 415 Unsupported Media Type" };
        }
        let parsed: unknown;
        try {
          parsed = JSON.parse(rawBody);
        } catch (e) {
          return { status: 500, body: `Unexpected character in JSON input: ${(e as Error).message}` };
        }
        try {
          const op = submit(parsed);
          return { status: 201, body: json(op), headers: { location: "" /* filled by the caller */ } };
        } catch (e) {
          if (e instanceof Refusal) return { status: 500, body: e.message };
          throw e;
        }
      }
      if (method === "GET") return list(url.searchParams);
      return { status: 500, body: "HTTP 405 Method Not Allowed" };
    }
    const m = /^\/operations\/([^/]+)$/.exec(path);
    if (m !== null) {
      const id = decodeURIComponent(m[1] ?? "");
      const op = UUID.test(id) ? ops.get(id.toLowerCase()) : undefined;
      if (method === "GET") {
        if (op === undefined) {
          return unknownIdStatus === 404 ? { status: 404 } : { status: 500, body: "HTTP 404 Not Found" };
        }
        if (mode === "auto") tick(op);
        return { status: 200, body: json(op) };
      }
      if (method === "DELETE") {
        if (op === undefined) return { status: 404 };
        if (!TERMINAL.has(op.state)) op.shouldCancel = true;
        return { status: 202 };
      }
      return { status: 500, body: "HTTP 405 Method Not Allowed" };
    }
    if (path === "/version" || path === "/version/sidecar") {
      if (method !== "GET") return { status: 500, body: "HTTP 405 Method Not Allowed" };
      return {
        status: 200,
        body: { version, buildTime: opts.buildTime ?? "unknown", gitCommit: opts.gitCommit ?? "unknown" },
      };
    }
    if (path === "/status" && method === "GET") return { status: 200, body: { nodeState: "NORMAL" } };
    return { status: 500, body: "HTTP 404 Not Found" };
  }

  function list(q: URLSearchParams): Answer {
    const typeFilter = q.getAll("type");
    const stateFilter = q.getAll("state").map((s) => s.toUpperCase());
    if (commons1x) {
      if (typeFilter.some((t) => !types.includes(t))) return { status: 400 };
      const bad = stateFilter.find((s) => !(STATES as readonly string[]).includes(s));
      if (bad !== undefined) {
        return {
          status: 400,
          body: [
            {
              message: `Operation state is invalid, possible states: [${STATES.join(", ")}]`,
              messageTemplate: "Operation state is invalid, possible states: {states}",
              path: "OperationsResource.getOperations.arg1",
              invalidValue: bad,
            },
          ],
        };
      }
    }
    const out = [...ops.values()]
      .filter((o) => typeFilter.length === 0 || typeFilter.includes(o.type))
      .filter((o) => stateFilter.length === 0 || stateFilter.includes(o.state))
      .reverse()
      .map(json);
    return { status: 200, body: out };
  }

  function takeFault(method: string, path: string): Fault["kind"] | undefined {
    const f = faults.find((x) => matches(x.match, method, path));
    if (f === undefined) return undefined;
    f.n -= 1;
    if (f.n <= 0) faults = faults.filter((x) => x !== f);
    return f.kind;
  }

  function send(res: http.ServerResponse, a: Answer, host: string | undefined): void {
    const headers: Record<string, string> = {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "origin, content-type, accept, authorization",
      "access-control-allow-credentials": "true",
      "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS, HEAD",
    };
    let text = "";
    if (a.body !== undefined) {
      text = typeof a.body === "string" ? a.body : JSON.stringify(a.body);
      headers["content-type"] = typeof a.body === "string" ? "text/plain" : "application/json";
    }
    for (const [k, val] of Object.entries(a.headers ?? {})) {
      if (k === "location" && val === "" && isRecord(a.body)) {
        headers.location = `http://${host ?? `127.0.0.1:${port}`}/operations/${String(a.body.id)}`;
      } else headers[k.toLowerCase()] = val;
    }
    headers["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(a.status, headers);
    res.end(text);
  }

  function handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", () => {
      const method = req.method ?? "GET";
      const rawPath = req.url ?? "/";
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown;
      if (text !== "") {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      requests.push({
        method,
        path: rawPath,
        body,
        contentType: req.headers["content-type"],
        accept: req.headers.accept,
      });
      sweep();
      const fault = takeFault(method, rawPath);
      const normal = (): Answer => {
        if (tooBig) return { status: 500, body: "request entity too large" };
        return route(method, new URL(rawPath, "http://sidecar"), text, req.headers["content-type"]);
      };
      if (fault?.t === "hang") {
        hung.add(res);
        res.on("close", () => hung.delete(res));
        return;
      }
      if (fault?.t === "fail") {
        send(res, { status: fault.status, body: fault.body, headers: fault.headers }, req.headers.host);
        return;
      }
      if (fault?.t === "lose") {
        normal();
        req.socket.destroy();
        return;
      }
      if (fault?.t === "slow") {
        const t = setTimeout(() => {
          slowTimers.delete(t);
          if (!res.destroyed) send(res, normal(), req.headers.host);
        }, fault.ms);
        slowTimers.add(t);
        return;
      }
      send(res, normal(), req.headers.host);
    });
  }

  const server = http.createServer(handle);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("sidecar double: no port");
  const port = address.port;
  let listening = true;

  async function stopListening(): Promise<void> {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  }

  const addFault = (n: number, match: RequestMatch | undefined, kind: Fault["kind"]) => {
    if (n > 0) faults.push({ n, match, kind });
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hostname,
    requests,
    operations() {
      sweep();
      return [...ops.values()].map(model);
    },
    operation(id) {
      sweep();
      const op = ops.get(id);
      return op === undefined ? undefined : model(op);
    },
    setMode(m, n) {
      mode = m;
      if (n !== undefined) autoAfterGets = Math.max(1, n);
    },
    failNext(n, status, body, o) {
      addFault(n, o?.match, { t: "fail", status, body, headers: o?.headers ?? {} });
    },
    slowNext(n, ms, match) {
      addFault(n, match, { t: "slow", ms });
    },
    hangNext(n, match) {
      addFault(n, match, { t: "hang" });
    },
    loseNext(n, match) {
      addFault(n, match, { t: "lose" });
    },
    async refuse(on) {
      if (on) {
        await stopListening();
        return;
      }
      if (listening) return;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
      listening = true;
    },
    script(steps, type) {
      scripts.push({ steps: [...steps], type });
    },
    failHalfway(type, message) {
      scripts.push({
        type,
        steps: [
          { state: "RUNNING", progress: 0.5 },
          {
            state: "FAILED",
            errors: [
              message ??
                "Unable to upload some files successfully: data/ks1/t1-5a1c395e/mc-2-big-Data.db,data/ks1/t1-5a1c395e/mc-2-big-Index.db",
            ],
          },
        ],
      });
    },
    advance(id, step) {
      const op = find(id);
      tick(op, step);
      return model(op);
    },
    start(id) {
      const op = find(id);
      if (!begin(op)) throw new Error(`sidecar double: no free thread to start ${id}`);
      return model(op);
    },
    setProgress(id, progress) {
      const op = find(id);
      apply(op, { state: "RUNNING", progress });
      return model(op);
    },
    complete(id) {
      const op = find(id);
      if (op.state === "PENDING") op.startTime = now();
      if (!TERMINAL.has(op.state)) finish(op, "COMPLETED");
      return model(op);
    },
    fail(id, errors) {
      const op = find(id);
      if (!TERMINAL.has(op.state)) finish(op, "FAILED", toErrors(errors, "operation failed"));
      return model(op);
    },
    expire(id) {
      ops.delete(id);
    },
    async close() {
      for (const t of slowTimers) clearTimeout(t);
      slowTimers.clear();
      for (const res of hung) res.destroy();
      if (listening) await stopListening();
    },
  };
}

// ---- Jackson-ish readers: the types the request classes declare, with Jackson's coercions -------------------

function str(b: Record<string, unknown>, k: string): string {
  const x = b[k];
  if (typeof x === "string") return x;
  if (typeof x === "number" || typeof x === "boolean") return String(x);
  throw new Refusal(`Cannot deserialize value of type \`java.lang.String\` from ${kind(x)} (field "${k}")`);
}

function optStr(b: Record<string, unknown>, k: string): string | undefined {
  return b[k] === undefined || b[k] === null ? undefined : str(b, k);
}

function bool(b: Record<string, unknown>, k: string): boolean {
  const x = b[k];
  if (x === undefined || x === null) return false;
  if (typeof x === "boolean") return x;
  if (x === "true" || x === "false") return x === "true";
  if (typeof x === "number" && Number.isInteger(x)) return x !== 0;
  throw new Refusal(`Cannot deserialize value of type \`boolean\` from ${kind(x)} (field "${k}")`);
}

function int(b: Record<string, unknown>, k: string): number | undefined {
  const x = b[k];
  if (x === undefined || x === null) return undefined;
  if (typeof x === "number" && Number.isFinite(x)) return Math.trunc(x);
  if (typeof x === "string" && /^-?\d+$/.test(x.trim())) return Number(x.trim());
  throw new Refusal(`Cannot deserialize value of type \`java.lang.Integer\` from ${kind(x)} (field "${k}")`);
}

function enumOf(x: unknown, names: readonly string[], absent?: string): string {
  if (x === undefined || x === null) return absent ?? "UNKNOWN";
  if (typeof x !== "string") throw new Refusal(`Cannot deserialize enum from ${kind(x)}`);
  const up = x.toUpperCase();
  return names.includes(up) ? up : "UNKNOWN";
}

function metadataDirective(x: unknown): string {
  if (x === undefined || x === null) return "COPY";
  if (x === "COPY" || x === "REPLACE") return x;
  throw new Refusal(
    `Cannot deserialize value of type \`com.amazonaws.services.s3.model.MetadataDirective\` from ${kind(x)}: not one of the values accepted for Enum class: [COPY, REPLACE]`,
  );
}

function dataRate(x: unknown): Record<string, unknown> {
  if (!isRecord(x))
    throw new Refusal(`Cannot deserialize instance of \`com.instaclustr.measure.DataRate\` from ${kind(x)}`);
  const units = ["BPS", "KBPS", "MBPS", "GBPS"];
  if (typeof x.unit !== "string" || !units.includes(x.unit)) {
    throw new Refusal(
      `Cannot deserialize value of type \`com.instaclustr.measure.DataRate$DataRateUnit\` from ${kind(x.unit)}: not one of the values accepted for Enum class: [${units.join(", ")}]`,
    );
  }
  return { value: int(x, "value") ?? 0, unit: x.unit };
}

function timeObject(x: unknown, field: string): Record<string, unknown> {
  const units = ["NANOSECONDS", "MICROSECONDS", "MILLISECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS"];
  if (!isRecord(x) || typeof x.unit !== "string" || !units.includes(x.unit)) {
    throw new Refusal(
      `Cannot deserialize value of type \`com.instaclustr.measure.Time\` from ${kind(x)} (field "${field}")`,
    );
  }
  return { value: int(x, "value") ?? 0, unit: x.unit };
}

function retry(x: unknown): Record<string, unknown> {
  if (!isRecord(x)) return { ...RETRY_DEFAULT };
  const interval = int(x, "interval") ?? 0;
  const maxAttempts = int(x, "maxAttempts") ?? 0;
  const strategy = typeof x.strategy === "string" ? x.strategy.toUpperCase() : "";
  return {
    interval: interval < 1 ? 10 : interval,
    strategy: strategy === "EXPONENTIAL" ? "EXPONENTIAL" : "LINEAR",
    maxAttempts: maxAttempts < 1 ? 3 : maxAttempts,
    enabled: bool(x, "enabled"),
  };
}

function kind(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "Array value";
  if (typeof x === "object") return "Object value";
  return `${typeof x} value ${JSON.stringify(x)}`;
}

/** esop DatabaseEntities: keyspaces and ks.table tokens may not be mixed (`validateForRequest`). */
function mixedEntities(e: unknown): boolean {
  if (typeof e !== "string") return false;
  const tokens = e
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t !== "");
  const tables = tokens.filter((t) => t.includes("."));
  return tables.length > 0 && tables.length < tokens.length;
}

/** Jackson NON_ABSENT: absent values are not written. */
function clean(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined));
}

function matches(m: RequestMatch | undefined, method: string, path: string): boolean {
  if (m === undefined) return true;
  if (m.method !== undefined && m.method.toUpperCase() !== method) return false;
  if (m.path === undefined) return true;
  return typeof m.path === "string" ? path === m.path || path.startsWith(`${m.path}?`) : m.path.test(path);
}

function versionOf(s: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(s);
  return m === null ? undefined : [Number(m[1]), Number(m[2]), Number(m[3] ?? "0")];
}

/** Whether `v` ≥ major.minor.patch; an unreadable version is taken as the newest (everything registered). */
function atLeast(
  v: [number, number, number] | undefined,
  major: number,
  minor: number,
  patch: number,
): boolean {
  if (v === undefined) return true;
  const [a, b, c] = v;
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}
