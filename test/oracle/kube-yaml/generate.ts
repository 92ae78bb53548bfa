// Regenerates test/fixtures/loader/kube-yaml-golden.json: what kubectl makes of each document in cases.ts,
// from the real ghodss/yaml YAMLToJSON on gopkg.in/yaml.v2 (the Go oracle, main.go next to this file).
//
// Run by hand on a machine with Go and Debian's golang-github-ghodss-yaml-dev and golang-gopkg-yaml.v2-dev
// (GOPATH /usr/share/gocode):
//
//   node test/oracle/kube-yaml/generate.ts
//
// The fixture is committed; test/unit/loader/kube-yaml-golden.test.ts compares both YAML readers with it on
// every machine, Go or not.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { goldenInputs } from "./cases.ts";
import { GOPATH, oracleUnavailable, runKubeYaml } from "./oracle.ts";

const why = oracleUnavailable();
if (why !== undefined) {
  console.error(`cannot generate: ${why}`);
  process.exit(1);
}
const inputs = goldenInputs();
const results = runKubeYaml(inputs);
const version = (file: string) =>
  /^Version: (\S+)/m.exec(
    execFileSync("dpkg", ["-s", file], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }),
  )?.[1] ?? "unknown";
const header = {
  generatedBy: "node test/oracle/kube-yaml/generate.ts",
  oracle: "github.com/ghodss/yaml YAMLToJSON on gopkg.in/yaml.v2",
  go: execFileSync("go", ["version"], { encoding: "utf8" }).trim(),
  ghodssYaml: version("golang-github-ghodss-yaml-dev"),
  yamlV2: version("golang-gopkg-yaml.v2-dev"),
  gopath: GOPATH,
};
const lines = inputs.map((yaml, i) => JSON.stringify({ yaml, ...results[i] }));
const text = `{\n"meta": ${JSON.stringify(header)},\n"cases": [\n${lines.join(",\n")}\n]\n}\n`;
const target = join(dirname(fileURLToPath(import.meta.url)), "../../fixtures/loader/kube-yaml-golden.json");
const before = (() => {
  try {
    return readFileSync(target, "utf8");
  } catch {
    return "";
  }
})();
writeFileSync(target, text);
console.log(`wrote ${lines.length} cases to ${target}${before === text ? " (unchanged)" : ""}`);
