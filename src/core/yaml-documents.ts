// YAML text → Kubernetes objects with positions. Pure: the caller reads the bytes (from disk, a Git tree or a
// request) and hands them over. Every finding is located as file:line:column (1-based), and every field path a
// rule reports (`spec.schedule`, `spec.rename["k1.t1"]`) maps back to the line that holds it.
//
// Abuse is bounded and becomes a finding, never a hang or a crash: file size, document count, alias expansion
// (billion laughs), nesting depth, binary and non-UTF-8 input.
//
// YAML 1.1 on purpose: kubectl and the API server read manifests with go-yaml v2 (sigs.k8s.io/yaml), where
// `no`, `on` and `yes` are booleans. Reading them as YAML 1.2 strings would let a file pass here and fail there.

import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Node as YamlNode,
} from "yaml";
import { error, joinPath, type Problem } from "./problem.ts";

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface LoadLimits {
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** Most documents (after `List` expansion) in one file. */
  readonly maxDocuments: number;
  /** Most alias dereferences while building one document (yaml's `maxAliasCount`). */
  readonly maxAliases: number;
  /** Deepest nesting of maps and sequences. */
  readonly maxDepth: number;
}

export const DEFAULT_LIMITS: LoadLimits = {
  maxBytes: 1024 * 1024,
  maxDocuments: 1000,
  maxAliases: 100,
  maxDepth: 64,
};

/** One object from a file, and a way to find the line of any field path inside it. */
export interface LoadedDocument {
  readonly file: string;
  /** 0-based index among the objects of the file (after `List` expansion). */
  readonly index: number;
  readonly object: unknown;
  /** Where the object starts. */
  readonly position: Position;
  /** The position of the deepest existing node on `path` (the object's start if none). */
  positionOf(path: string): Position;
}

/** A finding tied to a place in a file. */
export interface LocatedProblem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly problem: Problem;
}

export interface LoadResult {
  readonly documents: LoadedDocument[];
  readonly problems: LocatedProblem[];
}

const START: Position = { line: 1, column: 1 };
const MAX_SYNTAX_ERRORS = 5;

/** Decodes bytes as UTF-8 text, refusing binary content and invalid encodings. */
export function decodeText(
  file: string,
  bytes: Uint8Array,
  limits: LoadLimits = DEFAULT_LIMITS,
): { text: string } | { problem: LocatedProblem } {
  const at = (code: string, message: string) => ({
    problem: { file, ...START, problem: error("", code, message) },
  });
  if (bytes.byteLength > limits.maxBytes) {
    return at("file.too-large", `file is larger than the limit of ${limits.maxBytes} bytes`);
  }
  if (bytes.subarray(0, 8192).includes(0))
    return at("file.binary", "binary file (contains NUL bytes), not YAML");
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    return { text };
  } catch {
    return at("file.encoding", "file is not valid UTF-8");
  }
}

/** Parses every YAML document of one file into objects with positions. */
export function parseYamlDocuments(
  file: string,
  text: string,
  limits: LoadLimits = DEFAULT_LIMITS,
): LoadResult {
  const problems: LocatedProblem[] = [];
  const documents: LoadedDocument[] = [];
  const lines = new LineCounter();
  const locate = (offset: number): Position => {
    const p = lines.linePos(offset);
    return { line: p.line, column: p.col };
  };
  const report = (pos: Position, code: string, message: string, path = "") =>
    problems.push({ file, line: pos.line, column: pos.column, problem: error(path, code, message) });

  if (text.length > limits.maxBytes) {
    report(START, "file.too-large", `file is larger than the limit of ${limits.maxBytes} bytes`);
    return { documents, problems };
  }

  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    parsed = parseAllDocuments(text, {
      lineCounter: lines,
      version: "1.1",
      uniqueKeys: true,
      prettyErrors: false,
    });
  } catch (e) {
    report(START, "yaml.invalid", `cannot parse YAML: ${describe(e)}`);
    return { documents, problems };
  }
  const docs = Array.isArray(parsed) ? parsed : [];

  for (const doc of docs) {
    if (doc.errors.length > 0) {
      // One bad byte can cascade into hundreds of parser errors; the first few locate the mistake.
      for (const e of doc.errors.slice(0, MAX_SYNTAX_ERRORS)) {
        report(locate(e.pos[0]), "yaml.invalid", describe(e));
      }
      continue;
    }
    const root = doc.contents;
    if (root === null || (isScalar(root) && (root.value === null || root.value === undefined))) continue;
    const rootPos = locate(root.range?.[0] ?? 0);
    const depth = maxDepth(root as YamlNode, limits.maxDepth);
    if (depth > limits.maxDepth) {
      report(rootPos, "yaml.too-deep", `document nests deeper than ${limits.maxDepth} levels`);
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliases });
    } catch (e) {
      const message = describe(e);
      const aliases = /alias/i.test(message);
      report(
        rootPos,
        aliases ? "yaml.aliases" : "yaml.invalid",
        aliases
          ? `too many YAML alias expansions (limit ${limits.maxAliases})`
          : `cannot read YAML: ${message}`,
      );
      continue;
    }

    const positions = indexPositions(root as YamlNode, locate);
    const positionOf = (prefix: string) => (path: string) => findPosition(positions, prefix, path, rootPos);
    const items = listItems(value);
    if (items === undefined) {
      documents.push({
        file,
        index: documents.length,
        object: value,
        position: rootPos,
        positionOf: positionOf(""),
      });
    } else {
      items.forEach((item, i) => {
        const prefix = joinPath("items", i);
        const position = positions.get(prefix) ?? rootPos;
        documents.push({
          file,
          index: documents.length,
          object: item,
          position,
          positionOf: positionOf(prefix),
        });
      });
    }
    if (documents.length > limits.maxDocuments) {
      report(rootPos, "file.too-many-documents", `more than ${limits.maxDocuments} documents in one file`);
      documents.length = limits.maxDocuments;
      break;
    }
  }
  return { documents, problems };
}

/** `kind: List` (what `kubectl get -o yaml` prints) is expanded into its items. */
function listItems(value: unknown): unknown[] | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as { kind?: unknown; items?: unknown };
  if (typeof v.kind !== "string" || !v.kind.endsWith("List") || !Array.isArray(v.items)) return undefined;
  return v.items;
}

/** Depth of the node tree, counted iteratively so a hostile file cannot exhaust the stack. Stops at limit+1. */
function maxDepth(root: YamlNode, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (depth > deepest) deepest = depth;
    if (deepest > limit) return deepest;
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items) {
        if (isPair(item)) {
          stack.push([item.key, depth + 1]);
          stack.push([item.value, depth + 1]);
        } else stack.push([item, depth + 1]);
      }
    }
  }
  return deepest;
}

/**
 * Maps each field path (in `joinPath` form) to where it is written: the value for scalars (the column a user
 * must edit), the key for maps and sequences (the line that names the field).
 */
function indexPositions(root: YamlNode, locate: (offset: number) => Position): Map<string, Position> {
  const out = new Map<string, Position>();
  const stack: [unknown, string][] = [[root, ""]];
  while (stack.length > 0) {
    const [node, path] = stack.pop() as [unknown, string];
    if (isMap(node)) {
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof k !== "string" && typeof k !== "number" && typeof k !== "boolean") continue;
        const childPath = joinPath(path, String(k));
        const value = pair.value;
        const keyOffset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
        const valueOffset = isScalar(value) ? value.range?.[0] : undefined;
        const offset = valueOffset ?? keyOffset;
        if (offset !== undefined) out.set(childPath, locate(offset));
        if (!isAlias(value)) stack.push([value, childPath]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        const childPath = joinPath(path, i);
        const offset = (item as YamlNode | null)?.range?.[0];
        if (offset !== undefined) out.set(childPath, locate(offset));
        if (!isAlias(item)) stack.push([item, childPath]);
      });
    }
  }
  return out;
}

/** The position of `path` or of its nearest ancestor that exists in the file. */
function findPosition(
  positions: Map<string, Position>,
  prefix: string,
  path: string,
  fallback: Position,
): Position {
  let p = path === "" ? prefix : prefix === "" ? path : `${prefix}.${path}`.replace(".[", "[");
  for (;;) {
    const hit = positions.get(p);
    if (hit !== undefined) return hit;
    const cut = parentPath(p);
    if (cut === undefined) return positions.get(prefix) ?? fallback;
    p = cut;
  }
}

/** `a.b["x.y"][2]` → `a.b["x.y"]` → `a.b` → `a` → undefined. */
export function parentPath(path: string): string | undefined {
  if (path === "") return undefined;
  if (path.endsWith("]")) {
    // Find the `[` that opens the last bracket, skipping over a quoted key that may itself contain `[`.
    let i = path.length - 2;
    if (path[i] === '"') {
      i--;
      while (i >= 0 && !(path[i] === '"' && path[i - 1] !== "\\")) i--;
      i--;
    } else {
      while (i >= 0 && path[i] !== "[") i--;
    }
    return i <= 0 ? "" : path.slice(0, i);
  }
  const dot = path.lastIndexOf(".");
  return dot < 0 ? "" : path.slice(0, dot);
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

function describe(e: unknown): string {
  const message = firstLine(e instanceof Error ? e.message : String(e));
  if (e instanceof RangeError || /call stack/i.test(message)) return "input too deeply nested";
  return message;
}
