/**
 * The metric names runners produce, for thresholds and the README. A threshold naming a metric not listed
 * here is refused before the run starts (a typo would otherwise only show up as "no data" at the end).
 * New load types and server-side metrics (e.g. coderd.api) add their entries here.
 */
import type { ValueUnit } from "../results/metric-set.ts";
import { parseThresholds, type ThresholdSpec } from "./parse.ts";
import { DEFAULT_STAT, specProblem, type MetricType } from "./rules.ts";

/** The runner (phase kind) that produces a metric; also the metric's first name segment. */
export type MetricRunner = "create" | "ssh" | "web-terminal" | "app" | "dashboard" | "cleanup" | "workspace-updates" | "prebuilds" | "task-status" | "notifications" | "autostart" | "dynamic-parameters" | "create-users" | "coderd";

export interface CatalogEntry {
  name: string;
  runner: MetricRunner;
  type: MetricType;
  /** Latencies are in ms. */
  unit: ValueUnit | "ms";
  /** Label names its series carry ([] = one unlabelled series). */
  labels: readonly string[];
  help: string;
}

const TRAFFIC_KINDS = ["ssh", "web-terminal", "app"] as const;

function traffic(kind: (typeof TRAFFIC_KINDS)[number]): CatalogEntry[] {
  const e = (name: string, type: MetricType, unit: CatalogEntry["unit"], labels: string[], help: string): CatalogEntry => ({
    name: `${kind}.${name}`,
    runner: kind,
    type,
    unit,
    labels,
    help,
  });
  return [
    e("tick", "latency", "ms", [], "Tick latency: from when a tick was due (intended schedule) to its echo or completed write."),
    e("dial", "latency", "ms", [], "Time to open a connection (first dials and redials)."),
    e("connection_error_rate", "rate", "ratio", [], "Connections not connected at the end (never connected, or dropped for good) of all connections."),
    e("tick_loss_rate", "rate", "ratio", [], "Ticks that fell due and never completed, of all ticks due."),
    e("drops", "counter", "count", [], "Connections that ended unexpectedly before the end of the run."),
    e("reconnects", "counter", "count", [], "Successful redials after a drop."),
    e("errors", "counter", "count", ["type"], "Failed dials, reads and writes (type: dial, read, write)."),
    e("bytes", "counter", "bytes", ["direction"], "Bytes sent and received (direction: write, read)."),
    e("throughput", "gauge", "bytes/s", ["direction"], "Bytes per second over the time actually run (direction: write, read)."),
  ];
}

export const METRIC_CATALOG: readonly CatalogEntry[] = [
  { name: "create.user", runner: "create", type: "latency", unit: "ms", labels: [], help: "POST /users: creating a scale-test user." },
  { name: "create.login", runner: "create", type: "latency", unit: "ms", labels: [], help: "POST /users/login: the new user logs in with its password." },
  { name: "create.request", runner: "create", type: "latency", unit: "ms", labels: [], help: "POST /users/{user}/workspaces: the create call." },
  { name: "create.queue", runner: "create", type: "latency", unit: "ms", labels: [], help: "Build job created to started (waiting for a provisioner)." },
  { name: "create.build", runner: "create", type: "latency", unit: "ms", labels: [], help: "Build job started to completed." },
  { name: "create.agent", runner: "create", type: "latency", unit: "ms", labels: [], help: "Build completed to every agent connected and ready." },
  { name: "create.command", runner: "create", type: "latency", unit: "ms", labels: [], help: "--run-command over the web terminal: open to the command's exit." },
  { name: "create.provision", runner: "create", type: "latency", unit: "ms", labels: [], help: "One workspace from start to ready (user, create call, queue, build, agents)." },
  { name: "create.success_rate", runner: "create", type: "rate", unit: "ratio", labels: [], help: "Workspaces created and ready, of those asked for." },
  { name: "create.failures", runner: "create", type: "counter", unit: "count", labels: ["stage"], help: "Workspaces that failed, by the stage that failed." },
  { name: "create.retries", runner: "create", type: "counter", unit: "count", labels: [], help: "Build attempts beyond the first." },
  ...TRAFFIC_KINDS.flatMap(traffic),
  { name: "dashboard.page", runner: "dashboard", type: "latency", unit: "ms", labels: ["page"], help: "Page load time: every API call of the page settled (failed views included)." },
  { name: "dashboard.request", runner: "dashboard", type: "latency", unit: "ms", labels: ["endpoint"], help: "One API call of a page, by route template." },
  { name: "dashboard.error_rate", runner: "dashboard", type: "rate", unit: "ratio", labels: ["page"], help: "Failed page views of all page views." },
  { name: "dashboard.views", runner: "dashboard", type: "counter", unit: "count", labels: ["page"], help: "Page views." },
  { name: "dashboard.websockets", runner: "dashboard", type: "counter", unit: "count", labels: ["endpoint", "event"], help: "Websockets the pages opened (api mode), by route template and event: opened, failed, held until the page was left, ended by the server." },
  { name: "cleanup.delete", runner: "cleanup", type: "latency", unit: "ms", labels: ["kind"], help: "Deleting one resource over all its attempts (kind: workspace, user, template)." },
  { name: "cleanup.failures", runner: "cleanup", type: "counter", unit: "count", labels: ["kind"], help: "Deletions that failed after every retry." },
  { name: "workspace-updates.latency", runner: "workspace-updates", type: "latency", unit: "ms", labels: ["num_owned_workspaces"], help: "Build start to the last WorkspaceUpdates upsert naming the workspace, on the owner stream, as Coder computes it." },
  { name: "workspace-updates.errors", runner: "workspace-updates", type: "counter", unit: "count", labels: ["action"], help: "Failed users by Coder action name (dial, recv, context_done, unexpected_workspace) and setup steps." },
  { name: "workspace-updates.error_rate", runner: "workspace-updates", type: "rate", unit: "ratio", labels: [], help: "Users whose stream or setup failed, of all users." },
  { name: "prebuilds.fill", runner: "prebuilds", type: "latency", unit: "ms", labels: [], help: "Reconciliation unpaused to every preset of a template having its prebuilt workspaces (one sample per template)." },
  { name: "prebuilds.drain", runner: "prebuilds", type: "latency", unit: "ms", labels: [], help: "Reconciliation unpaused with the preset-less version active to no prebuilt workspace left (one sample per template)." },
  { name: "prebuilds.failed_builds", runner: "prebuilds", type: "counter", unit: "count", labels: [], help: "Prebuilt workspaces whose start build failed or was canceled (distinct workspaces)." },
  { name: "prebuilds.failed_deletions", runner: "prebuilds", type: "counter", unit: "count", labels: [], help: "Delete builds of prebuilt workspaces seen failed during the drain." },
  { name: "prebuilds.errors", runner: "prebuilds", type: "counter", unit: "count", labels: ["action"], help: "Failed templates by Coder action name (create_template_version, create_template, wait_for_workspaces, wait_for_workspace_deletion, ...)." },
  { name: "prebuilds.error_rate", runner: "prebuilds", type: "rate", unit: "ratio", labels: [], help: "Templates that did not fill and drain, of all templates." },
  { name: "task-status.latency", runner: "task-status", type: "latency", unit: "ms", labels: [], help: "A status update sent (PATCH app-status) to the workspace watch showing it as latest_app_status." },
  { name: "task-status.missing", runner: "task-status", type: "counter", unit: "count", labels: [], help: "Status updates sent but never shown by the workspace watch." },
  { name: "task-status.missing_rate", runner: "task-status", type: "rate", unit: "ratio", labels: [], help: "Missing status updates of all sent." },
  { name: "task-status.report_errors", runner: "task-status", type: "counter", unit: "count", labels: [], help: "Status updates the deployment refused or that could not be sent." },
  { name: "task-status.errors", runner: "task-status", type: "counter", unit: "count", labels: ["action"], help: "Failed workspaces by step (create_workspace, wait_build, external_agent, credentials, watch)." },
  { name: "notifications.latency", runner: "notifications", type: "latency", unit: "ms", labels: ["notification_type"], help: "Trigger (the template delete returning) to the admin receipt of the template deleted notification, by notification_type (websocket, smtp)." },
  { name: "notifications.missing", runner: "notifications", type: "counter", unit: "count", labels: ["notification_type"], help: "Template admins whose notification had not arrived by the timeout, by notification_type." },
  { name: "notifications.errors", runner: "notifications", type: "counter", unit: "count", labels: ["action"], help: "Errors by Coder action name (dial, read_notification_websocket, smtp_poll, create_user and so on) plus trigger and timeout." },
  { name: "notifications.error_rate", runner: "notifications", type: "rate", unit: "ratio", labels: [], help: "Users whose setup, socket or receipt failed, of all users." },
  { name: "autostart.total", runner: "autostart", type: "latency", unit: "ms", labels: [], help: "Scheduled autostart minute to the autostart build done, per workspace (Coder trigger_to_completion and total latency)." },
  { name: "autostart.job_created", runner: "autostart", type: "latency", unit: "ms", labels: [], help: "Scheduled autostart minute to the autostart build job first seen (Coder job creation latency)." },
  { name: "autostart.job_acquired", runner: "autostart", type: "latency", unit: "ms", labels: [], help: "Scheduled autostart minute to the autostart job picked up by a provisioner (Coder job acquired latency)." },
  { name: "autostart.end_to_end", runner: "autostart", type: "latency", unit: "ms", labels: [], help: "The workspace schedule set to its autostart build done (Coder end_to_end latency)." },
  { name: "autostart.errors", runner: "autostart", type: "counter", unit: "count", labels: ["action"], help: "Failed workspaces by Coder action name (wait_for_autostart_build for late ones)." },
  { name: "autostart.late", runner: "autostart", type: "counter", unit: "count", labels: [], help: "Workspaces whose autostart build was not done by the autostart timeout after the scheduled minute." },
  { name: "autostart.error_rate", runner: "autostart", type: "rate", unit: "ratio", labels: [], help: "Workspaces that failed (setup, schedule or autostart), of all workspaces." },
  { name: "dynamic-parameters.initial", runner: "dynamic-parameters", type: "latency", unit: "ms", labels: ["concurrent_evaluations"], help: "Opening the dynamic-parameters websocket to its initial evaluation (dial included), as Coder measures it." },
  { name: "dynamic-parameters.change", runner: "dynamic-parameters", type: "latency", unit: "ms", labels: ["concurrent_evaluations"], help: "The initial evaluation to the response to one parameter change, as Coder measures it." },
  { name: "dynamic-parameters.errors", runner: "dynamic-parameters", type: "counter", unit: "count", labels: ["stage"], help: "Failed sessions by stage (connect, initial, change); a diagnostic or a missing zero parameter fails one." },
  { name: "dynamic-parameters.error_rate", runner: "dynamic-parameters", type: "rate", unit: "ratio", labels: [], help: "Failed sessions of all sessions." },
  { name: "create-users.create", runner: "create-users", type: "latency", unit: "ms", labels: [], help: "POST /users for one pool user." },
  { name: "create-users.login", runner: "create-users", type: "latency", unit: "ms", labels: [], help: "POST /users/login of a new pool user with a fresh client." },
  { name: "create-users.role", runner: "create-users", type: "latency", unit: "ms", labels: [], help: "PUT /users/{user}/roles making a pool user a template admin." },
  { name: "create-users.error_rate", runner: "create-users", type: "rate", unit: "ratio", labels: [], help: "Pool users that could not be made, of all asked for." },
  { name: "cleanup.remaining", runner: "cleanup", type: "gauge", unit: "count", labels: [], help: "Resources of the run still present after cleanup." },
  // Server side: coderd's own metrics over each phase's window (src/metrics/coderd), judged in every runner phase.
  { name: "coderd.api", runner: "coderd", type: "latency", unit: "ms", labels: ["route"], help: "coderd_api_request_latencies_seconds by route pattern (path; methods and replicas merged by summing buckets); websockets excluded." },
  { name: "coderd.api.requests", runner: "coderd", type: "counter", unit: "count", labels: ["code"], help: "coderd_api_requests_processed_total in the phase, by status code." },
  { name: "coderd.db", runner: "coderd", type: "latency", unit: "ms", labels: ["query"], help: "coderd_db_query_latencies_seconds by query (needs CODER_PROMETHEUS_COLLECT_DB_METRICS=true on coderd)." },
  { name: "coderd.provisioner.queue", runner: "coderd", type: "latency", unit: "ms", labels: [], help: "coderd_provisioner_job_queue_wait_seconds: job created to acquired by a provisioner." },
  { name: "coderd.provisioner.build", runner: "coderd", type: "latency", unit: "ms", labels: [], help: "coderd_provisionerd_job_timings_seconds: provisioner job duration." },
  { name: "coderd.cpu", runner: "coderd", type: "gauge", unit: "count", labels: ["replica"], help: "Cores used by each coderd replica (process_cpu_seconds_total rate), the largest over the scrape intervals of the phase." },
  { name: "coderd.memory", runner: "coderd", type: "gauge", unit: "bytes", labels: ["replica"], help: "process_resident_memory_bytes of each coderd replica, the largest seen in the phase." },
  { name: "coderd.goroutines", runner: "coderd", type: "gauge", unit: "count", labels: ["replica"], help: "go_goroutines of each coderd replica, the largest seen in the phase." },
  { name: "coderd.concurrent_requests", runner: "coderd", type: "gauge", unit: "count", labels: ["replica"], help: "coderd_api_concurrent_requests (all routes) of each replica, the largest seen in the phase." },
  { name: "coderd.concurrent_websockets", runner: "coderd", type: "gauge", unit: "count", labels: ["replica"], help: "coderd_api_concurrent_websockets (all routes) of each replica, the largest seen in the phase." },
];

const BY_NAME = new Map(METRIC_CATALOG.map((e) => [e.name, e]));

export function catalogEntry(name: string): CatalogEntry | undefined {
  return BY_NAME.get(name);
}

/** The runner whose metrics a threshold reads (by catalog entry, else the first name segment). */
export function runnerOf(metric: string): string {
  return BY_NAME.get(metric)?.runner ?? metric.split(".")[0]!;
}

/** The thresholds that concern one runner's phase. */
export function thresholdsFor<T extends Pick<ThresholdSpec, "metric">>(specs: readonly T[], runner: string): T[] {
  return specs.filter((s) => runnerOf(s.metric) === runner);
}

function suggest(name: string): string {
  const prefix = name.split(".")[0];
  const same = METRIC_CATALOG.filter((e) => e.runner === prefix).map((e) => e.name);
  if (same.length) return ` (${prefix} metrics: ${same.join(", ")})`;
  return ` (metrics start with ${[...new Set(METRIC_CATALOG.map((e) => e.runner))].join(", ")})`;
}

/** Null when the spec reads a catalog metric sensibly; else what is wrong. */
export function catalogProblem(spec: ThresholdSpec): string | null {
  const e = BY_NAME.get(spec.metric);
  if (!e) return `unknown metric ${spec.metric}${suggest(spec.metric)}`;
  if (spec.selector.kind === "labels") {
    const bad = Object.keys(spec.selector.labels).filter((k) => !e.labels.includes(k));
    if (bad.length) {
      return e.labels.length
        ? `${e.name} has no label ${bad.join(", ")}: its labels are ${e.labels.join(", ")}`
        : `${e.name} has no labels: drop the {...}`;
    }
  }
  return specProblem(spec, e.type, e.unit);
}

/**
 * Parses expressions and checks them against the catalog; every problem is reported in one BadInputError
 * naming the expression. What the settings loader calls, so bad thresholds stop a run before it starts.
 */
export function validateThresholds(texts: readonly string[]): ThresholdSpec[] {
  return parseThresholds(texts, catalogProblem);
}

function statsText(e: CatalogEntry): string {
  return e.type === "latency" ? "p50 p90 p95 p99 max min mean count" : `${DEFAULT_STAT[e.type]} (default)`;
}

/** The catalog as a Markdown table for the README. */
export function catalogMarkdown(): string {
  const rows = METRIC_CATALOG.map((e) => {
    const name = e.name.replace(/^(ssh|web-terminal|app)\./, "<kind>.");
    return { name, e };
  }).filter((r, i, all) => all.findIndex((x) => x.name === r.name) === i);
  const lines = [
    "| Metric | Type | Unit | Labels | Stats | Meaning |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      ({ name, e }) =>
        `| \`${name}\` | ${e.type} | ${e.unit} | ${e.labels.join(", ") || "-"} | ${statsText(e)} | ${e.help.replace(/\|/g, "\\|")} |`,
    ),
  ];
  return `${lines.join("\n")}\n\n\`<kind>\` is one of ${TRAFFIC_KINDS.join(", ")}.\n`;
}

/**
 * The README's thresholds section body: the syntax, the label rule, no data, abort, presets, and the metric
 * table. (scripts/docs.ts puts it between markers; a test keeps the README equal to it.)
 */
export function thresholdsMarkdown(): string {
  return `A threshold is an expression over a named metric, as in k6:

    <metric>[{<label>:<value>} | {*}][.<stat>] <op> <limit>[;abort[=<delay>]][;nodata=pass]

e.g. \`--threshold 'create.provision.p95<2m' --threshold 'web-terminal.tick.p99<100ms;abort=30s'\`
(env \`SCALETEST_THRESHOLDS\`: a JSON array, or expressions separated by newlines or by commas outside \`{}\`).

- **Stats**: latencies take \`p50\`, \`p90\`, \`p95\`, \`p99\` (any \`p1\`..\`p100\`), \`min\`, \`max\`, \`mean\`
  (\`avg\`), \`count\`; rates, counters and gauges need no stat. **Operators**: \`<\` \`<=\` \`>\` \`>=\` \`==\`.
  **Limits**: Go durations (\`500ms\`, \`1m30s\`), percentages for rates (\`1%\`), sizes (\`4KiB\`, \`10MB/s\`),
  plain numbers for counts.
- **Labels**: a threshold on a labelled metric holds for **every** label value and fails naming the values
  that fail (\`dashboard.page.p95<500ms\` checks each page). \`{page:workspaces}\` checks one value;
  \`{*}\` checks all together: histograms merged (percentiles are never averaged), counters summed, rates
  recomputed from their counts.
- **No data**: a metric that recorded nothing fails its threshold, saying "no data", unless the expression
  ends in \`;nodata=pass\`. Counts are 0, not "no data", when nothing was counted.
- **Abort**: \`;abort\` stops the run when the threshold fails during it (checked every few seconds;
  \`;abort=30s\` not before 30 s into the phase); cleanup then follows the cleanup strategy. "No data" never aborts.
- **Presets**: the \`--threshold-*\` settings are shorthands for expressions (\`--threshold-provision-p95 2m\`
  is \`create.provision.p95<2m\`); a \`--threshold\` on the same metric, selector and stat replaces its preset,
  and \`report.ts --threshold ...\` re-judges a finished run the same way (a changed limit replaces its row).

${catalogMarkdown()}`;
}
