// Certificate rotation under a running server: the TLS files are replaced (in place, and the way the kubelet
// updates a Secret volume, by swapping a `..data` symlink); new connections get the new certificate, an open
// keep-alive connection carries on with the old one, and a broken pair is ignored.

import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { watchTlsFiles } from "../../src/admission/tls-files.ts";
import type { PemPair } from "../../src/tls/certs.ts";
import { captureLogger, type Harness, makeCa, makeLeaf, startHarness } from "./harness.ts";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "casskeeper-rotation-"));
  dirs.push(d);
  return d;
}

const serialOf = (p: PemPair) => new X509Certificate(p.certPem).serialNumber;

/** Waits until `probe` is true; the deadline only bounds a hung test, it asserts nothing about speed. */
async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function freshSerial(h: Harness): Promise<string> {
  return (await h.client.request("GET", "/healthz", undefined, {}, false)).serial;
}

describe("rotation by replacing --tls-cert/--tls-key", () => {
  test("files rewritten in place: new connections see the new certificate, the old connection keeps working", async () => {
    const dir = await tempDir();
    const ca = await makeCa();
    const [a, b] = [await makeLeaf(ca), await makeLeaf(ca)];
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    await writeFile(certFile, a.certPem);
    await writeFile(keyFile, a.keyPem);
    const logs = captureLogger();
    const source = await watchTlsFiles({
      certFile,
      keyFile,
      logger: logs.logger,
      debounceMs: 20,
      pollMs: 100,
    });
    const h = await startHarness({ tls: source, ca });
    try {
      const before = await h.client.request("GET", "/healthz"); // opens the keep-alive connection
      assert.equal(before.serial, serialOf(a));

      // Key first, then certificate: for a moment the pair does not match, and that moment must not stick.
      await writeFile(keyFile, b.keyPem);
      await writeFile(certFile, b.certPem);
      await until(async () => (await freshSerial(h)) === serialOf(b), "a new connection sees certificate B");

      const old = await h.client.request("GET", "/healthz"); // same keep-alive socket
      assert.equal(old.status, 200);
      assert.equal(old.serial, serialOf(a), "the open connection still uses certificate A");
      const expiry = /casskeeper_tls_certificate_expiry_timestamp_seconds (\d+)/.exec(
        (await h.client.request("GET", "/metrics")).text,
      );
      assert.equal(
        Number(expiry?.[1]),
        Math.floor(new X509Certificate(b.certPem).validToDate.getTime() / 1000),
      );
    } finally {
      await h.close();
      source.close();
    }
  });

  test("a Secret volume's ..data symlink swap is picked up", async () => {
    const dir = await tempDir();
    const ca = await makeCa();
    const [a, b] = [await makeLeaf(ca), await makeLeaf(ca)];
    // The kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/
    const version = async (name: string, pair: PemPair) => {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, "tls.crt"), pair.certPem);
      await writeFile(join(dir, name, "tls.key"), pair.keyPem);
    };
    await version("..v1", a);
    await symlink("..v1", join(dir, "..data"));
    await symlink("..data/tls.crt", join(dir, "tls.crt"));
    await symlink("..data/tls.key", join(dir, "tls.key"));
    const logs = captureLogger();
    const source = await watchTlsFiles({
      certFile: join(dir, "tls.crt"),
      keyFile: join(dir, "tls.key"),
      logger: logs.logger,
      debounceMs: 20,
      pollMs: 100,
    });
    const h = await startHarness({ tls: source, ca });
    try {
      assert.equal(await freshSerial(h), serialOf(a));
      await version("..v2", b);
      await symlink("..v2", join(dir, "..data_tmp"));
      await rename(join(dir, "..data_tmp"), join(dir, "..data")); // atomic, as the kubelet does
      await until(async () => (await freshSerial(h)) === serialOf(b), "a new connection sees certificate B");
    } finally {
      await h.close();
      source.close();
    }
  });

  test("a half-written or mismatched pair is ignored and the previous certificate stays in use", async () => {
    const dir = await tempDir();
    const ca = await makeCa();
    const [a, b] = [await makeLeaf(ca), await makeLeaf(ca)];
    const certFile = join(dir, "tls.crt");
    const keyFile = join(dir, "tls.key");
    await writeFile(certFile, a.certPem);
    await writeFile(keyFile, a.keyPem);
    const logs = captureLogger();
    // Long debounce and poll: this test drives reloads itself.
    const source = await watchTlsFiles({
      certFile,
      keyFile,
      logger: logs.logger,
      debounceMs: 60_000,
      pollMs: 60_000,
    });
    const h = await startHarness({ tls: source, ca });
    try {
      // Each tuple: what lands in the files → not taken, and the certificate in use is still A.
      const broken: { name: string; cert: string; key: string }[] = [
        // the certificate cut in the middle of its base64
        { name: "half-written certificate", cert: a.certPem.slice(0, 200), key: a.keyPem },
        // B's certificate with A's key
        { name: "mismatched key", cert: b.certPem, key: a.keyPem },
        // an empty key file
        { name: "empty key", cert: b.certPem, key: "" },
      ];
      for (const c of broken) {
        await writeFile(certFile, c.cert);
        await writeFile(keyFile, c.key);
        assert.equal(await source.reload(), false, c.name);
        assert.equal(source.current()?.cert, a.certPem, c.name);
        assert.equal(await freshSerial(h), serialOf(a), c.name);
      }
      const errors = logs.lines().filter((l) => l.msg === "TLS files do not load; keeping the current pair");
      assert.equal(errors.length, broken.length);
      assert.ok(!logs.text().includes("PRIVATE KEY"), "no key material in the logs");

      await writeFile(certFile, b.certPem);
      await writeFile(keyFile, b.keyPem);
      assert.equal(await source.reload(), true);
      assert.equal(await freshSerial(h), serialOf(b));
    } finally {
      await h.close();
      source.close();
    }
  });

  test("a pair that does not load at start is an error naming the files", async () => {
    const dir = await tempDir();
    const ca = await makeCa();
    const a = await makeLeaf(ca);
    const b = await makeLeaf(ca);
    await writeFile(join(dir, "tls.crt"), a.certPem);
    await writeFile(join(dir, "tls.key"), b.keyPem);
    await assert.rejects(
      watchTlsFiles({
        certFile: join(dir, "tls.crt"),
        keyFile: join(dir, "tls.key"),
        logger: captureLogger().logger,
      }),
      /tls\.crt and .*tls\.key: .*(mismatch|does not match|key values)/i,
    );
    await assert.rejects(
      watchTlsFiles({
        certFile: join(dir, "nope.crt"),
        keyFile: join(dir, "tls.key"),
        logger: captureLogger().logger,
      }),
      /ENOENT/,
    );
  });
});
