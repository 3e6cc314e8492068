// Coder's Prometheus series for this load type (scaletest/workspaceupdates/metrics.go), same names, labels
// and default buckets, served by the run's one metrics endpoint.
import { Counter, Histogram } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/registry.ts";
import type { WorkspaceUpdatesAction } from "./types.ts";

export const LATENCY_METRIC = "coderd_scaletest_workspace_updates_latency_seconds";
export const ERRORS_METRIC = "coderd_scaletest_workspace_updates_errors_total";

export interface WorkspaceUpdatesMetrics {
  latency(seconds: number, username: string, owned: number, workspaceName: string): void;
  error(username: string, owned: number, action: WorkspaceUpdatesAction): void;
}

export function workspaceUpdatesMetrics(): WorkspaceUpdatesMetrics {
  const latency = scenarioMetric(
    LATENCY_METRIC,
    () =>
      new Histogram({
        name: LATENCY_METRIC,
        help: "Time from a workspace's build start until its owner's WorkspaceUpdates stream names it",
        labelNames: ["username", "num_owned_workspaces", "workspace_name"],
        registers: [getRegistry()],
      }),
  );
  const errors = scenarioMetric(
    ERRORS_METRIC,
    () =>
      new Counter({
        name: ERRORS_METRIC,
        help: "Total number of workspace updates errors",
        labelNames: ["username", "num_owned_workspaces", "action"],
        registers: [getRegistry()],
      }),
  );
  return {
    latency: (s, username, owned, workspace_name) => latency.observe({ username, num_owned_workspaces: String(owned), workspace_name }, s),
    error: (username, owned, action) => errors.inc({ username, num_owned_workspaces: String(owned), action }),
  };
}
