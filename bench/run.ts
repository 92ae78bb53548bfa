// `npm run bench`: runs each benchmark in its own Node process (so peak RSS is that benchmark's alone) and
// writes bench/results.json with the targets, the measurements and the baselines measured in the same run.
// Targets are checked here, never in timed tests.

import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface BenchOutput {
  name: string;
  metrics: Record<string, number | string | null>;
  targets: { metric: string; op: "<=" | ">="; value: number; met?: boolean }[];
}

const benches = [
  "validate-documents.ts",
  "schedule-next.ts",
  "webhook.ts",
  "git-fetch.ts",
  "git-sync.ts",
  "scheduler.ts",
];
const results: BenchOutput[] = [];
for (const file of benches) {
  const { stdout } = await run(process.execPath, ["--expose-gc", here(file)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const out = JSON.parse(stdout) as BenchOutput;
  for (const t of out.targets) {
    const v = out.metrics[t.metric];
    t.met = typeof v === "number" && (t.op === "<=" ? v <= t.value : v >= t.value);
  }
  results.push(out);
  process.stdout.write(`${out.name}\n`);
  for (const [k, v] of Object.entries(out.metrics)) process.stdout.write(`  ${k}: ${v}\n`);
  for (const t of out.targets)
    process.stdout.write(`  target ${t.metric} ${t.op} ${t.value}: ${t.met ? "met" : "MISSED"}\n`);
}

const report = {
  date: new Date().toISOString(),
  machine: {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "",
    memoryBytes: totalmem(),
  },
  results,
};
await writeFile(here("results.json"), `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write("wrote bench/results.json\n");
if (results.some((r) => r.targets.some((t) => !t.met))) process.exitCode = 1;
