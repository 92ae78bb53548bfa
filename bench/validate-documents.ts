// Validating 10,000 generated documents (backups and restores, with a world), through the same code path as
// `casskeeper validate`: files on disk → YAML with positions → structure → rules → cross-document checks.
// Baseline, same run, same files, in a child process: YAML parsing alone with the `yaml` package.
// Targets (issue #2): under 2 s wall and under 200 MB peak RSS.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { validatePaths } from "../src/cli/validate-command.ts";
import { buildWorld } from "../src/core/world-build.ts";
import { backup, restore } from "./policy-documents.ts";

const DOCS = 10_000;
const PER_FILE = 100;

function worldObjects(): unknown[] {
  const out: unknown[] = [];
  for (let n = 0; n < 20; n++) {
    const namespace = `ns-${n}`;
    out.push({
      apiVersion: "db.orange.com/v2",
      kind: "CassandraCluster",
      metadata: { name: `cluster-${n}`, namespace },
      spec: {},
    });
    const secret = (name: string, keys: string[]) => ({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name, namespace },
      data: Object.fromEntries(keys.map((k) => [k, "eA=="])),
    });
    out.push(secret("s3-creds", ["awsaccesskeyid", "awssecretaccesskey", "awsregion"]));
    out.push(secret("gcp-creds", ["gcp"]));
    out.push(secret("azure-creds", ["azurestorageaccount", "azurestoragekey"]));
  }
  return out;
}

/** Baseline mode (`validate-documents.ts baseline DIR`): parse the files with yaml alone, print the ms. */
async function baseline(dir: string): Promise<void> {
  const { readdir } = await import("node:fs/promises");
  const t0 = performance.now();
  let parsed = 0;
  for (const name of (await readdir(dir)).sort()) {
    for (const doc of parseAllDocuments(await readFile(join(dir, name), "utf8"))) {
      doc.toJS();
      parsed++;
    }
  }
  process.stdout.write(JSON.stringify({ ms: performance.now() - t0, parsed }));
}

const run = promisify(execFile);
const self = fileURLToPath(import.meta.url);

if (process.argv[2] === "baseline") {
  await baseline(process.argv[3] as string);
} else {
  const dir = await mkdtemp(join(tmpdir(), "casskeeper-bench-"));
  try {
    const files: string[] = [];
    for (let f = 0; f < DOCS / PER_FILE; f++) {
      const docs: string[] = [];
      for (let j = 0; j < PER_FILE; j++) {
        const i = f * PER_FILE + j;
        docs.push(i % 2 === 0 ? backup(i) : restore(i));
      }
      const file = join(dir, `policies-${String(f).padStart(3, "0")}.yaml`);
      await writeFile(file, docs.join("---\n"));
      files.push(file);
    }

    // Baseline in its own process, so its memory does not count against ours: yaml parsing alone.
    const base = JSON.parse((await run(process.execPath, [self, "baseline", dir])).stdout) as {
      ms: number;
      parsed: number;
    };

    const world = buildWorld(worldObjects(), "default").world;
    const t0 = performance.now();
    const report = await validatePaths([dir], { world, namespace: "default", cwd: dir });
    const validateMs = performance.now() - t0;
    if (report === undefined || report.documents !== DOCS || base.parsed !== DOCS)
      throw new Error("bench input not read");
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    // End to end: the real command in a fresh process (start-up, CRD compilation and all).
    const bin = fileURLToPath(new URL("../bin/casskeeper.js", import.meta.url));
    const t1 = performance.now();
    await run(process.execPath, [bin, "validate", "--output", "json", dir], {
      maxBuffer: 256 * 1024 * 1024,
    }).catch((e: { code?: number }) => {
      if (e.code !== 1) throw e; // exit 1 only means some generated documents drew errors
    });
    const cliMs = performance.now() - t1;

    process.stdout.write(
      JSON.stringify({
        name: `validate ${DOCS} documents (${files.length} files)`,
        metrics: {
          validateWallMs: Math.round(validateMs),
          peakRssMb: Math.round(peakRssMb),
          cliEndToEndWallMs: Math.round(cliMs),
          baselineYamlParseOnlyMs: Math.round(base.ms),
          ratioToYamlParse: Number((validateMs / base.ms).toFixed(2)),
          errorsFound: report.errors,
          warningsFound: report.warnings,
        },
        targets: [
          { metric: "validateWallMs", op: "<=", value: 2000 },
          { metric: "cliEndToEndWallMs", op: "<=", value: 2000 },
          { metric: "peakRssMb", op: "<=", value: 200 },
        ],
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
