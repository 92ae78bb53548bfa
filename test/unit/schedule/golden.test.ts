// The TypeScript port against robfig/cron v3.0.1's own answers, recorded by test/oracle/generate-golden.ts
// into test/fixtures/schedule/robfig-golden.json: accept/reject, the error text, the panics, and the next
// fire times, exactly. Runs everywhere; the live oracle test (differential.test.ts) needs Go.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { nextTimes, parseStandard } from "../../../src/core/schedule/index.ts";

interface GoldenEntry {
  readonly spec: string;
  readonly from: string;
  readonly count: number;
  /** `hang`: robfig's Next never returned after `next`; the port must stop there (undefined). */
  readonly result:
    | { ok: true; next: string[]; hang?: true }
    | { ok: false; error: string }
    | { panic: string };
}

const fixture = JSON.parse(
  readFileSync(new URL("../../fixtures/schedule/robfig-golden.json", import.meta.url), "utf8"),
) as { meta: Record<string, string>; cases: GoldenEntry[] };

/** What the port says for one golden entry, in the fixture's shape, so a mismatch prints both side by side. */
function portAnswer(e: GoldenEntry): GoldenEntry["result"] {
  const r = parseStandard(e.spec);
  if (!r.ok) return r.panics === true ? { panic: "runtime error: slice bounds out of range [:-1]" } : r;
  const next = nextTimes(r.schedule, Date.parse(e.from), e.count).map((t) => new Date(t).toISOString());
  return { ok: true, next };
}

function normalise(r: GoldenEntry["result"]): GoldenEntry["result"] {
  // Go prints RFC 3339 without fractional zeros; compare instants as ISO strings.
  if ("next" in r) return { ok: true, next: r.next.map((t) => new Date(Date.parse(t)).toISOString()) };
  return r;
}

describe("robfig/cron v3.0.1 golden fixture", () => {
  it("has several hundred distinct specs", () => {
    assert.ok(new Set(fixture.cases.map((c) => c.spec)).size >= 500);
  });

  // Grouped by the first character class of the spec so a failure names a small set.
  const groups = new Map<string, GoldenEntry[]>();
  for (const c of fixture.cases) {
    const key = c.spec.startsWith("@every")
      ? "@every"
      : c.spec.startsWith("@")
        ? "descriptors"
        : /^(CRON_)?TZ=/.test(c.spec)
          ? "time zones"
          : "fields";
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  for (const [name, entries] of groups) {
    it(`matches robfig for every ${name} case (${entries.length})`, () => {
      const mismatches = entries
        .map((e) => ({ spec: e.spec, from: e.from, robfig: normalise(e.result), port: portAnswer(e) }))
        .filter((m) => {
          if ("panic" in m.robfig) return !("panic" in m.port);
          return !isDeepStrictEqual(m.robfig, m.port);
        });
      assert.deepEqual(mismatches.slice(0, 5), []);
    });
  }
});

function isDeepStrictEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b);
    return true;
  } catch {
    return false;
  }
}
