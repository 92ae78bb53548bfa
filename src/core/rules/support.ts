// Small helpers shared by the rules: type guards for untrusted input and message formatting. Rules run on
// whatever a user wrote, so they read fields through these guards and never assume a shape.

import { isRecord } from "../world-build.ts";

// One implementation each, shared with the loader (isRecord) and the schedule parser (Go's TrimSpace).
export { goTrimSpace } from "../schedule/go-strings.ts";
export { isRecord };

/** The value when it is a string, else undefined (the structural schema reports the wrong type). */
export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The value when it is a non-empty string. CassKop treats `""` as "not set" everywhere (Go zero value). */
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

const MAX_QUOTED = 80;

/** A user value in messages: JSON-quoted (control characters escaped) and shortened when long. */
export function q(s: string): string {
  const short = s.length > MAX_QUOTED ? `${s.slice(0, MAX_QUOTED - 1)}…` : s;
  return JSON.stringify(short);
}

/** `a`, `a and b`, `a, b and c`; after `max` items: `a, b and 3 more`. */
export function listing(items: readonly string[], max = 5): string {
  if (items.length <= 1) return items[0] ?? "";
  if (items.length > max) return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

export function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

/**
 * Java's `String.split(regex)` for a one-character literal separator: trailing empty strings are removed
 * (so `"k1.t1.".split(".")` has 2 parts and `"k1.".split(".")` has 1), leading ones are kept.
 */
export function javaSplit(s: string, sep: string): string[] {
  if (s === "") return [""];
  const parts = s.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts;
}

/** Structural equality of JSON-like values (key order ignored); used to compare specs. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isRecord(a) && isRecord(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return Number.isNaN(a) && Number.isNaN(b);
}
