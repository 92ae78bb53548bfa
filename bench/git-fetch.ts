// The Git source (isomorphic-git, src/gitsync/git-source.ts) against native git on one repository in the same
// run: 10,000 generated policy documents (bench/policy-documents.ts) in 100 files, 20 commits of history,
// served over smart HTTP by git-http-backend on loopback (test/support/git-server.ts, in this process; its CPU
// is in both columns).
//
// Measured, each in a fresh child process so its peak RSS is its own (native git under /usr/bin/time: the
// largest single process of the fetch):
// - cold: casskeeper's `resolve` + `read` into an empty cache dir (shallow fetch, then every YAML blob read from
//   the object store) vs `git init --bare` + `git fetch --depth 1` + `git archive` (reads every blob);
// - incremental: the same, after a one-file change is pushed, reusing the cold run's gitdir;
// - no-change poll: `resolve` (ls-refs) vs `git ls-remote`.
// Cold rounds alternate between the two tools; medians of ROUNDS, peak RSS the largest.
//
// Targets (issue #4, this 2-core machine): cold read ≤ 2 s and ≤ 200 MB peak RSS for 10,000 documents; the
// incremental fetch after a one-file change moves < 10 % of the cold pack's bytes (thin packs, see
// git-source.ts); a no-change poll ≤ 250 ms.
//
// Child modes: `git-fetch.ts iso URL CACHEDIR` prints one JSON line {resolveMs, readMs, files, bytes, maxRssMb}.

import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createRepo, startGitServer } from "../test/support/git-server.ts";
import { backup, restore } from "./policy-documents.ts";

const DOCS = 10_000;
const PER_FILE = 100;
const COMMITS = 20;
const ROUNDS = 3;

const self = fileURLToPath(import.meta.url);
const exec = promisify(execFile);

interface IsoRun {
  resolveMs: number;
  readMs: number;
  files: number;
  bytes: number;
  maxRssMb: number;
}

/** Child: one resolve + read with the Git source, as the reconciler does it. */
async function isoChild(url: string, cacheDir: string): Promise<void> {
  const { createGitSource } = await import("../src/gitsync/git-source.ts");
  const src = createGitSource({ cacheDir });
  const req = { url, ref: {}, path: "" };
  const t0 = performance.now();
  const rev = await src.resolve(req);
  const t1 = performance.now();
  const files = await src.read(req, rev);
  const t2 = performance.now();
  const run: IsoRun = {
    resolveMs: t1 - t0,
    readMs: t2 - t1,
    files: files.length,
    bytes: files.reduce((n, f) => n + f.bytes.length, 0),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(run));
}

function runIso(url: string, cacheDir: string): Promise<IsoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [self, "iso", url, cacheDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`iso child exited ${code}`));
      else resolve(JSON.parse(out) as IsoRun);
    });
  });
}

const gitEnv = (home: string) => ({
  PATH: process.env.PATH,
  HOME: home,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
});

/** One git command under /usr/bin/time: wall ms (measured here) and the largest process's max RSS. */
async function timedGit(
  args: string[],
  cwd: string,
  home: string,
): Promise<{ ms: number; maxRssMb: number }> {
  const t0 = performance.now();
  const { stderr } = await exec("/usr/bin/time", ["-f", "maxrss=%M", "git", ...args], {
    cwd,
    env: gitEnv(home),
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  const m = /maxrss=(\d+)/.exec(stderr);
  return { ms, maxRssMb: m === null ? Number.NaN : Number(m[1]) / 1024 };
}

/** Native: fetch depth 1 into a bare repo (a local ref, so a later fetch has a `have`), then read every blob. */
async function runNative(url: string, gitdir: string, home: string) {
  const fetch = await timedGit(
    ["fetch", "--quiet", "--depth", "1", "--no-tags", url, "+refs/heads/main:refs/heads/main"],
    gitdir,
    home,
  );
  const read = await timedGit(
    ["archive", "--format=tar", "-o", "/dev/null", "refs/heads/main"],
    gitdir,
    home,
  );
  return { ms: fetch.ms + read.ms, fetchMs: fetch.ms, maxRssMb: Math.max(fetch.maxRssMb, read.maxRssMb) };
}

/** Pack files under `dir` and their sizes. */
async function packs(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile() && e.name.endsWith(".pack"))
      out.set(e.name, (await stat(join(e.parentPath, e.name))).size);
  }
  return out;
}

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function fileContent(f: number, commit: number): string {
  const docs: string[] = [];
  for (let j = 0; j < PER_FILE; j++) {
    const i = f * PER_FILE + j;
    docs.push(i % 2 === 0 ? backup(i) : restore(i));
  }
  // Later commits touch a few files each (history for the server to cut at depth 1).
  return `# revision ${commit}\n${docs.join("---\n")}`;
}

async function main(): Promise<void> {
  const server = await startGitServer();
  const scratch = await mkdtemp(join(tmpdir(), "casskeeper-bench-git-"));
  try {
    const repo = await createRepo(server, "policies");
    const files = DOCS / PER_FILE;
    for (let f = 0; f < files; f++)
      await repo.write(`policies/p-${String(f).padStart(3, "0")}.yaml`, fileContent(f, 0));
    await repo.commit("initial");
    for (let c = 1; c < COMMITS; c++) {
      for (let k = 0; k < 5; k++) {
        const f = (c * 7 + k * 13) % files;
        await repo.write(`policies/p-${String(f).padStart(3, "0")}.yaml`, fileContent(f, c));
      }
      await repo.commit(`change ${c}`);
    }
    await repo.push();
    const home = join(server.root, ".home");

    // Cold, alternating.
    const iso: IsoRun[] = [];
    const native: { ms: number; fetchMs: number; maxRssMb: number }[] = [];
    const isoDirs: string[] = [];
    const nativeDirs: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const cacheDir = await mkdtemp(join(scratch, "iso-"));
      isoDirs.push(cacheDir);
      const run = await runIso(repo.url, cacheDir);
      if (run.files !== files) throw new Error(`read ${run.files} files, expected ${files}`);
      iso.push(run);
      const gitdir = await mkdtemp(join(scratch, "native-"));
      nativeDirs.push(gitdir);
      await exec("git", ["init", "--quiet", "--bare", gitdir], { env: gitEnv(home) });
      native.push(await runNative(repo.url, gitdir, home));
    }
    const coldPack = sum((await packs(isoDirs[0] as string)).values());

    // A one-file change, fetched into the first cold run's gitdirs.
    await repo.write(
      "policies/p-042.yaml",
      fileContent(42, COMMITS).replace("bandwidth: 50M", "bandwidth: 60M"),
    );
    await repo.commit("one-file change");
    await repo.push();
    const before = await packs(isoDirs[0] as string);
    const isoInc = await runIso(repo.url, isoDirs[0] as string);
    const after = await packs(isoDirs[0] as string);
    const incrementalPackBytes = sum(
      [...after].filter(([name]) => !before.has(name)).map(([, size]) => size),
    );
    const nativeInc = await runNative(repo.url, nativeDirs[0] as string, home);

    // No-change poll.
    const polls: number[] = [];
    const lsRemote: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      polls.push((await runIso(repo.url, isoDirs[1] as string)).resolveMs);
      lsRemote.push((await timedGit(["ls-remote", repo.url, "HEAD"], scratch, home)).ms);
    }

    const isoColdMs = median(iso.map((x) => x.resolveMs + x.readMs));
    const nativeColdMs = median(native.map((x) => x.ms));
    const isoRss = Math.max(...iso.map((x) => x.maxRssMb));
    const nativeRss = Math.max(...native.map((x) => x.maxRssMb));
    process.stdout.write(
      JSON.stringify({
        name: `git fetch + read, ${DOCS} documents (${files} files, ${COMMITS} commits), isomorphic-git vs git`,
        metrics: {
          coldReadMs: Math.round(isoColdMs),
          coldPeakRssMb: Math.round(isoRss),
          baselineGitColdMs: Math.round(nativeColdMs),
          baselineGitFetchOnlyMs: Math.round(median(native.map((x) => x.fetchMs))),
          baselineGitPeakRssMb: Math.round(nativeRss),
          baselineNote: "git 2.39 CLI: init --bare + fetch --depth 1 + archive, same server, same run",
          ratioTimeToGit: Number((isoColdMs / nativeColdMs).toFixed(2)),
          ratioRssToGit: Number((isoRss / nativeRss).toFixed(1)),
          coldPackBytes: coldPack,
          incrementalReadMs: Math.round(isoInc.resolveMs + isoInc.readMs),
          incrementalPeakRssMb: Math.round(isoInc.maxRssMb),
          incrementalPackBytes,
          incrementalPackShare: Number((incrementalPackBytes / coldPack).toFixed(4)),
          baselineGitIncrementalMs: Math.round(nativeInc.ms),
          noChangePollMs: Math.round(median(polls)),
          baselineGitLsRemoteMs: Math.round(median(lsRemote)),
          documentBytes: iso[0]?.bytes ?? 0,
        },
        targets: [
          { metric: "coldReadMs", op: "<=", value: 2000 },
          { metric: "coldPeakRssMb", op: "<=", value: 200 },
          { metric: "incrementalPackShare", op: "<=", value: 0.1 },
          { metric: "noChangePollMs", op: "<=", value: 250 },
        ],
      }),
    );
  } finally {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[2] === "iso") await isoChild(process.argv[3] as string, process.argv[4] as string);
else await main();
