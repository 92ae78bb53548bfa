// `casskeeper plan` run as a user runs it (the real binary): local directories, a Git repository served over
// smart HTTP, and a cluster (the API double). Every run gets a temp HOME and a KUBECONFIG that does not exist
// unless the test hands it the double's, so no test ever talks to a developer's real cluster.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EMPTY_WORLD } from "../../src/core/world.ts";
import { loadSourceFiles } from "../../src/gitsync/loader.ts";
import {
  ANNOTATION_PRUNE,
  ANNOTATION_SOURCE_PATH,
  LABEL_MANAGED_BY,
  LABEL_SOURCE_NAME,
  LABEL_SOURCE_NAMESPACE,
} from "../../src/gitsync/model.ts";
import { planSync } from "../../src/gitsync/plan.ts";
import { loadStructuralValidator } from "../../src/schema/bundled-crds.ts";
import { type CliResult, hasStackTrace, ROOT, runCli } from "../support/cli.ts";
import { createRepo, type GitServer, startGitServer } from "../support/git-server.ts";
import { type KubeApiDouble, startKubeApiDouble } from "../support/kube-api-double.ts";

const F = "test/fixtures/plan";
let home: string;

before(async () => {
  home = await mkdtemp(join(tmpdir(), "casskeeper-plan-test-"));
});
after(async () => {
  await rm(home, { recursive: true, force: true });
});

/** No cluster unless `kubeconfig` is given: HOME has no ~/.kube, KUBECONFIG names a file that does not exist. */
function plan(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(["plan", ...args], {
    env: {
      HOME: home,
      KUBECONFIG: join(home, "no-such-kubeconfig"),
      KUBERNETES_SERVICE_HOST: "",
      CASSKEEPER_GIT_TOKEN: "",
      CASSKEEPER_GIT_USERNAME: "",
      CASSKEEPER_GIT_PASSWORD: "",
      ...env,
    },
  });
}

function assertRan(r: CliResult, code: number, label = "") {
  assert.equal(r.code, code, `${label}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  assert.ok(!hasStackTrace(r.stdout + r.stderr), r.stderr);
}

describe("casskeeper plan: a local directory, no cluster", () => {
  // (scenario, args) → (exit code, stdout lines, stderr lines)
  const cases: {
    name: string;
    args: string[];
    code: number;
    stdout?: RegExp[];
    stderr?: RegExp[];
    not?: RegExp;
  }[] = [
    {
      // (valid files, no cluster) → every object a create, repo-relative names, a note on stderr
      name: "every object is a create, named by its path in the directory",
      args: ["-n", "prod", `${F}/creates`],
      code: 0,
      stdout: [
        /^create {4}CassandraBackup prod\/orders-nightly +\(backups\/orders\.yaml:2\)$/m,
        /^create {4}CassandraBackup prod\/orders-weekly +\(backups\/orders\.yaml:14\)$/m,
        /^create {4}CassandraRestore prod\/orders-restore +\(backups\/restore\.yml:1\)$/m,
        /^create {4}CassandraBackup prod\/customers-nightly +\(other\/customers\.yaml:1\)$/m,
        /^Plan: 4 to create, 0 to update, 0 to prune, 0 unchanged\.$/m,
      ],
      stderr: [/^note: no cluster: every object is a create and nothing is pruned/m, /no --world given/],
      not: /ignored\.txt/,
    },
    {
      // (--path backups) → only that directory, names still relative to SOURCE
      name: "--path reads one directory of the repository",
      args: ["-n", "prod", "--path", "backups", `${F}/creates`],
      code: 0,
      stdout: [/\(backups\/orders\.yaml:2\)/, /^Plan: 3 to create, 0 to update, 0 to prune, 0 unchanged\.$/m],
      not: /customers/,
    },
    {
      // (robfig rejects day-of-week 7) → file:line:col as validate prints it, exit 1
      name: "an invalid file is refused with file:line:col",
      args: [`${F}/invalid`],
      code: 1,
      stdout: [
        /^backup\.yaml:9:13: error: spec\.schedule: end of range \(7\) above maximum \(6\): 7$/m,
        /^Refused: 1 error; a sync would apply nothing\.$/m,
      ],
      not: /^create/m,
    },
    {
      // (no YAML at all) → refused rather than pruning everything
      name: "an empty directory is refused",
      args: [`${F}/empty`],
      code: 1,
      stdout: [
        /^error: the revision has no policy documents under the repository root; set spec\.allowEmpty to accept it$/m,
      ],
    },
    {
      // (namespace staging, source in prod) → gitsync.namespace at the namespace line
      name: "a namespace outside the source's is refused",
      args: ["--namespace", "prod", `${F}/namespace-refused`],
      code: 1,
      stdout: [
        /^backup\.yaml:5:14: error: metadata\.namespace: namespace "staging" is outside the source's namespace "prod"/m,
      ],
    },
    {
      // (same file, source in staging) → allowed
      name: "the same file planned for its own namespace",
      args: ["--namespace", "staging", `${F}/namespace-refused`],
      code: 0,
      stdout: [/^create {4}CassandraBackup staging\/orders-nightly/m],
    },
    {
      // (a ConfigMap) → only the synced kinds are applied
      name: "a kind Git sync does not apply",
      args: [`${F}/wrong-kind`],
      code: 1,
      stdout: [
        /^config\.yaml:2:7: error: kind: only CassandraBackup and CassandraRestore are applied by Git sync, not ConfigMap$/m,
      ],
    },
    {
      // (--world with the secret and cluster) → the world's checks run, no note about it
      name: "--world files are used for the checks",
      args: ["-n", "prod", "--world", `${F}/world.yaml`, "--path", "backups", `${F}/creates`],
      code: 0,
      stdout: [/^Plan: 3 to create/m],
      not: /no --world given/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await plan(c.args);
      assertRan(r, c.code, c.name);
      for (const re of c.stdout ?? []) assert.match(r.stdout, re);
      for (const re of c.stderr ?? []) assert.match(r.stderr, re);
      if (c.not) assert.doesNotMatch(r.stdout + r.stderr, c.not);
    });
  }

  it("--output json reports actions, problems and warnings", async () => {
    const r = await plan(["-n", "prod", "-o", "json", "--path", "backups", `${F}/creates`]);
    assertRan(r, 0);
    const out = JSON.parse(r.stdout);
    assert.equal(out.revision, "local");
    assert.equal(out.cluster, false);
    assert.deepEqual(out.summary, { create: 3, update: 0, unchanged: 0, prune: 0 });
    assert.deepEqual(out.actions[0], {
      op: "create",
      apiVersion: "db.orange.com/v2",
      kind: "CassandraBackup",
      namespace: "prod",
      name: "orders-nightly",
      file: "backups/orders.yaml",
      line: 2,
      column: 1,
    });
    assert.deepEqual(out.conflicts, []);
    assert.deepEqual(out.problems, []);
    assert.ok(out.warnings.some((w: { code: string }) => w.code === "restore.backup-not-completed"));
  });

  it("--output json of a refused revision lists the problems with their codes", async () => {
    const r = await plan(["-o", "json", `${F}/invalid`]);
    assertRan(r, 1);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.actions, []);
    assert.deepEqual(
      out.problems.map((p: Record<string, unknown>) => [p.file, p.line, p.column, p.code, p.field]),
      [["backup.yaml", 9, 13, "schedule.invalid", "spec.schedule"]],
    );
  });

  // (bad usage) → exit 2 and one line saying why
  const usage: [string, string[], RegExp][] = [
    ["no SOURCE", [], /plan needs a SOURCE/],
    ["two SOURCEs", [`${F}/creates`, `${F}/empty`], /plan takes one SOURCE/],
    ["a SOURCE that does not exist", [`${F}/nope`], /no such directory/],
    ["a file as SOURCE", [`${F}/invalid/backup.yaml`], /SOURCE must be a directory or an http\(s\) Git URL/],
    ["--ref with a directory", ["--ref", "main", `${F}/creates`], /--ref needs a Git URL/],
    ["--path escaping the repository", ["--path", "../x", `${F}/creates`], /--path must be relative/],
    ["--path that does not exist", ["--path", "nope", `${F}/creates`], /nope: no such directory/],
    ["a bad --source", ["--source", "prod", `${F}/creates`], /--source must be NAMESPACE\/NAME/],
    ["--kubeconfig with --no-cluster", ["--kubeconfig", "x", "--no-cluster", `${F}/creates`], /exclusive/],
    ["a bad --output", ["-o", "yaml", `${F}/creates`], /--output must be text or json/],
    ["an unknown flag", ["--prune", `${F}/creates`], /Unknown option '--prune'/],
    [
      "a missing --kubeconfig file",
      ["--kubeconfig", "/nonexistent/kc", `${F}/creates`],
      /cannot read the kubeconfig/,
    ],
  ];
  for (const [name, args, re] of usage) {
    it(`usage: ${name} → exit 2`, async () => {
      const r = await plan(args);
      assertRan(r, 2, name);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, "");
    });
  }
});

// ---------------------------------------------------------------------------------------------------------

/** The objects a sync of the `creates` fixture (--path backups) as prod/policies would have applied. */
async function appliedState(): Promise<Record<string, Record<string, unknown>>> {
  const names = ["backups/orders.yaml", "backups/restore.yml"];
  const files = await Promise.all(
    names.map(async (path) => ({ path, bytes: await readFile(join(ROOT, F, "creates", path)) })),
  );
  const loaded = loadSourceFiles(files);
  const p = planSync({
    source: { namespace: "prod", name: "policies" },
    spec: { prune: true, allowEmpty: false },
    revision: "main@sha1:0000000000000000000000000000000000000000",
    documents: loaded.documents,
    loadProblems: loaded.problems,
    structure: loadStructuralValidator(),
    world: EMPTY_WORLD,
    previousInventory: [],
  });
  assert.deepEqual(p.problems, []);
  const out: Record<string, Record<string, unknown>> = {};
  for (const a of p.actions) out[a.id.name] = structuredClone(a.desired as Record<string, unknown>);
  return out;
}

function ours(name: string, annotations: Record<string, string> = {}) {
  return {
    apiVersion: "db.orange.com/v2",
    kind: "CassandraBackup",
    metadata: {
      name,
      namespace: "prod",
      labels: {
        [LABEL_SOURCE_NAME]: "policies",
        [LABEL_SOURCE_NAMESPACE]: "prod",
        [LABEL_MANAGED_BY]: "casskeeper",
      },
      annotations: { [ANNOTATION_SOURCE_PATH]: "backups/old.yaml", ...annotations },
    },
    spec: {
      cassandraCluster: "orders",
      storageLocation: "s3://acme-backups",
      snapshotTag: name,
      secret: "s3-creds",
      entities: "orders",
    },
  };
}

function policySource(spec: Record<string, unknown>, inventory: string[]) {
  return {
    apiVersion: "casskeeper.io/v1alpha1",
    kind: "BackupPolicySource",
    metadata: { name: "policies", namespace: "prod" },
    spec: { url: "https://git.example.com/ops/backups.git", ...spec },
    status: {
      inventory: {
        entries: inventory.map((n) => ({ id: `prod_${n}_db.orange.com_CassandraBackup`, v: "v2" })),
      },
    },
  };
}

describe("casskeeper plan: against a cluster (the API double)", () => {
  let double: KubeApiDouble;
  let kubeconfig: string;
  before(async () => {
    double = await startKubeApiDouble();
    kubeconfig = join(home, "kubeconfig");
    await writeFile(kubeconfig, double.kubeConfig().exportConfig());
  });
  after(async () => {
    await double.close();
  });

  /** Fresh cluster state per scenario. */
  function reset(objects: Record<string, unknown>[]) {
    for (const kind of ["CassandraBackup", "CassandraRestore"]) {
      for (const o of double.objects.list("db.orange.com/v2", kind)) {
        const m = o.metadata as { namespace: string; name: string };
        double.objects.remove("db.orange.com/v2", kind, m.namespace, m.name);
      }
    }
    double.objects.remove("casskeeper.io/v1alpha1", "BackupPolicySource", "prod", "policies");
    for (const o of objects) double.objects.put(o);
  }

  it("compares with the live objects and the source's inventory: create, update, unchanged, prune", async () => {
    const state = await appliedState();
    const weekly = state["orders-weekly"] as { spec: Record<string, unknown> };
    weekly.spec.schedule = "@hourly"; // changed by hand in the cluster
    reset([
      {
        ...(state["orders-nightly"] as Record<string, unknown>),
        status: { condition: { type: "COMPLETED" } },
      },
      weekly,
      ours("old-backup"),
      ours("kept-backup", { [ANNOTATION_PRUNE]: "disabled" }),
      policySource({ path: "backups" }, ["orders-nightly", "orders-weekly", "old-backup", "kept-backup"]),
    ]);
    const writes = double.writes();
    const r = await plan(["--kubeconfig", kubeconfig, "--source", "prod/policies", `${F}/creates`]);
    assertRan(r, 0);
    assert.match(r.stdout, /^unchanged CassandraBackup prod\/orders-nightly +\(backups\/orders\.yaml:2\)$/m);
    assert.match(
      r.stdout,
      /^update {4}CassandraBackup prod\/orders-weekly +\(backups\/orders\.yaml:14\) — spec\.schedule drifted in the cluster$/m,
    );
    assert.match(r.stdout, /^create {4}CassandraRestore prod\/orders-restore +\(backups\/restore\.yml:1\)$/m);
    assert.match(
      r.stdout,
      /^prune {5}CassandraBackup prod\/old-backup +— no longer in Git \(was backups\/old\.yaml\)$/m,
    );
    assert.match(
      r.stdout,
      /^warning: CassandraBackup prod\/kept-backup left Git but is kept: it is annotated casskeeper\.io\/prune: disabled$/m,
    );
    assert.match(r.stdout, /^Plan: 1 to create, 1 to update, 1 to prune, 1 unchanged\.$/m);
    // (spec.path from the source) → other/customers.yaml not read
    assert.doesNotMatch(r.stdout, /customers/);
    assert.doesNotMatch(r.stderr, /no cluster/);
    // (plan) → reads only
    assert.equal(double.writes(), writes);
  });

  it("the default loading rules find the cluster ($KUBECONFIG), --output json says so", async () => {
    reset([]);
    const r = await plan(["-n", "prod", "-o", "json", "--path", "backups", `${F}/creates`], {
      KUBECONFIG: kubeconfig,
    });
    assertRan(r, 0);
    const out = JSON.parse(r.stdout);
    assert.equal(out.cluster, true);
    assert.deepEqual(out.summary, { create: 3, update: 0, unchanged: 0, prune: 0 });
  });

  it("--no-cluster ignores a configured cluster", async () => {
    reset([]);
    const requests = double.requests.length;
    const r = await plan(["-n", "prod", "--no-cluster", "-o", "json", `${F}/creates`], {
      KUBECONFIG: kubeconfig,
    });
    assertRan(r, 0);
    assert.equal(JSON.parse(r.stdout).cluster, false);
    assert.equal(double.requests.length, requests);
  });

  // (who holds the live object) → conflict message; the revision is refused as a whole
  const conflicts: [string, Record<string, string>, RegExp][] = [
    [
      "Argo CD (label tracking)",
      { "argocd.argoproj.io/instance": "shop" },
      /tracked by Argo CD application shop; casskeeper does not take it over/,
    ],
    [
      "another BackupPolicySource",
      { [LABEL_SOURCE_NAME]: "team-b", [LABEL_SOURCE_NAMESPACE]: "prod" },
      /owned by BackupPolicySource prod\/team-b/,
    ],
  ];
  for (const [who, labels, message] of conflicts) {
    it(`an object held by ${who} is a conflict, exit 1`, async () => {
      const held = ours("orders-nightly");
      held.metadata.labels = labels as typeof held.metadata.labels;
      reset([held, policySource({ path: "backups" }, [])]);
      const r = await plan(["--kubeconfig", kubeconfig, "--source", "prod/policies", `${F}/creates`]);
      assertRan(r, 1);
      assert.match(
        r.stdout,
        new RegExp(
          `^conflict  CassandraBackup prod/orders-nightly: ${message.source}  \\(backups/orders\\.yaml:2\\)$`,
          "m",
        ),
      );
      assert.match(r.stdout, /^Refused: 1 conflict; a sync would apply nothing\.$/m);
      assert.doesNotMatch(r.stdout, /^(create|update|prune)/m);
    });
  }

  it("a --source that does not exist → exit 2", async () => {
    reset([]);
    const r = await plan(["--kubeconfig", kubeconfig, "--source", "prod/policies", `${F}/creates`]);
    assertRan(r, 2);
    assert.match(r.stderr, /BackupPolicySource prod\/policies not found in the cluster/);
  });

  it("an unreachable cluster → exit 2, naming it and --no-cluster", async () => {
    const dead = await startKubeApiDouble();
    const file = join(home, "dead-kubeconfig");
    await writeFile(file, dead.kubeConfig().exportConfig());
    await dead.close();
    const r = await plan(["--kubeconfig", file, `${F}/creates`]);
    assertRan(r, 2);
    assert.match(r.stderr, /cannot read the cluster at http:\/\/127\.0\.0\.1:\d+: .*--no-cluster/);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe("casskeeper plan: a Git URL (git http-backend over loopback)", () => {
  const TOKEN = "ghp_planTestT0kenValue";
  let server: GitServer;
  let authServer: GitServer;
  let url: string;
  let sha: string;
  before(async () => {
    server = await startGitServer();
    authServer = await startGitServer({ auth: { username: "x-access-token", password: TOKEN } });
    const repo = await createRepo(server, "policies");
    for (const path of ["backups/orders.yaml", "backups/restore.yml", "other/customers.yaml"]) {
      await repo.write(path, await readFile(join(ROOT, F, "creates", path), "utf8"));
    }
    sha = await repo.commit("policies");
    await repo.push();
    await repo.tag("v1.0.0");
    url = repo.url;
    const secured = await createRepo(authServer, "secured");
    await secured.write(
      "backups/orders.yaml",
      await readFile(join(ROOT, F, "creates/backups/orders.yaml"), "utf8"),
    );
    await secured.commit("policies");
    await secured.push();
  });
  after(async () => {
    await server.close();
    await authServer.close();
  });

  // (ref) → the revision printed
  const refs: [string, string[], (sha: string) => RegExp][] = [
    ["the default branch", [], (s) => new RegExp(`^Revision main@sha1:${s}$`, "m")],
    ["a branch", ["--ref", "main"], (s) => new RegExp(`^Revision main@sha1:${s}$`, "m")],
    ["a tag (not a branch)", ["--ref", "v1.0.0"], (s) => new RegExp(`^Revision v1\\.0\\.0@sha1:${s}$`, "m")],
    ["a commit", ["--ref", "<sha>"], (s) => new RegExp(`^Revision sha1:${s}$`, "m")],
  ];
  for (const [name, args, revision] of refs) {
    it(`plans ${name}, files named by their path in the repository`, async () => {
      const r = await plan([
        "-n",
        "prod",
        "--path",
        "backups",
        ...args.map((a) => (a === "<sha>" ? sha : a)),
        url,
      ]);
      assertRan(r, 0, name);
      assert.match(r.stdout, revision(sha));
      assert.match(
        r.stdout,
        /^create {4}CassandraBackup prod\/orders-nightly +\(backups\/orders\.yaml:2\)$/m,
      );
      assert.match(r.stdout, /^Plan: 3 to create, 0 to update, 0 to prune, 0 unchanged\.$/m);
    });
  }

  it("a ref that is neither a branch nor a tag → exit 2", async () => {
    const r = await plan(["--ref", "nope", url]);
    assertRan(r, 2);
    assert.match(r.stderr, /nope/);
  });

  it("credentials come from CASSKEEPER_GIT_TOKEN and are never printed", async () => {
    const target = authServer.url("secured");
    const denied = await plan(["-n", "prod", target]);
    assertRan(denied, 2);
    assert.match(denied.stderr, /authentication failed/);
    const wrong = await plan(["-n", "prod", target], { CASSKEEPER_GIT_TOKEN: "wrong-token-value" });
    assertRan(wrong, 2);
    assert.doesNotMatch(wrong.stdout + wrong.stderr, /wrong-token-value/);
    const ok = await plan(["-n", "prod", target], { CASSKEEPER_GIT_TOKEN: TOKEN });
    assertRan(ok, 0);
    assert.match(ok.stdout, /^Plan: 2 to create/m);
    assert.doesNotMatch(ok.stdout + ok.stderr, new RegExp(TOKEN));
  });

  it("a URL with credentials in it is refused without echoing them", async () => {
    const r = await plan([url.replace("http://", "http://user:hunter2secret@")]);
    assertRan(r, 2);
    assert.doesNotMatch(r.stderr, /hunter2secret/);
    assert.match(r.stderr, /embeds credentials/);
  });

  it("leaves no temporary clone behind", async () => {
    const before = new Set(await listPlanTemps());
    const r = await plan(["-n", "prod", url]);
    assertRan(r, 0);
    const left = (await listPlanTemps()).filter((d) => !before.has(d));
    assert.deepEqual(left, []);
  });
});

async function listPlanTemps(): Promise<string[]> {
  const { readdir } = await import("node:fs/promises");
  return (await readdir(tmpdir())).filter(
    (d) => d.startsWith("casskeeper-plan-git-") && existsSync(join(tmpdir(), d)),
  );
}
