// manifests/crds renders with `kubectl kustomize` (no cluster needed) into the three CRDs casskeeper installs,
// with the names, versions, storage flags, subresources and printer columns the rest of casskeeper relies
// on; CassKop's two kinds keep CassKop's exact fields; every schema node is typed and described.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments } from "yaml";
import { readBundledCrds } from "../../src/schema/bundled-crds.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read and edited freely by path in the tables
type Obj = Record<string, any>;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CRD_DIR = new URL("../../manifests/crds/", import.meta.url);

let rendered: Obj[] = [];
const byName = (name: string): Obj => {
  const crd = rendered.find((c) => c.metadata.name === name);
  assert.ok(crd, `${name} not rendered`);
  return crd;
};
const version = (crd: Obj, name: string): Obj => crd.spec.versions.find((v: Obj) => v.name === name);
const schemaOf = (crd: Obj, v: string): Obj => version(crd, v).schema.openAPIV3Schema;

before(async () => {
  const { stdout } = await promisify(execFile)("kubectl", ["kustomize", "manifests/crds"], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  rendered = parseAllDocuments(stdout).map((d) => d.toJS());
});

describe("kubectl kustomize manifests/crds", () => {
  it("renders exactly the three CRDs", () => {
    assert.deepEqual(rendered.map((c) => `${c.apiVersion} ${c.kind} ${c.metadata.name}`).sort(), [
      "apiextensions.k8s.io/v1 CustomResourceDefinition backuppolicysources.casskeeper.io",
      "apiextensions.k8s.io/v1 CustomResourceDefinition cassandrabackups.db.orange.com",
      "apiextensions.k8s.io/v1 CustomResourceDefinition cassandrarestores.db.orange.com",
    ]);
  });

  it("renders what casskeeper validates with (the files bundled-crds reads)", () => {
    const sortByName = (l: Obj[]) => [...l].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    assert.deepEqual(sortByName(rendered), sortByName(readBundledCrds() as Obj[]));
  });

  it("lists every CRD file in kustomization.yaml", () => {
    const k = parse(readFileSync(new URL("kustomization.yaml", CRD_DIR), "utf8"));
    assert.deepEqual([...k.resources].sort(), [
      "backup-policy-sources.yaml",
      "cassandra-backups.yaml",
      "cassandra-restores.yaml",
    ]);
  });

  const names: [string, string, string, string, string[]][] = [
    // CassKop's backup kind
    [
      "cassandrabackups.db.orange.com",
      "db.orange.com",
      "CassandraBackup",
      "cassandrabackups",
      ["cassbackup", "cassbk"],
    ],
    // CassKop's restore kind
    [
      "cassandrarestores.db.orange.com",
      "db.orange.com",
      "CassandraRestore",
      "cassandrarestores",
      ["cassrestore", "cassrs"],
    ],
    // casskeeper's own kind
    [
      "backuppolicysources.casskeeper.io",
      "casskeeper.io",
      "BackupPolicySource",
      "backuppolicysources",
      ["bps"],
    ],
  ];
  for (const [name, group, kind, plural, shortNames] of names) {
    it(`${name}: group, names, scope, category`, () => {
      const crd = byName(name);
      assert.equal(crd.spec.group, group);
      assert.equal(crd.spec.scope, "Namespaced");
      assert.equal(crd.spec.names.kind, kind);
      assert.equal(crd.spec.names.listKind, `${kind}List`);
      assert.equal(crd.spec.names.plural, plural);
      assert.equal(crd.spec.names.singular, kind.toLowerCase());
      assert.deepEqual(crd.spec.names.shortNames, shortNames);
      assert.deepEqual(crd.spec.names.categories, ["casskeeper"]);
    });
  }

  it("short names clash with no built-in resource's", () => {
    // kubectl api-resources on a 1.32 cluster, short names column
    const builtIn = new Set(
      "cs cm ep ev limits ns no pvc pv po rc quota sa svc crd crds csr ds deploy rs sts hpa cj ing netpol pdb pc sc ingclass psp csinode csidriver vac".split(
        " ",
      ),
    );
    for (const crd of rendered) for (const s of crd.spec.names.shortNames) assert.ok(!builtIn.has(s), s);
  });

  const versions: [string, string, boolean, boolean][] = [
    // CassKop v2.0.1 stores v1alpha1; newer CassKop serves v2; both served, v1alpha1 stored
    ["cassandrabackups.db.orange.com", "v1alpha1", true, true],
    ["cassandrabackups.db.orange.com", "v2", true, false],
    ["cassandrarestores.db.orange.com", "v1alpha1", true, true],
    ["cassandrarestores.db.orange.com", "v2", true, false],
    ["backuppolicysources.casskeeper.io", "v1alpha1", true, true],
  ];
  for (const [name, v, served, storage] of versions) {
    it(`${name} ${v}: served ${served}, storage ${storage}`, () => {
      const ver = version(byName(name), v);
      assert.ok(ver, `${v} missing`);
      assert.equal(ver.served, served);
      assert.equal(ver.storage, storage);
    });
  }

  it("each CRD has exactly the versions above", () => {
    assert.deepEqual(
      rendered.map((c) => `${c.metadata.name}: ${c.spec.versions.map((v: Obj) => v.name).join(",")}`).sort(),
      [
        "backuppolicysources.casskeeper.io: v1alpha1",
        "cassandrabackups.db.orange.com: v1alpha1,v2",
        "cassandrarestores.db.orange.com: v1alpha1,v2",
      ],
    );
  });

  it("CassKop's kinds have no status subresource; BackupPolicySource has one", () => {
    for (const name of ["cassandrabackups.db.orange.com", "cassandrarestores.db.orange.com"]) {
      for (const v of byName(name).spec.versions)
        assert.equal(v.subresources, undefined, `${name} ${v.name}`);
    }
    assert.deepEqual(version(byName("backuppolicysources.casskeeper.io"), "v1alpha1").subresources, {
      status: {},
    });
  });

  it("v1alpha1 and v2 of CassKop's kinds carry the same schema and columns", () => {
    for (const name of ["cassandrabackups.db.orange.com", "cassandrarestores.db.orange.com"]) {
      const crd = byName(name);
      assert.deepEqual(version(crd, "v2").schema, version(crd, "v1alpha1").schema, name);
      assert.deepEqual(
        version(crd, "v2").additionalPrinterColumns,
        version(crd, "v1alpha1").additionalPrinterColumns,
        name,
      );
    }
  });

  const columns: [string, string, string[]][] = [
    // Next Schedule is a string column: kubectl prints a future date column as <invalid>
    [
      "cassandrabackups.db.orange.com",
      "v1alpha1",
      [
        "Cluster string .spec.cassandraCluster",
        "DC string .spec.datacenter",
        "Location string .spec.storageLocation",
        "Schedule string .spec.schedule",
        "State string .status.condition.type",
        "Progress string .status.progress",
        "Last Schedule date .status.lastScheduleTime",
        "Next Schedule string .status.nextScheduleTime",
        "Age date .metadata.creationTimestamp",
      ],
    ],
    [
      "cassandrarestores.db.orange.com",
      "v1alpha1",
      [
        "Cluster string .spec.cassandraCluster",
        "Backup string .spec.cassandraBackup",
        "State string .status.condition.type",
        "Progress string .status.progress",
        "Age date .metadata.creationTimestamp",
      ],
    ],
    [
      "backuppolicysources.casskeeper.io",
      "v1alpha1",
      [
        "URL string .spec.url",
        "Revision string .status.lastAppliedRevision",
        'Ready string .status.conditions[?(@.type=="Ready")].status',
        'Status string .status.conditions[?(@.type=="Ready")].message',
        "Age date .metadata.creationTimestamp",
      ],
    ],
  ];
  for (const [name, v, expected] of columns) {
    it(`${name} printer columns`, () => {
      const cols = version(byName(name), v).additionalPrinterColumns.map(
        (c: Obj) => `${c.name} ${c.type} ${c.jsonPath}`,
      );
      assert.deepEqual(cols, expected);
    });
  }
});

describe("CassKop's fields, exactly (reference/operators.md §1.2-1.4)", () => {
  const specFields: [string, string[], Record<string, string>][] = [
    [
      "cassandrabackups.db.orange.com",
      ["cassandraCluster", "snapshotTag", "storageLocation"],
      {
        cassandraCluster: "string",
        datacenter: "string",
        storageLocation: "string",
        schedule: "string",
        snapshotTag: "string",
        duration: "string",
        bandwidth: "string",
        concurrentConnections: "integer/int32",
        entities: "string",
        secret: "string",
      },
    ],
    [
      "cassandrarestores.db.orange.com",
      ["cassandraBackup", "cassandraCluster"],
      {
        cassandraCluster: "string",
        datacenter: "string",
        cassandraBackup: "string",
        concurrentConnection: "integer/int32",
        cassandraDirectory: "string",
        noDeleteTruncates: "boolean",
        schemaVersion: "string",
        exactSchemaVersion: "boolean",
        entities: "string",
        rename: "object<string>",
        secret: "string",
      },
    ],
  ];
  const typeOf = (s: Obj): string =>
    s.type === "object" && s.additionalProperties
      ? `object<${s.additionalProperties.type}>`
      : s.format
        ? `${s.type}/${s.format}`
        : s.type;

  for (const [name, required, fields] of specFields) {
    it(`${name} spec`, () => {
      const root = schemaOf(byName(name), "v1alpha1");
      assert.deepEqual(root.required, ["spec"]);
      const spec = root.properties.spec;
      assert.deepEqual([...spec.required].sort(), required);
      const actual = Object.fromEntries(
        Object.entries(spec.properties as Obj).map(([k, v]) => [k, typeOf(v)]),
      );
      assert.deepEqual(actual, fields);
      for (const [k, v] of Object.entries(spec.properties as Obj)) {
        assert.equal(v.pattern, undefined, `${k}: no pattern, the rules give better messages`);
      }
    });

    it(`${name} status: BackRestStatus plus casskeeper's optional extras`, () => {
      const status = schemaOf(byName(name), "v1alpha1").properties.status;
      assert.equal(status.required, undefined);
      assert.deepEqual(Object.keys(status.properties).sort(), [
        "condition",
        "coordinatorMember",
        "history",
        "id",
        "lastScheduleTime",
        "lastSuccessfulTime",
        "nextScheduleTime",
        "progress",
        "timeCompleted",
        "timeCreated",
        "timeStarted",
      ]);
      assert.deepEqual(status.properties.condition.required, ["type"]);
      assert.deepEqual(Object.keys(status.properties.condition.properties).sort(), [
        "failureCause",
        "lastTransitionTime",
        "type",
      ]);
      assert.deepEqual(Object.keys(status.properties.history.items.properties).sort(), [
        "id",
        "scheduledTime",
        "snapshotTag",
        "state",
        "timeCompleted",
        "timeStarted",
      ]);
    });
  }

  it("BackupPolicySource spec fields and defaults", () => {
    const spec = schemaOf(byName("backuppolicysources.casskeeper.io"), "v1alpha1").properties.spec;
    assert.deepEqual(spec.required, ["url"]);
    assert.deepEqual(Object.keys(spec.properties).sort(), [
      "allowEmpty",
      "interval",
      "path",
      "prune",
      "ref",
      "secretRef",
      "suspend",
      "targetNamespaces",
      "url",
    ]);
    assert.equal(spec.properties.interval.default, "5m");
    assert.equal(spec.properties.prune.default, true);
    assert.equal(spec.properties.allowEmpty.default, false);
    assert.equal(spec.properties.ref["x-kubernetes-validations"].length, 1);
  });
});

describe("every schema node is structural and described", () => {
  /** Problems of one schema node and its children: a type (or int-or-string/preserve), a description. */
  function walk(node: Obj, path: string, out: string[]): void {
    const typed =
      typeof node.type === "string" ||
      node["x-kubernetes-int-or-string"] === true ||
      node["x-kubernetes-preserve-unknown-fields"] === true;
    if (!typed) out.push(`${path}: no type`);
    if (node.type === "object" && node.properties && node.additionalProperties) {
      out.push(`${path}: properties and additionalProperties together`);
    }
    for (const [k, v] of Object.entries((node.properties ?? {}) as Obj)) {
      const child = `${path}.${k}`;
      // apiVersion/kind/metadata are Kubernetes' own; everything else is ours to describe
      if (path === "" && k === "metadata") continue;
      if (typeof v.description !== "string" || v.description.trim() === "")
        out.push(`${child}: no description`);
      walk(v, child, out);
    }
    if (node.items) walk(node.items, `${path}[]`, out);
    if (node.additionalProperties && typeof node.additionalProperties === "object") {
      walk(node.additionalProperties, `${path}{}`, out);
    }
  }

  for (const name of [
    "cassandrabackups.db.orange.com",
    "cassandrarestores.db.orange.com",
    "backuppolicysources.casskeeper.io",
  ]) {
    it(name, () => {
      const out: string[] = [];
      walk(schemaOf(byName(name), "v1alpha1"), "", out);
      assert.deepEqual(out, []);
    });
  }

  it("list-type map keys are required in their items", () => {
    const conditions = schemaOf(byName("backuppolicysources.casskeeper.io"), "v1alpha1").properties.status
      .properties.conditions;
    assert.equal(conditions["x-kubernetes-list-type"], "map");
    for (const k of conditions["x-kubernetes-list-map-keys"])
      assert.ok(conditions.items.required.includes(k), k);
  });
});
