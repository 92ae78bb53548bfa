// Runs the Go oracle (test/oracle/robfig/main.go, the real robfig/cron v3.0.1) on a batch of cases.
// Needs `go` and the robfig source from Debian's golang-github-robfig-cron-dev under /usr/share/gocode;
// `oracleUnavailable()` says why it cannot run, so tests can skip on machines without them (CI).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const GOPATH = "/usr/share/gocode";
const ROBFIG = join(GOPATH, "src/github.com/robfig/cron/spec.go");
const MAIN = join(dirname(fileURLToPath(import.meta.url)), "robfig", "main.go");

export interface OracleCase {
  readonly spec: string;
  /** RFC 3339 instant, e.g. 2024-01-01T00:00:30Z. */
  readonly from: string;
  readonly count: number;
}

/** `hang`: robfig's Next never returned after the times listed (see main.go); the port answers undefined. */
export type OracleResult =
  | { readonly spec: string; readonly ok: true; readonly next: readonly string[]; readonly hang?: true }
  | { readonly spec: string; readonly ok: false; readonly error: string }
  | { readonly spec: string; readonly panic: string };

/** Undefined when the oracle can run here, else the reason it cannot. */
export function oracleUnavailable(): string | undefined {
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.error !== undefined || go.status !== 0) return "go not installed";
  if (!existsSync(ROBFIG)) return `robfig/cron source not found at ${ROBFIG}`;
  return undefined;
}

let binary: string | undefined;

const env = (): NodeJS.ProcessEnv => ({ ...process.env, TZ: "UTC", GO111MODULE: "off", GOPATH, GOFLAGS: "" });

/** Builds the oracle once per version of main.go into the temp dir (reused by later runs). */
function build(): string {
  if (binary === undefined) {
    const hash = createHash("sha256").update(readFileSync(MAIN)).digest("hex").slice(0, 12);
    const out = join(tmpdir(), `casskeeper-robfig-oracle-${hash}`);
    if (!existsSync(out)) {
      // Build beside it and rename, so concurrent test processes never run a half-written binary.
      const partial = `${out}.${process.pid}`;
      execFileSync("go", ["build", "-o", partial, MAIN], {
        env: env(),
        stdio: ["ignore", "ignore", "inherit"],
      });
      renameSync(partial, out);
    }
    binary = out;
  }
  return binary;
}

/** Runs the cases through one oracle process; answers come back in input order. */
export function runOracle(cases: readonly OracleCase[]): OracleResult[] {
  return runOracleLines(cases) as OracleResult[];
}

/** Go's UTC offset (seconds) of `zone` at each instant, from the same zoneinfo robfig reads. */
export function goOffsets(zone: string, at: readonly string[]): number[] {
  const [r] = runOracleLines([{ zone, at }]) as [{ offsets?: number[]; error?: string }];
  if (r.error !== undefined || r.offsets === undefined) throw new Error(`oracle: ${r.error}`);
  return r.offsets;
}

function runOracleLines(lines: readonly object[]): unknown[] {
  if (lines.length === 0) return [];
  const input = `${lines.map((c) => JSON.stringify(c)).join("\n")}\n`;
  const stdout = execFileSync(build(), [], { env: env(), input, encoding: "utf8", maxBuffer: 1 << 30 });
  const out = stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as unknown);
  if (out.length !== lines.length) throw new Error(`oracle answered ${out.length} of ${lines.length} lines`);
  return out;
}

export type OracleDuration =
  | { readonly duration: string; readonly ok: true; readonly nanos: string; readonly string: string }
  | { readonly duration: string; readonly ok: false; readonly error: string };

/** Go's time.ParseDuration and Duration.String for each input. */
export function goDurations(inputs: readonly string[]): OracleDuration[] {
  return runOracleLines(inputs.map((duration) => ({ duration }))) as OracleDuration[];
}
