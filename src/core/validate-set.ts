// Validates a set of documents the way they will meet the cluster: each on its own (structure from the CRD
// schemas, then the rules), and across the set (duplicate names, a restore's backup in the set or the world,
// snapshotTag collisions). Used by `casskeeper validate` and the Git sync, so both print the same findings.

import { validatePolicySource } from "./policy-source.ts";
import { error, type Problem } from "./problem.ts";
import { validateBackup, validateRestore } from "./rules/index.ts";
import { snapshotTagCollisions } from "./rules/snapshot-tag.ts";
import type { StructuralValidator } from "./structure.ts";
import { CASSKOP_GROUP, type CassandraBackup, type CassandraRestore, type KubeObject } from "./types.ts";
import { type BackupInfo, key, type WorldSnapshot } from "./world.ts";
import { backupInfo, isRecord } from "./world-build.ts";
import type { LoadedDocument, LocatedProblem } from "./yaml-documents.ts";

export interface ValidateOptions {
  readonly structure: StructuralValidator;
  readonly world: WorldSnapshot;
  /** Namespace of documents that name none (kubectl's `--namespace`, the Git source's namespace). */
  readonly defaultNamespace: string;
}

/** An object that passed the structural check, ready for rules and, later, for apply. */
export interface ObjectRef {
  readonly doc: LoadedDocument;
  readonly object: KubeObject;
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export interface SetResult {
  readonly problems: LocatedProblem[];
  readonly objects: ObjectRef[];
}

export function validateDocuments(docs: readonly LoadedDocument[], opts: ValidateOptions): SetResult {
  const problems: LocatedProblem[] = [];
  const objects: ObjectRef[] = [];
  const emit = (doc: LoadedDocument, list: readonly Problem[]) => {
    for (const p of list) {
      const pos = doc.positionOf(p.path);
      problems.push({ file: doc.file, line: pos.line, column: pos.column, problem: p });
    }
  };

  // Each document on its own: shape first. Rules only see objects of kinds casskeeper knows.
  const shapeErrors = new Map<LoadedDocument, Problem[]>();
  for (const doc of docs) {
    const o = doc.object;
    if (!isRecord(o)) {
      emit(doc, [error("", "document.not-object", "document is not a Kubernetes object (a YAML mapping)")]);
      continue;
    }
    const shape = opts.structure.validate(o);
    shapeErrors.set(doc, shape);
    emit(doc, shape);
    const apiVersion = typeof o.apiVersion === "string" ? o.apiVersion : "";
    const kind = typeof o.kind === "string" ? o.kind : "";
    if (!opts.structure.knows(apiVersion, kind)) continue;
    const meta = isRecord(o.metadata) ? o.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : "";
    const ns =
      typeof meta.namespace === "string" && meta.namespace !== "" ? meta.namespace : opts.defaultNamespace;
    objects.push({
      doc,
      object: o as KubeObject,
      group: apiVersion.split("/")[0] ?? "",
      kind,
      namespace: ns,
      name,
    });
  }

  // Across the set: one object per kind, namespace and name — the cluster would keep only the last.
  const seen = new Map<string, ObjectRef>();
  for (const ref of objects) {
    if (ref.name === "") continue;
    const id = `${ref.group}/${ref.kind}/${ref.namespace}/${ref.name}`;
    const first = seen.get(id);
    if (first === undefined) {
      seen.set(id, ref);
      continue;
    }
    const where = `${first.doc.file}:${first.doc.position.line}`;
    emit(ref.doc, [
      error(
        "metadata.name",
        "document.duplicate",
        `${ref.kind} ${ref.namespace}/${ref.name} is also defined at ${where}`,
      ),
    ]);
  }

  // Backups of the set shadow the world's (the set is what will be applied).
  const setBackups = new Map<string, BackupInfo>();
  for (const ref of objects) {
    if (ref.kind === "CassandraBackup" && ref.group === CASSKOP_GROUP && ref.name !== "") {
      const known = opts.world.backups.get(key(ref.namespace, ref.name));
      const info = backupInfo(ref.object as CassandraBackup, ref.namespace, ref.name);
      // A file never carries live status: keep the cluster's state for a backup that already exists.
      setBackups.set(key(ref.namespace, ref.name), { ...info, state: info.state ?? known?.state });
    }
  }
  const findBackup = (namespace: string, name: string): BackupInfo | undefined =>
    setBackups.get(key(namespace, name)) ?? opts.world.backups.get(key(namespace, name));

  for (const ref of objects) {
    const ctx = { world: opts.world, namespace: ref.namespace };
    let found: Problem[] = [];
    if (ref.group === CASSKOP_GROUP && ref.kind === "CassandraBackup") {
      found = validateBackup(ref.object as CassandraBackup, ctx);
    } else if (ref.group === CASSKOP_GROUP && ref.kind === "CassandraRestore") {
      found = validateRestore(ref.object as CassandraRestore, { ...ctx, findBackup });
    } else if (ref.kind === "BackupPolicySource") {
      found = validatePolicySource(ref.object);
    }
    emit(ref.doc, withoutShadowed(found, shapeErrors.get(ref.doc) ?? []));
  }

  // snapshotTag collisions among the set and the world's other backups.
  const all = [...setBackups.values()];
  for (const b of opts.world.backups.values()) if (!setBackups.has(key(b.namespace, b.name))) all.push(b);
  const collisions = snapshotTagCollisions(all);
  const byKey = new Map<string, ObjectRef>();
  for (const ref of objects) if (ref.kind === "CassandraBackup") byKey.set(key(ref.namespace, ref.name), ref);
  for (const [index, list] of collisions) {
    const b = all[index];
    const ref = b === undefined ? undefined : byKey.get(key(b.namespace, b.name));
    if (ref !== undefined) emit(ref.doc, list);
  }

  problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
  return { problems, objects };
}

/**
 * A rule finding on a field the schema already rejected says the same thing twice (or reads a value of the
 * wrong type): the schema's message wins. Shared with the admission webhook (src/admission/handlers.ts).
 */
export function withoutShadowed(found: readonly Problem[], shape: readonly Problem[]): Problem[] {
  const bad = shape.filter((p) => p.severity === "error").map((p) => p.path);
  if (bad.length === 0) return [...found];
  return found.filter(
    (p) => !bad.some((b) => p.path === b || p.path.startsWith(`${b}.`) || p.path.startsWith(`${b}[`)),
  );
}
