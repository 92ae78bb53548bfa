// TLS material from files: `--tls-cert`/`--tls-key` (a mounted Secret, cert-manager's output, or the local
// pair under certs/), reloaded without a restart when they change, like controller-runtime's certwatcher.
//
// Kubernetes updates a Secret volume by swapping a `..data` symlink in the directory, so the directory is
// watched (not the files) and every event leads to a re-read; fs.watch can miss events (network filesystems,
// some containers), so a periodic stat comparison backs it up. A pair that does not load — half written, or a
// key that does not match the certificate — is logged and ignored, and the previous pair stays in use.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { type FSWatcher, watch as fsWatch } from "node:fs";
import { chmod, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import tls from "node:tls";
import { CasskeeperError } from "../core/errors.ts";
import { certificateNotAfter, createCa, createServingCert } from "../tls/certs.ts";
import type { Logger } from "./logger.ts";
import type { TlsSource } from "./server.ts";

/** A TLS pair file is a few KiB; anything larger is not one. */
const MAX_PEM_BYTES = 1024 * 1024;

export interface TlsFilesOptions {
  readonly certFile: string;
  readonly keyFile: string;
  readonly logger: Logger;
  /** The stat fallback's period (default 10 s). */
  readonly pollMs?: number;
  /** Quiet time after the last event before re-reading, so both files of a pair land first (default 250 ms). */
  readonly debounceMs?: number;
}

export interface TlsFilesSource extends TlsSource {
  /** Re-reads the files now; resolves true when a new pair was taken. (Exposed for tests and SIGHUP.) */
  reload(): Promise<boolean>;
  close(): void;
}

/** Loads the pair (failing if it does not load) and watches it. */
export async function watchTlsFiles(opts: TlsFilesOptions): Promise<TlsFilesSource> {
  const { certFile, keyFile, logger } = opts;
  let first: Pair;
  try {
    first = await readPair(certFile, keyFile);
  } catch (e) {
    throw new CasskeeperError("admission", "tls-files", `cannot read the TLS files: ${(e as Error).message}`);
  }
  const problem = checkPair(first);
  if (problem !== undefined) {
    throw new CasskeeperError("admission", "tls-files", `${certFile} and ${keyFile}: ${problem}`);
  }
  let current = first;
  let lastStats = await statSignature(certFile, keyFile);
  const listeners: (() => void)[] = [];
  let closed = false;

  const reload = async (): Promise<boolean> => {
    if (closed) return false;
    lastStats = await statSignature(certFile, keyFile);
    let pair: Pair;
    try {
      pair = await readPair(certFile, keyFile);
    } catch (e) {
      logger.error(
        { certFile, keyFile, err: (e as Error).message },
        "TLS files unreadable; keeping the current pair",
      );
      return false;
    }
    if (pair.cert === current.cert && pair.key === current.key) return false;
    const bad = checkPair(pair);
    if (bad !== undefined) {
      logger.error({ certFile, keyFile, err: bad }, "TLS files do not load; keeping the current pair");
      return false;
    }
    current = pair;
    logger.info({ certFile, notAfter: notAfterText(pair.cert) }, "TLS files changed; new certificate in use");
    for (const l of listeners) {
      try {
        l();
      } catch (e) {
        logger.error({ err: (e as Error).message }, "TLS change listener failed");
      }
    }
    return true;
  };

  let timer: NodeJS.Timeout | undefined;
  const schedule = () => {
    if (closed) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void reload();
    }, opts.debounceMs ?? 250);
    timer.unref();
  };

  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
    try {
      const w = fsWatch(dir, { persistent: false }, schedule);
      w.on("error", (e) =>
        logger.warn({ dir, err: e.message }, "watching TLS directory failed; polling only"),
      );
      watchers.push(w);
    } catch (e) {
      logger.warn({ dir, err: (e as Error).message }, "cannot watch TLS directory; polling only");
    }
  }
  const poll = setInterval(async () => {
    const now = await statSignature(certFile, keyFile);
    if (now !== lastStats) schedule();
  }, opts.pollMs ?? 10_000);
  poll.unref();

  return {
    current: () => current,
    onChange(listener) {
      listeners.push(listener);
    },
    reload,
    close() {
      closed = true;
      clearInterval(poll);
      if (timer !== undefined) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

interface Pair {
  readonly cert: string;
  readonly key: string;
}

async function readPair(certFile: string, keyFile: string): Promise<Pair> {
  const [cert, key] = await Promise.all([readPem(certFile), readPem(keyFile)]);
  return { cert, key };
}

async function readPem(file: string): Promise<string> {
  const s = await stat(file);
  if (s.size > MAX_PEM_BYTES) throw new Error(`${file} is ${s.size} bytes, not a PEM file`);
  return readFile(file, "utf8");
}

/** Why the pair cannot serve TLS (as node's TLS stack would say), or undefined when it can. */
function checkPair(pair: Pair): string | undefined {
  try {
    // createSecureContext alone takes an empty key as "no key"; the explicit match check does not.
    if (!new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key))) {
      return "the key does not match the certificate";
    }
    tls.createSecureContext({ cert: pair.cert, key: pair.key });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

async function statSignature(...files: string[]): Promise<string> {
  const parts = await Promise.all(
    files.map(async (f) => {
      try {
        const s = await stat(f);
        return `${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch {
        return "missing";
      }
    }),
  );
  return parts.join("|");
}

function notAfterText(cert: string): string | undefined {
  try {
    return certificateNotAfter(cert).toISOString();
  } catch {
    return undefined;
  }
}

export interface LocalCertificate {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** True when this call generated the files. */
  readonly created: boolean;
}

/** Days a locally generated pair lasts; regenerated when less than a day is left. */
const LOCAL_CA_DAYS = 365;
const LOCAL_LEAF_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * For `serve --local`: the pair under `dir` (tls.crt, tls.key, and ca.pem to give clients), generated when
 * absent or about to expire — a throwaway CA and a certificate for localhost, 127.0.0.1 and ::1. The CA's
 * key is not kept (a new pair gets a new CA). Keys are written with mode 0600.
 */
export async function ensureLocalCertificate(dir: string, now: number): Promise<LocalCertificate> {
  const files = {
    certFile: join(dir, "tls.crt"),
    keyFile: join(dir, "tls.key"),
    caFile: join(dir, "ca.pem"),
  };
  if (await usable(files.certFile, files.keyFile, files.caFile, now)) return { ...files, created: false };
  const notBefore = new Date(now - 60 * 60 * 1000); // an hour of slack for clocks that disagree
  const ca = await createCa({ commonName: "casskeeper local CA", notBefore, validityDays: LOCAL_CA_DAYS });
  const leaf = await createServingCert({
    ca,
    dnsNames: ["localhost"],
    ipAddresses: ["127.0.0.1", "::1"],
    notBefore,
    validityDays: LOCAL_LEAF_DAYS,
  });
  await mkdir(dir, { recursive: true });
  await writeFile(files.caFile, ca.certPem, { mode: 0o644 });
  await writeFile(files.keyFile, leaf.keyPem, { mode: 0o600 });
  await chmod(files.keyFile, 0o600); // writeFile's mode applies only to a new file
  await writeFile(files.certFile, leaf.certPem + ca.certPem, { mode: 0o644 });
  return { ...files, created: true };
}

async function usable(certFile: string, keyFile: string, caFile: string, now: number): Promise<boolean> {
  let pair: Pair;
  try {
    pair = await readPair(certFile, keyFile);
    await stat(caFile);
  } catch {
    return false;
  }
  if (checkPair(pair) !== undefined) return false;
  try {
    return certificateNotAfter(pair.cert).getTime() - now > DAY_MS;
  } catch {
    return false;
  }
}
