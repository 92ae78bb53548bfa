// Whether a scheduled backup is due, and for which instant: Kubernetes CronJob semantics
// (pkg/controller/cronjob/utils.go `mostRecentScheduleTime`, controller_v2.go `tooLate`) over robfig/cron
// v3 fire times (src/core/schedule: UTC unless a CRON_TZ=/TZ= prefix). Pure: no clock, no I/O.
//
// - Due times are robfig's chain from the reference point: next(ref), next(next(ref)), … with
//   ref = lastScheduleTime ?? createdAt. The most recent due time in (ref, now] runs, ONCE, however many
//   were missed (a controller down over a weekend runs one catch-up backup, not 60); the older ones are
//   counted in `missed` and never run.
// - With startingDeadlineSeconds, a due time older than now − deadline does not run (it is missed too), as
//   a CronJob's `tooLate`: it runs while now − scheduled ≤ deadline.
// - A due time ≤ lastScheduleTime is never returned, so a restarted runner never starts the same scheduled
//   instant twice. A lastScheduleTime in the future (the clock went back) waits for its successor.
// - `@every d` counts from the reference point too: ref + d, ref + 2d, … robfig counts from when the entry
//   is added to the cron table, so CassKop users whose operator restarts more often than the interval never
//   get a backup (operators.md §1.5); counting from lastScheduleTime (or creation) makes restarts harmless.
//
// Cost (no walk over millions of missed times): `@every` is closed-form, O(1). A cron spec walks the chain
// for at most MISSED_EXACT_LIMIT + 1 (101) robfig next() calls; a longer gap is not walked: the most recent
// fire time is found by galloping back from now (windows of 1 min, 2 min, 4 min, …) and a binary search on
// whole seconds inside the window that holds it, about 2·log2(gap / 1 min) + log2(window / 1 s) next()
// calls (≈ 60 for a five-year gap), and `missed` is then extrapolated from the walked sample's average
// interval (`missedEstimated: true`). Kubernetes stops counting at 100 as well ("too many missed start
// times (> 100)"). The search assumes robfig's next() is monotonic and checks its answer: if next() of the
// result is still ≤ now (robfig's odd DST corners), it walks on, at most MISSED_EXACT_LIMIT steps.

import { type ParseResult, parseStandard, type Schedule } from "../core/schedule/index.ts";

/** Missed due times are counted exactly up to this many; beyond it, estimated (Kubernetes stops at 100). */
export const MISSED_EXACT_LIMIT = 100;

export interface RunDecisionInput {
  readonly schedule: string;
  /** The scheduled instant of the last run started (status.lastScheduleTime); undefined before the first. */
  readonly lastScheduleTime?: Date;
  /** metadata.creationTimestamp: the reference point before the first run. */
  readonly createdAt: Date;
  readonly now: Date;
  /** casskeeper.io/starting-deadline-seconds: a due time older than this does not run. */
  readonly startingDeadlineSeconds?: number;
}

export interface RunDecision {
  /** Run now, for this scheduled instant (record it as lastScheduleTime before calling the sidecar). */
  readonly run?: { readonly scheduledTime: Date };
  /** Due times in (reference, now] that do not run: the older ones, plus the newest when its deadline passed. */
  readonly missed: number;
  /** `missed` was extrapolated (a cron spec with more than MISSED_EXACT_LIMIT due times since the reference). */
  readonly missedEstimated?: boolean;
  /** The most recent due time in (reference, now], run or not. Recording it (as lastScheduleTime) when the
   *  deadline passed keeps the same misses from being counted again at the next decision. */
  readonly lastDue?: Date;
  /** The next due time after now; undefined when the schedule never fires (again). */
  readonly next?: Date;
  /** robfig's parse error, verbatim; nothing else is set. */
  readonly error?: string;
}

/** Where `now` falls on a schedule's chain of fire times starting after `afterMs`. */
export interface ChainPosition {
  /** The last chain fire time in (after, now]; undefined when there is none. */
  readonly latest?: number;
  /** How many chain fire times fall in (after, now]. */
  readonly count: number;
  /** `count` was extrapolated past MISSED_EXACT_LIMIT. */
  readonly estimated: boolean;
  /** The first chain fire time after max(after, now); undefined when the schedule never fires again. */
  readonly next?: number;
}

/** Parsed schedules by string, shared by decideRun and the scheduler: the runner decides for the same
 *  backups at every reconcile, then schedules them. Bounded (oldest evicted first); a parsed schedule is
 *  immutable as far as callers can tell (next() is synchronous), so sharing one is safe. */
const PARSE_MEMO_MAX = 4096;
const parseMemo = new Map<string, ParseResult>();

/** robfig's ParseStandard, memoized. */
export function parseSchedule(spec: string): ParseResult {
  const hit = parseMemo.get(spec);
  if (hit !== undefined) return hit;
  const r = parseStandard(spec);
  if (parseMemo.size >= PARSE_MEMO_MAX) parseMemo.delete(parseMemo.keys().next().value as string);
  parseMemo.set(spec, r);
  return r;
}

/** The decision for one scheduled backup at `now`. */
export function decideRun(i: RunDecisionInput): RunDecision {
  const parsed = parseSchedule(i.schedule);
  if (!parsed.ok) return { missed: 0, error: parsed.error };
  const reference = (i.lastScheduleTime ?? i.createdAt).getTime();
  const now = i.now.getTime();
  if (!Number.isFinite(reference) || !Number.isFinite(now)) {
    return { missed: 0, error: "invalid time: lastScheduleTime, createdAt and now must be valid dates" };
  }
  const pos = chainPosition(parsed.schedule, reference, now);
  const next = pos.next === undefined ? undefined : new Date(pos.next);
  if (pos.latest === undefined) return withNext({ missed: 0 }, next);
  const deadline = i.startingDeadlineSeconds;
  const tooLate = deadline !== undefined && deadline >= 0 && now - pos.latest > deadline * 1000;
  const decision: RunDecision = {
    ...(tooLate ? {} : { run: { scheduledTime: new Date(pos.latest) } }),
    missed: tooLate ? pos.count : pos.count - 1,
    ...(pos.estimated ? { missedEstimated: true } : {}),
    lastDue: new Date(pos.latest),
  };
  return withNext(decision, next);
}

const withNext = (d: RunDecision, next: Date | undefined): RunDecision =>
  next === undefined ? d : { ...d, next };

/**
 * The chain of robfig fire times after `afterMs` (next(after), next(next(after)), …): the last one ≤ now,
 * how many are ≤ now, and the first one after now. Bounded cost (see the file header).
 */
export function chainPosition(schedule: Schedule, afterMs: number, nowMs: number): ChainPosition {
  const first = schedule.next(afterMs);
  if (first === undefined || first > nowMs) return { count: 0, estimated: false, next: first };
  if (schedule.kind === "every") return everyPosition(schedule, first, nowMs);

  // Walk: exact while short.
  let cur = first;
  let count = 1;
  for (;;) {
    const n = schedule.next(cur);
    if (n === undefined || n > nowMs) return { latest: cur, count, estimated: false, next: n };
    cur = n;
    count++;
    if (count > MISSED_EXACT_LIMIT) break;
  }
  // Too many: find the most recent fire time without walking, and extrapolate the count.
  let latest = latestFire(schedule, cur, nowMs);
  let n = schedule.next(latest);
  for (let steps = 0; n !== undefined && n <= nowMs && steps < MISSED_EXACT_LIMIT; steps++) {
    latest = n;
    n = schedule.next(latest);
  }
  const meanInterval = (cur - first) / (count - 1);
  const beyond =
    latest > cur && meanInterval > 0 ? Math.max(1, Math.round((latest - cur) / meanInterval)) : 0;
  return { latest, count: count + beyond, estimated: beyond > 0, next: n };
}

/** `@every d`: fire times are first + k·d (robfig lands each on a whole second, d is whole seconds). */
function everyPosition(schedule: Schedule, first: number, nowMs: number): ChainPosition {
  const second = schedule.next(first);
  const d = second === undefined ? 0 : second - first;
  if (d <= 0) return { latest: first, count: 1, estimated: false, next: second };
  const count = Math.floor((nowMs - first) / d) + 1;
  const latest = first + (count - 1) * d;
  return { latest, count, estimated: false, next: schedule.next(latest) };
}

const GALLOP_START_MS = 60_000;

/**
 * The last fire time in (lo, now], given that next(lo) ≤ now: gallop back from now until a window
 * (now − w, now] holds one, then binary-search the window on whole seconds (robfig's next(t) depends only
 * on the second t falls in). Invariant: next(loT) ≤ now < next(hiT) (undefined counts as after now).
 */
function latestFire(schedule: Schedule, lo: number, nowMs: number): number {
  const firesBy = (t: number): boolean => {
    const n = schedule.next(t);
    return n !== undefined && n <= nowMs;
  };
  let hiT = nowMs; // next(now) > now always
  let loT = lo;
  for (let w = GALLOP_START_MS; ; w *= 2) {
    const a = nowMs - w;
    if (a <= lo) break;
    if (firesBy(a)) {
      loT = a;
      break;
    }
    hiT = a;
  }
  let loS = Math.floor(loT / 1000);
  let hiS = Math.floor(hiT / 1000);
  while (hiS - loS > 1) {
    const mid = Math.floor((loS + hiS) / 2);
    if (firesBy(mid * 1000)) loS = mid;
    else hiS = mid;
  }
  const found = schedule.next(loS * 1000);
  return found !== undefined && found <= nowMs && found > lo ? found : lo;
}
