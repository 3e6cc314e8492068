// The form's conditional parameters (Coder's dynamic parameters): each coder_parameter's generated `count` is
// evaluated from the parsed parameters.tf by real Terraform for a few selections, and the test checks which
// parameters the form shows. Hidden parameters pass their defaults (checked in test/helpers/template.ts).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { listDefault, parseTemplate } from "./helpers/template.ts";

const terraform = spawnSync("terraform", ["version"], { encoding: "utf8" }).status === 0;

/** The value Coder holds for a parameter left at its default (every value is a string). */
function asString(d: unknown): string {
  if (typeof d === "string" && d.startsWith("${jsonencode(")) return JSON.stringify(listDefault(d));
  return String(d ?? "");
}

const CASES: Record<string, Record<string, string>> = {
  defaults: {},
  sshOnly: { scenarios: '["ssh"]' },
  dashboardAdvanced: { scenarios: '["dashboard"]', show_advanced: "true" },
  sshAppEverything: { scenarios: '["ssh","app"]', show_advanced: "true", concurrent: "true", greedy_agent: "true" },
  command: { show_advanced: "true", run_command: "echo hi" },
  workspaceUpdates: { workspace_updates: "true", show_advanced: "true" },
  prebuildsTaskStatus: { prebuilds: "true", task_status: "true", show_advanced: "true" },
  notifications: { notifications: "true", show_advanced: "true" },
  capacity: { capacity: "true", show_advanced: "true" },
  autostart: { autostart: "true", show_advanced: "true" },
  dynamicParameters: { dynamic_parameters: "true", show_advanced: "true" },
};

test("conditional parameters: a scenario's settings only with it, fine print behind one toggle", { skip: terraform ? false : "terraform is not installed", timeout: 120_000 }, async () => {
  const t = await parseTemplate();
  const defaults = Object.fromEntries(Object.entries(t.params).map(([n, p]) => [n, asString(p.default)]));
  const ref = (name: string) => `lookup(v, "${name}", ${JSON.stringify(defaults[name] ?? "")})`;
  const expr = (count: string) =>
    count
      .replace(/^\$\{([\s\S]*)\}$/, "$1")
      .replace(/try\(data\.coder_parameter\.([a-z0-9_]+)\[0\]\.value, "(?:[^"\\]|\\.)*"\)/g, (_, n: string) => ref(n))
      .replace(/data\.coder_parameter\.([a-z0-9_]+)\.value/g, (_, n: string) => ref(n));
  const conditional = Object.entries(t.params).filter(([, p]) => p.count !== undefined);
  assert.ok(conditional.length > 30, `most parameters are conditional (${conditional.length})`);
  const mod = [
    'variable "cases" { type = map(map(string)) }',
    'output "counts" {',
    "  value = { for c, v in var.cases : c => {",
    ...conditional.map(([n, p]) => `    ${n} = ${expr(p.count as string)}`),
    "  } }",
    "}",
  ].join("\n");
  const dir = mkdtempSync(join(tmpdir(), "scaletest-conditions-"));
  let counts: Record<string, Record<string, number>>;
  try {
    writeFileSync(join(dir, "main.tf"), mod);
    writeFileSync(join(dir, "terraform.tfvars.json"), JSON.stringify({ cases: CASES }));
    execFileSync("terraform", ["apply", "-auto-approve", "-input=false", "-no-color"], { cwd: dir, stdio: "pipe", env: { ...process.env, TF_IN_AUTOMATION: "1" } });
    counts = JSON.parse(execFileSync("terraform", ["output", "-json", "counts"], { cwd: dir, encoding: "utf8" })) as typeof counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const shown = (c: string) => new Set(Object.keys(t.params).filter((n) => t.params[n]?.count === undefined || counts[c]?.[n] === 1));
  const has = (c: string, yes: string[], no: string[]) => {
    const s = shown(c);
    for (const n of yes) assert.ok(s.has(n), `${c}: ${n} shown`);
    for (const n of no) assert.ok(!s.has(n), `${c}: ${n} hidden`);
  };
  // The default form: the choices that matter, no fine print.
  const def = shown("defaults");
  process.stdout.write(`# default form: ${def.size} parameters\n`);
  assert.ok(def.size <= 19, `the default form shows ${def.size} parameters: ${[...def].join(", ")}`);
  has("defaults", ["scenarios", "workspaces", "template", "dry_run", "cleanup_strategy", "duration", "app_mode", "dashboard_mode", "show_advanced"],
    ["ssh_duration", "create_timeout", "job_timeout", "stagger_delay", "greedy_agent_template", "threshold_tick_p99", "run_timeout", "ramp"]);
  has("sshOnly", ["duration", "bytes_per_tick"], ["app_mode", "dashboard_mode", "dashboard_concurrency", "ssh_duration"]);
  has("dashboardAdvanced", ["dashboard_mode", "dashboard_interval", "threshold_dashboard_p95", "create_timeout"],
    ["duration", "ssh_duration", "threshold_tick_p99", "app_mode", "run_timeout"]);
  has("sshAppEverything", ["ssh_duration", "app_duration", "app_mode", "stagger_delay", "greedy_agent_template", "greedy_bytes_per_tick", "threshold_tick_p99", "job_concurrency"],
    ["web_terminal_duration", "dashboard_mode"]);
  // --job-concurrency: traffic fine print (not for a dashboard-only run).
  has("defaults", [], ["job_concurrency"]);
  has("dashboardAdvanced", [], ["job_concurrency"]);
  has("command", ["run_command", "run_timeout", "run_expect_output"], []);
  has("workspaceUpdates", ["workspace_updates_workspaces", "workspace_updates_timeout"], []);
  has("defaults", [], ["workspace_updates_workspaces", "workspace_updates_dial_timeout", "prebuilds", "task_status", "prebuilds_templates", "task_status_count", "notifications", "notifications_user_count", "autostart", "autostart_workspaces", "autostart_delay", "dynamic_parameters", "dynamic_parameters_concurrent_evaluations", "user_pool"]);
  has("prebuildsTaskStatus", ["prebuilds_templates", "prebuilds_presets", "prebuilds_preset_prebuilds", "task_status_count", "task_status_report_period"], []);
  has("notifications", ["notifications_user_count", "notifications_smtp_api_url", "notifications_dial_timeout"], []);
  // The capacity search: its toggle with the fine print, its settings only with the toggle on.
  has("capacity", ["capacity", "capacity_load", "capacity_mode", "capacity_steps", "capacity_max", "capacity_hold"], []);
  has("command", [], ["capacity_load", "capacity_steps"]);
  has("defaults", [], ["capacity", "capacity_load"]);
  has("autostart", ["autostart_workspaces", "autostart_delay", "autostart_timeout", "autostart_workspace_job_timeout"], []);
  has("dynamicParameters", ["dynamic_parameters_concurrent_evaluations", "dynamic_parameters_template", "dynamic_parameters_job_timeout"], ["workspace_updates_workspaces"]);
  // Every conditional parameter shows in at least one of these selections (no condition that never holds).
  const ever = new Set(Object.keys(CASES).flatMap((c) => [...shown(c)]));
  const never = conditional.map(([n]) => n).filter((n) => !ever.has(n) && !n.startsWith("web_terminal_"));
  assert.deepEqual(never, []);
});
