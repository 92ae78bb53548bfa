// Rules for casskeeper's own BackupPolicySource (casskeeper.io/v1alpha1): what the CRD schema cannot say.
// The Git sync fetches over HTTP(S) with isomorphic-git, so SSH remotes are refused here, not at the first poll.

import { error, type Problem, warning } from "./problem.ts";
import { formatGoDuration, parseGoDuration } from "./schedule/index.ts";
import type { BackupPolicySource } from "./types.ts";

const SECOND = 1_000_000_000n;
/** Polling a Git host more often than this is abuse of the host; the push receiver exists for speed. */
const MIN_INTERVAL = 10n * SECOND;

export function validatePolicySource(obj: BackupPolicySource): Problem[] {
  const spec = obj.spec ?? {};
  const out: Problem[] = [];
  if (typeof spec.url === "string") {
    if (
      /^[\w.-]+@[\w.-]+:/.test(spec.url) ||
      spec.url.startsWith("ssh://") ||
      spec.url.startsWith("git://")
    ) {
      out.push(error("spec.url", "source.url", `only http(s) Git URLs are supported, got "${spec.url}"`));
    } else {
      let url: URL | undefined;
      try {
        url = new URL(spec.url);
      } catch {
        out.push(error("spec.url", "source.url", `not a URL: "${spec.url}"`));
      }
      if (url !== undefined) {
        if (url.protocol !== "https:" && url.protocol !== "http:") {
          out.push(
            error("spec.url", "source.url", `only http(s) Git URLs are supported, got ${url.protocol}`),
          );
        } else if (url.protocol === "http:") {
          out.push(
            warning("spec.url", "source.insecure", "plain http: credentials and content travel unencrypted"),
          );
        }
        if (url.username !== "" || url.password !== "") {
          // Never echo the URL here: it holds a credential.
          out.push(
            error("spec.url", "source.credentials-in-url", "the URL embeds credentials; use spec.secretRef"),
          );
        }
      }
    }
  }
  if (typeof spec.interval === "string") {
    const d = parseGoDuration(spec.interval);
    if (!d.ok) out.push(error("spec.interval", "source.interval", d.error));
    else if (d.nanos < MIN_INTERVAL) {
      out.push(
        error(
          "spec.interval",
          "source.interval",
          `interval ${formatGoDuration(d.nanos)} is below the minimum 10s; use the push receiver for fast syncs`,
        ),
      );
    }
  }
  if (typeof spec.path === "string") {
    const parts = spec.path.split("/");
    if (spec.path.startsWith("/") || parts.includes("..")) {
      out.push(
        error(
          "spec.path",
          "source.path",
          `path must be relative to the repository root, without "..": "${spec.path}"`,
        ),
      );
    }
  }
  const ref = spec.ref ?? {};
  if (typeof ref.commit === "string" && !/^[0-9a-f]{40}$/.test(ref.commit)) {
    out.push(
      error("spec.ref.commit", "source.ref", `commit must be a full 40-hex SHA-1, got "${ref.commit}"`),
    );
  }
  return out;
}
