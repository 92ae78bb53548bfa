// RFC 6901 pointers and RFC 6902 `add`, as the API server applies a webhook's patch.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type AddOperation,
  applyAddPatch,
  decodePatch,
  encodePatch,
  parsePointer,
  pointer,
} from "../../../src/admission/json-patch.ts";

describe("pointer", () => {
  const cases: [string, (string | number)[], string][] = [
    // (plain segments) → joined with /
    ["plain", ["spec", "snapshotTag"], "/spec/snapshotTag"],
    // (annotation key with /) → ~1
    [
      "slash",
      ["metadata", "annotations", "casskeeper.io/backup-secret"],
      "/metadata/annotations/casskeeper.io~1backup-secret",
    ],
    // (key with ~) → ~0, and ~ is escaped before / (so "~1" stays distinguishable)
    ["tilde", ["a~1/b"], "/a~01~1b"],
    // (array append) → -
    ["append", ["spec", "env", "-"], "/spec/env/-"],
    // (index) → decimal
    ["index", ["items", 0], "/items/0"],
    // (root) → empty pointer
    ["root", [], ""],
  ];
  for (const [label, segments, want] of cases) {
    it(label, () => {
      assert.equal(pointer(segments), want);
      assert.deepEqual(parsePointer(want), segments.map(String));
    });
  }

  it("refuses a pointer without a leading / and a bad escape", () => {
    assert.throws(() => parsePointer("spec"));
    assert.throws(() => parsePointer("/a~2"));
  });
});

describe("encodePatch / decodePatch", () => {
  it("is base64 of the JSON array, as the AdmissionResponse wants it", () => {
    const ops: AddOperation[] = [{ op: "add", path: "/spec/replicas", value: 3 }];
    const encoded = encodePatch(ops);
    assert.equal(
      Buffer.from(encoded, "base64").toString(),
      '[{"op":"add","path":"/spec/replicas","value":3}]',
    );
    assert.deepEqual(decodePatch(encoded), ops);
  });

  it("refuses anything but add operations", () => {
    const remove = Buffer.from('[{"op":"remove","path":"/a"}]').toString("base64");
    assert.throws(() => decodePatch(remove), /not an RFC 6902 add/);
  });
});

describe("applyAddPatch", () => {
  const doc = { metadata: { annotations: { "a/b": "1" } }, spec: { env: [{ name: "A" }] } };
  const cases: [string, AddOperation[], unknown][] = [
    // (new member) → set
    ["member", [{ op: "add", path: "/spec/tag", value: "t" }], { ...doc, spec: { ...doc.spec, tag: "t" } }],
    // (existing member) → replaced, as RFC 6902 §4.1 says
    ["replace", [{ op: "add", path: "/spec/env", value: [] }], { ...doc, spec: { env: [] } }],
    // (append with -) → at the end
    [
      "append",
      [{ op: "add", path: "/spec/env/-", value: { name: "B" } }],
      { ...doc, spec: { env: [{ name: "A" }, { name: "B" }] } },
    ],
    // (index 0) → inserted before
    [
      "insert",
      [{ op: "add", path: "/spec/env/0", value: { name: "Z" } }],
      { ...doc, spec: { env: [{ name: "Z" }, { name: "A" }] } },
    ],
    // (escaped key) → unescaped
    [
      "escaped",
      [{ op: "add", path: "/metadata/annotations/c~1d", value: "2" }],
      { ...doc, metadata: { annotations: { "a/b": "1", "c/d": "2" } } },
    ],
    // (root) → replaced
    ["root", [{ op: "add", path: "", value: 1 }], 1],
  ];
  for (const [label, ops, want] of cases) {
    it(label, () => {
      assert.deepEqual(applyAddPatch(doc, ops), want);
      assert.deepEqual(doc.spec.env, [{ name: "A" }], "the input is not modified");
    });
  }

  it("fails where the API server would reject the patch", () => {
    assert.throws(
      () => applyAddPatch(doc, [{ op: "add", path: "/status/x", value: 1 }]),
      /parent path does not exist/,
    );
    assert.throws(
      () => applyAddPatch(doc, [{ op: "add", path: "/spec/env/5", value: 1 }]),
      /bad array index/,
    );
    assert.throws(
      () => applyAddPatch(doc, [{ op: "add", path: "/spec/env/01", value: 1 }]),
      /bad array index/,
    );
  });
});
