// AdmissionReview v1, exactly as the API server sends and expects it (conventions.md §1.1–1.3; kube-apiserver
// `admissionreview.go`): the request is read defensively (every field but `uid` may be missing or of the wrong
// type, and is then left out), and the answer is an AdmissionReview of the same version whose `response.uid`
// echoes the request's. Only v1 is served: the webhook configurations say `admissionReviewVersions: [v1]`.

import { isRecord } from "../core/world-build.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";
export const ADMISSION_KIND = "AdmissionReview";
/** The API server sends UUIDs (36 characters); anything much longer is not from it. */
export const MAX_UID_LENGTH = 256;

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

export interface GroupVersionResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

/** `CREATE`, `UPDATE`, `DELETE`, `CONNECT`; kept as sent (a string), handlers treat others as unknown. */
export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface AdmissionRequest {
  /** Random per call; echoed in `response.uid`. Always a non-empty string after parsing. */
  readonly uid: string;
  /** The object's GVK as sent to the webhook (after conversion under `matchPolicy: Equivalent`). */
  readonly kind?: GroupVersionKind;
  readonly resource?: GroupVersionResource;
  /** `status`, `scale`, …; absent or empty for the main resource. */
  readonly subResource?: string;
  readonly requestKind?: GroupVersionKind;
  readonly requestResource?: GroupVersionResource;
  readonly requestSubResource?: string;
  /** May be empty on CREATE with `generateName`. */
  readonly name?: string;
  readonly namespace?: string;
  readonly operation?: string;
  readonly userInfo?: UserInfo;
  /** The new object; null for DELETE. Untrusted JSON. */
  readonly object?: unknown;
  /** The existing object; null for CREATE and CONNECT. Untrusted JSON. */
  readonly oldObject?: unknown;
  readonly dryRun?: boolean;
  /** CreateOptions / UpdateOptions / DeleteOptions (meta.k8s.io/v1). */
  readonly options?: unknown;
}

/** A `metav1.StatusReason`: a machine value (kubectl prints it in `Error from server (<reason>)`). */
export type StatusReason = "Forbidden" | "Invalid" | "BadRequest" | "InternalError";

export interface AdmissionStatus {
  readonly status?: "Success" | "Failure";
  readonly code?: number;
  readonly reason?: StatusReason;
  readonly message?: string;
}

export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: AdmissionStatus;
  /** Base64 of a JSON array of RFC 6902 operations; only from the mutating endpoint, always with patchType. */
  readonly patch?: string;
  readonly patchType?: "JSONPatch";
  /** Each ≤ 120 characters, no `Warning:` prefix. */
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: typeof ADMISSION_KIND;
  readonly response: AdmissionResponse;
}

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; message: string };

/**
 * Reads an AdmissionReview body (already JSON-parsed). `ok: false` means HTTP 400 with `message`: the body is
 * not an object, is not `admission.k8s.io/v1` `AdmissionReview`, or has no `request` or no usable
 * `request.uid` (without a uid there is nothing to answer to).
 */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isRecord(body))
    return fail(`the body is not an AdmissionReview: expected a JSON object, got ${typeName(body)}`);
  const { apiVersion, kind, request } = body;
  if (apiVersion !== ADMISSION_API_VERSION) {
    if (apiVersion === "admission.k8s.io/v1beta1") {
      return fail(
        `apiVersion admission.k8s.io/v1beta1 is not served: casskeeper speaks ${ADMISSION_API_VERSION} only ` +
          "(set admissionReviewVersions: [v1] in the webhook configuration)",
      );
    }
    return fail(`apiVersion must be ${ADMISSION_API_VERSION}, got ${show(apiVersion)}`);
  }
  if (kind !== ADMISSION_KIND) return fail(`kind must be ${ADMISSION_KIND}, got ${show(kind)}`);
  if (!isRecord(request)) {
    return fail(
      request === undefined || request === null
        ? "the AdmissionReview has no request"
        : `request must be an object, got ${typeName(request)}`,
    );
  }
  const uid = request.uid;
  if (typeof uid !== "string" || uid === "") {
    return fail(
      uid === undefined || uid === null
        ? "request.uid is missing: there is nothing to answer to"
        : `request.uid must be a non-empty string, got ${show(uid)}`,
    );
  }
  if (uid.length > MAX_UID_LENGTH) return fail(`request.uid is longer than ${MAX_UID_LENGTH} characters`);
  return {
    ok: true,
    request: {
      uid,
      ...opt("kind", gvk(request.kind)),
      ...opt("resource", gvr(request.resource)),
      ...opt("subResource", string(request.subResource)),
      ...opt("requestKind", gvk(request.requestKind)),
      ...opt("requestResource", gvr(request.requestResource)),
      ...opt("requestSubResource", string(request.requestSubResource)),
      ...opt("name", string(request.name)),
      ...opt("namespace", string(request.namespace)),
      ...opt("operation", string(request.operation)),
      ...opt("userInfo", userInfo(request.userInfo)),
      ...opt("object", request.object),
      ...opt("oldObject", request.oldObject),
      ...opt("dryRun", typeof request.dryRun === "boolean" ? request.dryRun : undefined),
      ...opt("options", request.options),
    },
  };
}

/** The whole answer: an AdmissionReview v1 whose `response.uid` is the request's. */
export function admissionReviewResponse(
  uid: string,
  response: Omit<AdmissionResponse, "uid">,
): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: ADMISSION_KIND, response: { uid, ...response } };
}

function fail(message: string): ParsedReview {
  return { ok: false, message };
}

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V };
}

function string(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function gvk(v: unknown): GroupVersionKind | undefined {
  if (!isRecord(v) || typeof v.kind !== "string") return undefined;
  return { group: string(v.group) ?? "", version: string(v.version) ?? "", kind: v.kind };
}

function gvr(v: unknown): GroupVersionResource | undefined {
  if (!isRecord(v) || typeof v.resource !== "string") return undefined;
  return { group: string(v.group) ?? "", version: string(v.version) ?? "", resource: v.resource };
}

function userInfo(v: unknown): UserInfo | undefined {
  if (!isRecord(v)) return undefined;
  const groups = Array.isArray(v.groups) ? v.groups.filter((g) => typeof g === "string") : undefined;
  return {
    ...opt("username", string(v.username)),
    ...opt("uid", string(v.uid)),
    ...opt("groups", groups),
  };
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}

/** A value the caller sent, for a message: JSON, shortened. */
function show(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = typeof v === "string" ? JSON.stringify(v.length > 60 ? `${v.slice(0, 59)}…` : v) : typeName(v);
  return s;
}
