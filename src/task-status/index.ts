// task-status: Coder's load of AI-task status updates reaching the workspace watch.
export { executeTaskStatus, TRANSPORT } from "./run.ts";
export { planTaskStatus, checkOptions, updatesPerWorkspace, TaskStatusInputError } from "./plan.ts";
export { taskStatusRunner, taskStatusPhaseResult, type TaskStatusSettings } from "./phase.ts";
export { taskStatusOptionsFromConfig } from "./options.ts";
export { watchWorkspace, MAX_EVENT_BYTES } from "./watch.ts";
export { LATENCY_METRIC, MISSING_METRIC, REPORT_ERRORS_METRIC } from "./metrics.ts";
export * from "./types.ts";
