// All backup schedules on ONE timer: a min-heap of next fire times (ties in the order keys were set) and a
// single setTimeout armed for the earliest, re-armed when the head changes. 10,000 schedules cost one
// timer, not 10,000.
//
// - Fire times are robfig's (src/core/schedule: UTC unless CRON_TZ=/TZ=, DST as robfig does it: a wall time
//   in a spring-forward gap is skipped that day, one repeated by a fall-back fires twice).
// - Each fire computes the next from the scheduled instant, never from the wall clock, so a late timer does
//   not shift the series; `@every d` counts from `after` (the runner passes lastScheduleTime, so restarts do
//   not postpone it: casskop's `@every` never fired when the operator restarted more often than d).
// - A sleep never exceeds maxSleepMs (default 60 s): the timer measures monotonic time, the schedule is wall
//   time, so a wall-clock jump (NTP step, suspend/resume) is noticed within maxSleepMs.
// - Woken late by more than one period (suspend, clock jump, a blocked event loop), a key fires ONCE, for
//   its most recent due instant, with the number of instants skipped: the catch-up rule of decideRun, never
//   a burst (a suspended laptop's `@every 1s` does not fire 86,400 times on resume). Found without walking
//   them (schedule-plan.ts chainPosition).
// - A wall clock that goes back does not repeat instants: fire times only move forward.
// - A fire callback that throws is reported to onError and the scheduler goes on.

import { CasskeeperError } from "../core/errors.ts";
import type { Schedule } from "../core/schedule/index.ts";
import type { Timers } from "../kube/client.ts";
import { chainPosition, parseSchedule } from "./schedule-plan.ts";

/** Called at a fire time: the scheduled instant (not the wall clock), and how many earlier due instants of
 *  this key were skipped because the scheduler woke too late to run them separately (usually 0). */
export type FireCallback = (scheduledTime: Date, skipped: number) => void;

export interface SchedulerOptions {
  /** Wall clock, epoch ms (Date.now). */
  readonly now: () => number;
  /** REAL_TIMERS (src/kube/client.ts) in production: unref'd, so a pending fire does not keep the process up. */
  readonly timers: Timers;
  /** Longest sleep, so wall-clock jumps are noticed (default 60 000 ms; at most 2^31 − 1, setTimeout's limit). */
  readonly maxSleepMs?: number;
  /** A fire callback threw; the scheduler keeps running. */
  readonly onError?: (key: string, error: unknown) => void;
}

export interface Scheduler {
  /**
   * Schedules `key` (replacing any schedule it had): fires at each robfig fire time strictly after `after`.
   * Throws CasskeeperError("runner", "schedule.invalid") with robfig's message for an invalid schedule,
   * leaving any previous schedule of `key` in place. A schedule that never fires is kept with no next time.
   * No-op after stop().
   */
  set(key: string, schedule: string, after: Date, fire: FireCallback): void;
  remove(key: string): void;
  /** The next fire time of `key`; undefined for an unknown key or a schedule that never fires (again). */
  next(key: string): Date | undefined;
  /** Keys set (including never-firing ones). */
  size(): number;
  /** Clears the timer and every key. */
  stop(): void;
}

const DEFAULT_MAX_SLEEP_MS = 60_000;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface Entry {
  readonly key: string;
  readonly schedule: Schedule;
  readonly fire: FireCallback;
  /** Tie-break for equal fire times: set order. */
  readonly seq: number;
  /** Next fire time (epoch ms); NaN when none. */
  at: number;
  /** Position in the heap; -1 when not in it. */
  index: number;
}

export function createScheduler(opts: SchedulerOptions): Scheduler {
  const now = opts.now;
  const timers = opts.timers;
  const maxSleep = Math.min(MAX_TIMEOUT_MS, Math.max(1, opts.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS));
  const entries = new Map<string, Entry>();
  const heap: Entry[] = [];
  let seq = 0;
  let handle: unknown;
  let wakeAt = Number.POSITIVE_INFINITY;
  let dispatching = false;
  let stopped = false;

  const before = (a: Entry, b: Entry): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

  function place(e: Entry, i: number): void {
    heap[i] = e;
    e.index = i;
  }

  function siftUp(i: number): void {
    const e = heap[i] as Entry;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as Entry;
      if (!before(e, parent)) break;
      place(parent, i);
      i = p;
    }
    place(e, i);
  }

  function siftDown(i: number): void {
    const e = heap[i] as Entry;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r] as Entry, heap[l] as Entry) ? r : l;
      const child = heap[c] as Entry;
      if (!before(child, e)) break;
      place(child, i);
      i = c;
    }
    place(e, i);
  }

  function heapRemove(e: Entry): void {
    const i = e.index;
    if (i < 0) return;
    e.index = -1;
    const last = heap.pop() as Entry;
    if (last === e) return;
    place(last, i);
    siftDown(i);
    siftUp(last.index);
  }

  function drop(e: Entry): void {
    heapRemove(e);
    entries.delete(e.key);
  }

  /** One timer, for the head or maxSleep from now, whichever is first; kept when it already wakes earlier. */
  function arm(): void {
    if (dispatching) return;
    const head = heap[0];
    if (head === undefined || stopped) {
      disarm();
      return;
    }
    const t = now();
    const target = Math.min(head.at, t + maxSleep);
    // Keep a timer that wakes no later, unless the wall clock already passed its wake time (a jump forward).
    if (handle !== undefined && wakeAt <= target && t <= wakeAt) return;
    disarm();
    wakeAt = target;
    handle = timers.setTimeout(onTimer, Math.max(0, target - t));
  }

  function disarm(): void {
    if (handle !== undefined) timers.clearTimeout(handle);
    handle = undefined;
    wakeAt = Number.POSITIVE_INFINITY;
  }

  function onTimer(): void {
    handle = undefined;
    wakeAt = Number.POSITIVE_INFINITY;
    const t = now();
    // Keys set by a callback during this dispatch wait for the next turn of the event loop, so a callback
    // that keeps re-setting its key in the past cannot hold the loop here.
    const setBefore = seq;
    dispatching = true;
    try {
      // Every entry due now fires once: its new fire time is after t, so the loop ends.
      for (let head = heap[0]; head !== undefined && head.at <= t && head.seq < setBefore; head = heap[0]) {
        const e = head;
        let fireAt = e.at;
        let skipped = 0;
        let next = e.schedule.next(fireAt);
        if (next !== undefined && next <= t) {
          // Behind by more than a period: run the most recent due instant once, skip the rest.
          const pos = chainPosition(e.schedule, fireAt, t);
          fireAt = pos.latest ?? fireAt;
          skipped = pos.count;
          next = pos.next;
        }
        if (next === undefined || !(next > fireAt)) {
          heapRemove(e);
          e.at = Number.NaN;
        } else {
          e.at = next;
          siftDown(0);
        }
        try {
          e.fire(new Date(fireAt), skipped);
        } catch (err) {
          try {
            opts.onError?.(e.key, err);
          } catch {
            // onError must not stop the dispatch either.
          }
        }
        if (stopped) return;
      }
    } finally {
      dispatching = false;
    }
    arm();
  }

  return {
    set(key, spec, after, fire) {
      if (stopped) return;
      const afterMs = after.getTime();
      if (!Number.isFinite(afterMs)) {
        throw new CasskeeperError("runner", "schedule.invalid-time", `${key}: "after" is not a valid date`);
      }
      // Parsed once per string, shared with decideRun (10,000 backups use far fewer distinct schedules).
      const r = parseSchedule(spec);
      if (!r.ok) throw new CasskeeperError("runner", "schedule.invalid", r.error);
      const schedule = r.schedule;
      const old = entries.get(key);
      if (old !== undefined) drop(old);
      const first = schedule.next(afterMs);
      const e: Entry = { key, schedule, fire, seq: seq++, at: first ?? Number.NaN, index: -1 };
      entries.set(key, e);
      if (first !== undefined) {
        heap.push(e);
        siftUp(heap.length - 1);
      }
      arm();
    },
    remove(key) {
      const e = entries.get(key);
      if (e === undefined) return;
      drop(e);
      if (heap.length === 0) disarm();
    },
    next(key) {
      const e = entries.get(key);
      return e === undefined || Number.isNaN(e.at) ? undefined : new Date(e.at);
    },
    size: () => entries.size,
    stop() {
      stopped = true;
      disarm();
      entries.clear();
      for (const e of heap) e.index = -1;
      heap.length = 0;
    },
  };
}
