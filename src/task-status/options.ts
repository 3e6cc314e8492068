// The task-status options a configuration asks for (the scenario script and the pipeline).
import type { Config } from "../config/index.ts";
import type { TaskStatusOptions } from "./types.ts";

export function taskStatusOptionsFromConfig(c: Config): TaskStatusOptions {
  return {
    runId: c.runId,
    count: c.tsCount,
    template: c.tsTemplate,
    appSlug: c.tsAppSlug,
    reportPeriodMs: c.tsReportPeriod,
    reportDurationMs: c.tsReportDuration,
    baselineMs: c.tsBaseline,
    workspaceTimeoutMs: c.tsWorkspaceTimeout,
    noCleanup: c.tsNoCleanup,
  };
}
