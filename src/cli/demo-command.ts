// `casskeeper demo` (what `npm start` runs): validates the bundled examples/ against examples/world.yaml and
// prints what the scheduled backups will do next — the whole CLI in one screen, no cluster needed.

import { fileURLToPath } from "node:url";
import { nextTimes, parseStandard } from "../core/schedule/index.ts";
import type { CassandraBackup } from "../core/types.ts";
import { collectYamlFiles } from "./files.ts";
import { loadFiles } from "./load.ts";
import { EXIT_INVALID, EXIT_OK, type Io } from "./main.ts";
import { rfc3339 } from "./schedule-command.ts";
import { formatLocated, loadWorld, validatePaths } from "./validate-command.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

export async function demoCommand(_args: readonly string[], io: Io): Promise<number> {
  const worldFile = `${EXAMPLES}world.yaml`;
  const policies = `${EXAMPLES}policies`;
  io.stdout(`$ casskeeper validate --world examples/world.yaml examples/policies\n`);
  const world = await loadWorld([worldFile], "default", io);
  if (world === undefined) return EXIT_INVALID;
  const report = await validatePaths([policies], { world, namespace: "default", cwd: io.cwd });
  if (report === undefined) return EXIT_INVALID;
  for (const p of report.problems) io.stdout(`${formatLocated(p)}\n`);
  io.stdout(
    `${report.valid ? "valid" : "invalid"}: ${report.files} files, ${report.documents} documents, ` +
      `${report.errors} errors, ${report.warnings} warnings\n\n`,
  );

  io.stdout("Scheduled backups (times in UTC):\n");
  const loaded = await loadFiles(await collectYamlFiles([policies]), io.cwd);
  const now = io.now();
  for (const doc of loaded.documents) {
    const b = doc.object as CassandraBackup;
    if (b?.kind !== "CassandraBackup") continue;
    const name = `${b.metadata?.namespace ?? "default"}/${b.metadata?.name ?? "?"}`;
    const schedule = b.spec?.schedule;
    if (schedule === undefined || schedule === "") {
      io.stdout(`  ${name}: runs once, when created\n`);
      continue;
    }
    const parsed = parseStandard(schedule);
    const next = parsed.ok ? nextTimes(parsed.schedule, now, 3).map(rfc3339).join(", ") : "invalid schedule";
    io.stdout(`  ${name} "${schedule}": ${next}\n`);
  }
  io.stdout(`\nTry: npx casskeeper schedule explain "CRON_TZ=Europe/Paris 30 2 * * 1-5"\n`);
  return report.valid ? EXIT_OK : EXIT_INVALID;
}
