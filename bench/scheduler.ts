// The runner's scheduler (src/runner/scheduler.ts, one timer for every schedule) and decideRun
// (src/runner/schedule-plan.ts) with 10,000 backup schedules, a realistic mix: @midnight, @hourly,
// "*/5 * * * *", daily times spread over the night, CRON_TZ zones, weekday and day-of-month lists, @every.
//
// (a) memory: heap used before and after set() of all 10,000 (after gc);
// (b) time: set() of all 10,000 from cold (parse, first next fire, heap; JIT cold), set() again into a new
//     scheduler (JIT warm, parsed schedules memoized as after decideRun), next() of all 10,000 parsed
//     schedules (median of 5 warm rounds), decideRun for all 10,000 with lastScheduleTime a day back;
// (c) dispatch lag (callback time − scheduled instant, Date.now) over a REAL minute on real timers:
//     10,000 `@every 1s…60s` (robfig's cron specs are minute-grained), staggered start, ≈ 780 fires a second.
// Baselines in the same run: 10,000 independent setTimeout chains (one per schedule, re-armed after each
// fire, same fire times) for memory and lag, measured over BASELINE_MS after the minute; decideRun against a
// naive walk over every missed fire time.
//
// Targets (issue #5): ≤ 20 MB for 10,000 schedules, all next fires ≤ 200 ms, dispatch lag p99 ≤ 50 ms.
// Run with --expose-gc (bench/run.ts does).

import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { parseStandard, type Schedule } from "../src/core/schedule/index.ts";
import { REAL_TIMERS } from "../src/kube/client.ts";
import { decideRun } from "../src/runner/schedule-plan.ts";
import { createScheduler } from "../src/runner/scheduler.ts";

const N = 10_000;
const MINUTE_MS = 60_000;
const BASELINE_MS = 12_000;
/** Fires start this long after arming begins (see stagger). */
const ARM_LEAD_MS = 2000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** The i-th schedule of the mix; minutes and hours vary so most strings are distinct. */
function mixed(i: number): string {
  const m = Math.floor(i / 12) % 60;
  const h = Math.floor(i / 720) % 24;
  switch (i % 12) {
    case 0:
      return "@midnight";
    case 1:
      return "@hourly";
    case 2:
      return "*/5 * * * *";
    case 3:
      return `${m} ${h % 6} * * *`;
    case 4:
      return `CRON_TZ=Europe/Paris ${m} 2 * * MON-FRI`;
    case 5:
      return `CRON_TZ=America/New_York ${m} */6 * * *`;
    case 6:
      return `CRON_TZ=Asia/Tokyo ${m} ${h} * * SAT,SUN`;
    case 7:
      return `${m} 3 1,15 * *`;
    case 8:
      return `@every ${90 + (i % 30) * 10}s`;
    case 9:
      return `${m} ${h} * * 1,3,5`;
    case 10:
      return `CRON_TZ=Australia/Sydney ${m} 23 * * *`;
    default:
      return `${m} 4 1 * *`;
  }
}

const heapMb = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};
const round = (x: number, d = 2): number => Number(x.toFixed(d));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

const specs = Array.from({ length: N }, (_, i) => mixed(i));
const distinct = new Set(specs).size;
const noop = (): void => {};

// (a) + (b), in a function so that everything they allocate is garbage before the real minute.
function staticMetrics() {
  // (a) memory, and (b) the cost of set() for all 10,000, cold.
  const start = Date.now();
  const before = heapMb();
  let t0 = performance.now();
  const sched = createScheduler({ now: Date.now, timers: REAL_TIMERS });
  for (let i = 0; i < N; i++) sched.set(`ns${i % 50}/backup-${i}`, specs[i] as string, new Date(start), noop);
  const setAllMs = performance.now() - t0;
  const after = heapMb();
  const heapForAllMb = after - before;
  sched.stop();
  // The same again into a new scheduler: JIT warm, schedules already parsed (the memo decideRun shares).
  t0 = performance.now();
  const warm = createScheduler({ now: Date.now, timers: REAL_TIMERS });
  for (let i = 0; i < N; i++) warm.set(`ns${i % 50}/backup-${i}`, specs[i] as string, new Date(start), noop);
  const setAllWarmMs = performance.now() - t0;
  warm.stop();

  // (b) next() for all 10,000 parsed schedules, warm.
  const parsed: Schedule[] = specs.map((s) => {
    const r = parseStandard(s);
    if (!r.ok) throw new Error(`${s}: ${r.error}`);
    return r.schedule;
  });
  const nextRounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    t0 = performance.now();
    for (const s of parsed) sink += s.next(start) ?? 0;
    nextRounds.push(performance.now() - t0);
  }

  if (sink <= 0) throw new Error("no next fire times");

  // (b) decideRun for all 10,000 with lastScheduleTime a day back, against a naive walk over every due time.
  const dayBack = new Date(start - 86_400_000);
  const createdAt = new Date(start - 30 * 86_400_000);
  const nowDate = new Date(start);
  t0 = performance.now();
  let runs = 0;
  for (const s of specs) {
    if (decideRun({ schedule: s, lastScheduleTime: dayBack, createdAt, now: nowDate }).run) runs++;
  }
  const decideAllMs = performance.now() - t0;
  t0 = performance.now();
  let naiveRuns = 0;
  const naiveParsed = new Map<string, Schedule>(); // parsed once per string, as decideRun's memo does
  for (const s of specs) {
    let schedule = naiveParsed.get(s);
    if (schedule === undefined) {
      const r = parseStandard(s);
      if (!r.ok) continue;
      schedule = r.schedule;
      naiveParsed.set(s, schedule);
    }
    let latest: number | undefined;
    for (let t = schedule.next(dayBack.getTime()); t !== undefined && t <= start; t = schedule.next(t))
      latest = t;
    if (latest !== undefined) naiveRuns++;
  }
  const naiveDecideAllMs = performance.now() - t0;
  if (runs !== naiveRuns) throw new Error(`decideRun ran ${runs}, the naive walk ${naiveRuns}`);

  return {
    heapForAllMb: round(heapForAllMb),
    heapPerScheduleBytes: Math.round((heapForAllMb * 1024 * 1024) / N),
    setAllMs: round(setAllMs),
    setAllWarmMs: round(setAllWarmMs),
    nextAllMs: round(median(nextRounds)),
    decideRunAllDayBackMs: round(decideAllMs),
    baselineNaiveWalkDecideAllMs: round(naiveDecideAllMs),
  };
}
const staticResults = staticMetrics();

// (c) dispatch lag over a real minute: the scheduler, then the baseline.
const everySeconds = (i: number): number => (i % 60) + 1;
const everySpec = (i: number): string => `@every ${everySeconds(i)}s`;

interface LagRun {
  lags: Float64Array;
  count: number;
  cpuMs: number;
  heapMb: number;
  /** The longest GC pause and the event loop's longest delay while measuring: what a lag outlier was. */
  gcMaxMs: number;
  eventLoopDelayMaxMs: number;
}

async function measure(
  durationMs: number,
  arm: (record: (scheduled: number) => void) => () => void,
): Promise<LagRun> {
  const lags = new Float64Array(2_000_000);
  let count = 0;
  let open = true;
  const record = (scheduled: number): void => {
    if (open && count < lags.length) lags[count++] = Date.now() - scheduled;
  };
  const h0 = heapMb();
  const cpu0 = process.cpuUsage();
  const stop = arm(record);
  const h1 = heapMb();
  let gcMaxMs = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMaxMs = Math.max(gcMaxMs, e.duration);
  });
  gcs.observe({ entryTypes: ["gc"] });
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  await new Promise((r) => setTimeout(r, ARM_LEAD_MS + durationMs));
  open = false;
  delay.disable();
  for (const e of gcs.takeRecords()) gcMaxMs = Math.max(gcMaxMs, e.duration);
  gcs.disconnect();
  const cpu = process.cpuUsage(cpu0);
  stop();
  return {
    lags: lags.slice(0, count).sort(),
    count,
    cpuMs: (cpu.user + cpu.system) / 1000,
    heapMb: h1 - h0,
    gcMaxMs,
    eventLoopDelayMaxMs: delay.max / 1e6,
  };
}

/** `after` for key i: its first fire falls within its first period after `base`, spread over the period;
 *  `base` is ARM_LEAD_MS after arming starts, so no fire is due while 10,000 keys are being set. */
const stagger = (base: number, i: number): number => base - ((i * 7919) % (everySeconds(i) * 1000));

const scheduled = await measure(MINUTE_MS, (record) => {
  const s = createScheduler({ now: Date.now, timers: REAL_TIMERS });
  const base = Date.now() + ARM_LEAD_MS;
  for (let i = 0; i < N; i++)
    s.set(`k${i}`, everySpec(i), new Date(stagger(base, i)), (t) => record(t.getTime()));
  return () => s.stop();
});

const baseline = await measure(BASELINE_MS, (record) => {
  const handles = new Array<NodeJS.Timeout | undefined>(N);
  const base = Date.now() + ARM_LEAD_MS;
  let live = true;
  for (let i = 0; i < N; i++) {
    const r = parseStandard(everySpec(i));
    if (!r.ok) throw new Error(r.error);
    const schedule = r.schedule;
    const chain = (at: number): void => {
      handles[i] = setTimeout(
        () => {
          record(at);
          const next = schedule.next(at);
          if (live && next !== undefined) chain(next);
        },
        Math.max(0, at - Date.now()),
      );
    };
    const first = schedule.next(stagger(base, i));
    if (first !== undefined) chain(first);
  }
  return () => {
    live = false;
    for (const h of handles) clearTimeout(h);
  };
});

const lagMetrics = (prefix: string, r: LagRun, seconds: number) => ({
  [`${prefix}Fires`]: r.count,
  [`${prefix}FiresPerSecond`]: Math.round(r.count / seconds),
  [`${prefix}LagP50Ms`]: percentile(r.lags, 50),
  [`${prefix}LagP99Ms`]: percentile(r.lags, 99),
  [`${prefix}LagMaxMs`]: percentile(r.lags, 100),
  [`${prefix}LagMinMs`]: r.count > 0 ? (r.lags[0] as number) : null,
  [`${prefix}CpuPercent`]: round((100 * r.cpuMs) / (seconds * 1000), 1),
  [`${prefix}HeapMb`]: round(r.heapMb),
  [`${prefix}GcMaxPauseMs`]: round(r.gcMaxMs, 1),
  [`${prefix}EventLoopDelayMaxMs`]: round(r.eventLoopDelayMaxMs, 1),
});

process.stdout.write(
  JSON.stringify({
    name: `scheduler: ${N} schedules (${distinct} distinct strings), one timer`,
    metrics: {
      ...staticResults,
      ...lagMetrics("dispatch", scheduled, MINUTE_MS / 1000),
      ...lagMetrics("baselineSetTimeout", baseline, BASELINE_MS / 1000),
      baselineNote: `10,000 independent setTimeout chains, same @every schedules, ${BASELINE_MS / 1000} s after the scheduler's minute`,
    },
    targets: [
      { metric: "heapForAllMb", op: "<=", value: 20 },
      { metric: "setAllMs", op: "<=", value: 200 },
      { metric: "nextAllMs", op: "<=", value: 200 },
      { metric: "dispatchLagP99Ms", op: "<=", value: 50 },
    ],
  }),
);
