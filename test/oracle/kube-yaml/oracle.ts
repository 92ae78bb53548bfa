// Runs the Go oracle (test/oracle/kube-yaml/main.go: ghodss/yaml YAMLToJSON on gopkg.in/yaml.v2, what kubectl
// does) on a batch of YAML documents. Needs `go` and Debian's golang-github-ghodss-yaml-dev and
// golang-gopkg-yaml.v2-dev under /usr/share/gocode; `oracleUnavailable()` says why it cannot run, so tests can
// skip on machines without them (CI).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const GOPATH = "/usr/share/gocode";
const SOURCES = [
  join(GOPATH, "src/github.com/ghodss/yaml/yaml.go"),
  join(GOPATH, "src/gopkg.in/yaml.v2/yaml.go"),
];
const MAIN = join(dirname(fileURLToPath(import.meta.url)), "main.go");

/** YAMLToJSON's output text, or its error. */
export type KubeYamlResult = { readonly json: string } | { readonly error: string };

/** Undefined when the oracle can run here, else the reason it cannot. */
export function oracleUnavailable(): string | undefined {
  const go = spawnSync("go", ["version"], { encoding: "utf8" });
  if (go.error !== undefined || go.status !== 0) return "go not installed";
  const missing = SOURCES.find((f) => !existsSync(f));
  return missing === undefined ? undefined : `Go source not found at ${missing}`;
}

let binary: string | undefined;

const env = (): NodeJS.ProcessEnv => ({ ...process.env, GO111MODULE: "off", GOPATH, GOFLAGS: "" });

function build(): string {
  if (binary === undefined) {
    const out = join(mkdtempSync(join(tmpdir(), "kube-yaml-oracle-")), "kube-yaml-oracle");
    execFileSync("go", ["build", "-o", out, MAIN], { env: env(), stdio: ["ignore", "ignore", "inherit"] });
    binary = out;
  }
  return binary;
}

/** Runs every document through one oracle process; answers come back in input order. */
export function runKubeYaml(documents: readonly string[]): KubeYamlResult[] {
  if (documents.length === 0) return [];
  const input = `${documents.map((yaml) => JSON.stringify({ yaml })).join("\n")}\n`;
  const stdout = execFileSync(build(), [], { env: env(), input, encoding: "utf8", maxBuffer: 1 << 30 });
  const out = stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as KubeYamlResult);
  if (out.length !== documents.length)
    throw new Error(`oracle answered ${out.length} of ${documents.length}`);
  return out;
}
