// entities: `ks1,ks2` or `ks1.t1,ks2.t2`, read the way the sidecar will read them after CassKop:
//   1. CassKop `formatEntities` (pkg/backrest): TrimSpace, split on Go `[\s,]+`, drop empties, join with `,`;
//   2. esop `DatabaseEntities.parse` (esop-1.1.4/2.0.4, operators.md §1.7): split on `,`; a token with a `.`
//      is a table only if Java's `split("\\.")` gives exactly 2 parts, else it is silently dropped (`a.b.c`,
//      `k1.`); a token without `.` is a keyspace; `validateForRequest` refuses keyspaces mixed with tables.
// esop's own sanitising joins `ks . t` into `ks.t`, but CassKop splits it first, so whitespace next to a
// dot means different things to the two: an error here. Cassandra names: `SchemaConstants.isValidName`,
// `\w+` and at most 48 characters (apache/cassandra `schema/SchemaConstants.java`).

import type { Problem } from "../problem.ts";
import { problem } from "./codes.ts";
import { goTrimSpace, javaSplit, listing, q } from "./support.ts";

export interface TableEntity {
  readonly ks: string;
  readonly table: string;
}

export interface ParsedEntities {
  /** Keyspaces, de-duplicated, in order of first appearance. */
  readonly keyspaces: readonly string[];
  /** Tables, de-duplicated, in order of first appearance. */
  readonly tables: readonly TableEntity[];
}

export const SYSTEM_KEYSPACES: readonly string[] = [
  "system",
  "system_schema",
  "system_auth",
  "system_distributed",
  "system_traces",
  "system_views",
  "system_virtual_schema",
];

/** Cassandra's `NAME_LENGTH`. */
export const MAX_NAME_LENGTH = 48;
const NAME = /^\w{1,48}$/;

type Token =
  | { readonly raw: string; readonly kind: "keyspace"; readonly ks: string }
  | { readonly raw: string; readonly kind: "table"; readonly ks: string; readonly table: string }
  | { readonly raw: string; readonly kind: "dropped" };

/** The tokens CassKop sends, with esop's reading of each. */
function tokenize(s: string): Token[] {
  // Go's regexp `\s` is ASCII `[\t\n\f\r ]`.
  const tokens = goTrimSpace(s)
    .split(/[\t\n\f\r ,]+/)
    .filter((t) => t !== "");
  return tokens.map((raw): Token => {
    if (!raw.includes(".")) return { raw, kind: "keyspace", ks: raw };
    const parts = javaSplit(raw, ".");
    const [ks, table] = parts;
    return parts.length === 2 && ks !== undefined && table !== undefined
      ? { raw, kind: "table", ks, table }
      : { raw, kind: "dropped" };
  });
}

/** The entities the sidecar will act on (empty lists = everything). Total: never throws. */
export function parseEntities(s: unknown): ParsedEntities {
  if (typeof s !== "string") return { keyspaces: [], tables: [] };
  const keyspaces = new Set<string>();
  const tables = new Map<string, TableEntity>();
  for (const t of tokenize(s)) {
    if (t.kind === "keyspace") keyspaces.add(t.ks);
    else if (t.kind === "table") tables.set(`${t.ks}.${t.table}`, { ks: t.ks, table: t.table });
  }
  return { keyspaces: [...keyspaces], tables: [...tables.values()] };
}

export function isEmptyEntities(e: ParsedEntities): boolean {
  return e.keyspaces.length === 0 && e.tables.length === 0;
}

/** `ks1,ks2` / `ks1.t1,ks2.t2`, the way the sidecar prints entities. */
export function formatEntities(e: ParsedEntities): string {
  return [...e.keyspaces, ...e.tables.map((t) => `${t.ks}.${t.table}`)].join(",");
}

/**
 * The entities of `restore` not covered by `backup`, as `ks` / `ks.table`. A backup keyspace covers its
 * tables; an empty backup covers everything. An empty `restore` means "everything", which only an empty
 * backup covers: callers substitute the backup's entities first, as CassKop does (then nothing is missing).
 */
export function notCoveredBy(restore: ParsedEntities, backup: ParsedEntities): string[] {
  if (isEmptyEntities(backup)) return [];
  const ks = new Set(backup.keyspaces);
  const tables = new Set(backup.tables.map((t) => `${t.ks}.${t.table}`));
  return [
    ...restore.keyspaces.filter((k) => !ks.has(k)),
    ...restore.tables
      .filter((t) => !ks.has(t.ks) && !tables.has(`${t.ks}.${t.table}`))
      .map((t) => `${t.ks}.${t.table}`),
  ];
}

/** Whether every entity of `restore` is in `backup` (see {@link notCoveredBy}). Reflexive. */
export function coveredBy(restore: ParsedEntities, backup: ParsedEntities): boolean {
  if (isEmptyEntities(restore)) return isEmptyEntities(backup);
  return notCoveredBy(restore, backup).length === 0;
}

/** All problems of one entities value. Non-strings are left to the structural schema. */
export function checkEntities(value: unknown, path = "spec.entities"): Problem[] {
  if (typeof value !== "string") return [];
  const problems: Problem[] = [];

  const spaced = value
    .split(",")
    .map((chunk) => goTrimSpace(chunk))
    .filter((chunk) => /[\t\n\f\r ]\.|\.[\t\n\f\r ]/.test(chunk));
  if (spaced.length > 0) {
    problems.push(
      problem(
        path,
        "entities.spacing",
        `${listing(spaced.map((s) => q(s)))}: CassKop splits entities at white space, so the sidecar would ` +
          "not read keyspace.table here; remove the spaces around the dot",
      ),
    );
  }

  const tokens = tokenize(value);
  const invalid: string[] = [];
  const dropped: string[] = [];
  const upper: string[] = [];
  for (const t of tokens) {
    if (t.kind === "dropped") {
      dropped.push(t.raw);
    } else if (t.kind === "keyspace" ? !NAME.test(t.raw) : !/^\w{1,48}\.\w{1,48}$/.test(t.raw)) {
      invalid.push(t.raw);
    } else if (/[A-Z]/.test(t.raw)) {
      upper.push(t.raw);
    }
  }
  if (dropped.length > 0) {
    problems.push(
      problem(
        path,
        "entities.dropped",
        `${listing(dropped.map((s) => q(s)))}: neither keyspace nor keyspace.table; the sidecar would silently ` +
          `drop ${dropped.length === 1 ? "it" : "them"}`,
      ),
    );
  }
  if (invalid.length > 0) {
    problems.push(
      problem(
        path,
        "entities.identifier",
        `${listing(invalid.map((s) => q(s)))}: not a valid ${invalid.length === 1 ? "name" : "names"}; ` +
          `Cassandra names are 1-${MAX_NAME_LENGTH} letters, digits or underscores, written ks or ks.table`,
      ),
    );
  }

  const parsed = parseEntities(value);
  if (parsed.keyspaces.length > 0 && parsed.tables.length > 0) {
    // esop DatabaseEntities.validateForRequest, verbatim.
    problems.push(
      problem(
        path,
        "entities.mixed",
        `Entities might be either set only as keyspaces or only as keyspaces with tables! ` +
          `(keyspaces ${listing(parsed.keyspaces)}; tables ${listing(parsed.tables.map((t) => `${t.ks}.${t.table}`))})`,
      ),
    );
  }

  const seen = new Set<string>();
  const dupes = new Set<string>();
  for (const t of tokens) {
    if (t.kind === "dropped") continue;
    const id = t.kind === "keyspace" ? t.ks : `${t.ks}.${t.table}`;
    if (seen.has(id)) dupes.add(id);
    seen.add(id);
  }
  if (dupes.size > 0) {
    problems.push(
      problem(path, "entities.duplicate", `${listing([...dupes].map((s) => q(s)))} listed more than once`),
    );
  }

  const system = [
    ...new Set(
      tokens.flatMap((t) => (t.kind !== "dropped" && SYSTEM_KEYSPACES.includes(t.ks) ? [t.ks] : [])),
    ),
  ];
  if (system.length > 0) {
    problems.push(
      problem(
        path,
        "entities.system",
        `${listing(system.map((s) => q(s)))}: system ${system.length === 1 ? "keyspace" : "keyspaces"}; ` +
          "restores into a running cluster skip them",
      ),
    );
  }
  if (upper.length > 0) {
    problems.push(
      problem(
        path,
        "entities.case",
        `${listing(upper.map((s) => q(s)))}: upper-case letters; names created without quotes are lower-case`,
      ),
    );
  }
  return problems;
}
