// dynamic-parameters: template parameter evaluation under concurrency (Coder's load type of that name).
export { runDynamicParameters, executeDynamicParameters, type DynamicParametersHooks } from "./run.ts";
export { planDynamicParameters, checkOptions, parseProvisionerTags, DynamicParametersInputError, MAX_EVALUATIONS } from "./plan.ts";
export { partitionEvaluations, templateArchive, EXPECTED_PARAMETER, CHANGED_VALUE } from "./template.ts";
export { runSession, diagnosticsError, dynamicParametersUrl } from "./session.ts";
export { setupPartitions, SetupError } from "./setup.ts";
export { dynamicParametersMetrics, INITIAL_METRIC, CHANGE_METRIC } from "./metrics.ts";
export { dynamicParametersRunner, dynamicParametersPhaseResult, dynamicParametersMetricSet, DYNAMIC_PARAMETERS_TEST_NAME } from "./phase.ts";
export { renderDynamicParametersText } from "./render.ts";
export { dynamicParametersOptionsFromConfig } from "./options.ts";
export * from "./types.ts";
