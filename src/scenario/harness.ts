// The one harness every phase runs through, in the pipeline and in the scenario scripts alike: a new
// results folder per attempt, the phase's log file, state/phase lines for the template's metadata, a
// run.json entry, a Grafana region, the stop signal, the phase timeout and abort thresholds, API counters,
// and the phase record (result.json + summary.txt) built from the runner's PhaseResult. A phase that
// throws becomes an "error" record; it never takes the caller down with it.
import type { ClientStats, CoderClient } from "../coder/index.ts";
import { apiBlock, diffStats } from "../coder/stats.ts";
import type { Config } from "../config/index.ts";
import { activateCoderdMetrics, activeCoderdMetrics, type PhaseWatch } from "../metrics/coderd/collector.ts";
import type { ResultsDir } from "../results/dir.ts";
import { HarnessResults } from "../results/harness.ts";
import { stagesOf } from "../results/metric-set.ts";
import { settingsByFlag, type RunRecorder } from "../results/run-info.ts";
import type { MetricSetJSON, PhaseRecord, ThresholdRow } from "../results/schema.ts";
import { buildPhaseRecord, writePhaseRecord } from "../results/summary.ts";
import { log } from "../util/log.ts";
import { redactError } from "../util/redact.ts";
import { receivedStopSignal } from "../util/signals.ts";
import type { Judge } from "./judge.ts";
import { boundRunUnits } from "./units.ts";
import type { PhaseResult, PhaseTargets, Runner, RunnerContext } from "./runner.ts";

/** Something that marks phases on a dashboard (Grafana regions); the scripts use none. */
export interface Annotator {
  start(text: string, tags: string[]): Promise<(extraTags?: string[]) => Promise<void>>;
}

const noAnnotator: Annotator = { start: async () => async () => {} };

export interface HarnessDeps {
  results: ResultsDir;
  recorder: RunRecorder;
  runId: string;
  annotator?: Annotator;
  /** API client counters (requests, retries by cause); each phase records what changed while it ran. */
  api?: () => ClientStats;
}

export interface StepOptions {
  /** Also writes START/END lines to state/phase (false for scenarios inside a concurrent wrapper). */
  statePhase?: boolean;
  /** Writes a folder with result.json (false for waits). */
  folder?: boolean;
  tags?: string[];
  /** The counters of a client used only by this phase (instead of deps.api). */
  api?: () => ClientStats;
}

export interface Recorded {
  record: PhaseRecord;
  /** The phase's folder name ("03-ssh-traffic"), or null. */
  dir: string | null;
  result?: PhaseResult;
}

interface StepOutput {
  record: PhaseRecord;
  detail?: string;
  result?: PhaseResult;
}

/** Records any piece of work as phase `name` (the runner phases and the pipeline's own steps alike). */
export async function recordStep(
  deps: HarnessDeps,
  name: string,
  text: string,
  fn: (phase: { path: string | null; attempt: number; coderd: PhaseWatch | null }) => Promise<StepOutput>,
  opts: StepOptions = {},
): Promise<Recorded> {
  const { results, recorder } = deps;
  const annotator = deps.annotator ?? noAnnotator;
  const statePhase = opts.statePhase ?? true;
  const folder = opts.folder ?? true ? results.newPhaseDir(name) : null;
  const stopLog = folder ? log.toFile(`${folder.path}/phase.log`) : () => {};
  if (statePhase) results.startPhase(text);
  const entry = recorder.startPhase(name, text, folder?.dirName ?? null);
  const endAnnotation = await annotator.start(text, ["phase", ...(opts.tags ?? [])]);
  log.info(`phase ${name}: ${text}`);
  const startedAt = new Date();
  const apiStats = opts.api ?? deps.api;
  const apiBefore = apiStats?.();
  // Server side: coderd's own metrics over this phase's window (src/metrics/coderd), when a source is set.
  const coderd = (await activeCoderdMetrics()?.begin(name)) ?? null;
  let out: StepOutput;
  try {
    out = await fn({ path: folder?.path ?? null, attempt: folder?.attempt ?? 1, coderd });
  } catch (e) {
    log.error(`phase ${name} failed: ${redactError(e, log.isVerbose())}`);
    out = {
      record: buildPhaseRecord({ runId: deps.runId, phase: name, attempt: folder?.attempt ?? 1, startedAt, endedAt: new Date(), error: e, interruptedBy: receivedStopSignal() }),
    };
  }
  const record = out.record;
  if (apiStats && apiBefore) record.extra.api = apiBlock(diffStats(apiStats(), apiBefore));
  if (coderd) out.detail = [out.detail, await coderd.finish(record)].filter(Boolean).join("\n\n");
  if (folder) writePhaseRecord(results, folder.path, record, out.detail);
  recorder.endPhase(entry, record.status);
  await endAnnotation(record.status === "pass" || record.status === "skipped" ? [] : ["error"]);
  if (statePhase) results.endPhase(`${text}${record.status === "pass" ? "" : ` (${record.status})`}`);
  const failed = record.thresholds.filter((t) => !t.ok).map((t) => t.expression);
  log.info(`phase ${name}: ${record.status}${failed.length ? ` (failed: ${failed.join(", ")})` : ""}`);
  stopLog();
  return { record, dir: folder?.dirName ?? null, ...(out.result ? { result: out.result } : {}) };
}

/** The abort reason when an abort-marked threshold failed during the phase. */
export class ThresholdAbortError extends Error {
  constructor(readonly row: ThresholdRow) {
    super(`threshold ${row.expression} failed (observed ${row.observed}) and is marked to abort the run`);
    this.name = "ThresholdAbortError";
  }
}

export interface RunnerPhase<S> {
  runner: Runner<S>;
  /** From runner.validate (and prepare, when the caller ran it already). */
  settings: S;
  config: Config;
  client: CoderClient;
  /** The caller's stop signal (SIGINT/SIGTERM). */
  signal: AbortSignal;
  judge: Judge;
  /** Phase name (default: the runner's name). */
  phase?: string;
  text?: string;
  targets?: PhaseTargets;
  /** How often abort thresholds are evaluated while the phase runs (default 2 s). */
  abortEveryMs?: number;
  /** Runs runner.prepare before run (scripts; the pipeline prepares up front). */
  prepare?: boolean;
}

/** Coder's harness results JSON from the units. */
function harnessJSON(r: PhaseResult): NonNullable<PhaseRecord["harness"]> {
  const h = new HarnessResults();
  for (const u of r.units) {
    h.add({
      testName: u.testName,
      id: u.id,
      startedAt: u.startedAt,
      durationMs: u.durationMs,
      error: u.ok ? null : (u.error ?? "failed"),
      logs: u.logs ?? "",
      extra: { ...(u.notStarted ? { not_started: true } : {}), stages_ms: u.stages, ...u.extra },
    });
  }
  return h.toJSON(r.activeMs, r.harnessExtra);
}

/** Runs a runner as a phase: context, abort thresholds, cleanup hook, and the phase record. */
export async function runRunner<S>(deps: HarnessDeps, p: RunnerPhase<S>, opts: StepOptions = {}): Promise<Recorded> {
  const name = p.phase ?? p.runner.name;
  // Reads the coderd metrics settings once; a coderd.* threshold without a readable source is bad input.
  await activateCoderdMetrics(p.config);
  return recordStep(
    deps,
    name,
    p.text ?? name,
    async (folder) => {
      const abort = new AbortController();
      const signal = AbortSignal.any([p.signal, abort.signal]);
      let live: (() => MetricSetJSON) | null = null;
      let abortedBy: ThresholdRow | null = null;
      let abortedAt: string | null = null;
      const ctx: RunnerContext = {
        config: p.config,
        client: p.client,
        runId: deps.runId,
        phase: name,
        phaseDir: folder.path ?? deps.results.path,
        signal,
        log,
        targets: p.targets ?? {},
        live: (snapshot) => void (live = snapshot),
        runUnits: boundRunUnits(signal),
      };
      // Abort thresholds are checked every few seconds on the runner's live metrics: once one fails, the
      // phase's signal aborts and the runner starts no further unit.
      const check = (): void => {
        if (!live || abort.signal.aborted) return;
        const row = p.judge.abortFailure(live(), Date.now() - started);
        if (!row) return;
        abortedBy = row;
        abortedAt = new Date().toISOString();
        log.error(`phase ${name}: abort threshold ${row.expression} failed (observed ${row.observed}): stopping the phase`);
        abort.abort(new ThresholdAbortError(row));
      };
      const started = Date.now();
      folder.coderd?.watchAbort((row) => {
        if (abort.signal.aborted) return;
        abortedBy = row;
        abortedAt = new Date().toISOString();
        log.error(`phase ${name}: abort threshold ${row.expression} failed (observed ${row.observed}): stopping the phase`);
        abort.abort(new ThresholdAbortError(row));
      });
      const timer = p.judge.hasAbort ? setInterval(check, p.abortEveryMs ?? 2000) : null;
      timer?.unref();
      let settings = p.settings;
      let result: PhaseResult;
      try {
        if (p.prepare && p.runner.prepare) settings = await p.runner.prepare(ctx, settings);
        result = await p.runner.run(ctx, settings);
      } finally {
        if (timer) clearInterval(timer);
      }
      if (p.runner.cleanup) await p.runner.cleanup(ctx, settings, result);
      const evaluated = p.judge.evaluate(result.metrics);
      const interruptedBy = p.signal.aborted ? receivedStopSignal() : null;
      const aborted = abortedBy as ThresholdRow | null;
      // Stopped early, not by a signal: by this phase's abort threshold, another phase's, or its own timeout.
      const other = p.signal.reason instanceof ThresholdAbortError ? p.signal.reason.row.expression : null;
      const stopped =
        result.stoppedEarly && !interruptedBy && !aborted
          ? other
            ? `stopped because the abort threshold ${other} failed`
            : "stopped before its planned end (timeout)"
          : null;
      const record = buildPhaseRecord({
        runId: deps.runId,
        phase: name,
        runner: p.runner.name,
        attempt: folder.attempt,
        startedAt: result.startedAt,
        endedAt: result.endedAt,
        activeMs: result.activeMs,
        harness: harnessJSON(result),
        stages: result.stages ?? stagesOf(result.metrics),
        headline: result.headline,
        metrics: result.metrics,
        expressions: [...p.judge.expressions],
        thresholds: evaluated,
        settings: settingsByFlag(p.config, p.runner.name, p.runner.settings),
        errors: result.errors,
        interruptedBy,
        abortedBy: aborted?.expression ?? null,
        failed: result.failed ?? stopped,
        // When the failing evaluation stopped the phase: no unit starts after it.
        extra: abortedAt ? { ...result.extra, aborted_at: abortedAt } : result.extra,
      });
      return { record, detail: result.text, result };
    },
    opts,
  );
}
