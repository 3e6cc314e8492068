// Derives the template's coder_parameters from the settings schema (src/config), so the parameter form, the
// agent's environment and the runner's flags can never disagree. `npm run template:gen` writes the result to
// template/parameters.tf; test/template.test.ts fails when the committed file is stale.
//
// Mapping (one rule for every setting):
//   parameter name  = the setting's env var without "SCALETEST_", lowercased (GRAFANA_URL -> grafana_url)
//   agent env       = SCALETEST_X = data.coder_parameter.x.value (local.parameter_env, merged into coder_agent.env)
//   type            = number (int, number), bool, string (string, enum with options, duration as a Go string
//                     like "30m"), list(string) (list; enum-list as a multi-select)
//   per-scenario overrides (settings with a fallback) are strings whose empty default means "use the shared value".
// Bounds the parameter form can check (whole numbers) go in validation blocks; the rest (durations, fractional
// numbers, overrides) are checked by a precondition at build time, and exactly by the runner when it starts.
import { SETTINGS, settingEntries, type SettingKey } from "../../src/config/schema.ts";
import type { Setting, SettingGroup } from "../../src/config/setting.ts";

export type ParameterType = "number" | "string" | "bool" | "list(string)";

export interface ParameterOption {
  name: string;
  value: string;
  description?: string;
}

export interface ParameterSpec {
  key: SettingKey;
  setting: Setting<unknown>;
  /** coder_parameter name and data source label. */
  name: string;
  env: string;
  displayName: string;
  description: string;
  type: ParameterType;
  /** The default as the parameter holds it (a string, as Coder stores every value). */
  defaultValue: string;
  mutable: boolean;
  ephemeral: boolean;
  order: number;
  formType?: "multi-select" | "tag-select";
  options?: ParameterOption[];
  /** Options from a template variable (the deployment's templates), rendered as a dynamic option block. */
  optionsFrom?: string;
  validation?: { min: number; max: number } | { regex: string; error: string };
  /** Shown only when this holds (Coder's dynamic parameters: `count` on the data source). */
  condition?: Condition;
  /** Checked by the build-time precondition (the form cannot). */
  bounds?: { kind: "duration"; min: string; max: string } | { kind: "number"; min: number; max: number };
}

/**
 * Pipeline settings deliberately without a parameter, and where their value comes from instead.
 * Settings that scripts/run.ts does not take at all (scenario-script-only flags such as --target-workspaces,
 * --output, --all) have no parameter either; see `withoutParameter()`.
 */
export const WITHOUT_PARAMETER: Partial<Record<SettingKey, string>> = {
  url: "The workspace's access URL (data.coder_workspace.me.access_url).",
  token: "A token minted at start for the workspace owner (startup.sh); never a parameter.",
  runId: "startup.sh generates a fresh run id for every start of the workspace.",
  resultsDir: "Fixed to /home/coder/results, on the persistent volume.",
  metricsAddress: "Fixed to 0.0.0.0:21112, the pod's `metrics` port that the PodMonitor scrapes.",
  shard: "Set per pod by scale-out Jobs; the runner itself is shard 0/1.",
  coderBinary: "The image puts the coder CLI on PATH.",
  chromiumPath: "The image installs Chromium at the default path.",
  grafanaToken: "Secret: Terraform variable `grafana_api_token`, given to the pod from a Kubernetes Secret.",
  webhookUrl: "Secret: Terraform variable `slack_webhook_url`, given to the pod from a Kubernetes Secret.",
  runnerImage: "The runner's own image (Terraform variable `runner_image`).",
};

/** Why a setting has no parameter, or undefined when it must have one. */
export function withoutParameter(key: SettingKey): string | undefined {
  const s = SETTINGS[key] as Setting<unknown>;
  if (!s.scripts.includes("run")) return `Not a pipeline setting (only ${s.scripts.join(", ")}).`;
  return WITHOUT_PARAMETER[key];
}

/** SCALETEST_TICK_INTERVAL -> tick_interval; GRAFANA_URL -> grafana_url. */
export function parameterName(env: string): string {
  return env.replace(/^SCALETEST_/, "").toLowerCase();
}

const GROUP_ORDER: Record<SettingGroup, number> = {
  pipeline: 100,
  create: 200,
  traffic: 300,
  dashboard: 400,
  thresholds: 500,
  cleanup: 600,
  deployment: 700,
  integrations: 800,
  "scale-out": 900,
};

/** Per-scenario overrides sort after the shared traffic settings, one block per scenario. */
const KIND_ORDER: Record<string, number> = { ssh: 340, web_terminal: 360, app: 380 };

const DISPLAY: Partial<Record<SettingKey, string>> = {
  scenarios: "Load scenarios",
  concurrent: "Run scenarios concurrently",
  staggerDelay: "Stagger delay (concurrent)",
  baselineWait: "Baseline wait",
  dryRun: "Dry run",
  banner: "Service banner while running",
  workspaces: "Number of workspaces",
  template: "Workspace template",
  parameters: "Workspace parameters",
  createConcurrency: "Create concurrency",
  jobConcurrency: "Job concurrency",
  createTimeout: "Create timeout",
  jobTimeout: "Per-workspace timeout",
  createRetry: "Build retries",
  noWaitForAgents: "Don't wait for agents",
  runCommand: "Command to run in each workspace",
  runTimeout: "Command timeout",
  duration: "Traffic duration",
  trafficTimeout: "Traffic hard timeout",
  appMode: "App traffic mode",
  reconnect: "Reconnect dropped connections",
  ramp: "Connection ramp-up",
  dashboardMode: "Dashboard traffic mode",
  dashboardConcurrency: "Dashboard users",
  thinkTime: "Think time (API mode)",
  dashboardInterval: "Page interval (browser mode)",
  dashboardJitter: "Page jitter (browser mode)",
  thresholdCreateSuccess: "Threshold: create success %",
  thresholdProvisionP95: "Threshold: provisioning p95",
  thresholdDashboardP95: "Threshold: dashboard p95",
  thresholdDashboardP99: "Threshold: dashboard p99",
  thresholdDashboardErrorRate: "Threshold: dashboard error %",
  thresholdTrafficErrorRate: "Threshold: traffic error %",
  thresholdTickP99: "Threshold: traffic tick p99",
  thresholds: "Thresholds (expressions)",
  cleanupStrategy: "Cleanup strategy",
  cleanupPrepare: "Clean up earlier runs first",
  skipCreateWorkspaces: "Skip creating workspaces",
  metricsWait: "Metrics linger",
  useHostLogin: "Use the runner's own user",
  grafanaUrl: "Grafana URL",
  runners: "Runner pods",
  namespace: "Namespace",
  greedyAgentTemplate: "Greedy agent template",
  capacity: "Capacity search",
  capacityLoad: "Capacity: load to step up",
  capacityMode: "Capacity: search mode",
  capacitySteps: "Capacity: step schedule",
  capacityStart: "Capacity: first step",
  capacityStep: "Capacity: step increment",
  capacityMax: "Capacity: largest step",
  capacityResolution: "Capacity: bisect resolution",
  capacityHold: "Capacity: hold per step",
};

// --- Conditional parameters -------------------------------------------------------------------------------
// The form shows a scenario's settings only when that scenario is selected, fine print only behind one toggle
// (parameter `show_advanced`), and settings that only matter with another one set (stagger delay with
// concurrent scenarios, the greedy agent's flood with the greedy agent). A hidden parameter's env var gets its
// default, so the runner sees the same values as if the form had shown it untouched.

/** A condition over other parameters' values, rendered as an HCL boolean expression. */
export type Condition =
  | { scenario: readonly string[] } // any of these scenarios is selected
  | { flag: string } // a bool parameter is true
  | { nonEmpty: string } // a string parameter is not empty
  | { advanced: true }
  | { all: Condition[] };

/** The UI-only toggle (no setting: it changes what the form shows, nothing else). */
export const ADVANCED_PARAMETER = "show_advanced";

const TRAFFIC_SCENARIOS = ["ssh", "web-terminal", "app"] as const;

/** Fine print: timeouts, retries, ramp, thresholds' details, per-scenario overrides, deployment knobs. */
const ADVANCED = new Set<SettingKey>([
  "banner", "greedyBytesPerTick", "greedyTickInterval", "parameters", "createTimeout", "jobTimeout", "createRetry",
  "noWaitForAgents", "runCommand", "runTimeout", "runExpectOutput", "runExpectTimeout", "runExpectOutputTimeout", "runLogOutput", "trafficTimeout", "ramp", "reconnect",
  "thinkTime", "dashboardInterval", "dashboardJitter", "cleanupConcurrency", "cleanupTimeout", "cleanupJobTimeout", "verbose",
  "metricsWait", "useHostLogin", "runners", "percentage", "dashboardPercentage", "tickInterval",
  "trustedOrigins", "prometheusUrl", "prometheusSelector", "namespace", "connectTimeout", "requestTimeout", "coderdMetricsUrls", "coderdMetricsDiscover", "coderdNamespace", "coderdMetricsPort",
  "coderdMetricsInterval", "cleanupPrepare", "skipCreateWorkspaces", "wuDialTimeout", "wuSetupConcurrency", "wuTemplate", "wuUpdatesTimeout",
  "pbPhase", "pbTemplateVersionJobTimeout", "pbWorkspaceTimeout", "tsPhase", "tsAppSlug", "tsWorkspaceTimeout",
  "ntPhase", "ntDialTimeout", "ntSetupTimeout", "ntSetupConcurrency", "ntSmtpRequestTimeout",
  // The capacity search is its own kind of run: its toggle sits with the fine print, its settings behind the toggle.
  "capacity",
  "asPhase", "asWorkspaceJobTimeout", "asTemplate", "asTimeout", "asWatch",
  "dpPhase", "dpProvisionerTags", "dpTimeout", "dpJobTimeout", "dpImportTimeout", "userPool",
  "app", "workspaceProxyUrl", "dashboardRandSeed",
  // Coder's runner shows job_concurrency up front; its default (0, all at once) is what a run wants unless the
  // deployment must be spared, so here it is fine print.
  "jobConcurrency",
] as SettingKey[]);

function conditionOf(key: SettingKey, s: Setting<unknown>, name: string): Condition | undefined {
  const parts: Condition[] = [];
  const kind = /^(ssh|web_terminal|app)_/.exec(name)?.[1];
  // The workspace-updates phase's own settings show only with it.
  if (/^wu[A-Z]/.test(key) && key !== "wuPhase") parts.push({ flag: "workspace_updates" });
  // Likewise the prebuilds and task-status phases' settings.
  else if (/^pb[A-Z]/.test(key) && key !== "pbPhase") parts.push({ flag: "prebuilds" });
  else if (/^ts[A-Z]/.test(key) && key !== "tsPhase") parts.push({ flag: "task_status" });
  else if (/^nt[A-Z]/.test(key) && key !== "ntPhase") parts.push({ flag: "notifications" });
  else if (/^as[A-Z]/.test(key) && key !== "asPhase") parts.push({ flag: "autostart" });
  else if (/^dp[A-Z]/.test(key) && key !== "dpPhase") parts.push({ flag: "dynamic_parameters" });
  else if (kind) parts.push({ scenario: [kind.replace("_", "-")] });
  else if (s.group === "dashboard" || /^thresholdDashboard/.test(key)) parts.push({ scenario: ["dashboard"] });
  else if (s.group === "traffic" || key === "thresholdTrafficErrorRate" || key === "thresholdTickP99") parts.push({ scenario: TRAFFIC_SCENARIOS });
  // The capacity search's own settings show only with it.
  if (/^capacity[A-Z]/.test(key)) parts.push({ flag: "capacity" });
  if (key === "staggerDelay") parts.push({ flag: "concurrent" });
  if (/^greedy(AgentTemplate|BytesPerTick|TickInterval)$/.test(key)) parts.push({ flag: "greedy_agent" });
  if (/^run(Timeout|ExpectOutput|ExpectTimeout|ExpectOutputTimeout|LogOutput)$/.test(key)) parts.push({ nonEmpty: "run_command" });
  if (ADVANCED.has(key) || s.group === "thresholds" || (kind && s.fallback)) parts.push({ advanced: true });
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { all: parts };
}

/** `data.coder_parameter.<name>.value`, through try() when that parameter may itself be hidden. */
function valueRef(name: string, specs: ReadonlyMap<string, ParameterSpec>): string {
  const p = specs.get(name);
  if (name === ADVANCED_PARAMETER) return `data.coder_parameter.${name}.value`;
  if (!p) throw new Error(`a condition refers to ${name}, which is no parameter`);
  return p.condition ? `try(data.coder_parameter.${name}[0].value, ${hclString(p.defaultValue)})` : `data.coder_parameter.${name}.value`;
}

export function conditionHcl(c: Condition, specs: ReadonlyMap<string, ParameterSpec>): string {
  if ("all" in c) return c.all.map((x) => `(${conditionHcl(x, specs)})`).join(" && ");
  if ("advanced" in c) return `${valueRef(ADVANCED_PARAMETER, specs)} == "true"`;
  if ("flag" in c) return `${valueRef(c.flag, specs)} == "true"`;
  if ("nonEmpty" in c) return `${valueRef(c.nonEmpty, specs)} != ""`;
  const list = `jsondecode(${valueRef("scenarios", specs)})`;
  return c.scenario.map((sc) => `contains(${list}, ${hclString(sc)})`).join(" || ");
}

/**
 * Settings whose values are offered as a list the template is pushed with (the provider's options must be known
 * at plan time; Coder has no data source listing a deployment's templates). An empty list leaves free text.
 */
const OPTIONS_FROM: Partial<Record<SettingKey, string>> = {
  template: "var.workspace_templates",
  greedyAgentTemplate: "var.workspace_templates",
};

const WORDS: Record<string, string> = { ssh: "SSH", app: "App", web: "Web", dashboard: "Dashboard" };

function displayName(key: SettingKey, s: Setting<unknown>): string {
  const fixed = DISPLAY[key];
  if (fixed) return fixed;
  const words = s.flag.split("-").map((w) => WORDS[w] ?? w);
  const text = words.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const OPTION_TEXT: Record<string, Record<string, [string, string]>> = {
  cleanupStrategy: {
    always: ["Always", "Delete what the run created when the pipeline ends, passed or failed."],
    on_success: ["On success", "Delete only if the run passed; keep everything for inspection after a failure."],
    on_error: ["On error", "Delete only if the run failed."],
    on_stop: ["On stop", "Keep everything until the runner workspace is stopped; its shutdown script deletes it."],
  },
  appMode: {
    wsec: ["WebSocket echo", "Send traffic through the app's websocket and read it back."],
    wsra: ["WebSocket read (random)", "The app streams random data; only read."],
    wsdi: ["WebSocket write (discard)", "Only send; the app discards it."],
  },
  dashboardMode: {
    api: ["API calls", "Issue the API calls each dashboard page makes (light, many users)."],
    browser: ["Headless Chromium", "Drive a real browser through the pages (heavy, few users)."],
  },
  capacityLoad: {
    builds: ["Concurrent builds", "Each step creates that many workspaces at once."],
    workspaces: ["Workspaces", "Each step adds workspaces up to its total."],
    "web-terminal": ["Web terminal connections", "Connections over the run's workspaces, one each, held for the step."],
    ssh: ["SSH connections", "`coder ssh` connections over the run's workspaces, one each, held for the step."],
    app: ["App connections", "App websocket connections over the run's workspaces, one each, held for the step."],
    dashboard: ["Dashboard users", "Users browsing the dashboard, held for the step."],
  },
  capacityMode: {
    schedule: ["Schedule", "Step through the schedule; stop at the first failing step."],
    bisect: ["Double, then bisect", "Double until a step fails, then bisect between the last good and the first bad step."],
  },
  scenarios: {
    ssh: ["SSH traffic", "Echo traffic over `coder ssh` to each workspace."],
    "web-terminal": ["Web terminal traffic", "Traffic over the reconnecting-PTY websocket, as the web terminal sends it."],
    app: ["App traffic", "Websocket traffic to a workspace app (see App traffic mode)."],
    dashboard: ["Dashboard traffic", "Users browsing the Coder dashboard."],
  },
};

/** The units DURATION_REGEX accepts (Go's, as the runner's parser); the error messages list them all. */
export const DURATION_UNITS = ["ns", "us", "µs", "ms", "s", "m", "h"] as const;
export const DURATION_REGEX = `^(0|([0-9]+(\\.[0-9]+)?(${DURATION_UNITS.join("|")}))+)$`;
const UNITS_TEXT = `units ${DURATION_UNITS.join(", ")}`;
const INT_REGEX = "^[0-9]+$";
const NUMBER_REGEX = "^[0-9]+(\\.[0-9]+)?$";
const optional = (re: string) => `^$|${re}`;

/** The longest duration the precondition compares against when a setting has no maximum. */
const NO_MAX_DURATION = "876000h";

function showBound(s: Setting<unknown>, n: number): string {
  return (s.show as (v: number) => string)(n);
}

function boundsText(s: Setting<unknown>): string {
  if (s.min === undefined || s.max === undefined) return "";
  return ` Allowed: ${showBound(s, s.min)} to ${showBound(s, s.max)}.`;
}

export function parameterSpecs(): ParameterSpec[] {
  const specs: ParameterSpec[] = [];
  const perGroup = new Map<number, number>();
  for (const [key, s] of settingEntries()) {
    if (withoutParameter(key) !== undefined) continue;
    const name = parameterName(s.env);
    const kind = /^(ssh|web_terminal|app)_/.exec(name)?.[1];
    const base = kind && s.fallback ? (KIND_ORDER[kind] as number) : GROUP_ORDER[s.group];
    const n = perGroup.get(base) ?? 0;
    perGroup.set(base, n + 1);
    const spec: ParameterSpec = {
      key,
      setting: s,
      name,
      env: s.env,
      displayName: displayName(key, s),
      description: "",
      type: "string",
      defaultValue: "",
      mutable: key !== "namespace",
      ephemeral: key === "comment" || s.templateEphemeral === true,
      order: base + n,
    };
    let help = s.help;
    if (s.fallback) {
      const shared = SETTINGS[s.fallback as SettingKey] as Setting<unknown>;
      help += ` Leave empty to use "${displayName(s.fallback as SettingKey, shared)}".`;
      spec.type = "string";
      spec.defaultValue = "";
      if (s.kind === "duration") {
        spec.validation = { regex: optional(DURATION_REGEX), error: `Use a duration such as 30s, 5m or 1h30m (${UNITS_TEXT}), or leave empty.` };
        spec.bounds = { kind: "duration", min: showBound(s, s.min ?? 0), max: s.max === undefined ? NO_MAX_DURATION : showBound(s, s.max) };
      } else if (s.kind === "int" || s.kind === "number") {
        const re = s.kind === "int" ? INT_REGEX : NUMBER_REGEX;
        spec.validation = { regex: optional(re), error: `Use a ${s.kind === "int" ? "whole " : ""}number, or leave empty.` };
        spec.bounds = { kind: "number", min: s.min as number, max: s.max as number };
      } else {
        throw new Error(`${key}: no parameter mapping for a ${s.kind} setting with a fallback`);
      }
      help += boundsText(s);
    } else {
      // The template's own default where the schema declares one (safer at scale), else the scripts' default.
      const def = s.templateDefault ?? s.default;
      switch (s.kind) {
        case "int":
          spec.type = "number";
          spec.defaultValue = s.show(def);
          spec.validation = { min: s.min as number, max: s.max as number };
          break;
        case "number":
          // Coder's min/max validation accepts whole numbers only; fractional bounds go to the precondition.
          spec.type = "number";
          spec.defaultValue = s.show(def);
          spec.bounds = { kind: "number", min: s.min as number, max: s.max as number };
          help += boundsText(s);
          break;
        case "bool":
          spec.type = "bool";
          spec.defaultValue = s.show(def);
          break;
        case "string":
          spec.type = "string";
          spec.defaultValue = def === undefined ? "" : s.show(def);
          break;
        case "duration":
          spec.type = "string";
          spec.defaultValue = s.show(def);
          spec.validation = { regex: DURATION_REGEX, error: `Use a duration such as 30s, 5m or 1h30m (${UNITS_TEXT}).` };
          spec.bounds = { kind: "duration", min: showBound(s, s.min ?? 0), max: s.max === undefined ? NO_MAX_DURATION : showBound(s, s.max) };
          help += boundsText(s);
          break;
        case "enum":
          spec.type = "string";
          spec.defaultValue = s.show(def);
          spec.options = options(key, s);
          break;
        case "enum-list":
          spec.type = "list(string)";
          spec.formType = "multi-select";
          spec.defaultValue = JSON.stringify(def);
          spec.options = options(key, s);
          break;
        case "list":
          spec.type = "list(string)";
          spec.formType = "tag-select";
          spec.defaultValue = JSON.stringify(def);
          break;
      }
    }
    const cond = conditionOf(key, s, name);
    if (cond) spec.condition = cond;
    const from = OPTIONS_FROM[key];
    if (from) {
      spec.optionsFrom = from;
      help += ` Choose from the templates listed when the template was pushed (variable ${from.replace(/^var\./, "")}).`;
    }
    spec.description = `${help} (env \`${s.env}\`)`;
    specs.push(spec);
  }
  return specs.sort((a, b) => a.order - b.order);
}

function options(key: SettingKey, s: Setting<unknown>): ParameterOption[] {
  return (s.options ?? []).map((value) => {
    const text = OPTION_TEXT[key]?.[value];
    return text ? { name: text[0], value, description: text[1] } : { name: value, value };
  });
}

/** An HCL string literal (JSON escapes plus Terraform's template sequences). */
export function hclString(s: string): string {
  return JSON.stringify(s).replace(/\$\{/g, "$${").replace(/%\{/g, "%%{");
}

function hclDefault(p: ParameterSpec): string {
  switch (p.type) {
    case "number":
      return p.defaultValue;
    case "bool":
      return p.defaultValue;
    case "list(string)":
      return `jsonencode([${(JSON.parse(p.defaultValue) as string[]).map((v) => hclString(v)).join(", ")}])`;
    default:
      return hclString(p.defaultValue);
  }
}

function renderParameter(p: ParameterSpec, specs: ReadonlyMap<string, ParameterSpec>): string {
  const lines = [`data "coder_parameter" "${p.name}" {`];
  if (p.condition) lines.push(`  count        = ${conditionHcl(p.condition, specs)} ? 1 : 0`);
  lines.push(
    `  name         = ${hclString(p.name)}`,
    `  display_name = ${hclString(p.displayName)}`,
    `  description  = ${hclString(p.description)}`,
    `  type         = ${hclString(p.type)}`,
  );
  if (p.formType) lines.push(`  form_type    = ${hclString(p.formType)}`);
  lines.push(`  default      = ${hclDefault(p)}`);
  lines.push(`  mutable      = ${p.mutable}`);
  if (p.ephemeral) lines.push(`  ephemeral    = true`);
  lines.push(`  order        = ${p.order}`);
  if (p.validation) {
    lines.push("", "  validation {");
    if ("regex" in p.validation) {
      lines.push(`    regex = ${hclString(p.validation.regex)}`, `    error = ${hclString(p.validation.error)}`);
    } else {
      lines.push(`    min = ${p.validation.min}`, `    max = ${p.validation.max}`);
    }
    lines.push("  }");
  }
  if (p.optionsFrom) {
    lines.push(
      "",
      '  dynamic "option" {',
      `    for_each = ${p.optionsFrom}`,
      "    content {",
      "      name  = option.value",
      "      value = option.value",
      "    }",
      "  }",
    );
  }
  for (const o of p.options ?? []) {
    // Aligned as `terraform fmt` aligns: to the longest key present.
    const k = pad(o.description ? ["name", "value", "description"] : ["name", "value"]);
    lines.push("", "  option {", `    ${k("name")} = ${hclString(o.name)}`, `    ${k("value")} = ${hclString(o.value)}`);
    if (o.description) lines.push(`    ${k("description")} = ${hclString(o.description)}`);
    lines.push("  }");
  }
  lines.push("}");
  return lines.join("\n");
}

function pad(keys: string[]): (k: string) => string {
  const w = Math.max(...keys.map((k) => k.length));
  return (k) => k.padEnd(w);
}

/** The whole of template/parameters.tf. */
export function renderParametersTf(): string {
  const specs = parameterSpecs();
  const byName = new Map(specs.map((p) => [p.name, p]));
  const envPad = pad(specs.map((p) => p.env));
  const durations = specs.filter((p) => p.bounds?.kind === "duration");
  const numbers = specs.filter((p) => p.bounds?.kind === "number");
  const durPad = pad(durations.map((p) => p.env));
  const numPad = pad(numbers.map((p) => p.env));
  const out: string[] = [
    "# GENERATED by `npm run template:gen` (template/tools/parameters.ts) from the settings schema in src/config.",
    "# Do not edit: change the schema and regenerate. test/template.test.ts fails when this file is stale.",
    "",
    'data "coder_parameter" "show_advanced" {',
    `  name         = "${ADVANCED_PARAMETER}"`,
    '  display_name = "Show advanced settings"',
    '  description  = "Timeouts, retries, ramp-up, per-scenario overrides, thresholds and other fine print. Hidden settings keep their defaults."',
    '  type         = "bool"',
    "  default      = false",
    "  mutable      = true",
    "  ephemeral    = true",
    "  order        = 1",
    "}",
    "",
    ...specs.map((p) => `${renderParameter(p, byName)}\n`),
    "locals {",
    "  # Every parameter, by the environment variable the runner reads (merged into coder_agent.main.env).",
    "  parameter_env = {",
    // A hidden parameter (count = 0) passes its default.
    ...specs.map((p) => `    ${envPad(p.env)} = ${valueRef(p.name, byName)}`),
    "  }",
    "",
    "  # Bounds the parameter form cannot enforce (Go durations, fractional numbers, optional overrides).",
    "  # Durations are compared through timeadd(), i.e. to the second; the runner re-checks exactly at start.",
    "  duration_bounds = {",
    ...durations.map((p) => {
      const b = p.bounds as { min: string; max: string };
      return `    ${durPad(p.env)} = { name = ${hclString(p.displayName)}, min = ${hclString(b.min)}, max = ${hclString(b.max)} }`;
    }),
    "  }",
    "  number_bounds = {",
    ...numbers.map((p) => {
      const b = p.bounds as { min: number; max: number };
      return `    ${numPad(p.env)} = { name = ${hclString(p.displayName)}, min = ${b.min}, max = ${b.max} }`;
    }),
    "  }",
    "",
    '  bounds_epoch = "2000-01-01T00:00:00Z"',
    "  parameters_out_of_bounds = concat(",
    "    [for env, b in local.duration_bounds : \"${b.name} must be between ${b.min} and ${b.max} (got ${local.parameter_env[env]})\"",
    "      if local.parameter_env[env] != \"\" && !try(",
    "        timecmp(timeadd(local.bounds_epoch, local.parameter_env[env]), timeadd(local.bounds_epoch, b.min)) >= 0 &&",
    "        timecmp(timeadd(local.bounds_epoch, local.parameter_env[env]), timeadd(local.bounds_epoch, b.max)) <= 0,",
    "      false)",
    "    ],",
    "    [for env, b in local.number_bounds : \"${b.name} must be between ${b.min} and ${b.max} (got ${local.parameter_env[env]})\"",
    "      if local.parameter_env[env] != \"\" && !try(tonumber(local.parameter_env[env]) >= b.min && tonumber(local.parameter_env[env]) <= b.max, false)",
    "    ],",
    "  )",
    "}",
    "",
    "# Refuses to build (before the pod starts) when a parameter is out of the schema's bounds.",
    'resource "terraform_data" "parameter_bounds" {',
    "  count = data.coder_workspace.me.start_count",
    "  lifecycle {",
    "    precondition {",
    "      condition     = length(local.parameters_out_of_bounds) == 0",
    '      error_message = "Parameters out of bounds: ${join("; ", local.parameters_out_of_bounds)}."',
    "    }",
    "  }",
    "}",
    "",
  ];
  return out.join("\n");
}

/** Markdown table of the parameters for template/README.md (kept in step by a test). */
export function parametersMarkdown(): string {
  const rows = ["| Parameter | Env var | Type | Default | Description |", "| --- | --- | --- | --- | --- |"];
  for (const p of parameterSpecs()) {
    const def = p.setting.fallback ? "(shared value)" : p.defaultValue === "" ? '""' : `\`${p.defaultValue}\``;
    const help = p.description.replace(/ \(env `[A-Z_]+`\)$/, "").replace(/\|/g, "\\|");
    rows.push(`| ${p.displayName} (\`${p.name}\`) | \`${p.env}\` | ${p.type} | ${def} | ${help} |`);
  }
  return rows.join("\n");
}

/** Markdown list of pipeline settings without a parameter, and where each comes from. */
export function withoutParameterMarkdown(): string {
  return settingEntries()
    .filter(([key, s]) => s.scripts.includes("run") && WITHOUT_PARAMETER[key] !== undefined)
    .map(([key, s]) => `- \`${s.env}\`: ${WITHOUT_PARAMETER[key]}`)
    .join("\n");
}
