// The Git source against a real Git server (git http-backend over loopback, repositories pushed with the git
// CLI): what a BackupPolicySource would see for each ref kind, path, bound, credential and failure, and how many
// requests each step costs.

import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, truncate } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CasskeeperError } from "../../src/core/errors.ts";
import { createGitSource, type GitSourceOptions } from "../../src/gitsync/git-source.ts";
import type { FetchRequest, GitRef, SourceFile } from "../../src/gitsync/model.ts";
import { createRepo, type GitRepo, type GitServer, startGitServer } from "../support/git-server.ts";

const TOKEN = "ghp_s3cr3tT0kenValue";
const PASSWORD = "pa55-w0rd-value";

let server: GitServer;
let authServer: GitServer;
let scratch: string;
let repoCount = 0;

before(async () => {
  server = await startGitServer();
  authServer = await startGitServer({ auth: { username: "x-access-token", password: TOKEN } });
  scratch = await mkdtemp(join(tmpdir(), "casskeeper-git-source-test-"));
});

after(async () => {
  await server.close();
  await authServer.close();
  await rm(scratch, { recursive: true, force: true });
});

/** A fresh cache dir, so one scenario never sees another's gitdirs. */
async function source(opts: Partial<GitSourceOptions> = {}) {
  const cacheDir = await mkdtemp(join(scratch, "cache-"));
  return { cacheDir, src: createGitSource({ cacheDir, ...opts }) };
}

/** A new repository on `on` with `files` committed and pushed on `branch`. */
async function repoWith(
  files: Record<string, string>,
  opts: { on?: GitServer; branch?: string } = {},
): Promise<GitRepo> {
  const repo = await createRepo(opts.on ?? server, `repo-${++repoCount}`, { branch: opts.branch ?? "main" });
  for (const [path, content] of Object.entries(files)) await repo.write(path, content);
  await repo.commit("initial");
  await repo.push();
  return repo;
}

function policy(name: string): string {
  return `apiVersion: db.orange.com/v2\nkind: CassandraBackup\nmetadata:\n  name: ${name}\n`;
}

function req(repo: GitRepo | string, ref: GitRef = {}, path = ""): FetchRequest {
  return { url: typeof repo === "string" ? repo : repo.url, ref, path };
}

function paths(files: SourceFile[]): string[] {
  return files.map((f) => f.path);
}

function text(files: SourceFile[], path: string): string | undefined {
  const f = files.find((x) => x.path === path);
  return f === undefined ? undefined : Buffer.from(f.bytes).toString("utf8");
}

function failsWith(code: string, ...mustNotContain: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof CasskeeperError, `expected a CasskeeperError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.stage, "sync");
    for (const s of mustNotContain) assert.ok(!e.message.includes(s), `message leaks "${s}": ${e.message}`);
    return true;
  };
}

async function packs(cacheDir: string): Promise<{ name: string; size: number }[]> {
  const out: { name: string; size: number }[] = [];
  for (const gitdir of await readdir(cacheDir)) {
    const dir = join(cacheDir, gitdir, "objects", "pack");
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (name.endsWith(".pack")) out.push({ name, size: (await stat(join(dir, name))).size });
    }
  }
  return out;
}

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if ((await readFile(path)).includes(needle)) hits.push(path);
  }
  return hits;
}

describe("resolve", () => {
  let repo: GitRepo;
  let first: string;
  let tip: string;
  let release: string;

  before(async () => {
    repo = await repoWith({ "policies/a.yaml": policy("a") });
    first = await repo.head();
    await repo.tag("v1");
    await repo.tag("v1-annotated", { annotated: true });
    await repo.write("policies/b.yaml", policy("b"));
    tip = await repo.commit("second");
    await repo.push();
    await repo.git("checkout", "--quiet", "-b", "release", first);
    await repo.write("policies/r.yaml", policy("r"));
    release = await repo.commit("release");
    await repo.push();
    await repo.git("checkout", "--quiet", "main");
  });

  // (case, ref, expected name, expected sha)
  const cases: [string, GitRef, string, () => string][] = [
    ["no ref: the default branch", {}, "main", () => tip],
    ["named branch", { branch: "release" }, "release", () => release],
    ["default branch by name", { branch: "main" }, "main", () => tip],
    ["lightweight tag", { tag: "v1" }, "v1", () => first],
    ["annotated tag, peeled to its commit", { tag: "v1-annotated" }, "v1-annotated", () => first],
    [
      "pinned commit alone",
      { commit: "0123456789abcdef0123456789abcdef01234567" },
      "",
      () => "0123456789abcdef0123456789abcdef01234567",
    ],
    [
      "pinned commit, upper case",
      { commit: "0123456789ABCDEF0123456789ABCDEF01234567" },
      "",
      () => "0123456789abcdef0123456789abcdef01234567",
    ],
    [
      "pinned commit on a branch",
      { commit: "0123456789abcdef0123456789abcdef01234567", branch: "main" },
      "main",
      () => "0123456789abcdef0123456789abcdef01234567",
    ],
    [
      "commit wins over tag and branch",
      { commit: "0123456789abcdef0123456789abcdef01234567", tag: "v1" },
      "",
      () => "0123456789abcdef0123456789abcdef01234567",
    ],
    ["tag wins over branch", { tag: "v1", branch: "release" }, "v1", () => first],
  ];
  for (const [name, ref, wantName, wantSha] of cases) {
    it(name, async () => {
      const { src } = await source();
      assert.deepEqual(await src.resolve(req(repo, ref)), { name: wantName, sha: wantSha() });
    });
  }

  it("a repository whose default branch is not main", async () => {
    const trunk = await repoWith({ "a.yaml": policy("a") }, { branch: "trunk" });
    const { src } = await source();
    assert.deepEqual(await src.resolve(req(trunk)), { name: "trunk", sha: await trunk.head() });
  });

  // (case, ref, error code)
  const failures: [string, GitRef, string][] = [
    ["missing branch", { branch: "nope" }, "git-ref-not-found"],
    ["a prefix of an existing branch", { branch: "mai" }, "git-ref-not-found"],
    ["a branch named like a tag", { branch: "v1" }, "git-ref-not-found"],
    ["missing tag", { tag: "v9" }, "git-ref-not-found"],
    ["a short SHA", { commit: "0123456" }, "git-ref-invalid"],
    ["a branch name with ..", { branch: "a..b" }, "git-ref-invalid"],
    ["a branch name with a newline", { branch: "main\n0000" }, "git-ref-invalid"],
    ["a tag name with a space", { tag: "v 1" }, "git-ref-invalid"],
  ];
  for (const [name, ref, code] of failures) {
    it(`fails: ${name}`, async () => {
      const { src } = await source();
      await assert.rejects(src.resolve(req(repo, ref)), failsWith(code));
    });
  }

  it("an empty repository has no default branch to resolve", async () => {
    const empty = await createRepo(server, `repo-${++repoCount}`);
    const { src } = await source();
    await assert.rejects(src.resolve(req(empty)), failsWith("git-ref-not-found"));
  });

  it("costs one ref advertisement and one ls-refs, and moves no objects", async () => {
    const { src } = await source();
    for (const ref of [{}, { branch: "release" }, { tag: "v1-annotated" }] as GitRef[]) {
      server.resetCounts();
      await src.resolve(req(repo, ref));
      assert.equal(server.count("info-refs", repo.url.split("/").pop()), 1);
      assert.equal(server.count("ls-refs"), 1);
      assert.equal(server.count("upload-pack"), 0);
    }
    server.resetCounts();
    await src.resolve(req(repo, { commit: first }));
    assert.equal(server.count("info-refs") + server.count("ls-refs") + server.count("upload-pack"), 0);
  });
});

describe("read: files at a commit", () => {
  let repo: GitRepo;

  before(async () => {
    repo = await repoWith({
      "root.yaml": policy("root"),
      "README.md": "# policies\n",
      "policies/a.yaml": policy("a"),
      "policies/b.yml": policy("b"),
      "policies/notes.txt": "not yaml\n",
      "policies/c.yaml.bak": "not yaml either\n",
      "policies/C.YAML": policy("upper-case extension: not read, as `casskeeper validate` does not"),
      "policies/nested/deep/d.yaml": policy("d"),
      "policies/.hidden.yaml": policy("hidden"),
      "policies/.github/workflows/ci.yml": "on: push\n",
      "policies/node_modules/x/e.yaml": policy("e"),
      "other/o.yaml": policy("o"),
      "policies-not/p.yaml": policy("p"),
    });
    await repo.write("tools/run.yaml", policy("exec"));
    await repo.git("update-index", "--add", "--chmod=+x", "tools/run.yaml");
    await repo.commit("an executable yaml");
    await repo.push();
  });

  // (case, path, expected files)
  const cases: [string, string, string[]][] = [
    [
      "root (empty path)",
      "",
      [
        "other/o.yaml",
        "policies-not/p.yaml",
        "policies/a.yaml",
        "policies/b.yml",
        "policies/nested/deep/d.yaml",
        "root.yaml",
        "tools/run.yaml",
      ],
    ],
    [
      "root (.)",
      ".",
      [
        "other/o.yaml",
        "policies-not/p.yaml",
        "policies/a.yaml",
        "policies/b.yml",
        "policies/nested/deep/d.yaml",
        "root.yaml",
        "tools/run.yaml",
      ],
    ],
    ["subdirectory", "policies", ["policies/a.yaml", "policies/b.yml", "policies/nested/deep/d.yaml"]],
    [
      "subdirectory with a trailing slash",
      "policies/",
      ["policies/a.yaml", "policies/b.yml", "policies/nested/deep/d.yaml"],
    ],
    [
      "subdirectory spelled ./",
      "./policies",
      ["policies/a.yaml", "policies/b.yml", "policies/nested/deep/d.yaml"],
    ],
    ["nested subdirectory", "policies/nested", ["policies/nested/deep/d.yaml"]],
    [
      "a hidden directory asked for by name",
      "policies/.github/workflows",
      ["policies/.github/workflows/ci.yml"],
    ],
  ];
  for (const [name, path, want] of cases) {
    it(name, async () => {
      const { src } = await source();
      const rev = await src.resolve(req(repo));
      const files = await src.read(req(repo, {}, path), rev);
      assert.deepEqual(paths(files), want);
      if (want.includes("policies/a.yaml")) assert.equal(text(files, "policies/a.yaml"), policy("a"));
    });
  }

  // (case, path, error code)
  const failures: [string, string, string][] = [
    ["a missing directory", "nope", "git-path-not-found"],
    ["a missing nested directory", "policies/nope", "git-path-not-found"],
    ["a file, not a directory", "root.yaml", "git-path-not-found"],
    ["a path going up", "../etc", "git-path-invalid"],
    ["a path going up in the middle", "policies/../../x", "git-path-invalid"],
    ["an absolute path", "/policies", "git-path-invalid"],
  ];
  for (const [name, path, code] of failures) {
    it(`fails: ${name}`, async () => {
      const { src } = await source();
      const rev = await src.resolve(req(repo));
      await assert.rejects(src.read(req(repo, {}, path), rev), failsWith(code));
    });
  }

  it("skips symlinks and submodules (they name content outside this commit's tree)", async () => {
    const r = await repoWith({ "real.yaml": policy("real") });
    await r.symlink("link.yaml", "real.yaml");
    await r.symlink("linkdir", ".");
    await r.git("update-index", "--add", "--cacheinfo", `160000,${await r.head()},sub.yaml`);
    await r.git("commit", "--quiet", "-m", "links");
    await r.push();
    const { src } = await source();
    const files = await src.read(req(r), await src.resolve(req(r)));
    assert.deepEqual(paths(files), ["real.yaml"]);
  });
});

describe("read: refs and commits", () => {
  let repo: GitRepo;
  let c1: string;

  before(async () => {
    repo = await repoWith({ "a.yaml": policy("a1") });
    c1 = await repo.head();
    await repo.tag("v1", { annotated: true });
    await repo.write("a.yaml", policy("a2"));
    await repo.write("b.yaml", policy("b"));
    await repo.commit("second");
    await repo.push();
  });

  // (case, ref, expected files and the content of a.yaml)
  const cases: [string, GitRef, string[], string][] = [
    ["the default branch", {}, ["a.yaml", "b.yaml"], policy("a2")],
    ["an annotated tag on an older commit", { tag: "v1" }, ["a.yaml"], policy("a1")],
  ];
  for (const [name, ref, want, a] of cases) {
    it(name, async () => {
      const { src } = await source();
      const files = await src.read(req(repo, ref), await src.resolve(req(repo, ref)));
      assert.deepEqual(paths(files), want);
      assert.equal(text(files, "a.yaml"), a);
    });
  }

  it("a pinned commit that no ref points at (reachable from main)", async () => {
    const { src } = await source();
    const ref = { commit: c1 };
    const rev = await src.resolve(req(repo, ref));
    assert.deepEqual(rev, { name: "", sha: c1 });
    const files = await src.read(req(repo, ref), rev);
    assert.deepEqual(paths(files), ["a.yaml"]);
    assert.equal(text(files, "a.yaml"), policy("a1"));
  });

  it("a pinned commit the repository does not have", async () => {
    const { src } = await source();
    const ref = { commit: "0123456789abcdef0123456789abcdef01234567" };
    await assert.rejects(
      src.read(req(repo, ref), await src.resolve(req(repo, ref))),
      failsWith("git-commit-not-found"),
    );
  });

  it("reads the resolved commit even when the branch moved on before the read", async () => {
    const r = await repoWith({ "a.yaml": policy("old") });
    const { src } = await source();
    const rev = await src.resolve(req(r));
    await r.write("a.yaml", policy("new"));
    await r.commit("moved");
    await r.push();
    const files = await src.read(req(r), rev);
    assert.equal(text(files, "a.yaml"), policy("old"));
  });

  it("reads a revision it has already fetched without a request", async () => {
    const { src } = await source();
    const rev = await src.resolve(req(repo));
    const first = await src.read(req(repo), rev);
    server.resetCounts();
    const again = await src.read(req(repo), rev);
    assert.deepEqual(again, first);
    assert.equal(server.count("info-refs") + server.count("upload-pack"), 0);
  });
});

describe("read: polling a branch", () => {
  it("a new commit is fetched incrementally and seen", async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++)
      files[`p/${i}.yaml`] = `${policy(`p${i}`)}spec:\n  n: "${"x".repeat(200)}${i}"\n`;
    const repo = await repoWith(files);
    const { src, cacheDir } = await source();
    const rev1 = await src.resolve(req(repo));
    assert.equal((await src.read(req(repo), rev1)).length, 200);

    await repo.write("p/7.yaml", policy("changed"));
    await repo.commit("change one file");
    await repo.push();
    server.resetCounts();
    const rev2 = await src.resolve(req(repo));
    assert.notEqual(rev2.sha, rev1.sha);
    const read2 = await src.read(req(repo), rev2);
    assert.equal(text(read2, "p/7.yaml"), policy("changed"));
    assert.equal(read2.length, 200);
    assert.equal(server.count("upload-pack"), 1);
    // The second pack holds the change, not the whole tree again.
    const [a, b] = await packs(cacheDir).then((p) => p.map((x) => x.size).sort((x, y) => y - x));
    assert.ok(a !== undefined && b !== undefined && b * 10 < a, `packs ${a} and ${b}`);
  });

  // (case, how the branch is rewritten)
  const rewrites: [string, (repo: GitRepo, shas: string[]) => Promise<void>][] = [
    ["force-push back to an older commit", (repo, shas) => repo.forcePush(shas[0] as string)],
    [
      "force-push to a new commit on an older base",
      async (repo, shas) => {
        await repo.git("reset", "--quiet", "--hard", shas[0] as string);
        await repo.write("diverged.yaml", policy("diverged"));
        await repo.commit("diverge");
        await repo.forcePush(await repo.head());
      },
    ],
  ];
  for (const [name, rewrite] of rewrites) {
    it(name, async () => {
      const repo = await repoWith({ "a.yaml": policy("a") });
      const shas = [await repo.head()];
      for (const f of ["b", "c"]) {
        await repo.write(`${f}.yaml`, policy(f));
        shas.push(await repo.commit(f));
      }
      await repo.push();
      const { src } = await source();
      assert.deepEqual(paths(await src.read(req(repo), await src.resolve(req(repo)))), [
        "a.yaml",
        "b.yaml",
        "c.yaml",
      ]);
      await rewrite(repo, shas);
      const rev = await src.resolve(req(repo));
      assert.equal(rev.sha, await repo.head());
      const files = await src.read(req(repo), rev);
      const want = (await repo.git("ls-tree", "-r", "--name-only", "HEAD")).split("\n").sort();
      assert.deepEqual(paths(files), want);
      assert.equal(text(files, "a.yaml"), policy("a"));
    });
  }

  it("concurrent reads of one source fetch once", async () => {
    const repo = await repoWith({ "a.yaml": policy("a"), "b/c.yaml": policy("c") });
    const { src } = await source();
    const rev = await src.resolve(req(repo));
    server.resetCounts();
    const results = await Promise.all([1, 2, 3].map(() => src.read(req(repo), rev)));
    assert.equal(server.count("upload-pack"), 1);
    for (const r of results) assert.deepEqual(paths(r), ["a.yaml", "b/c.yaml"]);
  });

  it("a corrupt cache is rebuilt from the remote", async () => {
    const repo = await repoWith({ "a.yaml": policy("a") });
    const { src, cacheDir } = await source();
    const rev = await src.resolve(req(repo));
    await src.read(req(repo), rev);
    const [gitdir] = await readdir(cacheDir);
    const packDir = join(cacheDir, gitdir as string, "objects", "pack");
    for (const f of await readdir(packDir)) await truncate(join(packDir, f), 10);
    server.resetCounts();
    assert.deepEqual(paths(await src.read(req(repo), rev)), ["a.yaml"]);
    assert.equal(server.count("upload-pack"), 1);
  });

  it("a gitdir that collected maxPacks packs is rebuilt (one fresh pack)", async () => {
    const repo = await repoWith({ "a.yaml": policy("a") });
    const { src, cacheDir } = await source({ maxPacks: 3 });
    for (let i = 0; i < 4; i++) {
      await repo.write("a.yaml", policy(`a${i}`));
      await repo.commit(`c${i}`);
      await repo.push();
      const files = await src.read(req(repo), await src.resolve(req(repo)));
      assert.equal(text(files, "a.yaml"), policy(`a${i}`));
    }
    // Packs after reads 1..4: 1, 2, 3, then the 4th read found 3 and started over.
    assert.equal((await packs(cacheDir)).length, 1);
  });
});

describe("read: bounds", () => {
  // (case, options, files, expected outcome: paths and tooLarge, or an error code)
  const cases: [string, Partial<GitSourceOptions>, Record<string, string>, string[] | string][] = [
    ["a file at the limit is read", { maxFileBytes: 100 }, { "a.yaml": "x".repeat(100) }, ["a.yaml"]],
    [
      "a file over the limit is marked too large",
      { maxFileBytes: 100 },
      { "a.yaml": "x".repeat(101), "b.yaml": "b" },
      ["a.yaml!101", "b.yaml"],
    ],
    [
      "as many files as allowed",
      { maxFiles: 2 },
      { "a.yaml": "a", "b.yaml": "b", "c.txt": "c" },
      ["a.yaml", "b.yaml"],
    ],
    [
      "more files than allowed",
      { maxFiles: 2 },
      { "a.yaml": "a", "b.yaml": "b", "c.yaml": "c" },
      "git-too-many-files",
    ],
    [
      "more bytes than allowed in all",
      { maxTotalBytes: 150 },
      { "a.yaml": "x".repeat(100), "b.yaml": "y".repeat(100) },
      "git-too-large",
    ],
    [
      "a response larger than allowed",
      { maxResponseBytes: 2048 },
      { "a.yaml": Array.from({ length: 500 }, (_, i) => `k${i}: ${i * 7919}`).join("\n") },
      "git-too-large",
    ],
  ];
  for (const [name, opts, files, want] of cases) {
    it(name, async () => {
      const repo = await repoWith(files);
      const { src } = await source(opts);
      const rev = await src.resolve(req(repo));
      if (typeof want === "string") {
        await assert.rejects(src.read(req(repo), rev), failsWith(want));
        return;
      }
      const got = await src.read(req(repo), rev);
      assert.deepEqual(
        got.map((f) => (f.tooLarge === undefined ? f.path : `${f.path}!${f.tooLarge}`)),
        want,
      );
      for (const f of got) if (f.tooLarge !== undefined) assert.equal(f.bytes.length, 0);
    });
  }
});

describe("credentials and failures", () => {
  let repo: GitRepo;

  before(async () => {
    repo = await repoWith({ "a.yaml": policy("a") }, { on: authServer });
  });

  const plainUrl = () => repo.url;
  const urlWithToken = () => repo.url.replace("http://", `http://x-access-token:${TOKEN}@`);

  // (case, url, auth, expected outcome: "ok" or an error code)
  const cases: [string, () => string, FetchRequest["auth"], string][] = [
    ["token", plainUrl, { token: TOKEN }, "ok"],
    ["username and password", plainUrl, { username: "x-access-token", password: TOKEN }, "ok"],
    ["credentials in the URL", urlWithToken, undefined, "ok"],
    ["wrong token", plainUrl, { token: "wrong-token-value" }, "git-auth"],
    ["wrong password", plainUrl, { username: "x-access-token", password: PASSWORD }, "git-auth"],
    ["no credentials", plainUrl, undefined, "git-auth"],
  ];
  for (const [name, url, auth, want] of cases) {
    it(`resolve and read with ${name}`, async () => {
      const { src, cacheDir } = await source();
      const r: FetchRequest = { url: url(), ref: {}, path: "", auth };
      if (want === "ok") {
        const rev = await src.resolve(r);
        assert.deepEqual(paths(await src.read(r, rev)), ["a.yaml"]);
        // Nothing on disk holds the credential.
        assert.deepEqual(await filesContaining(cacheDir, TOKEN), []);
        return;
      }
      const secrets = [TOKEN, PASSWORD, "wrong-token-value"];
      await assert.rejects(src.resolve(r), failsWith(want, ...secrets));
      await assert.rejects(
        src.read(r, { name: "main", sha: await repo.head() }),
        failsWith(want, ...secrets),
      );
    });
  }

  it("a credential revoked between two polls fails with git-auth, and works again once restored", async () => {
    const other = await repoWith({ "a.yaml": policy("a") }, { on: authServer });
    const { src } = await source();
    const r: FetchRequest = { url: other.url, ref: {}, path: "", auth: { token: TOKEN } };
    const rev = await src.resolve(r);
    authServer.setAuth({ username: "x-access-token", password: "rotated" });
    try {
      await assert.rejects(src.resolve(r), failsWith("git-auth", TOKEN));
    } finally {
      authServer.setAuth({ username: "x-access-token", password: TOKEN });
    }
    assert.deepEqual(await src.resolve(r), rev);
  });

  it("messages name the URL without userinfo or query", async () => {
    const { src } = await source();
    const url = `${server.url("does-not-exist").replace("http://", `http://me:${TOKEN}@`)}?private_token=${PASSWORD}`;
    await assert.rejects(src.resolve({ url, ref: {}, path: "" }), (e: unknown) => {
      assert.ok(e instanceof CasskeeperError);
      assert.equal(e.code, "git-repo-not-found");
      assert.ok(e.message.includes(server.url("does-not-exist")), e.message);
      assert.ok(!e.message.includes(TOKEN) && !e.message.includes(PASSWORD) && !e.message.includes("me@"));
      return true;
    });
  });

  it("a missing repository", async () => {
    const { src } = await source();
    const r = req(server.url("does-not-exist"));
    await assert.rejects(src.resolve(r), failsWith("git-repo-not-found"));
    await assert.rejects(
      src.read(r, { name: "main", sha: "0123456789abcdef0123456789abcdef01234567" }),
      failsWith("git-repo-not-found"),
    );
  });

  it("a server that is down (closed port)", async () => {
    const closed = await startGitServer();
    const url = closed.url("gone");
    await closed.close();
    const { src } = await source();
    await assert.rejects(src.resolve(req(url)), failsWith("git-unreachable"));
    await assert.rejects(
      src.read(req(url), { name: "main", sha: "0123456789abcdef0123456789abcdef01234567" }),
      failsWith("git-unreachable"),
    );
  });

  // (case, what the server writes before it goes silent)
  const stalls: [string, string][] = [
    ["a server that never answers", ""],
    [
      "a server that stops in the middle of its answer",
      "HTTP/1.1 200 OK\r\ncontent-type: application/x-git-upload-pack-advertisement\r\n" +
        "transfer-encoding: chunked\r\n\r\n1e\r\n001e# service=git-upload-pack\n\r\n",
    ],
  ];
  for (const [name, prefix] of stalls) {
    it(`${name} times out`, async () => {
      const sockets = new Set<Socket>();
      const silent = createServer((s) => {
        sockets.add(s);
        s.on("error", () => {});
        s.once("data", () => s.write(prefix));
      });
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const port = (silent.address() as { port: number }).port;
      try {
        const { src } = await source({ timeoutMs: 300 });
        await assert.rejects(src.resolve(req(`http://127.0.0.1:${port}/x.git`)), failsWith("git-timeout"));
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  }

  it("a cancelled request stops with git-aborted", async () => {
    const { src } = await source();
    const r: FetchRequest = { ...req(repo), auth: { token: TOKEN }, signal: AbortSignal.abort() };
    await assert.rejects(src.resolve(r), failsWith("git-aborted"));
    await assert.rejects(src.read(r, { name: "main", sha: await repo.head() }), failsWith("git-aborted"));
  });

  // (case, url)
  const badUrls: [string, string][] = [
    ["ssh", "ssh://git@example.com/org/repo.git"],
    ["scp-like", "git@example.com:org/repo.git"],
    ["git protocol", "git://example.com/org/repo.git"],
    ["not a URL", "policies"],
  ];
  for (const [name, url] of badUrls) {
    it(`refuses a ${name} URL`, async () => {
      const { src } = await source();
      await assert.rejects(src.resolve(req(url)), failsWith("git-url-invalid"));
    });
  }
});
