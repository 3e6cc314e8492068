#!/usr/bin/env -S npx tsx
// cleanup: delete one run's scaletest-<run-id>-* workspaces (waiting for their delete builds), then
// its users; or, with --all, every scaletest-* workspace and user. Nothing without the scaletest-
// prefix is ever touched, nor the runner's own user. Safe to run again: it then finds nothing.
// Parity: `coder exp scaletest cleanup`. Example: ./scenarios/cleanup.ts --run-id k3x9q2
import { cleanupHarnessJSON, cleanupRun, cleanupScope, renderCleanupText } from "../src/cleanup/index.ts";
import { runScenario } from "../src/scenario/main.ts";

await runScenario(
  "cleanup",
  { description: "Delete a run's scaletest- workspaces and users (or every run's with --all).", metrics: false },
  async ({ client, config: c, loaded, signal, log }) => {
    // --run-id counts only when given: runScenario generates one otherwise, and that would match nothing.
    const runId = loaded.sources.runId === "default" ? undefined : c.runId;
    try {
      cleanupScope({ runId, all: c.cleanupAll });
    } catch (e) {
      process.stderr.write(`cleanup: ${(e as Error).message}\n`);
      process.exit(2);
    }
    const result = await cleanupRun(
      client,
      {
        ...(runId ? { runId } : {}),
        all: c.cleanupAll,
        concurrency: c.cleanupConcurrency,
        timeoutMs: c.cleanupTimeout,
        jobTimeoutMs: c.cleanupJobTimeout,
      },
      { signal, log: (level, msg) => log[level](msg) },
    );
    return { json: cleanupHarnessJSON(result), text: renderCleanupText(result), exitCode: result.exit_code };
  },
);
