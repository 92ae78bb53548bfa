import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  checkEntities,
  coveredBy,
  formatEntities,
  notCoveredBy,
  type ParsedEntities,
  parseEntities,
} from "../../../src/core/rules/entities.ts";
import { assertProblems, type Expect, err, warn } from "./fixtures.ts";

const E = "spec.entities";

describe("parseEntities: CassKop formatEntities, then esop DatabaseEntities.parse", () => {
  const cases: [string, string, ParsedEntities][] = [
    // (keyspaces, comma) → keyspaces
    ["keyspaces", "k1,k2", { keyspaces: ["k1", "k2"], tables: [] }],
    // (tables, spaces and commas) → tables, de-duplicated
    [
      "tables",
      " k1.t1 ,, k2.t3  k1.t1 ",
      {
        keyspaces: [],
        tables: [
          { ks: "k1", table: "t1" },
          { ks: "k2", table: "t3" },
        ],
      },
    ],
    // (newline and tab) → Go's \s splits them too
    ["newline", "k1\n\tk2", { keyspaces: ["k1", "k2"], tables: [] }],
    // (three parts) → dropped by esop
    ["three parts", "a.b.c,k1", { keyspaces: ["k1"], tables: [] }],
    // (trailing dot) → dropped ("k1.".split(".") has one part)
    ["trailing dot", "k1.", { keyspaces: [], tables: [] }],
    // (two parts and a trailing dot) → Java's split drops the trailing empty part
    ["table trailing dot", "k1.t1.", { keyspaces: [], tables: [{ ks: "k1", table: "t1" }] }],
    // (empty) → everything
    ["empty", "  ", { keyspaces: [], tables: [] }],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.deepEqual(parseEntities(input), expected));
  }

  test("non-strings parse as everything", () => {
    assert.deepEqual(parseEntities(undefined), { keyspaces: [], tables: [] });
    assert.deepEqual(parseEntities(7), { keyspaces: [], tables: [] });
  });

  test("formatEntities prints them back", () => {
    assert.equal(formatEntities(parseEntities("k2.t1 k1.t9")), "k2.t1,k1.t9");
  });
});

describe("checkEntities", () => {
  const cases: [string, unknown, Expect[]][] = [
    // (keyspaces) → fine
    ["keyspaces", "k1,k2", []],
    // (tables, spaces) → fine
    ["tables", "k1.t1, k2.t3", []],
    // (empty) → everything, fine
    ["empty", "", []],
    // (non-string) → schema's business
    ["number", 3, []],
    // (mixed) → the sidecar's own message
    [
      "mixed",
      "k1,k2.t2",
      [
        err(
          E,
          "entities.mixed",
          "Entities might be either set only as keyspaces or only as keyspaces with tables!",
        ),
      ],
    ],
    // (three parts) → dropped, error
    ["three parts", "k1.t1,a.b.c", [err(E, "entities.dropped", '"a.b.c"', "silently")]],
    // (k1.) → dropped, error
    ["trailing dot", "k1.", [err(E, "entities.dropped", '"k1."')]],
    // (k1.t1.) → esop reads k1.t1, but the token is not a name
    ["table trailing dot", "k1.t1.", [err(E, "entities.identifier", '"k1.t1."')]],
    // (hyphen) → not \w
    ["hyphen", "my-ks", [err(E, "entities.identifier", '"my-ks"', "1-48")]],
    // (49 characters) → too long
    ["too long", "k".repeat(49), [err(E, "entities.identifier")]],
    // (48 characters) → fine
    ["48", "k".repeat(48), []],
    // (.t1) → esop reads keyspace "" table t1
    ["leading dot", ".t1", [err(E, "entities.identifier", '".t1"')]],
    // (duplicates) → warning
    ["duplicate", "k1,k2,k1", [warn(E, "entities.duplicate", '"k1"')]],
    // (same table twice) → warning
    ["duplicate tables", "k1.t1 k1.t1", [warn(E, "entities.duplicate", '"k1.t1"')]],
    // (system keyspaces) → warning, keyspace or table form
    ["system", "system_auth,k1", [warn(E, "entities.system", '"system_auth"')]],
    // (table of a system keyspace) → warning
    ["system table", "system_schema.tables", [warn(E, "entities.system", '"system_schema"')]],
    // (upper case) → warning
    ["case", "MyKs", [warn(E, "entities.case", '"MyKs"')]],
    // (space around a dot) → CassKop splits it into k1, "." and t1; esop drops "."
    ["spacing", "k1 . t1", [err(E, "entities.spacing", '"k1 . t1"'), err(E, "entities.dropped", '"."')]],
    // (space after a dot) → k1. is dropped, t1 read as a keyspace
    [
      "spacing after",
      "k1. t1",
      [err(E, "entities.spacing", '"k1. t1"'), err(E, "entities.dropped", '"k1."')],
    ],
    // (several mistakes) → all at once
    [
      "all at once",
      "k1,k2.t2,a.b.c,bad-name,k1,system",
      [
        err(E, "entities.mixed"),
        err(E, "entities.dropped", '"a.b.c"'),
        err(E, "entities.identifier", '"bad-name"'),
        warn(E, "entities.duplicate", '"k1"'),
        warn(E, "entities.system", '"system"'),
      ],
    ],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assertProblems(checkEntities(input, E), expected, name));
  }
});

describe("coveredBy / notCoveredBy", () => {
  const p = parseEntities;
  const cases: [string, string, string, boolean, string[]][] = [
    // (restore, backup, covered, not covered)
    ["same tables", "k1.t1", "k1.t1,k2.t3", true, []],
    // (tables of a backed-up keyspace) → covered
    ["keyspace covers its tables", "k1.t1,k1.t2", "k1", true, []],
    // (table the backup lacks) → not covered, named
    ["table outside", "k2.t9", "k1.t1,k2.t3", false, ["k2.t9"]],
    // (keyspace vs some of its tables) → not covered
    ["keyspace not covered by its tables", "k1", "k1.t1", false, ["k1"]],
    // (keyspace the backup lacks) → not covered
    ["keyspace outside", "k3", "k1,k2", false, ["k3"]],
    // (anything vs an everything-backup) → covered
    ["empty backup covers all", "k1,k2", "", true, []],
    // (everything vs everything) → covered
    ["empty restore, empty backup", "", "", true, []],
    // (everything vs a subset) → not covered; callers substitute the backup's first
    ["empty restore, some backup", "", "k1", false, []],
  ];
  for (const [name, restore, backup, covered, missing] of cases) {
    test(name, () => {
      assert.equal(coveredBy(p(restore), p(backup)), covered);
      assert.deepEqual(notCoveredBy(p(restore), p(backup)), missing);
    });
  }

  test("property: coveredBy is reflexive", () => {
    const name = fc.stringMatching(/^[a-z0-9_]{1,6}$/);
    const entity = fc.oneof(
      name,
      fc.tuple(name, name).map(([k, t]) => `${k}.${t}`),
    );
    fc.assert(
      fc.property(fc.array(entity, { maxLength: 6 }), fc.constantFrom(",", " ", ", "), (items, sep) => {
        const e = parseEntities(items.join(sep));
        assert.ok(coveredBy(e, e));
      }),
    );
    fc.assert(fc.property(fc.string(), (s) => assert.ok(coveredBy(parseEntities(s), parseEntities(s)))));
  });

  test("property: a backup's keyspaces cover any of their tables", () => {
    const name = fc.stringMatching(/^[a-z]{1,5}$/);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 4 }), name, (kss, table) => {
        const backup = parseEntities(kss.join(","));
        const restore = parseEntities(kss.map((k) => `${k}.${table}`).join(","));
        assert.ok(coveredBy(restore, backup));
      }),
    );
  });
});
