// `casskeeper backup run` / `restore run` as a user runs them: the real binary (a child process) against the
// sidecar double (in-process, port 0), plus in-process runs where the test plays the terminal or Ctrl-C, and the
// progress renderers as pure functions. Every poll interval is 10 ms; the double moves an operation one step per
// GET of it, so what the binary sees depends on the number of polls, never on time.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, it } from "node:test";
import fc from "fast-check";
import { loadFiles } from "../../src/cli/load.ts";
import type { Io } from "../../src/cli/main.ts";
import {
  createPlainProgress,
  createTtyProgress,
  formatElapsed,
  renderProgressBar,
  wholePercent,
} from "../../src/cli/progress.ts";
import {
  backupCommand,
  pollInterval,
  type RunOptions,
  restoreCommand,
  sidecarUrl,
} from "../../src/cli/run-command.ts";
import type { CassandraBackup, CassandraRestore } from "../../src/core/types.ts";
import { backupRequest, restoreRequest } from "../../src/runner/requests.ts";
import { BIN, type CliResult, hasStackTrace, ROOT, runCli } from "../support/cli.ts";
import { eventually } from "../support/kube-fake-clock.ts";
import { type SidecarDouble, startSidecarDouble } from "../support/sidecar-double.ts";

const F = "test/fixtures/run";
const FAST = ["--poll-interval", "10ms"];
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

let sidecar: SidecarDouble;
beforeEach(async () => {
  sidecar = await startSidecarDouble({ hostname: "orders-dc1-rack1-0" });
});
afterEach(async () => {
  await sidecar.close();
});

function cli(args: string[]): Promise<CliResult> {
  return runCli([...args, "--sidecar", sidecar.url]);
}

function assertRan(r: CliResult, code: number) {
  assert.equal(r.code, code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.ok(!hasStackTrace(r.stdout + r.stderr), r.stderr);
}

/** The object of one fixture document, as the loader reads it. */
async function fixture<T>(file: string, index = 0): Promise<T> {
  const { documents } = await loadFiles([`${ROOT}${file}`], ROOT);
  return documents[index]?.object as T;
}

const posts = () => sidecar.requests.filter((r) => r.method === "POST");

/** `restore run -f F/restore --backup F/backup ...`. */
function restoreRun(restore: string, backup: string, ...more: string[]): Promise<CliResult> {
  return cli(["restore", "run", "-f", `${F}/${restore}`, "--backup", `${F}/${backup}`, ...more]);
}

describe("casskeeper backup run: submitting and following", () => {
  it("without --wait prints the operation id and sends CassKop's request once", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/backup.yaml`]);
    assertRan(r, 0);
    const op = sidecar.operations()[0];
    assert.ok(op !== undefined);
    assert.match(
      r.stdout,
      new RegExp(
        `^CassandraBackup prod/orders-nightly: operation ${op.id} submitted to http://127\\.0\\.0\\.1:\\d+ \\(PENDING\\)$`,
        "m",
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(`^Follow it: curl http://127\\.0\\.0\\.1:\\d+/operations/${op.id}$`, "m"),
    );
    assert.equal(posts().length, 1);
    assert.deepEqual(
      posts()[0]?.body,
      backupRequest(await fixture<CassandraBackup>(`${F}/backup.yaml`), "prod"),
    );
    // Nobody polled: the operation is where the POST left it.
    assert.equal(sidecar.requests.filter((q) => q.method === "GET").length, 0);
  });

  // (what the sidecar does, one step per poll) → (exit code, what the last lines say)
  const outcomes: {
    name: string;
    prepare: (d: SidecarDouble) => void;
    code: number;
    stdout: RegExp[];
  }[] = [
    {
      // (default progression: RUNNING 50 %, COMPLETED) → exit 0, plain progress lines, the rewritten snapshotTag
      name: "COMPLETED exits 0 with the snapshot tag the sidecar made",
      prepare: () => {},
      code: 0,
      stdout: [
        /^PENDING 0% \(\d+s\)$/m,
        /^RUNNING 50% \(\d+s\)$/m,
        new RegExp(
          `^COMPLETED: backup operation ${UUID} in \\d+s, snapshotTag orders-nightly-6f5e9841-4f97-3198-9398-161b445b3954-\\d+$`,
          "m",
        ),
      ],
    },
    {
      // (RUNNING 30 %, 60 %, FAILED with two errors) → exit 1, every error as `source: message`
      name: "FAILED exits 1 and prints every error with its source",
      prepare: (d) =>
        d.script([
          { state: "RUNNING", progress: 0.3 },
          { state: "RUNNING", progress: 0.6 },
          {
            state: "FAILED",
            errors: [
              {
                source: "orders-dc1-rack1-1",
                message: "Unable to upload some files successfully: data/orders/a.db",
              },
              {
                source: "orders-dc1-rack1-2",
                message: "Secret with name s3-creds was not found in namespace prod",
              },
            ],
          },
        ]),
      code: 1,
      stdout: [
        /^RUNNING 30% /m,
        /^RUNNING 60% /m,
        new RegExp(`^FAILED: backup operation ${UUID} after \\d+s$`, "m"),
        /^ {2}orders-dc1-rack1-1: Unable to upload some files successfully: data\/orders\/a\.db$/m,
        /^ {2}orders-dc1-rack1-2: Secret with name s3-creds was not found in namespace prod$/m,
      ],
    },
    {
      // (the double's half-way upload failure, cscetbon/casskop#128) → exit 1, the sidecar's hostname as source
      name: "a failure half-way names the node",
      prepare: (d) => d.failHalfway("backup"),
      code: 1,
      stdout: [/^RUNNING 50% /m, /^ {2}orders-dc1-rack1-0: Unable to upload some files successfully: /m],
    },
    {
      // (RUNNING, CANCELLED) → exit 1, and it says no error was given
      name: "CANCELLED exits 1",
      prepare: (d) => d.script([{ state: "RUNNING", progress: 0.1 }, { state: "CANCELLED" }]),
      code: 1,
      stdout: [
        new RegExp(`^CANCELLED: backup operation ${UUID} after \\d+s$`, "m"),
        /^ {2}\(the sidecar gave no error; the operation was cancelled\)$/m,
      ],
    },
  ];
  for (const c of outcomes) {
    it(c.name, async () => {
      c.prepare(sidecar);
      const r = await cli(["backup", "run", "-f", `${F}/backup.yaml`, "--wait", ...FAST]);
      assertRan(r, c.code);
      for (const re of c.stdout) assert.match(r.stdout, re);
      // Not a terminal: plain lines only, never a carriage return; no line for the terminal state's "100 %".
      assert.ok(!(r.stdout + r.stderr).includes("\r"), JSON.stringify(r.stdout));
      assert.doesNotMatch(r.stdout, /^(FAILED|CANCELLED|COMPLETED) 100%/m);
      assert.equal(posts().length, 1);
    });
  }

  it("--output json: JSON lines, the last one the final operation exactly as the sidecar returned it", async () => {
    sidecar.script([
      { state: "RUNNING", progress: 0.25 },
      { state: "RUNNING", progress: 0.75 },
      { state: "COMPLETED" },
    ]);
    const r = await cli(["backup", "run", "-f", `${F}/backup.yaml`, "--wait", ...FAST, "--output", "json"]);
    assertRan(r, 0);
    const lines = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const op = sidecar.operations()[0];
    assert.ok(op !== undefined);
    assert.deepEqual(lines.at(-1), op.raw);
    assert.equal(op.state, "COMPLETED");
    assert.deepEqual(
      lines.slice(0, -1).map((l) => [l.event, l.state ?? null, l.percent ?? null]),
      [
        ["validated", null, null],
        ["submitted", "PENDING", null],
        ["progress", "PENDING", 0],
        ["progress", "RUNNING", 25],
        ["progress", "RUNNING", 75],
      ],
    );
    assert.equal(lines[1]?.id, op.id);
  });

  it("--output json without --wait ends with the operation as the POST returned it", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/backup.yaml`, "-o", "json"]);
    assertRan(r, 0);
    const last = JSON.parse(r.stdout.trimEnd().split("\n").at(-1) ?? "") as Record<string, unknown>;
    assert.deepEqual(last, sidecar.operations()[0]?.raw);
    assert.equal(last.state, "PENDING");
  });

  it("a scheduled backup runs once, now, with a note", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/scheduled.yaml`]);
    assertRan(r, 0);
    assert.match(r.stderr, /^note: spec\.schedule "@weekly" is ignored: backup run takes one backup now$/m);
    // No --namespace and none in the file: the secret is read in "default".
    assert.deepEqual(
      posts()[0]?.body,
      backupRequest(await fixture<CassandraBackup>(`${F}/scheduled.yaml`), "default"),
    );
  });

  it("--namespace is the namespace of a backup that names none", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/scheduled.yaml`, "-n", "staging"]);
    assertRan(r, 0);
    assert.equal((posts()[0]?.body as { k8sNamespace?: string } | undefined)?.k8sNamespace, "staging");
  });

  it("--name picks one of several backups", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/two-backups.yaml`, "--name", "customers-nightly"]);
    assertRan(r, 0);
    assert.match(r.stdout, /^CassandraBackup prod\/customers-nightly: operation /m);
    assert.deepEqual(
      posts()[0]?.body,
      backupRequest(await fixture<CassandraBackup>(`${F}/two-backups.yaml`, 1), "prod"),
    );
  });

  it("the sidecar forgetting the operation (restart, expiry) is exit 2: the outcome is unknown", async () => {
    sidecar.setMode("hold");
    const run = cli(["backup", "run", "-f", `${F}/backup.yaml`, "--wait", ...FAST]);
    await eventually("the binary polls its operation", () =>
      sidecar.requests.some((q) => q.method === "GET" && q.path.startsWith("/operations/")),
    );
    const id = sidecar.operations()[0]?.id ?? "";
    sidecar.expire(id);
    const r = await run;
    assertRan(r, 2);
    assert.match(
      r.stderr,
      new RegExp(`no longer knows operation ${id} \\(restarted\\?\\); its outcome is unknown`),
    );
  });
});

describe("casskeeper backup run: refusals", () => {
  it("an invalid file is refused with validate's messages, and nothing reaches the sidecar", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/invalid-backup.yaml`, "--wait", ...FAST]);
    assertRan(r, 1);
    const v = await runCli(["validate", `${F}/invalid-backup.yaml`]);
    const found = (text: string) => text.split("\n").filter((l) => l.startsWith(`${F}/invalid-backup.yaml:`));
    assert.equal(found(v.stdout).length, 2);
    assert.deepEqual(found(r.stderr), found(v.stdout));
    assert.match(r.stderr, /invalid-backup\.yaml is invalid \(2 errors\); nothing was sent to the sidecar/);
    assert.equal(sidecar.requests.length, 0);
  });

  it("a YAML syntax error is refused with its place", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/broken-yaml.yaml`]);
    assertRan(r, 1);
    assert.match(r.stderr, /^test\/fixtures\/run\/broken-yaml\.yaml:\d+:\d+: error: /m);
    assert.equal(sidecar.requests.length, 0);
  });

  it("--output json reports an invalid file as the last line and exits 1", async () => {
    const r = await cli(["backup", "run", "-f", `${F}/invalid-backup.yaml`, "-o", "json"]);
    assertRan(r, 1);
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 1);
    const report = JSON.parse(lines[0] ?? "") as {
      event: string;
      valid: boolean;
      problems: { code: string }[];
    };
    assert.equal(report.event, "validated");
    assert.equal(report.valid, false);
    assert.deepEqual(
      report.problems.map((p) => p.code).sort(),
      ["schedule.invalid", "storage.protocol"].sort(),
    );
    assert.equal(sidecar.requests.length, 0);
  });

  it("a sidecar that is down is exit 2", async () => {
    await sidecar.refuse(true);
    const r = await cli(["backup", "run", "-f", `${F}/backup.yaml`, "--wait", ...FAST]);
    assertRan(r, 2);
    assert.match(r.stderr, /did not take the backup: sidecar POST \/operations: connection refused/);
  });

  it("a sidecar answering the POST with 500 is exit 2 with the sidecar's text", async () => {
    sidecar.failNext(1, 500, "java.lang.IllegalStateException: executor shut down", {
      match: { method: "POST" },
    });
    const r = await cli(["backup", "run", "-f", `${F}/backup.yaml`, "--wait", ...FAST]);
    assertRan(r, 2);
    assert.match(r.stderr, /HTTP 500: java\.lang\.IllegalStateException: executor shut down$/m);
    // A failed POST is never repeated: it may have created the operation.
    assert.equal(posts().length, 1);
  });

  // (arguments) → exit 2, the message, nothing sent
  const usage: { name: string; args: string[]; stderr: RegExp }[] = [
    // (no -f) → names the flag
    { name: "no -f", args: ["backup", "run"], stderr: /backup run needs -f FILE/ },
    // (no subcommand) → says which one exists
    { name: "no subcommand", args: ["backup"], stderr: /backup needs a subcommand: casskeeper backup run/ },
    // (a subcommand that does not exist)
    { name: "unknown subcommand", args: ["backup", "start"], stderr: /unknown subcommand "backup start"/ },
    // (a file that does not exist) → usage, like validate's I/O errors
    {
      name: "missing file",
      args: ["backup", "run", "-f", `${F}/nope.yaml`],
      stderr: /-f test\/fixtures\/run\/nope\.yaml: no such file/,
    },
    // (a directory for -f)
    { name: "a directory", args: ["backup", "run", "-f", F], stderr: /not a file/ },
    // (a file of restores only)
    {
      name: "no backup in the file",
      args: ["backup", "run", "-f", `${F}/restore.yaml`],
      stderr: /holds no CassandraBackup/,
    },
    // (two backups, no --name) → refuses to guess
    {
      name: "two backups without --name",
      args: ["backup", "run", "-f", `${F}/two-backups.yaml`],
      stderr: /holds 2 CassandraBackups \("orders-nightly", "customers-nightly"\); pick one with --name/,
    },
    // (--name of no backup)
    {
      name: "--name of nothing",
      args: ["backup", "run", "-f", `${F}/two-backups.yaml`, "--name", "nightly"],
      stderr: /holds no CassandraBackup named "nightly" \(it holds "orders-nightly", "customers-nightly"\)/,
    },
    // (--cancel-on-interrupt without --wait)
    {
      name: "--cancel-on-interrupt alone",
      args: ["backup", "run", "-f", `${F}/backup.yaml`, "--cancel-on-interrupt"],
      stderr: /--cancel-on-interrupt goes with --wait/,
    },
    // (a poll interval that would hammer the sidecar)
    {
      name: "--poll-interval 1ms",
      args: ["backup", "run", "-f", `${F}/backup.yaml`, "--wait", "--poll-interval", "1ms"],
      stderr: /--poll-interval must be a duration from 10ms to 10m/,
    },
    // (the file as a positional)
    {
      name: "positional file",
      args: ["backup", "run", `${F}/backup.yaml`],
      stderr: /takes its file with -f FILE/,
    },
    // (a bad --output)
    {
      name: "--output yaml",
      args: ["backup", "run", "-f", `${F}/backup.yaml`, "-o", "yaml"],
      stderr: /--output must be text or json/,
    },
    // (restore without --backup)
    {
      name: "restore without --backup",
      args: ["restore", "run", "-f", `${F}/restore.yaml`],
      stderr: /needs --backup FILE/,
    },
  ];
  for (const c of usage) {
    it(`usage: ${c.name}`, async () => {
      // `backup --sidecar URL` would be read as the subcommand "--sidecar".
      const r = await (c.args[1] === "run" ? cli(c.args) : runCli(c.args));
      assertRan(r, 2);
      assert.match(r.stderr, c.stderr);
      assert.equal(sidecar.requests.length, 0);
    });
  }

  it("usage: no --sidecar", async () => {
    const r = await runCli(["backup", "run", "-f", `${F}/backup.yaml`]);
    assertRan(r, 2);
    assert.match(r.stderr, /backup run needs --sidecar URL/);
  });
});

describe("casskeeper restore run", () => {
  it("restores from the backup it names, with CassKop's request, to COMPLETED", async () => {
    const r = await restoreRun("restore.yaml", "backup.yaml", "--wait", ...FAST);
    assertRan(r, 0);
    assert.match(
      r.stdout,
      /^CassandraRestore prod\/orders-restore \(from CassandraBackup orders-nightly\): operation /m,
    );
    assert.match(r.stdout, new RegExp(`^COMPLETED: restore operation ${UUID} in \\d+s`, "m"));
    // A backup file from Git has no status: said, not refused.
    assert.match(
      r.stderr,
      /restore\.yaml:9:20: warning: spec\.cassandraBackup: backup "orders-nightly" has not completed/,
    );
    assert.deepEqual(
      posts()[0]?.body,
      restoreRequest(
        await fixture<CassandraRestore>(`${F}/restore.yaml`),
        await fixture<CassandraBackup>(`${F}/backup.yaml`),
      ),
    );
  });

  it("a backup exported with its COMPLETED status restores without a warning", async () => {
    const r = await restoreRun("restore.yaml", "backup-completed.yaml");
    assertRan(r, 0);
    assert.doesNotMatch(r.stderr, /warning/);
    assert.equal(posts().length, 1);
  });

  it("finds the named backup among several in --backup FILE", async () => {
    const r = await restoreRun("restore.yaml", "two-backups.yaml");
    assertRan(r, 0);
    assert.equal(
      (posts()[0]?.body as { storageLocation?: string } | undefined)?.storageLocation,
      "s3://acme-backups",
    );
  });

  // (restore file, backup file) → exit 1 at the restore's line, nothing sent
  const refused: { name: string; restore: string; backup: string; stderr: RegExp }[] = [
    {
      // (restore names customers-nightly, the file holds orders-nightly)
      name: "a restore naming another backup than --backup holds",
      restore: "restore-other.yaml",
      backup: "backup.yaml",
      stderr:
        /^test\/fixtures\/run\/restore-other\.yaml:9:20: error: spec\.cassandraBackup: restores CassandraBackup "customers-nightly", but --backup test\/fixtures\/run\/backup\.yaml holds CassandraBackup prod\/orders-nightly$/m,
    },
    {
      // (the one-shot backup's run FAILED, as its exported status says) → nothing to restore
      name: "a restore from a backup that failed",
      restore: "restore.yaml",
      backup: "backup-failed.yaml",
      stderr:
        /restore\.yaml:9:20: error: spec\.cassandraBackup: backup "orders-nightly" ended FAILED: there is nothing to restore$/m,
    },
    {
      // (restore asks for a keyspace the backup does not hold) → the rules core sees the backup
      name: "a restore of entities the backup does not hold",
      restore: "restore-not-subset.yaml",
      backup: "backup.yaml",
      stderr:
        /restore-not-subset\.yaml:10:13: error: spec\.entities: payments is not in backup "orders-nightly"/,
    },
  ];
  for (const c of refused) {
    it(c.name, async () => {
      const r = await restoreRun(c.restore, c.backup, "--wait", ...FAST);
      assertRan(r, 1);
      assert.match(r.stderr, c.stderr);
      assert.match(r.stderr, /nothing was sent to the sidecar/);
      assert.equal(sidecar.requests.length, 0);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// In-process: the test is the terminal and the Ctrl-C

function captureIo(): Io & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => "",
    now: () => Date.now(),
    cwd: ROOT,
    out: () => out,
    err: () => err,
  };
}

describe("casskeeper backup run in-process", () => {
  it("on a terminal, one line redrawn in place, then the final state on its own line", async () => {
    sidecar.script([
      { state: "RUNNING", progress: 0.25 },
      { state: "RUNNING", progress: 0.75 },
      { state: "COMPLETED" },
    ]);
    const io = captureIo();
    const opts: RunOptions = { terminal: { columns: () => 60 }, sleep: async () => {} };
    const code = await backupCommand(
      ["run", "-f", `${F}/backup.yaml`, "--sidecar", sidecar.url, "--wait"],
      io,
      opts,
    );
    assert.equal(code, 0, io.err());
    const [submitted, bar, final] = io.out().split("\n");
    assert.match(submitted ?? "", /submitted to/);
    const frames = (bar ?? "").split("\r").slice(1);
    // 60 columns: a 33-wide bar (59 - the longest text, 23, - brackets and space).
    assert.deepEqual(
      frames.map((f) => f.replace(/\s+\d+s\s*$/, "")),
      [
        `[${"-".repeat(33)}]   0% PENDING`,
        `[${"#".repeat(8)}${"-".repeat(25)}]  25% RUNNING`,
        `[${"#".repeat(24)}${"-".repeat(9)}]  75% RUNNING`,
      ],
    );
    for (const f of frames) assert.ok(f.length <= 59, `${f.length}: ${f}`);
    assert.match(final ?? "", /^COMPLETED: backup operation /);
  });

  it("Ctrl-C stops waiting, leaves the operation running, names it, exits 130", async () => {
    sidecar.setMode("hold");
    const ctrlC = new AbortController();
    let polls = 0;
    const io = captureIo();
    const code = await backupCommand(
      ["run", "-f", `${F}/backup.yaml`, "--sidecar", sidecar.url, "--wait"],
      io,
      {
        terminal: null,
        interrupt: ctrlC.signal,
        sleep: async () => {
          if (++polls === 3) ctrlC.abort();
        },
      },
    );
    assert.equal(code, 130);
    const op = sidecar.operations()[0];
    assert.ok(op !== undefined);
    assert.equal(op.state, "PENDING");
    assert.match(
      io.err(),
      new RegExp(`interrupted; operation ${op.id} goes on on the sidecar \\(follow it: curl `),
    );
    assert.equal(sidecar.requests.filter((q) => q.method === "DELETE").length, 0);
  });

  it("Ctrl-C with --cancel-on-interrupt asks the sidecar to cancel", async () => {
    sidecar.setMode("hold");
    const ctrlC = new AbortController();
    const io = captureIo();
    const code = await restoreCommand(
      [
        "run",
        "-f",
        `${F}/restore.yaml`,
        "--backup",
        `${F}/backup.yaml`,
        "--sidecar",
        sidecar.url,
        "--wait",
      ].concat(["--cancel-on-interrupt", "-o", "json"]),
      io,
      { terminal: null, interrupt: ctrlC.signal, sleep: async () => ctrlC.abort() },
    );
    assert.equal(code, 130);
    const op = sidecar.operations()[0];
    assert.ok(op !== undefined);
    assert.deepEqual(
      sidecar.requests.filter((q) => q.method === "DELETE").map((q) => q.path),
      [`/operations/${op.id}`],
    );
    assert.match(io.err(), new RegExp(`asked the sidecar to cancel operation ${op.id}`));
    const last = JSON.parse(io.out().trimEnd().split("\n").at(-1) ?? "") as Record<string, unknown>;
    assert.deepEqual(last, {
      event: "interrupted",
      id: op.id,
      type: "restore",
      state: "PENDING",
      cancel: "requested",
    });
    // The double turns a flagged operation CANCELLED at its next step.
    assert.equal(sidecar.advance(op.id).state, "CANCELLED");
  });

  it("SIGINT to the real process: exit 130, the operation goes on", async () => {
    sidecar.setMode("hold");
    const child = spawn(
      process.execPath,
      [BIN, "backup", "run", "-f", `${F}/backup.yaml`, "--sidecar", sidecar.url, "--wait", ...FAST],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } },
    );
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await eventually("the binary polls its operation", () =>
      sidecar.requests.some((q) => q.method === "GET" && q.path.startsWith("/operations/")),
    );
    child.kill("SIGINT");
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /interrupted; operation .* goes on on the sidecar/);
    assert.equal(sidecar.operations()[0]?.state, "PENDING");
  });
});

// ---------------------------------------------------------------------------------------------------------
// Pure parts

describe("progress rendering", () => {
  // (state, progress, elapsed, width) → the terminal line
  const frames: { state: string; progress: number; elapsedMs: number; width: number; line: string }[] = [
    // (running half-way, 80 columns) → a 40-wide bar, percent, state padded, elapsed
    {
      state: "RUNNING",
      progress: 0.5,
      elapsedMs: 65_000,
      width: 80,
      line: "[####################--------------------]  50% RUNNING   1m05s",
    },
    // (just submitted) → an empty bar
    { state: "PENDING", progress: 0, elapsedMs: 0, width: 80, line: `[${"-".repeat(40)}]   0% PENDING   0s` },
    // (0.999) → 99 %, truncated as CassKop's int(progress*100)
    {
      state: "RUNNING",
      progress: 0.999,
      elapsedMs: 3_723_000,
      width: 80,
      line: `[${"#".repeat(39)}-]  99% RUNNING   1h02m03s`,
    },
    // ("NaN" read as NaN) → 0 %
    {
      state: "RUNNING",
      progress: Number.NaN,
      elapsedMs: 1_000,
      width: 80,
      line: `[${"-".repeat(40)}]   0% RUNNING   1s`,
    },
    // (40 columns) → the bar shrinks, leaving room for the longest text
    {
      state: "RUNNING",
      progress: 0.5,
      elapsedMs: 5_000,
      width: 40,
      line: "[######-------]  50% RUNNING   5s",
    },
    // (20 columns) → no room for a bar: the text, cut to 19
    { state: "RUNNING", progress: 0.5, elapsedMs: 5_000, width: 20, line: "50% RUNNING   5s" },
    // (12 columns) → cut
    { state: "COMPLETED", progress: 1, elapsedMs: 5_000, width: 12, line: "100% COMPLE" },
  ];
  for (const f of frames) {
    it(`${f.state} ${f.progress} at ${f.width} columns`, () => {
      assert.equal(renderProgressBar(f), f.line);
    });
  }

  it("never writes the last column, a newline or a carriage return, and shows the percent when there is room", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"),
        fc.double({ min: -1, max: 2, noNaN: false }),
        fc.integer({ min: 0, max: 10 ** 9 }),
        fc.integer({ min: 0, max: 400 }),
        (state, progress, elapsedMs, width) => {
          const line = renderProgressBar({ state, progress, elapsedMs, width });
          assert.ok(line.length <= Math.max(0, width - 1));
          assert.ok(!/[\r\n]/.test(line));
          if (width >= 40) assert.ok(line.includes(`${wholePercent(progress)}% ${state}`), line);
        },
      ),
    );
  });

  // (milliseconds) → elapsed as printed
  const elapsed: [number, string][] = [
    [0, "0s"],
    [999, "0s"],
    [59_999, "59s"],
    [60_000, "1m00s"],
    [3_599_000, "59m59s"],
    [3_600_000, "1h00m00s"],
    [-5, "0s"],
  ];
  for (const [ms, text] of elapsed) it(`${ms} ms is ${text}`, () => assert.equal(formatElapsed(ms), text));

  it("plain lines only when the state changes or progress enters a new 10 % step", () => {
    const lines: string[] = [];
    const view = createPlainProgress((t) => lines.push(t));
    const polls: [string, number][] = [
      ["PENDING", 0],
      ["PENDING", 0],
      ["RUNNING", 0],
      ["RUNNING", 0.05],
      ["RUNNING", 0.12],
      ["RUNNING", 0.19],
      ["RUNNING", 0.5],
      ["RUNNING", 0.51],
    ];
    for (const [i, [state, progress]] of polls.entries()) view.update(state, progress, i * 2_000);
    assert.deepEqual(lines, [
      "PENDING 0% (0s)\n",
      "RUNNING 0% (4s)\n",
      "RUNNING 12% (8s)\n",
      "RUNNING 50% (12s)\n",
    ]);
  });

  it("the terminal view blanks what a longer line left and ends with one newline", () => {
    let text = "";
    let width = 80;
    const view = createTtyProgress(
      (t) => {
        text += t;
      },
      () => width,
    );
    view.update("RUNNING", 0.5, 1_000);
    width = 20;
    view.update("RUNNING", 0.6, 3_000);
    view.finish();
    view.finish();
    const [first, second] = text.split("\r").slice(1);
    assert.equal(first, renderProgressBar({ state: "RUNNING", progress: 0.5, elapsedMs: 1_000, width: 80 }));
    assert.equal(second?.trimEnd(), "60% RUNNING   3s");
    assert.equal(second?.length, (first?.length ?? 0) + 1);
    assert.ok(text.endsWith(" \n") && !text.endsWith("\n\n"));
  });
});

describe("arguments", () => {
  // (--sidecar as typed) → the base URL used
  const urls: [string, string][] = [
    ["http://cassandra-0:4567", "http://cassandra-0:4567"],
    ["cassandra-0.cassandra.prod:4567", "http://cassandra-0.cassandra.prod:4567"],
    ["http://cassandra-0", "http://cassandra-0:4567"],
    ["http://cassandra-0:80/", "http://cassandra-0"],
    ["https://sidecar.example.com/", "https://sidecar.example.com:4567"],
    ["http://[::1]:4567", "http://[::1]:4567"],
    [
      "http://127.0.0.1:8001/api/v1/namespaces/prod/pods/orders-0:4567/proxy/",
      "http://127.0.0.1:8001/api/v1/namespaces/prod/pods/orders-0:4567/proxy",
    ],
  ];
  for (const [given, used] of urls) it(`--sidecar ${given}`, () => assert.equal(sidecarUrl(given), used));

  // (--sidecar) → refused
  for (const bad of ["ftp://host:4567", "http://user:pw@host:4567", "http://host:4567/?x=1", "http://"]) {
    it(`--sidecar ${bad} is refused`, () => assert.throws(() => sidecarUrl(bad), /--sidecar/));
  }

  // (--poll-interval) → milliseconds
  const intervals: [string | undefined, number][] = [
    [undefined, 2_000],
    ["500ms", 500],
    ["2s", 2_000],
    ["1m", 60_000],
    ["250", 250],
  ];
  for (const [given, ms] of intervals)
    it(`--poll-interval ${given}`, () => assert.equal(pollInterval(given), ms));
  for (const bad of ["9ms", "11m", "2h", "fast", "-1s"]) {
    it(`--poll-interval ${bad} is refused`, () => assert.throws(() => pollInterval(bad), /--poll-interval/));
  }
});
