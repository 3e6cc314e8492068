// Coder's Prometheus series for this load type (scaletest/taskstatus): the latency histogram and two
// counters, without labels as Coder's CLI registers them.
import { Counter, Histogram } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/registry.ts";

export const LATENCY_METRIC = "coderd_scaletest_task_status_to_workspace_update_latency_seconds";
export const MISSING_METRIC = "coderd_scaletest_missing_status_updates_total";
export const REPORT_ERRORS_METRIC = "coderd_scaletest_report_task_status_errors_total";

export interface TaskStatusMetrics {
  latency(seconds: number): void;
  missing(n: number): void;
  reportError(): void;
}

export function taskStatusMetrics(): TaskStatusMetrics {
  const latency = scenarioMetric(LATENCY_METRIC, () => new Histogram({ name: LATENCY_METRIC, help: "Time from a task status update sent to the workspace watch showing it", registers: [getRegistry()] }));
  const missing = scenarioMetric(MISSING_METRIC, () => new Counter({ name: MISSING_METRIC, help: "Task status updates sent but never shown by the workspace watch", registers: [getRegistry()] }));
  const errors = scenarioMetric(REPORT_ERRORS_METRIC, () => new Counter({ name: REPORT_ERRORS_METRIC, help: "Task status updates that could not be reported", registers: [getRegistry()] }));
  return { latency: (s) => latency.observe(s), missing: (n) => n > 0 && missing.inc(n), reportError: () => errors.inc() };
}
