import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { EMPTY_WORLD } from "../../../src/core/world.ts";
import { loadSourceFiles } from "../../../src/gitsync/loader.ts";
import {
  ANNOTATION_DIGEST,
  ANNOTATION_PRUNE,
  ANNOTATION_REVISION,
  ANNOTATION_SOURCE_PATH,
  type InventoryEntry,
  LABEL_MANAGED_BY,
  LABEL_SOURCE_NAME,
  LABEL_SOURCE_NAMESPACE,
  type SyncPlan,
} from "../../../src/gitsync/model.ts";
import { canonicalJson, driftedFields, type PlanInput, planSync } from "../../../src/gitsync/plan.ts";
import { loadStructuralValidator } from "../../../src/schema/bundled-crds.ts";

const structure = loadStructuralValidator();
const SOURCE = { namespace: "prod", name: "policies" };
const REV = "main@sha1:1111111111111111111111111111111111111111";
const REV2 = "main@sha1:2222222222222222222222222222222222222222";

/** A valid CassandraBackup in YAML; `extra` lines go under metadata. */
function backup(name: string, opts: { ns?: string; schedule?: string; meta?: string; api?: string } = {}) {
  return [
    `apiVersion: db.orange.com/${opts.api ?? "v2"}`,
    "kind: CassandraBackup",
    "metadata:",
    `  name: ${name}`,
    ...(opts.ns === undefined ? [] : [`  namespace: ${opts.ns}`]),
    ...(opts.meta === undefined ? [] : [opts.meta]),
    "spec:",
    "  cassandraCluster: orders",
    "  storageLocation: s3://acme-backups",
    `  snapshotTag: ${name}-tag`,
    `  schedule: "${opts.schedule ?? "@midnight"}"`,
    "  secret: s3-creds",
    "  entities: orders",
    "",
  ].join("\n");
}

const enc = new TextEncoder();

function input(files: Record<string, string>, over: Partial<PlanInput> = {}): PlanInput {
  const loaded = loadSourceFiles(
    Object.entries(files).map(([path, text]) => ({ path, bytes: enc.encode(text) })),
  );
  return {
    source: SOURCE,
    spec: { prune: true, allowEmpty: false },
    revision: REV,
    documents: loaded.documents,
    loadProblems: loaded.problems,
    structure,
    world: EMPTY_WORLD,
    previousInventory: [],
    ...over,
  };
}

/** `op Kind ns/name` per action: what a user reads in `casskeeper plan`. */
function ops(plan: SyncPlan): string[] {
  return plan.actions.map((a) => `${a.op} ${a.id.kind} ${a.id.namespace}/${a.id.name}`);
}

function codes(list: SyncPlan["problems"]): string[] {
  return list.map((p) => `${p.file}:${p.line} ${p.problem.code}`);
}

/** The live objects a cluster would hold after applying every create/update of `plan`. */
function applied(plan: SyncPlan, extra: (o: Record<string, unknown>) => void = () => {}) {
  const live = new Map<string, Record<string, unknown>>();
  for (const a of plan.actions) {
    if (a.desired === undefined) continue;
    const o = structuredClone(a.desired);
    const meta = o.metadata as Record<string, unknown>;
    meta.uid = `uid-${meta.name}`;
    meta.resourceVersion = "42";
    meta.generation = 1;
    meta.creationTimestamp = "2026-11-25T00:00:00Z";
    o.status = { condition: { type: "COMPLETED" } };
    extra(o);
    live.set(`${a.id.namespace}_${a.id.name}_${a.id.group}_${a.id.kind}`, o);
  }
  return live;
}

function entry(ns: string, name: string, kind = "CassandraBackup", v = "v2"): InventoryEntry {
  return { id: `${ns}_${name}_db.orange.com_${kind}`, v };
}

/** What the tests change on a live object. */
interface LiveShape {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> } & Record<string, unknown>;
  spec: Record<string, unknown>;
}

function labelled(
  name: string,
  opts: { source?: [string, string]; annotations?: Record<string, string> } = {},
): Record<string, unknown> & LiveShape {
  const [ns, src] = opts.source ?? [SOURCE.namespace, SOURCE.name];
  return {
    apiVersion: "db.orange.com/v2",
    kind: "CassandraBackup",
    metadata: {
      name,
      namespace: "prod",
      uid: `uid-${name}`,
      labels: { [LABEL_SOURCE_NAME]: src, [LABEL_SOURCE_NAMESPACE]: ns, [LABEL_MANAGED_BY]: "casskeeper" },
      annotations: opts.annotations ?? {},
    },
    spec: {},
  };
}

describe("planSync: documents → desired objects", () => {
  it("creates every object when there is no cluster, with casskeeper's labels and annotations", () => {
    const plan = planSync(
      input({
        "backups/b.yaml": backup("second"),
        "backups/a.yaml": `${backup("first", { meta: "  resourceVersion: '99'\n  uid: abc\n  labels:\n    team: data" })}status:\n  condition:\n    type: COMPLETED\n`,
      }),
    );
    assert.deepEqual(plan.problems, []);
    // (files out of order) → document order follows the sorted paths
    assert.deepEqual(ops(plan), ["create CassandraBackup prod/first", "create CassandraBackup prod/second"]);
    const first = plan.actions[0];
    assert.equal(first?.file, "backups/a.yaml");
    assert.equal(first?.line, 1);
    const body = first?.desired as Record<string, Record<string, unknown>>;
    const meta = body.metadata as Record<string, Record<string, string> | string>;
    assert.equal(meta.namespace, "prod");
    assert.equal(meta.uid, undefined);
    assert.equal(meta.resourceVersion, undefined);
    assert.equal(body.status, undefined);
    assert.deepEqual(meta.labels, {
      team: "data",
      [LABEL_SOURCE_NAME]: "policies",
      [LABEL_SOURCE_NAMESPACE]: "prod",
      [LABEL_MANAGED_BY]: "casskeeper",
    });
    const annotations = meta.annotations as Record<string, string>;
    assert.equal(annotations[ANNOTATION_SOURCE_PATH], "backups/a.yaml");
    assert.equal(annotations[ANNOTATION_REVISION], REV);
    assert.match(annotations[ANNOTATION_DIGEST] ?? "", /^[0-9a-f]{16}$/);
    assert.deepEqual(plan.inventory, [entry("prod", "first"), entry("prod", "second")]);
  });

  it("the digest ignores key order, server metadata and status, and changes with the spec", () => {
    const digest = (text: string) => {
      const plan = planSync(input({ "a.yaml": text }));
      const meta = plan.actions[0]?.desired?.metadata as { annotations: Record<string, string> };
      return meta.annotations[ANNOTATION_DIGEST];
    };
    const base = digest(backup("b"));
    // (same object, keys reordered, status and uid added) → same digest
    const reordered = `kind: CassandraBackup\n${backup("b", { meta: "  uid: x" }).replace("kind: CassandraBackup\n", "")}status:\n  condition:\n    type: COMPLETED\n`;
    assert.equal(digest(reordered), base);
    // (schedule changed) → another digest
    assert.notEqual(digest(backup("b", { schedule: "@daily" })), base);
  });

  it("canonicalJson sorts keys at every level", () => {
    assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }], a: null }), '{"a":null,"b":[{"c":2,"d":1}]}');
  });
});

describe("planSync: refusals (the revision applies as a whole or not at all)", () => {
  const previous = [entry("prod", "old")];
  // (scenario, files, spec, expected `file:line code` of the problems)
  const cases: {
    name: string;
    files: Record<string, string>;
    spec?: PlanInput["spec"];
    problems: string[];
    message?: RegExp;
  }[] = [
    {
      // (a ConfigMap in the repository) → gitsync.kind at its kind line, not also schema.unknown-kind
      name: "a kind other than CassandraBackup/CassandraRestore",
      files: { "a.yaml": `${backup("ok")}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n` },
      problems: ["a.yaml:14 gitsync.kind"],
      message: /only CassandraBackup and CassandraRestore are applied by Git sync, not ConfigMap/,
    },
    {
      // (a BackupPolicySource, a kind casskeeper knows) → gitsync.kind, none of its own findings
      name: "a BackupPolicySource in the repository",
      files: {
        "a.yaml":
          "apiVersion: casskeeper.io/v1alpha1\nkind: BackupPolicySource\nmetadata:\n  name: s\nspec:\n  url: ssh://x\n",
      },
      problems: ["a.yaml:2 gitsync.kind"],
    },
    {
      // (namespace other than the source's, none allowed) → gitsync.namespace at metadata.namespace
      name: "a namespace outside the source's",
      files: { "a.yaml": backup("b", { ns: "staging" }) },
      problems: ["a.yaml:5 gitsync.namespace"],
      message: /namespace "staging" is outside the source's namespace "prod"/,
    },
    {
      // (allowed namespaces list without it) → still refused
      name: "a namespace not in targetNamespaces.namespaces",
      files: { "a.yaml": backup("b", { ns: "staging" }) },
      spec: { prune: true, allowEmpty: false, targetNamespaces: { namespaces: ["qa"] } },
      problems: ["a.yaml:5 gitsync.namespace"],
    },
    {
      // (same backup as v1alpha1 and v2) → one duplicate error, at the second
      name: "the same object under two apiVersions",
      files: { "a.yaml": backup("b", { api: "v1alpha1" }), "b.yaml": backup("b") },
      problems: ["b.yaml:4 document.duplicate"],
    },
    {
      // (no documents, allowEmpty false) → gitsync.empty, naming what would be pruned
      name: "an empty revision",
      files: {},
      spec: { prune: true, allowEmpty: false, path: "backups" },
      problems: [":0 gitsync.empty"],
      message:
        /no policy documents under backups; set spec\.allowEmpty to accept it \(this would prune 1 object\)/,
    },
    {
      // (files with only comments) → empty too
      name: "files without documents",
      files: { "a.yaml": "# nothing yet\n---\n" },
      problems: [":0 gitsync.empty"],
    },
    {
      // (YAML syntax error) → the loader's finding, located
      name: "a YAML syntax error",
      files: { "a.yaml": backup("ok"), "b.yaml": "apiVersion: v1\nkind: [\n" },
      problems: ["b.yaml:3 yaml.invalid"],
    },
    {
      // (a rule error) → the rule's finding, as validate prints it
      name: "a bad schedule",
      files: { "a.yaml": backup("b", { schedule: "0 0 * * 7" }) },
      problems: ["a.yaml:9 schedule.invalid"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planSync(
        input(c.files, { previousInventory: previous, ...(c.spec ? { spec: c.spec } : {}) }),
      );
      assert.deepEqual(codes(plan.problems), c.problems);
      if (c.message) assert.match(plan.problems.map((p) => p.problem.message).join("\n"), c.message);
      assert.deepEqual(plan.actions, []);
      assert.deepEqual(plan.inventory, previous);
    });
  }

  // (namespace, targetNamespaces) → allowed
  const allowedCases: [string, PlanInput["spec"]["targetNamespaces"]][] = [
    ["staging", { namespaces: ["staging"] }],
    ["anywhere", { allowOutside: true }],
    ["prod", undefined],
  ];
  for (const [ns, targets] of allowedCases) {
    it(`namespace ${ns} with targetNamespaces ${JSON.stringify(targets)} is allowed`, () => {
      const spec = { prune: true, allowEmpty: false, ...(targets ? { targetNamespaces: targets } : {}) };
      const plan = planSync(input({ "a.yaml": backup("b", { ns }) }, { spec }));
      assert.deepEqual(plan.problems, []);
      assert.deepEqual(ops(plan), [`create CassandraBackup ${ns}/b`]);
    });
  }

  it("an empty revision with allowEmpty prunes everything it applied", () => {
    const live = new Map([[entry("prod", "old").id, labelled("old")]]);
    const plan = planSync(
      input({}, { spec: { prune: true, allowEmpty: true }, previousInventory: previous, live }),
    );
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(ops(plan), ["prune CassandraBackup prod/old"]);
    assert.deepEqual(plan.inventory, []);
  });

  it("errors keep warnings, and sort by file and line", () => {
    const plan = planSync(
      input({
        "b.yaml": backup("x", { meta: "  labels:\n    argocd.argoproj.io/instance: app" }),
        "a.yaml": backup("yy", { ns: "other" }),
      }),
    );
    assert.deepEqual(codes(plan.problems), ["a.yaml:5 gitsync.namespace"]);
    assert.deepEqual(codes(plan.warnings), ["b.yaml:6 gitsync.argocd-label"]);
  });
});

describe("planSync: against the live objects", () => {
  const first = planSync(input({ "backups/a.yaml": backup("a"), "backups/b.yaml": backup("b") }));
  const live = applied(first);

  it("an object as applied (plus a webhook's fields, status, server metadata) is unchanged", () => {
    const withWebhook = applied(first, (o) => {
      (o.spec as Record<string, unknown>).datacenter = "dc1";
    });
    const plan = planSync(
      input(
        { "backups/a.yaml": backup("a"), "backups/b.yaml": backup("b") },
        {
          revision: REV2,
          live: withWebhook,
          previousInventory: first.inventory,
        },
      ),
    );
    assert.deepEqual(ops(plan), ["unchanged CassandraBackup prod/a", "unchanged CassandraBackup prod/b"]);
    // (new revision, nothing changed) → the revision annotation keeps the revision that last changed it
    const meta = plan.actions[0]?.desired?.metadata as { annotations: Record<string, string> };
    assert.equal(meta.annotations[ANNOTATION_REVISION], REV);
  });

  // (scenario, how the live object or the file differs) → (op, reason)
  const cases: {
    name: string;
    files?: Record<string, string>;
    mutate?: (o: LiveShape) => void;
    op: string;
    reason?: RegExp;
    conflict?: RegExp;
  }[] = [
    {
      name: "a file changed in Git",
      files: { "backups/a.yaml": backup("a", { schedule: "@daily" }) },
      op: "update",
      reason: /^changed in Git$/,
    },
    {
      name: "a field changed in the cluster",
      mutate: (o) => {
        o.spec.schedule = "@hourly";
      },
      op: "update",
      reason: /^spec\.schedule drifted in the cluster$/,
    },
    {
      name: "two fields changed in the cluster",
      mutate: (o) => {
        o.spec.schedule = "@hourly";
        o.spec.entities = "x";
      },
      op: "update",
      reason: /^spec\.\w+ and 1 more drifted in the cluster$/,
    },
    {
      name: "a label removed in the cluster",
      mutate: (o) => {
        delete o.metadata.labels[LABEL_MANAGED_BY];
      },
      op: "update",
      reason: /^metadata\.labels\["app\.kubernetes\.io\/managed-by"\] drifted in the cluster$/,
    },
    {
      name: "a document moved to another file",
      files: { "backups/renamed.yaml": backup("a") },
      op: "update",
      reason: /^moved in Git from backups\/a\.yaml$/,
    },
    {
      name: "an object made by hand (no casskeeper labels)",
      mutate: (o) => {
        o.metadata.labels = {};
        o.metadata.annotations = {};
      },
      op: "update",
      reason: /^not yet labelled by casskeeper$/,
    },
    {
      name: "an object another source owns",
      mutate: (o) => {
        o.metadata.labels[LABEL_SOURCE_NAME] = "team-b";
      },
      op: "conflict",
      conflict: /^owned by BackupPolicySource prod\/team-b$/,
    },
    {
      name: "an object Argo CD tracks by annotation",
      mutate: (o) => {
        o.metadata.labels = {};
        o.metadata.annotations = {
          "argocd.argoproj.io/tracking-id": "shop:db.orange.com/CassandraBackup:prod/a",
        };
      },
      op: "conflict",
      conflict: /^tracked by Argo CD application shop; casskeeper does not take it over$/,
    },
    {
      // (tracking id of another object: Argo CD ignores "non self-referencing" annotations)
      name: "an Argo CD tracking annotation copied from another object",
      mutate: (o) => {
        o.metadata.labels = {};
        o.metadata.annotations = { "argocd.argoproj.io/tracking-id": "shop:apps/Deployment:prod/web" };
      },
      op: "update",
      reason: /^not yet labelled by casskeeper$/,
    },
    {
      name: "an object Argo CD tracks by the argocd.argoproj.io/instance label",
      mutate: (o) => {
        o.metadata.labels = { "argocd.argoproj.io/instance": "shop" };
      },
      op: "conflict",
      conflict: /application shop/,
    },
    {
      name: "an object Argo CD tracks by app.kubernetes.io/instance",
      mutate: (o) => {
        o.metadata.labels = { "app.kubernetes.io/instance": "shop" };
      },
      op: "conflict",
      conflict: /application shop/,
    },
    {
      // (app.kubernetes.io/instance set by Helm) → Helm's label, not Argo CD's
      name: "an object Helm labelled app.kubernetes.io/instance",
      mutate: (o) => {
        o.metadata.labels = { "app.kubernetes.io/instance": "shop", "app.kubernetes.io/managed-by": "Helm" };
      },
      op: "update",
      reason: /^not yet labelled by casskeeper$/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const state = new Map([...live].map(([k, v]) => [k, structuredClone(v)]));
      if (c.mutate) c.mutate(state.get(entry("prod", "a").id) as unknown as LiveShape);
      const files = { "backups/a.yaml": backup("a"), "backups/b.yaml": backup("b"), ...c.files };
      if (c.files?.["backups/renamed.yaml"]) delete (files as Record<string, string>)["backups/a.yaml"];
      const plan = planSync(
        input(files, { revision: REV2, live: state, previousInventory: first.inventory }),
      );
      assert.deepEqual(plan.problems, []);
      if (c.op === "conflict") {
        // (one conflict) → the whole revision is refused, the previous inventory kept
        assert.deepEqual(plan.actions, []);
        assert.deepEqual(plan.inventory, first.inventory);
        assert.equal(plan.conflicts.length, 1);
        assert.equal(plan.conflicts[0]?.id.name, "a");
        assert.equal(plan.conflicts[0]?.file, "backups/a.yaml");
        assert.match(plan.conflicts[0]?.message ?? "", c.conflict as RegExp);
        return;
      }
      const a = plan.actions.find((x) => x.id.name === "a");
      assert.equal(a?.op, c.op);
      assert.match(a?.reason ?? "", c.reason as RegExp);
      // (update) → the body carries this revision
      const meta = a?.desired?.metadata as { annotations: Record<string, string> };
      assert.equal(meta.annotations[ANNOTATION_REVISION], REV2);
      assert.equal(plan.actions.find((x) => x.id.name === "b")?.op, "unchanged");
    });
  }

  it("driftedFields: extra live fields are not drift, a null in desired means absent", () => {
    assert.deepEqual(
      driftedFields({ a: 1, b: null, c: [1, { d: 2 }] }, { a: 1, c: [1, { d: 2, e: 3 }], f: 4 }),
      [],
    );
    assert.deepEqual(driftedFields({ a: 1, b: null, c: [1] }, { a: 2, b: 0, c: [1, 2] }), ["a", "b", "c"]);
  });
});

describe("planSync: prune", () => {
  const files = { "a.yaml": backup("kept") };
  const previous = [
    entry("prod", "kept"),
    entry("prod", "zeta"),
    entry("prod", "gone"),
    entry("prod", "alpha"),
  ];
  // (scenario, spec.prune, live objects of the removed entries) → prunes, warnings
  const cases: {
    name: string;
    prune: boolean;
    live?: Record<string, Record<string, unknown>>;
    prunes: string[];
    warnings?: RegExp[];
  }[] = [
    {
      name: "prune off: removed entries leave the inventory, nothing is deleted",
      prune: false,
      live: { zeta: labelled("zeta"), alpha: labelled("alpha") },
      prunes: [],
    },
    {
      name: "no cluster: every removed entry is a prune (the caller checks at delete time), sorted by id",
      prune: true,
      prunes: ["alpha", "gone", "zeta"],
    },
    {
      name: "ours and still labelled: pruned; already gone: dropped",
      prune: true,
      live: {
        zeta: labelled("zeta"),
        alpha: labelled("alpha", { annotations: { [ANNOTATION_SOURCE_PATH]: "x.yaml" } }),
      },
      prunes: ["alpha", "zeta"],
    },
    {
      name: "opted out with casskeeper.io/prune: disabled: kept, with a warning",
      prune: true,
      live: {
        zeta: labelled("zeta", { annotations: { [ANNOTATION_PRUNE]: "disabled" } }),
        alpha: labelled("alpha"),
      },
      prunes: ["alpha"],
      warnings: [
        /CassandraBackup prod\/zeta left Git but is kept: it is annotated casskeeper\.io\/prune: disabled/,
      ],
    },
    {
      name: "labels removed or another source's: kept, with a warning",
      prune: true,
      live: {
        zeta: { ...labelled("zeta"), metadata: { name: "zeta", namespace: "prod" } },
        alpha: labelled("alpha", { source: ["prod", "team-b"] }),
      },
      prunes: [],
      warnings: [
        /prod\/alpha left Git but is kept: it is no longer labelled for BackupPolicySource prod\/policies/,
        /prod\/zeta left Git/,
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const live =
        c.live === undefined
          ? undefined
          : new Map([
              [entry("prod", "kept").id, labelled("kept")],
              ...Object.entries(c.live).map(([name, o]) => [entry("prod", name).id, o] as const),
            ]);
      const plan = planSync(
        input(files, { spec: { prune: c.prune, allowEmpty: false }, previousInventory: previous, live }),
      );
      assert.deepEqual(plan.problems, []);
      const prunes = plan.actions.filter((a) => a.op === "prune");
      assert.deepEqual(
        prunes.map((a) => a.id.name),
        c.prunes,
      );
      // (prunes come last) → after the document's action
      assert.equal(plan.actions[0]?.id.name, "kept");
      assert.deepEqual(plan.inventory, [entry("prod", "kept")]);
      const messages = plan.warnings.map((w) => w.problem.message);
      assert.equal(messages.length, c.warnings?.length ?? 0, messages.join("\n"));
      for (const [i, re] of (c.warnings ?? []).entries()) assert.match(messages[i] ?? "", re);
    });
  }

  it("a prune names the file the object came from", () => {
    const live = new Map([
      [entry("prod", "gone").id, labelled("gone", { annotations: { [ANNOTATION_SOURCE_PATH]: "old.yaml" } })],
    ]);
    const plan = planSync(input(files, { previousInventory: [entry("prod", "gone")], live }));
    assert.equal(plan.actions.at(-1)?.reason, "no longer in Git (was old.yaml)");
  });
});

describe("planSync: properties", () => {
  const names = fc.constantFrom("a", "b", "c", "d", "e", "f");
  const namespaces = fc.constantFrom(undefined, "prod", "qa");
  const doc = fc.record({
    name: names,
    ns: namespaces,
    schedule: fc.constantFrom("@midnight", "@daily", "0 3 * * *"),
    api: fc.constantFrom("v1alpha1", "v2"),
    team: fc.option(fc.constantFrom("data", "ops"), { nil: undefined }),
  });
  /** Files of documents, each a backup; duplicates make a refused plan, which properties must also survive. */
  const repo = fc
    .uniqueArray(doc, { selector: (d) => `${d.ns ?? "prod"}/${d.name}`, maxLength: 6 })
    .map((docs) => {
      const files: Record<string, string> = {};
      docs.forEach((d, i) => {
        const meta = d.team === undefined ? undefined : `  labels:\n    team: ${d.team}`;
        files[`p/${i % 3}.yaml`] =
          `${files[`p/${i % 3}.yaml`] ?? ""}---\n${backup(d.name, { ns: d.ns, schedule: d.schedule, api: d.api, ...(meta ? { meta } : {}) })}`;
      });
      return files;
    });
  const spec = { prune: true, allowEmpty: true, targetNamespaces: { namespaces: ["qa"] } };

  it("planning the same input twice gives the same plan", () => {
    fc.assert(
      fc.property(repo, (files) => {
        const i = input(files, { spec });
        assert.deepEqual(planSync(i), planSync(i));
      }),
      { numRuns: 50 },
    );
  });

  it("planning against the state the plan produced yields only unchanged (idempotence)", () => {
    fc.assert(
      fc.property(repo, fc.boolean(), (files, webhook) => {
        const first = planSync(input(files, { spec }));
        assert.deepEqual(first.problems, []);
        // (a webhook filled a field the files leave out) → still unchanged
        const live = applied(first, (o) => {
          if (webhook) (o.spec as Record<string, unknown>).datacenter = "dc1";
        });
        const again = planSync(
          input(files, { spec, revision: REV2, live, previousInventory: first.inventory }),
        );
        assert.deepEqual(again.problems, []);
        assert.ok(
          again.actions.every((a) => a.op === "unchanged"),
          JSON.stringify(ops(again)),
        );
        assert.equal(again.actions.length, first.actions.length);
        assert.deepEqual(again.inventory, first.inventory);
      }),
      { numRuns: 50 },
    );
  });

  it("prune never targets a live object without this source's labels", () => {
    const liveObject = fc.record({
      labels: fc.constantFrom("ours", "other", "none", "argo"),
      optOut: fc.boolean(),
    });
    fc.assert(
      fc.property(repo, fc.dictionary(names, fc.option(liveObject, { nil: undefined })), (files, state) => {
        const previous = Object.keys(state).map((n) => entry("prod", n));
        const live = new Map<string, Record<string, unknown>>();
        for (const [name, o] of Object.entries(state)) {
          if (o === undefined) continue;
          const obj = labelled(name, o.optOut ? { annotations: { [ANNOTATION_PRUNE]: "disabled" } } : {});
          const labels = obj.metadata.labels as Record<string, string>;
          if (o.labels === "other") labels[LABEL_SOURCE_NAME] = "someone-else";
          if (o.labels === "none") obj.metadata.labels = {};
          if (o.labels === "argo") obj.metadata.labels = { "argocd.argoproj.io/instance": "shop" };
          live.set(entry("prod", name).id, obj);
        }
        const plan = planSync(input(files, { spec, live, previousInventory: previous }));
        for (const a of plan.actions.filter((x) => x.op === "prune")) {
          const o = live.get(`${a.id.namespace}_${a.id.name}_${a.id.group}_${a.id.kind}`);
          const labels = (o?.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
          assert.equal(labels[LABEL_SOURCE_NAME], SOURCE.name);
          assert.equal(labels[LABEL_SOURCE_NAMESPACE], SOURCE.namespace);
          const annotations =
            (o?.metadata as { annotations?: Record<string, string> } | undefined)?.annotations ?? {};
          assert.notEqual(annotations[ANNOTATION_PRUNE], "disabled");
        }
      }),
      { numRuns: 100 },
    );
  });
});
