// Coder's Prometheus series for this load type (scaletest/autostart/metrics.go): same names, labels and
// default buckets, served by the run's one metrics endpoint. Latencies are from the scheduled minute.
import { Counter, Histogram } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/registry.ts";
import type { AutostartAction } from "./types.ts";

export const JOB_CREATION_METRIC = "coderd_scaletest_autostart_job_creation_latency_seconds";
export const JOB_ACQUIRED_METRIC = "coderd_scaletest_autostart_job_acquired_latency_seconds";
export const TOTAL_METRIC = "coderd_scaletest_autostart_total_latency_seconds";
export const ERRORS_METRIC = "coderd_scaletest_autostart_errors_total";

export interface AutostartMetrics {
  jobCreation(seconds: number, username: string, workspaceName: string): void;
  jobAcquired(seconds: number, username: string, workspaceName: string): void;
  total(seconds: number, username: string, workspaceName: string): void;
  error(username: string, action: AutostartAction): void;
}

function histogram(name: string, help: string): Histogram {
  return scenarioMetric(name, () => new Histogram({ name, help, labelNames: ["username", "workspace_name"], registers: [getRegistry()] }));
}

export function autostartMetrics(): AutostartMetrics {
  const creation = histogram(JOB_CREATION_METRIC, "Time from when the workspace is scheduled to autostart to when the autostart job has been created");
  const acquired = histogram(JOB_ACQUIRED_METRIC, "Time from when the workspace is scheduled to autostart to when the job has been acquired by a provisioner daemon");
  const total = histogram(TOTAL_METRIC, "Time from when the workspace is scheduled to autostart to when the autostart build has finished");
  const errors = scenarioMetric(
    ERRORS_METRIC,
    () => new Counter({ name: ERRORS_METRIC, help: "Total number of autostart errors", labelNames: ["username", "action"], registers: [getRegistry()] }),
  );
  return {
    jobCreation: (s, username, workspace_name) => creation.observe({ username, workspace_name }, Math.max(0, s)),
    jobAcquired: (s, username, workspace_name) => acquired.observe({ username, workspace_name }, Math.max(0, s)),
    total: (s, username, workspace_name) => total.observe({ username, workspace_name }, Math.max(0, s)),
    error: (username, action) => errors.inc({ username, action }),
  };
}
