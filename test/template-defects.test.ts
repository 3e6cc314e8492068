// The run-time defects a review of the template found (issue 24), each checked the way it would bite: the
// Dockerfile's tar command against an archive laid out like Coder's releases, the allowed-workspace precondition
// through real Terraform (when installed), the pod's dependency graph, the provisioner's RBAC in the README
// against what the template creates and grants, and the parameters' error texts against their regex.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { DURATION_REGEX, DURATION_UNITS, parameterSpecs } from "../template/tools/parameters.ts";
import { TEMPLATE_DIR, parseHclFile, parseTemplate } from "./helpers/template.ts";

type Block = Record<string, unknown>;
const read = (f: string) => readFileSync(join(TEMPLATE_DIR, f), "utf8");

function resources(doc: Block, type: string): Record<string, Block> {
  const all = ((doc.resource ?? {}) as Record<string, Record<string, Block[]>>)[type] ?? {};
  return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v[0] as Block]));
}

test("the Dockerfile extracts the coder binary from an archive laid out like Coder's releases (./coder)", () => {
  const docker = read("Dockerfile");
  const cmd = /\|\s*(tar -xz -C \/usr\/local\/bin [^\\\n]+?)\s*\\/.exec(docker)?.[1];
  assert.ok(cmd, "the Dockerfile pipes the release into tar");
  const dir = mkdtempSync(join(tmpdir(), "scaletest-tar-"));
  try {
    // Coder's goreleaser archives: ./coder, ./LICENSE, ./README.md (members named with a leading ./).
    mkdirSync(join(dir, "release"));
    writeFileSync(join(dir, "release/coder"), "#!/bin/sh\necho coder v0\n");
    chmodSync(join(dir, "release/coder"), 0o755);
    writeFileSync(join(dir, "release/README.md"), "readme\n");
    const archive = execFileSync("tar", ["-czf", "-", "-C", join(dir, "release"), "./coder", "./README.md"]);
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const run = (c: string) => spawnSync("sh", ["-c", c.replace("/usr/local/bin", bin)], { input: archive, encoding: "utf8" });
    const r = run(cmd);
    assert.equal(r.status, 0, `tar failed: ${r.stderr}`);
    assert.ok(existsSync(join(bin, "coder")), "coder extracted");
    assert.ok(!existsSync(join(bin, "README.md")), "only the binary");
    // The member name matters: the old command fails on such an archive (what the review saw).
    assert.notEqual(run("tar -xz -C /usr/local/bin coder").status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;

test("the runner precondition admits the CLI's dry run (owner default) and refuses other workspaces", { skip: terraform ? false : "terraform is not installed", timeout: 60_000 }, async () => {
  const main = await parseHclFile(join(TEMPLATE_DIR, "main.tf"));
  const locals = Object.assign({}, ...(main.locals as Block[])) as Record<string, string>;
  const expr = (e: string) =>
    e
      .replace(/^\$\{([\s\S]*)\}$/, "$1")
      .replace(/data\.coder_workspace_owner\.me\.name/g, "each.value.owner")
      .replace(/data\.coder_workspace\.me\.name/g, "each.value.name")
      .replace(/local\.owner_workspace/g, '"${each.value.owner}/${each.value.name}"');
  // The locals as a module evaluated per case (no providers needed).
  const mod = [
    'variable "allowed_workspaces" { type = list(string) }',
    'variable "cases" { type = map(object({ owner = string, name = string })) }',
    `locals { allowed_names = ${expr(locals.allowed_names as string)} }`,
    `output "allowed" { value = { for k, each in { for k, v in var.cases : k => { value = v } } : k => ${expr(locals.allowed as string)} } }`,
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "scaletest-precondition-"));
  try {
    writeFileSync(join(dir, "main.tf"), mod);
    const evaluate = (allowed: string[]) => {
      const cases = {
        real: { owner: "scaletest", name: "runner" },
        dryRun: { owner: "default", name: "runner" },
        imported: { owner: "default", name: "default" },
        otherName: { owner: "scaletest", name: "other" },
        otherOwner: { owner: "alice", name: "runner" },
        dryRunOther: { owner: "default", name: "other" },
      };
      writeFileSync(join(dir, "terraform.tfvars.json"), JSON.stringify({ allowed_workspaces: allowed, cases }));
      execFileSync("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir, stdio: "pipe", env: { ...process.env, TF_IN_AUTOMATION: "1" } });
      return JSON.parse(execFileSync("terraform", ["output", "-json", "allowed"], { cwd: dir, encoding: "utf8" })) as Record<string, boolean>;
    };
    assert.deepEqual(evaluate(["scaletest/runner"]), { real: true, dryRun: true, imported: true, otherName: false, otherOwner: false, dryRunOther: false });
    assert.equal(evaluate(["*"]).otherOwner, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("on stop the pod goes first: it depends on its Roles, RoleBindings and PodMonitors", async () => {
  const t = await parseTemplate();
  const rbac = await parseHclFile(join(TEMPLATE_DIR, "rbac.tf"));
  const pod = resources(t.main, "kubernetes_pod").main as Block;
  const deps = new Set(((pod.depends_on ?? []) as string[]).map((d) => d.replace(/^\$\{|\}$/g, "")));
  const needed = [
    ...Object.keys(resources(rbac, "kubernetes_role")).map((n) => `kubernetes_role.${n}`),
    ...Object.keys(resources(rbac, "kubernetes_role_binding")).map((n) => `kubernetes_role_binding.${n}`),
    ...[...Object.keys(resources(t.main, "kubernetes_manifest")), ...Object.keys(resources(rbac, "kubernetes_manifest"))].map((n) => `kubernetes_manifest.${n}`),
  ];
  assert.ok(needed.length >= 6, `roles, bindings and pod monitors found (${needed.join(", ")})`);
  for (const n of needed) assert.ok(deps.has(n), `kubernetes_pod.main depends on ${n}`);
});

test("the build's start time is new on every build (restarts included)", async () => {
  const t = await parseTemplate();
  const ts = resources(t.main, "time_static").start_time as Block;
  const triggers = (ts.triggers ?? {}) as Record<string, string>;
  assert.ok(Object.values(triggers).some((v) => /\btimestamp\(\)/.test(v)), "a trigger unknown until apply: timestamp()");
  assert.match(read("main.tf"), /SCALETEST_START_TIME\s*=\s*time_static\.start_time\.rfc3339/);
});

test("providers are pinned with an upper bound", async () => {
  const t = await parseTemplate();
  const req = ((t.main.terraform as Block[])[0]?.required_providers as Block[])[0] as Record<string, { version: string }>;
  for (const [name, p] of Object.entries(req)) assert.match(p.version, /<|~>/, `${name}: ${p.version} has an upper bound`);
});

test("every duration parameter's error lists exactly the units its regex accepts", () => {
  const units = /\(([a-zµ|]+)\)\)\+\)\$$/u.exec(DURATION_REGEX)?.[1]?.split("|");
  assert.deepEqual(units, [...DURATION_UNITS]);
  const re = new RegExp(DURATION_REGEX, "u");
  for (const u of DURATION_UNITS) assert.ok(re.test(`5${u}`), u);
  const durations = parameterSpecs().filter((p) => p.validation && "regex" in p.validation && p.validation.regex.includes("ms|s|m|h"));
  assert.ok(durations.length > 10);
  for (const p of durations) {
    const err = (p.validation as { error: string }).error;
    for (const u of DURATION_UNITS) assert.match(err, new RegExp(`[ (,]${u}[,).]`, "u"), `${p.name}: its error names ${u}`);
  }
});

test("PodMonitors carry the labels a podMonitorSelector matches, set by a variable", async () => {
  const t = await parseTemplate();
  const rbac = await parseHclFile(join(TEMPLATE_DIR, "rbac.tf"));
  const monitors = { ...resources(t.main, "kubernetes_manifest"), ...resources(rbac, "kubernetes_manifest") };
  for (const [name, m] of Object.entries(monitors)) {
    const labels = JSON.stringify(((m.manifest as Block).metadata as Block).labels);
    assert.match(labels, /var\.pod_monitor_labels/, `${name} has the selector labels`);
  }
  const v = ((t.main.variable as Record<string, Block[]>).pod_monitor_labels ?? [])[0] as Block;
  assert.deepEqual(v.default, { release: "prometheus" });
});

/** (apiGroup, resource, verb) triples of a list of rules. */
function triples(rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${g}|${res}|${v}`);
  return out;
}

/** The README's extraRules block, in the flow style it is written in. */
function readmeRules(): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
  const doc = read("README.md");
  const block = /<!-- BEGIN extra-rules[^>]*-->([\s\S]*?)<!-- END extra-rules -->/.exec(doc)?.[1];
  assert.ok(block, "README has the extra-rules block");
  const list = (s: string) => JSON.parse(s) as string[];
  const rules = [];
  for (const m of block.matchAll(/- apiGroups: (\[.*\])\n\s+resources: (\[.*\])\n\s+verbs: (\[.*\])/g)) {
    rules.push({ apiGroups: list(m[1] as string), resources: list(m[2] as string), verbs: list(m[3] as string) });
  }
  return rules;
}

// The Helm chart's default provisioner rules (coder.serviceAccount.workspacePerms / enableDeployments).
const CHART_DEFAULT = triples([
  { apiGroups: [""], resources: ["pods", "persistentvolumeclaims"], verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] },
  { apiGroups: ["apps"], resources: ["deployments"], verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] },
]);

test("README's Before-you-push rules cover every resource the template creates and every permission its Roles grant", async () => {
  const t = await parseTemplate();
  const rbac = await parseHclFile(join(TEMPLATE_DIR, "rbac.tf"));
  const have = new Set([...CHART_DEFAULT, ...triples(readmeRules())]);
  const kinds: Record<string, [string, string]> = {
    kubernetes_config_map: ["", "configmaps"],
    kubernetes_secret: ["", "secrets"],
    kubernetes_role: ["rbac.authorization.k8s.io", "roles"],
    kubernetes_role_binding: ["rbac.authorization.k8s.io", "rolebindings"],
    kubernetes_pod: ["", "pods"],
    kubernetes_persistent_volume_claim: ["", "persistentvolumeclaims"],
    kubernetes_manifest: ["monitoring.coreos.com", "podmonitors"],
  };
  const created = new Set<string>();
  for (const doc of [t.main, rbac]) for (const type of Object.keys((doc.resource ?? {}) as Block)) if (type.startsWith("kubernetes_")) created.add(type);
  for (const type of created) {
    const k = kinds[type];
    assert.ok(k, `a rule is known for ${type}`);
    for (const verb of ["create", "get", "patch", "delete"]) assert.ok(have.has(`${k[0]}|${k[1]}|${verb}`), `${type}: ${verb} ${k[1]}`);
  }
  // No escalation: whatever a Role grants, the provisioner must hold itself.
  for (const role of Object.values(resources(rbac, "kubernetes_role"))) {
    const rules = (role.rule as { api_groups: string[]; resources: string[]; verbs: string[] }[]).map((r) => ({ apiGroups: r.api_groups, resources: r.resources, verbs: r.verbs }));
    for (const g of triples(rules)) assert.ok(have.has(g), `the provisioner holds what a Role grants: ${g}`);
  }
  assert.match(read("README.md"), /## Before you push[\s\S]*PodMonitor CRD/);
});

test("template defaults: dry run on and ephemeral, Coder's runner timeouts and retries; the scripts keep their own", async () => {
  const { SETTINGS } = await import("../src/config/schema.ts");
  const t = await parseTemplate();
  const p = t.params;
  assert.equal(p.dry_run?.default, true);
  assert.equal((p.dry_run as unknown as { ephemeral?: boolean }).ephemeral, true, "a dry run is not carried into the next build");
  assert.equal(p.create_retry?.default, 5);
  assert.equal(p.create_timeout?.default, "5h");
  assert.equal(p.job_timeout?.default, "5h");
  assert.equal(p.cleanup_timeout?.default, "5h");
  assert.equal(p.cleanup_job_timeout?.default, "2h");
  assert.equal(p.metrics_wait?.default, "1m");
  // The scripts' own defaults stay fit for terminal reruns, the demo and the tests.
  assert.equal(SETTINGS.dryRun.default, false);
  assert.equal(SETTINGS.createRetry.default, 0);
  assert.equal(SETTINGS.metricsWait.default, 0);
});

test("the workspace template is chosen from the pushed list, which holds the parameters' defaults", async () => {
  const t = await parseTemplate();
  const list = ((t.main.variable as Record<string, Block[]>).workspace_templates?.[0] as Block).default as string[];
  for (const name of ["template", "greedy_agent_template"]) {
    const p = t.params[name] as unknown as Block;
    const dyn = JSON.stringify(p.dynamic);
    assert.match(dyn, /"option"/, `${name} has a dynamic option block`);
    assert.match(dyn, /var\.workspace_templates/, `${name}'s options come from var.workspace_templates`);
    assert.ok(list.includes(p.default as string), `${name}'s default ${String(p.default)} is one of the options`);
  }
});
