// Structural validation from the CRD schemas themselves: the CRD YAML in manifests/crds is the one source of
// truth for shapes, so a document that passes here is not refused by the API server for its shape.
//
// Pure: it receives already-parsed CRD objects (src/schema/bundled-crds.ts reads them) and compiles each
// served version's openAPIV3Schema with ajv once. The Kubernetes structural-schema extensions are translated
// to plain JSON Schema, honestly:
//   - unknown fields are errors, as `kubectl apply` (--validate=strict) makes them: objects get
//     `additionalProperties: false` unless `x-kubernetes-preserve-unknown-fields: true`;
//   - null in a non-nullable field is dropped before validation, as the API server prunes it (k8s ≥ 1.20);
//     so a required field that is null reads "Required value", and an empty YAML value (`secret:`) passes;
//   - a required field with a `default` is satisfied by the default;
//   - `x-kubernetes-int-or-string` → integer or string; `x-kubernetes-list-type: set` → unique items;
//     `map` with `x-kubernetes-list-map-keys` → duplicate keys are errors (keyword `k8sListMapKeys`);
//   - `x-kubernetes-validations` (CEL): there is no CEL interpreter here. The rules casskeeper's own CRDs use
//     are mirrored one by one as equivalent JSON-schema checks in MIRRORED_CEL_RULES, keyed by the exact rule
//     text; any other rule is ignored (the API server still enforces it);
//   - formats: int32/int64 ranges, date-time, date, byte; other formats are not checked;
//   - `metadata` is validated as ObjectMeta (known fields, types), plus name/namespace/label rules in code.

import {
  Ajv,
  type AnySchemaObject,
  type ErrorObject,
  type SchemaValidateFunction,
  type ValidateFunction,
} from "ajv";
import { error, joinPath, type Problem } from "./problem.ts";
import { isRecord } from "./world-build.ts";

export interface StructuralValidator {
  /**
   * True when apiVersion's group and the kind belong to a CRD casskeeper bundles, whatever the version
   * (validate() then reports a version that is not served). False for everything else (ConfigMaps, …).
   */
  knows(apiVersion: string, kind: string): boolean;
  /** Every shape problem at once; never throws. */
  validate(obj: unknown): Problem[];
  /** The kinds compiled, for listings and messages. */
  readonly kinds: readonly KnownKind[];
}

export interface KnownKind {
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
  /** Served versions, in the CRD's order. */
  readonly versions: readonly string[];
  readonly storageVersion: string | undefined;
  /** True when a served version has the status subresource (status is then written through /status). */
  readonly statusSubresource: boolean;
}

/**
 * CEL rules mirrored as JSON Schema, keyed by the exact rule text in the CRD. Each pair must accept exactly
 * the same objects; test/unit/structure covers both sides. A rule not listed here is ignored by casskeeper.
 */
export const MIRRORED_CEL_RULES: ReadonlyMap<string, AnySchemaObject> = new Map<string, AnySchemaObject>([
  // BackupPolicySource spec.ref: at most one of branch, tag or commit (has() is false for absent fields,
  // and nulls are pruned first on both sides).
  [
    "(has(self.branch) ? 1 : 0) + (has(self.tag) ? 1 : 0) + (has(self.commit) ? 1 : 0) <= 1",
    {
      not: {
        anyOf: [
          { required: ["branch", "tag"] },
          { required: ["branch", "commit"] },
          { required: ["tag", "commit"] },
        ],
      },
    },
  ],
]);

// ---------------------------------------------------------------------------------------------------------
// Compilation

/** What null pruning needs to know of a schema node. */
interface Node {
  readonly nullable: boolean;
  readonly props: Map<string, Node> | undefined;
  readonly additional: Node | undefined;
  readonly items: Node | undefined;
}

interface Compiled {
  readonly check: ValidateFunction;
  readonly node: Node;
}

interface KindEntry {
  readonly info: KnownKind;
  readonly compiled: Map<string, Compiled>;
}

type Obj = Record<string, unknown>;

/** The loader's object test, under this file's short name. */
const isObj: (v: unknown) => v is Obj = isRecord;

function own(o: Obj, k: string): unknown {
  return Object.hasOwn(o, k) ? o[k] : undefined;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
// 2^63: the int64 bounds are -2^63 and 2^63 - 1, and doubles near there are integers anyway.
const INT64_LIMIT = 2 ** 63;

// RFC 3339 date-time, also with a space for T and lowercase t/z (Go's strfmt accepts those).
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
  return d <= days;
}

function isDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (m === null) return false;
  const [, y, mo, d, h, mi, se, , , oh, om] = m;
  if (!validDate(Number(y), Number(mo), Number(d))) return false;
  if (Number(h) > 23 || Number(mi) > 59 || Number(se) > 60) return false;
  return oh === undefined || (Number(oh) <= 23 && Number(om) <= 59);
}

function isDate(s: string): boolean {
  const m = DATE.exec(s);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

const FORMATS: Readonly<Record<string, { type: "number" | "string"; validate: (v: never) => boolean }>> = {
  // Ranges only: a fraction is for the `type: integer` check to report, once.
  int32: {
    type: "number",
    validate: (n: number) => !Number.isInteger(n) || (n >= INT32_MIN && n <= INT32_MAX),
  },
  int64: {
    type: "number",
    validate: (n: number) => !Number.isInteger(n) || (n >= -INT64_LIMIT && n < INT64_LIMIT),
  },
  float: { type: "number", validate: () => true },
  double: { type: "number", validate: () => true },
  "date-time": { type: "string", validate: isDateTime },
  date: { type: "string", validate: isDate },
  byte: { type: "string", validate: (s: string) => BASE64.test(s) },
};

const FORMAT_HINTS: Readonly<Record<string, string>> = {
  int32: "must be a 32-bit integer (-2147483648 to 2147483647)",
  int64: "must be a 64-bit integer",
  "date-time": "must be an RFC 3339 date-time such as 2024-05-01T02:00:00Z",
  date: "must be a date such as 2024-05-01",
  byte: "must be base64",
};

/** ObjectMeta as the API server decodes it: known fields and their types. Names are checked in code. */
function metadataSchema(): AnySchemaObject {
  const str = { type: "string", nullable: true };
  const int64 = { type: "integer", format: "int64", nullable: true };
  const strMap = { type: "object", nullable: true, additionalProperties: { type: "string", nullable: true } };
  return {
    type: "object",
    nullable: true,
    additionalProperties: false,
    properties: {
      name: str,
      generateName: str,
      namespace: str,
      selfLink: str,
      uid: str,
      resourceVersion: str,
      generation: int64,
      creationTimestamp: str,
      deletionTimestamp: str,
      deletionGracePeriodSeconds: int64,
      labels: strMap,
      annotations: strMap,
      finalizers: { type: "array", nullable: true, items: { type: "string" } },
      ownerReferences: {
        type: "array",
        nullable: true,
        items: {
          type: "object",
          additionalProperties: false,
          required: ["apiVersion", "kind", "name", "uid"],
          properties: {
            apiVersion: { type: "string" },
            kind: { type: "string" },
            name: { type: "string" },
            uid: { type: "string" },
            controller: { type: "boolean", nullable: true },
            blockOwnerDeletion: { type: "boolean", nullable: true },
          },
        },
      },
      managedFields: { type: "array", nullable: true, items: { type: "object" } },
    },
  };
}

// Metadata is nullable as a whole and inside (Go decodes null to the zero value), so pruning never enters it.
const METADATA_NODE: Node = { nullable: true, props: undefined, additional: undefined, items: undefined };

const COPIED_KEYWORDS = [
  "enum",
  "multipleOf",
  "minLength",
  "maxLength",
  "pattern",
  "minItems",
  "maxItems",
  "uniqueItems",
  "minProperties",
  "maxProperties",
] as const;

interface Translated {
  readonly schema: AnySchemaObject;
  readonly node: Node;
}

/**
 * Kubernetes structural schema → JSON Schema for ajv. `junctor` is true inside allOf/anyOf/oneOf/not, where
 * structural schemas only carry value checks: no unknown-field closing there.
 */
function translate(s: unknown, where: string, junctor: boolean): Translated {
  if (!isObj(s)) throw new TypeError(`${where}: a schema must be an object`);
  const out: Obj = {};
  const nullable = s.nullable === true;
  const preserve = s["x-kubernetes-preserve-unknown-fields"] === true;

  if (s["x-kubernetes-int-or-string"] === true) out.type = ["integer", "string"];
  else if (typeof s.type === "string") out.type = s.type;
  if (nullable && out.type !== undefined) out.nullable = true;

  for (const k of COPIED_KEYWORDS) if (s[k] !== undefined) out[k] = s[k];
  // OpenAPI v3.0 exclusiveMinimum/Maximum are booleans modifying minimum/maximum.
  if (typeof s.minimum === "number")
    out[s.exclusiveMinimum === true ? "exclusiveMinimum" : "minimum"] = s.minimum;
  if (typeof s.maximum === "number")
    out[s.exclusiveMaximum === true ? "exclusiveMaximum" : "maximum"] = s.maximum;
  if (typeof s.format === "string" && Object.hasOwn(FORMATS, s.format)) out.format = s.format;

  let props: Map<string, Node> | undefined;
  if (isObj(s.properties)) {
    props = new Map();
    const outProps: Obj = {};
    for (const [k, v] of Object.entries(s.properties)) {
      const t = translate(v, `${where}.properties.${k}`, junctor);
      outProps[k] = t.schema;
      props.set(k, t.node);
    }
    if (s["x-kubernetes-embedded-resource"] === true) {
      outProps.apiVersion ??= { type: "string" };
      outProps.kind ??= { type: "string" };
      outProps.metadata ??= { type: "object" };
    }
    out.properties = outProps;
  }
  if (Array.isArray(s.required)) {
    // A required field with a default is filled by the API server before validation.
    const props = isObj(s.properties) ? s.properties : {};
    const required = s.required.filter(
      (r) => typeof r === "string" && !(isObj(props[r]) && "default" in props[r]),
    );
    if (required.length > 0) out.required = required;
  }

  let additional: Node | undefined;
  if (isObj(s.additionalProperties)) {
    const t = translate(s.additionalProperties, `${where}.additionalProperties`, junctor);
    out.additionalProperties = t.schema;
    additional = t.node;
  } else if (s.additionalProperties === false) {
    out.additionalProperties = false;
  } else if (s.additionalProperties !== true && !junctor && !preserve && (s.type === "object" || props)) {
    out.additionalProperties = false;
  }

  let items: Node | undefined;
  if (isObj(s.items)) {
    const t = translate(s.items, `${where}.items`, junctor);
    out.items = t.schema;
    items = t.node;
  }

  for (const k of ["allOf", "anyOf", "oneOf"] as const) {
    const list = s[k];
    if (Array.isArray(list)) out[k] = list.map((x, i) => translate(x, `${where}.${k}[${i}]`, true).schema);
  }
  if (s.not !== undefined) out.not = translate(s.not, `${where}.not`, true).schema;

  const listType = s["x-kubernetes-list-type"];
  if (listType === "set") out.uniqueItems = true;
  if (listType === "map" && Array.isArray(s["x-kubernetes-list-map-keys"])) {
    out.k8sListMapKeys = s["x-kubernetes-list-map-keys"];
  }

  const rules = s["x-kubernetes-validations"];
  if (Array.isArray(rules)) {
    const mirrored: { rule: string; message: string }[] = [];
    for (const r of rules) {
      if (!isObj(r) || typeof r.rule !== "string" || !MIRRORED_CEL_RULES.has(r.rule)) continue; // ignored
      mirrored.push({
        rule: r.rule,
        message: typeof r.message === "string" ? r.message : `failed rule: ${r.rule}`,
      });
    }
    if (mirrored.length > 0) out.k8sCel = mirrored;
  }

  return { schema: out, node: { nullable, props, additional, items } };
}

function newAjv(): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    verbose: true,
    strict: true,
    strictTypes: false,
    strictRequired: false,
    allowUnionTypes: true,
  });
  for (const [name, def] of Object.entries(FORMATS)) ajv.addFormat(name, def as never);

  const listMapKeys: SchemaValidateFunction = (keys: string[], data: unknown[], _parent, cxt) => {
    const seen = new Set<string>();
    const errs: Partial<ErrorObject>[] = [];
    data.forEach((item, i) => {
      if (!isObj(item) || keys.some((k) => own(item, k) === undefined)) return; // `required` reports it
      const key = safeJson(Object.fromEntries(keys.map((k) => [k, own(item, k)])));
      if (seen.has(key)) {
        errs.push({
          keyword: "k8sListMapKeys",
          instancePath: `${cxt?.instancePath ?? ""}/${i}`,
          message: `Duplicate value: ${key}`,
          params: { keys },
        });
      }
      seen.add(key);
    });
    listMapKeys.errors = errs;
    return errs.length === 0;
  };
  ajv.addKeyword({
    keyword: "k8sListMapKeys",
    type: "array",
    schemaType: "array",
    errors: true,
    validate: listMapKeys,
  });

  const mirrors = new Map<string, ValidateFunction>();
  for (const [rule, schema] of MIRRORED_CEL_RULES) mirrors.set(rule, ajv.compile(schema));
  ajv.addKeyword({
    keyword: "k8sCel",
    schemaType: "array",
    errors: true,
    compile(rules: { rule: string; message: string }[]) {
      const checks = rules.map((r) => ({ ...r, check: mirrors.get(r.rule) }));
      const fn = (data: unknown): boolean => {
        const errs: Partial<ErrorObject>[] = [];
        for (const c of checks) {
          if (c.check !== undefined && !c.check(data)) {
            errs.push({ keyword: "k8sCel", message: c.message, params: { rule: c.rule } });
          }
        }
        fn.errors = errs;
        return errs.length === 0;
      };
      fn.errors = [] as Partial<ErrorObject>[];
      return fn;
    },
  });
  return ajv;
}

function parseCrd(crd: unknown, ajv: Ajv): KindEntry {
  if (!isObj(crd) || crd.kind !== "CustomResourceDefinition" || !isObj(crd.spec)) {
    throw new TypeError("compileStructuralValidator: not a CustomResourceDefinition");
  }
  const { group, names, versions } = crd.spec;
  if (
    typeof group !== "string" ||
    !isObj(names) ||
    typeof names.kind !== "string" ||
    !Array.isArray(versions)
  ) {
    throw new TypeError(
      "compileStructuralValidator: CRD without spec.group, spec.names.kind or spec.versions",
    );
  }
  const kind = names.kind;
  const compiled = new Map<string, Compiled>();
  const served: string[] = [];
  let storageVersion: string | undefined;
  let statusSubresource = false;
  for (const v of versions) {
    if (!isObj(v) || typeof v.name !== "string") throw new TypeError(`${kind}: a version without a name`);
    if (v.storage === true) storageVersion = v.name;
    if (v.served !== true) continue;
    served.push(v.name);
    if (isObj(v.subresources) && v.subresources.status !== undefined) statusSubresource = true;
    const schema = isObj(v.schema) ? v.schema.openAPIV3Schema : undefined;
    const root = translate(schema, `${kind}/${v.name}`, false);
    // The root `metadata` is ObjectMeta whatever the CRD says (CRDs may only restrict name there).
    const rootSchema: Obj = { ...root.schema, properties: { ...(root.schema.properties as Obj) } };
    (rootSchema.properties as Obj).metadata = metadataSchema();
    root.node.props?.set("metadata", METADATA_NODE);
    compiled.set(v.name, { check: ajv.compile(rootSchema), node: root.node });
  }
  const plural = typeof names.plural === "string" ? names.plural : kind.toLowerCase();
  return { info: { group, kind, plural, versions: served, storageVersion, statusSubresource }, compiled };
}

// ---------------------------------------------------------------------------------------------------------
// Validation

/** Drops nulls the API server prunes (non-nullable object fields and map values). Copies only on change. */
function pruneNulls(data: unknown, node: Node): unknown {
  if (Array.isArray(data)) {
    const items = node.items;
    if (items === undefined) return data;
    let out: unknown[] | undefined;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      const p = pruneNulls(v, items);
      if (p !== v) {
        out ??= data.slice();
        out[i] = p;
      }
    }
    return out ?? data;
  }
  if (!isObj(data) || (node.props === undefined && node.additional === undefined)) return data;
  let out: Obj | undefined;
  for (const k of Object.keys(data)) {
    const child = node.props?.get(k) ?? node.additional;
    if (child === undefined) continue;
    const v = data[k];
    if (v === null) {
      if (!child.nullable) {
        out ??= { ...data };
        delete out[k];
      }
      continue;
    }
    const p = pruneNulls(v, child);
    if (p !== v) {
      out ??= { ...data };
      out[k] = p;
    }
  }
  return out ?? data;
}

/** JSON pointer (ajv's instancePath) → casskeeper's dotted path, telling list indexes from keys by the data. */
function pointerToPath(pointer: string, root: unknown): string {
  if (pointer === "") return "";
  let path = "";
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      const i = Number(seg);
      path = joinPath(path, i);
      cur = cur[i];
    } else {
      path = joinPath(path, seg);
      cur = isObj(cur) ? own(cur, seg) : undefined;
    }
  }
  return path;
}

/** JSON for messages and keys; never throws (a BigInt or a cycle falls back to String). */
function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** `string "ten"`, `number 1.5`, `a list`: what the user wrote, briefly. */
function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  switch (typeof v) {
    case "string":
      return `string ${quote(v)}`;
    case "number":
    case "boolean":
      return `${typeof v} ${String(v)}`;
    case "object":
      return "an object";
    default:
      return typeof v;
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
};

function typePhrase(type: unknown): string {
  const types = (Array.isArray(type) ? type.map(String) : String(type).split(",")).filter(
    (t) => t !== "null",
  );
  return types.map((t) => TYPE_NAMES[t] ?? t).join(" or ");
}

/** Levenshtein distance, giving up (returning max + 1) once it exceeds max. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const d = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      cur.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length] ?? max + 1;
}

/** A known name the unknown one is a near miss of: same letters ignoring case, or at most 2 edits away. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same !== undefined) return same;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase(), 2);
    if (d < bestD && d < name.length) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

// Human words for the patterns casskeeper's own CRDs use (the API server would print the regex).
const PATTERN_HINTS: Readonly<Record<string, string>> = {
  "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$": "must be a Go duration such as 30s, 5m or 1h30m",
  "^([0-9a-f]{40}|[0-9a-f]{64})$": "must be a full commit SHA (40 or 64 lowercase hex digits)",
};

function limitMessage(e: ErrorObject): string {
  const p = e.params as Obj;
  const got = e.data;
  switch (e.keyword) {
    case "minLength":
      return p.limit === 1 ? "must not be empty" : `must be at least ${p.limit} characters long`;
    case "maxLength":
      return `must be at most ${p.limit} characters long (got ${typeof got === "string" ? got.length : "?"})`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `must be ${p.comparison} ${p.limit} (got ${describe(got)})`;
    case "multipleOf":
      return `must be a multiple of ${p.multipleOf} (got ${describe(got)})`;
    case "minItems":
    case "maxItems":
      return `must have ${e.keyword === "minItems" ? "at least" : "at most"} ${p.limit} items (got ${Array.isArray(got) ? got.length : "?"})`;
    case "minProperties":
    case "maxProperties":
      return `must have ${e.keyword === "minProperties" ? "at least" : "at most"} ${p.limit} fields`;
    case "pattern":
      return `${PATTERN_HINTS[String(p.pattern)] ?? `must match the pattern ${String(p.pattern)}`} (got ${describe(got)})`;
    default:
      return e.message ?? `failed ${e.keyword}`;
  }
}

/**
 * ajv errors → problems. The errors inside a failed anyOf/oneOf are folded into that one problem's message
 * (`must satisfy one of: … | …`) rather than reported as if each were required.
 */
function toProblems(errors: readonly ErrorObject[], data: unknown): Problem[] {
  const junctors = errors
    .filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf")
    .map((e) => `${e.schemaPath}/`);
  const branches = new Map<string, string[]>();
  const out: Problem[] = [];
  for (const e of errors) {
    const inside = junctors.find((j) => e.schemaPath.startsWith(j));
    if (inside === undefined) {
      out.push(problemFor(e, data, branches.get(`${e.schemaPath}/`) ?? []));
    } else {
      const list = branches.get(inside) ?? [];
      list.push(formatProblemMessage(problemFor(e, data, [])));
      branches.set(inside, list);
    }
  }
  return out;
}

/** A branch's problem inside an anyOf/oneOf message. */
function formatProblemMessage(p: Problem): string {
  return p.code === "schema.required" ? `${p.path} is required` : p.message;
}

function problemFor(e: ErrorObject, data: unknown, branchMessages: readonly string[]): Problem {
  const at = pointerToPath(e.instancePath, data);
  const p = e.params as Obj;
  switch (e.keyword) {
    case "required":
      return error(joinPath(at, String(p.missingProperty)), "schema.required", "Required value");
    case "additionalProperties": {
      const path = joinPath(at, String(p.additionalProperty));
      const props =
        isObj(e.parentSchema) && isObj(e.parentSchema.properties) ? e.parentSchema.properties : {};
      const hint = suggest(String(p.additionalProperty), Object.keys(props));
      const message = `unknown field "${path}"${hint === undefined ? "" : `, did you mean ${JSON.stringify(hint)}?`}`;
      return error(path, "schema.unknown-field", message);
    }
    case "type":
      return error(at, "schema.type", `must be ${typePhrase(p.type)} (got ${describe(e.data)})`);
    case "enum": {
      const allowed = Array.isArray(p.allowedValues) ? p.allowedValues.map((v) => safeJson(v)) : [];
      return error(at, "schema.enum", `must be one of ${allowed.join(", ")} (got ${describe(e.data)})`);
    }
    case "format": {
      const f = String(p.format);
      return error(at, "schema.format", `${FORMAT_HINTS[f] ?? `must be a ${f}`} (got ${describe(e.data)})`);
    }
    case "uniqueItems": {
      const i = Math.max(Number(p.i), Number(p.j));
      const item = Array.isArray(e.data) ? e.data[i] : undefined;
      return error(joinPath(at, i), "schema.duplicate", `Duplicate value: ${safeJson(item)}`);
    }
    case "k8sListMapKeys":
      return error(at, "schema.duplicate", e.message ?? "Duplicate value");
    case "k8sCel":
      return error(at, "schema.invalid", e.message ?? "failed rule");
    case "anyOf":
    case "oneOf":
      return error(
        at,
        "schema.invalid",
        branchMessages.length > 0
          ? `must satisfy one of: ${[...new Set(branchMessages)].join(" | ")}`
          : "must match exactly one allowed form, not several",
      );
    case "not":
      return error(at, "schema.invalid", "this combination of fields is not allowed");
    default:
      return error(at, "schema.invalid", limitMessage(e));
  }
}

// ObjectMeta rules the API server applies to every custom resource (apimachinery ValidateObjectMeta).
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SUBDOMAIN_RULE =
  "must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit";
const LABEL_RULE =
  "must be a lowercase RFC 1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit";
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

function subdomainProblem(value: string): string | undefined {
  if (value.length > 253) return `must be no more than 253 characters (got ${value.length})`;
  return DNS1123_SUBDOMAIN.test(value) ? undefined : SUBDOMAIN_RULE;
}

/** Why `key` is not a qualified name (`[prefix/]name`, as label and annotation keys must be), or undefined. */
function qualifiedNameProblem(key: string): string | undefined {
  const parts = key.split("/");
  const name = parts.length === 2 ? (parts[1] ?? "") : (parts[0] ?? "");
  if (parts.length > 2) return "must be a name with at most one '/' (an optional DNS prefix, then a name)";
  if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    if (prefix === "") return "the prefix before '/' must not be empty";
    const why = subdomainProblem(prefix);
    if (why !== undefined) return `prefix ${quote(prefix)} ${why}`;
  }
  if (name === "") return "the name part must not be empty";
  if (name.length > 63) return `the name part must be no more than 63 characters (got ${name.length})`;
  if (!QUALIFIED_NAME_PART.test(name)) {
    return "the name part must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

function utf8Length(s: string): number {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

function checkMetadata(meta: unknown, out: Problem[]): void {
  if (meta !== undefined && meta !== null && !isObj(meta)) return; // the schema reported its type
  const m: Obj = isObj(meta) ? meta : {};
  const name = own(m, "name");
  const generateName = own(m, "generateName");
  if (typeof generateName === "string" && generateName !== "") {
    // The server appends a random suffix: a trailing '-' is fine in the prefix.
    const why = subdomainProblem(generateName.replace(/-$/, "a"));
    if (why !== undefined)
      out.push(
        error(
          "metadata.generateName",
          "metadata.generateName",
          `invalid prefix ${quote(generateName)}: ${why}`,
        ),
      );
  }
  if (typeof name === "string" && name !== "") {
    const why = subdomainProblem(name);
    if (why !== undefined)
      out.push(error("metadata.name", "metadata.name", `invalid name ${quote(name)}: ${why}`));
  } else if (
    (name === undefined || name === null || name === "") &&
    !(typeof generateName === "string" && generateName !== "")
  ) {
    out.push(error("metadata.name", "schema.required", "Required value: name or generateName is required"));
  }
  const namespace = own(m, "namespace");
  if (typeof namespace === "string" && namespace !== "") {
    const why =
      namespace.length > 63
        ? `must be no more than 63 characters (got ${namespace.length})`
        : DNS1123_LABEL.test(namespace)
          ? undefined
          : LABEL_RULE;
    if (why !== undefined)
      out.push(
        error("metadata.namespace", "metadata.namespace", `invalid namespace ${quote(namespace)}: ${why}`),
      );
  }
  const labels = own(m, "labels");
  if (isObj(labels)) {
    for (const [k, v] of Object.entries(labels)) {
      const path = joinPath("metadata.labels", k);
      const why = qualifiedNameProblem(k);
      if (why !== undefined)
        out.push(error(path, "metadata.labels", `invalid label key ${quote(k)}: ${why}`));
      if (typeof v === "string" && (v.length > 63 || !LABEL_VALUE.test(v))) {
        const vWhy =
          v.length > 63
            ? `must be no more than 63 characters (got ${v.length})`
            : "must be empty or consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
        out.push(error(path, "metadata.labels", `invalid label value ${quote(v)}: ${vWhy}`));
      }
    }
  }
  const annotations = own(m, "annotations");
  if (isObj(annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(annotations)) {
      size += utf8Length(k) + (typeof v === "string" ? utf8Length(v) : 0);
      const why = qualifiedNameProblem(k.toLowerCase());
      // Values are never echoed: annotations may carry anything.
      if (why !== undefined)
        out.push(
          error(
            joinPath("metadata.annotations", k),
            "metadata.annotations",
            `invalid annotation key ${quote(k)}: ${why}`,
          ),
        );
    }
    if (size > ANNOTATIONS_MAX_BYTES) {
      out.push(
        error(
          "metadata.annotations",
          "metadata.annotations",
          `annotations total ${size} bytes, more than the limit of ${ANNOTATIONS_MAX_BYTES}`,
        ),
      );
    }
  }
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.lastIndexOf("/");
  return i < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function servedAs(info: KnownKind): string {
  return info.versions.map((v) => `${info.group}/${v}`).join(", ");
}

export function compileStructuralValidator(crds: readonly unknown[]): StructuralValidator {
  const ajv = newAjv();
  const byKey = new Map<string, KindEntry>();
  for (const crd of crds) {
    const entry = parseCrd(crd, ajv);
    byKey.set(`${entry.info.group}\0${entry.info.kind}`, entry);
  }
  const entries = [...byKey.values()];
  const kinds = entries.map((e) => e.info);
  const kindList = kinds.map((k) => k.kind).join(", ");

  /** Which compiled schema the object asks for, or the problem saying why there is none. */
  function resolve(obj: Obj): Compiled | Problem {
    const apiVersion = own(obj, "apiVersion");
    const kind = own(obj, "kind");
    if (typeof kind !== "string" || kind === "") {
      const why =
        kind === undefined || kind === null || kind === ""
          ? "Required value"
          : `must be a string (got ${describe(kind)})`;
      return error("kind", "schema.unknown-kind", `${why}: the kind of the resource, one of ${kindList}`);
    }
    const sameKind = entries.filter((e) => e.info.kind === kind);
    if (typeof apiVersion !== "string" || apiVersion === "") {
      const why =
        apiVersion === undefined || apiVersion === null || apiVersion === ""
          ? "Required value"
          : `must be a string (got ${describe(apiVersion)})`;
      const hint =
        sameKind.length > 0
          ? `; ${kind} is served as ${sameKind.map((e) => servedAs(e.info)).join(", ")}`
          : "";
      return error("apiVersion", "schema.unknown-kind", `${why}: the API group and version${hint}`);
    }
    const { group, version } = splitApiVersion(apiVersion);
    const entry = byKey.get(`${group}\0${kind}`);
    if (entry !== undefined) {
      const compiled = entry.compiled.get(version);
      if (compiled !== undefined) return compiled;
      return error(
        "apiVersion",
        "schema.unknown-kind",
        `version ${quote(version)} of ${kind} is not served; served versions: ${servedAs(entry.info)}`,
      );
    }
    if (sameKind.length > 0) {
      return error(
        "apiVersion",
        "schema.unknown-kind",
        `${kind} is not in API group ${quote(group)}; use ${sameKind.map((e) => servedAs(e.info)).join(", ")}`,
      );
    }
    const inGroup = entries.filter((e) => e.info.group === group).map((e) => e.info.kind);
    const hint = suggest(kind, inGroup.length > 0 ? inGroup : kinds.map((k) => k.kind));
    return error(
      "kind",
      "schema.unknown-kind",
      `unknown kind ${quote(kind)} in ${quote(apiVersion)}${hint === undefined ? `; casskeeper knows ${kindList}` : `, did you mean ${JSON.stringify(hint)}?`}`,
    );
  }

  function validateObject(obj: unknown): Problem[] {
    if (!isObj(obj)) return [error("", "schema.type", `a resource must be an object (got ${describe(obj)})`)];
    const target = resolve(obj);
    if (!("check" in target)) return [target];
    const data = pruneNulls(obj, target.node);
    const problems = target.check(data) ? [] : toProblems(target.check.errors ?? [], data);
    checkMetadata(isObj(data) ? own(data, "metadata") : undefined, problems);
    return problems;
  }

  return {
    kinds,
    knows(apiVersion, kind) {
      return byKey.has(`${splitApiVersion(apiVersion).group}\0${kind}`);
    },
    validate(obj) {
      try {
        return validateObject(obj);
      } catch (e) {
        // A bug here must not take a webhook or a sync down; tests assert this never happens.
        return [
          error("", "schema.internal", `internal error in structural validation: ${(e as Error).message}`),
        ];
      }
    },
  };
}
