// Admission warnings as the API server and kubectl want them (conventions.md §1.4): `path.to.field: message`,
// no `Warning:` prefix (clients add it), at most 120 characters each (the API server truncates above 256),
// and under 4096 characters in all (above that it drops further warnings, from every webhook). kubectl
// deduplicates what it prints; we deduplicate before sending, so the budget is not spent twice.

import { MAX_WARNING_LENGTH } from "./constants.ts";

/** All warnings of one response together stay under this (the API server's limit is 4096 for all sources). */
export const MAX_WARNINGS_TOTAL = 3072;
/** A field path longer than this is itself shortened so the message keeps some room. */
const MAX_PATH_LENGTH = 60;
const ELLIPSIS = "…";

/**
 * One warning line, at most {@link MAX_WARNING_LENGTH} characters (code points, so a cut never splits a
 * surrogate pair). A long one keeps its field path and the start of its message and ends with `…`. Control
 * characters become spaces: a warning travels as an HTTP `Warning` header.
 */
export function warningText(path: string, message: string): string {
  const cleanPath = clean(path);
  const cleanMessage = clean(message);
  const full = cleanPath === "" ? cleanMessage : `${cleanPath}: ${cleanMessage}`;
  if ([...full].length <= MAX_WARNING_LENGTH) return full;
  const shortPath = cut(cleanPath, MAX_PATH_LENGTH);
  return cut(shortPath === "" ? cleanMessage : `${shortPath}: ${cleanMessage}`, MAX_WARNING_LENGTH);
}

/** The warnings to send: each shortened, duplicates dropped (first kept), the total kept under the budget. */
export function collectWarnings(lines: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  let dropped = 0;
  for (const line of lines) {
    const text = warningText("", line);
    if (text === "" || seen.has(text)) continue;
    if (total + text.length > MAX_WARNINGS_TOTAL) {
      dropped++;
      continue;
    }
    seen.add(text);
    out.push(text);
    total += text.length;
  }
  if (dropped > 0) out.push(`${dropped} more warning${dropped === 1 ? "" : "s"} not shown`);
  return out;
}

function clean(s: string): string {
  return s.replace(/[\p{Cc}\u2028\u2029]+/gu, " ").trim();
}

function cut(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return `${chars
    .slice(0, max - 1)
    .join("")
    .trimEnd()}${ELLIPSIS}`;
}
