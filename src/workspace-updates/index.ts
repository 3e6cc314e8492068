// workspace-updates: Coder Desktop's WorkspaceUpdates stream under load (Coder's load type of that name).
export { runWorkspaceUpdates, executeWorkspaceUpdates, LATENCY_RESULT_METRIC } from "./run.ts";
export { planWorkspaceUpdates, distribute, checkOptions, WorkspaceUpdatesInputError, type WorkspaceUpdatesPlan } from "./plan.ts";
export { watchWorkspaceUpdates, type WatchResult } from "./watch.ts";
export { workspaceUpdatesMetrics, LATENCY_METRIC, ERRORS_METRIC } from "./metrics.ts";
export { renderWorkspaceUpdatesText } from "./render.ts";
export { workspaceUpdatesOptionsFromConfig } from "./options.ts";
export * from "./types.ts";
