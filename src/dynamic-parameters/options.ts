// The dynamic-parameters options a configuration asks for (the scenario script and the pipeline).
import type { Config } from "../config/index.ts";
import type { DynamicParametersOptions } from "./types.ts";

export function dynamicParametersOptionsFromConfig(c: Config): DynamicParametersOptions {
  return {
    runId: c.runId,
    template: c.dpTemplate,
    concurrentEvaluations: c.dpConcurrentEvaluations,
    provisionerTags: c.dpProvisionerTags,
    timeoutMs: c.dpTimeout,
    jobTimeoutMs: c.dpJobTimeout,
    importTimeoutMs: c.dpImportTimeout,
  };
}
