// Random manifest-like YAML for the loader's differential tests: a tree of block maps and sequences with many
// scalar spellings and layouts (compact entries, sequences at their key's column, comments, blank lines,
// several documents), rendered to text; and mutations that step outside the fast path's subset.
import fc from "fast-check";
import { SPELLINGS } from "../../oracle/kube-yaml/cases.ts";

type Node =
  | { readonly t: "scalar"; readonly text: string }
  | { readonly t: "map"; readonly entries: readonly MapEntry[] }
  | { readonly t: "seq"; readonly items: readonly SeqItem[] };

interface Layout {
  /** Extra indentation of a nested block, or the spaces after a compact `-`. */
  readonly gap: number;
  /** A sequence under a key at the key's own column. */
  readonly flush: boolean;
  /** A `- key: value` or `- - x` entry instead of `-` on its own line. */
  readonly compact: boolean;
  readonly comment: string;
}

interface MapEntry extends Layout {
  readonly key: string;
  readonly value: Node;
}

interface SeqItem extends Layout {
  readonly value: Node;
}

const quoteDouble = (s: string) => `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
const quoteSingle = (s: string) => `'${s.replaceAll("'", "''")}'`;

const FREE_CHARS = [
  ..."abcxyzABC0123456789",
  ..." -_.:/#,'\"@%&*!|>?[]{}~=<+",
  "é",
  "ß",
  "日本",
  "😀",
  "\u00a0",
  "\u2003",
  "\u3000",
  "\\",
];

/** Arbitrary short text from characters that mean something to YAML, and some that only look like space. */
const freeText = fc.array(fc.constantFrom(...FREE_CHARS), { maxLength: 8 }).map((parts) => parts.join(""));

const word = fc.constantFrom(
  "name",
  "spec",
  "metadata",
  "a",
  "b",
  "x1",
  "dc-1",
  "k8s_io",
  "app.kubernetes.io/name",
);

/** Scalar source text as written after `key: ` or `- `. */
export const scalarSource: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...SPELLINGS) },
  { weight: 2, arbitrary: fc.constantFrom(...SPELLINGS).map(quoteDouble) },
  { weight: 2, arbitrary: fc.constantFrom(...SPELLINGS).map(quoteSingle) },
  { weight: 1, arbitrary: freeText },
  { weight: 2, arbitrary: freeText.map(quoteDouble) },
  { weight: 1, arbitrary: freeText.map(quoteSingle) },
  { weight: 8, arbitrary: word },
  {
    weight: 1,
    arbitrary: fc.constantFrom('"a\\tb"', '"\\u00e9\\x41"', '"\\N\\_"', '"tab\\\tx"', '"\\\'"', '"\\/"'),
  },
);

/** Key source text, as written before `:`. */
export const keySource: fc.Arbitrary<string> = fc.oneof(
  { weight: 16, arbitrary: word },
  { weight: 2, arbitrary: fc.constantFrom(...SPELLINGS) },
  { weight: 1, arbitrary: fc.constantFrom(...SPELLINGS).map(quoteDouble) },
  { weight: 1, arbitrary: freeText },
  { weight: 1, arbitrary: freeText.map(quoteSingle) },
  { weight: 1, arbitrary: word.map((w) => `${w}  `) },
);

const comment = fc.oneof(
  { weight: 4, arbitrary: fc.constant("") },
  { weight: 1, arbitrary: freeText.map((t) => ` # ${t}`) },
  { weight: 1, arbitrary: fc.constant("   #") },
  { weight: 1, arbitrary: fc.constant("   ") },
);

const layout = {
  gap: fc.integer({ min: 1, max: 3 }),
  flush: fc.boolean(),
  compact: fc.boolean(),
  comment,
};

const { node } = fc.letrec<{ node: Node; scalar: Node; map: Node; seq: Node }>((tie) => ({
  node: fc.oneof({ depthSize: "small" }, tie("scalar"), tie("map"), tie("seq")),
  scalar: fc.record({ t: fc.constant("scalar" as const), text: scalarSource }),
  map: fc.record({
    t: fc.constant("map" as const),
    entries: fc.uniqueArray(fc.record({ key: keySource, value: tie("node"), ...layout }), {
      minLength: 1,
      maxLength: 4,
      selector: (e) => e.key.trim(),
    }),
  }),
  seq: fc.record({
    t: fc.constant("seq" as const),
    items: fc.array(fc.record({ value: tie("node"), ...layout }), { minLength: 1, maxLength: 4 }),
  }),
}));

const pad = (n: number) => " ".repeat(n);

/** The lines of a block map or sequence at `indent`. */
function render(n: Node, indent: number): string[] {
  const out: string[] = [];
  if (n.t === "map") {
    for (const e of n.entries) {
      const head = `${pad(indent)}${e.key}:`;
      const v = e.value;
      if (v.t === "scalar") out.push(v.text === "" ? `${head}${e.comment}` : `${head} ${v.text}${e.comment}`);
      else {
        out.push(`${head}${e.comment}`);
        out.push(...render(v, v.t === "seq" && e.flush ? indent : indent + e.gap));
      }
    }
  } else if (n.t === "seq") {
    for (const item of n.items) {
      const dash = `${pad(indent)}-`;
      const v = item.value;
      if (v.t === "scalar")
        out.push(v.text === "" ? `${dash}${item.comment}` : `${dash} ${v.text}${item.comment}`);
      else if (item.compact) {
        const at = indent + 1 + item.gap;
        const lines = render(v, at);
        out.push(`${dash}${pad(item.gap)}${(lines[0] ?? "").slice(at)}`, ...lines.slice(1));
      } else {
        out.push(`${dash}${item.comment}`);
        out.push(...render(v, indent + item.gap));
      }
    }
  } else out.push(`${pad(indent)}${n.text}`);
  return out;
}

const root = fc.oneof(
  { weight: 8, arbitrary: node.filter((n) => n.t === "map") },
  { weight: 2, arbitrary: node.filter((n) => n.t === "seq") },
  { weight: 1, arbitrary: node },
);

/** Where comment and blank lines go: before line `at` (a fraction of the document), with this text. */
const filler = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  text: fc.oneof(
    fc.constant(""),
    fc.constant("   "),
    fc.integer({ min: 0, max: 6 }).map((i) => `${pad(i)}# note: x`),
  ),
});

const separator = fc.constantFrom(
  "---",
  "--- # next",
  "...\n---",
  "---   ",
  "# between\n---",
  "...",
  "...\n...",
);

/** A document: its lines, with comment and blank lines spliced in. */
const documentLines = fc
  .record({ root, indent: fc.constantFrom(0, 0, 0, 2), fillers: fc.array(filler, { maxLength: 3 }) })
  .map(({ root: r, indent, fillers }) => {
    const lines = render(r, r.t === "scalar" ? 0 : indent);
    for (const f of fillers) lines.splice(Math.floor(f.at * (lines.length + 1)), 0, f.text);
    return lines;
  });

/** Manifest-like YAML text: one to three documents. */
export const manifestText: fc.Arbitrary<string> = fc
  .record({
    docs: fc.array(documentLines, { minLength: 1, maxLength: 3 }),
    separators: fc.array(separator, { minLength: 3, maxLength: 3 }),
    leading: fc.constantFrom("", "---\n", "# header\n", "--- # first\n"),
    trailing: fc.constantFrom("\n", "", "\n...\n", "\n\n# end\n"),
  })
  .map(({ docs, separators, leading, trailing }) => {
    const parts = docs.map((d, i) => (i === 0 ? "" : `${separators[i] ?? "---"}\n`) + d.join("\n"));
    return leading + parts.join("\n") + trailing;
  });

/** Edits that step outside the fast path's subset (or near its edges), applied at a line of the text. */
const MUTATIONS: readonly ((line: string) => string)[] = [
  (l) => l.replace(" ", "\t"),
  (l) => `\t${l}`,
  (l) => l.replace(/: .*$/, ": [a, b]"),
  (l) => l.replace(/: .*$/, ": {a: 1}"),
  (l) => l.replace(/: .*$/, ": &x v"),
  (l) => l.replace(/: .*$/, ": *x"),
  (l) => l.replace(/: .*$/, ": !!str v"),
  (l) => l.replace(/: .*$/, ": |\n  text"),
  (l) => l.replace(/: .*$/, ": >-\n  text"),
  (l) => l.replace(/: .*$/, ": .inf"),
  (l) => l.replace(/: .*$/, ': "\\/"'),
  (l) => l.replace(/: .*$/, ": a: b"),
  (l) => l.replace(/: .*$/, ': "open'),
  (l) => l.replace(/^(\s*)/, "$1? "),
  (l) => `${l}\n${l}`,
  (l) => `${l}\n      continued`,
  (l) => `${l}\n<<: {m: 1}`,
  (l) => `${l}\n~: x`,
  (l) => `${l}\n18446744073709551616: x`,
  (l) => `%YAML 1.1\n---\n${l}`,
  (l) => `\ufeff${l}`,
  (l) => `${l}\r`,
  (l) => `${l}\u0085x`,
  (l) => `${l}\u2028`,
  (l) => `...x\n${l}`,
  (l) => `---x\n${l}`,
  (l) => l.replace(/^ {2}/, " "),
  (l) => ` ${l}`,
  (l) => l.replace(/: /, ":"),
  (l) => l.replace(/- /, "-"),
  (l) => `${l} #`,
  (l) => `${l}#x`,
  (l) => `${l}:`,
];

/** Manifest-like text with zero to two mutations. */
export const mutatedManifestText: fc.Arbitrary<string> = fc
  .record({
    text: manifestText,
    edits: fc.array(
      fc.record({
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        mutation: fc.integer({ min: 0, max: MUTATIONS.length - 1 }),
      }),
      { maxLength: 2 },
    ),
  })
  .map(({ text, edits }) => {
    const lines = text.split("\n");
    for (const e of edits) {
      const i = Math.floor(e.at * lines.length);
      lines[i] = (MUTATIONS[e.mutation] as (l: string) => string)(lines[i] ?? "");
    }
    return lines.join("\n");
  });
