import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { DEFAULT_LIMITS } from "../../../src/core/yaml-documents.ts";
import { loadSourceFiles } from "../../../src/gitsync/loader.ts";
import type { SourceFile } from "../../../src/gitsync/model.ts";

const enc = new TextEncoder();
const file = (path: string, text: string): SourceFile => ({ path, bytes: enc.encode(text) });

describe("loadSourceFiles", () => {
  it("names documents by their repository path, in path order, with positions", () => {
    const r = loadSourceFiles([
      file("backups/b.yaml", "kind: B\n"),
      file("backups/a.yaml", "# head\nkind: A1\n---\nkind: A2\nmetadata:\n  name: x\n"),
    ]);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.documents.map((d) => [d.file, d.index, (d.object as { kind: string }).kind, d.position.line]),
      [
        ["backups/a.yaml", 0, "A1", 2],
        ["backups/a.yaml", 1, "A2", 4],
        ["backups/b.yaml", 0, "B", 1],
      ],
    );
    assert.deepEqual(r.documents[1]?.positionOf("metadata.name"), { line: 6, column: 9 });
  });

  // (scenario, bytes) → the loader's code at the file
  const bad: [string, SourceFile, string][] = [
    ["binary file", { path: "x.yaml", bytes: new Uint8Array([0x6b, 0, 0x31]) }, "file.binary"],
    ["invalid UTF-8", { path: "x.yaml", bytes: new Uint8Array([0x6b, 0x3a, 0x20, 0xff]) }, "file.encoding"],
    ["syntax error", file("x.yaml", "kind: [\n"), "yaml.invalid"],
    [
      "larger than the limit",
      file("x.yaml", `k: ${"x".repeat(DEFAULT_LIMITS.maxBytes)}\n`),
      "file.too-large",
    ],
    [
      "marked too large by the reader (no bytes)",
      { path: "x.yaml", bytes: new Uint8Array(), tooLarge: 5_000_000 },
      "file.too-large",
    ],
  ];
  for (const [name, f, code] of bad) {
    it(`${name}: ${code} at the file, the other files still load`, () => {
      const r = loadSourceFiles([f, file("ok.yaml", "kind: Ok\n")]);
      assert.deepEqual(
        r.problems.map((p) => [p.file, p.problem.code]),
        [["x.yaml", code]],
      );
      assert.deepEqual(
        r.documents.map((d) => d.file),
        ["ok.yaml"],
      );
    });
  }

  it("the order of the files given does not matter", () => {
    const paths = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,3}(\/[a-z]{1,3})?\.yaml$/), {
      minLength: 1,
      maxLength: 6,
    });
    fc.assert(
      fc.property(
        paths.chain((ps) => fc.tuple(fc.constant(ps), fc.shuffledSubarray(ps, { minLength: ps.length }))),
        ([ps, shuffled]) => {
          const load = (list: string[]) =>
            loadSourceFiles(list.map((p) => file(p, `kind: K\nmetadata:\n  name: n\n`))).documents.map(
              (d) => d.file,
            );
          assert.deepEqual(load(shuffled), load(ps));
        },
      ),
    );
  });
});
