// The workspace-updates options a configuration asks for (the scenario script; the pipeline later).
import type { Config } from "../config/index.ts";
import type { WorkspaceUpdatesOptions } from "./types.ts";

export function workspaceUpdatesOptionsFromConfig(c: Config): WorkspaceUpdatesOptions {
  return {
    runId: c.runId,
    workspaceCount: c.wuWorkspaceCount,
    powerUserWorkspaces: c.wuPowerUserWorkspaces,
    powerUserPercentage: c.wuPowerUserPercentage,
    // Empty: the template create-workspaces uses (SCALETEST_TEMPLATE), so one setting serves both.
    template: c.wuTemplate || c.template,
    parameters: c.wuParameters,
    updatesTimeoutMs: c.wuUpdatesTimeout,
    dialTimeoutMs: c.wuDialTimeout,
    setupConcurrency: c.wuSetupConcurrency,
    reuseUsers: c.wuReuseUsers,
    noCleanup: c.wuNoCleanup,
    cleanup: { concurrency: c.cleanupConcurrency, timeoutMs: c.cleanupTimeout, jobTimeoutMs: c.cleanupJobTimeout },
  };
}
