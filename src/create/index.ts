// create-workspaces library: validate, create and time workspaces; render results.
export { createWorkspaces, executeCreate, summarizeCreate, type CreateCleanupOptions } from "./runner.ts";
export { planCreate, checkCreateOptions, CreateInputError, MAX_COUNT } from "./plan.ts";
export { parseParameterArgs, resolveParameters, parameterValueProblem } from "./params.ts";
export { toHarnessJSON, renderCreateText, renderStageTable, CREATE_TEST_NAME } from "./render.ts";
export { CreateTracker, type CreateSnapshot } from "./tracker.ts";
export { runPtyCommand } from "./command.ts";
export { createMetrics, type CreateMetrics } from "./metrics.ts";
export * from "./types.ts";
export { createOptionsFromConfig } from "./options.ts";
