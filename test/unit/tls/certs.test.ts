import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync, X509Certificate } from "node:crypto";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import tls from "node:tls";
import { CasskeeperError } from "../../../src/core/errors.ts";
import { certificateNotAfter, createCa, createServingCert } from "../../../src/tls/certs.ts";

const NOW = new Date("2030-01-02T03:04:05Z");
const DAY = 86_400_000;

const ca = await createCa({ commonName: "casskeeper test CA", notBefore: NOW, validityDays: 3650 });
const leaf = await createServingCert({
  ca,
  dnsNames: ["casskeeper-webhook.casskeeper-system.svc", "localhost"],
  ipAddresses: ["127.0.0.1", "::1"],
  notBefore: NOW,
  validityDays: 365,
});
const caX = new X509Certificate(ca.certPem);
const leafX = new X509Certificate(leaf.certPem);

describe("createCa", () => {
  test("is a self-signed CA valid from notBefore for validityDays", () => {
    assert.equal(caX.ca, true);
    assert.equal(caX.verify(caX.publicKey), true);
    assert.equal(caX.subject, "CN=casskeeper test CA");
    assert.equal(caX.validFromDate.getTime(), NOW.getTime());
    assert.equal(caX.validToDate.getTime(), NOW.getTime() + 3650 * DAY);
  });

  test("writes a PKCS#8 private key matching the certificate, as PEM ending in a newline", () => {
    assert.match(ca.keyPem, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/);
    assert.match(ca.certPem, /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n$/);
    assert.equal(caX.checkPrivateKey(createPrivateKey(ca.keyPem)), true);
  });

  test("two CAs get different keys and serials", async () => {
    const other = await createCa({ commonName: "casskeeper test CA", notBefore: NOW, validityDays: 1 });
    const otherX = new X509Certificate(other.certPem);
    assert.notEqual(otherX.serialNumber, caX.serialNumber);
    assert.equal(leafX.verify(otherX.publicKey), false);
  });
});

describe("createServingCert", () => {
  test("is signed by the CA and is not itself a CA", () => {
    assert.equal(leafX.verify(caX.publicKey), true);
    assert.equal(leafX.checkIssued(caX), true);
    assert.equal(leafX.ca, false);
    assert.equal(leafX.checkPrivateKey(createPrivateKey(leaf.keyPem)), true);
  });

  test("carries every DNS name and IP as a SAN", () => {
    assert.equal(
      leafX.checkHost("casskeeper-webhook.casskeeper-system.svc"),
      "casskeeper-webhook.casskeeper-system.svc",
    );
    assert.equal(leafX.checkHost("localhost"), "localhost");
    assert.equal(leafX.checkHost("casskeeper-webhook.other.svc"), undefined);
    assert.equal(leafX.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(leafX.checkIP("::1"), "::1");
    assert.equal(leafX.checkIP("10.0.0.1"), undefined);
  });

  test("is for TLS servers (extended key usage serverAuth)", () => {
    assert.deepEqual(leafX.keyUsage, ["1.3.6.1.5.5.7.3.1"]);
  });

  test("is valid from notBefore for validityDays", () => {
    assert.equal(leafX.validFromDate.getTime(), NOW.getTime());
    assert.equal(certificateNotAfter(leaf.certPem).getTime(), NOW.getTime() + 365 * DAY);
  });

  test("signs with an RSA CA key too (a CA brought from elsewhere)", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rsaKeyPem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    // The leaf is signed with the RSA key under our CA's name: the RSA public key verifies it, the EC one not.
    const rsaSigned = await createServingCert({
      ca: { certPem: ca.certPem, keyPem: rsaKeyPem },
      dnsNames: ["x.test"],
      notBefore: NOW,
      validityDays: 1,
    });
    const x = new X509Certificate(rsaSigned.certPem);
    assert.equal(x.verify(publicKey), true);
    assert.equal(x.verify(caX.publicKey), false);
  });

  // Each tuple: bad options → the error code the caller sees.
  const bad: { name: string; opts: () => Parameters<typeof createServingCert>[0]; code: string }[] = [
    // no DNS name and no IP
    {
      name: "no names",
      opts: () => ({ ca, dnsNames: [], notBefore: NOW, validityDays: 1 }),
      code: "tls-no-names",
    },
    // zero validity
    {
      name: "zero days",
      opts: () => ({ ca, dnsNames: ["a"], notBefore: NOW, validityDays: 0 }),
      code: "tls-bad-validity",
    },
    // CA key that is not PEM
    {
      name: "bad CA key",
      opts: () => ({
        ca: { certPem: ca.certPem, keyPem: "nope" },
        dnsNames: ["a"],
        notBefore: NOW,
        validityDays: 1,
      }),
      code: "tls-bad-key",
    },
  ];
  for (const c of bad) {
    test(`rejects ${c.name}`, async () => {
      await assert.rejects(
        createServingCert(c.opts()),
        (e: unknown) => e instanceof CasskeeperError && e.code === c.code,
      );
    });
  }
});

describe("certificateNotAfter", () => {
  test("rejects text that is not a certificate", () => {
    assert.throws(
      () => certificateNotAfter("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
      (e: unknown) => e instanceof CasskeeperError && e.code === "tls-bad-certificate",
    );
  });
});

describe("a real TLS handshake", () => {
  // Certificates valid now (the ones above start in 2030).
  const live = async () => {
    const liveCa = await createCa({
      commonName: "handshake CA",
      notBefore: new Date(Date.now() - DAY),
      validityDays: 2,
    });
    const liveLeaf = await createServingCert({
      ca: liveCa,
      dnsNames: ["casskeeper-webhook.casskeeper-system.svc"],
      ipAddresses: ["127.0.0.1"],
      notBefore: new Date(Date.now() - DAY),
      validityDays: 2,
    });
    return { liveCa, liveLeaf };
  };

  test("a client trusting only the CA accepts the server by service name and by IP", async () => {
    const { liveCa, liveLeaf } = await live();
    const server = tls.createServer({ cert: liveLeaf.certPem, key: liveLeaf.keyPem }, (s) => s.end("hello"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      for (const servername of ["casskeeper-webhook.casskeeper-system.svc", undefined]) {
        const text = await handshake(port, liveCa.certPem, servername);
        assert.equal(text, "hello");
      }
    } finally {
      server.close();
    }
  });

  test("a client checking another name refuses it", async () => {
    const { liveCa, liveLeaf } = await live();
    const server = tls.createServer({ cert: liveLeaf.certPem, key: liveLeaf.keyPem }, (s) => s.end("hello"));
    server.on("tlsClientError", () => {});
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    try {
      await assert.rejects(handshake(port, liveCa.certPem, "casskeeper-webhook.elsewhere.svc"), /altnames/);
      const stranger = await createCa({
        commonName: "stranger",
        notBefore: new Date(Date.now() - DAY),
        validityDays: 2,
      });
      await assert.rejects(
        handshake(port, stranger.certPem, undefined),
        /self-signed|unable to (verify|get)/,
      );
    } finally {
      server.close();
    }
  });
});

function handshake(port: number, caPem: string, servername: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: "127.0.0.1", port, ca: caPem, ...(servername ? { servername } : {}) },
      () => {
        let text = "";
        socket.setEncoding("utf8");
        socket.on("data", (d: string) => {
          text += d;
        });
        socket.on("end", () => resolve(text));
      },
    );
    socket.on("error", reject);
  });
}
