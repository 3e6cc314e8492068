// Helpers for pipeline tests: load the run script's settings the way scripts/run.ts does, run the pipeline
// in-process against a simulator, and read what it wrote.
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig, type Config } from "../../src/config/index.ts";
import { runPipeline, type PipelineOutcome } from "../../src/pipeline/pipeline.ts";
import type { Sim } from "./sim.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const FAKE_CODER = join(ROOT, "test", "fake-coder", "coder");

/** A small, fast pipeline: few workspaces, short scenarios, no metrics port, no banner. */
export const SMALL = [
  "--workspaces", "4",
  "--create-concurrency", "4",
  "--duration", "2s",
  "--percentage", "25",
  "--baseline-wait", "0s",
  "--dashboard-concurrency", "2",
  "--think-time", "100ms",
  "--metrics-address", "",
  // The machine's speed is not what these runs test: page limits a loaded 2-core CI machine running several
  // test files at once always meets (the defaults, 500ms / 1s, are for real deployments). Tests of the
  // dashboard limits pass their own.
  "--threshold-dashboard-p95", "10s",
  "--threshold-dashboard-p99", "20s",
];

export function simEnv(sim: Sim, resultsDir: string): Record<string, string> {
  return {
    CODER_URL: sim.url,
    CODER_SESSION_TOKEN: sim.ownerToken,
    SCALETEST_RESULTS_DIR: resultsDir,
    SCALETEST_CODER_BINARY: FAKE_CODER,
  };
}

export function tempResults(): string {
  return mkdtempSync(join(tmpdir(), "pipeline-"));
}

export function pipelineConfig(sim: Sim, resultsDir: string, argv: string[]): Config {
  return loadConfig("run", argv, { env: simEnv(sim, resultsDir), envFile: false }).config;
}

export async function runSmall(
  sim: Sim,
  resultsDir: string,
  argv: string[],
  signal: AbortSignal = new AbortController().signal,
): Promise<PipelineOutcome & { output: string }> {
  let output = "";
  const outcome = await runPipeline(pipelineConfig(sim, resultsDir, [...SMALL, ...argv]), { signal, out: (t) => (output += t) });
  return { ...outcome, output };
}

export function readJSON<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

/** Every file below `dir`, recursively. */
export function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}
