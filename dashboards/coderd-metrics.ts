// The coderd metrics the dashboard may query, each checked against Coder's source or its generated metrics doc
// (github.com/coder/coder: docs/admin/integrations/prometheus.md and the files named below). A dashboard query
// may use only these and the runner's own metrics (checked against the live registry by test/grafana.test.ts).

export interface CoderdMetric {
  type: "counter" | "gauge" | "histogram";
  labels: readonly string[];
  /** Where it is defined / documented. */
  source: string;
  note?: string;
}

const DOC = "docs/admin/integrations/prometheus.md";

export const CODERD_METRICS: Record<string, CoderdMetric> = {
  coderd_api_request_latencies_seconds: { type: "histogram", labels: ["method", "path"], source: DOC },
  coderd_api_requests_processed_total: { type: "counter", labels: ["code", "method", "path"], source: DOC },
  coderd_api_concurrent_requests: { type: "gauge", labels: [], source: DOC },
  coderd_api_concurrent_websockets: { type: "gauge", labels: [], source: DOC },
  coderd_api_websocket_durations_seconds: { type: "histogram", labels: ["path"], source: DOC },
  coderd_api_workspace_latest_build: { type: "gauge", labels: ["status"], source: DOC },
  coderd_agents_connections: {
    type: "gauge",
    labels: ["agent_name", "lifecycle_state", "status", "tailnet_node", "username", "workspace_name"],
    source: DOC,
  },
  coderd_agents_up: { type: "gauge", labels: ["template_name", "username", "workspace_name"], source: DOC },
  coderd_provisionerd_jobs_current: { type: "gauge", labels: ["provisioner"], source: DOC },
  coderd_provisionerd_job_timings_seconds: { type: "histogram", labels: ["provisioner", "status"], source: DOC },
  coderd_provisionerd_workspace_build_timings_seconds: {
    type: "histogram",
    labels: ["template_name", "template_version", "workspace_transition", "status"],
    source: "provisionerd/provisionerd.go",
  },
  coderd_workspace_builds_total: {
    type: "counter",
    labels: ["status", "template_name", "template_version"],
    source: `${DOC}; provisionerd/provisionerd.go`,
    note: "Owner/transition label names differ between Coder versions; the dashboard only groups by status.",
  },
  coderd_workspace_creation_duration_seconds: {
    type: "histogram",
    labels: ["organization_name", "template_name", "preset_name", "type"],
    source: "coderd/provisionerdserver/metrics.go",
    note: "Newer Coder versions only.",
  },
  coderd_lifecycle_autobuild_execution_duration_seconds: {
    type: "histogram",
    labels: [],
    source: "coderd/autobuild/lifecycle_executor.go",
    note: "One observation per lifecycle executor tick (--autobuild-poll-interval, default 1m); the autostart load type's server side.",
  },
  coderd_db_query_latencies_seconds: {
    type: "histogram",
    labels: ["query"],
    source: "coderd/database/dbmetrics/querymetrics.go",
    note: "Only with coder server --prometheus-collect-db-metrics.",
  },
  coderd_db_tx_duration_seconds: { type: "histogram", labels: ["success", "tx_id"], source: "coderd/database/dbmetrics/dbmetrics.go" },
  go_goroutines: { type: "gauge", labels: [], source: DOC },
  coderd_notifications_queued_seconds: {
    type: "histogram",
    labels: ["method"],
    source: "coderd/notifications/metrics.go",
    note: "Enqueue to fetched by the notifier: stays within CODER_NOTIFICATIONS_FETCH_INTERVAL when the notifier keeps up.",
  },
  coderd_notifications_dispatcher_send_seconds: { type: "histogram", labels: ["method"], source: "coderd/notifications/metrics.go" },
  coderd_provisioner_job_queue_wait_seconds: {
    type: "histogram",
    labels: ["provisioner_type", "job_type", "transition", "build_reason"],
    source: "coderd/provisionerdserver/metrics.go",
  },
};

/** Series names a query may use for a metric: histograms also expose _bucket, _sum and _count. */
export function seriesNames(name: string, type: string): string[] {
  return type === "histogram" || type === "summary" ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
}
