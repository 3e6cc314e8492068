// The prebuilds options a configuration asks for (the scenario script and the pipeline).
import type { Config } from "../config/index.ts";
import type { PrebuildsOptions } from "./types.ts";

export function prebuildsOptionsFromConfig(c: Config): PrebuildsOptions {
  return {
    runId: c.runId,
    numTemplates: c.pbNumTemplates,
    numPresets: c.pbNumPresets,
    numPresetPrebuilds: c.pbNumPresetPrebuilds,
    templateVersionJobTimeoutMs: c.pbTemplateVersionJobTimeout,
    workspaceTimeoutMs: c.pbWorkspaceTimeout,
    skipCleanup: c.pbSkipCleanup,
    resultsDir: c.resultsDir,
    cleanupConcurrency: c.cleanupConcurrency,
  };
}
