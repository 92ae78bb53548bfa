// Shared fixtures for the rule tests: a small world builder and problem assertions.

import assert from "node:assert/strict";
import type { Problem, Severity } from "../../../src/core/problem.ts";
import { CODES, type Code } from "../../../src/core/rules/codes.ts";
import { SCHEDULE_CODES } from "../../../src/core/schedule/index.ts";
import type { CassandraBackupSpec } from "../../../src/core/types.ts";
import {
  type BackupInfo,
  type ClusterInfo,
  EMPTY_WORLD,
  key,
  type WorldSnapshot,
} from "../../../src/core/world.ts";

export interface WorldSpec {
  /** `ns/name` → key names. */
  secrets?: Record<string, string[]>;
  /** `ns/name` → datacenters. */
  clusters?: Record<string, string[]>;
  backups?: { namespace?: string; name: string; spec: CassandraBackupSpec; state?: string }[];
}

export function world(spec: WorldSpec = {}): WorldSnapshot {
  const secrets = new Map<string, ReadonlySet<string>>();
  for (const [k, keys] of Object.entries(spec.secrets ?? {})) secrets.set(k, new Set(keys));
  const clusters = new Map<string, ClusterInfo>();
  for (const [k, dcs] of Object.entries(spec.clusters ?? {})) {
    const [namespace = "", name = ""] = k.split("/");
    clusters.set(k, { namespace, name, datacenters: dcs });
  }
  const backups = new Map<string, BackupInfo>();
  for (const b of spec.backups ?? []) {
    const namespace = b.namespace ?? "ns";
    backups.set(key(namespace, b.name), { namespace, name: b.name, spec: b.spec, state: b.state });
  }
  return { known: true, secrets, clusters, backups };
}

export const UNKNOWN = EMPTY_WORLD;

/** The expected part of a problem: path, code and (implied by the code) severity, plus message fragments. */
/** A code of these rules, or of the schedule module the backup rule delegates to. */
export type AnyCode = Code | `schedule.${string}`;

export interface Expect {
  path: string;
  code: AnyCode;
  severity?: Severity;
  /** Fragments the message must contain. */
  has?: string[];
}

/** Asserts `actual` is exactly the expected problems, in any order. */
export function assertProblems(actual: readonly Problem[], expected: readonly Expect[], label = ""): void {
  const summary = (ps: readonly { path: string; code: string }[]) =>
    ps.map((p) => `${p.path} ${p.code}`).sort();
  assert.deepEqual(summary(actual), summary(expected), `${label}\n${JSON.stringify(actual, null, 1)}`);
  const used = new Set<number>();
  for (const e of expected) {
    const table: Record<string, { severity: Severity }> = e.code.startsWith("schedule.")
      ? SCHEDULE_CODES
      : CODES;
    const severity = e.severity ?? table[e.code]?.severity;
    const i = actual.findIndex(
      (a, n) =>
        !used.has(n) &&
        a.path === e.path &&
        a.code === e.code &&
        (e.has ?? []).every((fragment) => a.message.includes(fragment)),
    );
    assert.ok(
      i >= 0,
      `${label}: no ${e.path} ${e.code} with ${JSON.stringify(e.has)}\n${JSON.stringify(actual, null, 1)}`,
    );
    used.add(i);
    assert.equal(actual[i]?.severity, severity, `${label}: severity of ${e.code}`);
  }
}

/** An expected error at `path` with `code`, whose message contains every fragment in `has`. */
export function err(path: string, code: AnyCode, ...has: string[]): Expect {
  return { path, code, severity: "error", has };
}

/** An expected warning at `path` with `code`, whose message contains every fragment in `has`. */
export function warn(path: string, code: AnyCode, ...has: string[]): Expect {
  return { path, code, severity: "warning", has };
}
