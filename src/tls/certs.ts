// TLS material for the webhook: a CA and serving certificates signed by it, as PEM. Used by the in-cluster
// certificate manager (src/kube/cert-manager.ts) and by `casskeeper serve --local`.
//
// Keys are ECDSA P-256 (fast to make, accepted by the API server's Go TLS stack). Serving certificates carry
// their names as SANs only, because Go ≥ 1.15 ignores the Common Name (`x509: certificate relies on legacy
// Common Name field`, controlplaneio/kubesec-webhook#15), and the key usages of a TLS server. No I/O and no
// clock here: the caller passes `notBefore`.

import "./reflect-metadata.ts"; // before @peculiar/x509 (tsyringe checks for it at import)
import { createPrivateKey, X509Certificate as NodeX509Certificate, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { CasskeeperError } from "../core/errors.ts";

type WebCrypto = typeof webcrypto;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;

// The library's `Crypto` is the DOM type; Node's webcrypto is the same API under @types/node's names.
x509.cryptoProvider.set(webcrypto as WebCrypto as ReturnType<typeof x509.cryptoProvider.get>);

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

const EC_KEY: webcrypto.EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const DAY_MS = 86_400_000;

export interface CaOptions {
  readonly commonName: string;
  readonly notBefore: Date;
  readonly validityDays: number;
}

/** A self-signed CA allowed to sign certificates only (path length 0). */
export async function createCa(opts: CaOptions): Promise<PemPair> {
  checkValidity(opts.validityDays);
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [opts.commonName] }],
    notBefore: opts.notBefore,
    notAfter: new Date(opts.notBefore.getTime() + opts.validityDays * DAY_MS),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: withNewline(cert.toString("pem")), keyPem: await exportKey(keys.privateKey) };
}

export interface ServingCertOptions {
  readonly ca: PemPair;
  /** DNS SANs; the first is also the Common Name (for humans; clients check the SANs). */
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly notBefore: Date;
  readonly validityDays: number;
}

/** A leaf for a TLS server, signed by `ca`. */
export async function createServingCert(opts: ServingCertOptions): Promise<PemPair> {
  checkValidity(opts.validityDays);
  const names = [
    ...opts.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  if (names.length === 0) {
    throw new CasskeeperError("admission", "tls-no-names", "a serving certificate needs a DNS name or an IP");
  }
  const caCert = new x509.X509Certificate(opts.ca.certPem);
  const caKey = await importSigningKey(opts.ca.keyPem);
  const keys = await generateKeys();
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [opts.dnsNames[0] ?? opts.ipAddresses?.[0] ?? "casskeeper"] }],
    issuer: caCert.subjectName,
    notBefore: opts.notBefore,
    notAfter: new Date(opts.notBefore.getTime() + opts.validityDays * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: caKey.key,
    signingAlgorithm: caKey.signing,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...(caKeyId === undefined ? [] : [new x509.AuthorityKeyIdentifierExtension(caKeyId)]),
    ],
  });
  return { certPem: withNewline(cert.toString("pem")), keyPem: await exportKey(keys.privateKey) };
}

/** The expiry of the first certificate in `certPem`. */
export function certificateNotAfter(certPem: string): Date {
  try {
    return new NodeX509Certificate(certPem).validToDate;
  } catch (e) {
    throw new CasskeeperError("admission", "tls-bad-certificate", "not a PEM certificate", { cause: e });
  }
}

/** PEM ends with a newline, so files and bundles can be concatenated (`cat leaf.pem ca.pem`). */
function withNewline(pem: string): string {
  const unix = pem.replace(/\r\n/g, "\n");
  return unix.endsWith("\n") ? unix : `${unix}\n`;
}

function checkValidity(days: number): void {
  if (!Number.isFinite(days) || days <= 0) {
    throw new CasskeeperError("admission", "tls-bad-validity", `validityDays must be > 0, got ${days}`);
  }
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]) as Promise<CryptoKeyPair>;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return withNewline(x509.PemConverter.encode(der, "PRIVATE KEY"));
}

/** 16 random bytes, top bit clear so the DER integer is positive (RFC 5280 §4.1.2.2: ≤ 20 octets). */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString("hex");
}

/** A CA key in any PEM form node reads (PKCS#8, SEC1, PKCS#1); ECDSA or RSA (a CA brought from elsewhere). */
async function importSigningKey(pem: string): Promise<{ key: CryptoKey; signing: Algorithm | EcdsaParams }> {
  let keyObject: ReturnType<typeof createPrivateKey>;
  try {
    keyObject = createPrivateKey(pem);
  } catch (e) {
    throw new CasskeeperError("admission", "tls-bad-key", "the CA key is not a PEM private key", {
      cause: e,
    });
  }
  const type = keyObject.asymmetricKeyType;
  if (type === "ec") {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === "prime256v1" ? "P-256" : curve === "secp384r1" ? "P-384" : undefined;
    if (namedCurve === undefined) {
      throw new CasskeeperError("admission", "tls-bad-key", `unsupported CA key curve ${curve ?? "?"}`);
    }
    const hash = namedCurve === "P-384" ? "SHA-384" : "SHA-256";
    const key = keyObject.toCryptoKey({ name: "ECDSA", namedCurve }, false, ["sign"]) as unknown as CryptoKey;
    return { key, signing: { name: "ECDSA", hash } };
  }
  if (type === "rsa") {
    const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    const key = keyObject.toCryptoKey(algorithm, false, ["sign"]) as unknown as CryptoKey;
    return { key, signing: algorithm };
  }
  throw new CasskeeperError("admission", "tls-bad-key", `unsupported CA key type ${type ?? "?"}`);
}
