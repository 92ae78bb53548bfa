// Credentials injection for datacenter objects of the Instaclustr and Elassandra operators (DESIGN.md,
// "Admission webhook"). Their docs tell users to write, by hand, env entries that take the cloud credentials
// from a Secret; a datacenter annotated `casskeeper.io/backup-secret: <secret>` gets exactly those entries,
// as `valueFrom.secretKeyRef`, added to the list its operator passes to the backup sidecar:
//   - Instaclustr `CassandraDataCenter` (cassandraoperator.instaclustr.com): `spec.sidecarEnv`, a list of
//     core/v1 EnvVar given to the sidecar, which is the process that reads the credentials
//     (instaclustr/cassandra-operator `doc/backup_restore.md` at cfd1e91^, operators.md §2.3; the field is
//     `SidecarEnv []v1.EnvVar json:"sidecarEnv,omitempty"` in `cassandradatacenter_types.go`). Since PR #339
//     that sidecar can also read the Secret itself per request; the env entries serve the older images and
//     the default credential chains of the cloud SDKs.
//   - Elassandra `ElassandraDatacenter` (elassandra.strapdata.com): `spec.env`, "List of environment
//     variables to inject in the Cassandra & Sidecar container" (strapdata/elassandra-operator
//     `java/model/src/main/java/com/strapdata/strapkop/model/k8s/datacenter/DataCenterSpec.java`, field
//     `@SerializedName("env") List<V1EnvVar> env`); its backup doc (`doc/backup_restore.md` @3a833884,
//     operators.md §2.3) uses the same variable names.
//
// Rules: an entry whose name the user already set (a value, any valueFrom, anything) is never touched; when
// the world knows the Secret, only keys it has are injected; every secretKeyRef is `optional: true`, because
// the kubelet refuses to start a container whose non-optional secretKeyRef names a missing key
// (CreateContainerConfigError), and a Secret edited later must not take the whole datacenter down.
// Idempotent: once the entries exist, a second review adds nothing.
//
// GOOGLE_APPLICATION_CREDENTIALS is not injected. Google's client libraries read a *path* to the
// service-account JSON from it; a secretKeyRef would put the JSON itself in the variable, which they cannot
// use. Both operators' docs mount the key as a file instead (Instaclustr `backupSecretVolumeSource` mounted
// at /tmp/backup-creds, Elassandra `userSecretVolumeSource` at /tmp/user-secret) and set the variable to that
// path; the file name inside the mount is the user's choice, so casskeeper cannot write a correct path, and
// says so with a warning when the Secret holds the `gcp` key.

import { joinPath } from "../core/problem.ts";
import { nonEmpty } from "../core/rules/support.ts";
import { key, type WorldSnapshot } from "../core/world.ts";
import { isRecord } from "../core/world-build.ts";
import { BACKUP_SECRET_ANNOTATION } from "./constants.ts";
import { type AddOperation, pointer } from "./json-patch.ts";

export interface DatacenterKind {
  readonly group: string;
  readonly kind: string;
  /** The field of `spec` holding the env list the backup sidecar gets. */
  readonly envField: string;
}

export const DATACENTER_KINDS: readonly DatacenterKind[] = [
  { group: "cassandraoperator.instaclustr.com", kind: "CassandraDataCenter", envField: "sidecarEnv" },
  { group: "elassandra.strapdata.com", kind: "ElassandraDatacenter", envField: "env" },
];

/**
 * Env variable ← Secret key (the key names the sidecar itself reads, operators.md §2.2). AWS_ENDPOINT is in
 * the esop README's env fallback ("They will also accept AWS_REGION and AWS_ENDPOINT", operators.md §2.3).
 */
export const CREDENTIAL_ENV: readonly { readonly env: string; readonly key: string }[] = [
  { env: "AWS_ACCESS_KEY_ID", key: "awsaccesskeyid" },
  { env: "AWS_SECRET_ACCESS_KEY", key: "awssecretaccesskey" },
  { env: "AWS_REGION", key: "awsregion" },
  { env: "AWS_ENDPOINT", key: "awsendpoint" },
  { env: "AZURE_STORAGE_ACCOUNT", key: "azurestorageaccount" },
  { env: "AZURE_STORAGE_KEY", key: "azurestoragekey" },
];

export const GCP_ENV = "GOOGLE_APPLICATION_CREDENTIALS";
const GCP_KEY = "gcp";
/** A Secret name is a DNS subdomain (RFC 1123). */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface EnvMutations {
  readonly ops: AddOperation[];
  /** `path: message` pairs for the response's warnings. */
  readonly warnings: { path: string; message: string }[];
}

/** The env entries to add to a datacenter object of `dc`'s kind; none when it is not annotated. */
export function datacenterEnvMutations(
  dc: DatacenterKind,
  obj: unknown,
  ctx: { readonly world: WorldSnapshot; readonly namespace: string },
): EnvMutations {
  const none: EnvMutations = { ops: [], warnings: [] };
  if (!isRecord(obj)) return none;
  const annotations =
    isRecord(obj.metadata) && isRecord(obj.metadata.annotations) ? obj.metadata.annotations : {};
  const value = annotations[BACKUP_SECRET_ANNOTATION];
  if (value === undefined) return none;
  const annotationPath = joinPath("metadata.annotations", BACKUP_SECRET_ANNOTATION);
  const secret = nonEmpty(value);
  if (secret === undefined || secret.length > 253 || !SECRET_NAME.test(secret)) {
    return {
      ops: [],
      warnings: [{ path: annotationPath, message: "not a Secret name: no credentials injected" }],
    };
  }

  const envPath = `spec.${dc.envField}`;
  const spec = obj.spec;
  if (spec !== undefined && spec !== null && !isRecord(spec)) {
    return { ops: [], warnings: [{ path: "spec", message: "not an object: no credentials injected" }] };
  }
  const list = isRecord(spec) ? spec[dc.envField] : undefined;
  if (list !== undefined && list !== null && !Array.isArray(list)) {
    return { ops: [], warnings: [{ path: envPath, message: "not a list: no credentials injected" }] };
  }
  const taken = new Set(
    (list ?? []).flatMap((e) => (isRecord(e) && typeof e.name === "string" ? [e.name] : [])),
  );

  const warnings: { path: string; message: string }[] = [];
  const keys = ctx.world.known ? ctx.world.secrets.get(key(ctx.namespace, secret)) : undefined;
  if (ctx.world.known && keys === undefined) {
    warnings.push({
      path: annotationPath,
      message: `Secret "${secret}" not found: every credential env entry is added as optional`,
    });
  }
  if (keys?.has(GCP_KEY) === true && !taken.has(GCP_ENV)) {
    warnings.push({
      path: envPath,
      message: `${GCP_ENV} not injected: it needs a file path; mount key "gcp" of Secret "${secret}" and set it`,
    });
  }

  const entries = CREDENTIAL_ENV.filter(
    (c) => !taken.has(c.env) && (keys === undefined || keys.has(c.key)),
  ).map((c) => ({ name: c.env, valueFrom: { secretKeyRef: { name: secret, key: c.key, optional: true } } }));
  if (entries.length === 0) return { ops: [], warnings };

  let ops: AddOperation[];
  if (!isRecord(spec)) {
    ops = [{ op: "add", path: pointer(["spec"]), value: { [dc.envField]: entries } }];
  } else if (list === undefined || list === null) {
    ops = [{ op: "add", path: pointer(["spec", dc.envField]), value: entries }];
  } else {
    ops = entries.map((e) => ({ op: "add", path: pointer(["spec", dc.envField, "-"]), value: e }));
  }
  return { ops, warnings };
}
