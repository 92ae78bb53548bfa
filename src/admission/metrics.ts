// Prometheus metrics of the webhook, on a Registry of its own (never prom-client's global one, so tests and
// several servers in one process do not collide). Label values that come from requests are bounded: a caller
// that can reach the port must not be able to grow the number of series without limit.

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export type Endpoint = "validate" | "mutate";
/** The handlers' verdicts, plus `invalid` for a request refused with an HTTP 4xx before any handler ran. */
export type MetricVerdict = "allowed" | "warned" | "denied" | "errored" | "patched" | "invalid";

/** How a Git push delivery ended (POST /hooks/git). */
export type GitHookResult =
  | "triggered"
  | "no_match"
  | "ping"
  | "ignored"
  | "unauthorized"
  | "invalid"
  | "error";
const GIT_HOOK_PROVIDERS = new Set(["github", "gitea", "gitlab"]);

export interface WebhookMetrics {
  readonly registry: Registry;
  observeReview(r: {
    endpoint: Endpoint;
    kind: string;
    operation: string;
    verdict: MetricVerdict;
    codes: readonly string[];
    seconds: number;
  }): void;
  /** The serving certificate's expiry, epoch seconds (0 while none is loaded). */
  setCertificateExpiry(epochSeconds: number): void;
  /** One Git push delivery; a provider other than github/gitea/gitlab counts as `unknown`. */
  observeGitHook(provider: string, result: GitHookResult): void;
}

/** Sub-millisecond handlers: buckets from 50 µs; the API server gives up at the webhook timeout (≤ 30 s). */
export const DURATION_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5,
];

const OPERATIONS = new Set(["CREATE", "UPDATE", "DELETE", "CONNECT"]);
const LABEL_SHAPE = /^[A-Za-z][A-Za-z0-9._-]{0,62}$/;
/** Distinct kinds or codes kept as label values; later ones count as `other`. */
const MAX_DISTINCT = 64;

export function createWebhookMetrics(
  registry: Registry = new Registry(),
  opts: { defaultMetrics?: boolean } = {},
): WebhookMetrics {
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "casskeeper_admission_requests_total",
    help: "AdmissionReviews answered, by endpoint, object kind, operation and verdict (invalid = refused with HTTP 4xx).",
    labelNames: ["endpoint", "kind", "operation", "verdict"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "casskeeper_admission_duration_seconds",
    help: "Time from the request's arrival to its answer, by endpoint.",
    labelNames: ["endpoint"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const denials = new Counter({
    name: "casskeeper_admission_denials_total",
    help: "Errors in denied AdmissionReviews, by problem code.",
    labelNames: ["code"] as const,
    registers: [registry],
  });
  const expiry = new Gauge({
    name: "casskeeper_tls_certificate_expiry_timestamp_seconds",
    help: "Expiry of the serving certificate in use, Unix seconds.",
    registers: [registry],
  });
  expiry.set(0);
  const gitHooks = new Counter({
    name: "casskeeper_git_hook_deliveries_total",
    help: "Git push deliveries to /hooks/git, by provider and result (triggered: a push that started at least one sync; no_match: a push no source follows; invalid: refused with 400, 413 or 415).",
    labelNames: ["provider", "result"] as const,
    registers: [registry],
  });
  const kinds = boundedLabel();
  const codes = boundedLabel();
  // Labelled children, looked up once per label set: prom-client hashes the label object on every `inc`
  // otherwise, which costs more than the rest of the bookkeeping of a review.
  const requestChildren = new Map<string, { inc(): void }>();
  const durationChildren = new Map<string, { observe(v: number): void }>();
  const denialChildren = new Map<string, { inc(): void }>();

  return {
    registry,
    observeReview(r) {
      const kind = kinds(r.kind);
      const operation = OPERATIONS.has(r.operation) ? r.operation : r.operation === "" ? "unknown" : "other";
      const key = `${r.endpoint}\u0000${kind}\u0000${operation}\u0000${r.verdict}`;
      let counter = requestChildren.get(key);
      if (counter === undefined) {
        counter = requests.labels({ endpoint: r.endpoint, kind, operation, verdict: r.verdict });
        requestChildren.set(key, counter);
      }
      counter.inc();
      let histogram = durationChildren.get(r.endpoint);
      if (histogram === undefined) {
        histogram = duration.labels({ endpoint: r.endpoint });
        durationChildren.set(r.endpoint, histogram);
      }
      histogram.observe(r.seconds);
      if (r.verdict === "denied") {
        for (const c of r.codes) {
          const code = codes(c);
          let denial = denialChildren.get(code);
          if (denial === undefined) {
            denial = denials.labels({ code });
            denialChildren.set(code, denial);
          }
          denial.inc();
        }
      }
    },
    setCertificateExpiry(epochSeconds) {
      expiry.set(epochSeconds);
    },
    observeGitHook(provider, result) {
      gitHooks.inc({ provider: GIT_HOOK_PROVIDERS.has(provider) ? provider : "unknown", result });
    },
  };
}

function boundedLabel(): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (value === "") return "unknown";
    if (!LABEL_SHAPE.test(value)) return "other";
    if (seen.has(value)) return value;
    if (seen.size >= MAX_DISTINCT) return "other";
    seen.add(value);
    return value;
  };
}
