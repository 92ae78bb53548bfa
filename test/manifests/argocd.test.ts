// manifests/argocd/: the Lua health checks give Argo CD the status a user expects for each state of a
// CassandraBackup, CassandraRestore and BackupPolicySource; the argocd-cm fragment carries exactly the .lua
// files; the kustomize component merges them into an Argo CD install's argocd-cm; and the Application installs
// this repository's root kustomization the way its comments say.
//
// The Lua runs in fengari, a Lua 5.3 VM in JavaScript. Argo CD runs health checks in gopher-lua (Lua 5.1) and
// opens only the base, table, package and a "safe" os library for custom checks (argo-cd util/lua/lua.go:
// `SkipOpenLibs: !vm.UseOpenLibs`); so the VM here opens base and table only, and a static check keeps the
// scripts to syntax Lua 5.1 knows (no integer division, bitwise operators or goto). Numbers are pushed as
// integers where they are whole, so concatenating one prints as gopher-lua does ("3", not "3.0").

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import fc from "fast-check";
import { parse, parseAllDocuments } from "yaml";
import {
  HEALTH_CHECKS,
  HEALTH_DIR,
  healthKey,
  healthScript,
  renderArgocdCmHealth,
} from "../../scripts/argocd-cm-health.ts";
import { MUTATING_CONFIG_NAME, NAMESPACE, VALIDATING_CONFIG_NAME } from "../../src/admission/constants.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read freely by path
type Obj = Record<string, any>;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ARGOCD_DIR = join(ROOT, "manifests/argocd");
const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------------------
// A Lua VM as Argo CD's for custom health checks.

type LuaState = { readonly __lua: unique symbol };
type LuaString = Uint8Array;
type OpenLib = (L: LuaState) => number;
/** The part of fengari's C-like API used here (it ships no type declarations; it is CommonJS). */
interface Fengari {
  lua: {
    LUA_OK: number;
    LUA_TTABLE: number;
    lua_pushnil(L: LuaState): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushnumber(L: LuaState, n: number): void;
    lua_pushstring(L: LuaState, s: LuaString): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_rawseti(L: LuaState, index: number, n: number): void;
    lua_setfield(L: LuaState, index: number, k: LuaString): void;
    lua_getfield(L: LuaState, index: number, k: LuaString): number;
    lua_setglobal(L: LuaState, name: LuaString): void;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_type(L: LuaState, index: number): number;
    lua_isstring(L: LuaState, index: number): boolean;
    lua_tojsstring(L: LuaState, index: number): string;
    lua_pop(L: LuaState, n: number): void;
    lua_close(L: LuaState): void;
  };
  lauxlib: {
    luaL_newstate(): LuaState;
    luaL_requiref(L: LuaState, name: LuaString, open: OpenLib, global: number): void;
    luaL_loadstring(L: LuaState, s: LuaString): number;
  };
  lualib: { luaopen_base: OpenLib; luaopen_table: OpenLib };
  to_luastring(s: string): LuaString;
}
const fengari = createRequire(import.meta.url)("fengari") as Fengari;
const { lua, lauxlib, lualib, to_luastring } = fengari;

function pushValue(L: LuaState, v: unknown): void {
  if (v === null || v === undefined) lua.lua_pushnil(L);
  else if (typeof v === "boolean") lua.lua_pushboolean(L, v);
  else if (typeof v === "number")
    Number.isSafeInteger(v) ? lua.lua_pushinteger(L, v) : lua.lua_pushnumber(L, v);
  else if (typeof v === "string") lua.lua_pushstring(L, to_luastring(v));
  else if (Array.isArray(v)) {
    lua.lua_createtable(L, v.length, 0);
    v.forEach((item, i) => {
      pushValue(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else {
    const entries = Object.entries(v as Record<string, unknown>).filter(
      ([, x]) => x !== null && x !== undefined,
    );
    lua.lua_createtable(L, 0, entries.length);
    for (const [k, x] of entries) {
      pushValue(L, x);
      lua.lua_setfield(L, -2, to_luastring(k));
    }
  }
}

/** Runs a health script with `obj` set, as Argo CD does; returns its `{status, message}`. */
function health(script: string, obj: unknown): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  try {
    for (const [name, open] of [
      ["_G", lualib.luaopen_base],
      ["table", lualib.luaopen_table],
    ] as const) {
      lauxlib.luaL_requiref(L, to_luastring(name), open, 1);
      lua.lua_pop(L, 1);
    }
    pushValue(L, obj);
    lua.lua_setglobal(L, to_luastring("obj"));
    if (lauxlib.luaL_loadstring(L, to_luastring(script)) !== lua.LUA_OK)
      throw new Error(`Lua syntax: ${lua.lua_tojsstring(L, -1)}`);
    if (lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) throw new Error(`Lua error: ${lua.lua_tojsstring(L, -1)}`);
    assert.equal(lua.lua_type(L, -1), lua.LUA_TTABLE, "a health check returns a table");
    const field = (k: string) => {
      lua.lua_getfield(L, -1, to_luastring(k));
      const v = lua.lua_isstring(L, -1) ? lua.lua_tojsstring(L, -1) : undefined;
      lua.lua_pop(L, 1);
      return v;
    };
    const status = field("status");
    const message = field("message");
    assert.ok(status !== undefined && message !== undefined, "status and message are strings");
    return { status, message };
  } finally {
    lua.lua_close(L);
  }
}

/** Argo CD's valid health statuses (gitops-engine pkg/health; anything else becomes Unknown). */
const STATUSES = new Set(["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"]);

const backupLua = healthScript({ group: "db.orange.com", kind: "CassandraBackup" });
const restoreLua = healthScript({ group: "db.orange.com", kind: "CassandraRestore" });
const sourceLua = healthScript({ group: "casskeeper.io", kind: "BackupPolicySource" });

interface Case {
  name: string;
  obj: Obj;
  status: string;
  message: string;
}

function table(script: string, cases: Case[]): void {
  for (const c of cases)
    it(`${c.name} → ${c.status}`, () =>
      assert.deepEqual(health(script, c.obj), { status: c.status, message: c.message }));
}

// ---------------------------------------------------------------------------------------------------------
// Objects as CassKop and casskeeper write them.

function backup(spec: Obj = {}, status?: Obj, metadata: Obj = {}): Obj {
  return {
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraBackup",
    metadata: { name: "nightly", namespace: "cassandra", generation: 1, ...metadata },
    spec: { cassandraCluster: "demo", storageLocation: "s3://backups", snapshotTag: "nightly", ...spec },
    ...(status === undefined ? {} : { status }),
  };
}
const cause = (source: string, message: string) => ({ source, message });
const condition = (type: string, failureCause?: Obj[]) => ({
  type,
  lastTransitionTime: "Mon, 2 Jan 2026 03:04:05 GMT",
  ...(failureCause === undefined ? {} : { failureCause }),
});
const NIGHTLY = { schedule: "@midnight" };

describe("CassandraBackup health", () => {
  table(backupLua, [
    // one-shot, not picked up yet
    {
      name: "one-shot, no status",
      obj: backup(),
      status: "Progressing",
      message: "Waiting for the backup to start",
    },
    // one-shot, CassKop reset the status at the start of a run
    {
      name: "one-shot, empty status",
      obj: backup({}, {}),
      status: "Progressing",
      message: "Waiting for the backup to start",
    },
    // an empty schedule is no schedule
    {
      name: 'schedule ""',
      obj: backup({ schedule: "" }),
      status: "Progressing",
      message: "Waiting for the backup to start",
    },
    // scheduled, before its first run: nothing to wait for
    {
      name: "scheduled, no run yet",
      obj: backup(NIGHTLY),
      status: "Healthy",
      message: "Scheduled @midnight; no run yet",
    },
    // sidecar accepted the operation
    {
      name: "one-shot PENDING",
      obj: backup({}, { condition: condition("PENDING"), progress: "0%", id: "3f1c" }),
      status: "Progressing",
      message: "Backup PENDING (0%)",
    },
    // running
    {
      name: "one-shot RUNNING",
      obj: backup(
        {},
        { condition: condition("RUNNING"), progress: "42%", coordinatorMember: "demo-dc1-rack1-0" },
      ),
      status: "Progressing",
      message: "Backup RUNNING (42%)",
    },
    // a scheduled run under way
    {
      name: "scheduled RUNNING",
      obj: backup(NIGHTLY, { condition: condition("RUNNING"), progress: "7%" }),
      status: "Progressing",
      message: "Backup RUNNING (7%)",
    },
    // done (CassKop's kuttl assertion: condition COMPLETED, progress 100%)
    {
      name: "one-shot COMPLETED",
      obj: backup({}, { condition: condition("COMPLETED"), progress: "100%" }),
      status: "Healthy",
      message: "Backup completed",
    },
    // scheduled, between runs, with casskeeper's nextScheduleTime
    {
      name: "scheduled COMPLETED, next run known",
      obj: backup(NIGHTLY, {
        condition: condition("COMPLETED"),
        progress: "100%",
        nextScheduleTime: "2026-01-03T00:00:00Z",
      }),
      status: "Healthy",
      message: "Last run completed; scheduled @midnight, next run at 2026-01-03T00:00:00Z",
    },
    // scheduled, between runs, under CassKop's CRD (no casskeeper extras)
    {
      name: "scheduled COMPLETED, CassKop status",
      obj: backup({ schedule: "0 2 * * *" }, { condition: condition("COMPLETED"), progress: "100%" }),
      status: "Healthy",
      message: "Last run completed; scheduled 0 2 * * *",
    },
    // failed on two nodes
    {
      name: "one-shot FAILED, two causes",
      obj: backup(
        {},
        {
          condition: condition("FAILED", [
            cause("demo-dc1-rack1-0", "Bucket backups does not exist"),
            cause("demo-dc1-rack1-1", "Bucket backups does not exist"),
          ]),
          progress: "10%",
        },
      ),
      status: "Degraded",
      message:
        "Backup FAILED: demo-dc1-rack1-0: Bucket backups does not exist; demo-dc1-rack1-1: Bucket backups does not exist",
    },
    // failed on five nodes: three shown
    {
      name: "one-shot FAILED, five causes",
      obj: backup(
        {},
        {
          condition: condition(
            "FAILED",
            [1, 2, 3, 4, 5].map((i) => cause(`n${i}`, "timeout")),
          ),
        },
      ),
      status: "Degraded",
      message: "Backup FAILED: n1: timeout; n2: timeout; n3: timeout; and 2 more",
    },
    // failed without causes
    {
      name: "FAILED, no causes",
      obj: backup({}, { condition: condition("FAILED") }),
      status: "Degraded",
      message: "Backup FAILED",
    },
    // a cause without a source, one without a message
    {
      name: "FAILED, partial causes",
      obj: backup({}, { condition: condition("FAILED", [{ message: "disk full" }, { source: "n2" }]) }),
      status: "Degraded",
      message: "Backup FAILED: disk full; n2: no message",
    },
    // the sidecar's spelling
    {
      name: "CANCELLED",
      obj: backup({}, { condition: condition("CANCELLED") }),
      status: "Degraded",
      message: "Backup CANCELLED",
    },
    // CassKop's constant
    {
      name: "CANCELED",
      obj: backup({}, { condition: condition("CANCELED") }),
      status: "Degraded",
      message: "Backup CANCELED",
    },
    // scheduled, last run failed: degraded until a run succeeds
    {
      name: "scheduled FAILED",
      obj: backup(NIGHTLY, { condition: condition("FAILED", [cause("n1", "Access Denied")]) }),
      status: "Degraded",
      message: "Last run FAILED: n1: Access Denied",
    },
    // a state this check does not know
    {
      name: "unknown state",
      obj: backup({}, { condition: condition("SUSPENDED"), progress: "5%" }),
      status: "Progressing",
      message: "Backup state SUSPENDED (5%)",
    },
    // being deleted (a scheduled backup waits on CassKop's finalizer)
    {
      name: "being deleted",
      obj: backup(
        NIGHTLY,
        { condition: condition("COMPLETED") },
        {
          deletionTimestamp: "2026-01-02T03:04:05Z",
          finalizers: ["kubernetes.io/unschedule-needed"],
        },
      ),
      status: "Progressing",
      message: "Pending deletion",
    },
  ]);
});

function restore(status?: Obj): Obj {
  return {
    apiVersion: "db.orange.com/v1alpha1",
    kind: "CassandraRestore",
    metadata: { name: "restore-1", namespace: "cassandra", generation: 1 },
    spec: { cassandraCluster: "demo", cassandraBackup: "nightly" },
    ...(status === undefined ? {} : { status }),
  };
}

describe("CassandraRestore health", () => {
  table(restoreLua, [
    // not picked up yet
    { name: "no status", obj: restore(), status: "Progressing", message: "Waiting for the restore to start" },
    // CassKop chose a coordinator
    {
      name: "REQUIRED",
      obj: restore({ condition: condition("REQUIRED"), coordinatorMember: "demo-dc1-rack1-0" }),
      status: "Progressing",
      message: "Restore REQUIRED on demo-dc1-rack1-0",
    },
    // REQUIRED before a coordinator is recorded
    {
      name: "REQUIRED, no coordinator",
      obj: restore({ condition: condition("REQUIRED") }),
      status: "Progressing",
      message: "Restore REQUIRED",
    },
    // running
    {
      name: "RUNNING",
      obj: restore({ condition: condition("RUNNING"), progress: "30%", id: "9a" }),
      status: "Progressing",
      message: "Restore RUNNING (30%)",
    },
    // done
    {
      name: "COMPLETED",
      obj: restore({ condition: condition("COMPLETED"), progress: "100%" }),
      status: "Healthy",
      message: "Restore completed",
    },
    // the sidecar refused an entity (esop's message)
    {
      name: "FAILED",
      obj: restore({
        condition: condition("FAILED", [cause("demo-dc1-rack1-0", "Keyspace k9 is not in manifest!")]),
      }),
      status: "Degraded",
      message: "Restore FAILED: demo-dc1-rack1-0: Keyspace k9 is not in manifest!",
    },
    // CassKop's spelling
    {
      name: "CANCELED",
      obj: restore({ condition: condition("CANCELED") }),
      status: "Degraded",
      message: "Restore CANCELED",
    },
    // the sidecar's spelling
    {
      name: "CANCELLED",
      obj: restore({ condition: condition("CANCELLED") }),
      status: "Degraded",
      message: "Restore CANCELLED",
    },
  ]);
});

function source(
  opts: { generation?: number; observed?: number; conditions?: Obj[]; spec?: Obj; metadata?: Obj } = {},
): Obj {
  const generation = opts.generation ?? 3;
  return {
    apiVersion: "casskeeper.io/v1alpha1",
    kind: "BackupPolicySource",
    metadata: { name: "team-a", namespace: "cassandra", generation, ...opts.metadata },
    spec: { url: "https://git.example.com/ops/backups.git", interval: "5m", prune: true, ...opts.spec },
    ...(opts.conditions === undefined && opts.observed === undefined
      ? {}
      : { status: { observedGeneration: opts.observed ?? generation, conditions: opts.conditions ?? [] } }),
  };
}
const cond = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  observedGeneration: 3,
  lastTransitionTime: "2026-01-02T03:04:05Z",
});
const READY = cond("Ready", "True", "Succeeded", "Applied revision main@sha1:8f3a5bd0");
const NOT_READY = cond(
  "Ready",
  "False",
  "ValidationFailed",
  "backups/a.yaml:4:13: spec.schedule: end of range (7)",
);

describe("BackupPolicySource health", () => {
  table(sourceLua, [
    // just created
    {
      name: "no status",
      obj: source(),
      status: "Progressing",
      message: "Waiting for casskeeper to sync the latest spec",
    },
    // spec changed since the status was written, even though the old one was Ready
    {
      name: "generation ahead of observedGeneration",
      obj: source({ generation: 4, observed: 3, conditions: [READY] }),
      status: "Progressing",
      message: "Waiting for casskeeper to sync the latest spec",
    },
    // synced
    { name: "Ready True", obj: source({ conditions: [READY] }), status: "Healthy", message: READY.message },
    // Ready True without a message: the reason
    {
      name: "Ready True, no message",
      obj: source({ conditions: [{ ...READY, message: "" }] }),
      status: "Healthy",
      message: "Succeeded",
    },
    // a refused revision
    {
      name: "Ready False",
      obj: source({ conditions: [NOT_READY] }),
      status: "Degraded",
      message: NOT_READY.message,
    },
    // refused and retrying: still degraded until it succeeds
    {
      name: "Ready False, Reconciling True",
      obj: source({ conditions: [NOT_READY, cond("Reconciling", "True", "Progressing", "Fetching main")] }),
      status: "Degraded",
      message: NOT_READY.message,
    },
    // stalled wins over everything
    {
      name: "Stalled True",
      obj: source({
        conditions: [
          cond("Ready", "False", "AuthenticationFailed", "authentication failed"),
          cond("Stalled", "True", "AuthenticationFailed", "Git said 401: check the Secret git-creds"),
        ],
      }),
      status: "Degraded",
      message: "Git said 401: check the Secret git-creds",
    },
    // a sync under way (Flux's shape: Ready Unknown, Reconciling True)
    {
      name: "Reconciling True, Ready Unknown",
      obj: source({
        conditions: [
          cond("Ready", "Unknown", "Progressing", "Reconciliation in progress"),
          cond("Reconciling", "True", "Progressing", "Applying main@sha1:8f3a5bd0"),
        ],
      }),
      status: "Progressing",
      message: "Applying main@sha1:8f3a5bd0",
    },
    // only Ready Unknown
    {
      name: "Ready Unknown",
      obj: source({ conditions: [cond("Ready", "Unknown", "Progressing", "Reconciliation in progress")] }),
      status: "Progressing",
      message: "Reconciliation in progress",
    },
    // observed but no conditions yet
    {
      name: "no conditions",
      obj: source({ observed: 3 }),
      status: "Progressing",
      message: "Waiting for casskeeper to sync",
    },
    // suspended, whatever the status says
    {
      name: "suspended",
      obj: source({ spec: { suspend: true }, conditions: [NOT_READY] }),
      status: "Suspended",
      message: "Suspended: casskeeper does not sync this source",
    },
    // suspend false is not suspended
    {
      name: "suspend false",
      obj: source({ spec: { suspend: false }, conditions: [READY] }),
      status: "Healthy",
      message: READY.message,
    },
    // being deleted (the finalizer prunes what the source applied)
    {
      name: "being deleted",
      obj: source({
        conditions: [READY],
        metadata: { deletionTimestamp: "2026-01-02T03:04:05Z", finalizers: ["casskeeper.io/git-sync"] },
      }),
      status: "Progressing",
      message: "Pending deletion",
    },
  ]);
});

describe("health checks: any object of the kind gets a valid status", () => {
  // Objects shaped as the CRDs allow, fields present or not, any strings: the scripts never fail and answer
  // a status Argo CD accepts.
  const text = fc.oneof(
    fc.constantFrom("", "COMPLETED", "FAILED", "RUNNING", "True", "False", "Unknown"),
    fc.string(),
  );
  const backRest = fc.record(
    {
      condition: fc.record(
        {
          type: text,
          lastTransitionTime: fc.string(),
          failureCause: fc.array(
            fc.record({ source: fc.string(), message: fc.string() }, { requiredKeys: [] }),
            {
              maxLength: 6,
            },
          ),
        },
        { requiredKeys: [] },
      ),
      progress: fc.string(),
      coordinatorMember: fc.string(),
      nextScheduleTime: fc.string(),
    },
    { requiredKeys: [] },
  );
  const kstatus = fc.record(
    {
      observedGeneration: fc.nat(5),
      conditions: fc.array(
        fc.record({
          type: fc.constantFrom("Ready", "Reconciling", "Stalled", "Other"),
          status: fc.constantFrom("True", "False", "Unknown"),
          reason: fc.string(),
          message: fc.string(),
        }),
        { maxLength: 4 },
      ),
    },
    { requiredKeys: [] },
  );
  const meta = fc.record(
    { generation: fc.nat(5), deletionTimestamp: fc.constant("2026-01-02T03:04:05Z") },
    { requiredKeys: [] },
  );
  const cases: [string, string, fc.Arbitrary<Obj>][] = [
    [
      "CassandraBackup",
      backupLua,
      fc.record(
        { metadata: meta, spec: fc.record({ schedule: text }, { requiredKeys: [] }), status: backRest },
        { requiredKeys: [] },
      ),
    ],
    ["CassandraRestore", restoreLua, fc.record({ metadata: meta, status: backRest }, { requiredKeys: [] })],
    [
      "BackupPolicySource",
      sourceLua,
      fc.record(
        { metadata: meta, spec: fc.record({ suspend: fc.boolean() }, { requiredKeys: [] }), status: kstatus },
        { requiredKeys: [] },
      ),
    ],
  ];
  for (const [kind, script, objects] of cases)
    it(kind, () => {
      fc.assert(
        fc.property(objects, (obj) => {
          const h = health(script, obj);
          assert.ok(STATUSES.has(h.status), h.status);
          assert.ok(h.message.length > 0);
        }),
        { numRuns: 300 },
      );
    });
});

describe("health checks stay within what Argo CD runs", () => {
  for (const c of HEALTH_CHECKS) {
    const script = healthScript(c);
    // Lua source with comments and string literals blanked, so words in them do not count.
    const code = script
      .replace(/--\[\[[\s\S]*?\]\]/g, "")
      .replace(/--[^\n]*/g, "")
      .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, '""');
    it(`${c.group}/${c.kind}: Lua 5.1 syntax only (no //, bitwise operators, goto, labels)`, () => {
      assert.doesNotMatch(code, /\/\/|<<|>>|::|\bgoto\b|&|\||~(?!=)/);
    });
    it(`${c.group}/${c.kind}: only base and table functions (Argo CD opens no string, math or io library)`, () => {
      assert.doesNotMatch(
        code,
        /\b(string|math|io|utf8|debug|coroutine)\s*\.|:\s*[a-z]+\s*\(|\brequire\b|\bload(string)?\b|\bdofile\b/,
      );
    });
  }

  it("every health.lua under manifests/argocd/health is listed (and so in the ConfigMap)", () => {
    const found: string[] = [];
    for (const group of readdirSync(HEALTH_DIR))
      for (const kind of readdirSync(new URL(`${group}/`, HEALTH_DIR))) found.push(`${group}/${kind}`);
    assert.deepEqual(found.sort(), HEALTH_CHECKS.map((c) => `${c.group}/${c.kind}`).sort());
  });
});

describe("argocd-cm-health.yaml", () => {
  const file = readFileSync(join(ARGOCD_DIR, "argocd-cm-health.yaml"), "utf8");

  it("is exactly what scripts/argocd-cm-health.ts prints (regenerate it with that script)", () => {
    assert.equal(file, renderArgocdCmHealth());
  });

  it("holds each .lua file byte for byte under its resource.customizations.health key", () => {
    const cm = parse(file) as Obj;
    assert.equal(cm.apiVersion, "v1");
    assert.equal(cm.kind, "ConfigMap");
    assert.equal(cm.metadata.name, "argocd-cm");
    assert.equal(cm.metadata.namespace, "argocd");
    assert.deepEqual(Object.keys(cm.data).sort(), HEALTH_CHECKS.map(healthKey).sort());
    for (const c of HEALTH_CHECKS) assert.equal(cm.data[healthKey(c)], healthScript(c), healthKey(c));
  });
});

describe("manifests/argocd as a kustomize component", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("builds on its own (`kubectl kustomize manifests/argocd`: a component, nothing of its own)", async () => {
    const { stdout } = await run("kubectl", ["kustomize", "manifests/argocd"], { cwd: ROOT });
    assert.equal(stdout.trim(), "");
  });

  it("merges the health checks into an Argo CD install's argocd-cm and keeps the keys already there", async () => {
    const dir = mkdtempSync(join(tmpdir(), "casskeeper-argocd-"));
    dirs.push(dir);
    // argocd-cm as Argo CD's install.yaml ships it, with a setting of the user's, namespaced by kustomize.
    writeFileSync(
      join(dir, "argocd-cm.yaml"),
      [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata:",
        "  name: argocd-cm",
        "  labels:",
        "    app.kubernetes.io/name: argocd-cm",
        "    app.kubernetes.io/part-of: argocd",
        "data:",
        "  url: https://argocd.example.com",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "kustomization.yaml"),
      [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "namespace: argocd",
        "resources:",
        "  - argocd-cm.yaml",
        "components:",
        `  - ${relative(dir, ARGOCD_DIR)}`,
        "",
      ].join("\n"),
    );
    const { stdout } = await run("kubectl", ["kustomize", dir]);
    const docs = parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
    assert.equal(docs.length, 1, "only argocd-cm: the component adds no object");
    const cm = docs[0] as Obj;
    assert.equal(cm.metadata.namespace, "argocd");
    assert.equal(cm.metadata.labels["app.kubernetes.io/part-of"], "argocd");
    assert.equal(cm.data.url, "https://argocd.example.com");
    for (const c of HEALTH_CHECKS) assert.equal(cm.data[healthKey(c)], healthScript(c), healthKey(c));
  });
});

describe("application.yaml", () => {
  const app = parse(readFileSync(join(ARGOCD_DIR, "application.yaml"), "utf8")) as Obj;
  let rendered: Obj[] | undefined;
  async function install(): Promise<Obj[]> {
    rendered ??= parseAllDocuments(
      (await run("kubectl", ["kustomize", "."], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 })).stdout,
    ).map((d) => d.toJS() as Obj);
    return rendered;
  }

  it("is an Argo CD Application in the argocd namespace, with only fields Argo CD knows", () => {
    assert.equal(app.apiVersion, "argoproj.io/v1alpha1");
    assert.equal(app.kind, "Application");
    assert.equal(app.metadata.name, "casskeeper");
    assert.equal(app.metadata.namespace, "argocd");
    assert.deepEqual(Object.keys(app.spec).sort(), [
      "destination",
      "ignoreDifferences",
      "project",
      "source",
      "syncPolicy",
    ]);
    assert.deepEqual(Object.keys(app.spec.source).sort(), ["path", "repoURL", "targetRevision"]);
    assert.equal(app.spec.project, "default");
  });

  it("installs this repository's root kustomization into casskeeper's namespace", async () => {
    // The repoURL placeholder names the same organisation as the image placeholder.
    const deployment = readFileSync(join(ROOT, "manifests/deploy/deployment.yaml"), "utf8");
    const image = /image: ghcr\.io\/([^/]+)\/([^:]+):/.exec(deployment);
    assert.ok(image, "image placeholder");
    assert.equal(app.spec.source.repoURL, `https://github.com/${image[1]}/${image[2]}.git`);
    assert.equal(app.spec.source.path, ".");
    assert.equal(app.spec.source.targetRevision, "main");
    assert.equal(app.spec.destination.server, "https://kubernetes.default.svc");
    assert.equal(app.spec.destination.namespace, NAMESPACE);
    const docs = await install();
    assert.ok(docs.some((d) => d.kind === "CustomResourceDefinition"));
    assert.ok(docs.some((d) => d.kind === "Deployment" && d.metadata.namespace === NAMESPACE));
  });

  it("needs no CreateNamespace: the install renders the Namespace itself", async () => {
    const options: string[] = app.spec.syncPolicy.syncOptions;
    assert.ok(!options.some((o) => o.startsWith("CreateNamespace=")));
    assert.ok((await install()).some((d) => d.kind === "Namespace" && d.metadata.name === NAMESPACE));
  });

  it("applies server-side, never prunes or self-heals on its own, and has no cascading finalizer", () => {
    const options: string[] = app.spec.syncPolicy.syncOptions;
    assert.ok(options.includes("ServerSideApply=true"));
    assert.ok(options.includes("FailOnSharedResource=true"));
    assert.ok(
      !options.includes("RespectIgnoreDifferences=true"),
      "argo-cd#26588; not needed, see the comment",
    );
    assert.equal(app.spec.syncPolicy.automated.prune, false, "pruning a CRD deletes every backup object");
    assert.equal(app.spec.syncPolicy.automated.selfHeal, false, "break-glass deletes the validating webhook");
    assert.equal(app.metadata.finalizers, undefined, "deleting the Application must not delete the CRDs");
  });

  it("ignores caBundle of exactly the webhook configurations the install renders, which carry none", async () => {
    const configs = (await install()).filter((d) =>
      /^(Validating|Mutating)WebhookConfiguration$/.test(d.kind),
    );
    assert.deepEqual(configs.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
      `MutatingWebhookConfiguration/${MUTATING_CONFIG_NAME}`,
      `ValidatingWebhookConfiguration/${VALIDATING_CONFIG_NAME}`,
    ]);
    for (const config of configs) {
      const ignore = (app.spec.ignoreDifferences as Obj[]).find(
        (i) => i.kind === config.kind && i.name === config.metadata.name,
      );
      assert.ok(ignore, `${config.kind}/${config.metadata.name} not ignored`);
      assert.equal(ignore.group, "admissionregistration.k8s.io");
      assert.deepEqual(ignore.jqPathExpressions, [".webhooks[]?.clientConfig.caBundle"]);
      for (const w of config.webhooks as Obj[]) assert.equal(w.clientConfig.caBundle, undefined, w.name);
    }
  });

  it("the cert-manager path its comment offers exists", async () => {
    const { stdout } = await run("kubectl", ["kustomize", "manifests/overlays/cert-manager"], {
      cwd: ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.match(stdout, /kind: Certificate/);
  });
});
