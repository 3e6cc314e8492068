// The Coder template (template/): parsed with a real HCL parser and held to the settings schema, its scripts and
// the runner image. No terraform and no cluster needed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseDuration } from "../src/config/duration.ts";
import { settingEntries, SETTINGS, type SettingKey } from "../src/config/schema.ts";
import type { Setting } from "../src/config/setting.ts";
import { BUNDLE_ENTRIES, TEMPLATE_ARCHIVE_LIMIT, bundleArchive, templateUploadSize } from "../template/tools/bundle.ts";
import { PARAMETERS_TF, README, renderReadme } from "../template/tools/gen.ts";
import { DURATION_REGEX, parameterSpecs, renderParametersTf } from "../template/tools/parameters.ts";
import { parseTemplate, ROOT, TEMPLATE_DIR, templateProblems, type ParsedTemplate } from "./helpers/template.ts";

const read = (f: string) => readFileSync(join(TEMPLATE_DIR, f), "utf8");
let cached: Promise<ParsedTemplate> | undefined;
const template = () => (cached ??= parseTemplate());

type Block = Record<string, unknown>;
function resource(t: ParsedTemplate, type: string, name: string): Block {
  const r = (t.main.resource as Record<string, Record<string, Block[]>>)[type]?.[name]?.[0];
  assert.ok(r, `main.tf has resource ${type}.${name}`);
  return r;
}

test("main.tf and parameters.tf parse with a real HCL parser and declare the runner's resources", async () => {
  const t = await template();
  for (const [type, name] of [
    ["coder_agent", "main"],
    ["coder_script", "startup"],
    ["coder_script", "shutdown"],
    ["coder_app", "report"],
    ["coder_app", "grafana"],
    ["coder_app", "manual_cleanup"],
    ["kubernetes_persistent_volume_claim", "home"],
    ["kubernetes_pod", "main"],
    ["kubernetes_manifest", "pod_monitor"],
    ["kubernetes_secret", "integrations"],
    ["terraform_data", "runner_check"],
    ["time_static", "start_time"],
  ] as const) {
    resource(t, type, name);
  }
  assert.ok(Object.keys(t.params).length >= 40, "one parameter per pipeline setting");
  const bounds = (t.parameters.resource as Record<string, Record<string, Block[]>>).terraform_data?.parameter_bounds?.[0];
  assert.ok(bounds, "parameters.tf has the bounds precondition");
});

test("parameters.tf and the README's tables are exactly what `npm run template:gen` makes from the schema", () => {
  assert.equal(readFileSync(PARAMETERS_TF, "utf8"), renderParametersTf(), "template/parameters.tf is stale: run npm run template:gen");
  const readme = readFileSync(README, "utf8");
  assert.equal(readme, renderReadme(readme), "template/README.md's tables are stale: run npm run template:gen");
});

test("every coder_parameter maps to a setting and back, with the same type, default, bounds and options", async () => {
  const t = await template();
  assert.deepEqual(templateProblems(t, settingEntries()), []);
  // Spot checks of the mapping itself, as a user sees it.
  assert.equal(t.params.workspaces?.type, "number");
  assert.deepEqual(t.params.workspaces?.validation?.[0], { min: 1, max: 5000 });
  assert.equal(t.params.tick_interval?.default, "100ms");
  assert.equal(t.params.cleanup_strategy?.default, "always");
  assert.deepEqual(
    t.params.cleanup_strategy?.option?.map((o) => o.value),
    ["always", "on_success", "on_error", "on_stop"],
  );
  assert.equal(t.params.scenarios?.type, "list(string)");
  assert.equal(t.params.scenarios?.form_type, "multi-select");
  assert.equal(t.params.ssh_duration?.default, "", "overrides default to the shared value");
  assert.deepEqual(t.numberBounds.SCALETEST_PERCENTAGE, { name: "Percentage", min: 0.01, max: 100 });
  assert.equal(t.params.namespace?.mutable, false, "moving the namespace would orphan the home volume");
  assert.equal(t.params.duration?.mutable, true);
});

test("changing a default, bound or option in the schema without the template is caught", async () => {
  const t = await template();
  const entries = settingEntries();
  const change = (key: SettingKey, patch: Partial<Setting<unknown>>) =>
    templateProblems(
      t,
      entries.map(([k, s]) => (k === key ? [k, { ...s, ...patch }] : [k, s])),
    );
  const has = (problems: string[], text: string) =>
    assert.ok(problems.some((p) => p.includes(text)), `expected a problem about ${text}, got ${JSON.stringify(problems)}`);
  has(change("workspaces", { default: 101 }), "workspaces");
  has(change("tickInterval", { default: parseDuration("250ms") }), "tickInterval");
  has(change("dryRun", { templateDefault: false }), "dryRun");
  has(change("createRetry", { templateDefault: 3 }), "createRetry");
  has(change("verbose", { default: true }), "verbose");
  has(change("scenarios", { default: ["ssh"] }), "scenarios");
  has(change("percentage", { max: 50 }), "percentage");
  has(change("createConcurrency", { min: 1 }), "createConcurrency");
  has(change("cleanupTimeout", { max: parseDuration("2h") }), "cleanupTimeout");
  has(change("appMode", { options: ["wsec", "wsra"] }), "appMode");
  has(change("workspaces", { kind: "string" }), "type");
  // A new pipeline setting without a parameter, and a parameter whose setting disappeared.
  const extra: [SettingKey, Setting<unknown>] = ["brandNew" as SettingKey, { ...(SETTINGS.verbose as Setting<unknown>), env: "SCALETEST_BRAND_NEW" }];
  has(templateProblems(t, [...entries, extra]), "SCALETEST_BRAND_NEW");
  has(templateProblems(t, entries.filter(([k]) => k !== "ramp")), "SCALETEST_RAMP");
});

test("the agent gets every parameter plus the fixed settings, and secrets only through a Secret", async () => {
  const t = await template();
  const agent = resource(t, "coder_agent", "main");
  assert.equal(agent.env, "${merge(local.parameter_env, local.fixed_env)}");
  const overlap = Object.keys(t.fixedEnv).filter((k) => k in t.parameterEnv);
  assert.deepEqual(overlap, [], "fixed env must not silently override a parameter");
  for (const key of ["url", "resultsDir", "metricsAddress", "runnerImage"] as const) {
    assert.ok(SETTINGS[key].env in t.fixedEnv, `${SETTINGS[key].env} is set by the template`);
  }
  // No secret reaches the agent's manifest; the pod gets them from the Secret.
  for (const key of ["token", "grafanaToken", "webhookUrl"] as const) {
    assert.ok(!(SETTINGS[key].env in t.fixedEnv) && !(SETTINGS[key].env in t.parameterEnv), `${SETTINGS[key].env} is not in the agent env`);
  }
  const locals = Object.assign({}, ...(t.main.locals as Block[])) as Record<string, unknown>;
  assert.deepEqual(Object.keys(locals.secret_env as Block).sort(), ["GRAFANA_API_TOKEN", "SLACK_WEBHOOK_URL"]);
  assert.equal(SETTINGS.grafanaToken.env, "GRAFANA_API_TOKEN");
  assert.equal(SETTINGS.webhookUrl.env, "SLACK_WEBHOOK_URL");
  for (const v of ["grafana_api_token", "slack_webhook_url"]) {
    const variable = (t.main.variable as Record<string, Block[]>)[v]?.[0];
    assert.equal(variable?.sensitive, true, `variable ${v} is sensitive`);
  }
  // The metrics address, the pod's port and the PodMonitor agree.
  assert.equal(t.fixedEnv.SCALETEST_METRICS_ADDRESS, "0.0.0.0:${local.metrics_port}");
  assert.equal(locals.metrics_port, 21112);
  const pod = resource(t, "kubernetes_pod", "main");
  const spec = (pod.spec as Block[])[0] as Block;
  const container = (spec.container as Block[])[0] as Block;
  const port = (container.port as Block[])[0] as Block;
  assert.equal(port.container_port, "${local.metrics_port}");
  const monitor = resource(t, "kubernetes_manifest", "pod_monitor");
  const manifest = monitor.manifest as { kind: string; spec: { podMetricsEndpoints: { port: string }[] } };
  assert.equal(manifest.kind, "PodMonitor");
  assert.deepEqual(manifest.spec.podMetricsEndpoints.map((e) => e.port), [port.name]);
});

test("the runner pod: persistent home, service account, a grace period long enough for cleanup", async () => {
  const t = await template();
  const pod = resource(t, "kubernetes_pod", "main");
  const spec = (pod.spec as Block[])[0] as Block;
  assert.equal(spec.service_account_name, "${var.service_account_name}");
  assert.equal(spec.termination_grace_period_seconds, "${local.grace_seconds + 60}");
  const shutdown = resource(t, "coder_script", "shutdown");
  assert.equal(shutdown.run_on_stop, true);
  assert.equal(shutdown.timeout, "${local.grace_seconds}", "the shutdown script may use the whole grace period");
  const grace = (t.main.variable as Record<string, Block[]>).shutdown_grace_minutes?.[0]?.default as number;
  assert.ok(grace * 60_000 >= (SETTINGS.cleanupTimeout.default as number), "default grace covers the default cleanup timeout");
  const container = (spec.container as Block[])[0] as Block;
  const mounts = container.volume_mount as Block[];
  assert.ok(mounts.some((m) => m.mount_path === "${local.home}" && m.name === "home"));
  const volume = (spec.volume as Block[]).find((v) => v.name === "home") as Block;
  assert.match(JSON.stringify(volume), /kubernetes_persistent_volume_claim\.home/);
  const locals = Object.assign({}, ...(t.main.locals as Block[])) as Record<string, unknown>;
  assert.equal(locals.home, "/home/coder");
  assert.equal(t.fixedEnv.SCALETEST_RESULTS_DIR, "${local.results_dir}");
  assert.equal(locals.results_dir, "${local.home}/results", "results live on the persistent home");
});

test("the build refuses any workspace but the intended runner, overridably", async () => {
  const t = await template();
  const check = resource(t, "terraform_data", "runner_check");
  const pre = ((check.lifecycle as Block[])[0]?.precondition as Block[])[0] as Block;
  assert.equal(pre.condition, "${local.allowed}");
  const locals = Object.assign({}, ...(t.main.locals as Block[])) as Record<string, string>;
  assert.match(locals.allowed as string, /var\.allowed_workspaces/);
  assert.match(locals.allowed as string, /default\/default/, "template imports plan as default/default");
  const variable = (t.main.variable as Record<string, Block[]>).allowed_workspaces?.[0];
  assert.deepEqual(variable?.default, ["scaletest/runner"]);
  for (const dependent of ["kubernetes_pod", "kubernetes_persistent_volume_claim"]) {
    const r = resource(t, dependent, dependent === "kubernetes_pod" ? "main" : "home");
    assert.match(JSON.stringify(r.depends_on), /terraform_data\.runner_check/);
  }
});

test("metadata, apps and scripts point at files and entry points that exist", async () => {
  const t = await template();
  const agent = resource(t, "coder_agent", "main");
  const meta = agent.metadata as Block[];
  const byKey = new Map(meta.map((m) => [m.key as string, m]));
  // Status and phase read the state files themselves (test/template-metadata.test.ts runs them).
  const stateFiles: Record<string, string> = {
    "00_scaletest_status": "state/status",
    "01_scaletest_phase": "state/phase",
    "02_scaletest_previous_phase": "state/phase",
  };
  for (const [key, state] of Object.entries(stateFiles)) {
    const m = byKey.get(key);
    assert.ok(m, `metadata ${key}`);
    const file = /file\("\$\{path\.module\}\/([^"]+)"\)/.exec(m.script as string)?.[1];
    assert.ok(file, `metadata ${key} runs a script file`);
    assert.ok(read(file).includes(state), `${file} reads ${state}`);
  }
  for (const key of ["10_cpu_usage", "11_ram_usage", "12_home_disk"]) assert.ok(byKey.has(key), `metadata ${key}`);
  // Every file() in main.tf exists; the shell scripts are valid bash/sh.
  const text = read("main.tf");
  const files = [...text.matchAll(/file\("\$\{path\.module\}\/([^"]+)"\)/g)].map((m) => m[1] as string);
  assert.ok(files.length >= 5);
  for (const f of files) {
    assert.ok(existsSync(join(TEMPLATE_DIR, f)), `template/${f} exists`);
    execFileSync(f.endsWith(".sh") && read(f).startsWith("#!/usr/bin/env sh") ? "sh" : "bash", ["-n", join(TEMPLATE_DIR, f)]);
  }
  // Apps.
  const report = resource(t, "coder_app", "report");
  assert.match(report.url as string, /^http:\/\/localhost:21180\/$/, "the server's root: a path app appends the request path to it");
  assert.match(read("startup.sh"), /SCALETEST_RESULTS_PORT \?\? 21180\)[\s\S]*listen\(port, "127\.0\.0\.1"/);
  const grafana = resource(t, "coder_app", "grafana");
  assert.match(grafana.url as string, /from=\$\{time_static\.start_time\.unix \* 1000\}&to=now/);
  assert.match(grafana.url as string, /data\.coder_parameter\.grafana_url\.value/);
  const cleanup = resource(t, "coder_app", "manual_cleanup");
  assert.match(cleanup.command as string, /manual-cleanup\.sh/);
  assert.match(read("startup.sh"), /manual-cleanup\.sh/);
  // Shutdown cleans up only for strategy on_stop, for the run this start made.
  const shutdown = read("shutdown.sh");
  assert.match(shutdown, /SCALETEST_CLEANUP_STRATEGY:-\}" == "on_stop"/);
  assert.match(shutdown, /tsx scenarios\/cleanup\.ts --run-id "\$run_id"/);
  // The pipeline is started detached, logging into the results dir.
  const startup = read("startup.sh");
  assert.match(startup, /setsid nohup bash "\$STATE\/pipeline\.sh" scripts\/run\.ts >"\$run_log" 2>&1 <\/dev\/null &/);
  // Every entry point through src/boot/register.mjs: no secret in tsx's esbuild service or any other child.
  assert.match(startup, /^TSX=\(node --import "\$\{SCALETEST_PROJECT_DIR:-\$PWD\}\/src\/boot\/register\.mjs"\)$/m);
  assert.match(startup, /"\$\{TSX\[@\]\}" scripts\/pprof\.ts &/);
  assert.match(startup, /"\$\{TSX\[@\]\}" scripts\/gather-logs\.ts/);
  for (const script of [startup, shutdown]) assert.match(script, /^tsx\(\) \{ node --import "\$PROJECT\/src\/boot\/register\.mjs" "\$@"; \}$/m);
  assert.match(startup, /run_log="\$RESULTS\/logs\/run-\$run_id\.log"/);
});

test("the Dockerfile's sources and every entry point the template runs exist", () => {
  const docker = read("Dockerfile");
  const copies = [...docker.matchAll(/^COPY\s+(.+)\s+\S+$/gm)].flatMap((m) => (m[1] as string).split(/\s+/));
  assert.ok(copies.includes("src") && copies.includes("scripts") && copies.includes("scenarios"));
  for (const src of copies) assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} exists in the repository`);
  // tsx is a runtime dependency, so `npm ci --omit=dev` installs it and its bin folder is on PATH for the scripts.
  assert.match(docker, /npm ci --omit=dev/);
  assert.match(docker, /^ENV PATH=\/opt\/scaletest-runner\/node_modules\/\.bin:\$PATH$/m, "tsx is on PATH for the scripts");
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  assert.ok(pkg.dependencies["tsx"], "tsx is a runtime dependency");
  assert.match(docker, /openssh-client/);
  assert.match(docker, /chromium/);
  assert.match(docker, /releases\/download\/v\$\{CODER_VERSION\}\/coder_/);
  // Chromium where the dashboard setting expects it.
  assert.match(docker, new RegExp(`SCALETEST_CHROMIUM_PATH=${SETTINGS.chromiumPath.default as string}`));
  const scripts = ["startup.sh", "shutdown.sh", "metadata_status.sh", "metadata_phase.sh", "metadata_previous_phase.sh", "Dockerfile", "README.md"];
  const entryPoints = new Set(scripts.flatMap((f) => [...read(f).matchAll(/\b((?:scripts|scenarios)\/[a-z-]+\.ts)\b/g)].map((m) => m[1] as string)));
  for (const ep of ["scripts/run.ts", "scripts/status.ts", "scenarios/cleanup.ts"]) assert.ok(entryPoints.has(ep), `the template uses ${ep}`);
  const missing = [...entryPoints].filter((ep) => !existsSync(join(ROOT, ep)));
  assert.deepEqual(missing, [], "entry points named by the template exist");
  for (const e of BUNDLE_ENTRIES) assert.ok(existsSync(join(ROOT, e)), `bundle entry ${e} exists`);
});

test("the template with its bundle stays under Coder's 1 MiB template limit", () => {
  // The bundle as `npm run template:bundle` builds it now (not whatever archive is lying around), plus every
  // template file Coder would upload besides it.
  const { archive, files } = bundleArchive();
  assert.ok(files > 50, `the bundle holds the project (${files} files)`);
  const total = templateUploadSize(archive.length);
  assert.ok(total < TEMPLATE_ARCHIVE_LIMIT * 0.9, `template + bundle is ${Math.round(total / 1024)} KiB; keep well under 1024 KiB`);
});

test("duration parameters accept Go durations and nothing else", () => {
  const re = new RegExp(DURATION_REGEX, "u");
  for (const ok of ["0", "0s", "30m", "1h30m", "2.5s", "250ms", "100µs", "1h0m0s"]) {
    assert.ok(re.test(ok), ok);
    parseDuration(ok); // and the runner agrees
  }
  for (const bad of ["", "5", "m", "1 h", "-1s", "1d", "30 m", "abc"]) assert.ok(!re.test(bad), bad);
  for (const p of parameterSpecs()) {
    if (p.setting.kind !== "duration" || p.setting.fallback) continue;
    assert.equal(parseDuration(p.defaultValue), p.setting.templateDefault ?? p.setting.default, p.name);
  }
});
