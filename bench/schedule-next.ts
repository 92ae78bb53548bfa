// Next-fire-time computations per second, over a mix of schedules (UTC, zoned with DST, descriptors,
// @every). Baseline, same run, same schedules: robfig/cron v3.0.1 itself in Go (bench/robfig/), when `go` and
// Debian's golang-github-robfig-cron-dev are installed; null otherwise.
// Target (issue #2): ≥ 200,000 next() per second.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { nextTimes, parseStandard } from "../src/core/schedule/index.ts";

export const SCHEDULES = [
  "0 2 * * *",
  "*/5 * * * *",
  "@midnight",
  "CRON_TZ=Europe/Paris 30 2 * * MON-FRI",
  "CRON_TZ=America/New_York 0 */6 * * *",
  "15 3 1 * *",
  "0 0 29 2 *",
  "@every 90m",
];
const FROM = Date.UTC(2024, 0, 1);
const STEPS = 1000; // consecutive next() calls per schedule and round

const schedules = SCHEDULES.map((s) => {
  const r = parseStandard(s);
  if (!r.ok) throw new Error(`${s}: ${r.error}`);
  return r.schedule;
});

function round(): number {
  let calls = 0;
  for (const s of schedules) {
    calls += nextTimes(s, FROM, STEPS).length;
  }
  return calls;
}

for (let i = 0; i < 5; i++) round(); // warm-up
let calls = 0;
const t0 = performance.now();
while (performance.now() - t0 < 2000) calls += round();
const perSecond = Math.round(calls / ((performance.now() - t0) / 1000));

let robfigPerSecond: number | null = null;
let robfigNote = "go or golang-github-robfig-cron-dev not installed";
const goSource = fileURLToPath(new URL("./robfig/main.go", import.meta.url));
if (existsSync("/usr/share/gocode/src/github.com/robfig/cron/spec.go")) {
  try {
    const { stdout } = await promisify(execFile)("go", ["run", goSource, String(STEPS), ...SCHEDULES], {
      env: { ...process.env, GO111MODULE: "off", GOPATH: "/usr/share/gocode", TZ: "UTC", GOFLAGS: "" },
    });
    robfigPerSecond = Number(JSON.parse(stdout).perSecond);
    robfigNote = "robfig/cron v3.0.1, Go, same schedules";
  } catch (e) {
    robfigNote = `go run failed: ${(e as Error).message.split("\n")[0]}`;
  }
}

process.stdout.write(
  JSON.stringify({
    name: `schedule next() over ${SCHEDULES.length} schedules`,
    metrics: {
      nextPerSecond: perSecond,
      baselineRobfigGoNextPerSecond: robfigPerSecond,
      baselineNote: robfigNote,
      ratioToRobfig: robfigPerSecond === null ? null : Number((perSecond / robfigPerSecond).toFixed(3)),
    },
    targets: [{ metric: "nextPerSecond", op: ">=", value: 200_000 }],
  }),
);
