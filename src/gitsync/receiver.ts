// The Git push receiver's pure part: authenticate a delivery from GitHub, Gitea or GitLab, read the push out of
// it, and decide which BackupPolicySources it concerns. No I/O: the HTTP route (src/admission/server.ts
// `/hooks/git`) hands over the headers and the raw body and triggers the syncs.
//
// Authentication (checked before the body is parsed, so an unauthenticated sender learns nothing about it):
// - GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the raw body with the shared secret. The
//   SHA-1 `X-Hub-Signature` alone is not accepted.
// - Gitea (and Forgejo, which sends Gitea's headers): `X-Gitea-Signature: <hex>` (no prefix) and
//   `X-Hub-Signature-256: sha256=<hex>`, the same HMAC (go-gitea/gitea services/webhook/deliver.go sets both).
//   Either is enough; every one present must be right.
// - GitLab: `X-Gitlab-Token`, the secret itself.
// Every comparison is of SHA-256 digests with crypto.timingSafeEqual, so neither the time taken nor an early
// length check says how much of a guess was right.
//
// Only `application/json` deliveries are read: GitHub's form-encoded `payload=` is refused with a 400 that says
// how to fix the webhook, as Argo CD does (argo-cd docs/operator-manual/webhook.md).

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { isRecord } from "../core/world-build.ts";

export type GitProvider = "github" | "gitea" | "gitlab";

export interface PushEvent {
  provider: GitProvider;
  /** Every URL the payload gives for the repository (clone, web, ssh), as sent. */
  repoUrls: string[];
  /** `refs/heads/<branch>` or `refs/tags/<tag>`. */
  ref: string;
  /** The commit the ref points at after the push. */
  after?: string;
  /** The repository's default branch, when the payload names it. */
  defaultBranch?: string;
}

export type PushRequestResult =
  | {
      status: 200 | 202;
      push?: PushEvent;
      message: string;
      /** For the delivery's log line and metrics: who sent it and which event it was. */
      provider?: GitProvider;
      event?: string;
    }
  | { status: 400 | 401; message: string; provider?: GitProvider; event?: string };

type Headers = Record<string, string | string[] | undefined>;

/** Longest ref and URL read from a payload; longer ones make the delivery a 400. */
const MAX_REF_LENGTH = 1024;
const MAX_URL_LENGTH = 2048;
/** A deleted ref's `after`: 40 zeros (SHA-1), 64 for SHA-256 repositories. */
const ZERO_SHA = /^0+$/;

const EVENT_HEADERS: readonly { header: string; provider: GitProvider }[] = [
  // Gitea first: it also sends X-GitHub-Event for GitHub compatibility.
  { header: "x-gitea-event", provider: "gitea" },
  { header: "x-gitlab-event", provider: "gitlab" },
  { header: "x-github-event", provider: "github" },
];

/** Which provider sent a delivery, from its event header; undefined when none is recognised. */
export function detectProvider(headers: Headers): { provider: GitProvider; event: string } | undefined {
  for (const { header, provider } of EVENT_HEADERS) {
    const event = headerValue(headers, header);
    if (event !== undefined) return { provider, event: event.trim() };
  }
  return undefined;
}

/**
 * Authenticates and reads one delivery. 200 with `push`: a push to act on; 200 without: a ping; 202: an
 * authenticated delivery that needs nothing (another event, a deleted branch); 400: not a delivery casskeeper
 * can read; 401: missing or wrong signature/token. An empty `secret` authenticates nothing.
 */
export function parsePushRequest(headers: Headers, body: Buffer, secret: string): PushRequestResult {
  const detected = detectProvider(headers);
  if (detected === undefined)
    return {
      status: 400,
      message: "not a Git push delivery: no X-GitHub-Event, X-Gitea-Event or X-Gitlab-Event header",
    };
  const { provider, event } = detected;
  const tag = { provider, event };

  const contentType = headerValue(headers, "content-type");
  if (contentType !== undefined && !isJson(contentType))
    return {
      status: 400,
      message: `content type must be application/json, got ${JSON.stringify(cut(contentType, 100))}: set the webhook's content type to application/json (form-encoded deliveries are not read)`,
      ...tag,
    };

  const denied = authenticate(provider, headers, body, secret);
  if (denied !== undefined) return { status: 401, message: denied, ...tag };

  const kind = eventKind(provider, event);
  if (kind === "ping") return { status: 200, message: "pong", ...tag };
  if (kind === "other")
    return {
      status: 202,
      message: `ignored: ${JSON.stringify(cut(event, 100))} is not a push event`,
      ...tag,
    };

  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (e) {
    return {
      status: 400,
      message:
        e instanceof SyntaxError
          ? `malformed JSON: ${e.message.replace(/, ".*" is not valid JSON$/s, " (not valid JSON)")}`
          : "body is not valid UTF-8",
      ...tag,
    };
  }
  if (!isRecord(payload)) return { status: 400, message: "push payload is not a JSON object", ...tag };

  const ref = payload.ref;
  if (typeof ref !== "string" || ref.length > MAX_REF_LENGTH)
    return { status: 400, message: "push payload has no ref", ...tag };
  if (!ref.startsWith("refs/heads/") && !ref.startsWith("refs/tags/"))
    return { status: 202, message: `ignored: ${cut(ref, 200)} is neither a branch nor a tag`, ...tag };
  const after = typeof payload.after === "string" ? payload.after : undefined;
  if (payload.deleted === true || (after !== undefined && ZERO_SHA.test(after)))
    return { status: 202, message: `ignored: ${cut(ref, 200)} was deleted`, ...tag };

  const repo = provider === "gitlab" ? gitlabRepository(payload) : githubRepository(payload);
  if (repo.urls.length === 0) return { status: 400, message: "push payload names no repository URL", ...tag };
  const push: PushEvent = { provider, repoUrls: repo.urls, ref };
  if (after !== undefined) push.after = after;
  if (repo.defaultBranch !== undefined) push.defaultBranch = repo.defaultBranch;
  return { status: 200, push, message: `push to ${cut(ref, 200)}`, ...tag };
}

/** Undefined when the delivery is authentic, else why not (no secret material in the text). */
function authenticate(
  provider: GitProvider,
  headers: Headers,
  body: Buffer,
  secret: string,
): string | undefined {
  if (secret === "") return "no webhook secret is configured: every delivery is refused";
  if (provider === "gitlab") {
    const token = headerValue(headers, "x-gitlab-token");
    if (token === undefined || token === "")
      return "missing X-Gitlab-Token: set the webhook's secret token to casskeeper's webhook secret";
    return sameText(token, secret) ? undefined : "X-Gitlab-Token does not match the webhook secret";
  }
  const expected = createHmac("sha256", secret).update(body).digest("hex");
  const signatures: { header: string; hex: string | undefined }[] = [];
  const hub = headerValue(headers, "x-hub-signature-256");
  if (hub !== undefined && hub !== "" && hub !== "sha256=")
    signatures.push({
      header: "X-Hub-Signature-256",
      hex: hub.startsWith("sha256=") ? hub.slice("sha256=".length) : undefined,
    });
  if (provider === "gitea") {
    const gitea = headerValue(headers, "x-gitea-signature");
    if (gitea !== undefined && gitea !== "") signatures.push({ header: "X-Gitea-Signature", hex: gitea });
  }
  if (signatures.length === 0)
    return provider === "gitea"
      ? "missing X-Gitea-Signature / X-Hub-Signature-256: set the webhook's secret to casskeeper's webhook secret"
      : headerValue(headers, "x-hub-signature") !== undefined
        ? "missing X-Hub-Signature-256 (SHA-1 X-Hub-Signature is not accepted)"
        : "missing X-Hub-Signature-256: set the webhook's secret to casskeeper's webhook secret";
  // Every signature is compared, also after a mismatch, so the time taken does not say which one failed.
  let bad: string | undefined;
  for (const s of signatures) {
    const ok = sameText((s.hex ?? "").toLowerCase(), expected) && s.hex !== undefined;
    if (!ok) bad ??= s.header;
  }
  return bad === undefined ? undefined : `${bad} does not match the body signed with the webhook secret`;
}

/** Constant-time equality of two strings of any lengths: their SHA-256 digests are compared. */
function sameText(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

function eventKind(provider: GitProvider, event: string): "push" | "ping" | "other" {
  if (provider === "gitlab") return event === "Push Hook" || event === "Tag Push Hook" ? "push" : "other";
  return event === "push" ? "push" : event === "ping" ? "ping" : "other";
}

/** GitHub and Gitea: `repository.{clone_url, html_url, ssh_url, git_url}` and `repository.default_branch`. */
function githubRepository(payload: Record<string, unknown>): { urls: string[]; defaultBranch?: string } {
  const repo = payload.repository;
  if (!isRecord(repo)) return { urls: [] };
  return withBranch(
    urlsOf(repo, ["clone_url", "html_url", "ssh_url", "git_url"]),
    stringOf(repo.default_branch),
  );
}

/** GitLab: `project.{git_http_url, web_url, git_ssh_url, http_url, ssh_url}`, then `repository.*` the same. */
function gitlabRepository(payload: Record<string, unknown>): { urls: string[]; defaultBranch?: string } {
  const keys = ["git_http_url", "web_url", "git_ssh_url", "http_url", "ssh_url", "url", "homepage"];
  const project = isRecord(payload.project) ? payload.project : {};
  const repository = isRecord(payload.repository) ? payload.repository : {};
  const urls = [...new Set([...urlsOf(project, keys), ...urlsOf(repository, keys)])];
  return withBranch(urls, stringOf(project.default_branch));
}

function withBranch(
  urls: string[],
  defaultBranch: string | undefined,
): { urls: string[]; defaultBranch?: string } {
  return defaultBranch === undefined ? { urls } : { urls, defaultBranch };
}

function urlsOf(o: Record<string, unknown>, keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const k of keys) {
    const v = o[k];
    if (typeof v === "string" && v !== "" && v.length <= MAX_URL_LENGTH && !out.includes(v)) out.push(v);
  }
  return out;
}

function stringOf(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" && v.length <= MAX_REF_LENGTH ? v : undefined;
}

/** Default ports dropped by normalisation, per scheme. */
const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  "http:": "80",
  "https:": "443",
  "ssh:": "22",
  "git+ssh:": "22",
  "ssh+git:": "22",
  "git:": "9418",
};

/**
 * A Git URL reduced to what names the repository, for comparison: `host[:port]/path`, lower-cased, without
 * scheme, user info, default port, query, trailing `/` or `.git`. The scp-like `git@host:a/b.git` becomes
 * `host/a/b`, so the ssh URL of a payload matches an https source. Undefined when it is not a remote Git URL.
 *
 * The path is lower-cased too (as Argo CD's NormalizeGitURL does): GitHub and GitLab paths are
 * case-insensitive, and a wrong match only costs one ref listing, where a missed one costs a poll interval.
 */
export function normalizeGitUrl(url: string): string | undefined {
  const text = url.trim();
  if (text === "" || text.length > MAX_URL_LENGTH) return undefined;
  let host: string;
  let path: string;
  const scp = /^(?:[^@/:]+@)?(\[[^\]]+\]|[^/:]+):(?!\/\/)(.*)$/.exec(text);
  if (!text.includes("://") && scp !== null) {
    host = (scp[1] ?? "").toLowerCase();
    path = scp[2] ?? "";
  } else {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      return undefined;
    }
    const scheme = parsed.protocol.toLowerCase();
    if (!(scheme in DEFAULT_PORTS) || parsed.hostname === "") return undefined;
    const port = parsed.port === "" || parsed.port === DEFAULT_PORTS[scheme] ? "" : `:${parsed.port}`;
    host = `${parsed.hostname.toLowerCase()}${port}`;
    path = parsed.pathname;
  }
  path = path
    .toLowerCase()
    .replace(/\/{2,}/g, "/")
    .replace(/^\/+/, "")
    .replace(/\/+$/, "");
  if (path.endsWith(".git")) path = path.slice(0, -".git".length).replace(/\/+$/, "");
  if (host === "" || path === "") return undefined;
  return `${host}/${path}`;
}

/**
 * Whether a push concerns a source: same repository (after normalizeGitUrl) and the ref the source follows.
 * - `ref.branch`: a push to `refs/heads/<branch>`.
 * - `ref.tag`: a push of `refs/tags/<tag>` (a moved tag).
 * - `ref.commit`: never (a pinned commit does not move).
 * - no ref (the remote's default branch): a push to the default branch the payload names; when it names
 *   none, any branch push matches, and the sync's ref listing finds out whether HEAD moved.
 */
export function pushMatchesSource(
  push: PushEvent,
  source: { url: string; ref?: { branch?: string; tag?: string; commit?: string } },
): boolean {
  const want = normalizeGitUrl(source.url);
  if (want === undefined || !push.repoUrls.some((u) => normalizeGitUrl(u) === want)) return false;
  const ref = source.ref ?? {};
  if (ref.commit !== undefined && ref.commit !== "") return false;
  if (ref.tag !== undefined && ref.tag !== "") return push.ref === `refs/tags/${ref.tag}`;
  if (ref.branch !== undefined && ref.branch !== "") return push.ref === `refs/heads/${ref.branch}`;
  if (!push.ref.startsWith("refs/heads/")) return false;
  return push.defaultBranch === undefined || push.ref === `refs/heads/${push.defaultBranch}`;
}

/** A header by name, any case; repeated values joined with ", " as node joins unknown headers. */
function headerValue(headers: Headers, name: string): string | undefined {
  let value = headers[name];
  if (value === undefined)
    for (const [k, v] of Object.entries(headers))
      if (k.toLowerCase() === name) {
        value = v;
        break;
      }
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : value;
}

function isJson(contentType: string): boolean {
  return contentType.split(";")[0]?.trim().toLowerCase() === "application/json";
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
