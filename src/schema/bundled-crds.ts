// The I/O edge of structural validation: reads the CRDs casskeeper ships (manifests/crds/*.yaml, the files
// `kubectl apply -k` installs) so the CLI, the webhook and the Git sync validate with the very same schemas.
// The URL resolves the same from src/schema/ (run as .ts) and from dist/schema/ (built), since both sit two
// levels below the package root, and manifests/crds is in the published package.

import { readdirSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { compileStructuralValidator, type StructuralValidator } from "../core/structure.ts";

export const BUNDLED_CRDS_DIR: URL = new URL("../../manifests/crds/", import.meta.url);

/** Every CustomResourceDefinition document in `dir` (kustomization.yaml and other kinds are skipped). */
export function readBundledCrds(dir: URL = BUNDLED_CRDS_DIR): unknown[] {
  const files = readdirSync(dir)
    .filter((f) => (f.endsWith(".yaml") || f.endsWith(".yml")) && !/^kustomization\.ya?ml$/.test(f))
    .sort();
  const crds: unknown[] = [];
  for (const file of files) {
    const text = readFileSync(new URL(file, dir), "utf8");
    for (const doc of parseAllDocuments(text)) {
      const first = doc.errors[0];
      if (first !== undefined) throw new Error(`${new URL(file, dir).pathname}: ${first.message}`);
      const value: unknown = doc.toJS();
      if (
        typeof value === "object" &&
        value !== null &&
        (value as { kind?: unknown }).kind === "CustomResourceDefinition"
      ) {
        crds.push(value);
      }
    }
  }
  return crds;
}

let cached: StructuralValidator | undefined;

/** The validator for the bundled CRDs, compiled once per process (compilation takes tens of milliseconds). */
export function loadStructuralValidator(): StructuralValidator {
  cached ??= compileStructuralValidator(readBundledCrds());
  return cached;
}
