// The admission core: (AdmissionRequest, world snapshot) → AdmissionResponse, pure and total. The HTTP
// server (src/admission/server.ts) only parses, adds the uid and records metrics; everything a user sees in
// `kubectl` is decided here. Same answer whether `dryRun` is set or not: there are no side effects to skip.
//
// Objects handled: db.orange.com CassandraBackup and CassandraRestore (any version; the schema reports one
// that is not served), casskeeper.io BackupPolicySource, and on the mutating endpoint the Instaclustr and
// Elassandra datacenter objects (src/admission/datacenter-env.ts). Any other kind is allowed with a warning,
// so a webhook rule that matches too much is noticed but never blocks anything.

import { CasskeeperError } from "../core/errors.ts";
import { validatePolicySource } from "../core/policy-source.ts";
import { formatProblem, type Problem } from "../core/problem.ts";
import {
  backupFinder,
  bucketKey,
  checkBackupAnnotations,
  parseStorageLocation,
  restoreStarted,
  validateBackup,
  validateRestore,
  validateRestoreUpdate,
  worldSnapshotTagCollisions,
} from "../core/rules/index.ts";
import { jsonEqual, nonEmpty } from "../core/rules/support.ts";
import type { StructuralValidator } from "../core/structure.ts";
import {
  ANNOTATION_PREFIX,
  type BackupPolicySource,
  CASSKEEPER_GROUP,
  CASSKOP_GROUP,
  type CassandraBackup,
  type CassandraRestore,
} from "../core/types.ts";
import { withoutShadowed } from "../core/validate-set.ts";
import { type BackupInfo, key, type WorldSnapshot } from "../core/world.ts";
import { isRecord } from "../core/world-build.ts";
import { DATACENTER_KINDS, type DatacenterKind, datacenterEnvMutations } from "./datacenter-env.ts";
import { type AddOperation, encodePatch } from "./json-patch.ts";
import { casskopMutations } from "./mutations.ts";
import type { AdmissionRequest, AdmissionResponse, AdmissionStatus } from "./review.ts";
import { collectWarnings, warningText } from "./warnings.ts";

export interface AdmissionContext {
  readonly world: WorldSnapshot;
  readonly structure: StructuralValidator;
}

export type Verdict = "allowed" | "warned" | "denied" | "errored" | "patched";

export interface AdmissionOutcome {
  /** The response without `uid` (the server adds the request's). */
  readonly response: Omit<AdmissionResponse, "uid">;
  /** For metrics, bounded: a handled kind (`CassandraBackup`, …) or `other`. */
  readonly kind: string;
  /** For metrics, bounded: CREATE, UPDATE, DELETE, CONNECT or `other`. */
  readonly operation: string;
  readonly verdict: Verdict;
  /** The error codes of a denial (deduplicated), for the denials-by-rule metric. */
  readonly codes: string[];
  /** Set when the handler failed: what to log (stage and message), never sent beyond the response. */
  readonly error?: CasskeeperError;
}

/**
 * Why 403 Forbidden and not 422 Invalid for a denial (conventions.md §1.3, §1.6): the API server itself turns a
 * webhook denial without a code into 403/Forbidden, as controller-runtime's `Denied`, Gatekeeper and Kyverno
 * answer, so clients and people see the shape they know; and kubectl prints it as
 * `Error from server (Forbidden): error when creating "f.yaml": admission webhook "…" denied the request: <ours>`.
 * With reason Invalid, kubectl's checkErr takes its field-error branch instead and prints "The request is
 * invalid: …" (or, given details without causes, "The X "n" is invalid" and drops the message), which loses
 * the webhook's name. The reason is always a real StatusReason, never free text (gatekeeper#1693).
 */
export const DENIED_CODE = 403;
export const DENIED_REASON = "Forbidden";
/** A denial lists every error; past this many characters the rest are counted, not listed. */
export const MAX_MESSAGE_LENGTH = 8192;
/** CassKop restore states during which deleting the object leaves a restore running unobserved. */
const RUNNING_RESTORE_STATES = ["REQUIRED", "PENDING", "RUNNING"];
const OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"];
/**
 * Metadata an UPDATE may change without the spec rules running again: CassKop's controllers write status (and
 * their last-applied annotation) with plain updates, as the CRDs have no status subresource (operators.md §1.2,
 * §1.9 item 15); a world that broke later (a Secret deleted) must not block those writes.
 */
const FREE_METADATA = [
  "annotations",
  "labels",
  "finalizers",
  "managedFields",
  "resourceVersion",
  "generation",
];

type Target =
  | { readonly family: "backup"; readonly kind: "CassandraBackup" }
  | { readonly family: "restore"; readonly kind: "CassandraRestore" }
  | { readonly family: "policy"; readonly kind: "BackupPolicySource" }
  | { readonly family: "datacenter"; readonly kind: string; readonly dc: DatacenterKind }
  | { readonly family: "other"; readonly kind: "other"; readonly shown: string };

/** Which stage is running, for the message of an unexpected exception. */
interface Progress {
  stage: string;
}

/** The validating endpoint: structure, rules, collisions and immutability; never a patch. Never throws. */
export function validateAdmission(request: AdmissionRequest, ctx: AdmissionContext): AdmissionOutcome {
  const progress: Progress = { stage: "read request" };
  try {
    return validate(request, ctx, progress);
  } catch (e) {
    return failed(request, progress, e, false);
  }
}

/** The mutating endpoint: fills absent fields and injects datacenter credentials; never denies. Never throws. */
export function mutateAdmission(request: AdmissionRequest, ctx: AdmissionContext): AdmissionOutcome {
  const progress: Progress = { stage: "read request" };
  try {
    return mutate(request, ctx, progress);
  } catch (e) {
    return failed(request, progress, e, true);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation

function validate(request: AdmissionRequest, ctx: AdmissionContext, progress: Progress): AdmissionOutcome {
  const target = classify(request, false);
  const operation = operationLabel(request.operation);
  const done = (response: Omit<AdmissionResponse, "uid">, codes: string[] = []) =>
    outcome(response, target, operation, codes);

  if (target.family === "other") return done(allowed([unhandled(target)]));
  if (nonEmpty(request.subResource) !== undefined) return done(allowed()); // status writes and the like
  if (operation === "DELETE") return done(allowed(deleteWarnings(target, request.oldObject)));
  if (operation !== "CREATE" && operation !== "UPDATE") return done(allowed());

  const obj = request.object;
  if (!isRecord(obj)) return done(badRequest(`request.object: a ${operation} review must carry the object`));
  const namespace = namespaceOf(request, obj);
  const old = request.oldObject;

  if (operation === "UPDATE") {
    progress.stage = "compare with oldObject";
    // Finalizer removal and the like during a deletion: nothing to judge any more.
    if (deleting(obj) || deleting(old)) return done(allowed());
    if (isRecord(old) && onlyFreeChanges(old, obj)) {
      // casskeeper's own annotations still have to make sense (they are not part of the spec rules) — the ones
      // this update changes: the runner records its bookkeeping annotations with plain updates, and a bad value
      // written before the webhook existed must not block those (it is judged when someone changes it).
      const changed = changedPrefixedAnnotations(old, obj);
      const problems =
        target.family === "backup" && changed.length > 0
          ? checkBackupAnnotations(annotationsOf(obj), scheduled(obj)).filter((p) =>
              changed.some((k) => p.path.includes(JSON.stringify(k))),
            )
          : [];
      return judged(problems, [], done);
    }
  }

  progress.stage = "structure";
  const shape = ctx.structure.validate(obj);

  progress.stage = "rules";
  const rc = { world: ctx.world, namespace };
  let found: Problem[] = [];
  if (target.family === "backup") {
    found = validateBackup(obj as CassandraBackup, rc);
    progress.stage = "snapshotTag collisions";
    found.push(
      ...worldSnapshotTagCollisions(obj as CassandraBackup, { ...rc, world: sameBucket(ctx.world, obj) }),
    );
  } else if (target.family === "restore") {
    found = validateRestore(obj as CassandraRestore, { ...rc, findBackup: backupFinder(ctx.world) });
  } else if (target.family === "policy") {
    found = validatePolicySource(obj as BackupPolicySource);
  }
  const problems = [...shape, ...withoutShadowed(found, shape)];

  if (operation === "UPDATE" && target.family === "restore" && isRecord(old)) {
    progress.stage = "restore immutability";
    problems.unshift(...validateRestoreUpdate(old as CassandraRestore, obj as CassandraRestore));
  }

  const notes: string[] = [];
  if (!ctx.world.known && (target.family === "backup" || target.family === "restore")) {
    notes.push(
      "cluster state unknown (no world): Secret, CassandraCluster and CassandraBackup checks were skipped",
    );
  }
  progress.stage = "respond";
  return judged(problems, notes, done);
}

/** Errors deny with every message; warnings (and `notes`) go to `warnings`, allowed or not. */
function judged(
  problems: readonly Problem[],
  notes: readonly string[],
  done: (response: Omit<AdmissionResponse, "uid">, codes?: string[]) => AdmissionOutcome,
): AdmissionOutcome {
  const errors = problems.filter((p) => p.severity === "error");
  const warnings = [
    ...problems.filter((p) => p.severity === "warning").map((p) => warningText(p.path, p.message)),
    ...notes,
  ];
  if (errors.length === 0) return done(allowed(warnings));
  const collected = collectWarnings(warnings);
  return done(
    {
      allowed: false,
      status: {
        status: "Failure",
        code: DENIED_CODE,
        reason: DENIED_REASON,
        message: denialMessage(errors),
      },
      ...(collected.length > 0 ? { warnings: collected } : {}),
    },
    [...new Set(errors.map((p) => p.code))],
  );
}

/** `spec.schedule: …; spec.secret: …`: every error, each once, bounded in total. */
export function denialMessage(errors: readonly Problem[]): string {
  const parts = [...new Set(errors.map(formatProblem))];
  let message = "";
  for (const [i, part] of parts.entries()) {
    const next = message === "" ? part : `${message}; ${part}`;
    if (next.length > MAX_MESSAGE_LENGTH - 40) {
      const rest = parts.length - i;
      return `${message}; … and ${rest} more error${rest === 1 ? "" : "s"}`;
    }
    message = next;
  }
  return message;
}

function deleteWarnings(target: Target, old: unknown): string[] {
  if (target.family !== "restore" || !isRecord(old)) return [];
  const status = isRecord(old.status) ? old.status : {};
  const condition = isRecord(status.condition) ? status.condition : {};
  const state = typeof condition.type === "string" ? condition.type.toUpperCase() : "";
  if (!RUNNING_RESTORE_STATES.includes(state)) return [];
  const name = isRecord(old.metadata) ? (nonEmpty(old.metadata.name) ?? "") : "";
  return [
    warningText(
      "",
      `restore ${name} is ${state}: deleting it does not stop the sidecar, and the outcome goes unrecorded`,
    ),
  ];
}

/** Only status and free metadata differ between the stored object and the new one. */
function onlyFreeChanges(old: Record<string, unknown>, obj: Record<string, unknown>): boolean {
  return jsonEqual(withoutFree(old), withoutFree(obj));
}

function withoutFree(o: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, metadata, ...rest } = o;
  if (!isRecord(metadata)) return { ...rest, metadata };
  const meta: Record<string, unknown> = { ...metadata };
  for (const f of FREE_METADATA) delete meta[f];
  return { ...rest, metadata: meta };
}

/** The `casskeeper.io/` annotation keys whose value differs between the two objects (added and removed too). */
function changedPrefixedAnnotations(old: Record<string, unknown>, obj: Record<string, unknown>): string[] {
  const a = annotationsOf(old);
  const b = annotationsOf(obj);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => k.startsWith(ANNOTATION_PREFIX) && !jsonEqual(a[k], b[k]),
  );
}

/** Per world snapshot (immutable, replaced on change): its backups by bucket, for the collision check. */
const backupsByBucket = new WeakMap<WorldSnapshot, ReadonlyMap<string, readonly BackupInfo[]>>();

/**
 * The world narrowed to the backups in the same bucket as `obj`: snapshotTag collisions only exist within
 * one bucket (`snapshotTagCollisions` groups by bucket and cluster), so the answer is the same, but a request
 * costs the few backups of its bucket instead of parsing every backup's storageLocation in the cluster
 * (0.5 ms for 300 backups, the whole latency budget). The index is built once per snapshot.
 */
function sameBucket(world: WorldSnapshot, obj: Record<string, unknown>): WorldSnapshot {
  if (!world.known) return world;
  const loc = parseStorageLocation(isRecord(obj.spec) ? obj.spec.storageLocation : undefined);
  if (loc === undefined) return { ...world, backups: new Map() }; // an unparseable location collides with nothing
  let index = backupsByBucket.get(world);
  if (index === undefined) {
    const built = new Map<string, BackupInfo[]>();
    for (const b of world.backups.values()) {
      const where = parseStorageLocation(isRecord(b.spec) ? b.spec.storageLocation : undefined);
      if (where === undefined) continue;
      const k = bucketKey(where);
      const list = built.get(k);
      if (list === undefined) built.set(k, [b]);
      else list.push(b);
    }
    index = built;
    backupsByBucket.set(world, index);
  }
  const same = index.get(bucketKey(loc)) ?? [];
  return { ...world, backups: new Map(same.map((b) => [key(b.namespace, b.name), b])) };
}

// ---------------------------------------------------------------------------------------------------------
// Mutation

function mutate(request: AdmissionRequest, ctx: AdmissionContext, progress: Progress): AdmissionOutcome {
  const target = classify(request, true);
  const operation = operationLabel(request.operation);
  const done = (response: Omit<AdmissionResponse, "uid">) => outcome(response, target, operation, []);

  if (target.family === "other") return done(allowed([unhandled(target)]));
  if (nonEmpty(request.subResource) !== undefined) return done(allowed());
  if (operation !== "CREATE" && operation !== "UPDATE") return done(allowed());
  const obj = request.object;
  // A malformed review is the validating endpoint's to deny; the mutating one fails open (failurePolicy Ignore).
  if (!isRecord(obj) || deleting(obj)) return done(allowed());
  const namespace = namespaceOf(request, obj);
  const old = request.oldObject;

  let ops: AddOperation[] = [];
  const warnings: string[] = [];
  if (target.family === "backup" || target.family === "restore") {
    progress.stage = "fill absent fields";
    // On UPDATE only when the spec itself changed (an apply that dropped a filled field gets it back), and
    // never for a started restore, whose spec is immutable: a status write must stay a status write.
    const untouched =
      operation === "UPDATE" &&
      isRecord(old) &&
      (jsonEqual(old.spec, obj.spec) ||
        (target.family === "restore" && restoreStarted(old as CassandraRestore)));
    if (!untouched) ops = casskopMutations(target.kind, obj, { world: ctx.world, namespace });
  } else if (target.family === "datacenter") {
    progress.stage = "datacenter credentials";
    const env = datacenterEnvMutations(target.dc, obj, { world: ctx.world, namespace });
    ops = env.ops;
    warnings.push(...env.warnings.map((w) => warningText(w.path, w.message)));
  }

  progress.stage = "respond";
  const collected = collectWarnings(warnings);
  return done({
    allowed: true,
    ...(ops.length > 0 ? { patchType: "JSONPatch" as const, patch: encodePatch(ops) } : {}),
    ...(collected.length > 0 ? { warnings: collected } : {}),
  });
}

// ---------------------------------------------------------------------------------------------------------
// Shared

function classify(request: AdmissionRequest, mutating: boolean): Target {
  const obj = isRecord(request.object)
    ? request.object
    : isRecord(request.oldObject)
      ? request.oldObject
      : {};
  let group: string;
  let version: string;
  let kind: string;
  if (request.kind !== undefined) {
    ({ group, version, kind } = request.kind);
  } else {
    const apiVersion = typeof obj.apiVersion === "string" ? obj.apiVersion : "";
    const slash = apiVersion.lastIndexOf("/");
    group = slash < 0 ? "" : apiVersion.slice(0, slash);
    version = apiVersion.slice(slash + 1);
    kind = typeof obj.kind === "string" ? obj.kind : "";
  }
  if (group === CASSKOP_GROUP && kind === "CassandraBackup") return { family: "backup", kind };
  if (group === CASSKOP_GROUP && kind === "CassandraRestore") return { family: "restore", kind };
  if (group === CASSKEEPER_GROUP && kind === "BackupPolicySource") return { family: "policy", kind };
  if (mutating) {
    const dc = DATACENTER_KINDS.find((d) => d.group === group && d.kind === kind);
    if (dc !== undefined) return { family: "datacenter", kind: dc.kind, dc };
  }
  const gv = group === "" ? version : `${group}/${version}`;
  return { family: "other", kind: "other", shown: `${gv} ${kind}`.trim().slice(0, 80) || "(no kind)" };
}

function unhandled(target: { shown: string }): string {
  return warningText("", `casskeeper does not handle ${target.shown}; allowed unchecked`);
}

function operationLabel(op: string | undefined): string {
  return op !== undefined && OPERATIONS.includes(op) ? op : "other";
}

/** The namespace rules look things up in: the request's, else the object's, else `default`. */
function namespaceOf(request: AdmissionRequest, obj: Record<string, unknown>): string {
  return (
    nonEmpty(request.namespace) ??
    (isRecord(obj.metadata) ? nonEmpty(obj.metadata.namespace) : undefined) ??
    "default"
  );
}

function deleting(o: unknown): boolean {
  return isRecord(o) && isRecord(o.metadata) && nonEmpty(o.metadata.deletionTimestamp) !== undefined;
}

function annotationsOf(o: Record<string, unknown>): Record<string, unknown> {
  return isRecord(o.metadata) && isRecord(o.metadata.annotations) ? o.metadata.annotations : {};
}

function scheduled(o: Record<string, unknown>): boolean {
  return isRecord(o.spec) && nonEmpty(o.spec.schedule) !== undefined;
}

function allowed(warnings: readonly string[] = []): Omit<AdmissionResponse, "uid"> {
  const collected = collectWarnings(warnings);
  return collected.length > 0 ? { allowed: true, warnings: collected } : { allowed: true };
}

function badRequest(message: string): Omit<AdmissionResponse, "uid"> {
  return { allowed: false, status: { status: "Failure", code: 400, reason: "BadRequest", message } };
}

function outcome(
  response: Omit<AdmissionResponse, "uid">,
  target: Target,
  operation: string,
  codes: string[],
): AdmissionOutcome {
  const verdict: Verdict = !response.allowed
    ? "denied"
    : response.patch !== undefined
      ? "patched"
      : (response.warnings?.length ?? 0) > 0
        ? "warned"
        : "allowed";
  return { response, kind: target.kind, operation, verdict, codes };
}

/**
 * An exception inside a handler. Validating: denied with 500 InternalError naming the stage, which is what
 * `failurePolicy: Fail` would do with a crashed call, but with a message. Mutating: allowed without a patch
 * and with a warning, the answer `failurePolicy: Ignore` gives a failed call (conventions.md §2.1 "fail open"):
 * a mutating webhook must not block writes (datacenter objects included) because of casskeeper's own bug.
 */
function failed(
  request: AdmissionRequest,
  progress: Progress,
  e: unknown,
  mutating: boolean,
): AdmissionOutcome {
  const detail = (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 300);
  const error = new CasskeeperError(
    "admission",
    "admission.internal",
    `stage "${progress.stage}": ${detail}`,
    {
      cause: e,
    },
  );
  let kind = "other";
  try {
    kind = classify(request, mutating).kind;
  } catch {
    // the request is beyond reading; "other" it is
  }
  const operation = (() => {
    try {
      return operationLabel(request.operation);
    } catch {
      return "other";
    }
  })();
  const message = `casskeeper internal error in stage "${progress.stage}": ${detail}`;
  const status: AdmissionStatus = { status: "Failure", code: 500, reason: "InternalError", message };
  const response: Omit<AdmissionResponse, "uid"> = mutating
    ? { allowed: true, warnings: collectWarnings([`${message}; nothing was changed`]) }
    : { allowed: false, status };
  return {
    response,
    kind,
    operation,
    verdict: "errored",
    codes: mutating ? [] : ["admission.internal"],
    error,
  };
}
