// A revision's files → located documents (pure). The file name of every document and finding is the path in
// the repository, the name `casskeeper plan` prints and a source's status reports, so a finding reads the
// same from the CLI, the status and an Event. Files are read in path order: the same revision always yields
// the same documents in the same order, whatever order the tree or the disk listed them in.

import { error } from "../core/problem.ts";
import {
  DEFAULT_LIMITS,
  decodeText,
  type LoadedDocument,
  type LoadLimits,
  type LocatedProblem,
  parseYamlDocuments,
} from "../core/yaml-documents.ts";
import type { SourceFile } from "./model.ts";

export interface SourceLoad {
  readonly documents: LoadedDocument[];
  readonly problems: LocatedProblem[];
}

export function loadSourceFiles(
  files: readonly SourceFile[],
  limits: LoadLimits = DEFAULT_LIMITS,
): SourceLoad {
  const documents: LoadedDocument[] = [];
  const problems: LocatedProblem[] = [];
  // Code-unit order, not locale order: the same on every machine.
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const file of sorted) {
    // A reader that bounds its reads (the Git source) hands over a too-large file without its bytes.
    const tooLarge = file.tooLarge;
    if (tooLarge !== undefined) {
      const message = `file is ${tooLarge} bytes, larger than the limit of ${limits.maxBytes} bytes`;
      problems.push({ file: file.path, line: 1, column: 1, problem: error("", "file.too-large", message) });
      continue;
    }
    const decoded = decodeText(file.path, file.bytes, limits);
    if ("problem" in decoded) {
      problems.push(decoded.problem);
      continue;
    }
    const r = parseYamlDocuments(file.path, decoded.text, limits);
    documents.push(...r.documents);
    problems.push(...r.problems);
  }
  return { documents, problems };
}
