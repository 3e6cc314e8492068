// The Grafana dashboard for a scale-test run, as code (grafana-foundation-sdk). `npm run dashboards` writes
// dashboards/scaletest-runner.json; test/grafana.test.ts checks the committed JSON is this output and that every
// metric it queries exists (the runner's live registry, or dashboards/coderd-metrics.ts).
//
// Layout: the runner's view on the left, coderd's view of the same thing on the right, row by row:
// phases (annotations) -> workspace builds -> traffic -> dashboard traffic -> coderd API/DB -> runner process.
import type * as cog from "@grafana/grafana-foundation-sdk/cog";
import * as common from "@grafana/grafana-foundation-sdk/common";
import {
  AnnotationQueryBuilder,
  AnnotationTargetBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
  type Dashboard,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder as StatPanel } from "@grafana/grafana-foundation-sdk/stat";
import { PanelBuilder as TimeseriesPanel } from "@grafana/grafana-foundation-sdk/timeseries";

export const DASHBOARD_UID = "scaletest-runner";

const PROM = { type: "prometheus", uid: "${datasource}" };
const RATE = "$__rate_interval";
/** Runner series: the runner pod(s) chosen in the dashboard's variable. */
const RUNNER = 'pod=~"$runner"';
/** coderd series: the Coder deployment's namespace. */
const CODERD = 'namespace=~"$namespace"';

interface Query {
  expr: string;
  legend: string;
}

const q = (expr: string, legend: string): Query => ({ expr, legend });

function targets(queries: Query[]): DataqueryBuilder[] {
  return queries.map((x, i) =>
    new DataqueryBuilder()
      .datasource(PROM)
      .expr(x.expr)
      .legendFormat(x.legend)
      .refId(String.fromCharCode(65 + i)),
  );
}

function timeseries(title: string, unit: string, queries: Query[], description = ""): TimeseriesPanel {
  const p = new TimeseriesPanel()
    .title(title)
    .datasource(PROM)
    .unit(unit)
    .span(12)
    .height(8)
    .lineWidth(1)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder().showLegend(true).displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom))
    .targets(targets(queries));
  return description ? p.description(description) : p;
}

function stat(title: string, unit: string, queries: Query[], description: string): StatPanel {
  return new StatPanel().title(title).description(description).datasource(PROM).unit(unit).span(6).height(4).targets(targets(queries));
}

/** p50/p95/p99 of a histogram, grouped by `by` (besides le). */
function percentiles(metric: string, by: string[], selector: string): Query[] {
  const group = ["le", ...by].join(", ");
  const label = by.length ? `${by.map((b) => `{{${b}}}`).join(" ")} ` : "";
  return [0.5, 0.95, 0.99].map((p) =>
    q(`histogram_quantile(${p}, sum by (${group}) (rate(${metric}_bucket{${selector}}[${RATE}])))`, `${label}p${Math.round(p * 100)}`),
  );
}

export function buildDashboard(): Dashboard {
  const d = new DashboardBuilder("Coder scale test (runner)")
    .uid(DASHBOARD_UID)
    .description(
      "One scale-test run of the TypeScript scaletest runner: phases, workspace builds, workspace traffic and dashboard " +
        "load as the runner measures them, beside coderd's own API, database, provisioner and websocket metrics.",
    )
    .tags(["coder", "scaletest"])
    .editable()
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh("30s")
    .time({ from: "now-3h", to: "now" })
    .timezone("browser")
    .withVariable(new DatasourceVariableBuilder("datasource").label("Prometheus").type("prometheus"))
    .withVariable(
      new QueryVariableBuilder("namespace")
        .label("coderd namespace")
        .datasource(PROM)
        .query("label_values(coderd_api_concurrent_requests, namespace)")
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .includeAll(true)
        .allValue(".*")
        .multi(true),
    )
    .withVariable(
      new QueryVariableBuilder("runner")
        .label("Runner pod")
        .datasource(PROM)
        // Only the runner exports Node.js metrics, so this lists runner pods (all shards of a scaled-out run).
        .query("label_values(nodejs_eventloop_lag_seconds, pod)")
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc)
        .includeAll(true)
        .allValue(".*")
        .multi(true),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name("Scale-test phases")
        .datasource({ type: "grafana", uid: "-- Grafana --" })
        .enable(true)
        .iconColor("#D65D0F")
        // The pipeline tags every annotation "scaletest", "runner", "run:<id>" and the phase's own tags.
        // The SDK types `target` as a data query; Grafana's built-in annotations take this tags target there.
        .target(
          new AnnotationTargetBuilder().type("tags").tags(["scaletest", "runner"]).matchAny(false).limit(500) as unknown as cog.Builder<cog.Dataquery>,
        ),
    );

  d.withRow(new RowBuilder("Overview"))
    .withPanel(stat("Workspaces building", "none", [q(`sum(coderd_provisionerd_jobs_current{${CODERD}})`, "jobs")], "Provisioner jobs running now (coderd)."))
    .withPanel(
      stat("Traffic connections open", "none", [q(`sum(scaletest_connections{${RUNNER}, state="open"})`, "open")], "Workspace traffic connections the runner holds open."),
    )
    .withPanel(
      stat(
        "Traffic throughput",
        "Bps",
        [q(`sum(rate(coderd_scaletest_bytes_written_total{${RUNNER}}[${RATE}])) + sum(rate(coderd_scaletest_bytes_read_total{${RUNNER}}[${RATE}]))`, "bytes/s")],
        "Bytes per second written plus read by every traffic connection.",
      ),
    )
    .withPanel(
      stat("coderd API p95", "s", [q(`histogram_quantile(0.95, sum by (le) (rate(coderd_api_request_latencies_seconds_bucket{${CODERD}}[${RATE}])))`, "p95")], "All API routes."),
    );

  d.withRow(new RowBuilder("Workspace builds"))
    .withPanel(
      timeseries(
        "Workspace builds by status (coderd)",
        "none",
        [q(`sum by (status) (increase(coderd_workspace_builds_total{${CODERD}}[${RATE}]))`, "{{status}}")],
        "Builds finished per interval; failed builds show as their own series.",
      ),
    )
    .withPanel(
      timeseries("Provisioner jobs running (coderd)", "none", [
        q(`sum by (provisioner) (coderd_provisionerd_jobs_current{${CODERD}})`, "{{provisioner}}"),
        q(`sum(coderd_api_workspace_latest_build{${CODERD}, status="pending"})`, "latest build pending"),
      ]),
    )
    .withPanel(
      timeseries(
        "Workspace build time (coderd)",
        "s",
        percentiles("coderd_provisionerd_workspace_build_timings_seconds", [], `${CODERD}, workspace_transition="start"`),
        "Provisioner time of start builds (plan + apply).",
      ),
    )
    .withPanel(
      timeseries("Provisioner job time by status (coderd)", "s", [
        q(`histogram_quantile(0.95, sum by (le, status) (rate(coderd_provisionerd_job_timings_seconds_bucket{${CODERD}}[${RATE}])))`, "{{status}} p95"),
        q(`histogram_quantile(0.95, sum by (le) (rate(coderd_workspace_creation_duration_seconds_bucket{${CODERD}}[${RATE}])))`, "creation p95 (newer coderd)"),
      ]),
    )
    .withPanel(
      timeseries("Agents by lifecycle state (coderd)", "none", [
        q(`count by (lifecycle_state) (coderd_agents_connections{${CODERD}})`, "{{lifecycle_state}}"),
      ]),
    )
    .withPanel(
      timeseries("Latest builds by status (coderd)", "none", [q(`sum by (status) (coderd_api_workspace_latest_build{${CODERD}})`, "{{status}}")]),
    );

  d.withRow(new RowBuilder("Workspace traffic"))
    .withPanel(
      timeseries("Throughput (runner)", "Bps", [
        q(`sum(rate(coderd_scaletest_bytes_written_total{${RUNNER}}[${RATE}]))`, "written"),
        q(`sum(rate(coderd_scaletest_bytes_read_total{${RUNNER}}[${RATE}]))`, "read"),
      ]),
    )
    .withPanel(
      timeseries(
        "Throughput per shard (runner pods)",
        "Bps",
        [
          q(`sum by (shard) (rate(coderd_scaletest_bytes_written_total{${RUNNER}}[${RATE}]))`, "shard {{shard}}"),
          q(`sum(rate(coderd_scaletest_bytes_written_total{${RUNNER}}[${RATE}]))`, "total"),
        ],
        "With --runners N every pod labels its series shard=\"i/N\"; one line per pod and their sum.",
      ),
    )
    .withPanel(
      timeseries("Websockets (coderd)", "none", [
        q(`sum(coderd_api_concurrent_websockets{${CODERD}})`, "concurrent websockets"),
        q(`sum by (path) (rate(coderd_api_websocket_durations_seconds_count{${CODERD}}[${RATE}]))`, "closed/s {{path}}"),
      ]),
    )
    .withPanel(
      timeseries(
        "Tick latency by kind (runner)",
        "s",
        percentiles("scaletest_tick_latency_seconds", ["kind"], RUNNER),
        "From each tick's intended send time (no coordinated omission) until its bytes were written.",
      ),
    )
    .withPanel(
      timeseries("Websocket duration p95 by route (coderd)", "s", [
        q(`histogram_quantile(0.95, sum by (le, path) (rate(coderd_api_websocket_durations_seconds_bucket{${CODERD}}[${RATE}])))`, "{{path}}"),
      ]),
    )
    .withPanel(
      timeseries("Errors, drops and reconnects (runner)", "short", [
        q(`sum(rate(coderd_scaletest_read_errors_total{${RUNNER}}[${RATE}]))`, "read errors/s"),
        q(`sum(rate(coderd_scaletest_write_errors_total{${RUNNER}}[${RATE}]))`, "write errors/s"),
        q(`sum by (kind) (rate(scaletest_drops_total{${RUNNER}}[${RATE}]))`, "{{kind}} drops/s"),
        q(`sum by (kind) (rate(scaletest_reconnects_total{${RUNNER}}[${RATE}]))`, "{{kind}} reconnects/s"),
      ]),
    )
    .withPanel(
      timeseries("Connections by kind and state (runner)", "none", [q(`sum by (kind, state) (scaletest_connections{${RUNNER}})`, "{{kind}} {{state}}")]),
    )
    .withPanel(
      timeseries("Read/write call latency p95 (runner)", "s", [
        q(`histogram_quantile(0.95, sum by (le) (rate(coderd_scaletest_write_latency_seconds_bucket{${RUNNER}}[${RATE}])))`, "write p95"),
        q(`histogram_quantile(0.95, sum by (le) (rate(coderd_scaletest_read_latency_seconds_bucket{${RUNNER}}[${RATE}])))`, "read p95"),
      ]),
    )
    .withPanel(
      timeseries("Dial time p95 by kind (runner)", "s", [
        q(`histogram_quantile(0.95, sum by (le, kind) (rate(scaletest_dial_seconds_bucket{${RUNNER}}[${RATE}])))`, "{{kind}}"),
      ]),
    );

  d.withRow(new RowBuilder("Capacity search"))
    .withPanel(
      timeseries("Capacity step load and knee (runner)", "short", [
        q(`max by (load) (scaletest_capacity_step_load{${RUNNER}})`, "{{load}} step"),
        q(`max by (load) (scaletest_capacity_knee{${RUNNER}})`, "{{load}} knee"),
      ], "The load of the capacity step running now (0 between steps) and the largest step so far that met every threshold."),
    )
    .withPanel(
      timeseries("Capacity steps by result (runner)", "short", [
        q(`sum by (load, result) (scaletest_capacity_steps_total{${RUNNER}})`, "{{load}} {{result}}"),
      ]),
    );

  d.withRow(new RowBuilder("Workspace updates"))
    .withPanel(
      timeseries("Workspace update latency (runner)", "s", percentiles("coderd_scaletest_workspace_updates_latency_seconds", ["num_owned_workspaces"], RUNNER),
        "Build start to the WorkspaceUpdates (tailnet RPC) upsert naming the workspace, by how many workspaces its owner has."),
    )
    .withPanel(
      timeseries("Workspace updates errors by action (runner)", "short", [
        q(`sum by (action) (increase(coderd_scaletest_workspace_updates_errors_total{${RUNNER}}[${RATE}]))`, "{{action}}"),
      ]),
    );

  d.withRow(new RowBuilder("Prebuilds"))
    .withPanel(
      timeseries("Prebuild jobs by template (runner)", "short", [
        q(`sum by (template_name) (coderd_scaletest_prebuild_jobs_completed{${RUNNER}})`, "{{template_name}} succeeded"),
        q(`sum by (template_name) (coderd_scaletest_prebuild_jobs_running{${RUNNER}})`, "{{template_name}} running"),
        q(`sum by (template_name) (coderd_scaletest_prebuild_jobs_failed{${RUNNER}})`, "{{template_name}} failed"),
      ], "Coder's gauges while the reconciler fills the presets: prebuilt workspaces whose start build succeeded, runs, failed."),
    )
    .withPanel(
      timeseries("Prebuild deletion jobs by template (runner)", "short", [
        q(`sum by (template_name) (coderd_scaletest_prebuild_deletion_jobs_completed{${RUNNER}})`, "{{template_name}} deleted"),
        q(`sum by (template_name) (coderd_scaletest_prebuild_deletion_jobs_running{${RUNNER}})`, "{{template_name}} running"),
        q(`sum by (template_name) (coderd_scaletest_prebuild_deletion_jobs_failed{${RUNNER}})`, "{{template_name}} failed"),
        q(`sum by (action) (increase(coderd_scaletest_prebuild_errors_total{${RUNNER}}[${RATE}]))`, "error: {{action}}"),
      ], "Coder's gauges while the reconciler drains them after versions without presets became active; errors by Coder's action names."),
    );

  d.withRow(new RowBuilder("Task status"))
    .withPanel(
      timeseries("Task status update latency (runner)", "s", percentiles("coderd_scaletest_task_status_to_workspace_update_latency_seconds", [], RUNNER),
        "A status update sent (PATCH app-status with the agent token) to the workspace watch showing it as latest_app_status."),
    )
    .withPanel(
      timeseries("Task status missing updates and report errors (runner)", "short", [
        q(`sum(increase(coderd_scaletest_missing_status_updates_total{${RUNNER}}[${RATE}]))`, "missing"),
        q(`sum(increase(coderd_scaletest_report_task_status_errors_total{${RUNNER}}[${RATE}]))`, "not reported"),
      ]),
    );

  d.withRow(new RowBuilder("Notifications"))
    .withPanel(
      timeseries("Notification delivery latency (runner)", "s", percentiles("coderd_scaletest_notification_delivery_latency_seconds", ["notification_type"], RUNNER),
        "Template delete returning to each template admin's receipt, over the inbox websocket and by email (smtp)."),
    )
    .withPanel(
      timeseries("Notification delivery errors by action (runner)", "short", [
        q(`sum by (action) (increase(coderd_scaletest_notification_delivery_errors_total{${RUNNER}}[${RATE}]))`, "{{action}}"),
      ]),
    )
    .withPanel(
      timeseries("coderd notification queue and send time p95 (coderd)", "s", [
        q(`histogram_quantile(0.95, sum by (le, method) (rate(coderd_notifications_queued_seconds_bucket{${CODERD}}[${RATE}])))`, "queued {{method}}"),
        q(`histogram_quantile(0.95, sum by (le, method) (rate(coderd_notifications_dispatcher_send_seconds_bucket{${CODERD}}[${RATE}])))`, "send {{method}}"),
      ], "coderd's own view: time a message waited in the queue (the fetch interval shows here) and the dispatch itself, by method."),
    );

  d.withRow(new RowBuilder("Autostart"))
    .withPanel(
      timeseries("Autostart build done after the scheduled minute (runner)", "s", percentiles("coderd_scaletest_autostart_total_latency_seconds", [], RUNNER),
        "Every workspace is scheduled for the same minute; time from that minute to its autostart build done (Coder's trigger to completion)."),
    )
    .withPanel(
      timeseries("Autostart job created / acquired p95 (runner)", "s", [
        q(`histogram_quantile(0.95, sum by (le) (rate(coderd_scaletest_autostart_job_creation_latency_seconds_bucket{${RUNNER}}[${RATE}])))`, "created p95"),
        q(`histogram_quantile(0.95, sum by (le) (rate(coderd_scaletest_autostart_job_acquired_latency_seconds_bucket{${RUNNER}}[${RATE}])))`, "acquired p95"),
      ], "From the scheduled minute: the lifecycle executor creating the job, then a provisioner taking it."),
    )
    .withPanel(
      timeseries("Autostart errors by action (runner)", "short", [
        q(`sum by (action) (increase(coderd_scaletest_autostart_errors_total{${RUNNER}}[${RATE}]))`, "{{action}}"),
      ], "wait_for_autostart_build counts late workspaces."),
    )
    .withPanel(
      timeseries("Lifecycle executor run time (coderd)", "s", percentiles("coderd_lifecycle_autobuild_execution_duration_seconds", [], CODERD),
        "How long each executor tick takes: a storm makes it start many workspaces at once."),
    );

  d.withRow(new RowBuilder("Dynamic parameters"))
    .withPanel(
      timeseries("Dynamic parameters initial evaluation (runner)", "s",
        percentiles("coderd_scaletest_dynamic_parameters_latency_initial_response_seconds", ["concurrent_evaluations"], RUNNER),
        "Opening the template version's dynamic-parameters websocket to its initial evaluation, by the partition's concurrent evaluations."),
    )
    .withPanel(
      timeseries("Dynamic parameters change response (runner)", "s",
        percentiles("coderd_scaletest_dynamic_parameters_latency_change_response_seconds", ["concurrent_evaluations"], RUNNER),
        "The initial evaluation to the response to one parameter change (zero -> B), by the partition's concurrent evaluations."),
    );

  d.withRow(new RowBuilder("Dashboard traffic"))
    .withPanel(
      timeseries("Page load time p95 by page (runner)", "s", [
        q(`histogram_quantile(0.95, sum by (le, page) (rate(scaletest_dashboard_page_seconds_bucket{${RUNNER}}[${RATE}])))`, "{{page}}"),
      ]),
    )
    .withPanel(
      timeseries("API call latency p95 by route (runner)", "s", [
        q(`topk(10, histogram_quantile(0.95, sum by (le, endpoint) (rate(scaletest_dashboard_request_seconds_bucket{${RUNNER}}[${RATE}]))))`, "{{endpoint}}"),
      ]),
    )
    .withPanel(
      timeseries("Page views by result (runner)", "reqps", [
        q(`sum by (result) (rate(scaletest_dashboard_page_views_total{${RUNNER}}[${RATE}]))`, "{{result}}"),
      ]),
    )
    .withPanel(
      timeseries("API calls by status (runner)", "reqps", [
        q(`sum by (status) (rate(scaletest_dashboard_request_seconds_count{${RUNNER}}[${RATE}]))`, "{{status}}"),
      ]),
    )
    .withPanel(
      timeseries("Page websockets by event (runner, api mode)", "reqps", [
        q(`sum by (event) (rate(scaletest_dashboard_websockets_total{${RUNNER}}[${RATE}]))`, "{{event}}"),
      ]),
    );

  d.withRow(new RowBuilder("coderd API and database"))
    .withPanel(
      timeseries("API latency p95, slowest routes", "s", [
        q(`topk(10, histogram_quantile(0.95, sum by (le, path) (rate(coderd_api_request_latencies_seconds_bucket{${CODERD}}[${RATE}]))))`, "{{path}}"),
      ]),
    )
    .withPanel(
      timeseries("API requests by status code", "reqps", [
        q(`sum by (code) (rate(coderd_api_requests_processed_total{${CODERD}}[${RATE}]))`, "{{code}}"),
        q(`sum(coderd_api_concurrent_requests{${CODERD}})`, "in flight"),
      ]),
    )
    .withPanel(
      timeseries(
        "Database query latency p95, slowest queries",
        "s",
        [q(`topk(10, histogram_quantile(0.95, sum by (le, query) (rate(coderd_db_query_latencies_seconds_bucket{${CODERD}}[${RATE}]))))`, "{{query}}")],
        "Needs coder server --prometheus-collect-db-metrics.",
      ),
    )
    .withPanel(
      timeseries("Database transaction time", "s", percentiles("coderd_db_tx_duration_seconds", [], CODERD)),
    )
    .withPanel(timeseries("coderd goroutines", "none", [q(`sum by (pod) (go_goroutines{${CODERD}})`, "{{pod}}")]))
    // The runner's per-phase server-side figures (src/metrics/coderd) read these same series.
    .withPanel(
      timeseries(
        "API latency p95 by route (coderd)",
        "s",
        [q(`histogram_quantile(0.95, sum by (le, path) (rate(coderd_api_request_latencies_seconds_bucket{${CODERD}, path=~"^/api/v2/.*"}[${RATE}])))`, "{{path}}")],
        "Replicas merged by summing buckets before the percentile, as the runner's coderd.api thresholds judge them.",
      ),
    )
    .withPanel(
      timeseries(
        "coderd CPU by pod",
        "none",
        [q(`sum by (pod) (rate(process_cpu_seconds_total{${CODERD}}[${RATE}])) and on (pod) group by (pod) (coderd_api_concurrent_requests{${CODERD}})`, "{{pod}}")],
        "Cores used by each coderd replica (the runner's coderd.cpu).",
      ),
    )
    .withPanel(
      timeseries(
        "coderd memory by pod",
        "bytes",
        [q(`sum by (pod) (process_resident_memory_bytes{${CODERD}}) and on (pod) group by (pod) (coderd_api_concurrent_requests{${CODERD}})`, "{{pod}}")],
        "Resident memory of each coderd replica (the runner's coderd.memory).",
      ),
    )
    .withPanel(
      timeseries(
        "Provisioner job queue wait (coderd)",
        "s",
        percentiles("coderd_provisioner_job_queue_wait_seconds", [], CODERD),
        "Job created to acquired by a provisioner: a growing wait means too few provisioners (the runner's coderd.provisioner.queue).",
      ),
    )
    .withPanel(
      timeseries("Agents up (coderd)", "none", [q(`sum(coderd_agents_up{${CODERD}})`, "agents up")]),
    );

  d.withRow(new RowBuilder("Runner process"))
    .withPanel(
      timeseries("Runner CPU", "percentunit", [q(`sum by (pod) (rate(process_cpu_seconds_total{${RUNNER}}[${RATE}]))`, "{{pod}}")]),
    )
    .withPanel(
      timeseries(
        "Runner memory",
        "bytes",
        [q(`sum by (pod) (process_resident_memory_bytes{${RUNNER}})`, "{{pod}} RSS")],
        "A lagging event loop delays ticks: check tick latency against this before blaming coderd.",
      ),
    )
    .withPanel(
      timeseries("Runner event-loop lag p99", "s", [q(`max by (pod) (nodejs_eventloop_lag_p99_seconds{${RUNNER}})`, "{{pod}}")]),
    );

  return d.build();
}

/** The committed file's text: stable key order from the builder, 2-space JSON, trailing newline. */
export function renderDashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}
