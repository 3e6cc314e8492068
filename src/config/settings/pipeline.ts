// The staged pipeline (scripts/run.ts): which scenarios, in what order, with what waits.
import { bool, duration, enumList, int, str } from "../setting.ts";

export const SCENARIOS = ["ssh", "web-terminal", "app", "dashboard"] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export const pipelineSettings = {
  scenarios: enumList({
    group: "pipeline",
    env: "SCALETEST_SCENARIOS",
    flag: "scenarios",
    scripts: ["run"],
    options: SCENARIOS,
    // The names Coder's runner template uses, so its parameter values work here too.
    aliases: {
      "SSH Traffic": "ssh",
      "Web Terminal Traffic": "web-terminal",
      "App Traffic": "app",
      "Dashboard Traffic": "dashboard",
    },
    default: ["ssh", "web-terminal", "app", "dashboard"],
    help: "Load scenarios to run, in order: ssh, web-terminal, app, dashboard (comma list or JSON array).",
  }),
  concurrent: bool({
    group: "pipeline",
    env: "SCALETEST_CONCURRENT",
    flag: "concurrent",
    scripts: ["run"],
    default: false,
    help: "Run the load scenarios together, each starting --stagger-delay after the previous one.",
  }),
  staggerDelay: duration({
    group: "pipeline",
    env: "SCALETEST_STAGGER_DELAY",
    flag: "stagger-delay",
    scripts: ["run"],
    default: "3m",
    max: "24h",
    help: "Concurrent mode: delay between the starts of consecutive scenarios.",
  }),
  baselineWait: duration({
    group: "pipeline",
    env: "SCALETEST_BASELINE_WAIT",
    flag: "baseline-wait",
    scripts: ["run"],
    default: "5m",
    max: "24h",
    help: "Quiet time after creating workspaces and after each sequential scenario, to see the baseline (0 skips).",
  }),
  greedyAgent: bool({
    group: "pipeline",
    env: "SCALETEST_GREEDY_AGENT",
    flag: "greedy-agent",
    scripts: ["run"],
    default: false,
    help: "Create one extra workspace and flood it with traffic during a third of each scenario (sequential mode only).",
  }),
  greedyAgentTemplate: str({
    group: "pipeline",
    env: "SCALETEST_GREEDY_AGENT_TEMPLATE",
    flag: "greedy-agent-template",
    scripts: ["run"],
    default: "kubernetes-medium-greedy",
    help: "Template of the greedy agent's workspace; must differ from --template.",
  }),
  greedyBytesPerTick: int({
    group: "pipeline",
    env: "SCALETEST_GREEDY_BYTES_PER_TICK",
    flag: "greedy-bytes-per-tick",
    scripts: ["run"],
    default: 26_214_400,
    min: 1,
    max: 33_554_432,
    help: "Greedy agent: bytes per tick of its flood (Coder's runner: 25 MiB every 40 ms).",
  }),
  greedyTickInterval: duration({
    group: "pipeline",
    env: "SCALETEST_GREEDY_TICK_INTERVAL",
    flag: "greedy-tick-interval",
    scripts: ["run"],
    default: "40ms",
    min: "1ms",
    max: "1h",
    help: "Greedy agent: time between ticks of its flood.",
  }),
  dryRun: bool({
    group: "pipeline",
    env: "SCALETEST_DRY_RUN",
    flag: "dry-run",
    scripts: ["run"],
    default: false,
    // Starting the runner workspace must not start a real test by accident (Coder's runner: dry_run true).
    templateDefault: true,
    templateEphemeral: true,
    help: "Print the plan (phases, what each creates or sends, expected duration) and create nothing.",
  }),
  comment: str({
    group: "pipeline",
    env: "SCALETEST_COMMENT",
    flag: "comment",
    scripts: ["run"],
    default: "",
    help: "Free text recorded in run.json, the report, annotations and webhook messages.",
  }),
  banner: bool({
    group: "pipeline",
    env: "SCALETEST_BANNER",
    flag: "banner",
    scripts: ["run"],
    default: true,
    help: "Show a service banner to the deployment's users while the test runs (previous banner restored after).",
  }),
} as const;
