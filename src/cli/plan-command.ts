// `casskeeper plan [--ref REF] [--path DIR] [--world FILE]... [--namespace NS] [--source NS/NAME]
//                  [--kubeconfig FILE | --no-cluster] [--output text|json] [SOURCE]`
// What a Git sync of SOURCE (an http(s) Git URL or a local directory) would do to each object, with the same
// loader, validation and planner as the reconciler (src/gitsync/plan.ts), like `terraform plan`.
//
// With a cluster at hand (--kubeconfig, or the default loading rules: $KUBECONFIG, ~/.kube/config, the pod's
// service account) the plan compares with the live objects, and with --source NS/NAME it plans as that
// BackupPolicySource: its spec (prune, allowEmpty, targetNamespaces, path, ref, url) and its inventory, so
// prunes show. Without a cluster every object is a create and nothing is pruned; a line on stderr says so.
//
// Git credentials come from the environment only (CASSKEEPER_GIT_TOKEN, or CASSKEEPER_GIT_USERNAME and
// CASSKEEPER_GIT_PASSWORD): a flag would show in `ps` and in shell history. They are never printed.
//
// Exit codes: 0 the plan applies (warnings allowed), 1 errors or conflicts (a sync would refuse the
// revision), 2 usage errors and anything that stopped the plan from being made (an unreachable repository
// or cluster, a ref or source that does not exist).

import { existsSync } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { delimiter, isAbsolute, join, relative, resolve, sep } from "node:path";
import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { CasskeeperError } from "../core/errors.ts";
import type { BackupPolicySourceSpec } from "../core/types.ts";
import { isRecord } from "../core/world-build.ts";
import { DEFAULT_LIMITS, type LocatedProblem } from "../core/yaml-documents.ts";
import { loadSourceFiles } from "../gitsync/loader.ts";
import {
  type FetchRequest,
  formatRevision,
  type GitAuth,
  type GitRef,
  type InventoryEntry,
  parseInventoryEntry,
  type SourceFile,
  type SourceKey,
  type SyncPlan,
} from "../gitsync/model.ts";
import { type PlanSpec, planSync } from "../gitsync/plan.ts";
import { loadStructuralValidator } from "../schema/bundled-crds.ts";
import { collectYamlFiles, readBounded } from "./files.ts";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, type Io, outputFormat, USAGE, UsageError } from "./main.ts";
import { formatLocated, loadWorld, problemJson } from "./validate-command.ts";

/** The source a plan is made for when no --source names one: a new source, owning nothing yet. */
const PLAN_SOURCE_NAME = "casskeeper-plan";
const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** A local directory's "revision": it is not a commit. */
const LOCAL_REVISION = "local";

export async function planCommand(args: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    options: {
      ref: { type: "string" },
      path: { type: "string" },
      world: { type: "string", multiple: true },
      namespace: { type: "string", short: "n" },
      source: { type: "string" },
      kubeconfig: { type: "string" },
      "no-cluster": { type: "boolean" },
      output: { type: "string", short: "o" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  const format = outputFormat(values.output);
  if (positionals.length > 1) throw new UsageError(`plan takes one SOURCE, got ${positionals.length}`);
  if (values.kubeconfig !== undefined && values["no-cluster"]) {
    throw new UsageError("--kubeconfig and --no-cluster are exclusive");
  }
  const sourceKey = values.source === undefined ? undefined : parseSourceKey(values.source);
  if (sourceKey !== undefined && values.namespace !== undefined && values.namespace !== sourceKey.namespace) {
    throw new UsageError(
      `--namespace ${values.namespace} differs from the namespace of --source ${values.source}`,
    );
  }
  if (values.path !== undefined) checkRepoPath(values.path);

  const kc = values["no-cluster"] ? undefined : await loadCluster(values.kubeconfig);
  const notes: string[] = [];

  // The BackupPolicySource to plan as: its spec and inventory, from the cluster.
  let spec: BackupPolicySourceSpec = {};
  let previousInventory: InventoryEntry[] = [];
  if (sourceKey !== undefined && kc !== undefined) {
    const found = await readPolicySource(kc, sourceKey);
    spec = isRecord(found.spec) ? (found.spec as BackupPolicySourceSpec) : {};
    const status = isRecord(found.status) ? found.status : {};
    const inventory = isRecord(status.inventory) ? status.inventory.entries : undefined;
    if (Array.isArray(inventory)) {
      previousInventory = inventory.filter(
        (e): e is InventoryEntry => isRecord(e) && typeof e.id === "string" && typeof e.v === "string",
      );
    }
  } else if (sourceKey !== undefined) {
    notes.push(`no cluster: the spec and inventory of BackupPolicySource ${values.source} were not read`);
  }
  const source: SourceKey = sourceKey ?? { namespace: values.namespace ?? "default", name: PLAN_SOURCE_NAME };

  const location = positionals[0] ?? spec.url;
  if (location === undefined) {
    throw new UsageError("plan needs a SOURCE: a local directory or an http(s) Git URL");
  }
  const repoPath = values.path ?? spec.path ?? "";
  checkRepoPath(repoPath);

  const world = await loadWorld(values.world ?? [], source.namespace, io);
  if (world === undefined) return EXIT_USAGE;
  if (!world.known) notes.push("no --world given: secrets, clusters and backup references were not checked");

  // The revision's files.
  let revision: string;
  let files: SourceFile[];
  if (/^https?:\/\//i.test(location)) {
    const ref = values.ref === undefined ? (spec.ref ?? {}) : refFromFlag(values.ref);
    ({ revision, files } = await readGit(location, ref, repoPath, values.ref !== undefined));
  } else {
    if (values.ref !== undefined) throw new UsageError("--ref needs a Git URL as SOURCE, not a directory");
    revision = LOCAL_REVISION;
    files = await readDirectory(resolve(io.cwd, location), repoPath);
  }

  // The live objects: the namespaces the documents target and the inventory names.
  const loaded = loadSourceFiles(files);
  let live: Map<string, Record<string, unknown>> | undefined;
  if (kc !== undefined) {
    const namespaces = new Set<string>();
    for (const d of loaded.documents) {
      const m = isRecord(d.object) && isRecord(d.object.metadata) ? d.object.metadata : {};
      namespaces.add(typeof m.namespace === "string" && m.namespace !== "" ? m.namespace : source.namespace);
    }
    for (const e of previousInventory) {
      const id = parseInventoryEntry(e);
      if (id !== undefined) namespaces.add(id.namespace);
    }
    const { createGitSyncCluster } = await import("../kube/gitsync-cluster.ts");
    try {
      live = await createGitSyncCluster(kc).listLive([...namespaces].sort());
    } catch (e) {
      throw clusterError(kc, e);
    }
  } else {
    notes.push("no cluster: every object is a create and nothing is pruned (--kubeconfig compares with one)");
  }

  const planSpec: PlanSpec = {
    prune: spec.prune ?? true,
    allowEmpty: spec.allowEmpty ?? false,
    targetNamespaces: spec.targetNamespaces,
    path: repoPath,
  };
  const plan = planSync({
    source,
    spec: planSpec,
    revision,
    documents: loaded.documents,
    loadProblems: loaded.problems,
    structure: loadStructuralValidator(),
    world,
    live,
    previousInventory,
  });
  if (sourceKey === undefined && plan.conflicts.some((c) => c.message.startsWith("owned by"))) {
    notes.push("objects owned by a BackupPolicySource: pass --source NS/NAME to plan as that source");
  }

  const ok = plan.problems.length === 0 && plan.conflicts.length === 0;
  if (format === "json") {
    io.stdout(`${JSON.stringify(planJson(plan, revision, live !== undefined, source), null, 2)}\n`);
  } else {
    for (const line of planText(plan, revision)) io.stdout(`${line}\n`);
  }
  for (const n of notes) io.stderr(`note: ${n}\n`);
  return ok ? EXIT_OK : EXIT_INVALID;
}

// ---------------------------------------------------------------------------------------------------------
// Arguments

function parseSourceKey(value: string): SourceKey {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(value);
  if (m === null) throw new UsageError(`--source must be NAMESPACE/NAME, got "${value}"`);
  return { namespace: m[1] as string, name: m[3] as string };
}

/** A directory inside the repository: relative, `/`-separated, no `..` (as spec.path). */
function checkRepoPath(p: string): void {
  if (p.startsWith("/") || p.split("/").includes("..") || p.includes("\\")) {
    throw new UsageError(`--path must be relative to the repository root, without "..": "${p}"`);
  }
}

/** A 40- or 64-hex ref is a commit; anything else a branch (or, if no such branch, a tag). */
function refFromFlag(ref: string): GitRef {
  if (ref === "") throw new UsageError("--ref must not be empty");
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(ref) ? { commit: ref } : { branch: ref };
}

function gitAuthFromEnv(): GitAuth | undefined {
  const token = process.env.CASSKEEPER_GIT_TOKEN;
  if (token !== undefined && token !== "") return { token };
  const username = process.env.CASSKEEPER_GIT_USERNAME;
  const password = process.env.CASSKEEPER_GIT_PASSWORD;
  if (username !== undefined && username !== "" && password !== undefined) return { username, password };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Reading the revision

async function readGit(
  url: string,
  ref: GitRef,
  path: string,
  refFromUser: boolean,
): Promise<{ revision: string; files: SourceFile[] }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError("SOURCE is not a valid URL");
  }
  // Never echo such a URL: it holds a credential.
  if (parsed.username !== "" || parsed.password !== "") {
    throw new UsageError(
      "the Git URL embeds credentials; set CASSKEEPER_GIT_TOKEN or CASSKEEPER_GIT_USERNAME/CASSKEEPER_GIT_PASSWORD",
    );
  }
  const cacheDir = await mkdtemp(join(tmpdir(), "casskeeper-plan-git-"));
  try {
    const { createGitSource } = await import("../gitsync/git-source.ts");
    const git = createGitSource({ cacheDir });
    const req: FetchRequest = { url, ref, path, auth: gitAuthFromEnv() };
    let resolved: { req: FetchRequest; rev: Awaited<ReturnType<typeof git.resolve>> };
    try {
      resolved = { req, rev: await git.resolve(req) };
    } catch (e) {
      // `--ref v1.2.0`: not a branch, maybe a tag.
      const notFound = e instanceof CasskeeperError && e.code === "git-ref-not-found";
      if (!notFound || !refFromUser || ref.branch === undefined) throw e;
      const asTag: FetchRequest = { ...req, ref: { tag: ref.branch } };
      try {
        resolved = { req: asTag, rev: await git.resolve(asTag) };
      } catch {
        throw e;
      }
    }
    const files = await git.read(resolved.req, resolved.rev);
    return { revision: formatRevision(resolved.rev), files };
  } catch (e) {
    if (e instanceof CasskeeperError) throw e;
    throw new CasskeeperError("cli", "git", `cannot read ${url}: ${(e as Error)?.message ?? String(e)}`);
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

/** The YAML files under `root/path`, named by their path relative to `root`, `/`-separated. */
async function readDirectory(root: string, path: string): Promise<SourceFile[]> {
  const st = await stat(root).catch(() => undefined);
  if (st === undefined) throw new UsageError(`${root}: no such directory`);
  if (!st.isDirectory()) throw new UsageError(`SOURCE must be a directory or an http(s) Git URL: ${root}`);
  const dir = path === "" || path === "." ? root : join(root, path);
  const dirStat = await stat(dir).catch(() => undefined);
  // As the Git source: a path that is not there is an error, not an empty revision.
  if (dirStat === undefined || !dirStat.isDirectory()) {
    throw new CasskeeperError("cli", "path-not-found", `${path}: no such directory in ${root}`);
  }
  const out: SourceFile[] = [];
  for (const file of await collectYamlFiles([dir])) {
    const rel = relative(root, file);
    const name = isAbsolute(rel) ? file : rel.split(sep).join("/");
    out.push({ path: name, bytes: await readBounded(file, DEFAULT_LIMITS.maxBytes) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The cluster

/**
 * The KubeConfig to compare with, or undefined when there is none. The default loading rules are kubectl's
 * ($KUBECONFIG's existing files, else ~/.kube/config, else the pod's service account), except that when
 * nothing is configured there is no cluster (client-node would fall back to http://localhost:8080), so `plan`
 * on a laptop without a cluster plans offline instead of failing.
 */
async function loadCluster(file: string | undefined): Promise<KubeConfig | undefined> {
  let files: string[] = [];
  let inCluster = false;
  if (file !== undefined) {
    files = [file];
  } else if ((process.env.KUBECONFIG ?? "") !== "") {
    files = (process.env.KUBECONFIG ?? "").split(delimiter).filter((f) => f !== "" && existsSync(f));
  } else {
    const home = join(process.env.HOME ?? homedir(), ".kube", "config");
    if (existsSync(home)) files = [home];
    else inCluster = (process.env.KUBERNETES_SERVICE_HOST ?? "") !== "" && existsSync(SERVICE_ACCOUNT_TOKEN);
  }
  if (files.length === 0 && !inCluster) return undefined;

  // client-node is loaded only when there is a cluster to talk to.
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  try {
    if (inCluster) kc.loadFromCluster();
    for (const [i, f] of files.entries()) {
      if (i === 0) {
        kc.loadFromFile(f);
      } else {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more);
      }
    }
  } catch (e) {
    throw new CasskeeperError("cli", "kubeconfig", `cannot read the kubeconfig: ${(e as Error).message}`);
  }
  if (kc.getCurrentCluster() === null) {
    if (file !== undefined) throw new UsageError(`${file}: no current cluster (current-context)`);
    return undefined;
  }
  return kc;
}

async function readPolicySource(kc: KubeConfig, key: SourceKey): Promise<Record<string, unknown>> {
  const { kubeRequest, statusCodeOf } = await import("../kube/client.ts");
  const path = `/apis/casskeeper.io/v1alpha1/namespaces/${encodeURIComponent(key.namespace)}/backuppolicysources/${encodeURIComponent(key.name)}`;
  try {
    const obj = await kubeRequest(kc, { path, maxBytes: 4 * 1024 * 1024 });
    if (!isRecord(obj))
      throw new CasskeeperError(
        "cli",
        "source",
        `BackupPolicySource ${key.namespace}/${key.name}: not an object`,
      );
    return obj;
  } catch (e) {
    if (statusCodeOf(e) === 404) {
      throw new CasskeeperError(
        "cli",
        "source-not-found",
        `BackupPolicySource ${key.namespace}/${key.name} not found in the cluster`,
      );
    }
    throw clusterError(kc, e);
  }
}

function clusterError(kc: KubeConfig, e: unknown): CasskeeperError {
  if (e instanceof CasskeeperError && e.code === "source-not-found") return e;
  const server = kc.getCurrentCluster()?.server ?? "";
  const why = e instanceof Error ? e.message : String(e);
  return new CasskeeperError(
    "cli",
    "cluster",
    `cannot read the cluster at ${server}: ${why} (--no-cluster plans without it)`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Output

const OP_WIDTH = "unchanged".length;

function located(p: LocatedProblem): string {
  if (p.file !== "") return formatLocated(p);
  const field = p.problem.path === "" ? "" : `${p.problem.path}: `;
  return `${p.problem.severity}: ${field}${p.problem.message}`;
}

function planText(plan: SyncPlan, revision: string): string[] {
  const out: string[] = revision === LOCAL_REVISION ? [] : [`Revision ${revision}`];
  const findings = [...plan.problems, ...plan.warnings].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column,
  );
  for (const p of findings) out.push(located(p));
  if (plan.problems.length > 0) {
    const n = plan.problems.length;
    out.push(`Refused: ${n} error${n === 1 ? "" : "s"}; a sync would apply nothing.`);
    return out;
  }
  const what = (id: { kind: string; namespace: string; name: string }) =>
    `${id.kind} ${id.namespace}/${id.name}`;
  const width = Math.max(
    0,
    ...plan.actions.map((a) => what(a.id).length),
    ...plan.conflicts.map((c) => what(c.id).length),
  );
  const where = (x: { file?: string | undefined; line?: number | undefined }) =>
    x.file === undefined ? "" : `  (${x.file}${x.line === undefined ? "" : `:${x.line}`})`;
  for (const c of plan.conflicts) {
    out.push(`${"conflict".padEnd(OP_WIDTH)} ${what(c.id)}: ${c.message}${where(c)}`);
  }
  if (plan.conflicts.length > 0) {
    const n = plan.conflicts.length;
    out.push(`Refused: ${n} conflict${n === 1 ? "" : "s"}; a sync would apply nothing.`);
    return out;
  }
  for (const a of plan.actions) {
    const reason = a.reason === undefined || a.op === "create" ? "" : ` — ${a.reason}`;
    out.push(`${a.op.padEnd(OP_WIDTH)} ${what(a.id).padEnd(width)}${where(a)}${reason}`.trimEnd());
  }
  const c = counts(plan);
  out.push(
    `Plan: ${c.create} to create, ${c.update} to update, ${c.prune} to prune, ${c.unchanged} unchanged.`,
  );
  return out;
}

function counts(plan: SyncPlan): Record<"create" | "update" | "unchanged" | "prune", number> {
  const c = { create: 0, update: 0, unchanged: 0, prune: 0 };
  for (const a of plan.actions) c[a.op]++;
  return c;
}

function planJson(plan: SyncPlan, revision: string, cluster: boolean, source: SourceKey) {
  const problem = problemJson;
  const object = (id: { group: string; version: string; kind: string; namespace: string; name: string }) => ({
    apiVersion: id.group === "" ? id.version : `${id.group}/${id.version}`,
    kind: id.kind,
    namespace: id.namespace,
    name: id.name,
  });
  return {
    revision,
    cluster,
    source,
    summary: counts(plan),
    actions: plan.actions.map((a) => ({
      op: a.op,
      ...object(a.id),
      ...(a.file === undefined ? {} : { file: a.file, line: a.line, column: a.column }),
      ...(a.reason === undefined ? {} : { reason: a.reason }),
    })),
    conflicts: plan.conflicts.map((c) => ({
      ...object(c.id),
      ...(c.file === undefined ? {} : { file: c.file, line: c.line, column: c.column }),
      message: c.message,
    })),
    problems: plan.problems.map(problem),
    warnings: plan.warnings.map(problem),
  };
}
