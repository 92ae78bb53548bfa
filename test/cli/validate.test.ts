import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { hasStackTrace, runCli } from "../support/cli.ts";

const F = "test/fixtures/cli";

describe("casskeeper validate", () => {
  // (scenario, args, exit code, lines that must appear on stdout)
  const cases: { name: string; args: string[]; code: number; stdout?: RegExp[]; stderr?: RegExp[] }[] = [
    // (bundled examples + world) → valid, exit 0
    {
      name: "examples with their world are valid",
      args: ["validate", "--world", "examples/world.yaml", "examples/policies"],
      code: 0,
      stderr: [/^valid: 3 files, 6 documents, 0 errors/m],
    },
    // (robfig rejects day-of-week 7) → exit 1 with file:line:col and robfig's message
    {
      name: "a bad schedule names the file, line, column and robfig's message",
      args: ["validate", `${F}/bad-schedule`],
      code: 1,
      stdout: [
        /^test\/fixtures\/cli\/bad-schedule\/backup\.yaml:9:13: error: spec\.schedule: end of range \(7\) above maximum \(6\): 7$/m,
      ],
      stderr: [/no --world given/],
    },
    // (secret lacks awssecretaccesskey) → exit 1, names the key, never the value
    {
      name: "a secret missing a key is named with the key",
      args: [
        "validate",
        "--world",
        `${F}/missing-secret-keys/world.yaml`,
        `${F}/missing-secret-keys/backup.yaml`,
      ],
      code: 1,
      stdout: [/backup\.yaml:11:\d+: error: spec\.secret: .*awssecretaccesskey/],
    },
    // (restore of a backup neither in the files nor in the world) → exit 1
    {
      name: "a restore of a backup that does not exist",
      args: [
        "validate",
        "--world",
        `${F}/restore-unknown-backup/world.yaml`,
        `${F}/restore-unknown-backup/restore.yaml`,
      ],
      code: 1,
      stdout: [/restore\.yaml:8:\d+: error: spec\.cassandraBackup: .*never-backed-up/],
    },
    // (restore asks for a table the backup never had) → exit 1
    {
      name: "a restore of a table the backup never had",
      args: ["validate", `${F}/restore-not-subset`],
      code: 1,
      stdout: [/policies\.yaml:\d+:\d+: error: spec\.entities: .*orders\.payments/],
    },
    // (two files define the same backup) → exit 1, points at the first definition
    {
      name: "duplicate names across files",
      args: ["validate", `${F}/duplicates`],
      code: 1,
      stdout: [
        /b\.yaml:4:\d+: error: metadata\.name: CassandraBackup default\/nightly is also defined at .*a\.yaml:1/,
      ],
    },
    // (snapshotTag "daily" is a prefix of "daily2" at one location) → warning only, exit 0
    {
      name: "snapshotTag prefix collisions warn",
      args: ["validate", `${F}/tag-collision`],
      code: 0,
      stdout: [/backups\.yaml:\d+:\d+: warning: spec\.snapshotTag: .*daily/],
    },
    // (directory with .yml, nested .yaml and a .txt) → only YAML files, recursively
    {
      name: "directories are walked for .yaml and .yml only",
      args: ["validate", `${F}/mixed-dir`],
      code: 0,
      stderr: [/valid: 2 files, 2 documents/],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runCli(c.args);
      assert.equal(r.code, c.code, `exit code\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
      for (const re of c.stdout ?? []) assert.match(r.stdout, re);
      for (const re of c.stderr ?? []) assert.match(r.stderr, re);
      assert.ok(!hasStackTrace(r.stdout + r.stderr), "no stack trace");
    });
  }

  it("never prints a secret value", async () => {
    const r = await runCli([
      "validate",
      "--output",
      "json",
      "--world",
      `${F}/missing-secret-keys/world.yaml`,
      `${F}/missing-secret-keys`,
    ]);
    assert.ok(!(r.stdout + r.stderr).includes("c2VjcmV0LXZhbHVlLW5ldmVyLXByaW50ZWQ="));
    assert.ok(!(r.stdout + r.stderr).includes("secret-value-never-printed"));
  });

  it("--output json reports every problem with its position and code", async () => {
    const r = await runCli(["validate", "--output", "json", `${F}/bad-schedule`]);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout);
    assert.equal(report.valid, false);
    assert.equal(report.files, 1);
    assert.deepEqual(
      report.problems.find((p: { code: string }) => p.code === "schedule.invalid"),
      {
        file: "test/fixtures/cli/bad-schedule/backup.yaml",
        line: 9,
        column: 13,
        severity: "error",
        code: "schedule.invalid",
        field: "spec.schedule",
        message: "end of range (7) above maximum (6): 7",
      },
    );
  });
});

describe("casskeeper validate on bad input", () => {
  // (file, code expected in the JSON report, line) — each an error with a position, exit 1, no stack trace
  const cases: { file: string; code: RegExp; line: number }[] = [
    { file: "not-yaml.yaml", code: /^yaml\.invalid$/, line: 7 }, // unclosed flow sequence
    { file: "binary.yaml", code: /^file\.(binary|encoding)$/, line: 1 }, // ELF header bytes
    { file: "deep-nesting.yaml", code: /^yaml\.too-deep$/, line: 1 }, // 200 nested flow sequences
    { file: "alias-bomb.yaml", code: /^yaml\.aliases$/, line: 1 }, // billion laughs
    { file: "unknown-kind.yaml", code: /^schema\.unknown-kind$/, line: 2 }, // a Deployment: points at `kind:`
    { file: "missing-name.yaml", code: /^(schema\.required|metadata\.name)$/, line: 3 }, // no metadata.name
    { file: "not-an-object.yaml", code: /^document\.not-object$/, line: 1 }, // a YAML list
  ];
  for (const c of cases) {
    it(`${c.file} is an error with a position`, async () => {
      const r = await runCli(["validate", "--output", "json", `test/fixtures/cli/bad-input/${c.file}`]);
      assert.equal(r.code, 1, r.stderr);
      assert.ok(!hasStackTrace(r.stdout + r.stderr));
      const report = JSON.parse(r.stdout);
      const errors = report.problems.filter((p: { severity: string }) => p.severity === "error");
      assert.ok(errors.length > 0);
      assert.match(errors[0].code, c.code);
      assert.equal(errors[0].line, c.line);
      assert.ok(errors[0].column >= 1);
    });
  }

  it("a file over the size limit is refused without reading it all", async () => {
    const dir = await mkdtemp(join(tmpdir(), "casskeeper-huge-"));
    const file = join(dir, "huge.yaml");
    await writeFile(file, `# ${"x".repeat(3 * 1024 * 1024)}\n`);
    const r = await runCli(["validate", file]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /huge\.yaml:1:1: error: file is larger than the limit of 1048576 bytes/);
  });
});

describe("casskeeper usage errors exit 2", () => {
  // (args, message on stderr)
  const cases: [string[], RegExp][] = [
    [["validate"], /at least one file/], // no PATH
    [["validate", "no/such/dir"], /no\/such\/dir: no such file or directory/], // missing PATH
    [["validate", "--output", "xml", "examples"], /--output must be text or json/], // bad format
    [["validate", "--bogus", "examples"], /Unknown option '--bogus'/], // unknown flag
    [
      [
        "validate",
        "test/fixtures/cli/mixed-dir/README.txt",
        "--world",
        "test/fixtures/cli/bad-input/binary.yaml",
      ],
      /--world files above cannot be read/,
    ], // unreadable world
    [["frobnicate"], /unknown command "frobnicate"/], // unknown command
    [[], /Usage:/], // nothing at all
  ];
  for (const [args, message] of cases) {
    it(`casskeeper ${args.join(" ")}`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 2);
      assert.match(r.stderr + r.stdout, message);
      assert.ok(!hasStackTrace(r.stdout + r.stderr));
    });
  }
});
