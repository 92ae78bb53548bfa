// The status the runner writes on CassandraBackups and CassandraRestores (pure): CassKop's BackRestStatus
// (reference/operators.md §1.4) filled from the sidecar's operation exactly as CassKop's
// ComputeBackupStatus/ComputeRestorationStatus do, plus casskeeper's extras on backups (lastScheduleTime,
// nextScheduleTime, lastSuccessfulTime, history ≤ 20, newest first).
//
// Differences from CassKop, on purpose:
// - `condition.lastTransitionTime` changes only when `condition.type` changes. CassKop rewrites it on every
//   poll (every 2 s per running backup), which turns each poll into a write and the field into noise; the
//   layout stays CassKop's ("Mon, 2 Jan 2006 15:04:05 GMT", not RFC 3339) for tools that parse it.
// - A run is recorded before the sidecar is called: `condition.type` "PENDING" (backups) or "REQUIRED"
//   (restores, CassKop's own pre-submit state) with `coordinatorMember` and no `id` yet. The record's
//   `lastTransitionTime` is when it was made: crash recovery looks for operations created after it.
// - Causes and messages are bounded (the object must stay well below etcd's 1.5 MiB).

import type { BackRestStatus } from "../core/types.ts";
import { isRecord } from "../core/world-build.ts";
import { type Operation, TERMINAL_STATES } from "./model.ts";

/** `status.history` holds at most this many runs (the CRD's maxItems). */
export const HISTORY_LIMIT = 20;
/** At most this many failure causes are kept (one per node: far more than any datacenter has). */
export const MAX_CAUSES = 50;
/** A failure message is cut at this many characters ("Unable to upload some files successfully: <files>"). */
export const MAX_MESSAGE = 4096;
/** The `source` of failure causes casskeeper itself raises (the sidecar uses a host name). */
export const CASSKEEPER_SOURCE = "casskeeper";

/** The pre-submit states: the run is recorded, the sidecar was (maybe) not called yet. */
export const RECORDED_BACKUP = "PENDING";
export const RECORDED_RESTORE = "REQUIRED";

export interface FailureCause {
  source?: string;
  message?: string;
}

export interface HistoryEntry {
  snapshotTag?: string;
  id?: string;
  scheduledTime?: string;
  timeStarted?: string;
  timeCompleted?: string;
  state?: string;
}

/** BackRestStatus plus casskeeper's extras (absent where CassKop's CRD prunes them). */
export interface RunStatus extends BackRestStatus {
  condition?: { type?: string; lastTransitionTime?: string; failureCause?: FailureCause[] };
  lastScheduleTime?: string;
  nextScheduleTime?: string;
  lastSuccessfulTime?: string;
  history?: HistoryEntry[];
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** CassKop's `util.TimeStampLayout` "Mon, 2 Jan 2006 15:04:05 GMT" (day not padded), in UTC. */
export function casskopTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`
  );
}

/** Reads CassKop's layout back (and RFC 3339, should another writer use it); undefined when neither. */
export function parseCasskopTime(s: unknown): Date | undefined {
  if (typeof s !== "string") return undefined;
  const m = /^[A-Z][a-z]{2}, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(s);
  if (m !== null) {
    const month = MONTHS.indexOf(m[2] as string);
    if (month < 0) return undefined;
    const t = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
    return Number.isNaN(t) ? undefined : new Date(t);
  }
  return parseRfc3339(s);
}

/** RFC 3339 to the second, as metav1.Time. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, "Z");
}

export function parseRfc3339(s: unknown): Date | undefined {
  if (typeof s !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s))
    return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** CassKop's `ProgressPercentage`: `int(progress*100)` (truncated, as Go converts) and "%". */
export function progressPercent(progress: number): string {
  const n = Number.isFinite(progress) ? Math.trunc(progress * 100) : 0;
  return `${n}%`;
}

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE - 1)}…` : s;
}

/** The sidecar's `errors[]` as CassKop's `failureCause[]` (bounded). */
export function failureCauses(op: Operation): FailureCause[] {
  return op.errors.slice(0, MAX_CAUSES).map((e) => ({
    ...(e.source === undefined ? {} : { source: e.source }),
    ...(e.message === undefined ? {} : { message: clip(e.message) }),
  }));
}

/** A condition whose `lastTransitionTime` moves only when its type changes. */
function condition(
  prev: RunStatus,
  type: string,
  now: Date,
  failureCause?: FailureCause[],
): NonNullable<RunStatus["condition"]> {
  const same = prev.condition?.type === type && prev.condition.lastTransitionTime !== undefined;
  return {
    type,
    lastTransitionTime: same ? (prev.condition?.lastTransitionTime as string) : casskopTime(now),
    ...(failureCause === undefined || failureCause.length === 0 ? {} : { failureCause }),
  };
}

/** The extras carried over unchanged from `prev`. */
function extras(prev: RunStatus): RunStatus {
  const out: RunStatus = {};
  if (prev.lastScheduleTime !== undefined) out.lastScheduleTime = prev.lastScheduleTime;
  if (prev.nextScheduleTime !== undefined) out.nextScheduleTime = prev.nextScheduleTime;
  if (prev.lastSuccessfulTime !== undefined) out.lastSuccessfulTime = prev.lastSuccessfulTime;
  if (prev.history !== undefined) out.history = prev.history;
  return out;
}

/**
 * The record made before the sidecar is called. CassKop resets the status at each run
 * (`updateStatus(BackRestStatus{})`): the previous run's id, progress, times and causes go; the extras stay.
 * A scheduled run also sets lastScheduleTime (the instant it is due for) and opens a history entry.
 */
export function recordedStatus(
  prev: RunStatus,
  r: {
    readonly state: string;
    /** The pod the run goes to; undefined when there is none (the run fails at once). */
    readonly coordinator?: string | undefined;
    readonly now: Date;
    readonly scheduledTime?: Date | undefined;
    readonly nextScheduleTime?: Date | undefined;
  },
): RunStatus {
  const next: RunStatus = {
    ...extras(prev),
    condition: condition({}, r.state, r.now),
    ...(r.coordinator === undefined ? {} : { coordinatorMember: r.coordinator }),
  };
  if (r.scheduledTime !== undefined) {
    const at = rfc3339(r.scheduledTime);
    next.lastScheduleTime = at;
    next.history = [{ scheduledTime: at, state: r.state }, ...(prev.history ?? [])].slice(0, HISTORY_LIMIT);
  }
  if (r.nextScheduleTime !== undefined) next.nextScheduleTime = rfc3339(r.nextScheduleTime);
  return next;
}

/**
 * The status after a GET (or the POST's answer): CassKop's fields copied from the operation; on a backup,
 * also the history head and lastSuccessfulTime.
 */
export function operationStatus(
  prev: RunStatus,
  op: Operation,
  now: Date,
  kind: "backup" | "restore" = "backup",
): RunStatus {
  const next: RunStatus = {
    ...extras(prev),
    condition: condition(prev, op.state, now, failureCauses(op)),
    ...(prev.coordinatorMember === undefined ? {} : { coordinatorMember: prev.coordinatorMember }),
    id: op.id,
    progress: progressPercent(op.progress),
    ...(op.creationTime === undefined ? {} : { timeCreated: op.creationTime }),
    ...(op.startTime === undefined ? {} : { timeStarted: op.startTime }),
    ...(op.completionTime === undefined ? {} : { timeCompleted: op.completionTime }),
  };
  const head = prev.history?.[0];
  if (head !== undefined && (head.id === undefined || head.id === op.id)) {
    const entry: HistoryEntry = {
      ...head,
      id: op.id,
      state: op.state,
      ...(op.snapshotTag === undefined ? {} : { snapshotTag: op.snapshotTag }),
      ...(op.startTime === undefined ? {} : { timeStarted: op.startTime }),
      ...(op.completionTime === undefined ? {} : { timeCompleted: op.completionTime }),
    };
    next.history = [entry, ...(prev.history ?? []).slice(1)];
  }
  if (op.state === "COMPLETED" && kind === "backup") {
    const done = parseRfc3339(op.completionTime) ?? now;
    next.lastSuccessfulTime = rfc3339(done);
  }
  return next;
}

/**
 * A run that ended without the sidecar's word: no pod, a refused request, an operation the sidecar forgot.
 * `FAILED` with casskeeper as the cause's source, and progress left as it was.
 */
export function failedStatus(prev: RunStatus, message: string, now: Date): RunStatus {
  const next: RunStatus = {
    ...prev,
    condition: condition(prev, "FAILED", now, [{ source: CASSKEEPER_SOURCE, message: clip(message) }]),
  };
  const head = prev.history?.[0];
  if (head !== undefined && head.state !== undefined && !TERMINAL_STATES.has(head.state)) {
    next.history = [{ ...head, state: "FAILED" }, ...(prev.history ?? []).slice(1)];
  }
  return next;
}

/** `status` read from an object, leniently (anything malformed is left out). */
export function readStatus(obj: unknown): RunStatus {
  const s = isRecord(obj) && isRecord(obj.status) ? obj.status : {};
  const out: RunStatus = {};
  for (const k of [
    "timeCreated",
    "timeStarted",
    "timeCompleted",
    "coordinatorMember",
    "progress",
    "id",
    "lastScheduleTime",
    "nextScheduleTime",
    "lastSuccessfulTime",
  ] as const) {
    const v = s[k];
    if (typeof v === "string") out[k] = v;
  }
  if (isRecord(s.condition)) {
    const c = s.condition;
    out.condition = {
      ...(typeof c.type === "string" ? { type: c.type } : {}),
      ...(typeof c.lastTransitionTime === "string" ? { lastTransitionTime: c.lastTransitionTime } : {}),
      ...(Array.isArray(c.failureCause)
        ? {
            failureCause: c.failureCause.filter(isRecord).map((f) => ({
              ...(typeof f.source === "string" ? { source: f.source } : {}),
              ...(typeof f.message === "string" ? { message: f.message } : {}),
            })),
          }
        : {}),
    };
  }
  if (Array.isArray(s.history)) {
    out.history = s.history.filter(isRecord).map((h) => {
      const e: HistoryEntry = {};
      for (const k of [
        "snapshotTag",
        "id",
        "scheduledTime",
        "timeStarted",
        "timeCompleted",
        "state",
      ] as const) {
        const v = h[k];
        if (typeof v === "string") e[k] = v;
      }
      return e;
    });
  }
  return out;
}

/**
 * Terminal condition types: the sidecar's, plus CassKop's `CANCELED` (one L: its constant, which the sidecar
 * never sends, but a status someone wrote by hand may carry it).
 */
function terminal(type: string): boolean {
  return TERMINAL_STATES.has(type) || type === "CANCELED";
}

/** The condition's type is a terminal state. */
export function isTerminal(status: RunStatus): boolean {
  return terminal(status.condition?.type ?? "");
}

/**
 * A run recorded and not finished: a condition that is not terminal, on a coordinator. `id` is absent when
 * the runner stopped between the record and the sidecar's answer; `recordedAt` is the record's time (its
 * lastTransitionTime, second precision) when readable.
 */
export function unfinishedRun(
  status: RunStatus,
): { coordinator: string; id?: string; recordedAt?: Date; state: string } | undefined {
  const type = status.condition?.type;
  if (type === undefined || terminal(type)) return undefined;
  const coordinator = status.coordinatorMember;
  if (coordinator === undefined || coordinator === "") return undefined;
  const recordedAt = parseCasskopTime(status.condition?.lastTransitionTime);
  return {
    coordinator,
    state: type,
    ...(status.id === undefined || status.id === "" ? {} : { id: status.id }),
    ...(recordedAt === undefined ? {} : { recordedAt }),
  };
}

/** The first failure cause's message, for Events ("unknown error" when the sidecar gave none). */
export function firstFailure(status: RunStatus): string {
  const c = status.condition?.failureCause?.find((f) => f.message !== undefined && f.message !== "");
  if (c === undefined) return "no error message from the sidecar";
  return c.source === undefined || c.source === "" ? (c.message as string) : `${c.source}: ${c.message}`;
}

/**
 * The JSON merge patch (RFC 7386) taking `prev` to `next`: changed keys, nested objects recursively, arrays
 * and scalars replaced, keys that went away set to null. Undefined when nothing changed.
 */
export function mergePatchOf(prev: unknown, next: unknown): unknown {
  if (!isRecord(prev) || !isRecord(next)) return jsonEqual(prev, next) ? undefined : (next ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) continue;
    const p = prev[k];
    if (p === undefined) {
      out[k] = v;
      continue;
    }
    const d = isRecord(p) && isRecord(v) ? mergePatchOf(p, v) : jsonEqual(p, v) ? undefined : v;
    if (d !== undefined) out[k] = d;
  }
  for (const k of Object.keys(prev)) if (prev[k] !== undefined && next[k] === undefined) out[k] = null;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** Deep equality of JSON values, whatever the order of keys. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isRecord(a) && isRecord(b) && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}
