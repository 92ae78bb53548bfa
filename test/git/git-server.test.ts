// The test Git server itself: what the Git sync's tests rely on (Basic auth with a 401 challenge, the CGI
// environment git-http-backend needs for protocol v2 and gzip bodies, per-service request counts, pushes and
// clones with the git CLI, nothing left behind).

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { createRepo, type GitRepo, type GitServer, startGitServer } from "../support/git-server.ts";

const exec = promisify(execFile);
const AUTH = { username: "alice", password: "s3cret-pass" };

function get(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? "GET", headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`;

describe("git server", () => {
  let server: GitServer;
  let repo: GitRepo;
  let scratch: string;

  before(async () => {
    server = await startGitServer({ auth: AUTH });
    repo = await createRepo(server, "policies");
    await repo.write("a/b.yaml", "kind: X\n");
    await repo.commit("one");
    await repo.push();
    scratch = await mkdtemp(join(tmpdir(), "casskeeper-git-server-test-"));
  });

  after(async () => {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  });

  // (case, Authorization header, expected status)
  const cases: [string, string | undefined, number][] = [
    ["no credentials", undefined, 401],
    ["wrong password", basic(AUTH.username, "nope"), 401],
    ["wrong user", basic("bob", AUTH.password), 401],
    ["not Basic", `Bearer ${AUTH.password}`, 401],
    ["right credentials", basic(AUTH.username, AUTH.password), 200],
  ];
  for (const [name, authorization, status] of cases) {
    it(`info/refs with ${name}: ${status}`, async () => {
      const res = await get(`${repo.url}/info/refs?service=git-upload-pack`, {
        headers: authorization === undefined ? {} : { authorization },
      });
      assert.equal(res.status, status);
      if (status === 401) assert.match(String(res.headers["www-authenticate"]), /^Basic realm="/);
      else assert.equal(res.headers["content-type"], "application/x-git-upload-pack-advertisement");
    });
  }

  it("a missing repository is a 404 from git-http-backend", async () => {
    const res = await get(`${server.url("missing")}/info/refs?service=git-upload-pack`, {
      headers: { authorization: basic(AUTH.username, AUTH.password) },
    });
    assert.equal(res.status, 404);
  });

  it("passes Git-Protocol and a gzip body through (a protocol v2 ls-refs), counted as ls-refs", async () => {
    const pkt = (s: string) => `${(s.length + 4).toString(16).padStart(4, "0")}${s}`;
    const body = gzipSync(
      Buffer.from(`${pkt("command=ls-refs\n")}0001${pkt("ref-prefix refs/heads/\n")}0000`),
    );
    server.resetCounts();
    const res = await get(`${repo.url}/git-upload-pack`, {
      method: "POST",
      body,
      headers: {
        authorization: basic(AUTH.username, AUTH.password),
        "content-type": "application/x-git-upload-pack-request",
        "content-encoding": "gzip",
        "git-protocol": "version=2",
      },
    });
    assert.equal(res.status, 200);
    assert.match(res.body.toString(), new RegExp(`${await repo.head()} refs/heads/main`));
    assert.equal(server.count("ls-refs", "policies"), 1);
    assert.equal(server.count("upload-pack"), 0);
  });

  it("the git CLI clones what was pushed; requests are counted per service and repository", async () => {
    const other = await createRepo(server, "other");
    await other.write("x.yaml", "x: 1\n");
    await other.commit("x");
    server.resetCounts();
    await other.push();
    assert.equal(server.count("receive-pack", "other"), 1);
    assert.equal(server.count("receive-pack", "policies"), 0);

    const dir = join(scratch, "clone");
    await exec(
      "git",
      [
        "-c",
        `http.extraHeader=Authorization: ${basic(AUTH.username, AUTH.password)}`,
        "clone",
        "--quiet",
        repo.url,
        dir,
      ],
      { env: { PATH: process.env.PATH, HOME: scratch, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" } },
    );
    assert.equal(await readFile(join(dir, "a/b.yaml"), "utf8"), "kind: X\n");
    assert.ok(server.count("info-refs", "policies") >= 1);
    assert.ok(server.count("upload-pack", "policies") >= 1);
    assert.equal(server.count("upload-pack", "other"), 0);
  });

  it("force-push and tags land on the server", async () => {
    const r = await createRepo(server, "rewrite");
    await r.write("a.yaml", "a\n");
    const first = await r.commit("one");
    await r.write("b.yaml", "b\n");
    await r.commit("two");
    await r.push();
    await r.tag("v1", { annotated: true });
    await r.forcePush(first);
    const bare = join(server.root, "rewrite.git");
    const env = { PATH: process.env.PATH, HOME: scratch, GIT_CONFIG_NOSYSTEM: "1" };
    assert.equal((await exec("git", ["rev-parse", "main"], { cwd: bare, env })).stdout.trim(), first);
    assert.equal((await exec("git", ["cat-file", "-t", "v1"], { cwd: bare, env })).stdout.trim(), "tag");
  });

  it("setAuth changes the credential at once, and removes it", async () => {
    const url = `${repo.url}/info/refs?service=git-upload-pack`;
    server.setAuth({ username: "carol", password: "other" });
    try {
      assert.equal(
        (await get(url, { headers: { authorization: basic(AUTH.username, AUTH.password) } })).status,
        401,
      );
      server.setAuth(undefined);
      assert.equal((await get(url)).status, 200);
    } finally {
      server.setAuth(AUTH);
    }
  });
});

it("close() removes the repositories and the working clones", async () => {
  const s = await startGitServer();
  const r = await createRepo(s, "x");
  await r.write("a.yaml", "a: 1\n");
  await r.commit("one");
  await r.push();
  await s.close();
  await assert.rejects(stat(s.root));
  await assert.rejects(stat(r.dir));
});
