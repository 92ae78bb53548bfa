// Prints the README's table of rule codes from the code registries themselves:
//   node scripts/codes-table.ts
// test/unit/readme.test.ts fails when README.md is missing a code, so the table cannot drift.

import { CODES } from "../src/core/rules/codes.ts";
import { SCHEDULE_CODES } from "../src/core/schedule/check.ts";

const rows = Object.entries({ ...SCHEDULE_CODES, ...CODES }).map(
  ([code, info]) => `| \`${code}\` | ${info.severity} | ${info.description.replaceAll("|", "\\|")} |`,
);
process.stdout.write(`${["| code | severity | meaning |", "|---|---|---|", ...rows].join("\n")}\n`);
