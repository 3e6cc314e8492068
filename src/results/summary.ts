// Phase records and the run summary: the stable JSON every scenario writes into its phase folder
// (result.json) and the pipeline rolls up into summary.json, plus their plain-text forms.
// Fields are snake_case like Coder's harness JSON. Bump `schema` when a field changes meaning.
import type { StopSignalName } from "../util/signals.ts";
import type { ResultsDir } from "./dir.ts";
import { PHASE_RESULT_FILE, PHASE_SUMMARY_FILE } from "./dir.ts";
import { formatGoDuration, formatHarnessText, type HarnessResultsJSON } from "./harness.ts";
import { formatMs, formatTable, statsColumns, type StatsSummary } from "./stats.ts";
import { relative } from "node:path";

export const PHASE_SCHEMA = "scaletest-phase/v1";
export const RUN_SCHEMA = "scaletest-run/v1";

/**
 * pass: ran, no failed runs, thresholds met. fail: failed runs or a threshold missed.
 * error: the phase could not run (bad config, API unreachable). interrupted: stopped by a signal
 * (partial results). skipped: not selected / dry run.
 */
export type PhaseStatus = "pass" | "fail" | "error" | "interrupted" | "skipped";

/** One pass/fail criterion, e.g. "p95 create < 60s". */
export interface ThresholdResult {
  /** What was checked, e.g. "create-workspaces p95 build". */
  name: string;
  /** The rule as the user wrote it, e.g. "p95<60s". */
  rule: string;
  /** Observed value (ms for timings, ratio 0..1 for rates); null when there was no data. */
  observed: number | null;
  ok: boolean;
  /** How to read `observed` (the report guesses from the name when absent). */
  unit?: "ms" | "ratio" | "count";
}

/** Content of `<NN>-<phase>/result.json`. */
export interface PhaseRecord {
  /** Always PHASE_SCHEMA. */
  schema: typeof PHASE_SCHEMA;
  run_id: string;
  /** Phase (scenario) name, e.g. "create-workspaces". */
  phase: string;
  status: PhaseStatus;
  /** RFC3339 times and whole-ms duration of the phase. */
  started_at: string;
  ended_at: string;
  duration_ms: number;
  /** Go duration string of duration_ms, as Coder prints durations. */
  duration: string;
  /** Signal that interrupted the phase, or null. */
  interrupted_by: StopSignalName | null;
  /** Why the phase failed to run (status "error"), or null. */
  error: string | null;
  /** Run counts (from the harness results if any; zeros otherwise). */
  totals: { runs: number; pass: number; fail: number };
  /** Timing summaries per stage (ms), e.g. { create: {...}, build: {...}, agent: {...} }. */
  stages: Record<string, StatsSummary>;
  /** Threshold verdicts; any ok=false makes the phase "fail". */
  thresholds: ThresholdResult[];
  /** Coder's harness results (runs, logs, errors), or null for phases without unit runs. */
  harness: HarnessResultsJSON | null;
  /** Scenario-specific fields (settings used, throughput, bytes, ...). */
  extra: Record<string, unknown>;
}

export interface PhaseRecordInput {
  runId: string;
  phase: string;
  startedAt: Date;
  endedAt: Date;
  harness?: HarnessResultsJSON | null;
  stages?: Record<string, StatsSummary>;
  thresholds?: ThresholdResult[];
  interruptedBy?: StopSignalName | null;
  /** Set when the phase could not run at all. */
  error?: unknown;
  skipped?: boolean;
  extra?: Record<string, unknown>;
}

/** Builds a phase record, deriving its status: skipped > error > interrupted > fail > pass. */
export function buildPhaseRecord(input: PhaseRecordInput): PhaseRecord {
  const h = input.harness ?? null;
  const thresholds = input.thresholds ?? [];
  const totals = h ? { runs: h.total_runs, pass: h.total_pass, fail: h.total_fail } : { runs: 0, pass: 0, fail: 0 };
  const error =
    input.error === undefined || input.error === null
      ? null
      : input.error instanceof Error
        ? input.error.message
        : String(input.error);
  let status: PhaseStatus;
  if (input.skipped) status = "skipped";
  else if (error !== null) status = "error";
  else if (input.interruptedBy) status = "interrupted";
  // Thresholds, when given, decide (a 99% success threshold tolerates 1 failure in 100); else any failed run fails.
  else if (thresholds.length > 0 ? thresholds.some((t) => !t.ok) : totals.fail > 0) status = "fail";
  else status = "pass";
  const durationMs = Math.max(0, input.endedAt.getTime() - input.startedAt.getTime());
  return {
    schema: PHASE_SCHEMA,
    run_id: input.runId,
    phase: input.phase,
    status,
    started_at: input.startedAt.toISOString(),
    ended_at: input.endedAt.toISOString(),
    duration_ms: durationMs,
    duration: formatGoDuration(durationMs),
    interrupted_by: input.interruptedBy ?? null,
    error,
    totals,
    stages: input.stages ?? {},
    thresholds,
    harness: h,
    extra: input.extra ?? {},
  };
}

/** A threshold's observed value in its unit: "1.7s", "0.5%", "3"; "-" when there was no data. */
export function formatObserved(t: ThresholdResult): string {
  if (t.observed === null) return "-";
  if (t.unit === "ms") return formatMs(t.observed);
  if (t.unit === "ratio") return `${Math.round(t.observed * 10_000) / 100}%`;
  return String(Math.round(t.observed * 1000) / 1000);
}

/** Human summary of a phase: Coder's text results, then stage timings and thresholds. */
export function formatPhaseText(rec: PhaseRecord): string {
  let out = `Phase ${rec.phase}: ${rec.status.toUpperCase()} (${formatMs(rec.duration_ms)})\n`;
  if (rec.interrupted_by) out += `Interrupted by ${rec.interrupted_by}: results are partial.\n`;
  if (rec.error) out += `Error: ${rec.error}\n`;
  if (rec.harness) out += formatHarnessText(rec.harness);
  const stages = Object.entries(rec.stages);
  if (stages.length > 0) {
    out += "\nTimings:\n" + formatTable(stages.map(([name, stats]) => ({ name, stats })), statsColumns());
  }
  if (rec.thresholds.length > 0) {
    out +=
      "\nThresholds:\n" +
      formatTable(rec.thresholds, [
        { header: "check", value: "name" },
        { header: "rule", value: "rule" },
        { header: "observed", value: (t) => formatObserved(t), align: "right" },
        { header: "result", value: (t) => (t.ok ? "ok" : "FAILED") },
      ]);
  }
  return out;
}

/** Writes result.json and summary.txt into the phase's folder; returns the folder. */
export function writePhaseRecord(dir: ResultsDir, rec: PhaseRecord): string {
  const phaseDir = dir.phaseDir(rec.phase);
  const rel = relative(dir.path, phaseDir);
  dir.writeJSON(`${rel}/${PHASE_RESULT_FILE}`, rec);
  dir.writeText(`${rel}/${PHASE_SUMMARY_FILE}`, formatPhaseText(rec));
  return phaseDir;
}

/** One phase as listed in summary.json (the record minus harness runs and extra). */
export interface RunSummaryPhase {
  phase: string;
  /** Folder name, e.g. "02-ssh-traffic" (null if not written to the results dir). */
  dir: string | null;
  status: PhaseStatus;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  totals: PhaseRecord["totals"];
  stages: Record<string, StatsSummary>;
  thresholds: ThresholdResult[];
  error: string | null;
}

/** Content of `summary.json`. */
export interface RunSummary {
  /** Always RUN_SCHEMA. */
  schema: typeof RUN_SCHEMA;
  run_id: string;
  /** pass: every phase passed or was skipped; fail: some phase failed/errored; interrupted: stopped by a signal. */
  status: "pass" | "fail" | "interrupted";
  started_at: string;
  ended_at: string;
  duration_ms: number;
  duration: string;
  interrupted_by: StopSignalName | null;
  phases: RunSummaryPhase[];
}

export function buildRunSummary(opts: {
  runId: string;
  startedAt: Date;
  endedAt: Date;
  phases: readonly PhaseRecord[];
  /** Folder name per phase name (from ResultsDir.listPhases). */
  phaseDirs?: Record<string, string>;
  interruptedBy?: StopSignalName | null;
}): RunSummary {
  const interrupted = opts.interruptedBy ?? opts.phases.find((p) => p.interrupted_by)?.interrupted_by ?? null;
  const failed = opts.phases.some((p) => p.status === "fail" || p.status === "error");
  const durationMs = Math.max(0, opts.endedAt.getTime() - opts.startedAt.getTime());
  return {
    schema: RUN_SCHEMA,
    run_id: opts.runId,
    status: interrupted ? "interrupted" : failed ? "fail" : "pass",
    started_at: opts.startedAt.toISOString(),
    ended_at: opts.endedAt.toISOString(),
    duration_ms: durationMs,
    duration: formatGoDuration(durationMs),
    interrupted_by: interrupted,
    phases: opts.phases.map((p) => ({
      phase: p.phase,
      dir: opts.phaseDirs?.[p.phase] ?? null,
      status: p.status,
      started_at: p.started_at,
      ended_at: p.ended_at,
      duration_ms: p.duration_ms,
      totals: p.totals,
      stages: p.stages,
      thresholds: p.thresholds,
      error: p.error,
    })),
  };
}

/** Plain-text run summary: one line per phase, then the verdict. */
export function formatRunSummaryText(s: RunSummary): string {
  const table = formatTable(s.phases, [
    { header: "phase", value: "phase" },
    { header: "status", value: "status" },
    { header: "duration", value: (p) => formatMs(p.duration_ms), align: "right" },
    { header: "pass", value: (p) => p.totals.pass },
    { header: "fail", value: (p) => p.totals.fail },
    { header: "thresholds", value: (p) => (p.thresholds.length === 0 ? "-" : `${p.thresholds.filter((t) => t.ok).length}/${p.thresholds.length} ok`) },
  ]);
  let out = `Scale test run ${s.run_id}: ${s.status.toUpperCase()} in ${formatMs(s.duration_ms)}\n`;
  if (s.interrupted_by) out += `Interrupted by ${s.interrupted_by}: later phases did not run; results are partial.\n`;
  return out + "\n" + table;
}
