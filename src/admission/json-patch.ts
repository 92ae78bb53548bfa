// RFC 6902 JSON Patch, the only patch type an AdmissionResponse may carry (`patchType: "JSONPatch"`,
// conventions.md §1.3), restricted to what casskeeper's mutations need: `add` operations, which fill fields
// that are absent. Paths are RFC 6901 JSON pointers. `applyAddPatch` exists so tests (and anyone checking
// idempotence) can apply a patch exactly as the API server would and review the result again.

export interface AddOperation {
  readonly op: "add";
  readonly path: string;
  readonly value: unknown;
}

/** An RFC 6901 pointer from path segments: `~` → `~0`, `/` → `~1`, in that order. */
export function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** The segments of a pointer (the inverse of {@link pointer}); throws on a pointer not starting with `/`. */
export function parsePointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw new Error(`JSON pointer ${JSON.stringify(path)} does not start with "/"`);
  return path
    .slice(1)
    .split("/")
    .map((s) => {
      if (/~(?![01])/.test(s)) throw new Error(`JSON pointer ${JSON.stringify(path)}: bad "~" escape`);
      return s.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

/** The `patch` field of an AdmissionResponse: the JSON array, base64-encoded. */
export function encodePatch(ops: readonly AddOperation[]): string {
  return Buffer.from(JSON.stringify(ops), "utf8").toString("base64");
}

/** The operations of an AdmissionResponse `patch` (for tests and logs). Throws on anything but add ops. */
export function decodePatch(patch: string): AddOperation[] {
  const ops: unknown = JSON.parse(Buffer.from(patch, "base64").toString("utf8"));
  if (!Array.isArray(ops)) throw new Error("patch is not a JSON array");
  return ops.map((op, i) => {
    if (
      typeof op !== "object" ||
      op === null ||
      op.op !== "add" ||
      typeof op.path !== "string" ||
      !("value" in op)
    ) {
      throw new Error(`patch operation ${i} is not an RFC 6902 add with a path and a value`);
    }
    return { op: "add", path: op.path, value: op.value };
  });
}

/**
 * Applies `add` operations as RFC 6902 §4.1 says, to a copy of `doc`: the parent must exist; an object member
 * is set (replaced if present); an array index inserts (`-` appends; an index past the end is an error);
 * the empty path replaces the whole document. Throws on any error, as the API server rejects the patch.
 */
export function applyAddPatch(doc: unknown, ops: readonly AddOperation[]): unknown {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    const segments = parsePointer(op.path);
    const value = structuredClone(op.value);
    const last = segments.pop();
    if (last === undefined) {
      root = value;
      continue;
    }
    let parent: unknown = root;
    for (const s of segments) {
      if (Array.isArray(parent)) parent = parent[arrayIndex(s, parent.length - 1, op.path)];
      else if (typeof parent === "object" && parent !== null && Object.hasOwn(parent, s))
        parent = (parent as Record<string, unknown>)[s];
      else throw new Error(`add ${op.path}: parent path does not exist`);
    }
    if (Array.isArray(parent)) {
      parent.splice(last === "-" ? parent.length : arrayIndex(last, parent.length, op.path), 0, value);
    } else if (typeof parent === "object" && parent !== null) {
      (parent as Record<string, unknown>)[last] = value;
    } else {
      throw new Error(`add ${op.path}: parent is not an object or an array`);
    }
  }
  return root;
}

function arrayIndex(s: string, max: number, path: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(s) || Number(s) > max) throw new Error(`add ${path}: bad array index ${s}`);
  return Number(s);
}
