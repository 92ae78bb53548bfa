// The install renders with `kubectl kustomize` (no cluster needed), in both TLS modes, and agrees with the
// server: names, ports, paths and labels come from src/admission/constants.ts; the webhook configurations
// match only casskeeper's kinds and fail the way DESIGN.md says; the Deployment is highly available and
// passes Pod Security "restricted"; RBAC grants what casskeeper needs and nothing broader (evaluated as the
// API server's RBAC authorizer would for casskeeper's ServiceAccount); every built-in object uses only
// fields Kubernetes knows. The Dockerfile, which no test here can build, is checked for its facts.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
// client-node's generated models (the Kubernetes OpenAPI types); not re-exported from the package root, and
// an import error here (not a silent pass) if a release moves them.
import { ObjectSerializer } from "@kubernetes/client-node/dist/gen/models/ObjectSerializer.js";
import { parseAllDocuments } from "yaml";
import {
  APP_LABEL,
  BACKUP_SECRET_ANNOTATION,
  DEPLOYMENT_NAME,
  HEALTHZ_PATH,
  MUTATE_PATH,
  MUTATING_CONFIG_NAME,
  MUTATING_DATACENTER_WEBHOOK_NAME,
  MUTATING_WEBHOOK_NAME,
  NAMESPACE,
  READYZ_PATH,
  SERVICE_ACCOUNT,
  SERVICE_NAME,
  TLS_SECRET_NAME,
  VALIDATE_PATH,
  VALIDATING_CONFIG_NAME,
  VALIDATING_WEBHOOK_NAME,
  WEBHOOK_PORT,
} from "../../src/admission/constants.ts";

// biome-ignore lint/suspicious/noExplicitAny: rendered YAML, read freely by path in the tables
type Obj = Record<string, any>;

const ROOT_URL = new URL("../../", import.meta.url);
const ROOT = fileURLToPath(ROOT_URL);
const PART_OF = "app.kubernetes.io/part-of";
const VERSION: string = JSON.parse(readFileSync(new URL("package.json", ROOT_URL), "utf8")).version;
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingWebhookConfiguration",
  "MutatingWebhookConfiguration",
]);
const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection"];

async function render(dir: string): Promise<Obj[]> {
  const { stdout } = await promisify(execFile)("kubectl", ["kustomize", dir], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout).map((d) => d.toJS() as Obj);
}

/** One rendered install and lookups into it. */
class Install {
  readonly docs: Obj[];
  constructor(docs: Obj[]) {
    this.docs = docs;
  }
  all(kind: string): Obj[] {
    return this.docs.filter((d) => d.kind === kind);
  }
  one(kind: string, name: string): Obj {
    const found = this.docs.filter((d) => d.kind === kind && d.metadata?.name === name);
    assert.equal(found.length, 1, `${kind}/${name}: ${found.length} rendered, expected 1`);
    return found[0] as Obj;
  }
  get deployment(): Obj {
    return this.one("Deployment", DEPLOYMENT_NAME);
  }
  get pod(): Obj {
    return this.deployment.spec.template.spec;
  }
  get container(): Obj {
    const c = this.pod.containers.find((x: Obj) => x.name === "casskeeper");
    assert.ok(c, "no casskeeper container");
    return c;
  }
  /** Every webhook of both configurations, with the kind of configuration it sits in. */
  get webhooks(): { config: string; hook: Obj }[] {
    return [
      ...this.all("ValidatingWebhookConfiguration").flatMap((c) =>
        (c.webhooks as Obj[]).map((hook) => ({ config: `validating ${c.metadata.name}`, hook })),
      ),
      ...this.all("MutatingWebhookConfiguration").flatMap((c) =>
        (c.webhooks as Obj[]).map((hook) => ({ config: `mutating ${c.metadata.name}`, hook })),
      ),
    ];
  }
  hook(name: string): Obj {
    const found = this.webhooks.find((w) => w.hook.name === name);
    assert.ok(found, `webhook ${name} not rendered`);
    return found.hook;
  }
}

/** Kubernetes label-selector semantics (matchLabels, matchExpressions In/NotIn/Exists/DoesNotExist). */
function selects(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of (selector.matchExpressions ?? []) as Obj[]) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    const ok =
      e.operator === "In"
        ? has && e.values.includes(value)
        : e.operator === "NotIn"
          ? !has || !e.values.includes(value)
          : e.operator === "Exists"
            ? has
            : e.operator === "DoesNotExist"
              ? !has
              : assert.fail(`unknown operator ${e.operator}`);
    if (!ok) return false;
  }
  return true;
}

/** A namespace as the control plane labels it (kubernetes.io/metadata.name is set on every namespace). */
const nsLabels = (name: string) => ({ "kubernetes.io/metadata.name": name });

/** The rules granted to casskeeper's ServiceAccount, each with where it applies ("*" for a ClusterRoleBinding). */
function grants(install: Install): { where: string; rule: Obj }[] {
  const isOurs = (b: Obj) =>
    (b.subjects as Obj[]).some(
      (s) => s.kind === "ServiceAccount" && s.name === SERVICE_ACCOUNT && s.namespace === NAMESPACE,
    );
  return [
    ...install
      .all("ClusterRoleBinding")
      .filter(isOurs)
      .flatMap((b) =>
        (install.one("ClusterRole", b.roleRef.name).rules as Obj[]).map((rule) => ({ where: "*", rule })),
      ),
    ...install
      .all("RoleBinding")
      .filter(isOurs)
      .flatMap((b) =>
        (install.one(b.roleRef.kind, b.roleRef.name).rules as Obj[]).map((rule) => ({
          where: String(b.metadata.namespace),
          rule,
        })),
      ),
  ];
}

/**
 * Whether the install's RBAC lets casskeeper's ServiceAccount do `verb` on `group/resource` (named `name`,
 * in `namespace`, or cluster-scoped when undefined), as the RBAC authorizer decides: a ClusterRoleBinding
 * grants everywhere, a RoleBinding only in its namespace; a rule with resourceNames only for those names.
 */
function allowed(
  install: Install,
  verb: string,
  group: string,
  resource: string,
  namespace: string | undefined,
  name?: string,
): boolean {
  return grants(install).some(
    ({ where, rule: r }) =>
      (where === "*" || where === namespace) &&
      r.verbs.includes(verb) &&
      r.apiGroups.includes(group) &&
      r.resources.includes(resource) &&
      (r.resourceNames === undefined || (name !== undefined && r.resourceNames.includes(name))),
  );
}

/** Every permission granted, one "where verb group/resource [names]" line each, sorted. */
function grantLines(install: Install): string[] {
  return grants(install)
    .flatMap(({ where, rule: r }) =>
      (r.verbs as string[]).flatMap((verb) =>
        (r.apiGroups as string[]).flatMap((group) =>
          (r.resources as string[]).map(
            (res) =>
              `${where} ${verb} ${group}/${res}${r.resourceNames ? ` [${r.resourceNames.join(",")}]` : ""}`,
          ),
        ),
      ),
    )
    .sort();
}

/** A built-in object round-tripped through client-node's generated models: unknown fields are dropped. */
function knownFieldsOnly(doc: Obj): Obj {
  const version = String(doc.apiVersion).split("/").at(-1) ?? "";
  const type = `${version[0]?.toUpperCase()}${version.slice(1)}${doc.kind}`;
  return JSON.parse(
    JSON.stringify(ObjectSerializer.serialize(ObjectSerializer.deserialize(doc, type, ""), type, "")),
  );
}

const BUILT_IN_GROUPS = new Set([
  "v1",
  "apps/v1",
  "policy/v1",
  "rbac.authorization.k8s.io/v1",
  "admissionregistration.k8s.io/v1",
  "apiextensions.k8s.io/v1",
]);

/** The rules of a webhook as "group/version/resource OPERATIONS scope" lines, sorted. */
const ruleLines = (hook: Obj): string[] =>
  (hook.rules as Obj[])
    .flatMap((r) =>
      (r.apiGroups as string[]).flatMap((g) =>
        (r.apiVersions as string[]).flatMap((v) =>
          (r.resources as string[]).map((res) => `${g}/${v}/${res} ${r.operations.join(",")} ${r.scope}`),
        ),
      ),
    )
    .sort();

const CASSKOP_RULES = (ops: string) =>
  ["cassandrabackups", "cassandrarestores"].flatMap((res) =>
    ["v1alpha1", "v2"].map((v) => `db.orange.com/${v}/${res} ${ops} Namespaced`),
  );

// [config kind, config name, webhook name, path, failurePolicy, rules] — one row per webhook the server serves.
const WEBHOOKS: [string, string, string, string, string, string[]][] = [
  // validating: backups, restores and policy sources, fail closed
  [
    "ValidatingWebhookConfiguration",
    VALIDATING_CONFIG_NAME,
    VALIDATING_WEBHOOK_NAME,
    VALIDATE_PATH,
    "Fail",
    [
      ...CASSKOP_RULES("CREATE,UPDATE,DELETE"),
      "casskeeper.io/v1alpha1/backuppolicysources CREATE,UPDATE,DELETE Namespaced",
    ].sort(),
  ],
  // mutating: CassKop's kinds (snapshotTag, datacenter), fail open
  [
    "MutatingWebhookConfiguration",
    MUTATING_CONFIG_NAME,
    MUTATING_WEBHOOK_NAME,
    MUTATE_PATH,
    "Ignore",
    CASSKOP_RULES("CREATE,UPDATE").sort(),
  ],
  // mutating: Instaclustr and Elassandra datacenters (credentials env), fail open
  [
    "MutatingWebhookConfiguration",
    MUTATING_CONFIG_NAME,
    MUTATING_DATACENTER_WEBHOOK_NAME,
    MUTATE_PATH,
    "Ignore",
    [
      "cassandraoperator.instaclustr.com/v1alpha1/cassandradatacenters CREATE,UPDATE Namespaced",
      "elassandra.strapdata.com/v1/elassandradatacenters CREATE,UPDATE Namespaced",
      "elassandra.strapdata.com/v1beta1/elassandradatacenters CREATE,UPDATE Namespaced",
    ],
  ],
];

// [check, assertion] — holds for the default install and for the cert-manager one.
const COMMON_CHECKS: [string, (i: Install) => void][] = [
  // the three CRDs of manifests/crds are installed
  [
    "installs the three CRDs",
    (i) =>
      assert.deepEqual(
        i
          .all("CustomResourceDefinition")
          .map((c) => c.metadata.name)
          .sort(),
        [
          "backuppolicysources.casskeeper.io",
          "cassandrabackups.db.orange.com",
          "cassandrarestores.db.orange.com",
        ],
      ),
  ],
  // NAMESPACE exists and enforces Pod Security "restricted"
  [
    "creates its namespace, enforcing Pod Security restricted",
    (i) =>
      assert.equal(
        i.one("Namespace", NAMESPACE).metadata.labels["pod-security.kubernetes.io/enforce"],
        "restricted",
      ),
  ],
  // every object carries the part-of label (kubectl get -l app.kubernetes.io/part-of=casskeeper finds all)
  [
    "labels every object part-of casskeeper",
    (i) => {
      for (const d of i.docs)
        assert.equal(d.metadata.labels?.[PART_OF], "casskeeper", `${d.kind}/${d.metadata.name}`);
    },
  ],
  // the part-of label stays out of selectors (a Deployment selector is immutable)
  [
    "keeps the part-of label out of selectors",
    (i) => {
      assert.deepEqual(i.deployment.spec.selector.matchLabels, APP_LABEL);
      assert.deepEqual(i.one("Service", SERVICE_NAME).spec.selector, APP_LABEL);
      assert.deepEqual(i.one("PodDisruptionBudget", DEPLOYMENT_NAME).spec.selector.matchLabels, APP_LABEL);
    },
  ],
  // namespaced objects live in NAMESPACE, cluster-scoped ones have no namespace
  [
    "puts every namespaced object in its namespace",
    (i) => {
      for (const d of i.docs) {
        const want = CLUSTER_SCOPED.has(d.kind) ? undefined : NAMESPACE;
        assert.equal(d.metadata.namespace, want, `${d.kind}/${d.metadata.name}`);
      }
    },
  ],
  // every built-in object survives a round trip through Kubernetes' own types (no misspelt field)
  [
    "uses only fields the Kubernetes API knows",
    (i) => {
      const builtIn = i.docs.filter((d) => BUILT_IN_GROUPS.has(d.apiVersion));
      const unchecked = i.docs.filter(
        (d) => !builtIn.includes(d) && !d.apiVersion.startsWith("cert-manager.io/"),
      );
      assert.deepEqual(unchecked, [], "objects of other API groups are not checked");
      for (const d of builtIn) assert.deepEqual(knownFieldsOnly(d), d, `${d.kind}/${d.metadata.name}`);
    },
  ],
  // the Service selects exactly the Deployment's pods
  [
    "Service selects the Deployment's pods",
    (i) => {
      const svc = i.one("Service", SERVICE_NAME);
      assert.equal(svc.metadata.namespace, NAMESPACE);
      assert.ok(selects({ matchLabels: svc.spec.selector }, i.deployment.spec.template.metadata.labels));
      assert.deepEqual(svc.spec.selector, APP_LABEL);
    },
  ],
  // Service 443 → targetPort WEBHOOK_PORT = the container port named https
  [
    "Service port 443 reaches the container's WEBHOOK_PORT",
    (i) => {
      const [port, ...more] = i.one("Service", SERVICE_NAME).spec.ports as Obj[];
      assert.equal(more.length, 0);
      assert.equal(port?.port, 443);
      assert.equal(port?.targetPort, WEBHOOK_PORT);
      assert.deepEqual(i.container.ports, [{ name: "https", containerPort: WEBHOOK_PORT, protocol: "TCP" }]);
    },
  ],
  // exactly the three webhooks the server serves, and no others
  [
    "registers exactly the server's webhooks",
    (i) =>
      assert.deepEqual(
        i.webhooks.map((w) => `${w.config} ${w.hook.name}`).sort(),
        [
          `mutating ${MUTATING_CONFIG_NAME} ${MUTATING_DATACENTER_WEBHOOK_NAME}`,
          `mutating ${MUTATING_CONFIG_NAME} ${MUTATING_WEBHOOK_NAME}`,
          `validating ${VALIDATING_CONFIG_NAME} ${VALIDATING_WEBHOOK_NAME}`,
        ].sort(),
      ),
  ],
  // each webhook calls the Service at the server's path, and matches only our kinds
  [
    "points each webhook at its path through the Service, for our kinds only",
    (i) => {
      for (const [kind, config, name, path, failurePolicy, rules] of WEBHOOKS) {
        const hook = i.one(kind, config).webhooks.find((h: Obj) => h.name === name);
        assert.ok(hook, name);
        assert.deepEqual(hook.clientConfig, {
          service: { name: SERVICE_NAME, namespace: NAMESPACE, path, port: 443 },
        });
        assert.equal(hook.failurePolicy, failurePolicy, name);
        assert.deepEqual(ruleLines(hook), rules, name);
      }
    },
  ],
  // no wildcard anywhere in the rules (no `*` group, version, resource or operation)
  [
    "uses no wildcard in webhook rules",
    (i) => {
      for (const { hook } of i.webhooks) {
        for (const r of hook.rules as Obj[]) {
          for (const v of [...r.apiGroups, ...r.apiVersions, ...r.resources, ...r.operations]) {
            assert.ok(!String(v).includes("*"), `${hook.name}: ${v}`);
          }
        }
      }
    },
  ],
  // the settings every webhook needs: v1 reviews, no side effects, Equivalent, a short timeout
  [
    "sets v1, sideEffects None, matchPolicy Equivalent and a timeout of at most 5 s on every webhook",
    (i) => {
      for (const { hook } of i.webhooks) {
        assert.deepEqual(hook.admissionReviewVersions, ["v1"], hook.name);
        assert.equal(hook.sideEffects, "None", hook.name);
        assert.equal(hook.matchPolicy, "Equivalent", hook.name);
        assert.ok(
          hook.timeoutSeconds >= 1 && hook.timeoutSeconds <= 5,
          `${hook.name}: ${hook.timeoutSeconds}`,
        );
      }
    },
  ],
  // kube-system, kube-node-lease and casskeeper's namespace are never sent; users' namespaces are
  [
    "sends nothing from kube-system, kube-node-lease or its own namespace",
    (i) => {
      for (const { hook } of i.webhooks) {
        for (const ns of ["kube-system", "kube-node-lease", NAMESPACE]) {
          assert.equal(selects(hook.namespaceSelector, nsLabels(ns)), false, `${hook.name} ${ns}`);
        }
        for (const ns of ["default", "cassandra", "kube-public"]) {
          assert.equal(selects(hook.namespaceSelector, nsLabels(ns)), true, `${hook.name} ${ns}`);
        }
      }
    },
  ],
  // mutations are reinvoked if another webhook changes the object; validating has no such field (invalid there)
  [
    "reinvokes mutating webhooks IfNeeded, and only them",
    (i) => {
      for (const { config, hook } of i.webhooks) {
        assert.equal(
          hook.reinvocationPolicy,
          config.startsWith("mutating") ? "IfNeeded" : undefined,
          hook.name,
        );
      }
    },
  ],
  // only datacenter objects carrying the backup-secret annotation reach the datacenter webhook
  [
    "sends only annotated datacenter objects to the datacenter webhook",
    (i) => {
      const conditions = i.hook(MUTATING_DATACENTER_WEBHOOK_NAME).matchConditions as Obj[];
      assert.equal(conditions.length, 1);
      assert.equal(
        conditions[0]?.expression,
        `has(object.metadata.annotations) && '${BACKUP_SECRET_ANNOTATION}' in object.metadata.annotations`,
      );
      assert.equal(i.hook(MUTATING_WEBHOOK_NAME).matchConditions, undefined);
    },
  ],
  // caBundle is never in the manifests, so a re-apply cannot wipe the one written in the cluster
  [
    "leaves caBundle out of the manifests",
    (i) => {
      for (const { hook } of i.webhooks) assert.ok(!("caBundle" in hook.clientConfig), hook.name);
    },
  ],
  // two replicas, and a rollout never removes a serving pod first
  [
    "runs two replicas with a surge-only rollout",
    (i) => {
      assert.ok(i.deployment.spec.replicas >= 2);
      assert.deepEqual(i.deployment.spec.strategy.rollingUpdate, { maxUnavailable: 0, maxSurge: 1 });
    },
  ],
  // the replicas prefer different nodes
  [
    "spreads the replicas over nodes",
    (i) => {
      const terms = i.pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution as Obj[];
      assert.ok(
        terms.some(
          (t) =>
            t.podAffinityTerm.topologyKey === "kubernetes.io/hostname" &&
            selects(t.podAffinityTerm.labelSelector, i.deployment.spec.template.metadata.labels),
        ),
      );
    },
  ],
  // a PDB keeps a pod up through drains, and still lets drains through
  [
    "keeps one pod through drains with a PodDisruptionBudget that selects the pods",
    (i) => {
      const pdbs = i.all("PodDisruptionBudget");
      const pdb = pdbs.find((p) => selects(p.spec.selector, i.deployment.spec.template.metadata.labels));
      assert.ok(pdb, "no PodDisruptionBudget selects the pods");
      assert.ok(pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < i.deployment.spec.replicas);
    },
  ],
  // readiness /readyz, liveness and startup /healthz, over HTTPS on the named webhook port
  [
    "probes /readyz and /healthz over HTTPS on the webhook port",
    (i) => {
      const c = i.container;
      const port = (name: string) => (c.ports as Obj[]).find((p) => p.name === name)?.containerPort;
      for (const [probe, path] of [
        ["readinessProbe", READYZ_PATH],
        ["livenessProbe", HEALTHZ_PATH],
        ["startupProbe", HEALTHZ_PATH],
      ] as const) {
        assert.equal(c[probe]?.httpGet?.path, path, probe);
        assert.equal(c[probe].httpGet.scheme, "HTTPS", probe);
        assert.equal(port(c[probe].httpGet.port), WEBHOOK_PORT, probe);
      }
    },
  ],
  // Pod Security "restricted" plus a read-only root, with /tmp the only writable path
  [
    "runs under the restricted security context with a read-only root",
    (i) => {
      const pod = i.pod.securityContext;
      const sc = i.container.securityContext;
      assert.equal(pod.runAsNonRoot, true);
      assert.ok(pod.runAsUser > 0 && sc.runAsUser === pod.runAsUser);
      assert.equal(pod.seccompProfile.type, "RuntimeDefault");
      assert.equal(sc.allowPrivilegeEscalation, false);
      assert.equal(sc.readOnlyRootFilesystem, true);
      assert.equal(sc.privileged, undefined);
      assert.deepEqual(sc.capabilities, { drop: ["ALL"] });
      assert.equal(i.pod.hostNetwork, undefined);
      const volumes = new Map((i.pod.volumes as Obj[]).map((v) => [v.name, v]));
      for (const v of volumes.values()) assert.equal(v.hostPath, undefined, v.name);
      const tmp = (i.container.volumeMounts as Obj[]).find((m) => m.mountPath === "/tmp");
      assert.ok(tmp && volumes.get(tmp.name)?.emptyDir, "/tmp is not an emptyDir");
    },
  ],
  // requests for scheduling, a memory limit, no CPU limit (throttling would become review latency)
  [
    "requests CPU and memory and limits memory only",
    (i) => {
      const r = i.container.resources;
      assert.ok(r.requests.cpu && r.requests.memory);
      assert.ok(r.limits.memory);
      assert.equal(r.limits.cpu, undefined);
    },
  ],
  // the image of this package version; POD_NAMESPACE from the downward API for --namespace
  [
    "runs this version's image with POD_NAMESPACE from the downward API",
    (i) => {
      assert.equal(i.container.image, `ghcr.io/casskeeper/casskeeper:${VERSION}`);
      assert.deepEqual((i.container.env as Obj[]).find((e) => e.name === "POD_NAMESPACE")?.valueFrom, {
        fieldRef: { fieldPath: "metadata.namespace" },
      });
    },
  ],
  // the Deployment runs as the ServiceAccount that every binding binds, and every role is bound
  [
    "binds every role to the ServiceAccount the pods run as",
    (i) => {
      assert.equal(i.pod.serviceAccountName, SERVICE_ACCOUNT);
      i.one("ServiceAccount", SERVICE_ACCOUNT);
      const bindings = [...i.all("ClusterRoleBinding"), ...i.all("RoleBinding")];
      for (const b of bindings) {
        assert.deepEqual(b.subjects, [
          { kind: "ServiceAccount", name: SERVICE_ACCOUNT, namespace: NAMESPACE },
        ]);
        i.one(b.roleRef.kind, b.roleRef.name);
      }
      for (const r of [...i.all("ClusterRole"), ...i.all("Role")]) {
        assert.ok(
          bindings.some((b) => b.roleRef.kind === r.kind && b.roleRef.name === r.metadata.name),
          `${r.kind}/${r.metadata.name} is not bound`,
        );
      }
    },
  ],
  // no RBAC wildcard; writes on webhook configurations pinned by resourceNames; no Secret writes cluster-wide
  [
    "grants no wildcard, and pins writes on webhook configurations",
    (i) => {
      for (const role of [...i.all("ClusterRole"), ...i.all("Role")]) {
        for (const r of role.rules as Obj[]) {
          for (const v of [...r.verbs, ...r.apiGroups, ...r.resources])
            assert.ok(!v.includes("*"), role.metadata.name);
          const writes = r.verbs.some((v: string) => WRITE_VERBS.includes(v));
          if (writes && r.apiGroups.includes("admissionregistration.k8s.io")) {
            assert.ok(
              r.resourceNames?.length > 0,
              `${role.metadata.name}: unpinned webhook configuration write`,
            );
          }
          if (writes && role.kind === "ClusterRole")
            assert.ok(!r.resources.includes("secrets"), role.metadata.name);
        }
      }
    },
  ],
];

// [verb, group, resource, namespace (undefined: cluster-scoped), name, allowed with self-managed TLS, with cert-manager]
const ACCESS: [string, string, string, string | undefined, string | undefined, boolean, boolean][] = [
  // watch caches: Secrets (key names), CassKop's kinds, policy sources, in every namespace
  ["list", "", "secrets", "shop", undefined, true, true],
  ["watch", "", "secrets", "shop", undefined, true, true],
  ["list", "db.orange.com", "cassandraclusters", "shop", undefined, true, true],
  ["watch", "db.orange.com", "cassandrabackups", "shop", undefined, true, true],
  ["get", "db.orange.com", "cassandrarestores", "shop", "r1", true, true],
  ["list", "casskeeper.io", "backuppolicysources", "shop", undefined, true, true],
  // never a write on users' Secrets or clusters
  ["update", "", "secrets", "shop", "aws", false, false],
  ["create", "", "secrets", "shop", undefined, false, false],
  ["patch", "db.orange.com", "cassandraclusters", "shop", "c1", false, false],
  ["update", "db.orange.com", "cassandrabackups", "shop", "b1", false, false],
  // the Git sync: server-side apply (patch; create when the apply creates) and prune of backups and restores
  ["patch", "db.orange.com", "cassandrabackups", "shop", "b1", true, true],
  ["create", "db.orange.com", "cassandrarestores", "shop", undefined, true, true],
  ["delete", "db.orange.com", "cassandrabackups", "shop", "b1", true, true],
  // its own kind: finalizer and reconcile-request annotation (patch), status through /status only
  ["patch", "casskeeper.io", "backuppolicysources", "shop", "s1", true, true],
  ["update", "casskeeper.io", "backuppolicysources", "shop", "s1", false, false],
  ["delete", "casskeeper.io", "backuppolicysources", "shop", "s1", false, false],
  ["patch", "casskeeper.io", "backuppolicysources/status", "shop", "s1", true, true],
  // self-managed TLS: its own Secret, and caBundle of its own two configurations only
  ["create", "", "secrets", NAMESPACE, undefined, true, false],
  ["update", "", "secrets", NAMESPACE, TLS_SECRET_NAME, true, false],
  ["update", "", "secrets", NAMESPACE, "some-other-secret", false, false],
  [
    "patch",
    "admissionregistration.k8s.io",
    "validatingwebhookconfigurations",
    undefined,
    VALIDATING_CONFIG_NAME,
    true,
    false,
  ],
  [
    "update",
    "admissionregistration.k8s.io",
    "mutatingwebhookconfigurations",
    undefined,
    MUTATING_CONFIG_NAME,
    true,
    false,
  ],
  // not someone else's webhook configuration, nor ours under the other kind, nor deleting ours
  [
    "patch",
    "admissionregistration.k8s.io",
    "validatingwebhookconfigurations",
    undefined,
    "gatekeeper",
    false,
    false,
  ],
  [
    "patch",
    "admissionregistration.k8s.io",
    "validatingwebhookconfigurations",
    undefined,
    MUTATING_CONFIG_NAME,
    false,
    false,
  ],
  [
    "delete",
    "admissionregistration.k8s.io",
    "validatingwebhookconfigurations",
    undefined,
    VALIDATING_CONFIG_NAME,
    false,
    false,
  ],
  [
    "list",
    "admissionregistration.k8s.io",
    "validatingwebhookconfigurations",
    undefined,
    undefined,
    false,
    false,
  ],
  // events on the objects it reports on, in their namespaces; leader-election leases in its own only
  ["create", "", "events", NAMESPACE, undefined, true, true],
  ["create", "", "events", "shop", undefined, true, true],
  ["delete", "", "events", "shop", undefined, false, false],
  ["update", "coordination.k8s.io", "leases", NAMESPACE, "casskeeper", true, true],
  ["update", "coordination.k8s.io", "leases", "kube-system", "kube-controller-manager", false, false],
  // nothing about pods or namespaces
  ["list", "", "pods", "shop", undefined, false, false],
  ["create", "", "namespaces", undefined, undefined, false, false],
];

const installs: Record<"default" | "cert-manager", Install> = {} as Record<
  "default" | "cert-manager",
  Install
>;

before(async () => {
  installs.default = new Install(await render("."));
  installs["cert-manager"] = new Install(await render("manifests/overlays/cert-manager"));
});

for (const variant of ["default", "cert-manager"] as const) {
  const dir = variant === "default" ? "." : "manifests/overlays/cert-manager";
  describe(`kubectl kustomize ${dir} (${variant === "default" ? "self-managed TLS" : "cert-manager TLS"})`, () => {
    for (const [name, check] of COMMON_CHECKS) it(name, () => check(installs[variant]));

    it("grants casskeeper's ServiceAccount exactly the access it needs", () => {
      for (const [verb, group, resource, ns, name, selfManaged, certManager] of ACCESS) {
        const want = variant === "default" ? selfManaged : certManager;
        assert.equal(
          allowed(installs[variant], verb, group, resource, ns, name),
          want,
          `${verb} ${group}/${resource} ${ns ?? "(cluster)"} ${name ?? ""}`,
        );
      }
    });

    // least privilege as a list: a new grant must be added here on purpose
    it("grants nothing beyond its list", () => {
      const selfManagedOnly = [
        `${NAMESPACE} create /secrets`,
        `${NAMESPACE} get /secrets [${TLS_SECRET_NAME}]`,
        `${NAMESPACE} patch /secrets [${TLS_SECRET_NAME}]`,
        `${NAMESPACE} update /secrets [${TLS_SECRET_NAME}]`,
        ...["get", "patch", "update"].flatMap((verb) => [
          `* ${verb} admissionregistration.k8s.io/mutatingwebhookconfigurations [${MUTATING_CONFIG_NAME}]`,
          `* ${verb} admissionregistration.k8s.io/validatingwebhookconfigurations [${VALIDATING_CONFIG_NAME}]`,
        ]),
      ];
      const always = [
        ...["get", "list", "watch"].flatMap((verb) => [
          `* ${verb} /secrets`,
          `* ${verb} db.orange.com/cassandraclusters`,
          `* ${verb} db.orange.com/cassandrabackups`,
          `* ${verb} db.orange.com/cassandrarestores`,
          `* ${verb} casskeeper.io/backuppolicysources`,
        ]),
        ...["create", "patch", "delete"].flatMap((verb) => [
          `* ${verb} db.orange.com/cassandrabackups`,
          `* ${verb} db.orange.com/cassandrarestores`,
        ]),
        `* patch casskeeper.io/backuppolicysources`,
        `* get casskeeper.io/backuppolicysources/status`,
        `* patch casskeeper.io/backuppolicysources/status`,
        `* create /events`,
        `* patch /events`,
        ...["get", "create", "update"].map((verb) => `${NAMESPACE} ${verb} coordination.k8s.io/leases`),
      ];
      const want = variant === "default" ? [...always, ...selfManagedOnly] : always;
      assert.deepEqual(grantLines(installs[variant]), want.sort());
    });
  });
}

describe("self-managed TLS (kubectl apply -k .)", () => {
  // the pods make their own certificate and write caBundle
  it("runs serve --kube --self-managed-tls --git-sync", () => {
    assert.deepEqual(installs.default.container.args, [
      "serve",
      "--kube",
      "--self-managed-tls",
      "--git-sync",
      "--git-cache-dir=/var/cache/casskeeper/git",
      "--git-webhook-secret-file=/etc/casskeeper/git-webhook/secret",
    ]);
  });

  // the Git sync's clones go to a size-limited emptyDir (the root filesystem is read-only); the receiver's
  // secret is an optional Secret volume, so the install works before anyone creates it
  it("mounts a git cache emptyDir and the optional receiver secret", () => {
    const c = installs.default.container;
    const volumes = installs.default.pod.volumes as Obj[];
    const mountOf = (path: string) =>
      (c.volumeMounts as Obj[]).find((m) => path.startsWith(`${m.mountPath}`));
    const cache = mountOf("/var/cache/casskeeper/git");
    assert.ok(volumes.find((v) => v.name === cache?.name)?.emptyDir?.sizeLimit);
    const hook = mountOf("/etc/casskeeper/git-webhook/secret");
    const secret = volumes.find((v) => v.name === hook?.name)?.secret;
    assert.equal(secret?.optional, true);
  });

  // nothing of cert-manager's is needed
  it("needs no cert-manager object", () => {
    assert.deepEqual(
      installs.default.docs.filter((d) => String(d.apiVersion).startsWith("cert-manager.io/")),
      [],
    );
  });
});

describe("cert-manager TLS (kubectl apply -k manifests/overlays/cert-manager)", () => {
  const cm = () => installs["cert-manager"];
  const servingCert = () => {
    const [namespace, name, ...rest] = String(
      cm().one("ValidatingWebhookConfiguration", VALIDATING_CONFIG_NAME).metadata.annotations[
        "cert-manager.io/inject-ca-from"
      ],
    ).split("/");
    assert.equal(rest.length, 0);
    assert.equal(namespace, NAMESPACE);
    return cm().one("Certificate", String(name));
  };

  // cainjector fills caBundle of both configurations from the same serving Certificate
  it("annotates both webhook configurations for CA injection from the serving certificate", () => {
    const cert = servingCert();
    for (const [kind, name] of [
      ["ValidatingWebhookConfiguration", VALIDATING_CONFIG_NAME],
      ["MutatingWebhookConfiguration", MUTATING_CONFIG_NAME],
    ] as const) {
      assert.equal(
        cm().one(kind, name).metadata.annotations["cert-manager.io/inject-ca-from"],
        `${NAMESPACE}/${cert.metadata.name}`,
      );
    }
  });

  // the certificate is for the name the API server dials, in the Secret the server reads
  it("issues the serving certificate for the Service's DNS names into TLS_SECRET_NAME", () => {
    const cert = servingCert();
    assert.equal(cert.spec.secretName, TLS_SECRET_NAME);
    assert.deepEqual(cert.spec.dnsNames, [
      `${SERVICE_NAME}.${NAMESPACE}.svc`,
      `${SERVICE_NAME}.${NAMESPACE}.svc.cluster.local`,
    ]);
    assert.ok(cert.spec.usages.includes("server auth"));
  });

  // every issuerRef resolves within the install, ending at a self-signed issuer through a CA certificate
  it("chains the serving certificate to a CA issued by a self-signed Issuer", () => {
    const caIssuer = cm().one("Issuer", servingCert().spec.issuerRef.name);
    const caCert = cm()
      .all("Certificate")
      .find((c) => c.spec.secretName === caIssuer.spec.ca.secretName);
    assert.ok(caCert?.spec.isCA, "the CA Issuer's Secret is not a CA certificate's");
    assert.deepEqual(cm().one("Issuer", caCert.spec.issuerRef.name).spec, { selfSigned: {} });
  });

  // the server reads the pair from the whole-directory mount of that Secret (no subPath: renewals arrive)
  it("serves the mounted certificate files, mounted without subPath", () => {
    const c = cm().container;
    const args = c.args as string[];
    assert.equal(args.includes("--self-managed-tls"), false);
    assert.deepEqual(args.slice(0, 2), ["serve", "--kube"]);
    const volumes = cm().pod.volumes as Obj[];
    for (const flag of ["--tls-cert", "--tls-key"]) {
      const file = String(args[args.indexOf(flag) + 1]);
      const mount = (c.volumeMounts as Obj[]).find((m) => file.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${flag} ${file} is not under a mount`);
      assert.equal(mount.subPath, undefined);
      const secret = volumes.find((v) => v.name === mount.name)?.secret;
      assert.equal(secret?.secretName, TLS_SECRET_NAME);
      const key = file.slice(mount.mountPath.length + 1);
      assert.ok(
        secret.items.some((it: Obj) => it.path === key),
        `${key} not projected`,
      );
    }
  });

  // the overlay lists the root's parts again (kustomize forbids a cycle): it must render the same install
  it("renders the default install plus cert-manager's objects, minus the self-managed TLS grants", () => {
    const id = (d: Obj) => `${d.kind}/${d.metadata.namespace ?? ""}/${d.metadata.name}`;
    const strip = (d: Obj): Obj => {
      const copy = structuredClone(d);
      if (copy.kind === "Deployment") {
        const spec = copy.spec.template.spec;
        spec.containers[0].args = [];
        spec.containers[0].volumeMounts = spec.containers[0].volumeMounts.filter(
          (m: Obj) => m.name !== "tls",
        );
        spec.volumes = spec.volumes.filter((v: Obj) => v.name !== "tls");
      }
      if (copy.kind.endsWith("WebhookConfiguration")) delete copy.metadata.annotations;
      return copy;
    };
    const certManagerOnly = cm().docs.filter((d) => String(d.apiVersion).startsWith("cert-manager.io/"));
    assert.deepEqual(certManagerOnly.map(id).sort(), [
      `Certificate/${NAMESPACE}/casskeeper-ca`,
      `Certificate/${NAMESPACE}/casskeeper-webhook`,
      `Issuer/${NAMESPACE}/casskeeper-ca`,
      `Issuer/${NAMESPACE}/casskeeper-selfsigned`,
    ]);
    const removed = [
      "ClusterRole//casskeeper-webhook-ca",
      "ClusterRoleBinding//casskeeper-webhook-ca",
      `Role/${NAMESPACE}/casskeeper-tls`,
      `RoleBinding/${NAMESPACE}/casskeeper-tls`,
    ];
    const expected = installs.default.docs.filter((d) => !removed.includes(id(d))).map(strip);
    const actual = cm()
      .docs.filter((d) => !certManagerOnly.includes(d))
      .map(strip);
    assert.deepEqual(actual, expected);
  });
});

// --- Dockerfile: no engine runs here, so its facts are checked as text -----------------------------------

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** Dockerfile instructions grouped by stage (continuations joined, comments dropped); ARGs before FROM apart. */
function parseDockerfile(text: string): { globalArgs: Map<string, string>; stages: Instruction[][] } {
  const logical = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const globalArgs = new Map<string, string>();
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [op = "", ...rest] = line.split(/\s+/);
    const ins = { op: op.toUpperCase(), args: rest.join(" ") };
    if (ins.op === "FROM") stages.push([ins]);
    else if (stages.length === 0 && ins.op === "ARG") {
      const [k = "", v = ""] = ins.args.split("=");
      globalArgs.set(k, v);
    } else stages.at(-1)?.push(ins);
  }
  return { globalArgs, stages };
}

const dockerfile = parseDockerfile(readFileSync(new URL("Dockerfile", ROOT_URL), "utf8"));
const runtime = dockerfile.stages.at(-1) ?? [];
const from = (stage: Instruction[]) =>
  (stage[0]?.args.split(/\s+/)[0] ?? "").replace(
    /\$\{(\w+)\}/g,
    (_, k) => dockerfile.globalArgs.get(k) ?? "",
  );
const argsOf = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op).map((i) => i.args);
/** COPY sources from the build context (not --from another stage) of a stage. */
const contextCopies = (stage: Instruction[]) =>
  argsOf(stage, "COPY")
    .filter((a) => !a.startsWith("--from"))
    .flatMap((a) => a.split(/\s+/).slice(0, -1));

// [fact, assertion] — one row per property of the image that the Deployment or bin/casskeeper.js relies on.
const DOCKERFILE_CHECKS: [string, () => void][] = [
  // every stage on Node 24 (the engines field; bin/casskeeper.js refuses older)
  [
    "builds and runs on Node 24 images",
    () => {
      assert.ok(dockerfile.stages.length >= 2);
      for (const stage of dockerfile.stages) assert.match(from(stage), /^node:24-[a-z-]+$/);
    },
  ],
  // the runtime user is numeric, non-root, and the Deployment's runAsUser
  [
    "runs as the Deployment's numeric non-root user",
    () => {
      const [user] = argsOf(runtime, "USER").slice(-1);
      assert.match(user ?? "", /^\d+(:\d+)?$/);
      const [uid, gid] = String(user).split(":").map(Number);
      assert.ok(uid !== undefined && uid > 0);
      assert.equal(uid, installs.default.pod.securityContext.runAsUser);
      if (gid !== undefined) assert.equal(gid, installs.default.pod.securityContext.runAsGroup);
    },
  ],
  // no src/ in the runtime stage, so bin/casskeeper.js runs dist/
  [
    "leaves src/ out of the runtime image",
    () => {
      assert.ok(!contextCopies(runtime).some((p) => p === "src" || p.startsWith("src/")));
      assert.ok(contextCopies(dockerfile.stages[0] ?? []).includes("src"));
    },
  ],
  // the runtime copies exactly the package's files (package.json "files") plus package.json and prod deps
  [
    "ships the published file set: bin, dist, manifests/crds, package.json, production node_modules",
    () => {
      const files: string[] = JSON.parse(readFileSync(new URL("package.json", ROOT_URL), "utf8")).files;
      const shipped = [
        ...contextCopies(runtime),
        ...argsOf(runtime, "COPY")
          .filter((a) => a.startsWith("--from"))
          .map((a) => a.split(/\s+/).at(-1)?.replace(/^\.\//, "") ?? ""),
      ];
      for (const f of [...files, "package.json", "node_modules"]) {
        assert.ok(shipped.includes(f) || shipped.includes(`./${f}`), `${f} not copied`);
      }
      assert.ok(
        dockerfile.stages.some((s) => argsOf(s, "RUN").some((r) => /npm ci .*--omit=dev/.test(r))),
        "no npm ci --omit=dev stage",
      );
    },
  ],
  // the entry point and default command the Deployment's args replace
  [
    "starts node bin/casskeeper.js serve --kube --self-managed-tls",
    () => {
      assert.deepEqual(JSON.parse(argsOf(runtime, "ENTRYPOINT").at(-1) ?? "null"), [
        "node",
        "bin/casskeeper.js",
      ]);
      assert.deepEqual(JSON.parse(argsOf(runtime, "CMD").at(-1) ?? "null"), installs.default.container.args);
    },
  ],
  // the webhook port is the one documented on the image
  ["exposes WEBHOOK_PORT", () => assert.deepEqual(argsOf(runtime, "EXPOSE"), [String(WEBHOOK_PORT)])],
  // .dockerignore lets in every path the Dockerfile copies, and keeps out keys, deps and history
  [
    ".dockerignore admits what is copied and nothing else",
    () => {
      const lines = readFileSync(new URL(".dockerignore", ROOT_URL), "utf8")
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));
      assert.equal(lines[0], "*", "not an allow-list");
      const allowed = lines.slice(1).map((l) => l.replace(/^!/, "").replace(/\/$/, ""));
      const admits = (p: string) => allowed.some((a) => p === a || p.startsWith(`${a}/`));
      for (const p of dockerfile.stages.flatMap(contextCopies)) assert.ok(admits(p.replace(/^\.\//, "")), p);
      for (const p of ["certs/tls.key", "node_modules/x", ".git/config", "dist/cli/main.js", "test/x.ts"]) {
        assert.equal(admits(p), false, p);
      }
    },
  ],
];

describe("Dockerfile", () => {
  for (const [name, check] of DOCKERFILE_CHECKS) it(name, check);
});

describe("kubectl kustomize manifests/overlays/runner (the backup runner)", () => {
  let runner: Install;
  before(async () => {
    runner = new Install(await render("manifests/overlays/runner"));
  });

  // the default install's args plus --runner, and nothing else changes in the Deployment
  it("runs serve with --runner added", () => {
    assert.deepEqual(runner.container.args, [...(installs.default.container.args as string[]), "--runner"]);
  });

  // [verb, group, resource, namespace, allowed] — the pods to reach a sidecar, status where a CRD has the
  // subresource; still no pod writes, and the default install grants no pods at all
  const cases: [string, string, string, string | undefined, boolean][] = [
    ["list", "", "pods", "shop", true],
    ["get", "", "pods", "shop", true],
    ["delete", "", "pods", "shop", false],
    ["patch", "db.orange.com", "cassandrabackups/status", "shop", true],
    ["patch", "db.orange.com", "cassandrarestores/status", "shop", true],
  ];
  for (const [verb, group, resource, ns, want] of cases) {
    it(`${want ? "grants" : "refuses"} ${verb} ${group}/${resource}`, () => {
      assert.equal(allowed(runner, verb, group, resource, ns, undefined), want);
    });
  }
  it("the default install grants no pods", () => {
    assert.equal(allowed(installs.default, "list", "", "pods", "shop", undefined), false);
  });
});
