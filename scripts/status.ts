#!/usr/bin/env -S npx tsx
// Prints the current run's status for the template's agent metadata (called every second):
//
//   status.ts                     status, e.g. "Running", "Complete", "Failed (exit=1)"; "Not started"
//   status.ts --phase             current phase, with " [done]" after it ended; "None"
//   status.ts --previous-phase    the phase started before the current one; "None"
//
// The run: --run-id / SCALETEST_RUN_ID under --results-dir / SCALETEST_RESULTS_DIR (default ./results),
// else the one named in <results-dir>/LATEST. Like Coder's lib.sh it never fails loudly: anything
// unreadable prints "Not started" / "None" and exits 0. It stays fast by importing only the results
// folder reader (no config loader, no CLI library).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
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

/** Parses the few flags by hand (commander and the config schema are too slow to load every second). */
export function parseStatusArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): StatusArgs {
  const out: StatusArgs = {
    what: "status",
    resultsDir: env.SCALETEST_RESULTS_DIR || "./results",
    runId: env.SCALETEST_RUN_ID || "",
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const name = eq > 0 ? a.slice(0, eq) : a;
    const value = () => (eq > 0 ? a.slice(eq + 1) : (argv[++i] ?? ""));
    if (name === "--phase") out.what = "phase";
    else if (name === "--previous-phase") out.what = "previous-phase";
    else if (name === "--status") out.what = "status";
    else if (name === "--results-dir") out.resultsDir = value();
    else if (name === "--run-id") out.runId = value();
    else if (name === "--help" || name === "-h") out.help = true;
    // Anything else is ignored: metadata must keep showing something.
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
