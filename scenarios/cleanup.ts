#!/usr/bin/env -S npx tsx
// cleanup: delete one run's scaletest-<run-id>-* workspaces (waiting for their delete builds), then
// its users; or, with --all, every scaletest-* workspace and user. Nothing without the scaletest-
// prefix is ever touched, nor the runner's own user. Safe to run again: it then finds nothing.
// Parity: `coder exp scaletest cleanup`. Example: ./scenarios/cleanup.ts --run-id k3x9q2
import type { Loaded } from "../src/config/index.ts";
import { cleanupRunner } from "../src/cleanup/phase.ts";
import { runScenario } from "../src/scenario/main.ts";

// --run-id counts only when given: the settings generate one otherwise, and that would match nothing.
const givenRunId = (loaded: Loaded): string | null => (loaded.sources.runId === "default" ? null : loaded.config.runId);
const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);

await runScenario("cleanup", {
  description: "Delete a run's scaletest- workspaces and users (or every run's with --all).",
  metrics: false,
  // Cleanup deletes the runs' tokens by name: it works with the token it was given.
  runToken: false,
  runner: (loaded) => cleanupRunner({ runId: givenRunId(loaded), ownTokenId: loaded.config.token.split("-")[0] ?? "", stoppable: true }),
  // --all belongs to no run, so it gets its own folder (never LATEST).
  resultsFolder: (loaded) => (loaded.config.cleanupAll ? `cleanup-all-${stamp(new Date())}` : undefined),
});
