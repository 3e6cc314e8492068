// The autostart options a configuration asks for (the scenario script and the pipeline).
import type { Config } from "../config/index.ts";
import type { AutostartOptions } from "./types.ts";

export function autostartOptionsFromConfig(c: Config): AutostartOptions {
  return {
    runId: c.runId,
    workspaceCount: c.asWorkspaceCount,
    // Empty: the template create-workspaces uses (SCALETEST_TEMPLATE), so one setting serves both.
    template: c.asTemplate || c.template,
    parameters: c.asParameters,
    workspaceJobTimeoutMs: c.asWorkspaceJobTimeout,
    autostartDelayMs: c.asDelay,
    autostartTimeoutMs: c.asTimeout,
    noCleanup: c.asNoCleanup,
    ...(c.userPool ? { userPool: c.userPool } : {}),
    ...(c.asWatch !== "auto" ? { watch: c.asWatch } : {}),
    cleanup: { concurrency: c.cleanupConcurrency, timeoutMs: c.cleanupTimeout, jobTimeoutMs: c.cleanupJobTimeout },
  };
}
