// Files on disk → located documents, with every read bounded. Shared by `validate` and `--world`.

import {
  DEFAULT_LIMITS,
  decodeText,
  type LoadedDocument,
  type LoadLimits,
  type LocatedProblem,
  parseYamlDocuments,
} from "../core/yaml-documents.ts";
import { displayPath, readBounded } from "./files.ts";

export interface Loaded {
  readonly documents: LoadedDocument[];
  readonly problems: LocatedProblem[];
}

export async function loadFiles(
  files: readonly string[],
  cwd: string,
  limits: LoadLimits = DEFAULT_LIMITS,
): Promise<Loaded> {
  const documents: LoadedDocument[] = [];
  const problems: LocatedProblem[] = [];
  for (const path of files) {
    const shown = displayPath(path, cwd);
    const bytes = await readBounded(path, limits.maxBytes);
    const decoded = decodeText(shown, bytes, limits);
    if ("problem" in decoded) {
      problems.push(decoded.problem);
      continue;
    }
    const r = parseYamlDocuments(shown, decoded.text, limits);
    documents.push(...r.documents);
    problems.push(...r.problems);
  }
  return { documents, problems };
}
