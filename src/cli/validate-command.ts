// `casskeeper validate [--world FILE]... [--namespace NS] [--output text|json] PATH...`
// The same structure checks, rules and cross-document checks as the webhook and the Git sync, offline.

import { parseArgs } from "node:util";
import { hasErrors } from "../core/problem.ts";
import { validateDocuments } from "../core/validate-set.ts";
import { EMPTY_WORLD, type WorldSnapshot } from "../core/world.ts";
import { buildWorld } from "../core/world-build.ts";
import type { LocatedProblem } from "../core/yaml-documents.ts";
import { loadStructuralValidator } from "../schema/bundled-crds.ts";
import { collectYamlFiles } from "./files.ts";
import { loadFiles } from "./load.ts";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, type Io, outputFormat, USAGE, UsageError } from "./main.ts";

export interface ValidationReport {
  readonly valid: boolean;
  readonly files: number;
  readonly documents: number;
  readonly errors: number;
  readonly warnings: number;
  readonly problems: readonly LocatedProblem[];
}

export async function validateCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      world: { type: "string", multiple: true },
      namespace: { type: "string", short: "n" },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const format = outputFormat(values.output);
  if (positionals.length === 0) throw new UsageError("validate needs at least one file or directory");

  const worldFiles = values.world ?? [];
  const world = await loadWorld(worldFiles, values.namespace ?? "default", io);
  if (world === undefined) return EXIT_USAGE;
  const report = await validatePaths(positionals, {
    world,
    namespace: values.namespace ?? "default",
    cwd: io.cwd,
  });
  if (report === undefined) {
    io.stderr(`casskeeper: no *.yaml or *.yml files in ${positionals.join(", ")}\n`);
    return EXIT_USAGE;
  }
  if (format === "json") {
    io.stdout(`${JSON.stringify(reportJson(report), null, 2)}\n`);
  } else {
    for (const p of report.problems) io.stdout(`${formatLocated(p)}\n`);
    if (!world.known) {
      io.stderr("note: no --world given: secrets, clusters and backup references were not checked\n");
    }
    io.stderr(`${summary(report)}\n`);
  }
  return report.valid ? EXIT_OK : EXIT_INVALID;
}

/** Loads `--world` files; a world file that cannot be read or parsed is a usage error (exit 2). */
export async function loadWorld(
  files: readonly string[],
  namespace: string,
  io: Io,
): Promise<WorldSnapshot | undefined> {
  if (files.length === 0) return EMPTY_WORLD;
  const loaded = await loadFiles(await collectYamlFiles(files), io.cwd);
  if (loaded.problems.length > 0) {
    for (const p of loaded.problems) io.stderr(`${formatLocated(p)}\n`);
    io.stderr("casskeeper: the --world files above cannot be read\n");
    return undefined;
  }
  return buildWorld(
    loaded.documents.map((d) => d.object),
    namespace,
  ).world;
}

export async function validatePaths(
  paths: readonly string[],
  opts: { world: WorldSnapshot; namespace: string; cwd: string },
): Promise<ValidationReport | undefined> {
  const files = await collectYamlFiles(paths);
  if (files.length === 0) return undefined;
  const loaded = await loadFiles(files, opts.cwd);
  const result = validateDocuments(loaded.documents, {
    structure: await loadStructuralValidator(),
    world: opts.world,
    defaultNamespace: opts.namespace,
  });
  const problems = [...loaded.problems, ...result.problems].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  );
  const errors = problems.filter((p) => p.problem.severity === "error").length;
  return {
    valid: !hasErrors(problems.map((p) => p.problem)),
    files: files.length,
    documents: loaded.documents.length,
    errors,
    warnings: problems.length - errors,
    problems,
  };
}

/** `path:line:col: error|warning: spec.field: message` — the form editors and CI annotators understand. */
export function formatLocated(p: LocatedProblem): string {
  const field = p.problem.path === "" ? "" : `${p.problem.path}: `;
  return `${p.file}:${p.line}:${p.column}: ${p.problem.severity}: ${field}${p.problem.message}`;
}

/** A located problem as every command's `--output json` prints it. */
export function problemJson(p: LocatedProblem) {
  return {
    file: p.file,
    line: p.line,
    column: p.column,
    severity: p.problem.severity,
    code: p.problem.code,
    field: p.problem.path,
    message: p.problem.message,
  };
}

function summary(r: ValidationReport): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const verdict = r.valid ? "valid" : "invalid";
  return `${verdict}: ${plural(r.files, "file")}, ${plural(r.documents, "document")}, ${plural(r.errors, "error")}, ${plural(r.warnings, "warning")}`;
}

function reportJson(r: ValidationReport) {
  return {
    valid: r.valid,
    files: r.files,
    documents: r.documents,
    errors: r.errors,
    warnings: r.warnings,
    problems: r.problems.map(problemJson),
  };
}
