// Regenerates test/fixtures/schedule/robfig-golden.json from the real robfig/cron v3.0.1 (Go oracle).
//
// Run by hand on a machine with Go and Debian's golang-github-robfig-cron-dev (GOPATH /usr/share/gocode):
//
//   node test/oracle/generate-golden.ts
//
// The cases are in golden-cases.ts. The fixture is committed; test/unit/schedule/golden.test.ts compares
// the TypeScript port with it on every machine, Go or not.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { GOLDEN_CASES } from "./golden-cases.ts";
import { oracleUnavailable, runOracle } from "./robfig-oracle.ts";

const why = oracleUnavailable();
if (why !== undefined) {
  console.error(`cannot generate: ${why}`);
  process.exit(1);
}
const results = runOracle(GOLDEN_CASES);
const goVersion = execFileSync("go", ["version"], { encoding: "utf8" }).trim();
const tzdata =
  /^# version (\S+)/m.exec(readFileSync("/usr/share/zoneinfo/tzdata.zi", "utf8"))?.[1] ?? "unknown";
const lines = GOLDEN_CASES.map((c, i) => JSON.stringify({ ...c, result: stripSpec(results[i]) }));
const header = {
  generatedBy: "node test/oracle/generate-golden.ts",
  robfig: "github.com/robfig/cron v3.0.1 ParseStandard + Schedule.Next, TZ=UTC",
  go: goVersion,
  tzdata,
};
const text = `{\n"meta": ${JSON.stringify(header)},\n"cases": [\n${lines.join(",\n")}\n]\n}\n`;
const target = join(dirname(fileURLToPath(import.meta.url)), "../fixtures/schedule/robfig-golden.json");
writeFileSync(target, text);
console.log(`wrote ${lines.length} cases to ${target}`);

function stripSpec(r: unknown): unknown {
  const { spec: _spec, ...rest } = r as { spec: string };
  return rest;
}
