// The push receiver's pure part: who may deliver (signatures and tokens of GitHub, Gitea and GitLab), which
// deliveries are pushes, what is read out of them, and which sources a push concerns.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  normalizeGitUrl,
  type PushEvent,
  parsePushRequest,
  pushMatchesSource,
} from "../../../src/gitsync/receiver.ts";

const SECRET = "s3cret-for-tests";
const SHA = "8f3a5bd0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6";
const ZEROS = "0000000000000000000000000000000000000000";

function sign(body: Buffer, secret = SECRET): string {
  return createHmac("sha256", secret).update(body).digest("hex");
}

/** A GitHub push payload, trimmed to the fields GitHub sends that matter here. */
function githubPush(over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      ref: "refs/heads/main",
      before: "1111111111111111111111111111111111111111",
      after: SHA,
      created: false,
      deleted: false,
      repository: {
        full_name: "ops/backups",
        default_branch: "main",
        url: "https://github.com/ops/backups",
        html_url: "https://github.com/ops/backups",
        clone_url: "https://github.com/ops/backups.git",
        git_url: "git://github.com/ops/backups.git",
        ssh_url: "git@github.com:ops/backups.git",
      },
      pusher: { name: "octocat" },
      ...over,
    }),
  );
}

/** A Gitea push payload (the same repository shape as GitHub's). */
function giteaPush(over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      ref: "refs/heads/main",
      before: "1111111111111111111111111111111111111111",
      after: SHA,
      repository: {
        full_name: "ops/backups",
        default_branch: "main",
        html_url: "https://gitea.example.com/ops/backups",
        clone_url: "https://gitea.example.com/ops/backups.git",
        ssh_url: "git@gitea.example.com:ops/backups.git",
      },
      ...over,
    }),
  );
}

/** A GitLab push (or tag push) payload. */
function gitlabPush(over: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      object_kind: "push",
      ref: "refs/heads/main",
      before: "1111111111111111111111111111111111111111",
      after: SHA,
      project: {
        path_with_namespace: "ops/backups",
        default_branch: "main",
        web_url: "https://gitlab.example.com/ops/backups",
        git_ssh_url: "git@gitlab.example.com:ops/backups.git",
        git_http_url: "https://gitlab.example.com/ops/backups.git",
      },
      repository: {
        url: "git@gitlab.example.com:ops/backups.git",
        homepage: "https://gitlab.example.com/ops/backups",
        git_http_url: "https://gitlab.example.com/ops/backups.git",
        git_ssh_url: "git@gitlab.example.com:ops/backups.git",
      },
      ...over,
    }),
  );
}

const JSON_TYPE = { "content-type": "application/json" };
const github = (body: Buffer, event = "push", secret = SECRET) => ({
  ...JSON_TYPE,
  "x-github-event": event,
  "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
  "x-hub-signature-256": `sha256=${sign(body, secret)}`,
});
const gitea = (body: Buffer, event = "push") => ({
  ...JSON_TYPE,
  "x-gitea-event": event,
  "x-gitea-signature": sign(body),
  "x-github-event": event,
  "x-hub-signature-256": `sha256=${sign(body)}`,
});
const gitlab = (event = "Push Hook", token = SECRET) => ({
  ...JSON_TYPE,
  "x-gitlab-event": event,
  "x-gitlab-token": token,
});

describe("parsePushRequest: authentication", () => {
  const body = githubPush();
  const gbody = giteaPush();
  const lbody = gitlabPush();
  // (what is sent, headers) → status, and a phrase of the message for refusals
  const cases: {
    name: string;
    headers: Record<string, string | string[]>;
    body: Buffer;
    status: number;
    message?: RegExp;
  }[] = [
    // GitHub, signed with the secret
    { name: "github signed", headers: github(body), body, status: 200 },
    // GitHub, hex in upper case (still the same digest)
    {
      name: "github upper-case hex",
      headers: { ...github(body), "x-hub-signature-256": `sha256=${sign(body).toUpperCase()}` },
      body,
      status: 200,
    },
    // GitHub, signed with another secret
    {
      name: "github other secret",
      headers: github(body, "push", "another-secret"),
      body,
      status: 401,
      message: /X-Hub-Signature-256 does not match/,
    },
    // GitHub, no signature at all (webhook without a secret)
    {
      name: "github unsigned",
      headers: { ...JSON_TYPE, "x-github-event": "push" },
      body,
      status: 401,
      message: /missing X-Hub-Signature-256/,
    },
    // GitHub, only the SHA-1 signature
    {
      name: "github sha1 only",
      headers: {
        ...JSON_TYPE,
        "x-github-event": "push",
        "x-hub-signature": `sha1=${createHmac("sha1", SECRET).update(body).digest("hex")}`,
      },
      body,
      status: 401,
      message: /SHA-1/,
    },
    // GitHub, the right digest under the wrong prefix
    {
      name: "github wrong prefix",
      headers: { ...github(body), "x-hub-signature-256": `sha1=${sign(body)}` },
      body,
      status: 401,
    },
    // GitHub, the bare digest without `sha256=`
    {
      name: "github no prefix",
      headers: { ...github(body), "x-hub-signature-256": sign(body) },
      body,
      status: 401,
    },
    // GitHub, signature of another body (a replayed signature)
    {
      name: "github signature of another body",
      headers: github(githubPush({ ref: "refs/heads/dev" })),
      body,
      status: 401,
    },
    // GitHub, a truncated signature
    {
      name: "github truncated signature",
      headers: { ...github(body), "x-hub-signature-256": `sha256=${sign(body).slice(0, 63)}` },
      body,
      status: 401,
    },
    // GitHub, the header repeated (node joins repeated unknown headers)
    {
      name: "github repeated signature",
      headers: { ...github(body), "x-hub-signature-256": [`sha256=${sign(body)}`, `sha256=${sign(body)}`] },
      body,
      status: 401,
    },
    // Header names in any case
    {
      name: "github mixed-case header names",
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": `sha256=${sign(body)}`,
      },
      body,
      status: 200,
    },
    // Gitea, both signatures it sends
    { name: "gitea both signatures", headers: gitea(gbody), body: gbody, status: 200 },
    // Gitea, only X-Gitea-Signature (no prefix)
    {
      name: "gitea X-Gitea-Signature only",
      headers: { ...JSON_TYPE, "x-gitea-event": "push", "x-gitea-signature": sign(gbody) },
      body: gbody,
      status: 200,
    },
    // Gitea, only X-Hub-Signature-256
    {
      name: "gitea X-Hub-Signature-256 only",
      headers: { ...JSON_TYPE, "x-gitea-event": "push", "x-hub-signature-256": `sha256=${sign(gbody)}` },
      body: gbody,
      status: 200,
    },
    // Gitea, one right and one wrong: refused
    {
      name: "gitea one signature wrong",
      headers: { ...gitea(gbody), "x-gitea-signature": sign(gbody, "another-secret") },
      body: gbody,
      status: 401,
      message: /X-Gitea-Signature does not match/,
    },
    // Gitea with no secret configured sends empty signatures
    {
      name: "gitea empty signatures",
      headers: {
        ...JSON_TYPE,
        "x-gitea-event": "push",
        "x-gitea-signature": "",
        "x-hub-signature-256": "sha256=",
      },
      body: gbody,
      status: 401,
      message: /missing X-Gitea-Signature/,
    },
    // GitLab, the token equal to the secret
    { name: "gitlab token", headers: gitlab(), body: lbody, status: 200 },
    // GitLab, another token
    {
      name: "gitlab wrong token",
      headers: gitlab("Push Hook", "another-secret"),
      body: lbody,
      status: 401,
      message: /X-Gitlab-Token does not match/,
    },
    // GitLab, a prefix of the secret
    {
      name: "gitlab token prefix",
      headers: gitlab("Push Hook", SECRET.slice(0, 5)),
      body: lbody,
      status: 401,
    },
    // GitLab, no token
    {
      name: "gitlab no token",
      headers: { ...JSON_TYPE, "x-gitlab-event": "Push Hook" },
      body: lbody,
      status: 401,
      message: /missing X-Gitlab-Token/,
    },
    // GitLab, an HMAC signature instead of the token: GitLab does not sign
    {
      name: "gitlab signature instead of token",
      headers: {
        ...JSON_TYPE,
        "x-gitlab-event": "Push Hook",
        "x-hub-signature-256": `sha256=${sign(lbody)}`,
      },
      body: lbody,
      status: 401,
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status}`, () => {
      const r = parsePushRequest(c.headers, c.body, SECRET);
      assert.equal(r.status, c.status, r.message);
      if (c.message) assert.match(r.message, c.message);
      assert.ok(!r.message.includes(SECRET), "the secret is never echoed");
    });
  }

  it("an empty configured secret authenticates nothing, not even a body signed with the empty key", () => {
    const r = parsePushRequest(github(body, "push", ""), body, "");
    assert.equal(r.status, 401);
    assert.match(r.message, /no webhook secret/);
    assert.equal(parsePushRequest(gitlab("Push Hook", ""), lbody, "").status, 401);
  });

  it("authentication comes before the body is read: an unsigned malformed body is a 401, not a 400", () => {
    const junk = Buffer.from("{not json");
    assert.equal(parsePushRequest({ ...JSON_TYPE, "x-github-event": "push" }, junk, SECRET).status, 401);
    assert.equal(parsePushRequest({ ...JSON_TYPE, "x-github-event": "ping" }, junk, SECRET).status, 401);
  });
});

describe("parsePushRequest: events and payloads", () => {
  // (provider, event, payload) → status, push read or not, message phrase
  const cases: {
    name: string;
    headers: (b: Buffer) => Record<string, string>;
    body: Buffer;
    status: number;
    push?: Partial<PushEvent>;
    message?: RegExp;
  }[] = [
    // GitHub push to main
    {
      name: "github push",
      headers: (b) => github(b),
      body: githubPush(),
      status: 200,
      push: {
        provider: "github",
        ref: "refs/heads/main",
        after: SHA,
        defaultBranch: "main",
        repoUrls: [
          "https://github.com/ops/backups.git",
          "https://github.com/ops/backups",
          "git@github.com:ops/backups.git",
          "git://github.com/ops/backups.git",
        ],
      },
    },
    // GitHub ping (sent when the webhook is created)
    {
      name: "github ping",
      headers: (b) => github(b, "ping"),
      body: Buffer.from('{"zen":"Keep it logically awesome.","hook_id":1}'),
      status: 200,
      message: /^pong$/,
    },
    // GitHub tag push
    {
      name: "github tag push",
      headers: (b) => github(b),
      body: githubPush({ ref: "refs/tags/v1.2.0" }),
      status: 200,
      push: { ref: "refs/tags/v1.2.0" },
    },
    // GitHub, another event
    {
      name: "github issues event",
      headers: (b) => github(b, "issues"),
      body: Buffer.from('{"action":"opened"}'),
      status: 202,
      message: /"issues" is not a push event/,
    },
    // GitHub, a deleted branch (after = zeros, deleted = true)
    {
      name: "github deleted branch",
      headers: (b) => github(b),
      body: githubPush({ after: ZEROS, deleted: true }),
      status: 202,
      message: /deleted/,
    },
    // GitHub, `deleted: true` alone
    {
      name: "github deleted flag",
      headers: (b) => github(b),
      body: githubPush({ deleted: true }),
      status: 202,
    },
    // GitHub, a ref that is neither a branch nor a tag
    {
      name: "github pull ref",
      headers: (b) => github(b),
      body: githubPush({ ref: "refs/pull/7/head" }),
      status: 202,
      message: /neither a branch nor a tag/,
    },
    // Signed but not JSON
    {
      name: "malformed JSON",
      headers: (b) => github(b),
      body: Buffer.from('{"ref": "refs/heads/main",'),
      status: 400,
      message: /malformed JSON/,
    },
    // Signed but not UTF-8
    {
      name: "not UTF-8",
      headers: (b) => github(b),
      body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      status: 400,
      message: /UTF-8/,
    },
    // Signed JSON that is not an object
    {
      name: "JSON array",
      headers: (b) => github(b),
      body: Buffer.from("[1,2]"),
      status: 400,
      message: /not a JSON object/,
    },
    // A push without a ref
    {
      name: "no ref",
      headers: (b) => github(b),
      body: githubPush({ ref: 7 }),
      status: 400,
      message: /no ref/,
    },
    // A push without a repository
    {
      name: "no repository",
      headers: (b) => github(b),
      body: githubPush({ repository: null }),
      status: 400,
      message: /no repository URL/,
    },
    // Form-encoded delivery (GitHub's other content type)
    {
      name: "form-encoded",
      headers: (b) => ({ ...github(b), "content-type": "application/x-www-form-urlencoded" }),
      body: Buffer.from("payload=%7B%7D"),
      status: 400,
      message: /must be application\/json.*set the webhook's content type/,
    },
    // No event header of a known provider
    {
      name: "unknown provider",
      headers: (b) => ({ ...JSON_TYPE, "x-bitbucket-event": "repo:push", "x-hub-signature": sign(b) }),
      body: githubPush(),
      status: 400,
      message: /no X-GitHub-Event, X-Gitea-Event or X-Gitlab-Event/,
    },
    // Gitea push (also carries X-GitHub-Event: provider is still gitea)
    {
      name: "gitea push",
      headers: (b) => gitea(b),
      body: giteaPush(),
      status: 200,
      push: {
        provider: "gitea",
        ref: "refs/heads/main",
        defaultBranch: "main",
        repoUrls: [
          "https://gitea.example.com/ops/backups.git",
          "https://gitea.example.com/ops/backups",
          "git@gitea.example.com:ops/backups.git",
        ],
      },
    },
    // Gitea tag push
    {
      name: "gitea tag push",
      headers: (b) => gitea(b),
      body: giteaPush({ ref: "refs/tags/v2" }),
      status: 200,
      push: { provider: "gitea", ref: "refs/tags/v2" },
    },
    // Gitea create event: not a push
    { name: "gitea create", headers: (b) => gitea(b, "create"), body: giteaPush(), status: 202 },
    // GitLab push
    {
      name: "gitlab push",
      headers: () => gitlab(),
      body: gitlabPush(),
      status: 200,
      push: {
        provider: "gitlab",
        ref: "refs/heads/main",
        after: SHA,
        defaultBranch: "main",
        repoUrls: [
          "https://gitlab.example.com/ops/backups.git",
          "https://gitlab.example.com/ops/backups",
          "git@gitlab.example.com:ops/backups.git",
        ],
      },
    },
    // GitLab tag push
    {
      name: "gitlab tag push",
      headers: () => gitlab("Tag Push Hook"),
      body: gitlabPush({ object_kind: "tag_push", ref: "refs/tags/v3" }),
      status: 200,
      push: { provider: "gitlab", ref: "refs/tags/v3" },
    },
    // GitLab deleted branch
    {
      name: "gitlab deleted branch",
      headers: () => gitlab(),
      body: gitlabPush({ after: ZEROS }),
      status: 202,
    },
    // GitLab merge request: not a push
    {
      name: "gitlab merge request",
      headers: () => gitlab("Merge Request Hook"),
      body: Buffer.from('{"object_kind":"merge_request"}'),
      status: 202,
    },
    // GitLab push with only the older `repository` URLs
    {
      name: "gitlab repository urls only",
      headers: () => gitlab(),
      body: gitlabPush({ project: undefined }),
      status: 200,
      push: {
        repoUrls: [
          "https://gitlab.example.com/ops/backups.git",
          "git@gitlab.example.com:ops/backups.git",
          "https://gitlab.example.com/ops/backups",
        ],
      },
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.status}`, () => {
      const r = parsePushRequest(c.headers(c.body), c.body, SECRET);
      assert.equal(r.status, c.status, r.message);
      if (c.message) assert.match(r.message, c.message);
      const push = "push" in r ? r.push : undefined;
      if (c.push === undefined) assert.equal(push, undefined);
      else {
        assert.ok(push, "a push is read");
        for (const [k, v] of Object.entries(c.push))
          assert.deepEqual(push[k as keyof PushEvent], v, `push.${k}`);
      }
    });
  }
});

describe("parsePushRequest: signatures over any body", () => {
  // A delivery signed with the secret verifies whatever the body; changing any one byte of the body, or any
  // one character of the signature, is refused. "ping" so that verification alone decides (no payload read).
  const bodies = fc.uint8Array({ minLength: 0, maxLength: 2048 }).map((a) => Buffer.from(a));
  const secrets = fc.string({ minLength: 1, maxLength: 64 });

  it("a correctly signed body verifies; one changed byte fails", () => {
    fc.assert(
      fc.property(
        bodies,
        secrets,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        fc.constantFrom("github", "gitea"),
        (body, secret, at, flip, provider) => {
          const sig = sign(body, secret);
          const headers =
            provider === "github"
              ? { ...JSON_TYPE, "x-github-event": "ping", "x-hub-signature-256": `sha256=${sig}` }
              : { ...JSON_TYPE, "x-gitea-event": "ping", "x-gitea-signature": sig };
          assert.equal(parsePushRequest(headers, body, secret).status, 200);
          if (body.length === 0) return;
          const changed = Buffer.from(body);
          const i = at % changed.length;
          changed[i] = (changed[i] as number) ^ flip;
          assert.equal(parsePushRequest(headers, changed, secret).status, 401);
        },
      ),
    );
  });

  it("one changed character of the signature fails", () => {
    fc.assert(
      fc.property(bodies, secrets, fc.nat(), fc.nat(15), (body, secret, at, d) => {
        const sig = sign(body, secret);
        const i = at % sig.length;
        const other = "0123456789abcdef".replace(sig[i] as string, "")[d % 15] as string;
        const bad = `${sig.slice(0, i)}${other}${sig.slice(i + 1)}`;
        const headers = { ...JSON_TYPE, "x-github-event": "ping", "x-hub-signature-256": `sha256=${bad}` };
        assert.equal(parsePushRequest(headers, body, secret).status, 401);
      }),
    );
  });
});

describe("normalizeGitUrl", () => {
  // input → normalised form (undefined: not a remote Git URL)
  const cases: [string, string | undefined][] = [
    ["https://github.com/ops/backups.git", "github.com/ops/backups"],
    ["https://github.com/ops/backups", "github.com/ops/backups"],
    ["https://github.com/ops/backups/", "github.com/ops/backups"],
    ["https://github.com/ops/backups.git/", "github.com/ops/backups"],
    // scp-like ssh, with and without user
    ["git@github.com:ops/backups.git", "github.com/ops/backups"],
    ["github.com:ops/backups", "github.com/ops/backups"],
    // ssh:// with user and default port
    ["ssh://git@github.com:22/ops/backups.git", "github.com/ops/backups"],
    ["ssh://git@github.com/ops/backups.git", "github.com/ops/backups"],
    // ssh on another port keeps it
    ["ssh://git@git.example.com:2222/ops/backups.git", "git.example.com:2222/ops/backups"],
    ["git://github.com/ops/backups.git", "github.com/ops/backups"],
    // case of scheme, host and path
    ["HTTPS://GitHub.COM/Ops/Backups.git", "github.com/ops/backups"],
    // default ports dropped, others kept
    ["https://git.example.com:443/ops/backups", "git.example.com/ops/backups"],
    ["http://git.example.com:80/ops/backups", "git.example.com/ops/backups"],
    ["https://git.example.com:8443/ops/backups", "git.example.com:8443/ops/backups"],
    // user info dropped (token in the URL)
    ["https://oauth2:glpat-xyz@gitlab.example.com/ops/backups.git", "gitlab.example.com/ops/backups"],
    // query and fragment dropped, doubled slashes collapsed
    ["https://git.example.com//ops//backups.git?x=1#f", "git.example.com/ops/backups"],
    // subgroups
    ["https://gitlab.example.com/group/sub/backups.git", "gitlab.example.com/group/sub/backups"],
    // IPv6 literal
    ["https://[::1]:3000/ops/backups.git", "[::1]:3000/ops/backups"],
    // not remote Git URLs
    ["", undefined],
    ["   ", undefined],
    ["/srv/git/backups.git", undefined],
    ["./backups", undefined],
    ["file:///srv/git/backups.git", undefined],
    ["ftp://example.com/backups", undefined],
    ["https://github.com/", undefined],
    ["https://github.com/.git", undefined],
    ["not a url", undefined],
  ];
  for (const [input, want] of cases)
    it(`${JSON.stringify(input)} → ${want ?? "undefined"}`, () => assert.equal(normalizeGitUrl(input), want));

  it("an ssh URL of a payload and the https URL of a source are the same repository", () => {
    assert.equal(
      normalizeGitUrl("git@gitea.example.com:ops/backups.git"),
      normalizeGitUrl("https://gitea.example.com/ops/backups"),
    );
  });
});

describe("pushMatchesSource", () => {
  const push = (over: Partial<PushEvent> = {}): PushEvent => ({
    provider: "github",
    repoUrls: ["https://github.com/ops/backups.git", "git@github.com:ops/backups.git"],
    ref: "refs/heads/main",
    after: SHA,
    defaultBranch: "main",
    ...over,
  });
  const URL_ = "https://github.com/ops/backups";
  // (push, source) → matches
  const cases: {
    name: string;
    push: PushEvent;
    source: { url: string; ref?: { branch?: string; tag?: string; commit?: string } };
    want: boolean;
  }[] = [
    // same repository, same branch
    { name: "branch main", push: push(), source: { url: URL_, ref: { branch: "main" } }, want: true },
    // other branch
    { name: "branch dev", push: push(), source: { url: URL_, ref: { branch: "dev" } }, want: false },
    // branch whose name is a prefix
    {
      name: "branch prefix",
      push: push({ ref: "refs/heads/main-2" }),
      source: { url: URL_, ref: { branch: "main" } },
      want: false,
    },
    // source by ssh URL, payload lists it too
    {
      name: "ssh source",
      push: push(),
      source: { url: "git@github.com:ops/backups.git", ref: { branch: "main" } },
      want: true,
    },
    // source URL with .git and other case
    {
      name: "case and .git",
      push: push(),
      source: { url: "https://GitHub.com/Ops/Backups.git" },
      want: true,
    },
    // other repository
    {
      name: "other repository",
      push: push(),
      source: { url: "https://github.com/ops/backups-old", ref: { branch: "main" } },
      want: false,
    },
    // other host
    { name: "other host", push: push(), source: { url: "https://gitlab.com/ops/backups" }, want: false },
    // no ref on the source: the default branch
    { name: "no ref, default branch", push: push(), source: { url: URL_ }, want: true },
    // no ref on the source, push to another branch
    {
      name: "no ref, other branch",
      push: push({ ref: "refs/heads/dev" }),
      source: { url: URL_ },
      want: false,
    },
    // no ref, payload without a default branch: any branch push
    {
      name: "no ref, default unknown",
      push: push({ ref: "refs/heads/dev", defaultBranch: undefined }),
      source: { url: URL_ },
      want: true,
    },
    // no ref, a tag push
    { name: "no ref, tag push", push: push({ ref: "refs/tags/v1" }), source: { url: URL_ }, want: false },
    // tag
    {
      name: "tag v1",
      push: push({ ref: "refs/tags/v1" }),
      source: { url: URL_, ref: { tag: "v1" } },
      want: true,
    },
    // tag, a branch of the same name is pushed
    {
      name: "tag vs branch",
      push: push({ ref: "refs/heads/v1" }),
      source: { url: URL_, ref: { tag: "v1" } },
      want: false,
    },
    // branch, a tag of the same name is pushed
    {
      name: "branch vs tag",
      push: push({ ref: "refs/tags/main" }),
      source: { url: URL_, ref: { branch: "main" } },
      want: false,
    },
    // pinned commit: never
    { name: "commit", push: push(), source: { url: URL_, ref: { commit: SHA } }, want: false },
    // a source URL that is not a remote URL
    { name: "local source", push: push(), source: { url: "/srv/git/backups" }, want: false },
  ];
  for (const c of cases)
    it(`${c.name} → ${c.want}`, () => assert.equal(pushMatchesSource(c.push, c.source), c.want));
});
