// cleanup library: delete a run's (or every run's) scaletest- workspaces, then users.
export { cleanupRun } from "./cleanup.ts";
export { cleanupScope, inScope, findResources, type CleanupScope, type FoundResources } from "./scope.ts";
export { cleanupHarnessJSON, renderCleanupText } from "./render.ts";
export * from "./types.ts";
