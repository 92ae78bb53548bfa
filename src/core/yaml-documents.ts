// YAML text → Kubernetes objects with positions. Pure: the caller reads the bytes (from disk, a Git tree or a
// request) and hands them over. Every finding is located as file:line:column (1-based), and every field path a
// rule reports (`spec.schedule`, `spec.rename["k1.t1"]`) maps back to the line that holds it.
//
// Abuse is bounded and becomes a finding, never a hang or a crash: file size, document count, alias expansion
// (billion laughs), nesting depth, binary and non-UTF-8 input.
//
// Objects are what kubectl would send: kubectl and the API server read manifests with sigs.k8s.io/yaml
// (YAMLToJSON over go-yaml v2), where `no`, `on` and `yes` are booleans, `2024-01-01` and `1:20` are strings and
// `.inf` cannot be sent at all. Scalars resolve in yaml-scalars.ts, checked against that Go code.
//
// Two readers, one result: yaml-fast.ts reads the plain block YAML that manifests almost always are, several
// times faster than the `yaml` package; for anything else it declines and the `yaml` package (the parser of
// record, which also writes every syntax error) reads the file.

import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  Scalar,
  type Node as YamlNode,
} from "yaml";
import { error, joinPath, type Problem } from "./problem.ts";
import { type FastDocument, readFastYaml, setKey } from "./yaml-fast.ts";
import {
  decodeDoubleQuoted,
  plainKeyString,
  resolvePlain,
  resolveTagged,
  resolveTaggedKey,
} from "./yaml-scalars.ts";

export interface Position {
  readonly line: number;
  readonly column: number;
}

export interface LoadLimits {
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** Most documents (after `List` expansion) in one file. */
  readonly maxDocuments: number;
  /** Most alias dereferences while building one document, nested ones included. */
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

export interface ParseOptions {
  /** Try the fast reader first (default). False reads with the `yaml` package only; tests compare the two. */
  readonly fastPath?: boolean;
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

/** A finding of the `yaml` reader, at an offset of the text. */
interface RawProblem {
  readonly offset: number;
  readonly code: string;
  readonly message: string;
  readonly path: string;
}

/** Parses every YAML document of one file into objects with positions. */
export function parseYamlDocuments(
  file: string,
  text: string,
  limits: LoadLimits = DEFAULT_LIMITS,
  options: ParseOptions = {},
): LoadResult {
  const problems: LocatedProblem[] = [];
  const documents: LoadedDocument[] = [];
  if (text.length > limits.maxBytes) {
    const message = `file is larger than the limit of ${limits.maxBytes} bytes`;
    problems.push({ file, ...START, problem: error("", "file.too-large", message) });
    return { documents, problems };
  }

  const fast = options.fastPath === false ? undefined : readFastYaml(text, limits);
  let lines: Lines;
  let outcomes: readonly (FastDocument | readonly RawProblem[])[];
  if (fast !== undefined) {
    lines = new Lines(text);
    outcomes = fast;
  } else {
    const counter = new LineCounter();
    lines = new Lines(text, counter);
    outcomes = readWithYamlPackage(text, limits, counter);
  }

  for (const outcome of outcomes) {
    if (isProblemList(outcome)) {
      for (const p of outcome) {
        const pos = lines.locate(p.offset);
        problems.push({ file, ...pos, problem: error(p.path, p.code, p.message) });
      }
      continue;
    }
    const items = listItems(outcome.value);
    if (items === undefined) {
      documents.push(new Loaded(file, documents.length, outcome.value, lines, outcome, ""));
    } else {
      items.forEach((item, i) => {
        documents.push(new Loaded(file, documents.length, item, lines, outcome, joinPath("items", i)));
      });
    }
    if (documents.length > limits.maxDocuments) {
      const pos = lines.locate(outcome.start);
      const message = `more than ${limits.maxDocuments} documents in one file`;
      problems.push({ file, ...pos, problem: error("", "file.too-many-documents", message) });
      documents.length = limits.maxDocuments;
      break;
    }
  }
  return { documents, problems };
}

function isProblemList(o: FastDocument | readonly RawProblem[]): o is readonly RawProblem[] {
  return Array.isArray(o);
}

/** Offsets → line and column: the `yaml` parser's line counter, or (fast path) the `\n`s of the text. */
class Lines {
  readonly #text: string;
  readonly #counter: LineCounter | undefined;
  #starts: Int32Array | undefined;

  constructor(text: string, counter?: LineCounter) {
    this.#text = text;
    this.#counter = counter;
  }

  locate(offset: number): Position {
    if (this.#counter !== undefined) {
      const p = this.#counter.linePos(offset);
      return { line: p.line, column: p.col };
    }
    this.#starts ??= lineStarts(this.#text);
    const starts = this.#starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
  }
}

function lineStarts(text: string): Int32Array {
  let count = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) count++;
  const starts = new Int32Array(count);
  let n = 1;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts[n++] = i + 1;
  return starts;
}

/** A loaded document: its object and, shared with the other items of a `List`, the positions of its file. */
class Loaded implements LoadedDocument {
  readonly file: string;
  readonly index: number;
  readonly object: unknown;
  readonly position: Position;
  readonly #lines: Lines;
  readonly #read: FastDocument;
  readonly #prefix: string;

  constructor(
    file: string,
    index: number,
    object: unknown,
    lines: Lines,
    read: FastDocument,
    prefix: string,
  ) {
    this.file = file;
    this.index = index;
    this.object = object;
    this.#lines = lines;
    this.#read = read;
    this.#prefix = prefix;
    const at = prefix === "" ? undefined : read.positions.get(prefix);
    this.position = lines.locate(at ?? read.start);
  }

  positionOf(path: string): Position {
    const prefix = this.#prefix;
    const positions = this.#read.positions;
    let p = path === "" ? prefix : prefix === "" ? path : `${prefix}.${path}`.replace(".[", "[");
    for (;;) {
      const hit = positions.get(p);
      if (hit !== undefined) return this.#lines.locate(hit);
      const cut = parentPath(p);
      if (cut === undefined) return this.position;
      p = cut;
    }
  }
}

/** `kind: List` (what `kubectl get -o yaml` prints) is expanded into its items. */
function listItems(value: unknown): unknown[] | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const v = value as { kind?: unknown; items?: unknown };
  if (typeof v.kind !== "string" || !v.kind.endsWith("List") || !Array.isArray(v.items)) return undefined;
  return v.items;
}

/**
 * The fallback reader: the `yaml` package parses (and writes every syntax error), with the failsafe schema so
 * that every scalar keeps its text; the Converter below resolves scalars, keys, merges and aliases as
 * yaml.v2 + ghodss do.
 */
function readWithYamlPackage(
  text: string,
  limits: LoadLimits,
  counter: LineCounter,
): (FastDocument | readonly RawProblem[])[] {
  const out: (FastDocument | readonly RawProblem[])[] = [];
  const problem = (offset: number, code: string, message: string, path = ""): RawProblem => ({
    offset,
    code,
    message,
    path,
  });
  const fail = (offset: number, code: string, message: string, path = ""): RawProblem[] => [
    problem(offset, code, message, path),
  ];
  let parsed: Document.Parsed[];
  try {
    const docs = parseAllDocuments(text, {
      lineCounter: counter,
      version: "1.1",
      schema: "failsafe",
      resolveKnownTags: false,
      merge: false,
      // Duplicates are found by the Converter, on the keys kubectl would see (`1` and `"1"` collide there),
      // in linear time.
      uniqueKeys: false,
      prettyErrors: false,
    });
    parsed = Array.isArray(docs) ? docs : [];
  } catch (e) {
    out.push(fail(0, "yaml.invalid", `cannot parse YAML: ${describe(e)}`));
    return out;
  }

  for (const doc of parsed) {
    // yaml.v2 reads `\'` in double quotes (the `yaml` package does not); the Converter decodes it.
    const errors = doc.errors.filter(
      (e) => !(e.code === "BAD_DQ_ESCAPE" && text.startsWith("\\'", e.pos[0])),
    );
    if (errors.length > 0) {
      // One bad byte can cascade into hundreds of parser errors; the first few locate the mistake.
      out.push(errors.slice(0, MAX_SYNTAX_ERRORS).map((e) => problem(e.pos[0], "yaml.invalid", describe(e))));
      continue;
    }
    const root = doc.contents as YamlNode | null;
    if (root === null) continue;
    const start = root.range?.[0] ?? 0;
    if (maxDepth(root, limits.maxDepth) > limits.maxDepth) {
      out.push(fail(start, "yaml.too-deep", `document nests deeper than ${limits.maxDepth} levels`));
      continue;
    }
    const converter = new Converter(text, limits.maxAliases);
    let value: unknown;
    try {
      value = converter.convert(root, "", true);
    } catch (e) {
      if (e instanceof Stop) out.push(fail(e.offset < 0 ? start : e.offset, e.code, e.message, e.path));
      else out.push(fail(start, "yaml.invalid", `cannot read YAML: ${describe(e)}`));
      continue;
    }
    if (value === null) continue;
    out.push({ value, start, positions: converter.positions });
  }
  return out;
}

/** Ends the conversion of a document with one finding (offset -1: the document start). */
class Stop extends Error {
  readonly offset: number;
  readonly code: string;
  readonly path: string;
  constructor(offset: number, code: string, message: string, path = "") {
    super(message);
    this.offset = offset;
    this.code = code;
    this.path = path;
  }
}

const NOT_JSON = "kubectl cannot convert this document to JSON";

/**
 * AST → JSON value, the way yaml.v2 decodes into interface{} and ghodss converts it: scalars per
 * yaml-scalars.ts; keys converted to strings (null and uint64 keys fail, as in YAMLToJSON); `<<` merges in
 * yaml.v2's order (a merge overrides the keys before it, later keys override it; in a list of merges, the
 * earlier map wins); aliases shared, counted with everything they contain against `maxAliases`.
 * One deliberate difference: a key written twice (or two keys that convert to the same string, `yes` and
 * `true`) is an error here, where kubectl keeps the last; the API server's strict field validation refuses
 * duplicates too, and a silently dropped field is what a validator must not hide.
 * Also indexes positions: scalars at the value, collections at the key (or, in sequences, at the item).
 */
class Converter {
  readonly positions = new Map<string, number>();
  readonly #text: string;
  readonly #maxAliases: number;
  readonly #anchors = new Map<string, YamlNode>();
  readonly #converted = new Map<YamlNode, { value: unknown; derefs: number }>();
  readonly #converting = new Set<YamlNode>();
  #derefs = 0;

  constructor(text: string, maxAliases: number) {
    this.#text = text;
    this.#maxAliases = maxAliases;
  }

  convert(node: unknown, path: string, index: boolean): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.#alias(node.source, node.range?.[0] ?? -1, path);
    const n = node as YamlNode;
    const anchor = (n as { anchor?: string }).anchor;
    if (anchor === undefined || anchor === "") return this.#convertNode(n, path, index);
    this.#anchors.set(anchor, n);
    this.#converting.add(n);
    const before = this.#derefs;
    const value = this.#convertNode(n, path, index);
    this.#converting.delete(n);
    this.#converted.set(n, { value, derefs: this.#derefs - before });
    return value;
  }

  #alias(name: string, offset: number, path: string): unknown {
    const target = this.#anchors.get(name);
    if (target === undefined) return null; // the parser has reported it
    if (this.#converting.has(target)) {
      throw new Stop(offset, "yaml.invalid", `anchor '${name}' value contains itself`, path);
    }
    let done = this.#converted.get(target);
    if (done === undefined) {
      // An anchored key, never converted as a value.
      const before = this.#derefs;
      const value = this.#convertNode(target, path, false);
      done = { value, derefs: this.#derefs - before };
      this.#converted.set(target, done);
    }
    this.#derefs += 1 + done.derefs;
    if (this.#derefs > this.#maxAliases) {
      throw new Stop(-1, "yaml.aliases", `too many YAML alias expansions (limit ${this.#maxAliases})`);
    }
    return done.value;
  }

  #convertNode(node: YamlNode, path: string, index: boolean): unknown {
    if (isScalar(node)) return this.#scalar(node, path);
    if (isSeq(node)) {
      const out: unknown[] = [];
      node.items.forEach((item, i) => {
        const childPath = joinPath(path, i);
        const offset = (item as YamlNode | null)?.range?.[0];
        if (index && offset !== undefined) this.positions.set(childPath, offset);
        out.push(this.convert(item, childPath, index && !isAlias(item)));
      });
      return out;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const explicit = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as YamlNode | null;
        if (isMergeKey(key)) {
          this.#merge(out, pair.value as YamlNode | null, path);
          continue;
        }
        const keyOffset = key?.range?.[0] ?? -1;
        const name = this.#key(key, path);
        if (explicit.has(name)) throw new Stop(keyOffset, "yaml.invalid", "Map keys must be unique", path);
        explicit.add(name);
        const childPath = joinPath(path, name);
        const value = pair.value as YamlNode | null;
        const offset = isScalar(value) ? value.range?.[0] : keyOffset >= 0 ? keyOffset : undefined;
        if (index && offset !== undefined) this.positions.set(childPath, offset);
        setKey(out, name, this.convert(value, childPath, index && !isAlias(value)));
      }
      return out;
    }
    return null;
  }

  #scalar(node: Scalar, path: string): unknown {
    const offset = node.range?.[0] ?? -1;
    const text = this.#scalarText(node, path);
    let value: unknown;
    if (node.tag !== undefined) {
      const r = resolveTagged(node.tag, text);
      if ("error" in r) throw new Stop(offset, "yaml.invalid", r.error, path);
      value = r.value;
    } else {
      value = node.type === Scalar.PLAIN || node.type === undefined ? resolvePlain(text) : text;
    }
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new Stop(offset, "yaml.not-json", `${text} is not a JSON number; ${NOT_JSON}`, path);
    }
    return value;
  }

  /** The scalar's text: the plain source, or the quoted value (double quotes decoded with yaml.v2's escapes). */
  #scalarText(node: Scalar, path: string): string {
    if (node.type === Scalar.QUOTE_DOUBLE && node.range) {
      const [from, to] = node.range;
      const source = this.#text.slice(from, to);
      if (source.includes("\\")) {
        const r = decodeDoubleQuoted(source);
        if ("error" in r) throw new Stop(from + r.at, "yaml.invalid", r.error, path);
        return r.value;
      }
    }
    return String(node.source ?? node.value ?? "");
  }

  #key(key: YamlNode | null, path: string): string {
    if (key === null) throw new Stop(-1, "yaml.not-json", `a null map key: ${NOT_JSON}`, path);
    const offset = key.range?.[0] ?? -1;
    let node: YamlNode = key;
    if (isAlias(key)) {
      this.#alias(key.source, offset, path);
      const target = this.#anchors.get(key.source);
      if (target === undefined) throw new Stop(offset, "yaml.invalid", "unknown alias", path);
      node = target;
    }
    if (!isScalar(node)) {
      throw new Stop(offset, "yaml.invalid", "a mapping or sequence cannot be a map key", path);
    }
    const text = this.#scalarText(node, path);
    let name: string | undefined;
    if (node.tag !== undefined) {
      const r = resolveTaggedKey(node.tag, text);
      if ("error" in r) throw new Stop(offset, "yaml.invalid", r.error, path);
      name = r.key;
    } else if (node.type === Scalar.PLAIN || node.type === undefined) {
      name = plainKeyString(text);
    } else {
      name = text;
    }
    if (name === undefined) {
      const what = text === "" || resolvePlain(text) === null ? "a null map key" : `map key ${text}`;
      throw new Stop(offset, "yaml.not-json", `${what} cannot be a JSON object key; ${NOT_JSON}`, path);
    }
    return name;
  }

  /** yaml.v2's merge: a map, an alias of a map, or a list of those (applied last to first). */
  #merge(out: Record<string, unknown>, value: YamlNode | null, path: string): void {
    const offset = value?.range?.[0] ?? -1;
    const wrong = () =>
      new Stop(offset, "yaml.invalid", "map merge requires map or sequence of maps as the value", path);
    const source = (node: unknown): Record<string, unknown> => {
      const target = isAlias(node) ? this.#anchors.get(node.source) : node;
      if (!isMap(target)) throw wrong();
      const v = this.convert(node, path, false);
      return v as Record<string, unknown>;
    };
    const sources = isSeq(value) ? [...value.items].reverse().map(source) : [source(value)];
    for (const s of sources) for (const k of Object.keys(s)) setKey(out, k, s[k]);
  }
}

function isMergeKey(key: YamlNode | null): boolean {
  if (!isScalar(key) || key.source !== "<<") return false;
  return key.tag === undefined ? key.type === Scalar.PLAIN : key.tag === "tag:yaml.org,2002:merge";
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
