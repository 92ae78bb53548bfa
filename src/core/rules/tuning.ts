// duration, bandwidth, concurrentConnections: the formats and ranges CassKop and the sidecar accept.
//   - duration: CassKop refuses what Go's `time.ParseDuration` refuses (BackupFailedDurationParseError,
//     operators.md §1.5 step 9). Whether icarus 1.x accepts the string over REST at all is doubtful: esop's
//     field is a `Time` with no JSON creator before instaclustr-commons 1.5.0 (sidecar.md §2.1 ⚠1).
//   - bandwidth: CassKop `dataRateFromBandwidth` (pkg/backrest): upper-case, remove spaces, match
//     `(?i)^(\d+)([kmg]?)$`, value `int32(Atoi(...))`; a mismatch is silently ignored (no limit is sent).
//   - concurrentConnections: the sidecar's default is 10 (esop `BaseBackupOperationRequest`).

import type { Problem } from "../problem.ts";
import { parseGoDuration } from "../schedule/index.ts";
import { problem } from "./codes.ts";
import { q } from "./support.ts";

export const DEFAULT_CONCURRENT_CONNECTIONS = 10;
/** Above this many connections per node casskeeper warns: each one is an upload or download thread. */
export const HIGH_CONCURRENT_CONNECTIONS = 50;
/** Above this many casskeeper refuses: no storage or node gains from it, and it can exhaust the sidecar. */
export const MAX_CONCURRENT_CONNECTIONS = 100;

const INT32_MAX = 2_147_483_647;

/** `spec.duration`: a positive Go duration (`15m`, `1h30m`, `.25h`). Empty means unset, as in CassKop. */
export function checkDuration(value: unknown, path = "spec.duration"): Problem[] {
  if (typeof value !== "string" || value === "") return [];
  const parsed = parseGoDuration(value);
  if (!parsed.ok) {
    return [
      problem(path, "duration.invalid", `${parsed.error}; use a Go duration such as 15m, 1h30m or 900s`),
    ];
  }
  if (parsed.nanos <= 0n) {
    // Go accepts "0" and "-15m"; a backup that should last no time or less is a mistake.
    return [problem(path, "duration.invalid", `${q(value)}: must be positive`)];
  }
  return [
    problem(
      path,
      "duration.unsupported",
      `${q(value)}: icarus 1.x may refuse a duration sent over REST (sidecar.md §2.1 ⚠1); leave it out unless tested`,
    ),
  ];
}

export interface DataRate {
  readonly value: number;
  readonly unit: "BPS" | "KBPS" | "MBPS" | "GBPS";
}

/** CassKop's reading of `spec.bandwidth` (`10M` → 10 MBPS), or undefined where CassKop drops it. */
export function parseBandwidth(value: string): DataRate | undefined {
  const m = /^([0-9]+)([KMGkmg]?)$/.exec(value.replaceAll(" ", ""));
  if (m === null) return undefined;
  const digits = m[1] ?? "";
  const unit = (m[2] ?? "").toUpperCase();
  const n = Number(digits);
  if (!Number.isSafeInteger(n) || n > INT32_MAX) return undefined;
  return { value: n, unit: `${unit}BPS` as DataRate["unit"] };
}

/** `spec.bandwidth`: `\d+[KMG]?` (case-insensitive, spaces ignored) with a value in 1..2147483647. */
export function checkBandwidth(value: unknown, path = "spec.bandwidth"): Problem[] {
  if (typeof value !== "string" || value.replaceAll(" ", "") === "") return [];
  const compact = value.replaceAll(" ", "");
  if (!/^[0-9]+[KMGkmg]?$/.test(compact)) {
    return [
      problem(
        path,
        "bandwidth.invalid",
        `${q(value)}: use a number with an optional K, M or G (10M = 10 MB/s); CassKop would silently send no limit`,
      ),
    ];
  }
  const rate = parseBandwidth(value);
  if (rate === undefined) {
    return [
      problem(path, "bandwidth.invalid", `${q(value)}: the value must fit in 32 bits (at most ${INT32_MAX})`),
    ];
  }
  if (rate.value === 0) {
    return [
      problem(path, "bandwidth.invalid", `${q(value)}: must be greater than 0; leave it out for no limit`),
    ];
  }
  return [];
}

/**
 * `spec.concurrentConnections` (backup) or `spec.concurrentConnection` (restore): an integer in
 * 1..{@link MAX_CONCURRENT_CONNECTIONS}, with a warning above {@link HIGH_CONCURRENT_CONNECTIONS}.
 */
export function checkConcurrentConnections(value: unknown, path = "spec.concurrentConnections"): Problem[] {
  if (typeof value !== "number") return [];
  if (!Number.isInteger(value) || value < 1 || value > MAX_CONCURRENT_CONNECTIONS) {
    return [
      problem(
        path,
        "concurrent-connections.invalid",
        `${value}: must be an integer from 1 to ${MAX_CONCURRENT_CONNECTIONS}; leave it out for the sidecar's ` +
          `default of ${DEFAULT_CONCURRENT_CONNECTIONS}`,
      ),
    ];
  }
  if (value > HIGH_CONCURRENT_CONNECTIONS) {
    return [
      problem(
        path,
        "concurrent-connections.high",
        `${value} connections per node is a lot (the sidecar's default is ${DEFAULT_CONCURRENT_CONNECTIONS})`,
      ),
    ];
  }
  return [];
}
