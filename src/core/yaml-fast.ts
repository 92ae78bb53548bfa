// The fast path of the YAML loader: a strict, line-based reader for the plain block YAML that Kubernetes
// manifests almost always are. It yields exactly what the `yaml` package path of yaml-documents.ts yields (the
// objects, the document starts and the position index), or declines the whole file, and then that path reads
// it and writes every error. It never reports anything itself.
//
// The subset: block mappings and block sequences (`- key: value` compact maps and `- - x` compact sequences
// too), keys and values that are plain or single/double-quoted scalars on one line, comments (`#` at a line's
// start or after a space), `---` and `...` markers, blank lines, indentation with spaces.
// Declined: tabs, CR, BOM and other control or line-separator characters anywhere; flow collections; anchors,
// aliases and tags; block scalars; multi-line scalars; `?`/`:` complex keys; directives; `: ` inside a plain
// scalar; duplicate keys; `<<` merge keys; keys kubectl cannot convert (null, uint64); .inf/.nan values;
// escapes yaml.v2 refuses; nesting beyond maxDepth; more documents than maxDocuments; anything doubtful.

import { joinPath } from "./problem.ts";
import { decodeDoubleQuoted, plainKeyString, resolvePlain } from "./yaml-scalars.ts";

/** One YAML document: its JSON value, the offset where it starts, and the offset of each field path. */
export interface FastDocument {
  readonly value: unknown;
  readonly start: number;
  /** Field path (joinPath form) → offset: scalars at the value, collections at the key (or the item). */
  readonly positions: Map<string, number>;
}

export interface FastLimits {
  readonly maxDocuments: number;
  readonly maxDepth: number;
}

/** Sets a key on a plain object; `__proto__` becomes an own property, as JSON.parse makes it. */
export function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  } else out[key] = value;
}

// Allowed anywhere: LF and printable characters, minus C1 controls (NEL is a YAML 1.1 line break), the BOM,
// U+2028/U+2029 (line breaks too), U+FFFE/U+FFFF and lone surrogates.
const OUTSIDE = /[^\n\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFEFE\uFF00-\uFFFD\u{10000}-\u{10FFFF}]/u;

const MAX_KEY_LENGTH = 1000;

// Line kinds.
const CONTENT = 0;
const MARKER = 1;
const END = 2;

// Characters that cannot start a plain scalar here (`-` is checked apart: `-5` is fine, `- ` is an entry).
const NOT_PLAIN_START = new Uint8Array(128);
for (const c of "?:,[]{}#&*!|>'\"%@`") NOT_PLAIN_START[c.charCodeAt(0)] = 1;

const SPACE = 0x20;
const HASH = 0x23;
const DASH = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

const DECLINE = new Error("outside the fast path's subset");

/** The documents of `text`, or undefined when the text is outside the subset (the `yaml` path reads it). */
export function readFastYaml(text: string, limits: FastLimits): FastDocument[] | undefined {
  if (OUTSIDE.test(text)) return undefined;
  try {
    return new Reader(text, limits).documents();
  } catch {
    // DECLINE, or anything unexpected (a stack overflow under a huge maxDepth): the `yaml` path is the judge.
    return undefined;
  }
}

function decline(): never {
  throw DECLINE;
}

class Reader {
  readonly #t: string;
  readonly #len: number;
  readonly #maxDepth: number;
  readonly #maxDocuments: number;
  #positions = new Map<string, number>();
  // Field paths repeat from document to document: one copy of each, found from its parent's and its key.
  readonly #paths = new Map<string, Map<string | number, string>>();
  // The current line: where it starts and ends (its `\n`), its kind, and its indentation (-1 unless CONTENT).
  #ls = 0;
  #le = -1;
  #kind = CONTENT;
  #ind = -1;

  constructor(text: string, limits: FastLimits) {
    this.#t = text;
    this.#len = text.length;
    this.#maxDepth = limits.maxDepth;
    this.#maxDocuments = limits.maxDocuments;
  }

  documents(): FastDocument[] {
    const docs: FastDocument[] = [];
    this.#advance();
    while (this.#kind !== END) {
      if (this.#kind === MARKER) {
        this.#advance();
        continue;
      }
      const start = this.#ls + this.#ind;
      this.#positions = new Map();
      const value = this.#collection(this.#ind, 1, "");
      // Content the root collection did not take (less indented, or a second root) is an error.
      if (this.#kind === CONTENT) decline();
      docs.push({ value, start, positions: this.#positions });
      if (docs.length > this.#maxDocuments) decline();
    }
    return docs;
  }

  /** Moves to the next line that is neither blank nor a comment. */
  #advance(): void {
    const t = this.#t;
    for (;;) {
      const ls = this.#le + 1;
      if (ls > this.#len) {
        this.#kind = END;
        this.#ind = -1;
        this.#ls = this.#len;
        this.#le = this.#len;
        return;
      }
      let le = t.indexOf("\n", ls);
      if (le < 0) le = this.#len;
      this.#ls = ls;
      this.#le = le;
      let i = ls;
      while (i < le && t.charCodeAt(i) === SPACE) i++;
      if (i === le || t.charCodeAt(i) === HASH) continue;
      const c = t.charCodeAt(i);
      if (i === ls && (c === DASH || c === DOT) && t.charCodeAt(i + 1) === c && t.charCodeAt(i + 2) === c) {
        // `---` / `...` at column 0: a marker, followed by nothing but a comment; anything else is doubtful.
        if (ls + 3 < le && t.charCodeAt(ls + 3) !== SPACE) decline();
        let j = ls + 3;
        while (j < le && t.charCodeAt(j) === SPACE) j++;
        if (j < le && t.charCodeAt(j) !== HASH) decline();
        this.#kind = MARKER;
        this.#ind = -1;
        return;
      }
      this.#kind = CONTENT;
      this.#ind = i - ls;
      return;
    }
  }

  #path(parent: string, key: string | number): string {
    let children = this.#paths.get(parent);
    if (children === undefined) {
      children = new Map();
      this.#paths.set(parent, children);
    }
    let path = children.get(key);
    if (path === undefined) {
      path = joinPath(parent, key);
      children.set(key, path);
    }
    return path;
  }

  /** True when the `-` at `p` is a sequence entry indicator (followed by a space or the line's end). */
  #isEntry(p: number): boolean {
    return this.#t.charCodeAt(p) === DASH && (p + 1 === this.#le || this.#t.charCodeAt(p + 1) === SPACE);
  }

  /** The block collection starting on the current line at column `col` (past the indentation if compact). */
  #collection(col: number, depth: number, path: string): unknown {
    return this.#isEntry(this.#ls + col) ? this.#seq(col, depth, path) : this.#map(col, depth, path);
  }

  #map(col: number, depth: number, path: string): Record<string, unknown> {
    // Its keys and values sit one level deeper.
    if (depth >= this.#maxDepth) decline();
    const t = this.#t;
    const out: Record<string, unknown> = {};
    for (;;) {
      const keyStart = this.#ls + col;
      const colon = this.#colon(keyStart);
      if (colon < 0) decline();
      const key = this.#key(keyStart, colon);
      if (Object.hasOwn(out, key)) decline();
      const childPath = this.#path(path, key);
      let i = colon + 1;
      while (i < this.#le && t.charCodeAt(i) === SPACE) i++;
      let value: unknown;
      if (i === this.#le || t.charCodeAt(i) === HASH) {
        // Nothing on the key's line: a collection on the next lines, or null (placed where `yaml` places an
        // empty value: after the indicator and its spaces).
        this.#advance();
        if (this.#kind === CONTENT && this.#ind > col) {
          this.#positions.set(childPath, keyStart);
          value = this.#collection(this.#ind, depth + 1, childPath);
        } else if (this.#kind === CONTENT && this.#ind === col && this.#isEntry(this.#ls + col)) {
          this.#positions.set(childPath, keyStart);
          value = this.#seq(col, depth + 1, childPath);
        } else {
          this.#positions.set(childPath, i);
          value = null;
        }
      } else {
        this.#positions.set(childPath, i);
        value = this.#scalar(i);
        this.#advance();
      }
      setKey(out, key, value);
      if (this.#kind !== CONTENT || this.#ind < col) return out;
      if (this.#ind > col || this.#isEntry(this.#ls + col)) decline();
    }
  }

  #seq(col: number, depth: number, path: string): unknown[] {
    if (depth >= this.#maxDepth) decline();
    const t = this.#t;
    const out: unknown[] = [];
    for (;;) {
      const childPath = this.#path(path, out.length);
      let i = this.#ls + col + 1;
      while (i < this.#le && t.charCodeAt(i) === SPACE) i++;
      if (i === this.#le || t.charCodeAt(i) === HASH) {
        this.#advance();
        if (this.#kind === CONTENT && this.#ind > col) {
          this.#positions.set(childPath, this.#ls + this.#ind);
          out.push(this.#collection(this.#ind, depth + 1, childPath));
        } else {
          this.#positions.set(childPath, i);
          out.push(null);
        }
      } else {
        this.#positions.set(childPath, i);
        if (this.#isEntry(i) || this.#colon(i) >= 0) {
          out.push(this.#collection(i - this.#ls, depth + 1, childPath));
        } else {
          out.push(this.#scalar(i));
          this.#advance();
        }
      }
      if (this.#kind !== CONTENT || this.#ind < col) return out;
      if (this.#ind > col) decline();
      // A key at the sequence's column: the mapping holding the sequence goes on (or declines).
      if (!this.#isEntry(this.#ls + col)) return out;
    }
  }

  /**
   * If a mapping key starts at `p`, the offset of its `:` indicator, else -1. Declines on quoted text that
   * does not close on its line.
   */
  #colon(p: number): number {
    const t = this.#t;
    const le = this.#le;
    const c = t.charCodeAt(p);
    let i: number;
    if (c === DQUOTE) i = this.#doubleEnd(p) + 1;
    else if (c === SQUOTE) i = this.#singleEnd(p) + 1;
    else {
      for (i = p; i < le; i++) {
        const ch = t.charCodeAt(i);
        if (ch === COLON && (i + 1 === le || t.charCodeAt(i + 1) === SPACE)) return i;
        if (ch === HASH && t.charCodeAt(i - 1) === SPACE) return -1;
      }
      return -1;
    }
    while (i < le && t.charCodeAt(i) === SPACE) i++;
    return i < le && t.charCodeAt(i) === COLON && (i + 1 === le || t.charCodeAt(i + 1) === SPACE) ? i : -1;
  }

  /** The JSON object key written between `p` and its `:` at `colon`. */
  #key(p: number, colon: number): string {
    const t = this.#t;
    const c = t.charCodeAt(p);
    if (c === DQUOTE) return this.#double(p, this.#doubleEnd(p));
    if (c === SQUOTE) return this.#single(p, this.#singleEnd(p));
    if (!this.#plainStart(p)) decline();
    let end = colon;
    while (t.charCodeAt(end - 1) === SPACE) end--;
    if (end - p > MAX_KEY_LENGTH) decline();
    const text = t.slice(p, end);
    if (text === "<<") decline();
    return plainKeyString(text) ?? decline();
  }

  /** The scalar value at `p`, alone on the rest of its line (a comment may follow). */
  #scalar(p: number): unknown {
    const t = this.#t;
    const le = this.#le;
    const c = t.charCodeAt(p);
    if (c === DQUOTE || c === SQUOTE) {
      const end = c === DQUOTE ? this.#doubleEnd(p) : this.#singleEnd(p);
      let i = end + 1;
      while (i < le && t.charCodeAt(i) === SPACE) i++;
      if (i < le && (t.charCodeAt(i) !== HASH || i === end + 1)) decline();
      return c === DQUOTE ? this.#double(p, end) : this.#single(p, end);
    }
    if (!this.#plainStart(p)) decline();
    let end = le;
    for (let i = p; i < le; i++) {
      const ch = t.charCodeAt(i);
      if (ch === COLON && (i + 1 === le || t.charCodeAt(i + 1) === SPACE)) decline();
      if (ch === HASH && t.charCodeAt(i - 1) === SPACE) {
        end = i;
        break;
      }
    }
    while (t.charCodeAt(end - 1) === SPACE) end--;
    const value = resolvePlain(t.slice(p, end));
    if (typeof value === "number" && !Number.isFinite(value)) decline();
    return value;
  }

  #plainStart(p: number): boolean {
    const c = this.#t.charCodeAt(p);
    if (c === DASH) {
      const next = this.#t.charCodeAt(p + 1);
      return p + 1 < this.#le && next !== SPACE;
    }
    return c >= 128 || NOT_PLAIN_START[c] === 0;
  }

  /** The closing `"` of the double-quoted scalar opening at `p`, on the same line. */
  #doubleEnd(p: number): number {
    const t = this.#t;
    for (let i = p + 1; i < this.#le; i++) {
      const ch = t.charCodeAt(i);
      if (ch === 0x5c) i++;
      else if (ch === DQUOTE) return i;
    }
    return decline();
  }

  /** The closing `'` of the single-quoted scalar opening at `p`, on the same line. */
  #singleEnd(p: number): number {
    const t = this.#t;
    let i = p + 1;
    for (;;) {
      const q = t.indexOf("'", i);
      if (q < 0 || q >= this.#le) decline();
      if (t.charCodeAt(q + 1) !== SQUOTE) return q;
      i = q + 2;
    }
  }

  #double(p: number, end: number): string {
    const inner = this.#t.slice(p + 1, end);
    if (!inner.includes("\\")) return inner;
    const r = decodeDoubleQuoted(this.#t.slice(p, end + 1));
    return "value" in r ? r.value : decline();
  }

  #single(p: number, end: number): string {
    const inner = this.#t.slice(p + 1, end);
    return inner.includes("'") ? inner.replaceAll("''", "'") : inner;
  }
}
