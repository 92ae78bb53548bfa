#!/usr/bin/env node
// Entry point of the `casskeeper` command. From a checkout it runs the TypeScript sources directly (Node 24
// strips types); from an installed package (where Node refuses to strip types under node_modules) it runs
// the compiled dist/.
import { existsSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(`casskeeper needs Node.js 24 or newer; this is ${process.version}\n`);
  process.exit(2);
}
// Reuses compiled code across runs (a third off start-up); a no-op where the cache directory is not writable.
module.enableCompileCache?.();
const source = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
const useSource = existsSync(source) && !source.includes("/node_modules/");
const entry = useSource ? "../src/cli/main.ts" : "../dist/cli/main.js";
const { run } = await import(entry);

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
};

process.exitCode = await run(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin,
  now: () => Date.now(),
  cwd: process.cwd(),
});
