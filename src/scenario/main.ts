// The shared shape of every scenario script: settings -> the runner's validate and prepare (bad input
// exits 2 and writes nothing, LATEST untouched) -> results folder -> the harness (the same phase record the
// pipeline writes, in a new folder per attempt) -> summary.json over the run's phases -> outputs -> exit
// code. Scripts in scenarios/ stay thin: they name a runner.
import { activateCoderdMetrics } from "../metrics/coderd/collector.ts";
import type { Command } from "commander";
import { CoderClient } from "../coder/index.ts";
import { apiBlock } from "../coder/stats.ts";
import { ConfigError, loadConfigOrExit, type Config, type Loaded, type ScriptName } from "../config/index.ts";
import { configureMetrics, startMetricsServer, type MetricsServerHandle } from "../metrics/index.ts";
import { checkWritable, openResultsDir, PHASE_RESULT_FILE, SUMMARY_FILE, type ResultsDir } from "../results/dir.ts";
import { parseOutputSpecs, writeOutputs } from "../results/outputs.ts";
import { RunRecorder } from "../results/run-info.ts";
import { PhaseRecord, readResultsFile, RunSummary } from "../results/schema.ts";
import { buildRunSummary, formatPhaseText } from "../results/summary.ts";
import { BadInputError } from "../util/errors.ts";
import { log } from "../util/log.ts";
import { redactError } from "../util/redact.ts";
import { receivedStopSignal, stopSignal } from "../util/signals.ts";
import { sleep } from "../util/sleep.ts";
import { untilStopped } from "../util/abort.ts";
import { writeFaults, writeFaultsLine } from "../util/write-faults.ts";
import { runRunner } from "./harness.ts";
import { forgetRunToken, mintRunToken, type RunToken } from "../pipeline/token.ts";
import { boundRunUnits } from "./units.ts";
import { judgeFor } from "./judges.ts";
import type { PhaseTargets, Runner, RunnerContext } from "./runner.ts";

export interface ScenarioOptions<S> {
  description: string;
  /** Script-specific flags that are not settings. */
  extend?: (cmd: Command) => void;
  /** Scripts that need no metrics endpoint (e.g. cleanup) opt out. */
  metrics?: boolean;
  /** The runner this script runs (from the loaded settings). */
  runner: (loaded: Loaded) => Runner<S>;
  targets?: (loaded: Loaded) => PhaseTargets;
  /**
   * Names the results folder explicitly (e.g. `cleanup-all-<timestamp>` for work that belongs to no run);
   * undefined: `<results-dir>/<run-id>/`.
   */
  resultsFolder?: (loaded: Loaded) => string | undefined;
  /**
   * The load runs on the run's own API token (scaletest-runner-<run-id>), minted once the checks pass and
   * revoked at the end, as the pipeline's; false: the token the script was started with (cleanup, which
   * deletes run tokens by name).
   */
  runToken?: boolean;
}

/** Builds the API client the way every entry point does (pool sized for the work's concurrency). */
export function clientFor(config: Config, concurrency = 16): CoderClient {
  return new CoderClient({
    url: config.url,
    token: config.token,
    concurrency: Math.max(1, concurrency),
    trustedOrigins: config.trustedOrigins,
    timeoutMs: config.requestTimeout,
    connectTimeoutMs: config.connectTimeout,
    // The Owner's and the run's clients, as Coder's CLI: per-user clients are built without it.
    bypassRateLimit: true,
  });
}

function refuse(script: string, e: unknown): never {
  process.stderr.write(`${(e as Error).message.startsWith(`${script}:`) ? "" : `${script}: `}${(e as Error).message}\n`);
  process.exit(2);
}

/**
 * summary.json of a run folder from its phases' latest attempts (plus the folderless phases an earlier
 * summary listed, e.g. the pipeline's waits), so scenario reruns show in report.ts like any phase.
 */
export function refreshRunSummary(results: ResultsDir, startedAt: string): RunSummary {
  const latest = new Map<string, { rec: PhaseRecord; dir: string }>();
  for (const p of results.listPhases()) {
    const file = `${p.path}/${PHASE_RESULT_FILE}`;
    if (!results.exists(`${p.dirName}/${PHASE_RESULT_FILE}`)) continue;
    latest.set(p.name, { rec: readResultsFile(PhaseRecord, file), dir: p.dirName });
  }
  const prev = results.exists(SUMMARY_FILE) ? readResultsFile(RunSummary, results.resolve(SUMMARY_FILE)) : null;
  const phases = [...latest.values()].map(({ rec, dir }) => ({ ...rec, dir }));
  const summary = buildRunSummary({ runId: results.runId, startedAt: new Date(startedAt), endedAt: new Date(), phases });
  const folderless = (prev?.phases ?? []).filter((p) => p.dir === null);
  summary.phases = [...summary.phases, ...folderless].sort((a, b) => a.started_at.localeCompare(b.started_at));
  if (summary.status === "pass" && folderless.some((p) => p.status === "fail" || p.status === "error")) summary.status = "fail";
  results.writeJSON(SUMMARY_FILE, summary);
  return summary;
}

/**
 * Runs a scenario script end to end and exits the process with the phase's exit code: 0 pass, 1 fail or
 * interrupted, 2 bad input (before anything is created or written).
 */
export async function runScenario<S>(script: ScriptName, opts: ScenarioOptions<S>): Promise<never> {
  const loaded = loadConfigOrExit(script, process.argv.slice(2), { description: opts.description, ...(opts.extend ? { extend: opts.extend } : {}) });
  const { config } = loaded;
  log.setVerbose(config.verbose);
  const signal = stopSignal();
  const client = clientFor(config, 32);
  // A shard (--shard i/n, n > 1) runs on the token its runner handed it: the run's, which it must not replace.
  const mintsToken = opts.runToken !== false && (config.shard ?? "0/1").endsWith("/1");
  let runner: Runner<S>;
  let settings: S;
  let specs;
  const targets = opts.targets?.(loaded) ?? {};
  let judge;
  try {
    specs = parseOutputSpecs(config.outputs);
    checkWritable(config.resultsDir);
    runner = opts.runner(loaded);
    settings = runner.validate(config, targets);
    judge = judgeFor(runner, config, script);
    // A coderd.* threshold needs a readable source of coderd's metrics: bad input otherwise.
    await activateCoderdMetrics(config);
    // Read-only checks against the deployment (templates, parameters, targets): still nothing written.
    if (runner.prepare) {
      const pre: RunnerContext = {
        config, client, runId: config.runId, phase: runner.name, phaseDir: "", signal, log, targets, live: () => {}, runUnits: boundRunUnits(signal),
        // Before the run's token exists: the checks hand the token they were started with to no child process.
        ...(mintsToken ? { checkOnly: true } : {}),
      };
      // Nothing is created yet: a stop signal ends the checks at once, whatever call is still waiting.
      settings = await untilStopped(runner.prepare(pre, settings), signal);
    }
  } catch (e) {
    if (signal.aborted) {
      process.stderr.write(`${script}: ${(signal.reason as Error).message} before anything was created\n`);
      process.exit(1);
    }
    await client.close();
    if (e instanceof BadInputError || e instanceof ConfigError) refuse(script, e);
    process.stderr.write(`${script}: ${redactError(e, config.verbose)}\n`);
    process.exit(1);
  }
  const folder = opts.resultsFolder?.(loaded);
  let results: ResultsDir;
  try {
    // Takes the run's lock: a run with this id already going is bad input, and nothing was created yet.
    results = openResultsDir(config.resultsDir, config.runId, folder === undefined ? {} : { folder });
  } catch (e) {
    await client.close();
    if (e instanceof BadInputError) refuse(script, e);
    throw e;
  }
  const startedAt = new Date();
  const recorder = new RunRecorder(results, { config, origin: "scenarios", script, startedAt });
  recorder.save();
  let metrics: MetricsServerHandle | null = null;
  let exitCode = 1;
  let token: RunToken | null = null;
  let load = client;
  try {
    if (mintsToken) {
      token = await mintRunToken(client, config);
      load = clientFor({ ...config, token: token.key }, 32);
    }
    if (opts.metrics !== false && config.metricsAddress) {
      configureMetrics({ shard: config.shard });
      metrics = await startMetricsServer(config.metricsAddress);
      log.info(`${script}: metrics at ${metrics.url}`);
    }
    log.info(`${script}: run ${config.runId}, results in ${results.path}`);
    results.setStatus(`Running ${script}`);
    const { record, dir, result } = await runRunner(
      { results, recorder, runId: config.runId, api: () => load.stats() },
      // With the run's token the runner checks again what needs it (the coder CLI authenticated as the run).
      { runner, settings, config, client: load, signal, judge, targets, prepare: token !== null },
    );
    // Every API call and retry the scenario made, as the pipeline records per phase.
    recorder.record.api = apiBlock(load.stats());
    const summary = refreshRunSummary(results, recorder.record.started_at);
    const text = formatPhaseText(record, result?.text ?? "") + `\nResult: ${record.status === "pass" ? "PASS" : record.status.toUpperCase()}\nResults: ${results.path}/${dir}\n`;
    // Coder's harness JSON carries the API counters at its top, as our other additions.
    await writeOutputs(specs, { json: record, text, harness: record.harness ? { ...record.harness, api: record.extra.api } : null });
    // A phase whose results could not all be written did not pass.
    exitCode = record.status === "pass" && writeFaults().count === 0 ? 0 : 1;
    if (writeFaults().count) recorder.record.results_write_failures = writeFaults().count;
    const stoppedBy = receivedStopSignal();
    results.setStatus(stoppedBy ? `Interrupted (${stoppedBy})` : record.status === "pass" ? "Complete" : `Failed (exit=${exitCode})`);
    recorder.finish(stoppedBy ? "interrupted" : summary.status === "pass" ? "pass" : "fail", exitCode);
    if (metrics && config.metricsWait > 0 && !stoppedBy) {
      log.info(`${script}: keeping metrics up ${config.metricsWait} ms for a final scrape`);
      await sleep(config.metricsWait, stopSignal());
    }
  } catch (e) {
    log.error(`${script} failed: ${redactError(e, config.verbose)}`);
    results.setStatus(`Failed (exit=1)`);
    recorder.finish("error", 1);
    exitCode = 1;
  } finally {
    await metrics?.close();
    if (load !== client) await load.close();
    if (token) await forgetRunToken(client, token);
    await client.close();
  }
  const faults = writeFaultsLine();
  if (faults) {
    process.stderr.write(`${script}: ${faults}\n`);
    exitCode = exitCode === 0 ? 1 : exitCode;
  }
  results.close();
  process.exit(exitCode);
}
