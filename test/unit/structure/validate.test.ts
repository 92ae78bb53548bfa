// Structural validation of casskeeper's three kinds against the bundled CRDs (manifests/crds): valid
// documents in every served version, and each kind of shape problem with its path, code and message.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import type { Problem } from "../../../src/core/problem.ts";
import { loadStructuralValidator } from "../../../src/schema/bundled-crds.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, read and edited freely by path in the tables
type Doc = Record<string, any>;

const validator = loadStructuralValidator();

function fixture(name: string): Doc {
  return parse(readFileSync(new URL(`../../fixtures/structure/${name}`, import.meta.url), "utf8"));
}

/** The fixture, changed by `edit` (on a copy). */
function edited(name: string, edit: (doc: Doc) => void): Doc {
  const doc = structuredClone(fixture(name));
  edit(doc);
  return doc;
}

/** `path code` per problem, the part of a problem the tables compare. */
function brief(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.path} ${p.code}`);
}

function assertAllErrors(problems: readonly Problem[]): void {
  for (const p of problems) assert.equal(p.severity, "error", `${p.path}: ${p.message}`);
}

describe("valid documents pass with no problem", () => {
  const cases: [string, string][] = [
    // backup, v1alpha1, every CassKop spec field, labels and annotations
    ["backup v1alpha1 full", "backup-v1alpha1.yaml"],
    // backup, v2, required fields only
    ["backup v2 minimal", "backup-v2.yaml"],
    // backup, empty YAML values (nulls the API server prunes)
    ["backup with empty values", "backup-empty-values.yaml"],
    // backup, CassKop-written status (non-RFC 3339 lastTransitionTime, failureCause)
    ["backup with CassKop status", "backup-casskop-status.yaml"],
    // backup, casskeeper status extras (schedule times, history)
    ["backup with status extras", "backup-status-extras.yaml"],
    // restore, v1alpha1, every field including rename
    ["restore v1alpha1 full", "restore-v1alpha1.yaml"],
    // restore, v2, generateName instead of name, with status
    ["restore v2 with generateName", "restore-v2.yaml"],
    // source, every spec field
    ["source full spec", "source.yaml"],
    // source, kstatus status with inventory and errors
    ["source with status", "source-status.yaml"],
  ];
  for (const [title, name] of cases) {
    it(title, () => assert.deepEqual(validator.validate(fixture(name)), []));
  }

  it("the same backup validates in both served versions", () => {
    for (const apiVersion of ["db.orange.com/v1alpha1", "db.orange.com/v2"]) {
      const doc = edited("backup-v1alpha1.yaml", (d) => {
        d.apiVersion = apiVersion;
      });
      assert.deepEqual(validator.validate(doc), [], apiVersion);
    }
  });

  it("the same restore validates in both served versions", () => {
    for (const apiVersion of ["db.orange.com/v1alpha1", "db.orange.com/v2"]) {
      const doc = edited("restore-v1alpha1.yaml", (d) => {
        d.apiVersion = apiVersion;
      });
      assert.deepEqual(validator.validate(doc), [], apiVersion);
    }
  });
});

describe("required fields", () => {
  const cases: [string, string, (d: Doc) => void, string[]][] = [
    // backup, spec.cassandraCluster absent
    [
      "backup cassandraCluster",
      "backup-v2.yaml",
      (d) => delete d.spec.cassandraCluster,
      ["spec.cassandraCluster"],
    ],
    // backup, spec.snapshotTag absent (CRD-required although CassKop's comment says optional)
    ["backup snapshotTag", "backup-v2.yaml", (d) => delete d.spec.snapshotTag, ["spec.snapshotTag"]],
    // backup, spec.storageLocation absent
    [
      "backup storageLocation",
      "backup-v2.yaml",
      (d) => delete d.spec.storageLocation,
      ["spec.storageLocation"],
    ],
    // backup, all three absent at once: every problem reported
    [
      "backup all three",
      "backup-v2.yaml",
      (d) => {
        d.spec = {};
      },
      ["spec.cassandraCluster", "spec.snapshotTag", "spec.storageLocation"],
    ],
    // backup, required field given as null (pruned, so missing)
    [
      "backup null snapshotTag",
      "backup-v2.yaml",
      (d) => {
        d.spec.snapshotTag = null;
      },
      ["spec.snapshotTag"],
    ],
    // backup, no spec at all
    ["backup spec", "backup-v2.yaml", (d) => delete d.spec, ["spec"]],
    // restore, spec.cassandraBackup absent
    [
      "restore cassandraBackup",
      "restore-v2.yaml",
      (d) => delete d.spec.cassandraBackup,
      ["spec.cassandraBackup"],
    ],
    // restore, spec.cassandraCluster absent
    [
      "restore cassandraCluster",
      "restore-v2.yaml",
      (d) => delete d.spec.cassandraCluster,
      ["spec.cassandraCluster"],
    ],
    // restore, spec: null
    [
      "restore null spec",
      "restore-v2.yaml",
      (d) => {
        d.spec = null;
      },
      ["spec"],
    ],
    // restore, status.condition without its required type
    [
      "restore condition.type",
      "restore-v2.yaml",
      (d) => delete d.status.condition.type,
      ["status.condition.type"],
    ],
    // source, spec.url absent
    ["source url", "source.yaml", (d) => delete d.spec.url, ["spec.url"]],
    // source, secretRef without name
    [
      "source secretRef.name",
      "source.yaml",
      (d) => {
        d.spec.secretRef = {};
      },
      ["spec.secretRef.name"],
    ],
    // source, inventory entry without its version
    [
      "source inventory v",
      "source-status.yaml",
      (d) => delete d.status.inventory.entries[0].v,
      ["status.inventory.entries[0].v"],
    ],
  ];
  for (const [title, name, edit, paths] of cases) {
    it(title, () => {
      const problems = validator.validate(edited(name, edit));
      assert.deepEqual(
        brief(problems),
        paths.map((p) => `${p} schema.required`),
      );
      assertAllErrors(problems);
      for (const p of problems) assert.equal(p.message, "Required value");
    });
  }
});

describe("wrong types and values", () => {
  const cases: [string, string, (d: Doc) => void, string, string, string][] = [
    // backup, concurrentConnections as a word
    [
      "int32 given a string",
      "backup-v1alpha1.yaml",
      (d) => {
        d.spec.concurrentConnections = "ten";
      },
      "spec.concurrentConnections",
      "schema.type",
      'must be an integer (got string "ten")',
    ],
    // backup, concurrentConnections quoted number (YAML "10" is a string)
    [
      "int32 given a quoted number",
      "backup-v1alpha1.yaml",
      (d) => {
        d.spec.concurrentConnections = "10";
      },
      "spec.concurrentConnections",
      "schema.type",
      'must be an integer (got string "10")',
    ],
    // backup, concurrentConnections fractional
    [
      "int32 given a fraction",
      "backup-v1alpha1.yaml",
      (d) => {
        d.spec.concurrentConnections = 1.5;
      },
      "spec.concurrentConnections",
      "schema.type",
      "must be an integer (got number 1.5)",
    ],
    // backup, concurrentConnections beyond int32
    [
      "int32 out of range",
      "backup-v1alpha1.yaml",
      (d) => {
        d.spec.concurrentConnections = 3_000_000_000;
      },
      "spec.concurrentConnections",
      "schema.format",
      "must be a 32-bit integer (-2147483648 to 2147483647) (got number 3000000000)",
    ],
    // backup, snapshotTag written as a bare YAML number
    [
      "string given a number",
      "backup-v1alpha1.yaml",
      (d) => {
        d.spec.snapshotTag = 20240501;
      },
      "spec.snapshotTag",
      "schema.type",
      "must be a string (got number 20240501)",
    ],
    // backup, spec as a list
    [
      "spec as a list",
      "backup-v2.yaml",
      (d) => {
        d.spec = ["cassandra-demo"];
      },
      "spec",
      "schema.type",
      "must be an object (got a list)",
    ],
    // restore, noDeleteTruncates as "yes"
    [
      "boolean given a string",
      "restore-v1alpha1.yaml",
      (d) => {
        d.spec.noDeleteTruncates = "yes";
      },
      "spec.noDeleteTruncates",
      "schema.type",
      'must be true or false (got string "yes")',
    ],
    // restore, rename as a list
    [
      "map given a list",
      "restore-v1alpha1.yaml",
      (d) => {
        d.spec.rename = ["k1.t1"];
      },
      "spec.rename",
      "schema.type",
      "must be an object (got a list)",
    ],
    // restore, rename value a number: key with a dot is quoted in the path
    [
      "map value given a number",
      "restore-v1alpha1.yaml",
      (d) => {
        d.spec.rename = { "k1.t1": 2 };
      },
      'spec.rename["k1.t1"]',
      "schema.type",
      "must be a string (got number 2)",
    ],
    // restore, concurrentConnection (singular) as an object
    [
      "int32 given an object",
      "restore-v1alpha1.yaml",
      (d) => {
        d.spec.concurrentConnection = { threads: 4 };
      },
      "spec.concurrentConnection",
      "schema.type",
      "must be an integer (got an object)",
    ],
    // source, prune as the string "true"
    [
      "source prune string",
      "source.yaml",
      (d) => {
        d.spec.prune = "true";
      },
      "spec.prune",
      "schema.type",
      'must be true or false (got string "true")',
    ],
    // source, interval in words
    [
      "source interval words",
      "source.yaml",
      (d) => {
        d.spec.interval = "5 minutes";
      },
      "spec.interval",
      "schema.invalid",
      'must be a Go duration such as 30s, 5m or 1h30m (got string "5 minutes")',
    ],
    // source, abbreviated commit
    [
      "source short commit",
      "source.yaml",
      (d) => {
        d.spec.ref = { commit: "0123abc" };
      },
      "spec.ref.commit",
      "schema.invalid",
      'must be a full commit SHA (40 or 64 lowercase hex digits) (got string "0123abc")',
    ],
    // source, empty url
    [
      "source empty url",
      "source.yaml",
      (d) => {
        d.spec.url = "";
      },
      "spec.url",
      "schema.invalid",
      "must not be empty",
    ],
    // source, a target namespace listed twice (list-type set)
    [
      "source duplicate namespace",
      "source.yaml",
      (d) => {
        d.spec.targetNamespaces.namespaces = ["a", "b", "a"];
      },
      "spec.targetNamespaces.namespaces[2]",
      "schema.duplicate",
      'Duplicate value: "a"',
    ],
    // source status, two Ready conditions (list-type map keyed by type)
    [
      "source duplicate condition",
      "source-status.yaml",
      (d) => {
        d.status.conditions[1].type = "Ready";
      },
      "status.conditions[1]",
      "schema.duplicate",
      'Duplicate value: {"type":"Ready"}',
    ],
    // source status, condition status outside its enum
    [
      "source condition enum",
      "source-status.yaml",
      (d) => {
        d.status.conditions[0].status = "Maybe";
      },
      "status.conditions[0].status",
      "schema.enum",
      'must be one of "True", "False", "Unknown" (got string "Maybe")',
    ],
    // source status, error line as a string
    [
      "source error line",
      "source-status.yaml",
      (d) => {
        d.status.errors[0].line = "9";
      },
      "status.errors[0].line",
      "schema.type",
      'must be an integer (got string "9")',
    ],
    // backup status extras, scheduledTime not a date-time
    [
      "history scheduledTime format",
      "backup-status-extras.yaml",
      (d) => {
        d.status.history[1].scheduledTime = "yesterday";
      },
      "status.history[1].scheduledTime",
      "schema.format",
      'must be an RFC 3339 date-time such as 2024-05-01T02:00:00Z (got string "yesterday")',
    ],
    // backup status extras, nextScheduleTime with an impossible date
    [
      "nextScheduleTime Feb 30",
      "backup-status-extras.yaml",
      (d) => {
        d.status.nextScheduleTime = "2024-02-30T02:00:00Z";
      },
      "status.nextScheduleTime",
      "schema.format",
      'must be an RFC 3339 date-time such as 2024-05-01T02:00:00Z (got string "2024-02-30T02:00:00Z")',
    ],
    // backup status extras, history longer than its 20 items
    [
      "history too long",
      "backup-status-extras.yaml",
      (d) => {
        d.status.history = Array.from({ length: 21 }, () => ({ state: "COMPLETED" }));
      },
      "status.history",
      "schema.invalid",
      "must have at most 20 items (got 21)",
    ],
    // backup status, failureCause as an object rather than CassKop v2's list
    [
      "failureCause object",
      "backup-casskop-status.yaml",
      (d) => {
        d.status.condition.failureCause = { message: "x" };
      },
      "status.condition.failureCause",
      "schema.type",
      "must be a list (got an object)",
    ],
  ];
  for (const [title, name, edit, path, code, message] of cases) {
    it(title, () => {
      assert.deepEqual(validator.validate(edited(name, edit)), [{ path, code, severity: "error", message }]);
    });
  }

  it("reports every problem of a document at once", () => {
    const doc = edited("backup-v1alpha1.yaml", (d) => {
      d.spec.concurrentConnections = "ten";
      d.spec.entities = ["k1"];
      delete d.spec.storageLocation;
      d.metadata.name = "Nightly";
    });
    assert.deepEqual(brief(validator.validate(doc)).sort(), [
      "metadata.name metadata.name",
      "spec.concurrentConnections schema.type",
      "spec.entities schema.type",
      "spec.storageLocation schema.required",
    ]);
  });
});

describe("unknown fields", () => {
  const cases: [string, string, (d: Doc) => void, string, string][] = [
    // backup, one-letter typo: suggestion
    [
      "typo in spec",
      "backup-v2.yaml",
      (d) => {
        d.spec.shedule = "0 2 * * *";
      },
      "spec.shedule",
      'unknown field "spec.shedule", did you mean "schedule"?',
    ],
    // backup, wrong case: suggestion
    [
      "case in spec",
      "backup-v2.yaml",
      (d) => {
        d.spec.StorageLocation2 = "x";
      },
      "spec.StorageLocation2",
      'unknown field "spec.StorageLocation2", did you mean "storageLocation"?',
    ],
    // restore, backup's plural field name: suggests the restore's singular
    [
      "plural on restore",
      "restore-v2.yaml",
      (d) => {
        d.spec.concurrentConnections = 4;
      },
      "spec.concurrentConnections",
      'unknown field "spec.concurrentConnections", did you mean "concurrentConnection"?',
    ],
    // backup, casskeeper extra written in spec instead of an annotation: no near miss
    [
      "no suggestion",
      "backup-v2.yaml",
      (d) => {
        d.spec.retention = "7d";
      },
      "spec.retention",
      'unknown field "spec.retention"',
    ],
    // backup, unknown top-level field
    [
      "top level",
      "backup-v2.yaml",
      (d) => {
        d.specs = {};
      },
      "specs",
      'unknown field "specs", did you mean "spec"?',
    ],
    // backup, metadata typo
    [
      "metadata typo",
      "backup-v2.yaml",
      (d) => {
        d.metadata.lables = { a: "b" };
      },
      "metadata.lables",
      'unknown field "metadata.lables", did you mean "labels"?',
    ],
    // backup, status.condition field from CassKop v1.0.0
    [
      "nested status",
      "backup-casskop-status.yaml",
      (d) => {
        d.status.restorationPhase = "DOWNLOAD";
      },
      "status.restorationPhase",
      'unknown field "status.restorationPhase"',
    ],
    // source, ref.branches
    [
      "source ref typo",
      "source.yaml",
      (d) => {
        d.spec.ref = { branches: "main" };
      },
      "spec.ref.branches",
      'unknown field "spec.ref.branches", did you mean "branch"?',
    ],
    // source, key that needs quoting in the path (a space is a near miss of the camelCase name)
    [
      "quoted key",
      "source.yaml",
      (d) => {
        d.spec["target namespaces"] = [];
      },
      'spec["target namespaces"]',
      'unknown field "spec["target namespaces"]", did you mean "targetNamespaces"?',
    ],
  ];
  for (const [title, name, edit, path, message] of cases) {
    it(title, () => {
      assert.deepEqual(validator.validate(edited(name, edit)), [
        { path, code: "schema.unknown-field", severity: "error", message },
      ]);
    });
  }
});

describe("metadata", () => {
  const cases: [string, (d: Doc) => void, string[]][] = [
    // name with capitals and underscore
    [
      "name not a subdomain",
      (d) => {
        d.metadata.name = "Nightly_Backup";
      },
      ["metadata.name metadata.name"],
    ],
    // name longer than 253
    [
      "name too long",
      (d) => {
        d.metadata.name = "a".repeat(254);
      },
      ["metadata.name metadata.name"],
    ],
    // name ending with a dash
    [
      "name trailing dash",
      (d) => {
        d.metadata.name = "backup-";
      },
      ["metadata.name metadata.name"],
    ],
    // dotted name is a valid subdomain
    [
      "dotted name ok",
      (d) => {
        d.metadata.name = "nightly.backup-1";
      },
      [],
    ],
    // name absent, no generateName
    ["name missing", (d) => delete d.metadata.name, ["metadata.name schema.required"]],
    // no metadata at all
    ["metadata missing", (d) => delete d.metadata, ["metadata.name schema.required"]],
    // name absent but generateName set (trailing dash allowed in a prefix)
    [
      "generateName instead",
      (d) => {
        delete d.metadata.name;
        d.metadata.generateName = "nightly-";
      },
      [],
    ],
    // invalid generateName
    [
      "generateName invalid",
      (d) => {
        delete d.metadata.name;
        d.metadata.generateName = "Nightly_";
      },
      ["metadata.generateName metadata.generateName"],
    ],
    // name as a number
    [
      "name number",
      (d) => {
        d.metadata.name = 42;
      },
      ["metadata.name schema.type"],
    ],
    // namespace with capitals
    [
      "namespace capitals",
      (d) => {
        d.metadata.namespace = "Prod";
      },
      ["metadata.namespace metadata.namespace"],
    ],
    // namespace with a dot (labels have no dots)
    [
      "namespace dotted",
      (d) => {
        d.metadata.namespace = "prod.eu";
      },
      ["metadata.namespace metadata.namespace"],
    ],
    // label value longer than 63
    [
      "label value long",
      (d) => {
        d.metadata.labels = { team: "x".repeat(64) };
      },
      ["metadata.labels.team metadata.labels"],
    ],
    // label key with two slashes
    [
      "label key slashes",
      (d) => {
        d.metadata.labels = { "a/b/c": "x" };
      },
      ['metadata.labels["a/b/c"] metadata.labels'],
    ],
    // label value a number (unquoted YAML)
    [
      "label value number",
      (d) => {
        d.metadata.labels = { "app.kubernetes.io/version": 2 };
      },
      ['metadata.labels["app.kubernetes.io/version"] schema.type'],
    ],
    // annotation value a number
    [
      "annotation value number",
      (d) => {
        d.metadata.annotations = { "casskeeper.io/retention": 7 };
      },
      ['metadata.annotations["casskeeper.io/retention"] schema.type'],
    ],
    // annotation key invalid
    [
      "annotation key",
      (d) => {
        d.metadata.annotations = { "-bad": "x" };
      },
      ['metadata.annotations["-bad"] metadata.annotations'],
    ],
    // labels as a list
    [
      "labels list",
      (d) => {
        d.metadata.labels = ["a"];
      },
      ["metadata.labels schema.type"],
    ],
  ];
  for (const [title, edit, expected] of cases) {
    it(title, () =>
      assert.deepEqual(brief(validator.validate(edited("backup-v1alpha1.yaml", edit))), expected),
    );
  }

  it("name message reads like the API server's", () => {
    const [p] = validator.validate(
      edited("backup-v2.yaml", (d) => {
        d.metadata.name = "Nightly_Backup";
      }),
    );
    assert.equal(
      p?.message,
      `invalid name "Nightly_Backup": must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
    );
  });

  it("annotation values are never echoed", () => {
    const problems = validator.validate(
      edited("backup-v2.yaml", (d) => {
        d.metadata.annotations = { "bad key!": "s3cr3t-value" };
      }),
    );
    assert.equal(problems.length, 1);
    assert.ok(!problems[0]?.message.includes("s3cr3t"));
  });
});

describe("apiVersion and kind", () => {
  const cases: [string, Doc, string, RegExp][] = [
    // version not served
    [
      "unserved version",
      { apiVersion: "db.orange.com/v3", kind: "CassandraBackup" },
      "apiVersion",
      /^version "v3" of CassandraBackup is not served; served versions: db\.orange\.com\/v1alpha1, db\.orange\.com\/v2$/,
    ],
    // source in a version it never had
    [
      "unserved source version",
      { apiVersion: "casskeeper.io/v1", kind: "BackupPolicySource" },
      "apiVersion",
      /served versions: casskeeper\.io\/v1alpha1$/,
    ],
    // apiVersion missing
    [
      "apiVersion missing",
      { kind: "CassandraRestore" },
      "apiVersion",
      /^Required value: .*CassandraRestore is served as db\.orange\.com\/v1alpha1, db\.orange\.com\/v2$/,
    ],
    // kind missing
    ["kind missing", { apiVersion: "db.orange.com/v2" }, "kind", /^Required value: .*CassandraBackup/],
    // kind not a string
    ["kind number", { apiVersion: "db.orange.com/v2", kind: 1 }, "kind", /must be a string \(got number 1\)/],
    // right kind, wrong group (Instaclustr's operator)
    [
      "wrong group",
      { apiVersion: "cassandraoperator.instaclustr.com/v1alpha1", kind: "CassandraBackup" },
      "apiVersion",
      /^CassandraBackup is not in API group "cassandraoperator\.instaclustr\.com"; use db\.orange\.com\/v1alpha1/,
    ],
    // plural kind
    [
      "kind typo",
      { apiVersion: "db.orange.com/v2", kind: "CassandraBackups" },
      "kind",
      /did you mean "CassandraBackup"\?$/,
    ],
    // a kind casskeeper does not know
    [
      "foreign kind",
      { apiVersion: "v1", kind: "ConfigMap" },
      "kind",
      /^unknown kind "ConfigMap" in "v1"; casskeeper knows /,
    ],
  ];
  for (const [title, doc, path, message] of cases) {
    it(title, () => {
      const problems = validator.validate({ metadata: { name: "x" }, spec: {}, ...doc });
      assert.equal(problems.length, 1);
      assert.equal(problems[0]?.path, path);
      assert.equal(problems[0]?.code, "schema.unknown-kind");
      assert.match(problems[0]?.message ?? "", message);
    });
  }

  const knows: [string, string, boolean][] = [
    // both CassKop versions
    ["db.orange.com/v1alpha1", "CassandraBackup", true],
    ["db.orange.com/v2", "CassandraRestore", true],
    // group and kind known, version not served: still casskeeper's (validate explains)
    ["db.orange.com/v3", "CassandraBackup", true],
    ["casskeeper.io/v1alpha1", "BackupPolicySource", true],
    // the CassandraCluster kind is CassKop's, not a casskeeper CRD
    ["db.orange.com/v2", "CassandraCluster", false],
    ["v1", "ConfigMap", false],
    ["cassandraoperator.instaclustr.com/v1alpha1", "CassandraBackup", false],
  ];
  for (const [apiVersion, kind, expected] of knows) {
    it(`knows(${apiVersion}, ${kind}) is ${expected}`, () =>
      assert.equal(validator.knows(apiVersion, kind), expected));
  }

  it("a document that is not an object", () => {
    assert.deepEqual(brief(validator.validate("apiVersion: v1")), [" schema.type"]);
    assert.deepEqual(brief(validator.validate(null)), [" schema.type"]);
  });
});

describe("CEL rule mirrored: spec.ref has at most one of branch, tag, commit", () => {
  const sha = "0123456789abcdef0123456789abcdef01234567";
  const cases: [string, Doc, boolean][] = [
    // none: the remote's default branch
    ["empty ref", {}, true],
    ["branch", { branch: "main" }, true],
    ["tag", { tag: "v1" }, true],
    ["commit", { commit: sha }, true],
    // two or three set
    ["branch and tag", { branch: "main", tag: "v1" }, false],
    ["branch and commit", { branch: "main", commit: sha }, false],
    ["tag and commit", { tag: "v1", commit: sha }, false],
    ["all three", { branch: "main", tag: "v1", commit: sha }, false],
    // a null is pruned before the rule runs, as on the API server
    ["branch and null tag", { branch: "main", tag: null }, true],
  ];
  for (const [title, ref, ok] of cases) {
    it(title, () => {
      const problems = validator.validate(
        edited("source.yaml", (d) => {
          d.spec.ref = ref;
        }),
      );
      assert.deepEqual(
        problems,
        ok
          ? []
          : [
              {
                path: "spec.ref",
                code: "schema.invalid",
                severity: "error",
                message: "at most one of branch, tag or commit may be set",
              },
            ],
      );
    });
  }
});
