// The Git side of a sync with isomorphic-git over smart HTTP(S) (conventions.md §4): `resolve` lists the remote
// refs once (protocol v2 `ls-refs` with a prefix; no objects move), `read` fetches one commit shallow (depth 1,
// one ref, no tags, no checkout) into a bare gitdir kept per source under `cacheDir`, and reads the tree at that
// commit straight from the object store.
//
// Contracts and the reasons for them:
// - One gitdir per (URL without credentials, ref): sha256 of both; the URL, the credentials and the Authorization
//   header are never written to disk (the remote's URL is passed on every call, not stored in the gitdir config).
// - Reads of one gitdir run one at a time (isomorphic-git must not run two operations on one gitdir); a second
//   read waits and then finds the commit already there, so it fetches nothing.
// - A commit already in the gitdir is read without any network call (a commit and its tree arrive in one pack,
//   written only once it is complete). Otherwise the fetch *wants that SHA*, not the branch tip: the revision
//   `resolve` returned is the one read even if the branch moved meanwhile. Smart HTTP lets a client want any
//   commit reachable from an advertised ref (upload-pack's stateless-RPC rule), which is what GitHub, GitLab,
//   Gitea and git-http-backend do; a server that refuses it for a pinned commit gets one full fetch of the
//   branch (or of HEAD) as a fallback. isomorphic-git reports a refused want as success with no pack, so the
//   commit's presence is checked after every fetch ("git-commit-not-found").
// - Fetches are incremental: the last fetched commit is kept in `refs/casskeeper/fetched` and sent as a `have`,
//   and the fetch asks for a thin pack (see `withThinPack`: without it a depth-1 fetch resends the whole tree),
//   so a one-file change fetches a pack of a few hundred bytes. A force-push, to an older commit or a rewritten
//   one, works the same way: the server leaves out every object of the haves' trees and sends the rest.
// - `resolve` of a pinned commit asks nothing of the remote: `read` fetches it or says it is not there.
// - isomorphic-git never repacks: each fetch adds a pack it keeps reading (and the whole pack file is read per
//   lookup, isomorphic-git `readObjectPacked`). After `maxPacks` packs (default 50), or when the packs pass
//   `maxTotalBytes`, the gitdir is deleted and the next fetch starts fresh (one depth-1 pack again).
// - A fetch or read that fails inside isomorphic-git for any reason other than the network, HTTP or a bound
//   (a missing object, a broken pack or index, a corrupt gitdir) deletes the gitdir and retries once from scratch.
// - Files: every `*.yaml`/`*.yml` blob under `path` (recursively), hidden entries (`.github/`, `.x.yaml`) and
//   `node_modules` skipped, as `casskeeper validate` walks a directory. Symlinks (mode 120000) and submodules
//   (gitlinks, mode 160000) are skipped silently: they name content outside this tree at this commit. A file
//   larger than `maxFileBytes` comes back with empty bytes and `tooLarge` set to its size, so the loader reports
//   it at its path; more than `maxFiles` files → "git-too-many-files"; more than `maxTotalBytes` → "git-too-large".
// - Bounds on the wire: each operation (resolve; each fetch) has `timeoutMs` (default 60 s, Flux's default
//   `spec.timeout`) and honours `req.signal`; a response body over `maxResponseBytes` (default 512 MiB; isomorphic-git
//   holds a whole pack in memory, isomorphic-git#1205/#1439) is cut off with "git-too-large".
// - Credentials: `{token}` is sent as HTTP Basic `x-access-token:<token>` (GitHub PATs and App tokens, Gitea,
//   GitLab PATs accept any user name with a token as password), `{username, password}` as Basic; both up front, so
//   there is no 401 round trip. Credentials in the URL's userinfo are used when `auth` is absent. A 401/403 is
//   final ("git-auth", `onAuth` cancels instead of retrying). No message names a credential: URLs in messages lose
//   their userinfo and query, and the text of underlying errors is scrubbed of the secrets before it is quoted.
// - A fresh isomorphic-git `cache` object per read (docs/cache.md: it is never cleared, dropping it frees it).
//
// Error codes (CasskeeperError stage "sync"): git-url-invalid, git-ref-invalid, git-path-invalid,
// git-ref-not-found, git-commit-not-found, git-path-not-found, git-auth, git-repo-not-found, git-http-error,
// git-unreachable, git-timeout, git-aborted, git-too-large, git-too-many-files, git-read-failed.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import git, { type GitHttpRequest, type GitHttpResponse, type HttpClient } from "isomorphic-git";
import nodeHttp from "isomorphic-git/http/node";
import { CasskeeperError } from "../core/errors.ts";
import type { FetchRequest, GitAuth, GitRef, GitSource, Revision, SourceFile } from "./model.ts";

export interface GitSourceOptions {
  /** Where the per-source gitdirs live (an emptyDir in the cluster; lost on restart, rebuilt by one fetch). */
  readonly cacheDir: string;
  /** Per network operation (resolve, each fetch). Default 60 s. */
  readonly timeoutMs?: number;
  /** YAML files under the path. Default 20,000. */
  readonly maxFiles?: number;
  /** Sum of the YAML files' sizes, and of the gitdir's packs before it is rebuilt. Default 256 MiB. */
  readonly maxTotalBytes?: number;
  /** One file; a larger one is returned with `tooLarge`. Default 1 MiB (the loader's own limit). */
  readonly maxFileBytes?: number;
  /** One HTTP response body (a pack). Default 512 MiB. */
  readonly maxResponseBytes?: number;
  /** Packs a gitdir may collect before it is rebuilt from scratch. Default 50. */
  readonly maxPacks?: number;
}

const DEFAULTS = {
  timeoutMs: 60_000,
  maxFiles: 20_000,
  maxTotalBytes: 256 * 1024 * 1024,
  maxFileBytes: 1024 * 1024,
  maxResponseBytes: 512 * 1024 * 1024,
  maxPacks: 50,
};

/** Tree entries visited under the path (YAML or not) before the read gives up: a bound on the walk itself. */
const MAX_TREE_ENTRIES = 1_000_000;
/** Where the last fetched commit is kept, so the next fetch can name it as a `have`. */
const FETCHED_REF = "refs/casskeeper/fetched";
const SHA_RE = /^[0-9a-f]{40}$/;

/** Gitdirs with a read in progress (module-wide: two sources on one cacheDir share the lock). */
const inFlight = new Map<string, Promise<unknown>>();

interface Remote {
  /** The URL to fetch from, also the one messages name: no userinfo (credentials travel in a header), no query. */
  readonly url: string;
  readonly display: string;
  readonly auth: GitAuth | undefined;
  /** Strings that must never appear in a message (the credentials, raw and encoded). */
  readonly secrets: readonly string[];
}

type Want =
  | { readonly kind: "commit"; readonly sha: string; readonly branch: string | undefined }
  | { readonly kind: "tag"; readonly name: string }
  | { readonly kind: "branch"; readonly name: string }
  | { readonly kind: "head" };

export function createGitSource(opts: GitSourceOptions): GitSource {
  const o = { ...DEFAULTS, ...definedOnly(opts), cacheDir: opts.cacheDir };

  async function resolve(req: FetchRequest): Promise<Revision> {
    const remote = parseRemote(req);
    const want = parseRef(req.ref);
    // A pinned commit is what it says: nothing to ask the remote (read fetches it, or says it is not there).
    if (want.kind === "commit") return { name: want.branch ?? "", sha: want.sha };
    try {
      return await listRef(remote, want, req.signal);
    } catch (e) {
      throw mapError(e, remote, o.timeoutMs, req.signal);
    }
  }

  function listRef(remote: Remote, want: Exclude<Want, { kind: "commit" }>, signal: AbortSignal | undefined) {
    return withOperation(remote, signal, o, async (http) => {
      const prefix =
        want.kind === "head" ? "HEAD" : `refs/${want.kind === "tag" ? "tags" : "heads"}/${want.name}`;
      const refs = await git.listServerRefs({
        http,
        url: remote.url,
        headers: authHeaders(remote.auth),
        onAuth: () => ({ cancel: true }),
        protocolVersion: 2,
        prefix,
        symrefs: want.kind === "head",
        peelTags: want.kind === "tag",
      });
      // The prefix matches `refs/heads/main-old` too: only the exact name counts.
      const ref = refs.find((r) => r.ref === prefix);
      if (want.kind === "head") {
        const target = ref?.target;
        if (ref === undefined || target === undefined || !target.startsWith("refs/heads/"))
          throw new CasskeeperError(
            "sync",
            "git-ref-not-found",
            `${remote.display} has no default branch (HEAD)`,
          );
        return { name: target.slice("refs/heads/".length), sha: ref.oid };
      }
      if (ref === undefined) {
        throw new CasskeeperError(
          "sync",
          "git-ref-not-found",
          `${want.kind} "${want.name}" not found in ${remote.display}`,
        );
      }
      // An annotated tag is peeled to its commit: the revision is always a commit.
      return { name: want.name, sha: ref.peeled ?? ref.oid };
    });
  }

  async function read(req: FetchRequest, rev: Revision): Promise<SourceFile[]> {
    const remote = parseRemote(req);
    const want = parseRef(req.ref);
    const path = normalisePath(req.path);
    const sha = rev.sha.toLowerCase();
    if (!SHA_RE.test(sha))
      throw new CasskeeperError("sync", "git-ref-invalid", `not a commit SHA: "${rev.sha}"`);
    const gitdir = join(o.cacheDir, gitdirName(remote.url, req.ref, req.auth));
    return singleFlight(gitdir, async () => {
      try {
        return await readOnce({ remote, want, path, sha, gitdir, signal: req.signal, cache: {} });
      } catch (e) {
        if (req.signal?.aborted || !isLocalFailure(e)) throw mapError(e, remote, o.timeoutMs, req.signal);
      }
      // Something inside the gitdir is broken (a missing object, a bad pack): start again from nothing, once.
      await rm(gitdir, { recursive: true, force: true });
      try {
        return await readOnce({ remote, want, path, sha, gitdir, signal: req.signal, cache: {} });
      } catch (e) {
        throw mapError(e, remote, o.timeoutMs, req.signal);
      }
    });
  }

  interface ReadJob {
    readonly remote: Remote;
    readonly want: Want;
    readonly path: string;
    readonly sha: string;
    readonly gitdir: string;
    readonly signal: AbortSignal | undefined;
    readonly cache: object;
  }

  async function readOnce(job: ReadJob): Promise<SourceFile[]> {
    await prepareGitdir(job.gitdir, o.maxPacks, o.maxTotalBytes);
    let commit = await findCommit(job);
    if (commit === undefined) {
      await fetchCommit(job, job.sha, 1);
      commit = await findCommit(job);
    }
    if (commit === undefined && job.want.kind === "commit") {
      // A server that refuses to send a commit no ref points at: fetch the whole branch and look in it.
      await fetchCommit(
        job,
        job.want.branch === undefined ? "HEAD" : `refs/heads/${job.want.branch}`,
        undefined,
      );
      commit = await findCommit(job);
    }
    if (commit === undefined) {
      const where =
        job.want.kind === "commit"
          ? ""
          : ` (the ${job.want.kind === "head" ? "default branch" : job.want.kind} was force-pushed since it was resolved?)`;
      throw new CasskeeperError(
        "sync",
        "git-commit-not-found",
        `commit ${job.sha} not found in ${job.remote.display}${where}`,
      );
    }
    await git.writeRef({ fs, gitdir: job.gitdir, ref: FETCHED_REF, value: commit.oid, force: true });
    return readFiles(job, commit.tree);
  }

  /** The commit `job.sha` names (peeling annotated tags), if the gitdir has it. */
  async function findCommit(job: ReadJob): Promise<{ oid: string; tree: string } | undefined> {
    let oid = job.sha;
    for (let hops = 0; hops < 10; hops++) {
      let obj: Awaited<ReturnType<typeof git.readObject>>;
      try {
        obj = await git.readObject({ fs, gitdir: job.gitdir, oid, format: "parsed", cache: job.cache });
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      if (obj.type === "commit") return { oid, tree: (obj.object as { tree: string }).tree };
      if (obj.type !== "tag")
        throw new CasskeeperError("sync", "git-ref-not-found", `${job.sha} is a ${obj.type}, not a commit`);
      oid = (obj.object as { object: string }).object;
    }
    throw new CasskeeperError("sync", "git-ref-not-found", `${job.sha}: tag chain too long`);
  }

  async function fetchCommit(job: ReadJob, remoteRef: string, depth: number | undefined): Promise<void> {
    await withOperation(job.remote, job.signal, o, (http) =>
      git.fetch({
        fs,
        http,
        gitdir: job.gitdir,
        url: job.remote.url,
        // Names the local ref whose commit is sent as a `have`; `remoteRef` is what is wanted.
        ref: FETCHED_REF,
        remoteRef,
        singleBranch: true,
        tags: false,
        ...(depth === undefined ? {} : { depth }),
        headers: authHeaders(job.remote.auth),
        onAuth: () => ({ cancel: true }),
        cache: job.cache,
      }),
    );
  }

  async function readFiles(job: ReadJob, rootTree: string): Promise<SourceFile[]> {
    let tree = rootTree;
    const walked: string[] = [];
    for (const segment of job.path === "" ? [] : job.path.split("/")) {
      const entries = await readTreeEntries(job, tree);
      const entry = entries.find((e) => e.path === segment);
      walked.push(segment);
      if (entry === undefined || entry.type !== "tree") {
        throw new CasskeeperError(
          "sync",
          "git-path-not-found",
          `${walked.join("/")} is ${entry === undefined ? "not there" : "not a directory"} at ${job.sha.slice(0, 12)} in ${job.remote.display}`,
        );
      }
      tree = entry.oid;
    }
    const files: SourceFile[] = [];
    let total = 0;
    let visited = 0;
    const stack: { prefix: string; oid: string }[] = [{ prefix: job.path, oid: tree }];
    while (stack.length > 0) {
      const dir = stack.pop() as { prefix: string; oid: string };
      for (const e of await readTreeEntries(job, dir.oid)) {
        if (++visited > MAX_TREE_ENTRIES) throw tooMany(job, `more than ${MAX_TREE_ENTRIES} entries`);
        if (!safeName(e.path) || e.path.startsWith(".") || e.path === "node_modules") continue;
        const path = dir.prefix === "" ? e.path : `${dir.prefix}/${e.path}`;
        if (e.type === "tree") {
          stack.push({ prefix: path, oid: e.oid });
          continue;
        }
        // Regular files only: a symlink (120000) or a submodule (160000, type "commit") is skipped.
        if (e.type !== "blob" || (e.mode !== "100644" && e.mode !== "100755") || !isYamlName(e.path))
          continue;
        if (files.length >= o.maxFiles) throw tooMany(job, `more than ${o.maxFiles} YAML files`);
        if (job.signal?.aborted) throw job.signal.reason;
        const { blob } = await git.readBlob({ fs, gitdir: job.gitdir, oid: e.oid, cache: job.cache });
        if (blob.byteLength > o.maxFileBytes) {
          files.push({ path, bytes: new Uint8Array(0), tooLarge: blob.byteLength });
          continue;
        }
        total += blob.byteLength;
        if (total > o.maxTotalBytes) {
          throw new CasskeeperError(
            "sync",
            "git-too-large",
            `the YAML files under "${job.path || "."}" in ${job.remote.display} add up to more than ${o.maxTotalBytes} bytes`,
          );
        }
        files.push({ path, bytes: blob });
      }
    }
    return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  function tooMany(job: ReadJob, what: string): CasskeeperError {
    return new CasskeeperError(
      "sync",
      "git-too-many-files",
      `"${job.path || "."}" in ${job.remote.display} holds ${what}`,
    );
  }

  async function readTreeEntries(job: ReadJob, oid: string) {
    return (await git.readTree({ fs, gitdir: job.gitdir, oid, cache: job.cache })).tree;
  }

  return { resolve, read };
}

// ----------------------------------------------------------------------------------------------------------
// Requests, refs and paths

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function parseRemote(req: FetchRequest): Remote {
  let u: URL;
  try {
    u = new URL(req.url);
  } catch {
    throw new CasskeeperError("sync", "git-url-invalid", "the Git URL is not a valid URL");
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new CasskeeperError(
      "sync",
      "git-url-invalid",
      `${u.protocol}//${u.host}: only http:// and https:// Git URLs are supported (no SSH, no git://)`,
    );
  }
  const fromUrl: GitAuth | undefined =
    u.username !== "" || u.password !== ""
      ? { username: safeDecode(u.username), password: safeDecode(u.password) }
      : undefined;
  const auth = req.auth ?? fromUrl;
  const secrets = [u.username, u.password, ...credentialStrings(auth)].filter((s) => s.length >= 3);
  // Smart HTTP appends `/info/refs?service=…` to the URL: a query or fragment in it can only break that (and a
  // query may carry a token), so neither is kept.
  u.username = "";
  u.password = "";
  u.hash = "";
  u.search = "";
  const url = u.href.replace(/\/+$/, "");
  return { url, display: url, auth, secrets };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function credentialStrings(auth: GitAuth | undefined): string[] {
  if (auth === undefined) return [];
  const raw = "token" in auth ? [auth.token] : [auth.username, auth.password];
  const header = authHeaders(auth).Authorization;
  return header === undefined ? raw : [...raw, header.slice("Basic ".length)];
}

function authHeaders(auth: GitAuth | undefined): Record<string, string> {
  if (auth === undefined) return {};
  const pair = "token" in auth ? `x-access-token:${auth.token}` : `${auth.username}:${auth.password}`;
  return { Authorization: `Basic ${Buffer.from(pair, "utf8").toString("base64")}` };
}

/** Ref names as `git check-ref-format` accepts them, kept to what can safely go into a pkt-line and a message. */
function validRefName(name: string): boolean {
  if (name === "" || name.length > 255 || name === "@") return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return false;
  if (name.includes("..") || name.includes("@{") || name.includes("//")) return false;
  if (name.startsWith("/") || name.startsWith("-") || name.endsWith("/") || name.endsWith(".")) return false;
  return name.split("/").every((part) => !part.startsWith(".") && !part.endsWith(".lock"));
}

function parseRef(ref: GitRef): Want {
  const check = (kind: string, name: string) => {
    if (!validRefName(name))
      throw new CasskeeperError("sync", "git-ref-invalid", `not a valid ${kind} name: "${name}"`);
    return name;
  };
  // Flux's precedence: commit, then tag, then branch.
  if (ref.commit !== undefined && ref.commit !== "") {
    const sha = ref.commit.toLowerCase();
    if (!SHA_RE.test(sha)) {
      throw new CasskeeperError(
        "sync",
        "git-ref-invalid",
        `a commit must be a full 40-hex SHA-1: "${ref.commit}"`,
      );
    }
    const branch = ref.branch === undefined || ref.branch === "" ? undefined : check("branch", ref.branch);
    return { kind: "commit", sha, branch };
  }
  if (ref.tag !== undefined && ref.tag !== "") return { kind: "tag", name: check("tag", ref.tag) };
  if (ref.branch !== undefined && ref.branch !== "")
    return { kind: "branch", name: check("branch", ref.branch) };
  return { kind: "head" };
}

/** "" or "." is the root; `a/b/` is `a/b`; a leading `/`, `..` or a backslash is refused. */
function normalisePath(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (path.startsWith("/") || path.includes("\\") || parts.includes("..") || path.includes("\0")) {
    throw new CasskeeperError(
      "sync",
      "git-path-invalid",
      `path must be relative to the repository root, without "..": "${path}"`,
    );
  }
  return parts.join("/");
}

function safeName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/") && !name.includes("\0");
}

function isYamlName(name: string): boolean {
  return name.endsWith(".yaml") || name.endsWith(".yml");
}

/**
 * One gitdir per URL, ref and credential (hashed): a pinned commit already fetched is served from the cache
 * without a network call, so a source must never read a gitdir that another credential (another namespace's
 * token for a private repository) filled.
 */
function gitdirName(url: string, ref: GitRef, auth: GitAuth | undefined): string {
  const key = JSON.stringify([url, ref.branch ?? "", ref.tag ?? "", ref.commit ?? "", auth ?? null]);
  return createHash("sha256").update(key).digest("hex").slice(0, 32);
}

// ----------------------------------------------------------------------------------------------------------
// The gitdir

async function singleFlight<T>(gitdir: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    const running = inFlight.get(gitdir);
    if (running === undefined) break;
    await running.catch(() => {});
  }
  const p = fn();
  inFlight.set(gitdir, p);
  try {
    return await p;
  } finally {
    if (inFlight.get(gitdir) === p) inFlight.delete(gitdir);
  }
}

/** Makes the bare gitdir if it is missing, and rebuilds it when its packs pile up. */
async function prepareGitdir(gitdir: string, maxPacks: number, maxBytes: number): Promise<void> {
  const packDir = join(gitdir, "objects", "pack");
  const names = await readdir(packDir).catch(() => undefined);
  if (names !== undefined) {
    const packs = names.filter((n) => n.endsWith(".pack"));
    let bytes = 0;
    for (const p of packs) bytes += (await stat(join(packDir, p))).size;
    // One pack is the snapshot itself, however large: rebuilding would only fetch it again.
    if (packs.length < maxPacks && (packs.length <= 1 || bytes <= maxBytes)) return;
    await rm(gitdir, { recursive: true, force: true });
  } else if (
    await stat(join(gitdir, "config")).then(
      () => true,
      () => false,
    )
  ) {
    return;
  }
  await rm(gitdir, { recursive: true, force: true });
  await mkdir(gitdir, { recursive: true });
  await git.init({ fs, gitdir, bare: true, defaultBranch: "main" });
  // isomorphic-git's fetch needs a refspec for `origin` (it refuses to run without one). No URL is stored.
  await git.setConfig({
    fs,
    gitdir,
    path: "remote.origin.fetch",
    value: "+refs/heads/*:refs/remotes/origin/*",
  });
}

// ----------------------------------------------------------------------------------------------------------
// HTTP: a timeout, the caller's signal and a size cap around isomorphic-git's node client

interface Bounds {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

async function withOperation<T>(
  remote: Remote,
  signal: AbortSignal | undefined,
  bounds: Bounds,
  fn: (http: HttpClient) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(bounds.timeoutMs);
  const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
  const seen = { thinPack: false };
  const http: HttpClient = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      combined.throwIfAborted();
      const isUploadPack = req.method === "POST" && req.url.endsWith("/git-upload-pack");
      const send = isUploadPack && seen.thinPack ? await withThinPack(req) : req;
      const res = await nodeHttp.request({ ...send, signal: combined });
      const sniff = req.method !== "POST" && req.url.includes("/info/refs?") ? seen : undefined;
      return { ...res, body: bounded(res.body, combined, bounds.maxResponseBytes, remote.display, sniff) };
    },
  };
  try {
    return await fn(http);
  } catch (e) {
    // An abort surfaces as whatever the interrupted step threw: say why it stopped.
    if (combined.aborted) throw combined.reason;
    throw e;
  }
}

/**
 * isomorphic-git leaves `thin-pack` out of its fetch capabilities (canonical git cannot read thin packs; its own
 * reader resolves their external deltas, `GitPackIndex.fromPack` with `getExternalRefDelta`). Without it, a
 * shallow fetch is never incremental: upload-pack walks a depth-1 want as a root commit, so the haves' trees
 * exclude nothing unless the client takes thin packs (pack-objects `--objects-edge-aggressive` is used only
 * with `--thin`), and every new commit would bring the whole tree again. The gitdir is read by isomorphic-git
 * only, so ask for thin packs when the server offers them: add the capability to the first `want` pkt-line.
 */
async function withThinPack(req: GitHttpRequest): Promise<GitHttpRequest> {
  if (req.body === undefined) return req;
  const chunks: Uint8Array[] = [];
  for await (const c of req.body as AsyncIterable<Uint8Array>) chunks.push(c);
  const body = Buffer.concat(chunks);
  const len = Number.parseInt(body.subarray(0, 4).toString("latin1"), 16);
  let out = body;
  if (Number.isInteger(len) && len > 4 && len <= body.length) {
    const line = body.subarray(4, len).toString("latin1");
    if (line.startsWith("want ") && !line.includes(" thin-pack")) {
      const eol = line.endsWith("\n") ? "\n" : "";
      const changed = `${line.slice(0, line.length - eol.length)} thin-pack${eol}`;
      const pktLen = (changed.length + 4).toString(16).padStart(4, "0");
      out = Buffer.concat([Buffer.from(`${pktLen}${changed}`, "latin1"), body.subarray(len)]);
    }
  }
  // An array body is sent in one piece with a Content-Length, as isomorphic-git sends it (some hosts need it).
  return { ...req, body: [out] as unknown as AsyncIterableIterator<Uint8Array> };
}

/**
 * The response body, cut off past `max` bytes, and failing at once when the operation is aborted. With `sniff`,
 * notes whether the ref advertisement offers `thin-pack` (its capabilities are on the first ref's line).
 */
function bounded(
  body: AsyncIterableIterator<Uint8Array> | undefined,
  signal: AbortSignal,
  max: number,
  display: string,
  sniff?: { thinPack: boolean },
): AsyncIterableIterator<Uint8Array> | undefined {
  if (body === undefined) return undefined;
  let received = 0;
  let head = "";
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(signal.reason);
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
  aborted.catch(() => {});
  const it: AsyncIterableIterator<Uint8Array> = {
    async next() {
      const r = await Promise.race([body.next(), aborted]);
      if (!r.done) {
        if (sniff !== undefined && head.length < 4096) {
          head += Buffer.from(r.value.subarray(0, 4096)).toString("latin1");
          if (/\0[^\n]*\bthin-pack\b/.test(head)) sniff.thinPack = true;
        }
        received += r.value.byteLength;
        if (received > max) {
          await body.return?.();
          throw new CasskeeperError(
            "sync",
            "git-too-large",
            `${display} sent more than ${max} bytes in one response`,
          );
        }
      }
      return r;
    },
    async return(value?: unknown) {
      await body.return?.(value);
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

// ----------------------------------------------------------------------------------------------------------
// Errors

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_HAS_EXPIRED",
]);

function errCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
    ? (e as { code: string }).code
    : undefined;
}

function isNotFound(e: unknown): boolean {
  return errCode(e) === "NotFoundError";
}

/** True for failures of the gitdir itself (worth one rebuild), false for the network, HTTP, bounds, aborts. */
function isLocalFailure(e: unknown): boolean {
  if (e instanceof CasskeeperError) return false;
  if (typeof e === "object" && e !== null && (e as { name?: unknown }).name === "AbortError") return false;
  if (typeof e === "object" && e !== null && (e as { name?: unknown }).name === "TimeoutError") return false;
  const code = errCode(e);
  if (code === undefined) return true;
  if (NETWORK_CODES.has(code)) return false;
  return ![
    "HttpError",
    "SmartHttpError",
    "UserCanceledError",
    "UrlParseError",
    "RemoteCapabilityError",
  ].includes(code);
}

function mapError(
  e: unknown,
  remote: Remote,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): CasskeeperError {
  if (e instanceof CasskeeperError) return e;
  const name = typeof e === "object" && e !== null ? (e as { name?: unknown }).name : undefined;
  if (signal?.aborted) {
    return new CasskeeperError("sync", "git-aborted", `${remote.display}: the operation was cancelled`);
  }
  if (name === "TimeoutError") {
    return new CasskeeperError(
      "sync",
      "git-timeout",
      `${remote.display}: no complete answer within ${timeoutMs} ms`,
    );
  }
  const code = errCode(e);
  const data =
    typeof e === "object" && e !== null ? (e as { data?: { statusCode?: number } }).data : undefined;
  const status = code === "HttpError" ? data?.statusCode : undefined;
  if (code === "UserCanceledError" || status === 401 || status === 403) {
    const why = remote.auth === undefined ? " (no credentials given)" : "";
    return new CasskeeperError("sync", "git-auth", `authentication failed for ${remote.display}${why}`);
  }
  if (status === 404) {
    return new CasskeeperError(
      "sync",
      "git-repo-not-found",
      `repository ${remote.display} not found (or not visible with these credentials)`,
    );
  }
  if (code === "HttpError") {
    return new CasskeeperError("sync", "git-http-error", `${remote.display}: HTTP ${status ?? "error"}`);
  }
  if (code === "SmartHttpError") {
    return new CasskeeperError("sync", "git-http-error", `${remote.display} is not a smart-HTTP Git server`);
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new CasskeeperError("sync", "git-unreachable", `${remote.display}: ${code}`);
  }
  const message = e instanceof Error ? e.message : String(e);
  return new CasskeeperError("sync", "git-read-failed", `${remote.display}: ${scrub(message, remote)}`);
}

/** Removes credentials and URL userinfo from text quoted from an underlying error. */
function scrub(text: string, remote: Remote): string {
  let out = text.replace(/\/\/[^/@\s]*@/g, "//").slice(0, 500);
  for (const s of remote.secrets) out = out.split(s).join("***");
  return out;
}
