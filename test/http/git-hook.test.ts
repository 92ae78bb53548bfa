// POST /hooks/git over real TLS, as GitHub, Gitea and GitLab deliver: what each delivery gets back, that
// `onPush` sees exactly the authenticated pushes, the limits, the log line and the metric; and that without a
// configured receiver the path does not exist.

import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, describe, test } from "node:test";
import tls from "node:tls";
import { GIT_HOOK_MAX_BODY_BYTES, GIT_HOOK_PATH } from "../../src/admission/constants.ts";
import { startWebhookServer } from "../../src/admission/server.ts";
import type { PushEvent } from "../../src/gitsync/receiver.ts";
import {
  Client,
  captureLogger,
  type Harness,
  makeCa,
  makeLeaf,
  manualTls,
  startHarness,
  staticWorld,
} from "./harness.ts";

const SECRET = "hook-secret-9f2c";
const SHA = "8f3a5bd0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6";

const PUSH = JSON.stringify({
  ref: "refs/heads/main",
  after: SHA,
  repository: {
    default_branch: "main",
    html_url: "https://github.com/ops/backups",
    clone_url: "https://github.com/ops/backups.git",
    ssh_url: "git@github.com:ops/backups.git",
  },
  head_commit: { message: "body-marker-7c1 nightly backups" },
});
const GITLAB_PUSH = JSON.stringify({
  object_kind: "push",
  ref: "refs/heads/main",
  after: SHA,
  project: { default_branch: "main", git_http_url: "https://gitlab.example.com/ops/backups.git" },
});

const signed = (body: string, secret = SECRET) =>
  `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
const JSON_TYPE = { "content-type": "application/json" };

interface HookReply {
  message: string;
  triggered: number;
}

describe("POST /hooks/git with a receiver", () => {
  const ca = makeCa();
  const logs = captureLogger();
  const pushes: PushEvent[] = [];
  let answer: (push: PushEvent) => number = () => 2;
  let server: Awaited<ReturnType<typeof startWebhookServer>>;
  let client: Client;

  before(async () => {
    server = await startWebhookServer({
      host: "127.0.0.1",
      port: 0,
      tls: manualTls(await makeLeaf(await ca)),
      world: staticWorld(),
      logger: logs.logger,
      closeGraceMs: 1000,
      gitHook: {
        secret: SECRET,
        onPush(push) {
          pushes.push(push);
          return answer(push);
        },
      },
    });
    client = new Client(server.port, (await ca).certPem);
  });
  after(async () => {
    client.destroy();
    await server.close();
  });

  async function post(body: string, headers: Record<string, string>) {
    const before = pushes.length;
    const r = await client.request("POST", GIT_HOOK_PATH, body, headers);
    assert.match(String(r.headers["content-type"]), /^application\/json/);
    return { ...r, reply: r.json as HookReply, pushed: pushes.slice(before) };
  }

  // (delivery) → status, triggered, message phrase, whether onPush was called
  const cases: {
    name: string;
    body: string;
    headers: Record<string, string>;
    status: number;
    triggered: number;
    message: RegExp;
    pushed: boolean;
  }[] = [
    // GitHub push, signed
    {
      name: "github push",
      body: PUSH,
      headers: { ...JSON_TYPE, "x-github-event": "push", "x-hub-signature-256": signed(PUSH) },
      status: 200,
      triggered: 2,
      message: /^push to refs\/heads\/main: 2 sources to sync$/,
      pushed: true,
    },
    // GitHub ping when the webhook is created
    {
      name: "github ping",
      body: '{"zen":"Design for failure."}',
      headers: {
        ...JSON_TYPE,
        "x-github-event": "ping",
        "x-hub-signature-256": signed('{"zen":"Design for failure."}'),
      },
      status: 200,
      triggered: 0,
      message: /^pong$/,
      pushed: false,
    },
    // GitHub push signed with another secret
    {
      name: "wrong signature",
      body: PUSH,
      headers: { ...JSON_TYPE, "x-github-event": "push", "x-hub-signature-256": signed(PUSH, "other") },
      status: 401,
      triggered: 0,
      message: /does not match/,
      pushed: false,
    },
    // GitHub push without a signature
    {
      name: "unsigned",
      body: PUSH,
      headers: { ...JSON_TYPE, "x-github-event": "push" },
      status: 401,
      triggered: 0,
      message: /missing X-Hub-Signature-256/,
      pushed: false,
    },
    // another GitHub event
    {
      name: "github issues",
      body: "{}",
      headers: { ...JSON_TYPE, "x-github-event": "issues", "x-hub-signature-256": signed("{}") },
      status: 202,
      triggered: 0,
      message: /not a push event/,
      pushed: false,
    },
    // Gitea push, X-Gitea-Signature only
    {
      name: "gitea push",
      body: PUSH,
      headers: {
        ...JSON_TYPE,
        "x-gitea-event": "push",
        "x-gitea-signature": signed(PUSH).slice("sha256=".length),
      },
      status: 200,
      triggered: 2,
      message: /2 sources to sync/,
      pushed: true,
    },
    // GitLab push with its token
    {
      name: "gitlab push",
      body: GITLAB_PUSH,
      headers: { ...JSON_TYPE, "x-gitlab-event": "Push Hook", "x-gitlab-token": SECRET },
      status: 200,
      triggered: 2,
      message: /2 sources to sync/,
      pushed: true,
    },
    // signed but malformed
    {
      name: "malformed JSON",
      body: '{"ref":',
      headers: { ...JSON_TYPE, "x-github-event": "push", "x-hub-signature-256": signed('{"ref":') },
      status: 400,
      triggered: 0,
      message: /malformed JSON/,
      pushed: false,
    },
    // no provider's event header
    {
      name: "no event header",
      body: PUSH,
      headers: { ...JSON_TYPE },
      status: 400,
      triggered: 0,
      message: /no X-GitHub-Event/,
      pushed: false,
    },
    // form-encoded (GitHub's other content type)
    {
      name: "form-encoded",
      body: `payload=${encodeURIComponent(PUSH)}`,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-github-event": "push",
        "x-hub-signature-256": signed(`payload=${encodeURIComponent(PUSH)}`),
      },
      status: 415,
      triggered: 0,
      message: /application\/json.*set the webhook's content type/,
      pushed: false,
    },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.status}`, async () => {
      const r = await post(c.body, c.headers);
      assert.equal(r.status, c.status, r.text);
      assert.equal(r.reply.triggered, c.triggered);
      assert.match(r.reply.message, c.message);
      assert.equal(r.pushed.length, c.pushed ? 1 : 0, "onPush called once per authenticated push");
      // The server still answers on the same keep-alive client.
      assert.equal((await client.request("GET", "/healthz")).status, 200);
    });
  }

  test("onPush gets the push read from the payload", async () => {
    const r = await post(PUSH, {
      ...JSON_TYPE,
      "x-github-event": "push",
      "x-hub-signature-256": signed(PUSH),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.pushed, [
      {
        provider: "github",
        ref: "refs/heads/main",
        after: SHA,
        defaultBranch: "main",
        repoUrls: [
          "https://github.com/ops/backups.git",
          "https://github.com/ops/backups",
          "git@github.com:ops/backups.git",
        ],
      },
    ]);
  });

  test("a push no source follows: 200, triggered 0", async () => {
    answer = () => 0;
    try {
      const r = await post(PUSH, {
        ...JSON_TYPE,
        "x-github-event": "push",
        "x-hub-signature-256": signed(PUSH),
      });
      assert.equal(r.status, 200);
      assert.deepEqual(r.reply, { message: "push to refs/heads/main: no source follows it", triggered: 0 });
    } finally {
      answer = () => 2;
    }
  });

  test("onPush throwing → 500, logged, and the server stays up", async () => {
    answer = () => {
      throw new Error("queue closed");
    };
    try {
      const r = await post(PUSH, {
        ...JSON_TYPE,
        "x-github-event": "push",
        "x-hub-signature-256": signed(PUSH),
      });
      assert.equal(r.status, 500);
      assert.deepEqual(r.reply, { message: "internal error", triggered: 0 });
      assert.ok(logs.lines().some((l) => l.msg === "git push delivery failed" && l.err === "queue closed"));
    } finally {
      answer = () => 2;
    }
    assert.equal((await client.request("GET", "/healthz")).status, 200);
  });

  test("GET /hooks/git → 405 with Allow: POST", async () => {
    const r = await client.request("GET", GIT_HOOK_PATH);
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, "POST");
  });

  test("a Content-Length over the limit → 413 before the body is read", async () => {
    const r = await rawPost(server.port, await ca, `Content-Length: ${GIT_HOOK_MAX_BODY_BYTES + 1}\r\n`);
    assert.match(r, /^HTTP\/1\.1 413 /);
    assert.match(r, new RegExp(`over the limit of ${GIT_HOOK_MAX_BODY_BYTES}`));
    assert.equal((await client.request("GET", "/healthz")).status, 200);
  });

  test("a chunked body that grows over the limit → 413, connection closed, onPush not called", async () => {
    const big = `{"ref":"refs/heads/main","pad":"${"x".repeat(GIT_HOOK_MAX_BODY_BYTES)}"}`;
    const r = await post(big, {
      ...JSON_TYPE,
      "x-github-event": "push",
      "x-hub-signature-256": signed(big),
      "transfer-encoding": "chunked",
    });
    assert.equal(r.status, 413);
    assert.equal(r.headers.connection, "close");
    assert.match(r.reply.message, /over the limit/);
    assert.equal(r.pushed.length, 0);
    assert.equal((await client.request("GET", "/healthz", undefined, {}, false)).status, 200);
  });

  test("one log line per delivery: provider, event, ref, triggered; never the secret, signature or body", async () => {
    const before = logs.lines().length;
    const signature = signed(PUSH);
    await post(PUSH, { ...JSON_TYPE, "x-github-event": "push", "x-hub-signature-256": signature });
    const lines = logs.lines().slice(before);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    const line = lines[0] as Record<string, unknown>;
    assert.equal(line.msg, "git push delivery");
    assert.equal(line.provider, "github");
    assert.equal(line.event, "push");
    assert.equal(line.ref, "refs/heads/main");
    assert.equal(line.triggered, 2);
    assert.equal(line.status, 200);
    const text = logs.text();
    assert.ok(!text.includes(SECRET), "secret logged");
    assert.ok(!text.includes(signature.slice(7)), "signature logged");
    assert.ok(!text.includes("body-marker-7c1"), "body logged");
  });

  test("deliveries are counted by provider and result", async () => {
    const metrics = (await client.request("GET", "/metrics")).text;
    const count = (provider: string, result: string) => {
      const m = new RegExp(
        `^casskeeper_git_hook_deliveries_total\\{provider="${provider}",result="${result}"\\} (\\d+)$`,
        "m",
      ).exec(metrics);
      return m === null ? 0 : Number(m[1]);
    };
    assert.ok(count("github", "triggered") >= 1);
    assert.ok(count("github", "unauthorized") >= 2);
    assert.ok(count("github", "ping") >= 1);
    assert.ok(count("github", "ignored") >= 1);
    assert.ok(count("github", "no_match") >= 1);
    assert.ok(count("github", "error") >= 1);
    assert.ok(count("gitlab", "triggered") >= 1);
    assert.ok(count("gitea", "triggered") >= 1);
    assert.ok(count("unknown", "invalid") >= 1, "no event header counts as unknown");
  });
});

describe("POST /hooks/git without a receiver", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  test("is a 404 like any unknown path, for POST and GET", async () => {
    for (const method of ["POST", "GET"]) {
      const r = await h.client.request(method, GIT_HOOK_PATH, method === "POST" ? PUSH : undefined, {
        ...JSON_TYPE,
        "x-github-event": "push",
        "x-hub-signature-256": signed(PUSH),
      });
      assert.equal(r.status, 404, `${method}: ${r.text}`);
    }
  });
});

test("an empty webhook secret is refused at start", async () => {
  const ca = await makeCa();
  await assert.rejects(
    startWebhookServer({
      host: "127.0.0.1",
      port: 0,
      tls: manualTls(await makeLeaf(ca)),
      world: staticWorld(),
      logger: captureLogger().logger,
      gitHook: { secret: "", onPush: () => 0 },
    }),
    /webhook secret is empty/,
  );
});

/** A POST with hand-written headers (a Content-Length the body never fills), read until the server closes. */
function rawPost(port: number, ca: { certPem: string }, extraHeaders: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem }, () => {
      socket.write(
        `POST ${GIT_HOOK_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-GitHub-Event: push\r\n${extraHeaders}\r\n`,
      );
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      text += d;
    });
    socket.on("end", () => resolve(text));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}
