#!/usr/bin/env -S npx tsx
// Capacity search: the staged pipeline with --capacity on. Instead of asking "did N work?", it steps one load
// up (concurrent builds, workspaces, web-terminal/SSH/app connections or dashboard users) and reports the
// largest step that met every threshold, client- and server-side, each judged on its step's window alone:
//   ./scripts/capacity.ts --capacity-load web-terminal --workspaces 400 --capacity-steps 50,100,200,400 \
//     --capacity-hold 5m --threshold 'web-terminal.tick.p99<100ms' --threshold 'coderd.api.p95<500ms'
//   ./scripts/capacity.ts --capacity-load builds --capacity-mode bisect --capacity-start 10 --capacity-max 400 \
//     --capacity-resolution 10 --threshold 'create.provision.p95<2m' --dry-run
// Every pipeline setting is a flag here too (template, cleanup strategy, --runners, thresholds, ...).
import { loadConfigOrExit } from "../src/config/index.ts";
import { runPipeline } from "../src/pipeline/pipeline.ts";
import { isBadInput } from "../src/util/errors.ts";
import { log } from "../src/util/log.ts";
import { redactError } from "../src/util/redact.ts";
import { stopSignal } from "../src/util/signals.ts";

const loaded = loadConfigOrExit("run", process.argv.slice(2), {
  description: "Search a Coder deployment's capacity: step one load up and report the largest step that met every threshold (or print the step plan with --dry-run).",
  // The pipeline's settings, under this script's name.
  extend: (cmd) => void cmd.name("capacity"),
});
const config = { ...loaded.config, capacity: true };
log.setVerbose(config.verbose);

try {
  const outcome = await runPipeline(config, { signal: stopSignal() });
  process.exit(outcome.exitCode);
} catch (e) {
  // Raised before anything was created or written (preflight): one clear message; bad input exits 2.
  process.stderr.write(`capacity: ${redactError(e, config.verbose)}\n`);
  process.exit(isBadInput(e) ? 2 : 1);
}
