// Runs the product itself against the simulator to get a real run folder for report tests (no hand-written
// fixture): the pipeline with a few workspaces, traffic and dashboard phases, written to `resultsDir`.
import { cpSync } from "node:fs";
import { join } from "node:path";
import { runSmall } from "./pipeline.ts";
import { withSim, type SimOptions } from "./sim.ts";

/** The scenarios a report run covers: traffic (two kinds) and the dashboard. */
export const REPORT_SCENARIOS = ["--scenarios", "ssh,web-terminal,dashboard", "--percentage", "50", "--workspaces", "4", "--create-concurrency", "4"];

export async function productRun(
  resultsDir: string,
  runId: string,
  argv: string[] = [],
  sim: SimOptions = {},
  o: { coderdMetrics?: boolean } = {},
): Promise<{ runDir: string; exitCode: number; output: string }> {
  // coderdMetrics: scrape the simulator's coderd metrics endpoint, so the report has its server-side section.
  const out = await withSim(sim, (s) =>
    runSmall(s, resultsDir, ["--run-id", runId, ...REPORT_SCENARIOS, ...(o.coderdMetrics ? ["--coderd-metrics-url", s.metricsUrl, "--coderd-metrics-interval", "1s"] : []), ...argv]),
  );
  if (!out.runDir) throw new Error(`the pipeline wrote no run folder:\n${out.output}`);
  return { runDir: out.runDir, exitCode: out.exitCode, output: out.output };
}

/** A copy of a run folder under another id (tests that damage or rewrite files keep the original intact). */
export function copyRun(runDir: string, resultsDir: string, runId: string): string {
  const to = join(resultsDir, runId);
  cpSync(runDir, to, { recursive: true });
  return to;
}
