// autostart: Coder's autostart storm load type (every workspace scheduled to start in the same minute).
export { runAutostart, executeAutostart, coderResults, LATENCY_NAMES } from "./run.ts";
export { planAutostart, checkOptions, AutostartInputError, type AutostartPlan } from "./plan.ts";
export { autostartTime, scheduleFor, roundToMinute, coderPercentile, MIN_AUTOSTART_DELAY_MS } from "./schedule.ts";
export { openBuildWatch, type BuildWatch, type BuildUpdate } from "./watch.ts";
export { newUsers, AcquireError, type UserSource, type RunUser } from "./users.ts";
export { autostartMetrics, JOB_CREATION_METRIC, JOB_ACQUIRED_METRIC, TOTAL_METRIC, ERRORS_METRIC } from "./metrics.ts";
export { autostartRunner, autostartPhaseResult, type AutostartSettings } from "./phase.ts";
export { renderAutostartText } from "./render.ts";
export { autostartOptionsFromConfig } from "./options.ts";
export * from "./types.ts";
