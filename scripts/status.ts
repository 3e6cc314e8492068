#!/usr/bin/env -S npx tsx
// Prints the current run's status for the template's agent metadata (called every second):
//
//   status.ts                     status, e.g. "Running", "Complete", "Failed (exit=1)"; "Not started"
//   status.ts --phase             current phase, with " [done]" after it ended; "None"
//   status.ts --previous-phase    the phase started before the current one; "None"
//
// The run: --run-id / SCALETEST_RUN_ID under --results-dir / SCALETEST_RESULTS_DIR (default ./results),
// else the one named in <results-dir>/LATEST. Like Coder's lib.sh it never fails loudly: anything
// unreadable prints "Not started" / "None" and exits 0. It imports commander and the results folder reader
// only, not the config loader: commander costs about 30 ms of CPU per call against ~380 ms for tsx itself
// (measured 15 runs each), and the template calls this every 5 s.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { latestRunDir, NO_PHASE, NOT_STARTED, readPhase, readPreviousPhase, readStatus } from "../src/results/dir.ts";
import { isRunId } from "../src/util/naming.ts";

export type StatusWhat = "status" | "phase" | "previous-phase";

const HELP = `Usage: status.ts [--phase | --previous-phase] [--results-dir DIR] [--run-id ID]

Prints the scale test's status (default), current phase or previous phase, as the template's
agent metadata shows them. Reads <results-dir>/<run-id>/state/; without --run-id the run named in
<results-dir>/LATEST. Env: SCALETEST_RESULTS_DIR, SCALETEST_RUN_ID. Prints "Not started"/"None"
when there is nothing to show, and always exits 0.
`;

export interface StatusArgs {
  what: StatusWhat;
  resultsDir: string;
  runId: string;
  help: boolean;
}

/**
 * Parses the flags with commander, leniently: unknown flags, missing values and stray arguments are ignored
 * (metadata must keep showing something), and of --status/--phase/--previous-phase the last one wins.
 */
export function parseStatusArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StatusArgs {
  const out: StatusArgs = {
    what: "status",
    resultsDir: env.SCALETEST_RESULTS_DIR || "./results",
    runId: env.SCALETEST_RUN_ID || "",
    help: false,
  };
  const cmd = new Command("status.ts")
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} })
    .option("--status")
    .option("--phase")
    .option("--previous-phase")
    .option("--results-dir <dir>")
    .option("--run-id <id>")
    .option("-h, --help");
  for (const what of ["status", "phase", "previous-phase"] as const) cmd.on(`option:${what}`, () => (out.what = what));
  cmd.on("option:results-dir", (v: string) => (out.resultsDir = v));
  cmd.on("option:run-id", (v: string) => (out.runId = v));
  cmd.on("option:help", () => (out.help = true));
  try {
    cmd.parse([...argv], { from: "user" });
  } catch {
    // A flag without its value: keep what was parsed before it.
  }
  return out;
}

/** The line to print; never throws. */
export function statusText(args: StatusArgs): string {
  const none = args.what === "status" ? NOT_STARTED : NO_PHASE;
  try {
    let runDir: string | null = null;
    if (isRunId(args.runId)) {
      const dir = resolve(args.resultsDir, args.runId);
      runDir = existsSync(join(dir, "state")) ? dir : null;
    } else runDir = latestRunDir(args.resultsDir);
    if (!runDir) return none;
    if (args.what === "phase") return readPhase(runDir);
    if (args.what === "previous-phase") return readPreviousPhase(runDir);
    return readStatus(runDir);
  } catch {
    return none;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseStatusArgs(process.argv.slice(2));
    process.stdout.write(args.help ? HELP : statusText(args) + "\n");
  } catch {
    process.stdout.write(NOT_STARTED + "\n");
  }
  process.exitCode = 0;
}
