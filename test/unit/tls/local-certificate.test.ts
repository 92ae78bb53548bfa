import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ensureLocalCertificate } from "../../../src/admission/tls-files.ts";

const DAY = 86_400_000;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function certsDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "casskeeper-local-"));
  dirs.push(d);
  return join(d, "certs");
}

const serial = (file: string) => new X509Certificate(readFileSync(file)).serialNumber;

describe("ensureLocalCertificate", () => {
  test("creates ca.pem, tls.crt and a 0600 tls.key for localhost, 127.0.0.1 and ::1", async () => {
    const dir = await certsDir();
    const now = Date.now();
    const made = await ensureLocalCertificate(dir, now);
    assert.equal(made.created, true);
    assert.deepEqual(
      [made.caFile, made.certFile, made.keyFile],
      [join(dir, "ca.pem"), join(dir, "tls.crt"), join(dir, "tls.key")],
    );
    assert.equal(statSync(made.keyFile).mode & 0o777, 0o600);
    const leaf = new X509Certificate(readFileSync(made.certFile));
    const ca = new X509Certificate(readFileSync(made.caFile));
    assert.equal(leaf.verify(ca.publicKey), true);
    assert.equal(leaf.checkHost("localhost"), "localhost");
    assert.equal(leaf.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(leaf.checkIP("::1"), "::1");
    assert.ok(leaf.validFromDate.getTime() <= now);
    assert.ok(leaf.validToDate.getTime() > now + 30 * DAY);
  });

  // Each tuple: the state of the directory on the second call → whether a new pair is made.
  const cases: {
    name: string;
    spoil?: (dir: string) => Promise<void>;
    laterDays?: number;
    created: boolean;
  }[] = [
    // an intact, valid pair is kept
    { name: "valid pair", created: false },
    // a pair about to expire is replaced
    { name: "expiring pair", laterDays: 365, created: true },
    // a key that is not a key is replaced
    { name: "broken key", spoil: (d) => writeFile(join(d, "tls.key"), "garbage"), created: true },
    // a missing CA file (clients need it) is replaced
    { name: "missing ca.pem", spoil: (d) => rm(join(d, "ca.pem")), created: true },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.created ? "regenerated" : "kept"}`, async () => {
      const dir = await certsDir();
      const now = Date.now();
      const first = await ensureLocalCertificate(dir, now);
      const before = serial(first.certFile);
      await c.spoil?.(dir);
      const second = await ensureLocalCertificate(dir, now + (c.laterDays ?? 0) * DAY);
      assert.equal(second.created, c.created);
      assert.equal(serial(second.certFile) !== before, c.created);
      assert.equal(statSync(second.keyFile).mode & 0o777, 0o600);
    });
  }
});
