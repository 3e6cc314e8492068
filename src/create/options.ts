// The create options a configuration asks for (shared by the create-workspaces script and the pipeline).
import type { Config } from "../config/index.ts";
import type { CreateOptions } from "./types.ts";

/** `successThreshold`: the script's --success-threshold, or the pipeline's create-success threshold. */
export function createOptionsFromConfig(c: Config, successThreshold: number): CreateOptions {
  return {
    runId: c.runId,
    count: c.workspaces,
    template: c.template,
    parameters: c.parameters,
    concurrency: c.createConcurrency,
    timeoutMs: c.createTimeout,
    jobTimeoutMs: c.jobTimeout,
    retry: c.createRetry,
    noWaitForAgents: c.noWaitForAgents,
    useHostLogin: c.useHostLogin,
    userPool: c.userPool,
    runCommand: c.runCommand,
    runTimeoutMs: c.runTimeout,
    runExpectOutput: c.runExpectOutput,
    runExpectTimeout: c.runExpectTimeout,
    runExpectOutputTimeoutMs: c.runExpectOutputTimeout,
    runLogOutput: c.runLogOutput,
    successThreshold,
  };
}
