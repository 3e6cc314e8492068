// prebuilds: Coder's load on the workspace prebuilds reconciler (Premium).
export { executePrebuilds, cleanupTemplates, fillCounts, drainCounts, isRunPrebuild, MAX_TIMELINE } from "./run.ts";
export { planPrebuilds, checkOptions, templateNames, PrebuildsInputError, type PrebuildsPlan } from "./plan.ts";
export { prebuildsRunner, prebuildsPhaseResult } from "./phase.ts";
export { prebuildsOptionsFromConfig } from "./options.ts";
export { restorePrebuildsSetting } from "./restore.ts";
export * from "./types.ts";
