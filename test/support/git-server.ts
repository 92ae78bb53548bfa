// A real Git server for tests: node:http on 127.0.0.1 (port 0) running `git http-backend` as a CGI per request
// (DESIGN.md "Real components": the repositories are real bare repositories, pushed to with the git CLI and
// fetched over smart HTTP exactly as a Git host serves them, protocol v0/v1 and v2).
//
// WHAT IT DOES:
// - bare repositories under a temp root, `http.receivepack=true`, so the git CLI pushes over HTTP;
// - optional HTTP Basic auth on every request (401 with `WWW-Authenticate: Basic realm=…` when the credential is
//   missing or wrong), changeable at runtime with `setAuth()` (an auth failure in the middle of a test);
// - counts requests per service and repository: `info-refs` (GET …/info/refs), `ls-refs` (a protocol v2 POST to
//   git-upload-pack whose command is ls-refs: listing refs, no objects), `upload-pack` (every other POST to
//   git-upload-pack: a fetch or a v0 negotiation — objects may move), `receive-pack` (pushes);
// - `createRepo()`: a bare repository on the server plus a working clone in a temp dir driven with the git CLI
//   (HOME is a temp dir, no system or global config is read, no prompt, no GPG signing), with helpers to write,
//   commit, push, force-push and tag.
//
// WHAT IT DOES NOT DO: TLS, redirects, dumb HTTP, SSH, rate limits, the 404-for-private-repos of GitHub (a
// missing repository is a plain 404 here, as git-http-backend answers), hooks and protected branches.

import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";

export type GitService = "info-refs" | "ls-refs" | "upload-pack" | "receive-pack";

export interface BasicAuth {
  readonly username: string;
  readonly password: string;
}

export interface GitServer {
  /** The smart-HTTP URL of repository `repo` (`http://127.0.0.1:<port>/<repo>.git`). */
  url(repo: string): string;
  /** Where the bare repositories are (`<root>/<repo>.git`). */
  readonly root: string;
  /** The credential the server asks for now (undefined: none). */
  readonly auth: BasicAuth | undefined;
  /** Requests of one service since the start or the last `resetCounts()`, for one repository or all. */
  count(service: GitService, repo?: string): number;
  resetCounts(): void;
  setAuth(auth: BasicAuth | undefined): void;
  /** Stops listening, ends open connections and CGI processes, removes the temp root. */
  close(): Promise<void>;
}

export interface GitRepo {
  /** The working clone. */
  readonly dir: string;
  /** The server URL (no credentials in it). */
  readonly url: string;
  /** Writes a file in the working clone (parent directories made). */
  write(path: string, content: string): Promise<void>;
  /** Writes a symbolic link in the working clone. */
  symlink(path: string, target: string): Promise<void>;
  /** Removes a file or a directory from the working clone. */
  remove(path: string): Promise<void>;
  /** `git add -A` and commit (an empty commit when nothing changed); returns the new commit's SHA. */
  commit(message: string): Promise<string>;
  /** Pushes the current branch to the server. */
  push(): Promise<void>;
  /** Resets the current branch to `sha` (`reset --hard`) and pushes it with `--force`. */
  forcePush(sha: string): Promise<void>;
  /** Tags HEAD (lightweight, or annotated) and pushes the tag. */
  tag(name: string, opts?: { annotated?: boolean }): Promise<void>;
  /** The SHA of HEAD in the working clone. */
  head(): Promise<string>;
  /** Runs any git command in the working clone (same environment); returns stdout without the final newline. */
  git(...args: string[]): Promise<string>;
}

const MAX_REQUEST_BYTES = 512 * 1024 * 1024;

export async function startGitServer(opts: { auth?: BasicAuth } = {}): Promise<GitServer> {
  const root = await mkdtemp(join(tmpdir(), "casskeeper-git-server-"));
  const home = join(root, ".home");
  await mkdir(home);
  let auth = opts.auth;
  const counts = new Map<string, number>();
  const children = new Set<ChildProcess>();

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(e));
      } else res.destroy();
    });
  });

  function bump(service: GitService, repo: string): void {
    counts.set(`${service} ${repo}`, (counts.get(`${service} ${repo}`) ?? 0) + 1);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (auth !== undefined && !authorized(req.headers.authorization, auth)) {
      req.resume();
      res.writeHead(401, {
        "www-authenticate": 'Basic realm="casskeeper-test"',
        "content-type": "text/plain",
      });
      res.end("authentication required\n");
      return;
    }
    const body = await readBody(req);
    const route = classify(req.method ?? "GET", url, req.headers["content-encoding"], body);
    if (route !== undefined) bump(route.service, route.repo);
    await runBackend(req, res, url, body);
  }

  function runBackend(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? "GET",
      CONTENT_LENGTH: String(body.length),
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    };
    if (req.headers["content-type"] !== undefined) env.CONTENT_TYPE = req.headers["content-type"];
    // CGI hands every request header over as HTTP_<NAME>: git-http-backend reads HTTP_CONTENT_ENCODING (the git
    // CLI gzips large request bodies) and HTTP_GIT_PROTOCOL (`version=2`).
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value !== "string" || name === "authorization" || name === "content-type") continue;
      if (name === "content-length") continue;
      env[`HTTP_${name.toUpperCase().replaceAll("-", "_")}`] = value;
    }
    if (auth !== undefined) env.REMOTE_USER = auth.username;
    return new Promise((resolve) => {
      const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
      children.add(child);
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        if (stderr.length < 8192) stderr += d;
      });
      child.stdin.on("error", () => {});
      child.stdin.end(body);
      res.on("close", () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      });
      let head = Buffer.alloc(0);
      let headersDone = false;
      child.stdout.on("data", (chunk: Buffer) => {
        if (headersDone) {
          res.write(chunk);
          return;
        }
        head = Buffer.concat([head, chunk]);
        const parsed = parseCgiHead(head);
        if (parsed === undefined) return;
        headersDone = true;
        res.writeHead(parsed.status, parsed.headers);
        if (parsed.rest.length > 0) res.write(parsed.rest);
      });
      child.on("close", (code) => {
        children.delete(child);
        if (!headersDone) {
          if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
          res.end(`git http-backend exited ${code}: ${stderr}`);
        } else res.end();
        resolve();
      });
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    root,
    get auth() {
      return auth;
    },
    url: (repo) => `http://127.0.0.1:${port}/${repoName(repo)}.git`,
    count(service, repo) {
      if (repo !== undefined) return counts.get(`${service} ${repoName(repo)}`) ?? 0;
      let n = 0;
      for (const [k, v] of counts) if (k.startsWith(`${service} `)) n += v;
      return n;
    },
    resetCounts: () => counts.clear(),
    setAuth(a) {
      auth = a;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all(
        [...children].map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once("close", () => resolve());
              c.kill("SIGKILL");
            }),
        ),
      );
      await closed;
      await rm(root, { recursive: true, force: true });
    },
  };
}

function repoName(repo: string): string {
  return repo.endsWith(".git") ? repo.slice(0, -4) : repo;
}

function authorized(header: string | undefined, auth: BasicAuth): boolean {
  if (header === undefined || !header.startsWith("Basic ")) return false;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  return decoded === `${auth.username}:${auth.password}`;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_REQUEST_BYTES) throw new Error("request body too large");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function classify(
  method: string,
  url: URL,
  encoding: string | undefined,
  body: Buffer,
): { service: GitService; repo: string } | undefined {
  const m = /^\/(.+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/.exec(url.pathname);
  if (m === null) return undefined;
  const repo = m[1] as string;
  if (m[2] === "info/refs") return method === "GET" ? { service: "info-refs", repo } : undefined;
  if (m[2] === "git-receive-pack") return { service: "receive-pack", repo };
  // Protocol v2 starts the request with a `command=…` pkt-line; ls-refs moves no objects.
  let text: Buffer = body;
  try {
    if (encoding === "gzip") text = gunzipSync(body);
  } catch {
    // Not gzip after all: git-http-backend will say so.
  }
  const isLsRefs = text.subarray(0, 32).toString("latin1").startsWith("0014command=ls-refs");
  return { service: isLsRefs ? "ls-refs" : "upload-pack", repo };
}

/** Splits a CGI response into its status, headers and the start of the body, once the blank line has come. */
function parseCgiHead(
  buf: Buffer,
): { status: number; headers: Record<string, string>; rest: Buffer } | undefined {
  let end = buf.indexOf("\r\n\r\n");
  let sep = 4;
  const lf = buf.indexOf("\n\n");
  if (lf !== -1 && (end === -1 || lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end === -1) return undefined;
  const headers: Record<string, string> = {};
  let status = 200;
  for (const line of buf.subarray(0, end).toString("latin1").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    if (name === "status") status = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers, rest: buf.subarray(end + sep) };
}

// ----------------------------------------------------------------------------------------------------------
// Working clones

/** Runs git with a private HOME, no system/global config, no prompts and no signing. */
function runGit(args: readonly string[], opts: { cwd?: string; home: string }): Promise<string> {
  const config = [
    "-c",
    "user.name=casskeeper test",
    "-c",
    "user.email=test@casskeeper.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "tag.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "advice.detachedHead=false",
  ];
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      [...config, ...args],
      {
        cwd: opts.cwd,
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH,
          HOME: opts.home,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_TERMINAL_PROMPT: "0",
          GIT_ASKPASS: "",
          SSH_ASKPASS: "",
          LC_ALL: "C",
        },
      },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`git ${args.join(" ")}: ${err.message}\n${stderr}`));
        else resolve(stdout.replace(/\n$/, ""));
      },
    );
  });
}

/**
 * Makes bare repository `name` on the server and an empty working clone of it (branch `opts.branch`, default
 * `main`) under the server's root, so the server's `close()` removes both.
 */
export async function createRepo(
  server: GitServer,
  name: string,
  opts: { branch?: string } = {},
): Promise<GitRepo> {
  const branch = opts.branch ?? "main";
  // Everything lives under the server's root, so `close()` removes it all.
  const home = join(server.root, ".home");
  const bare = join(server.root, `${repoName(name)}.git`);
  await runGit(["init", "--quiet", "--bare", "-b", branch, bare], { home });
  await runGit(["config", "http.receivepack", "true"], { cwd: bare, home });
  const dir = await mkdtemp(join(server.root, ".work-"));
  const url = server.url(name);
  await runGit(["init", "--quiet", "-b", branch, dir], { home });
  await runGit(["remote", "add", "origin", url], { cwd: dir, home });

  const git = (...args: string[]) => runGit(args, { cwd: dir, home });
  // The credential goes in a header for this one command (never into a config file or the remote URL).
  const remote = (...args: string[]) => {
    const a = server.auth;
    if (a === undefined) return git(...args);
    const basic = Buffer.from(`${a.username}:${a.password}`).toString("base64");
    return git("-c", `http.extraHeader=Authorization: Basic ${basic}`, ...args);
  };
  const within = (path: string) => {
    if (path.startsWith("/") || path.split("/").includes(".."))
      throw new Error(`path outside the clone: ${path}`);
    return join(dir, path);
  };
  return {
    dir,
    url,
    async write(path, content) {
      await mkdir(dirname(within(path)), { recursive: true });
      await writeFile(within(path), content);
    },
    async symlink(path, target) {
      await mkdir(dirname(within(path)), { recursive: true });
      await symlink(target, within(path));
    },
    async remove(path) {
      await rm(within(path), { recursive: true, force: true });
    },
    async commit(message) {
      await git("add", "-A");
      await git("commit", "--quiet", "--allow-empty", "-m", message);
      return git("rev-parse", "HEAD");
    },
    async push() {
      await remote("push", "--quiet", "origin", "HEAD");
    },
    async forcePush(sha) {
      await git("reset", "--quiet", "--hard", sha);
      await remote("push", "--quiet", "--force", "origin", "HEAD");
    },
    async tag(tagName, tagOpts = {}) {
      if (tagOpts.annotated === true) await git("tag", "-a", "-m", `tag ${tagName}`, tagName);
      else await git("tag", tagName);
      await remote("push", "--quiet", "origin", `refs/tags/${tagName}`);
    },
    head: () => git("rev-parse", "HEAD"),
    git,
  };
}
