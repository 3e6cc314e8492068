#!/usr/bin/env -S npx tsx
// The staged scale test: prepare -> create workspaces -> baseline -> load scenarios -> report -> cleanup.
// The runner workspace starts it on boot (settings arrive as env vars from the template's parameters);
// every setting is also a flag, e.g.
//   ./scripts/run.ts --workspaces 12 --scenarios ssh,web-terminal,app,dashboard --concurrent \
//     --duration 5s --baseline-wait 2s --cleanup-strategy always --results-dir ./results --dry-run
import { loadConfigOrExit } from "../src/config/index.ts";
import { isBadInput } from "../src/util/errors.ts";
import { runPipeline } from "../src/pipeline/pipeline.ts";
import { log } from "../src/util/log.ts";
import { redactError } from "../src/util/redact.ts";
import { stopSignal } from "../src/util/signals.ts";

const { config } = loadConfigOrExit("run", process.argv.slice(2), {
  description: "Run the staged scale test against a Coder deployment (or print its plan with --dry-run).",
});
log.setVerbose(config.verbose);

try {
  const outcome = await runPipeline(config, { signal: stopSignal() });
  process.exit(outcome.exitCode);
} catch (e) {
  // Raised before anything was created or written (preflight): one clear message; bad input exits 2.
  const bad = isBadInput(e);
  process.stderr.write(`run: ${redactError(e, config.verbose)}\n`);
  process.exit(bad ? 2 : 1);
}
