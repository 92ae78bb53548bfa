import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hasStackTrace, runCli } from "../support/cli.ts";

const FROM = "2024-01-01T00:00:30Z"; // a Monday, as in reference/operators.md Appendix A

describe("casskeeper schedule next", () => {
  // (expression, --count, expected instants) — values from robfig/cron v3.0.1 (operators.md Appendix A)
  const cases: [string, number, string[]][] = [
    ["@midnight", 2, ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"]], // descriptor
    ["@every 1h", 2, ["2024-01-01T01:00:30Z", "2024-01-01T02:00:30Z"]], // constant delay from --from
    ["TZ=Europe/Paris 0 0 * * *", 1, ["2024-01-01T23:00:00Z"]], // zone prefix
    ["CRON_TZ=Asia/Tokyo @daily", 1, ["2024-01-01T15:00:00Z"]], // zone + descriptor
    ["1 1 */2 11 *", 2, ["2024-11-01T01:01:00Z", "2024-11-03T01:01:00Z"]], // steps
    ["5/15 * * * *", 2, ["2024-01-01T00:05:00Z", "2024-01-01T00:20:00Z"]], // N/step
    ["0 0 */1 * MON", 1, ["2024-01-08T00:00:00Z"]], // star bit kept by */1 → AND
    ["0 0 */2 * MON", 1, ["2024-01-03T00:00:00Z"]], // OR
  ];
  for (const [expr, count, expected] of cases) {
    it(`${expr} → ${expected.join(", ")}`, async () => {
      const r = await runCli(["schedule", "next", "--from", FROM, "--count", String(count), expr]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), expected);
    });
  }

  it("defaults to 5 times", async () => {
    const r = await runCli(["schedule", "next", "--from", FROM, "@hourly"]);
    assert.equal(r.stdout.trim().split("\n").length, 5);
  });

  // (expression, message on stderr) — invalid → exit 1, the message, no stack trace
  const invalid: [string, RegExp][] = [
    ["0 0 * * 7", /end of range \(7\) above maximum \(6\): 7/], // robfig's own message
    ["0 0 * *", /expected exactly 5 fields, found 4: \[0 0 \* \*\]/], // field count
    ["CRON_TZ=UTC", /space/], // makes robfig panic (robfig/cron#554)
    ["0 0 30 2 *", /never/], // never fires
    ["@every 1d", /unknown unit "d"/], // Go duration units
  ];
  for (const [expr, message] of invalid) {
    it(`rejects ${JSON.stringify(expr)}`, async () => {
      const r = await runCli(["schedule", "next", "--from", FROM, expr]);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, message);
      assert.ok(!hasStackTrace(r.stderr));
    });
  }

  it("--stdin --output json answers one JSON object per input line", async () => {
    const r = await runCli(
      ["schedule", "next", "--stdin", "--output", "json", "--count", "1", "--from", FROM],
      {
        stdin: "@midnight\n0 0 * * 7\n\n@hourly\n",
      },
    );
    assert.equal(r.code, 1); // one line is invalid
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(lines[0], {
      expression: "@midnight",
      valid: true,
      next: ["2024-01-02T00:00:00Z"],
      warnings: [],
    });
    assert.equal(lines[1].valid, false);
    assert.equal(lines[1].expression, "0 0 * * 7");
    assert.match(lines[1].error, /above maximum/);
    assert.deepEqual(lines[2].next, ["2024-01-01T01:00:00Z"]);
  });

  // (args, message) — usage errors exit 2
  const usage: [string[], RegExp][] = [
    [["schedule", "next"], /exactly one EXPRESSION/],
    [["schedule", "next", "--from", "yesterday", "@daily"], /RFC3339/],
    [["schedule", "next", "--count", "0", "@daily"], /--count/],
    [["schedule", "next", "--count", "1e9", "@daily"], /--count/],
    [["schedule", "later", "@daily"], /unknown schedule command/],
  ];
  for (const [args, message] of usage) {
    it(`usage: ${args.join(" ")}`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr, message);
    });
  }
});

describe("casskeeper schedule explain", () => {
  it("explains in words and lists the next runs", async () => {
    const r = await runCli([
      "schedule",
      "explain",
      "--from",
      FROM,
      "--count",
      "2",
      "CRON_TZ=Europe/Paris 30 2 * * MON-FRI",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /02:30/);
    assert.match(r.stdout, /Europe\/Paris/);
    assert.match(r.stdout, /next runs \(UTC\):\n {2}2024-01-01T01:30:00Z\n {2}2024-01-02T01:30:00Z\n/);
  });

  it("warns about odd syntax on stderr and still answers", async () => {
    const r = await runCli(["schedule", "next", "--from", FROM, "--count", "1", "+5 * * * *"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "2024-01-01T00:05:00Z\n");
    assert.match(r.stderr, /^warning: /m);
  });
});

describe("npm start (casskeeper demo)", () => {
  it("validates the examples and prints what they schedule", async () => {
    const r = await runCli(["demo"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /valid: 3 files, 6 documents, 0 errors/);
    assert.match(r.stdout, /prod\/orders-nightly "@midnight": \d{4}-/);
    assert.match(r.stdout, /prod\/orders-pre-migration: runs once, when created/);
  });
});
