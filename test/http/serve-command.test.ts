// `casskeeper serve` as a user runs it (`npm start` = `serve --local`): the real binary in a fresh directory,
// the curl lines it prints replayed with node's https, then SIGTERM and a clean exit.

import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { after, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import {
  MUTATING_CONFIG_NAME,
  MUTATING_WEBHOOK_NAME,
  NAMESPACE,
  SERVICE_NAME,
  TLS_SECRET_NAME,
  VALIDATING_CONFIG_NAME,
  VALIDATING_WEBHOOK_NAME,
} from "../../src/admission/constants.ts";
import { type Io, run } from "../../src/cli/main.ts";
import { BIN, hasStackTrace, ROOT } from "../support/cli.ts";
import { type Obj, startKubeApiDouble } from "../support/kube-api-double.ts";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], cwd: string, env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Resolves when `pattern` appears on stdout; fails if the process exits first. */
async function waitFor(r: Running, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const m = pattern.exec(r.stdout());
    if (m) return m;
    const exited = await Promise.race([r.exited, new Promise((res) => setTimeout(() => res("wait"), 50))]);
    if (exited !== "wait")
      assert.fail(`exited ${String(exited)} before ${pattern}:\n${r.stdout()}\n${r.stderr()}`);
  }
}

interface Curl {
  cacert: string;
  data: string;
  url: string;
}

/** The parts of a printed `curl --cacert A -H '…' --data-binary @B URL` line. */
function parseCurl(line: string): Curl {
  const m =
    /curl --cacert (\S+) -H 'Content-Type: application\/json' --data-binary @(\S+) (https:\/\/\S+)/.exec(
      line,
    );
  assert.ok(m, `not a curl line: ${line}`);
  return { cacert: m[1] ?? "", data: m[2] ?? "", url: m[3] ?? "" };
}

/** What curl would do: POST the file with Content-Type application/json, trusting only the CA file. */
function replay(curl: Curl, cwd: string): Promise<{ status: number; json: unknown }> {
  const resolve = (p: string) => (isAbsolute(p) ? p : join(cwd, p));
  const body = readFileSync(resolve(curl.data));
  return new Promise((ok, fail) => {
    const req = https.request(
      curl.url,
      {
        method: "POST",
        ca: readFileSync(resolve(curl.cacert)),
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          text += d;
        });
        res.on("end", () => ok({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

describe("casskeeper serve --local", () => {
  test("prints where it listens and curl lines that work; SIGTERM stops it with exit 0", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "casskeeper-serve-"));
    dirs.push(cwd);
    const r = start(["serve", "--local", "--port", "0"], cwd);
    try {
      await waitFor(r, /listening on https:\/\/127\.0\.0\.1:(\d+)/);
      await waitFor(r, /stop with Ctrl-C/);
      assert.match(r.stdout(), /generated a local CA and certificate in certs\//);
      assert.equal(statSync(join(cwd, "certs", "tls.key")).mode & 0o777, 0o600);

      const curls = r
        .stdout()
        .split("\n")
        .filter((l) => l.trim().startsWith("curl "))
        .map(parseCurl);
      assert.equal(curls.length, 2);
      const [allowed, denied] = curls as [Curl, Curl];
      assert.equal(allowed.cacert, "certs/ca.pem");

      const first = await replay(allowed, cwd);
      assert.equal(first.status, 200);
      const review = first.json as { kind: string; response: { uid: string; allowed: boolean } };
      assert.equal(review.kind, "AdmissionReview");
      assert.equal(review.response.uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
      assert.equal(review.response.allowed, true);

      const second = await replay(denied, cwd);
      const deniedReview = second.json as { response: { allowed: boolean; status: { message: string } } };
      assert.equal(deniedReview.response.allowed, false);
      assert.match(deniedReview.response.status.message, /spec\.schedule: .*; spec\./);
    } finally {
      r.child.kill("SIGTERM");
    }
    assert.equal(await r.exited, 0, r.stderr());
    assert.match(r.stdout(), /"msg":"stopped"/);
    // At the default level the JSON log has a line per denied review; allowed ones are at debug (read after
    // exit: the lines follow the answers).
    const reviews = r
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg: string; verdict?: string })
      .filter((l) => l.msg === "admission review");
    assert.deepEqual(
      reviews.map((l) => l.verdict),
      ["denied"],
    );

    assert.equal(hasStackTrace(r.stderr()), false);

    // A second start reuses the pair it made.
    const again = start(["serve", "--local", "--port", "0"], cwd);
    try {
      await waitFor(again, /listening on/);
      assert.doesNotMatch(again.stdout(), /generated/);
    } finally {
      again.child.kill("SIGINT");
    }
    assert.equal(await again.exited, 0, again.stderr());
  });
});

describe("casskeeper serve --kube --self-managed-tls (against the API double)", () => {
  test("makes its certificate, injects the CA, reads the world from the caches, answers, stops on SIGTERM", async () => {
    const cwd = await mkdtemp(join(tmpdir(), "casskeeper-serve-kube-"));
    dirs.push(cwd);
    const double = await startKubeApiDouble();
    try {
      for (const config of webhookConfigurations()) double.objects.put(config);
      // The examples' world, as a cluster would hold it.
      const world = parseYaml(readFileSync(join(ROOT, "examples", "world.yaml"), "utf8")) as { items: Obj[] };
      for (const item of world.items) double.objects.put(item);
      const kubeconfig = join(cwd, "kubeconfig");
      writeFileSync(kubeconfig, double.kubeConfig().exportConfig());

      const r = start(
        [
          "serve",
          "--kube",
          "--self-managed-tls",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
          "--namespace",
          NAMESPACE,
        ],
        cwd,
        { KUBECONFIG: kubeconfig, POD_NAMESPACE: "ignored-when-namespace-given" },
      );
      try {
        const port = Number((await waitFor(r, /listening on https:\/\/127\.0\.0\.1:(\d+)/))[1]);
        // The CA the API server would use: the caBundle written into the validating configuration.
        const validating = double.objects.get(
          "admissionregistration.k8s.io/v1",
          "ValidatingWebhookConfiguration",
          undefined,
          VALIDATING_CONFIG_NAME,
        ) as { webhooks: { clientConfig: { caBundle?: string } }[] };
        const caBundle = validating.webhooks[0]?.clientConfig.caBundle ?? "";
        assert.ok(caBundle.length > 0, "caBundle injected");
        const ca = Buffer.from(caBundle, "base64").toString("utf8");
        // The Service routes to ready pods only: wait for /readyz (certificate loaded, caches listed).
        await waitForReady(port, ca, `${SERVICE_NAME}.${NAMESPACE}.svc`);
        const answer = await new Promise<{ status: number; json: unknown }>((ok, fail) => {
          const req = https.request(
            {
              host: "127.0.0.1",
              port,
              path: "/validate?timeout=10s",
              method: "POST",
              ca,
              servername: `${SERVICE_NAME}.${NAMESPACE}.svc`, // the name the API server dials
              headers: { "content-type": "application/json" },
            },
            (res) => {
              let text = "";
              res.setEncoding("utf8").on("data", (d: string) => {
                text += d;
              });
              res.on("end", () => ok({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
            },
          );
          req.on("error", fail);
          req.end(readFileSync(join(ROOT, "examples", "admission-review-denied.json")));
        });
        assert.equal(answer.status, 200);
        const review = answer.json as { response: { allowed: boolean; status: { message: string } } };
        assert.equal(review.response.allowed, false);
        // A world-dependent check ran: the datacenter is looked up in the cluster's CassandraCluster.
        assert.match(
          review.response.status.message,
          /"dc3" is not a datacenter of CassandraCluster "orders"/,
        );
        assert.ok(
          double.objects.get("v1", "Secret", NAMESPACE, TLS_SECRET_NAME),
          "the TLS Secret was created",
        );
      } finally {
        r.child.kill("SIGTERM");
      }
      assert.equal(await r.exited, 0, r.stderr());
      assert.match(r.stdout(), /"msg":"stopped"/);
    } finally {
      await double.close();
    }
  });
});

function webhookConfigurations(): Obj[] {
  const hook = (name: string, path: string) => ({
    name,
    clientConfig: { service: { namespace: NAMESPACE, name: SERVICE_NAME, path, port: 443 } },
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
  });
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name: VALIDATING_CONFIG_NAME },
      webhooks: [hook(VALIDATING_WEBHOOK_NAME, "/validate")],
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: MUTATING_CONFIG_NAME },
      webhooks: [hook(MUTATING_WEBHOOK_NAME, "/mutate")],
    },
  ];
}

describe("casskeeper serve: usage errors exit 2 with a message", () => {
  // Each tuple: arguments → the message.
  const cases: { args: string[]; message: RegExp }[] = [
    // no TLS source
    {
      args: ["serve"],
      message: /serve needs TLS: --tls-cert FILE --tls-key FILE, --self-managed-tls, or --local/,
    },
    // half a pair
    { args: ["serve", "--tls-cert", "a.crt"], message: /--tls-cert and --tls-key go together/ },
    // two TLS sources
    {
      args: ["serve", "--tls-cert", "a", "--tls-key", "b", "--self-managed-tls"],
      message: /are exclusive/,
    },
    // two world sources
    {
      args: ["serve", "--local", "--kube", "--world", "w.yaml"],
      message: /--world and --kube are exclusive/,
    },
    // bad port
    { args: ["serve", "--local", "--port", "http"], message: /--port must be 0–65535, got "http"/ },
    // bad log level
    { args: ["serve", "--local", "--log-level", "loud"], message: /--log-level must be one of/ },
    // the runner needs the cluster, and its flags need the runner
    { args: ["serve", "--local", "--runner"], message: /--runner needs --kube/ },
    { args: ["serve", "--local", "--sidecar-port", "4568"], message: /go with --runner/ },
    {
      args: ["serve", "--self-managed-tls", "--kube", "--runner", "--sidecar-address", "mdns"],
      message: /--sidecar-address must be dns or ip, got "mdns"/,
    },
    {
      args: ["serve", "--self-managed-tls", "--kube", "--runner", "--sidecar-port", "99999"],
      message: /--sidecar-port must be 0–65535/,
    },
    // files that do not exist
    {
      args: ["serve", "--tls-cert", "/nonexistent/tls.crt", "--tls-key", "/nonexistent/tls.key"],
      message: /cannot read the TLS files: ENOENT.*\/nonexistent\/tls/,
    },
  ];
  for (const c of cases) {
    test(c.args.join(" "), async () => {
      let stderr = "";
      const io: Io = {
        stdout: () => {},
        stderr: (t) => {
          stderr += t;
        },
        readStdin: async () => "",
        now: () => Date.now(),
        cwd: tmpdir(),
      };
      assert.equal(await run(c.args, io), 2, stderr);
      assert.match(stderr, c.message);
      assert.doesNotMatch(stderr, /internal error/);
    });
  }
});

/** Polls GET /readyz until it answers 200, as the kubelet's readiness probe gates the Service (at most ~15 s). */
async function waitForReady(port: number, ca: string, servername: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const status = await new Promise<number>((ok) => {
      https
        .get({ host: "127.0.0.1", port, path: "/readyz", ca, servername }, (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        })
        .on("error", () => ok(0));
    });
    if (status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("/readyz never answered 200");
}
