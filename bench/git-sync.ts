// The Git sync end to end on a repository of 10,000 policy documents (bench/policy-documents.ts, 100 files):
// the real controller (src/gitsync/reconciler.ts `startGitSync`, as test/git/sync.test.ts drives it), the real
// isomorphic-git source, our kube client, against `git http-backend` (test/support/git-server.ts) and the
// API-server double (test/support/kube-api-double.ts).
//
// Two processes, so the peak RSS is casskeeper's alone: this one runs the API double, the Git server and the
// repository's working clone; a child (`git-sync.ts controller …`, IPC) runs only the controller, with its timers
// on a fake clock so that a poll happens when this process asks for one. The child reports wall times, its CPU
// and its max RSS; this process counts what reached the servers (API writes, upload-pack requests).
//
// Measured, on a fresh cluster, repository and controller each time (the whole scenario COLD_ROUNDS times with
// Node's default heap, the worse figure reported; then once more with the controller's old space capped at
// CONTAINER_HEAP_MB, about what Node picks from a 512Mi cgroup limit, since this machine's 24 GB gives V8 a
// 4 GB heap it is in no hurry to collect):
// - cold sync: `lead()` until the sync is over (Ready=True written), with where the time goes (the child wraps
//   the GitSource and ClusterPort it hands the controller in timers: resolve, fetch+read, load+validate+plan,
//   the list of live objects, the dry run of every write, the writes, the final status write), the RSS sampled
//   every 20 ms per phase, and the heap that stays reachable afterwards (after a full GC);
// - no-change poll (ROUNDS times): the interval's timer fires; upload-pack requests and API writes (targets 0);
// - one-document change: one document's field changed, committed, pushed, then a poll; writes to the synced
//   kinds (target exactly 1), every API write by resource, upload-pack requests, where the time goes.
//
// Targets (issue #4, this 2-core machine): cold sync ≤ 60 s and ≤ 512 MB peak RSS (the Deployment's memory
// limit) with the default heap; a no-change poll fetches nothing and writes nothing; a one-document change is
// one write.
//
// Child mode: `git-sync.ts controller API_URL TOKEN CACHE_DIR`, driven by IPC messages (see `Command`).

import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getHeapStatistics } from "node:v8";
import { backup, restore } from "./policy-documents.ts";

const DOCS = 10_000;
const PER_FILE = 100;
const FILES = DOCS / PER_FILE;
const NAMESPACES = 20; // policy-documents.ts spreads documents over ns-0 … ns-19
const INTERVAL_MS = 60_000;
const ROUNDS = 3; // no-change polls
const COLD_ROUNDS = 2; // whole scenarios with the default heap
const SOURCE_NS = "team-a";
const BACKUPS = "cassandrabackups.db.orange.com";
const RESTORES = "cassandrarestores.db.orange.com";

const self = fileURLToPath(import.meta.url);

type Command = { cmd: "lead" } | { cmd: "poll" } | { cmd: "gc" } | { cmd: "stop" };

/** Wall-clock spans inside one sync, ms from the command's start (first start, last end of each kind). */
interface Spans {
  [name: string]: { start: number; end: number; calls: number } | undefined;
}

/** A memory sample (MB) at `t` ms from the command's start. */
interface MemSample {
  t: number;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

interface SyncReport {
  ms: number;
  spans: Spans;
  samples: MemSample[];
  cpuMs: number;
  maxRssMb: number;
}

// ---------------------------------------------------------------------------------------------------------
// Child: the controller alone.

async function controllerChild(apiUrl: string, token: string, cacheDir: string): Promise<void> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const { Registry } = await import("prom-client");
  const { EMPTY_WORLD } = await import("../src/core/world.ts");
  const { createGitSource } = await import("../src/gitsync/git-source.ts");
  const { createGitSyncMetrics } = await import("../src/gitsync/metrics.ts");
  const { startGitSync } = await import("../src/gitsync/reconciler.ts");
  const { createGitSyncCluster } = await import("../src/kube/gitsync-cluster.ts");
  const { createEventRecorder } = await import("../src/kube/objects.ts");
  const { loadStructuralValidator } = await import("../src/schema/bundled-crds.ts");
  const { eventually, FakeClock, recordingLogger } = await import("../test/support/kube-fake-clock.ts");
  type GitSource = import("../src/gitsync/model.ts").GitSource;
  type ClusterPort = import("../src/gitsync/sync.ts").ClusterPort;

  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "double", server: apiUrl, skipTLSVerify: true }],
    users: [{ name: "double", token }],
    contexts: [{ name: "double", cluster: "double", user: "double", namespace: "default" }],
    currentContext: "double",
  });

  let t0 = performance.now();
  let spans: Spans = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const start = performance.now() - t0;
    try {
      return await fn();
    } finally {
      const end = performance.now() - t0;
      const s = spans[name];
      if (s === undefined) spans[name] = { start, end, calls: 1 };
      else {
        s.end = Math.max(s.end, end);
        s.calls++;
      }
    }
  };

  const realGit = createGitSource({ cacheDir });
  const git: GitSource = {
    resolve: (req) => timed("resolve", () => realGit.resolve(req)),
    read: (req, rev) => timed("read", () => realGit.read(req, rev)),
  };
  const realCluster = createGitSyncCluster(kc);
  const cluster: ClusterPort = {
    readSecretKeys: (ns, name, keys) => timed("secret", () => realCluster.readSecretKeys(ns, name, keys)),
    listLive: (namespaces) => timed("listLive", () => realCluster.listLive(namespaces)),
    apply: (id, body, o) => timed(o.dryRun ? "dryRun" : "apply", () => realCluster.apply(id, body, o)),
    remove: (id, uid) => timed("remove", () => realCluster.remove(id, uid)),
    refusal: (e) => realCluster.refusal(e),
  };

  const clock = new FakeClock();
  const logger = recordingLogger();
  const events = createEventRecorder(kc, { component: "casskeeper-git-sync", logger });
  const ctl = startGitSync(kc, {
    git,
    cluster,
    structure: loadStructuralValidator(),
    world: () => EMPTY_WORLD,
    logger,
    events,
    metrics: createGitSyncMetrics(new Registry()),
    timers: clock,
    random: () => 0.5,
  });
  await eventually("the sources listed", () => ctl.ready(), 60_000);
  const leader = new AbortController();

  const send = (m: unknown) =>
    new Promise<void>((resolve, reject) =>
      process.send?.(m, undefined, {}, (e) => (e === null ? resolve() : reject(e))),
    );

  process.on("message", (m: Command) => {
    void (async () => {
      if (m.cmd === "stop") {
        leader.abort();
        await ctl.stop();
        process.disconnect();
        return;
      }
      if (m.cmd === "gc") {
        // What stays reachable between syncs: the retained set, not the garbage a sync leaves behind.
        (globalThis as { gc?: () => void }).gc?.(); // --expose-gc: the parent passes it
        const mem = process.memoryUsage();
        const heapLimit = getHeapStatistics().heap_size_limit;
        await send({
          rssMb: mem.rss / 2 ** 20,
          heapUsedMb: mem.heapUsed / 2 ** 20,
          heapTotalMb: mem.heapTotal / 2 ** 20,
          externalMb: mem.external / 2 ** 20,
          heapLimitMb: heapLimit / 2 ** 20,
        });
        return;
      }
      spans = {};
      const samples: MemSample[] = [];
      const mb = (n: number) => n / 1024 / 1024;
      const sample = () => {
        const m = process.memoryUsage();
        samples.push({
          t: performance.now() - t0,
          rss: mb(m.rss),
          heapTotal: mb(m.heapTotal),
          heapUsed: mb(m.heapUsed),
          external: mb(m.external),
          arrayBuffers: mb(m.arrayBuffers),
        });
      };
      const sampler = setInterval(sample, 20);
      const cpu0 = process.cpuUsage();
      t0 = performance.now();
      if (m.cmd === "lead") ctl.lead(leader.signal);
      else clock.advance(INTERVAL_MS * 1.2); // the interval's timer (±10 % jitter) fires
      await ctl.idle();
      const ms = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      sample();
      clearInterval(sampler);
      await events.flush();
      const failures = logger.lines.filter((l) => l.level === "warn" || l.level === "error");
      if (failures.length > 0) process.stderr.write(`${JSON.stringify(failures.slice(0, 3))}\n`);
      const report: SyncReport = {
        ms,
        spans,
        samples,
        cpuMs: (cpu.user + cpu.system) / 1000,
        maxRssMb: process.resourceUsage().maxRSS / 1024,
      };
      await send(report);
    })().catch((e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    });
  });
  (globalThis as { gc?: () => void }).gc?.();
  await send({ idleRssMb: process.memoryUsage().rss / 2 ** 20 });
}

// ---------------------------------------------------------------------------------------------------------
// Parent: the servers, the repository, the counts.

function fileContent(f: number, change?: (text: string) => string): string {
  const docs: string[] = [];
  for (let j = 0; j < PER_FILE; j++) {
    const i = f * PER_FILE + j;
    docs.push(i % 2 === 0 ? backup(i) : restore(i));
  }
  const text = docs.join("---\n");
  return change === undefined ? text : change(text);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round = (x: number, digits = 0) => Number(x.toFixed(digits));

/** A sync's phases in ms, from the spans the child recorded. */
function phases(r: SyncReport): Record<string, number> {
  const s = r.spans;
  const span = (n: string) => (s[n] === undefined ? 0 : (s[n]?.end ?? 0) - (s[n]?.start ?? 0));
  const readEnd = s.read?.end ?? 0;
  const writesStart = s.dryRun?.start ?? s.apply?.start ?? r.ms;
  const lastWrite = Math.max(s.apply?.end ?? 0, s.dryRun?.end ?? 0, readEnd);
  return {
    // lead() → resolve: the finalizer's merge patch on the source
    startMs: s.resolve?.start ?? 0,
    resolveMs: span("resolve"),
    // resolve → read: the `Reconciling` status write
    reconcilingStatusMs: (s.read?.start ?? 0) - (s.resolve?.end ?? 0),
    fetchReadMs: span("read"),
    listLiveMs: span("listLive"),
    loadValidatePlanMs: writesStart - readEnd - span("listLive"),
    dryRunMs: span("dryRun"),
    applyMs: span("apply"),
    // last write → idle: the final status (inventory included) and the report
    finalStatusMs: r.ms - lastWrite,
  };
}

/** The largest sampled RSS in each phase's window, and the heap at the largest sample overall (MB). */
function memory(r: SyncReport): Record<string, number> {
  const s = r.spans;
  const readEnd = s.read?.end ?? 0;
  const writesStart = s.dryRun?.start ?? s.apply?.start ?? r.ms;
  const lastWrite = Math.max(s.apply?.end ?? 0, s.dryRun?.end ?? 0, readEnd);
  const windows: Record<string, [number, number]> = {
    fetchRead: [s.read?.start ?? 0, readEnd],
    listLive: [s.listLive?.start ?? 0, s.listLive?.end ?? 0],
    loadValidatePlan: [readEnd, writesStart],
    dryRun: [s.dryRun?.start ?? 0, s.dryRun?.end ?? 0],
    apply: [s.apply?.start ?? 0, s.apply?.end ?? 0],
    finalStatus: [lastWrite, r.ms + 1],
  };
  const out: Record<string, number> = {};
  for (const [name, [from, to]] of Object.entries(windows)) {
    const inside = r.samples.filter((x) => x.t >= from && x.t <= to).map((x) => x.rss);
    out[`${name}PeakRssMb`] = inside.length === 0 ? 0 : Math.round(Math.max(...inside));
  }
  const top = r.samples.reduce((a, b) => (b.rss > a.rss ? b : a), r.samples[0] as MemSample);
  out.sampledPeakRssMb = Math.round(top.rss);
  out.atPeakHeapTotalMb = Math.round(top.heapTotal);
  out.atPeakHeapUsedMb = Math.round(top.heapUsed);
  out.atPeakExternalMb = Math.round(top.external);
  out.atPeakArrayBuffersMb = Math.round(top.arrayBuffers);
  return out;
}

interface Scenario {
  idleRssMb: number;
  cold: SyncReport;
  coldLive: {
    rssMb: number;
    heapUsedMb: number;
    heapTotalMb: number;
    externalMb: number;
    heapLimitMb: number;
  };
  serversCpuMs: number;
  coldWrites: number;
  coldPolicyWrites: number;
  coldDryRuns: number;
  coldRequests: number;
  statusBytes: number;
  polls: SyncReport[];
  pollUploadPacks: number;
  pollRefListings: number;
  pollWrites: number;
  pollApiRequests: number;
  change: SyncReport;
  changeBackupWrites: number;
  changeRestoreWrites: number;
  changeWrites: number;
  changeWritesByResource: string;
  changeDryRuns: number;
  changeUploadPacks: number;
}

/**
 * A fresh cluster, repository and controller: cold sync, no-change polls, a one-document change. `heapMb`
 * caps the controller's old space (`--max-old-space-size`), as V8 sizes it from a container's memory limit.
 */
async function scenario(heapMb: number | undefined): Promise<Scenario> {
  const { startKubeApiDouble } = await import("../test/support/kube-api-double.ts");
  const { createRepo, startGitServer } = await import("../test/support/git-server.ts");
  const api = await startKubeApiDouble();
  const server = await startGitServer();
  const cacheDir = await mkdtemp(join(tmpdir(), "casskeeper-bench-sync-"));
  let child: ReturnType<typeof fork> | undefined;
  try {
    const repo = await createRepo(server, "policies");
    for (let f = 0; f < FILES; f++)
      await repo.write(`policies/p-${String(f).padStart(3, "0")}.yaml`, fileContent(f));
    await repo.commit("10,000 policies");
    await repo.push();
    api.objects.put({
      apiVersion: "casskeeper.io/v1alpha1",
      kind: "BackupPolicySource",
      metadata: { namespace: SOURCE_NS, name: "policies", generation: 1 },
      spec: {
        url: repo.url,
        ref: { branch: "main" },
        path: "policies",
        interval: "1m",
        targetNamespaces: { namespaces: Array.from({ length: NAMESPACES }, (_, i) => `ns-${i}`) },
      },
    });

    const execArgv = [
      ...process.execArgv.filter((a) => !a.startsWith("--max-old-space-size") && a !== "--expose-gc"),
      "--expose-gc",
      ...(heapMb === undefined ? [] : [`--max-old-space-size=${heapMb}`]),
    ];
    const c = fork(self, ["controller", api.url, api.token, cacheDir], {
      execArgv,
      stdio: ["ignore", 2, "inherit", "ipc"], // the child's stdout to stderr: stdout is the JSON result
    });
    child = c;
    const replies: unknown[] = [];
    const waiters: ((m: unknown) => void)[] = [];
    let exited: Error | undefined;
    c.on("message", (m) => {
      const w = waiters.shift();
      if (w === undefined) replies.push(m);
      else w(m);
    });
    c.on("exit", (code) => {
      exited = new Error(`controller child exited ${code}`);
      for (const w of waiters.splice(0)) w(exited);
    });
    const next = (): Promise<unknown> => {
      if (replies.length > 0) return Promise.resolve(replies.shift());
      if (exited !== undefined) return Promise.reject(exited);
      return new Promise((resolve, reject) =>
        waiters.push((m) => (m instanceof Error ? reject(m) : resolve(m))),
      );
    };
    const ask = async <T = SyncReport>(cmd: Command): Promise<T> => {
      c.send(cmd);
      return (await next()) as T;
    };
    const { idleRssMb } = (await next()) as { idleRssMb: number }; // ready: the sources are listed

    const source = () =>
      api.objects.get("casskeeper.io/v1alpha1", "BackupPolicySource", SOURCE_NS, "policies") ?? {};
    const ready = () => {
      const status = source().status as { conditions?: { type: string; status: string; message: string }[] };
      return (status?.conditions ?? []).find((x) => x.type === "Ready");
    };
    const check = (what: string, ok: boolean) => {
      if (!ok) throw new Error(`${what}: Ready is ${JSON.stringify(ready())}`);
    };

    // Cold sync.
    api.resetCounts();
    server.resetCounts();
    const cpu0 = process.cpuUsage();
    const cold = await ask({ cmd: "lead" });
    const serversCpu = process.cpuUsage(cpu0);
    check("cold sync", ready()?.status === "True" && /10000 created/.test(ready()?.message ?? ""));
    const live =
      api.objects.list("db.orange.com/v2", "CassandraBackup").length +
      api.objects.list("db.orange.com/v2", "CassandraRestore").length;
    if (live !== DOCS) throw new Error(`${live} objects in the cluster, expected ${DOCS}`);
    const coldWrites = api.writes();
    const coldPolicyWrites = api.writes(BACKUPS) + api.writes(RESTORES);
    const coldDryRuns = api.requests.filter((r) => r.dryRun).length;
    const coldRequests = api.requests.length;
    const statusBytes = JSON.stringify(source().status ?? {}).length;
    const coldLive = await ask<Scenario["coldLive"]>({ cmd: "gc" });

    // No-change polls.
    const polls: SyncReport[] = [];
    api.resetCounts();
    server.resetCounts();
    for (let r = 0; r < ROUNDS; r++) polls.push(await ask({ cmd: "poll" }));
    const pollUploadPacks = server.count("upload-pack");
    const pollRefListings = server.count("ls-refs") + server.count("info-refs");
    const pollWrites = api.writes();
    const pollApiRequests = api.requests.filter((r) => r.verb !== "watch").length;

    // One-document change: backup-4200's bandwidth (the first document of p-042.yaml).
    await repo.write(
      "policies/p-042.yaml",
      fileContent(42, (t) => t.replace("bandwidth: 50M", "bandwidth: 60M")),
    );
    await repo.commit("backup-4200 at 60M");
    await repo.push();
    api.resetCounts();
    server.resetCounts();
    const change = await ask({ cmd: "poll" });
    check(
      "one-document change",
      ready()?.status === "True" &&
        /0 created, 1 updated, 0 pruned, 9999 unchanged/.test(ready()?.message ?? ""),
    );
    const changed = api.objects.get("db.orange.com/v2", "CassandraBackup", "ns-0", "backup-4200");
    if ((changed?.spec as { bandwidth?: string } | undefined)?.bandwidth !== "60M")
      throw new Error("backup-4200 was not updated");
    const byResource = new Map<string, number>();
    for (const r of api.requests)
      if (r.wrote) byResource.set(r.resource, (byResource.get(r.resource) ?? 0) + 1);

    const result: Scenario = {
      idleRssMb,
      cold,
      coldLive,
      serversCpuMs: (serversCpu.user + serversCpu.system) / 1000,
      coldWrites,
      coldPolicyWrites,
      coldDryRuns,
      coldRequests,
      statusBytes,
      polls,
      pollUploadPacks,
      pollRefListings,
      pollWrites,
      pollApiRequests,
      change,
      changeBackupWrites: api.writes(BACKUPS),
      changeRestoreWrites: api.writes(RESTORES),
      changeWrites: api.writes(),
      changeWritesByResource: [...byResource].map(([k, v]) => `${k} ${v}`).join(", "),
      changeDryRuns: api.requests.filter((r) => r.dryRun).length,
      changeUploadPacks: server.count("upload-pack"),
    };
    const gone = once(c, "exit");
    c.send({ cmd: "stop" } satisfies Command);
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000).unref())]);
    return result;
  } finally {
    if (child !== undefined && child.exitCode === null) child.kill();
    await api.close();
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** V8's heap for a 512Mi container: Node sizes it from the cgroup limit (about half of it; 259 MB measured). */
const CONTAINER_HEAP_MB = 256;

async function main(): Promise<void> {
  // The default heap twice (its peak RSS varies by ~100 MB from run to run: when V8 collects is not
  // deterministic); the worse of the two is reported, the details are the first run's.
  const runs: Scenario[] = [];
  for (let r = 0; r < COLD_ROUNDS; r++) runs.push(await scenario(undefined));
  const s = runs[0] as Scenario;
  const capped = await scenario(CONTAINER_HEAP_MB);
  const worst = (f: (x: Scenario) => number) => Math.max(...runs.map(f));
  const each = (f: (x: Scenario) => number) => runs.map((x) => Math.round(f(x))).join(", ");
  const p = phases(s.cold);
  const m = memory(s.cold);
  const cp = phases(s.change);
  const cm = memory(s.change);
  const mb = (x: number | undefined) => Math.round(x ?? 0);
  process.stdout.write(
    JSON.stringify({
      name: `git sync end to end, ${DOCS} documents (${FILES} files): cold sync, no-change poll, one-document change`,
      metrics: {
        controllerIdleRssMb: mb(s.idleRssMb),
        coldSyncMs: Math.round(worst((x) => x.cold.ms)),
        coldSyncPeakRssMb: mb(worst((x) => x.cold.maxRssMb)),
        coldSyncMsRuns: each((x) => x.cold.ms),
        coldSyncPeakRssMbRuns: each((x) => x.cold.maxRssMb),
        coldSyncCpuMs: Math.round(s.cold.cpuMs),
        coldApiWrites: s.coldWrites,
        coldPolicyObjectWrites: s.coldPolicyWrites,
        coldDryRunRequests: s.coldDryRuns,
        coldApiRequests: s.coldRequests,
        coldStartMs: Math.round(p.startMs ?? 0),
        coldResolveMs: Math.round(p.resolveMs ?? 0),
        coldReconcilingStatusMs: Math.round(p.reconcilingStatusMs ?? 0),
        coldFetchReadMs: Math.round(p.fetchReadMs ?? 0),
        coldListLiveMs: Math.round(p.listLiveMs ?? 0),
        coldLoadValidatePlanMs: Math.round(p.loadValidatePlanMs ?? 0),
        coldDryRunMs: Math.round(p.dryRunMs ?? 0),
        coldApplyMs: Math.round(p.applyMs ?? 0),
        coldFinalStatusMs: Math.round(p.finalStatusMs ?? 0),
        coldFetchReadPeakRssMb: m.fetchReadPeakRssMb ?? 0,
        coldLoadValidatePlanPeakRssMb: m.loadValidatePlanPeakRssMb ?? 0,
        coldDryRunPeakRssMb: m.dryRunPeakRssMb ?? 0,
        coldApplyPeakRssMb: m.applyPeakRssMb ?? 0,
        coldAtPeakHeapTotalMb: m.atPeakHeapTotalMb ?? 0,
        coldAtPeakHeapUsedMb: m.atPeakHeapUsedMb ?? 0,
        coldAtPeakExternalMb: m.atPeakExternalMb ?? 0,
        afterColdSyncLiveHeapMb: mb(s.coldLive.heapUsedMb),
        afterColdSyncGcHeapTotalMb: mb(s.coldLive.heapTotalMb),
        afterColdSyncGcExternalMb: mb(s.coldLive.externalMb),
        afterColdSyncGcRssMb: mb(s.coldLive.rssMb),
        controllerHeapLimitMb: mb(s.coldLive.heapLimitMb),
        serversCpuMsDuringColdSync: Math.round(s.serversCpuMs),
        serversNote:
          "the API double and git-server's node side run in the parent process: RSS and CPU above are the controller child's alone",
        sourceStatusBytes: s.statusBytes,
        noChangePollMs: round(median(s.polls.map((x) => x.ms)), 1),
        noChangePollUploadPacks: s.pollUploadPacks,
        noChangePollRefListings: s.pollRefListings,
        noChangePollApiWrites: s.pollWrites,
        noChangePollApiRequests: s.pollApiRequests,
        oneDocumentChangeMs: Math.round(s.change.ms),
        oneDocumentChangePolicyWrites: s.changeBackupWrites + s.changeRestoreWrites,
        oneDocumentChangeBackupWrites: s.changeBackupWrites,
        oneDocumentChangeApiWrites: s.changeWrites,
        oneDocumentChangeWritesByResource: s.changeWritesByResource,
        oneDocumentChangeDryRunRequests: s.changeDryRuns,
        oneDocumentChangeUploadPacks: s.changeUploadPacks,
        oneDocumentChangeFetchReadMs: Math.round(cp.fetchReadMs ?? 0),
        oneDocumentChangeListLiveMs: Math.round(cp.listLiveMs ?? 0),
        oneDocumentChangeLoadValidatePlanMs: Math.round(cp.loadValidatePlanMs ?? 0),
        oneDocumentChangeWritesMs: Math.round((cp.dryRunMs ?? 0) + (cp.applyMs ?? 0)),
        oneDocumentChangeFinalStatusMs: Math.round(cp.finalStatusMs ?? 0),
        oneDocumentChangeListLivePeakRssMb: cm.listLivePeakRssMb ?? 0,
        controllerPeakRssMb: mb(worst((x) => Math.max(x.cold.maxRssMb, x.change.maxRssMb))),
        serversPeakRssMb: mb(process.resourceUsage().maxRSS / 1024),
        containerHeapMb: CONTAINER_HEAP_MB,
        containerHeapColdSyncMs: Math.round(capped.cold.ms),
        containerHeapColdSyncPeakRssMb: mb(capped.cold.maxRssMb),
        containerHeapControllerPeakRssMb: mb(Math.max(capped.cold.maxRssMb, capped.change.maxRssMb)),
        containerHeapOneDocumentChangeMs: Math.round(capped.change.ms),
        containerHeapNote: `a second, fresh run with the controller at --max-old-space-size=${CONTAINER_HEAP_MB}, about what Node picks under a 512Mi cgroup limit`,
      },
      targets: [
        { metric: "coldSyncMs", op: "<=", value: 60_000 },
        { metric: "coldSyncPeakRssMb", op: "<=", value: 512 },
        { metric: "noChangePollUploadPacks", op: "<=", value: 0 },
        { metric: "noChangePollApiWrites", op: "<=", value: 0 },
        { metric: "oneDocumentChangePolicyWrites", op: "<=", value: 1 },
        { metric: "oneDocumentChangePolicyWrites", op: ">=", value: 1 },
      ],
    }),
  );
}

if (process.argv[2] === "controller")
  await controllerChild(process.argv[3] as string, process.argv[4] as string, process.argv[5] as string);
else await main();
