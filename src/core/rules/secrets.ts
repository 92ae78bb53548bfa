// secret: the Secret exists and holds the keys the sidecar reads for the location's provider
// (reference/sidecar.md §5, esop 1.1.x/2.0.x):
//   - s3, oracle, minio, ceph (esop `s3/TransferManagerFactory.java`): `awsaccesskeyid` and `awssecretaccesskey`
//     are required (the sidecar throws "Secret %s does not contain any entry with key ..."); `awsregion` is
//     required when `awsendpoint` is set ("AWS_REGION must be set if AWS_ENDPOINT is set."); ceph requires an
//     endpoint (esop README), hence a region too;
//   - gcp (`gcp/GCPModule.java`): `gcp`, the service-account JSON;
//   - azure (`azure/AzureModule.java`): `azurestorageaccount` and `azurestoragekey`;
//   - file: none.
// The world holds key names only, so no message can carry a secret value.
//
// With no secret named, CassKop omits `k8sSecretName` and esop resolves
// `cassandra-backup-restore-secret-cluster-<clusterId>`, clusterId being the 3rd path element of the location
// (`AbstractOperationRequest.resolveKubernetesSecretName`): `...-null` for a bucket-only location.

import type { Problem } from "../problem.ts";
import { key } from "../world.ts";
import { problem } from "./codes.ts";
import type { RuleContext } from "./context.ts";
import { parseStorageLocation, S3_LIKE_PROTOCOLS, type StorageLocation } from "./storage-location.ts";
import { listing, nonEmpty, q } from "./support.ts";

export const DEFAULT_SECRET_PREFIX = "cassandra-backup-restore-secret-cluster-";

/** Keys the sidecar always needs for a provider (ceph: also the endpoint and so the region). */
export function requiredSecretKeys(protocol: string): readonly string[] {
  switch (protocol) {
    case "s3":
    case "oracle":
    case "minio":
      return ["awsaccesskeyid", "awssecretaccesskey"];
    case "ceph":
      return ["awsaccesskeyid", "awssecretaccesskey", "awsendpoint", "awsregion"];
    case "gcp":
      return ["gcp"];
    case "azure":
      return ["azurestorageaccount", "azurestoragekey"];
    default:
      return [];
  }
}

/** Keys the sidecar reads when present. */
export function optionalSecretKeys(protocol: string): readonly string[] {
  return S3_LIKE_PROTOCOLS.includes(protocol) && protocol !== "ceph" ? ["awsregion", "awsendpoint"] : [];
}

/** The keys a Secret with `keys` lacks for `protocol`, in a stable order; `awsregion` when `awsendpoint` is set. */
export function missingSecretKeys(protocol: string, keys: ReadonlySet<string>): string[] {
  const needed = [...requiredSecretKeys(protocol)];
  if (S3_LIKE_PROTOCOLS.includes(protocol) && keys.has("awsendpoint") && !needed.includes("awsregion")) {
    needed.push("awsregion");
  }
  return needed.filter((k) => !keys.has(k));
}

/** The secret name esop resolves when no `k8sSecretName` is sent. */
export function defaultSecretName(location: StorageLocation): string {
  // Java's String.format("%s", null) gives "null" for the bucket-only form.
  return `${DEFAULT_SECRET_PREFIX}${location.global ? "null" : (location.cluster ?? "null")}`;
}

export interface SecretInput {
  /** The secret name from the spec (restore: the restore's, else the backup's — CassKop's fallback). */
  readonly secretName?: unknown;
  /** The storage location the sidecar will read (restore: the backup's). */
  readonly storageLocation?: unknown;
  /** Where problems point; `spec.secret`. */
  readonly path?: string;
  /** A restore: CassKop does not look the secret up itself, and the backup's secret is the fallback. */
  readonly restore?: boolean;
}

/**
 * All secret problems for one request. World-dependent checks (existence, keys) are skipped when
 * `ctx.world.known` is false; the caller notes that once.
 */
export function checkSecret(input: SecretInput, ctx: RuleContext): Problem[] {
  const path = input.path ?? "spec.secret";
  const loc = parseStorageLocation(input.storageLocation);
  // A malformed location (reported by its own rule) still names its provider: check the secret against it.
  const raw = typeof input.storageLocation === "string" ? input.storageLocation : "";
  const protocol = loc?.protocol ?? (raw.includes("://") ? raw.slice(0, raw.indexOf("://")) : undefined);
  if (protocol === undefined) return [];
  const name = nonEmpty(input.secretName);
  if (protocol === "file") {
    return name === undefined
      ? []
      : [
          problem(
            path,
            "secret.unused",
            `${q(name)}: the sidecar reads no credentials for file:// locations (only CassKop <= 2.0.1 insists on a secret)`,
          ),
        ];
  }
  if (requiredSecretKeys(protocol).length === 0) return []; // unknown protocol: storage.protocol reports it.

  const problems: Problem[] = [];
  let secretName = name;
  if (name === undefined) {
    if (loc === undefined) return problems; // no clusterId to derive the default name from
    const fallback = defaultSecretName(loc);
    const exists = ctx.world.known && ctx.world.secrets.has(key(ctx.namespace, fallback));
    const found = !ctx.world.known ? "" : exists ? " (it exists)" : " (not found)";
    const advice =
      input.restore === true
        ? "set spec.secret here or on the backup"
        : "set spec.secret (CassKop requires one)";
    problems.push(
      problem(
        path,
        "secret.default",
        loc.global
          ? `none named, so the sidecar reads ${q(fallback)}${found}: a bucket-only location has clusterId null, ` +
              `surely unintended; ${advice}`
          : `none named, so the sidecar reads ${q(fallback)}${found}, after the location's cluster segment; ${advice}`,
      ),
    );
    if (!exists) return problems;
    secretName = fallback;
  }
  if (!ctx.world.known || secretName === undefined) return problems;

  const keys = ctx.world.secrets.get(key(ctx.namespace, secretName));
  if (keys === undefined) {
    problems.push(
      problem(path, "secret.not-found", `secret ${q(secretName)} not found in namespace ${q(ctx.namespace)}`),
    );
    return problems;
  }
  const missing = missingSecretKeys(protocol, keys);
  if (missing.length > 0) {
    const why =
      missing.includes("awsregion") && (keys.has("awsendpoint") || protocol === "ceph")
        ? " (awsregion is required with awsendpoint)"
        : "";
    problems.push(
      problem(
        path,
        "secret.missing-keys",
        `secret ${q(secretName)} lacks ${missing.length === 1 ? "key" : "keys"} ${listing(missing, 10)}, ` +
          `which the sidecar reads for ${protocol}://${why}`,
      ),
    );
  } else if (protocol === "s3" && !keys.has("awsregion")) {
    // CassKop's validateBackupSecret (operators.md §1.5 step 8) refuses both AWS keys without a region.
    problems.push(
      problem(
        path,
        "secret.region",
        `secret ${q(secretName)} has no awsregion: CassKop refuses an s3 secret with both AWS keys and no region`,
      ),
    );
  }
  return problems;
}
