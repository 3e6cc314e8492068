// Running one phase: the state file the template's metadata reads, a Grafana region, a run.json entry,
// and the phase's record (result.json + summary.txt) in its own folder. A phase that throws becomes an
// "error" record; it never takes the pipeline down with it.
import { relative } from "node:path";
import type { ClientStats } from "../coder/index.ts";
import type { ResultsDir } from "../results/dir.ts";
import { buildPhaseRecord, writePhaseRecord, type PhaseRecord } from "../results/summary.ts";
import { log } from "../util/log.ts";
import { redactError } from "../util/redact.ts";
import { receivedStopSignal } from "../util/signals.ts";
import { sleep } from "../util/sleep.ts";
import { apiBlock, diffStats } from "../coder/stats.ts";
import type { Annotator } from "./grafana.ts";
import type { RunRecorder } from "./record.ts";

export interface PhaseDeps {
  results: ResultsDir;
  recorder: RunRecorder;
  annotator: Annotator;
  runId: string;
  /** API client counters (requests, retries by cause); each phase records what changed while it ran. */
  api?: () => ClientStats;
}

export interface PhaseOptions {
  /** Also writes START/END lines to state/phase (false for scenarios inside a concurrent wrapper). */
  statePhase?: boolean;
  /** Writes a folder with result.json (false for waits). */
  folder?: boolean;
  tags?: string[];
  /** The counters of a client used only by this phase (instead of deps.api). */
  api?: () => ClientStats;
}

/** Runs `fn` as phase `name`; returns its record (also for failures, as status "error"). */
export async function runPhase(
  deps: PhaseDeps,
  name: string,
  text: string,
  fn: (dir: string | null) => Promise<PhaseRecord>,
  opts: PhaseOptions = {},
): Promise<PhaseRecord> {
  const { results, recorder, annotator } = deps;
  const statePhase = opts.statePhase ?? true;
  const folder = opts.folder ?? true;
  const dir = folder ? results.phaseDir(name) : null;
  const stopLog = dir ? log.toFile(`${dir}/phase.log`) : () => {};
  if (statePhase) results.startPhase(text);
  const entry = recorder.startPhase(name, text, dir ? relative(results.path, dir) : null);
  const endAnnotation = await annotator.start(text, ["phase", ...(opts.tags ?? [])]);
  log.info(`phase ${name}: ${text}`);
  const startedAt = new Date();
  const apiStats = opts.api ?? deps.api;
  const apiBefore = apiStats?.();
  let record: PhaseRecord;
  try {
    record = await fn(dir);
  } catch (e) {
    log.error(`phase ${name} failed: ${redactError(e, log.isVerbose())}`);
    record = buildPhaseRecord({
      runId: deps.runId,
      phase: name,
      startedAt,
      endedAt: new Date(),
      error: e,
      interruptedBy: receivedStopSignal(),
    });
  }
  if (apiStats && apiBefore) record.extra.api = apiBlock(diffStats(apiStats(), apiBefore));
  if (dir) writePhaseRecord(results, record);
  recorder.endPhase(entry, record.status);
  await endAnnotation(record.status === "pass" || record.status === "skipped" ? [] : ["error"]);
  if (statePhase) results.endPhase(`${text}${record.status === "pass" ? "" : ` (${record.status})`}`);
  log.info(`phase ${name}: ${record.status}`);
  stopLog();
  return record;
}

/** A wait phase (baseline, stagger): recorded in run.json and state, no folder. */
export async function baselineWait(deps: PhaseDeps, ms: number, signal: AbortSignal, label = "baseline"): Promise<PhaseRecord> {
  return runPhase(
    deps,
    label,
    `Waiting ${Math.round(ms / 1000)}s to establish baseline`,
    async () => {
      const startedAt = new Date();
      await sleep(ms, signal);
      return buildPhaseRecord({
        runId: deps.runId,
        phase: label,
        startedAt,
        endedAt: new Date(),
        interruptedBy: signal.aborted ? receivedStopSignal() : null,
      });
    },
    { folder: false, tags: ["phase-wait"] },
  );
}
