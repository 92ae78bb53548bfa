// Names and numbers the webhook server, its manifests (webhook/, manifests/) and the in-cluster certificate
// manager must agree on. A test renders `kubectl kustomize .` and checks the manifests against these.

export const WEBHOOK_PORT = 8443;
export const VALIDATE_PATH = "/validate";
export const MUTATE_PATH = "/mutate";
export const HEALTHZ_PATH = "/healthz";
export const READYZ_PATH = "/readyz";
export const METRICS_PATH = "/metrics";
/** The Git push receiver (GitHub, Gitea, GitLab webhooks); served only when a webhook secret is configured. */
export const GIT_HOOK_PATH = "/hooks/git";
/** Metrics are served on the webhook port too; kept separate in name for a future split. */
export const METRICS_PORT = WEBHOOK_PORT;

export const NAMESPACE = "casskeeper-system";
export const SERVICE_NAME = "casskeeper-webhook";
export const SERVICE_ACCOUNT = "casskeeper";
export const DEPLOYMENT_NAME = "casskeeper";
export const APP_LABEL = {
  "app.kubernetes.io/name": "casskeeper",
  "app.kubernetes.io/component": "webhook",
} as const;

export const VALIDATING_CONFIG_NAME = "casskeeper-validating";
export const MUTATING_CONFIG_NAME = "casskeeper-mutating";
export const VALIDATING_WEBHOOK_NAME = "validate.casskeeper.io";
export const MUTATING_WEBHOOK_NAME = "mutate.casskeeper.io";
export const MUTATING_DATACENTER_WEBHOOK_NAME = "mutate-datacenter.casskeeper.io";

/** The Secret where casskeeper keeps its self-made CA and serving certificate (`tls.crt`, `tls.key`, `ca.crt`, `ca.key`). */
export const TLS_SECRET_NAME = "casskeeper-webhook-tls";

/** AdmissionReview bodies above this are refused with 413 (objects reach ~1.5 MiB and UPDATE sends two). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Push deliveries above this are refused with 413. GitLab lists at most 20 commits per push; GitHub up to 2,048
 * (payloads up to 25 MB), so only a huge GitHub push is refused, and the next poll picks it up. */
export const GIT_HOOK_MAX_BODY_BYTES = 5 * 1024 * 1024;
/** Warnings longer than this are cut (the API server's advice; it truncates above 256, drops above 4096 in all). */
export const MAX_WARNING_LENGTH = 120;

/** Annotation on Instaclustr/Elassandra datacenter objects naming the backup Secret to inject as env. */
export const BACKUP_SECRET_ANNOTATION = "casskeeper.io/backup-secret";
