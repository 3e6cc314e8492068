// The few flags the orchestration scripts share, from the environment the template sets (flags override).
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { takeEnvSecrets } from "../util/loader-env.ts";

export interface OrchestrationArgs {
  positionals: string[];
  resultsDir: string;
  runDir: string;
  values: Record<string, string | boolean | undefined>;
}

/**
 * Parses `argv`; the run folder is --run-dir, else $SCALETEST_RESULTS_DIR/$SCALETEST_RUN_ID (required unless
 * `needRun` is false). Throws on bad input.
 */
export function orchestrationArgs(argv: string[], extra: Record<string, { type: "string" | "boolean" }>, env: NodeJS.ProcessEnv = process.env, needRun = true): OrchestrationArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: { "run-dir": { type: "string" }, "results-dir": { type: "string" }, "run-id": { type: "string" }, help: { type: "boolean" }, ...extra },
  });
  const resultsDir = (values["results-dir"] as string | undefined) ?? env.SCALETEST_RESULTS_DIR ?? "./results";
  const runId = (values["run-id"] as string | undefined) ?? env.SCALETEST_RUN_ID ?? "";
  let runDir = values["run-dir"] as string | undefined;
  if (!runDir && !needRun) runDir = resultsDir;
  if (!runDir) {
    if (!/^[a-z0-9]{1,8}$/.test(runId)) throw new Error(`no run folder: give --run-dir, or --run-id (1-8 of [a-z0-9]; got ${JSON.stringify(runId)}) with --results-dir`);
    runDir = join(resultsDir, runId);
  }
  return { positionals, resultsDir: resolve(resultsDir), runDir: resolve(runDir), values: values as OrchestrationArgs["values"] };
}

/** Runs `main`, turning bad input into one message and exit 2. */
export async function runMain(usage: string, main: (secrets: Readonly<Record<string, string>>) => Promise<void>): Promise<void> {
  // Before anything runs: no secret in any output, nor in kubectl's (or any child's) environment.
  const secrets = takeEnvSecrets();
  try {
    await main(secrets);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}
