// The shared shape of every scenario script: settings -> client -> results folder -> metrics -> the
// scenario's own work -> outputs -> exit code. Scripts in scenarios/ stay thin by calling runScenario.
import { join, relative } from "node:path";
import type { Command } from "commander";
import { CoderClient } from "../coder/index.ts";
import { apiBlock } from "../coder/stats.ts";
import { loadConfigOrExit, type Config, type Loaded, type ScriptName } from "../config/index.ts";
import { configureMetrics, startMetricsServer, type MetricsServerHandle } from "../metrics/index.ts";
import { checkWritable, openResultsDir, type ResultsDir } from "../results/dir.ts";
import { parseOutputSpecs, writeOutputs } from "../results/outputs.ts";
import { log, type Logger } from "../util/log.ts";
import { redactError } from "../util/redact.ts";
import { receivedStopSignal, stopSignal } from "../util/signals.ts";

export interface ScenarioContext {
  script: ScriptName;
  config: Config;
  loaded: Loaded;
  runId: string;
  client: CoderClient;
  /** `<results-dir>/<run-id>/` (or the folder ScenarioOptions.resultsFolder named) */
  results: ResultsDir;
  /** This script's folder inside the run folder (result.json, summary.txt, phase.log, screenshots). */
  phaseDir: string;
  /** Aborted by the first SIGINT/SIGTERM: stop starting work, finish or cancel what is in flight. */
  signal: AbortSignal;
  log: Logger;
  metrics: MetricsServerHandle | null;
}

export interface ScenarioOutcome {
  /** Machine-readable results (Coder's harness shape plus our fields). */
  json: unknown;
  /** Human summary. */
  text: string;
  exitCode: number;
}

export interface ScenarioOptions {
  description: string;
  /** Script-specific flags that are not settings. */
  extend?: (cmd: Command) => void;
  /** Scripts that do not need a results folder or metrics (e.g. cleanup) can opt out of metrics. */
  metrics?: boolean;
  /** The script's own input checks, run before anything is written: a throw exits 2 with its message. */
  precheck?: (loaded: Loaded) => void;
  /**
   * Names the results folder explicitly (e.g. `cleanup-all-<timestamp>` for work that belongs to no run);
   * undefined: `<results-dir>/<run-id>/`.
   */
  resultsFolder?: (loaded: Loaded) => string | undefined;
}

/** Adds `api` to a phase record's `extra`, or at the top of other result objects (Coder's harness JSON). */
function withApiBlock(json: unknown, api: ReturnType<typeof apiBlock>): void {
  if (!json || typeof json !== "object") return;
  const o = json as { extra?: unknown; api?: unknown };
  if (o.extra && typeof o.extra === "object") (o.extra as { api?: unknown }).api = api;
  else o.api = api;
}

/** Builds the API client the way every entry point does (pool sized for the work's concurrency). */
export function clientFor(config: Config, concurrency = 16): CoderClient {
  return new CoderClient({ url: config.url, token: config.token, concurrency: Math.max(1, concurrency), trustedOrigins: config.trustedOrigins });
}

/**
 * Runs a scenario script end to end and exits the process with the scenario's exit code.
 * Bad settings exit 2 before anything is created; an unexpected error exits 1 with a redacted message.
 */
export async function runScenario(
  script: ScriptName,
  opts: ScenarioOptions,
  body: (ctx: ScenarioContext) => Promise<ScenarioOutcome>,
): Promise<never> {
  const loaded = loadConfigOrExit(script, process.argv.slice(2), { description: opts.description, extend: opts.extend });
  const { config } = loaded;
  log.setVerbose(config.verbose);
  let specs;
  try {
    specs = parseOutputSpecs(config.outputs);
    opts.precheck?.(loaded);
    checkWritable(config.resultsDir);
  } catch (e) {
    process.stderr.write(`${script}: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const signal = stopSignal();
  const folder = opts.resultsFolder?.(loaded);
  const results = openResultsDir(config.resultsDir, config.runId, folder === undefined ? {} : { folder });
  const phaseDir = results.phaseDir(script);
  const stopFileLog = log.toFile(join(phaseDir, "phase.log"));
  const client = clientFor(config, 32);
  let metrics: MetricsServerHandle | null = null;
  let exitCode = 1;
  try {
    if (opts.metrics !== false && config.metricsAddress) {
      configureMetrics({ shard: config.shard });
      metrics = await startMetricsServer(config.metricsAddress);
      log.info(`${script}: metrics at ${metrics.url}`);
    }
    log.info(`${script}: run ${config.runId}, results in ${phaseDir}`);
    const outcome = await body({ script, config, loaded, runId: config.runId, client, results, phaseDir, signal, log, metrics });
    // Every API call and retry the scenario made, as the pipeline records per phase: faults the client
    // absorbed still leave a trace.
    withApiBlock(outcome.json, apiBlock(client.stats()));
    const rel = relative(results.path, phaseDir);
    results.writeJSON(join(rel, "result.json"), outcome.json);
    results.writeText(join(rel, "summary.txt"), outcome.text);
    await writeOutputs(specs, { json: outcome.json, text: outcome.text });
    exitCode = outcome.exitCode;
    const stoppedBy = receivedStopSignal();
    if (stoppedBy && exitCode === 0) exitCode = 1;
    if (metrics && config.metricsWait > 0 && !stoppedBy) {
      log.info(`${script}: keeping metrics up ${config.metricsWait} ms for a final scrape`);
      await new Promise((r) => setTimeout(r, config.metricsWait));
    }
  } catch (e) {
    log.error(`${script} failed: ${redactError(e, config.verbose)}`);
    exitCode = 1;
  } finally {
    await metrics?.close();
    await client.close();
    stopFileLog();
  }
  process.exit(exitCode);
}
