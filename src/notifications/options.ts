// The notifications options a configuration asks for (the scenario script and the pipeline).
import type { Config } from "../config/index.ts";
import type { NotificationsOptions } from "./types.ts";

export function notificationsOptionsFromConfig(c: Config): NotificationsOptions {
  return {
    runId: c.runId,
    userCount: c.ntUserCount,
    templateAdminPercentage: c.ntTemplateAdminPercentage,
    timeoutMs: c.ntTimeout,
    dialTimeoutMs: c.ntDialTimeout,
    setupTimeoutMs: c.ntSetupTimeout,
    setupConcurrency: c.ntSetupConcurrency,
    smtpApiUrl: c.ntSmtpApiUrl.trim(),
    smtpRequestTimeoutMs: c.ntSmtpRequestTimeout,
    noCleanup: c.ntNoCleanup,
    cleanup: { concurrency: c.cleanupConcurrency, timeoutMs: c.cleanupTimeout, jobTimeoutMs: c.cleanupJobTimeout },
  };
}
