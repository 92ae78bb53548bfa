// storageLocation: the forms esop's `StorageLocation` accepts, and the bucket naming rules of each provider.
//
// esop (esop-1.1.4 / 2.0.4 `impl/StorageLocation.java`, reference/operators.md §1.7, sidecar.md §2.2):
//   - one trailing `/` is stripped;
//   - a location starting with `file` must match `(.*)://(.*)/(.*)/(.*)/(.*)/(.*)`
//     = file://<dir>/<bucket>/<cluster>/<dc>/<node>; there is no bucket-only file form;
//   - otherwise `(.*)://(.*)` with no `/` in group 2 is the global (bucket-only) form, else
//     `(.*)://(.*)/(.*)/(.*)/(.*)` = protocol://bucket/cluster/dc/node;
//   - the protocol must be a bound provider: s3, gcp, azure, oracle, minio, ceph, file.
// The Java groups are greedy, so the last path segments are cluster/dc/node and everything before them is
// the "bucket": `s3://bucket/prefix/c/d/n` passes esop with bucket `bucket/prefix` and then fails at the
// storage API. That, and `s3://bucket/prefix` (1-3 segments, which esop refuses), are form errors here.

import type { Problem } from "../problem.ts";
import { problem } from "./codes.ts";
import { listing, q } from "./support.ts";

export const STORAGE_PROTOCOLS = ["s3", "gcp", "azure", "oracle", "minio", "ceph", "file"] as const;
export type StorageProtocol = (typeof STORAGE_PROTOCOLS)[number];

export function isStorageProtocol(p: string): p is StorageProtocol {
  return (STORAGE_PROTOCOLS as readonly string[]).includes(p);
}

/** The protocols that go through esop's S3 client (`s3/TransferManagerFactory.java`). */
export const S3_LIKE_PROTOCOLS: readonly string[] = ["s3", "oracle", "minio", "ceph"];

export interface StorageLocation {
  /** As written (esop does not lower-case it); may be a protocol the sidecar does not know. */
  readonly protocol: string;
  readonly bucket: string;
  /** True for the bucket-only form `protocol://bucket` (esop's `globalRequest` form). */
  readonly global: boolean;
  readonly cluster?: string;
  readonly dc?: string;
  readonly node?: string;
  /** `file://` only: the directory before the bucket segment (`/backups` in `file:///backups/b/c/d/n`). */
  readonly directory?: string;
}

// Java's `.` does not match these, so esop's `matches()` fails on a location that contains one.
const JAVA_LINE_TERMINATOR = /[\n\r\u0085\u2028\u2029]/;

/**
 * esop's reading of a storage location, or undefined where esop's patterns do not match (esop then fails the
 * operation with "... is not in form ..."). Total: never throws, for any input.
 */
export function parseStorageLocation(s: unknown): StorageLocation | undefined {
  if (typeof s !== "string" || JAVA_LINE_TERMINATOR.test(s)) return undefined;
  const raw = s.endsWith("/") ? s.slice(0, -1) : s;
  if (raw.startsWith("file")) {
    const m = greedyMatch(raw, 4);
    if (m === undefined) return undefined;
    const [bucket = "", cluster = "", dc = "", node = ""] = m.segments;
    return { protocol: m.protocol, directory: m.head, bucket, cluster, dc, node, global: false };
  }
  const last = raw.lastIndexOf("://");
  if (last >= 0 && !raw.slice(last + 3).includes("/")) {
    return { protocol: raw.slice(0, last), bucket: raw.slice(last + 3), global: true };
  }
  const m = greedyMatch(raw, 3);
  if (m === undefined) return undefined;
  const [cluster = "", dc = "", node = ""] = m.segments;
  return { protocol: m.protocol, bucket: m.head, cluster, dc, node, global: false };
}

/**
 * Java's greedy `(.*)://(.*)` followed by `n` times `/(.*)` under `matches()`: group 1 ends at the last `://`
 * whose remainder still holds `n` slashes; the last `n` segments are the trailing groups. Linear time, unlike
 * running the backtracking pattern on hostile input.
 */
function greedyMatch(
  s: string,
  n: number,
): { protocol: string; head: string; segments: string[] } | undefined {
  let at = s.lastIndexOf("://");
  while (at >= 0) {
    const parts = s.slice(at + 3).split("/");
    if (parts.length > n) {
      return {
        protocol: s.slice(0, at),
        head: parts.slice(0, parts.length - n).join("/"),
        segments: parts.slice(parts.length - n),
      };
    }
    at = at === 0 ? -1 : s.lastIndexOf("://", at - 1);
  }
  return undefined;
}

/** `protocol://bucket` (file: `file://<dir>/<bucket>`): what two backups must share to collide. */
export function bucketKey(loc: StorageLocation): string {
  return loc.directory === undefined
    ? `${loc.protocol}://${loc.bucket}`
    : `${loc.protocol}://${loc.directory}/${loc.bucket}`;
}

const SUGGEST: Readonly<Record<string, string>> = {
  gs: "gcp",
  gcs: "gcp",
  google: "gcp",
  s3a: "s3",
  s3n: "s3",
  aws: "s3",
  az: "azure",
  abfs: "azure",
  abfss: "azure",
  wasb: "azure",
  wasbs: "azure",
  oci: "oracle",
};

function expectedForm(protocol: string): string {
  return protocol === "file"
    ? "file:///path/bucket/cluster/dc/node"
    : `${protocol}://bucket (recommended) or ${protocol}://bucket/cluster/dc/node`;
}

export interface StorageLocationOptions {
  /**
   * Whether the sidecar gets the location in a global request. CassKop (and casskeeper, which follows its
   * requests) always sends `globalRequest: true`, so this defaults to true.
   */
  readonly globalRequest?: boolean;
}

/** All problems of one storageLocation value. Non-strings are left to the structural schema. */
export function checkStorageLocation(
  value: unknown,
  path = "spec.storageLocation",
  options: StorageLocationOptions = {},
): Problem[] {
  if (typeof value !== "string") return [];
  if (value === "") return [problem(path, "storage.form", `must not be empty; use ${expectedForm("s3")}`)];
  if (/[\s\p{Cc}]/u.test(value)) {
    return [problem(path, "storage.form", `${q(value)}: must not contain white space or control characters`)];
  }
  const problems: Problem[] = [];
  const sep = value.indexOf("://");
  if (sep < 0) {
    return [problem(path, "storage.form", `${q(value)}: has no "://"; use ${expectedForm("s3")}`)];
  }
  if (value.slice(sep + 3) === "") {
    return [
      problem(
        path,
        "storage.form",
        `${q(value)}: no bucket; use ${expectedForm(value.slice(0, sep) || "s3")}`,
      ),
    ];
  }
  const loc = parseStorageLocation(value);
  const protocol = loc?.protocol ?? value.slice(0, sep);
  if (!isStorageProtocol(protocol)) {
    const lower = protocol.toLowerCase();
    const hint = isStorageProtocol(lower) ? lower : SUGGEST[lower];
    problems.push(
      problem(
        path,
        "storage.protocol",
        `${q(value)}: unknown protocol ${q(protocol)}${hint === undefined ? "" : ` (did you mean ${hint}?)`}; ` +
          `the sidecar offers ${listing([...STORAGE_PROTOCOLS], 10)}`,
      ),
    );
    return problems;
  }
  if (loc === undefined && protocol === "file") {
    problems.push(
      problem(
        path,
        "storage.form",
        `${q(value)}: file locations have no bucket-only form; use ${expectedForm("file")}`,
      ),
    );
    return problems;
  }
  if (loc === undefined) {
    problems.push(...formProblems(value, protocol, path));
    return problems;
  }
  if (protocol === "file") {
    problems.push(...fileProblems(value, loc, path));
    return problems;
  }
  if (loc.bucket.includes("/")) {
    // esop's greedy groups made a prefix part of the bucket (see the header).
    const first = loc.bucket.slice(0, loc.bucket.indexOf("/"));
    problems.push(
      problem(
        path,
        "storage.form",
        `${q(value)}: bucket prefixes are not supported (the sidecar would use bucket ${q(loc.bucket)}); ` +
          `use ${expectedForm(protocol)}`,
      ),
    );
    problems.push(...checkBucketName(protocol, first, path));
    return problems;
  }
  problems.push(...checkBucketName(protocol, loc.bucket, path));
  if (!loc.global) {
    const empty = (["cluster", "dc", "node"] as const).filter((k) => loc[k] === "");
    if (empty.length > 0) {
      problems.push(problem(path, "storage.form", `${q(value)}: empty ${listing(empty)} segment`));
    } else if (options.globalRequest !== false) {
      problems.push(
        problem(
          path,
          "storage.node-form",
          `${q(value)}: the sidecar replaces cluster/dc/node with the real ones; write ${protocol}://${loc.bucket}`,
        ),
      );
    }
  }
  return problems;
}

/** Why a cloud location matched neither esop form, and the bucket problems of its first segment. */
function formProblems(value: string, protocol: string, path: string): Problem[] {
  const raw = value.endsWith("/") ? value.slice(0, -1) : value;
  const rest = raw.slice(raw.indexOf("://") + 3);
  const segments = rest.split("/");
  const extra = segments.length - 1;
  const problems = [
    problem(
      path,
      "storage.form",
      `${q(value)}: ${extra} path ${extra === 1 ? "segment" : "segments"} after the bucket; the sidecar accepts ` +
        `only ${expectedForm(protocol)} (no bucket prefix)`,
    ),
  ];
  const bucket = segments[0] ?? "";
  if (bucket !== "") problems.push(...checkBucketName(protocol, bucket, path));
  return problems;
}

function fileProblems(value: string, loc: StorageLocation, path: string): Problem[] {
  const problems: Problem[] = [];
  const dir = loc.directory ?? "";
  if (dir === "") {
    // esop: Paths.get("").toAbsolutePath() = the sidecar's working directory.
    problems.push(
      problem(
        path,
        "storage.form",
        `${q(value)}: no directory before the bucket, so the sidecar would write under its working directory; ` +
          `use ${expectedForm("file")}`,
      ),
    );
  } else if (!dir.startsWith("/")) {
    problems.push(
      problem(
        path,
        "storage.form",
        `${q(value)}: the directory ${q(dir)} is relative; use ${expectedForm("file")}`,
      ),
    );
  }
  const empty = (["bucket", "cluster", "dc", "node"] as const).filter((k) => loc[k] === "");
  if (empty.length > 0) {
    problems.push(problem(path, "storage.form", `${q(value)}: empty ${listing(empty)} segment`));
  }
  return problems;
}

/** A bucket (Azure: container) name against the provider's rules; one problem lists every violation. */
export function checkBucketName(protocol: string, bucket: string, path: string): Problem[] {
  const problems: Problem[] = [];
  const label = protocol === "azure" ? "container" : "bucket";
  const report = (violations: string[], rules: string) => {
    if (violations.length > 0) {
      problems.push(
        problem(path, "storage.bucket", `${label} ${q(bucket)} breaks ${rules}: ${violations.join("; ")}`),
      );
    }
  };
  switch (protocol) {
    case "s3": {
      report(s3Violations(bucket, false), "S3 bucket naming rules");
      const reserved = awsReserved(bucket);
      if (reserved !== undefined) {
        // A warning: `s3://` with `awsendpoint` may point at an S3-compatible store without these reservations.
        problems.push(
          problem(path, "storage.bucket-reserved", `bucket ${q(bucket)}: AWS reserves ${reserved}`),
        );
      }
      break;
    }
    case "minio":
      report(s3Violations(bucket, true), "MinIO bucket naming rules");
      break;
    case "ceph": {
      const strict = s3Violations(bucket, true);
      if (strict.length > 0 && cephRelaxedViolations(bucket).length === 0) {
        problems.push(
          problem(
            path,
            "storage.bucket-relaxed",
            `bucket ${q(bucket)} is valid only if RGW sets rgw_relaxed_s3_bucket_names: ${strict.join("; ")}`,
          ),
        );
      } else {
        report(strict, "Ceph RGW bucket naming rules");
      }
      break;
    }
    case "oracle":
      report(oracleViolations(bucket), "OCI Object Storage bucket naming rules");
      break;
    case "gcp":
      report(gcsViolations(bucket), "Cloud Storage bucket naming rules");
      break;
    case "azure":
      report(azureViolations(bucket), "Azure container naming rules");
      break;
    default:
      break;
  }
  return problems;
}

const IPV4_LIKE = /^\d+\.\d+\.\d+\.\d+$/;

function badChars(bucket: string, allowed: RegExp, allowedText: string): string[] {
  const bad = new Set<string>();
  for (const ch of bucket) if (!allowed.test(ch)) bad.add(/[A-Z]/.test(ch) ? "upper-case letters" : q(ch));
  return bad.size === 0 ? [] : [`only ${allowedText} (not ${listing([...bad])})`];
}

function lengthViolation(bucket: string, min: number, max: number): string[] {
  const n = [...bucket].length;
  return n < min || n > max ? [`${min}-${max} characters, not ${n}`] : [];
}

/**
 * AWS "General purpose bucket naming rules" (Amazon S3 User Guide): 3-63 characters, lower-case letters,
 * digits, dots and hyphens, begins and ends with a letter or digit, no two adjacent dots, not an IP address.
 * `labels` adds the label rule of MinIO (`s3utils.CheckValidBucketNameStrict`) and Ceph RGW (bucketops
 * "Constraints", default `rgw_relaxed_s3_bucket_names=false`), which the AWS SDK v1 inside the sidecar also
 * applies (`BucketNameUtils`): no dot next to a hyphen.
 */
function s3Violations(bucket: string, labels: boolean): string[] {
  const v = [
    ...lengthViolation(bucket, 3, 63),
    ...badChars(bucket, /[a-z0-9.-]/, "lower-case letters, digits, '.' and '-'"),
  ];
  if (bucket !== "" && !/^[a-z0-9].*[a-z0-9]$|^[a-z0-9]$/s.test(bucket)) {
    v.push("must begin and end with a lower-case letter or digit");
  }
  if (bucket.includes("..")) v.push('no ".." allowed');
  if (labels && (bucket.includes(".-") || bucket.includes("-."))) v.push('no "." next to "-" allowed');
  if (IPV4_LIKE.test(bucket)) v.push("must not look like an IP address");
  return v;
}

/** AWS-reserved prefixes and suffixes (same AWS page), or undefined. */
function awsReserved(bucket: string): string | undefined {
  for (const p of ["xn--", "sthree-", "amzn-s3-demo-"]) if (bucket.startsWith(p)) return `the prefix ${q(p)}`;
  for (const s of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) {
    if (bucket.endsWith(s)) return `the suffix ${q(s)}`;
  }
  return undefined;
}

/** Ceph RGW with `rgw_relaxed_s3_bucket_names=true`: letters, digits, `.`, `-`, `_`, up to 255, not an IP. */
function cephRelaxedViolations(bucket: string): string[] {
  const v = [
    ...lengthViolation(bucket, 1, 255),
    ...badChars(bucket, /[A-Za-z0-9._-]/, "letters, digits, '.', '_' and '-'"),
  ];
  if (IPV4_LIKE.test(bucket)) v.push("must not look like an IP address");
  return v;
}

/**
 * OCI Object Storage API `CreateBucketDetails.name`: 1-256 characters, upper- or lower-case letters, digits,
 * hyphens, underscores and periods. esop's oracle provider uses path-style S3 access, so no DNS rule applies.
 */
function oracleViolations(bucket: string): string[] {
  return [
    ...lengthViolation(bucket, 1, 256),
    ...badChars(bucket, /[A-Za-z0-9._-]/, "letters, digits, '.', '_' and '-'"),
  ];
}

/**
 * Google Cloud Storage "Bucket naming rules": lower-case letters, digits, `-`, `_`, `.`; begins and ends with a
 * letter or digit; 3-63 characters, or up to 222 with dots where each dot-separated part is at most 63; not an
 * IP address; does not begin with "goog"; does not contain "google" or close misspellings ("g00gle").
 */
function gcsViolations(bucket: string): string[] {
  const v: string[] = [];
  const n = [...bucket].length;
  if (bucket.includes(".")) {
    if (n < 3 || n > 222) v.push(`3-222 characters with dots, not ${n}`);
    const parts = bucket.split(".");
    if (parts.some((p) => p.length > 63)) v.push("each dot-separated part at most 63 characters");
    if (parts.some((p) => p === "")) v.push("no empty dot-separated part");
  } else {
    v.push(...lengthViolation(bucket, 3, 63));
  }
  v.push(...badChars(bucket, /[a-z0-9._-]/, "lower-case letters, digits, '.', '_' and '-'"));
  if (bucket !== "" && !/^[a-z0-9].*[a-z0-9]$|^[a-z0-9]$/s.test(bucket)) {
    v.push("must begin and end with a lower-case letter or digit");
  }
  if (IPV4_LIKE.test(bucket)) v.push("must not look like an IP address");
  if (bucket.startsWith("goog")) v.push('must not begin with "goog"');
  if (/g[o0][o0]gle/.test(bucket)) v.push('must not contain "google" or a look-alike');
  return v;
}

/**
 * Azure Storage "Naming and Referencing Containers, Blobs, and Metadata": 3-63 characters, lower-case letters,
 * digits and `-`; begins with a letter or digit; every `-` is between letters or digits (no `--`, no `-` at
 * either end).
 */
function azureViolations(bucket: string): string[] {
  const v = [
    ...lengthViolation(bucket, 3, 63),
    ...badChars(bucket, /[a-z0-9-]/, "lower-case letters, digits and '-'"),
  ];
  if (bucket.startsWith("-") || bucket.endsWith("-")) v.push('must not begin or end with "-"');
  if (bucket.includes("--")) v.push('no "--" allowed');
  return v;
}
