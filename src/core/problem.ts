// A Problem is one finding of a rule: where (a field path such as `spec.schedule`), what (a stable code that
// tools and metrics can key on), how bad (an error denies, a warning does not) and a message for people.
// Messages never contain secret values.

export type Severity = "error" | "warning";

export interface Problem {
  /** Field path from the object's root, dotted, with `[i]` for list items: `spec.rename["k1.t1"]`. */
  readonly path: string;
  /** Stable, kebab-case, namespaced by rule: `schedule.invalid`, `secret.missing-keys`. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

export function error(path: string, code: string, message: string): Problem {
  return { path, code, severity: "error", message };
}

export function warning(path: string, code: string, message: string): Problem {
  return { path, code, severity: "warning", message };
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}

/** `spec.schedule: end of range (7) above maximum (6): 7` — the form every face prints. */
export function formatProblem(p: Problem): string {
  return p.path === "" ? p.message : `${p.path}: ${p.message}`;
}

/** Joins a parent path and a child key, quoting keys that are not plain identifiers. */
export function joinPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return parent === "" ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}
