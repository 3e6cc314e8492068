// Phase records and the run summary (types from ./schema.ts), their construction and their plain-text
// forms: summary.txt per phase, and the end-of-run summary people read (like k6's): per phase the headline
// figures and every threshold with ✓/✗, its observed value and its limit.
import { relative } from "node:path";
import type { StopSignalName } from "../util/signals.ts";
import type { ResultsDir } from "./dir.ts";
import { PHASE_RESULT_FILE, PHASE_SUMMARY_FILE } from "./dir.ts";
import { formatGoDuration, formatHarnessText } from "./harness.ts";
import { formatMs, formatTable, statsColumns } from "./stats.ts";
import { formatQuantity } from "./units.ts";
import {
  PHASE_SCHEMA,
  SUMMARY_SCHEMA,
  type Headline,
  type LatencySummary,
  type MetricSetJSON,
  type PhaseRecord,
  type PhaseStatus,
  type RunSummary,
  type ThresholdRow,
} from "./schema.ts";

export { PHASE_SCHEMA, SUMMARY_SCHEMA, type PhaseRecord, type PhaseStatus, type RunSummary, type ThresholdRow };

export interface PhaseRecordInput {
  runId: string;
  phase: string;
  runner?: string | null;
  attempt?: number;
  startedAt: Date;
  endedAt: Date;
  activeMs?: number;
  harness?: PhaseRecord["harness"];
  totals?: PhaseRecord["totals"];
  stages?: Record<string, LatencySummary>;
  headline?: Headline[];
  metrics?: MetricSetJSON;
  expressions?: string[];
  thresholds?: ThresholdRow[];
  settings?: Record<string, string>;
  errors?: string[];
  interruptedBy?: StopSignalName | null;
  abortedBy?: string | null;
  /** Set when the phase could not run at all. */
  error?: unknown;
  /** Failed for a reason no threshold expresses (e.g. stopped early by its own timeout). */
  failed?: string | null;
  skipped?: boolean;
  extra?: Record<string, unknown>;
}

/**
 * Builds a phase record, deriving its status: skipped > error > interrupted > fail > pass. Thresholds,
 * when there are any, decide pass/fail (a 99% success threshold tolerates 1 failure in 100); without
 * thresholds any failed unit fails the phase.
 */
export function buildPhaseRecord(input: PhaseRecordInput): PhaseRecord {
  const thresholds = input.thresholds ?? [];
  const h = input.harness ?? null;
  const totals = input.totals ?? (h ? { runs: h.total_runs, pass: h.total_pass, fail: h.total_fail } : { runs: 0, pass: 0, fail: 0 });
  const error = input.error === undefined || input.error === null ? null : input.error instanceof Error ? input.error.message : String(input.error);
  let status: PhaseStatus;
  if (input.skipped) status = "skipped";
  else if (error !== null) status = "error";
  else if (input.interruptedBy) status = "interrupted";
  else if (input.abortedBy || input.failed || (thresholds.length > 0 ? thresholds.some((t) => !t.ok) : totals.fail > 0)) status = "fail";
  else status = "pass";
  const durationMs = Math.max(0, input.endedAt.getTime() - input.startedAt.getTime());
  return {
    schema: PHASE_SCHEMA,
    run_id: input.runId,
    phase: input.phase,
    runner: input.runner ?? null,
    attempt: input.attempt ?? 1,
    status,
    started_at: input.startedAt.toISOString(),
    ended_at: input.endedAt.toISOString(),
    duration_ms: durationMs,
    duration: formatGoDuration(durationMs),
    active_ms: Math.round(input.activeMs ?? durationMs),
    interrupted_by: input.interruptedBy ?? null,
    aborted_by: input.abortedBy ?? null,
    error: error ?? input.failed ?? null,
    totals,
    stages: input.stages ?? {},
    headline: input.headline ?? [],
    metrics: input.metrics ?? {},
    expressions: input.expressions ?? [],
    thresholds,
    settings: input.settings ?? {},
    errors: input.errors ?? [],
    harness: h,
    extra: input.extra ?? {},
  };
}

/** A threshold's observed value in its unit ("1.7s", "0.5%"); "-" when there was no data. */
export function formatObserved(t: Pick<ThresholdRow, "observed" | "unit">): string {
  return t.observed === null ? "-" : formatQuantity(t.observed, t.unit);
}

/** One line per threshold: "✓ create.provision.p95<2m  observed 1.7s  limit 2m". */
export function thresholdLines(rows: readonly ThresholdRow[], indent = "  "): string {
  if (rows.length === 0) return "";
  const w = Math.max(...rows.map((t) => t.expression.length));
  return rows
    .map(
      (t) =>
        `${indent}${t.ok ? "✓" : "✗"} ${t.expression.padEnd(w)}  observed ${formatObserved(t)}, limit ${formatQuantity(t.limit, t.unit)}` +
        `${t.failed_label ? ` (failed for ${t.failed_label})` : ""}${t.abort ? " [abort]" : ""}`,
    )
    .join("\n") + "\n";
}

function headlineText(h: readonly Headline[]): string {
  return h.map((x) => `${x.label} ${x.value === null ? "-" : formatQuantity(x.value, x.unit)}`).join(", ");
}

function statusWord(p: { status: string; interrupted_by: string | null; aborted_by: string | null }): string {
  if (p.status === "interrupted") return `INTERRUPTED (${p.interrupted_by ?? "stopped"})`;
  if (p.aborted_by) return `FAIL (aborted by ${p.aborted_by})`;
  return p.status.toUpperCase();
}

/** summary.txt of a phase: verdict, headline, thresholds, stage timings, then Coder's text results. */
export function formatPhaseText(rec: PhaseRecord, detail = ""): string {
  let out = `Phase ${rec.phase}${rec.attempt > 1 ? ` (attempt ${rec.attempt})` : ""}: ${statusWord(rec)} in ${formatMs(rec.duration_ms)}\n`;
  if (rec.interrupted_by) out += `Interrupted by ${rec.interrupted_by} after ${formatMs(rec.active_ms)}: results are partial; rates are over the time actually run.\n`;
  if (rec.error) out += `Error: ${rec.error}\n`;
  if (rec.headline.length) out += `${headlineText(rec.headline)}\n`;
  if (rec.thresholds.length) out += `\nThresholds:\n${thresholdLines(rec.thresholds)}`;
  const stages = Object.entries(rec.stages);
  if (stages.length > 0) out += "\nTimings:\n" + formatTable(stages.map(([name, stats]) => ({ name, stats })), statsColumns());
  if (rec.harness) out += "\n" + formatHarnessText(rec.harness as Parameters<typeof formatHarnessText>[0]);
  if (detail) out += "\n" + detail;
  return out;
}

/** Writes result.json and summary.txt into the phase's folder. */
export function writePhaseRecord(dir: ResultsDir, phaseDir: string, rec: PhaseRecord, detail = ""): void {
  const rel = relative(dir.path, phaseDir);
  dir.writeJSON(`${rel}/${PHASE_RESULT_FILE}`, rec);
  dir.writeText(`${rel}/${PHASE_SUMMARY_FILE}`, formatPhaseText(rec, detail));
}

export function buildRunSummary(opts: {
  runId: string;
  startedAt: Date;
  endedAt: Date;
  phases: readonly (PhaseRecord & { dir?: string | null })[];
  interruptedBy?: StopSignalName | null;
}): RunSummary {
  const interrupted = opts.interruptedBy ?? opts.phases.find((p) => p.interrupted_by)?.interrupted_by ?? null;
  const failed = opts.phases.some((p) => p.status === "fail" || p.status === "error");
  const durationMs = Math.max(0, opts.endedAt.getTime() - opts.startedAt.getTime());
  return {
    schema: SUMMARY_SCHEMA,
    run_id: opts.runId,
    status: interrupted ? "interrupted" : failed ? "fail" : "pass",
    started_at: opts.startedAt.toISOString(),
    ended_at: opts.endedAt.toISOString(),
    duration_ms: durationMs,
    duration: formatGoDuration(durationMs),
    interrupted_by: interrupted,
    phases: opts.phases.map((p) => ({
      phase: p.phase,
      runner: p.runner,
      attempt: p.attempt,
      dir: p.dir ?? null,
      status: p.status,
      started_at: p.started_at,
      ended_at: p.ended_at,
      duration_ms: p.duration_ms,
      active_ms: p.active_ms,
      interrupted_by: p.interrupted_by,
      aborted_by: p.aborted_by,
      error: p.error,
      totals: p.totals,
      stages: p.stages,
      headline: p.headline,
      thresholds: p.thresholds,
    })),
  };
}

/** The end-of-run summary: per phase its verdict and headline figures, every threshold with ✓/✗, and what failed. */
export function formatRunSummaryText(s: RunSummary): string {
  let out = `Scale test run ${s.run_id}: ${s.status.toUpperCase()} in ${formatMs(s.duration_ms)}\n`;
  if (s.interrupted_by) out += `Interrupted by ${s.interrupted_by}: later phases did not run; results are partial.\n`;
  for (const p of s.phases) {
    if (p.status === "skipped") continue;
    out += `\n${p.phase}: ${statusWord(p)} (${formatMs(p.duration_ms)})`;
    if (p.totals.runs > 0) out += `, ${p.totals.pass} ok / ${p.totals.fail} failed of ${p.totals.runs}`;
    out += "\n";
    if (p.headline.length) out += `  ${headlineText(p.headline)}\n`;
    if (p.error) out += `  error: ${p.error}\n`;
    out += thresholdLines(p.thresholds);
  }
  const failedRows = s.phases.flatMap((p) => p.thresholds.filter((t) => !t.ok).map((t) => `${p.phase}: ${t.expression} (observed ${formatObserved(t)})`));
  if (failedRows.length) out += `\nFailed thresholds:\n${failedRows.map((f) => `  ✗ ${f}`).join("\n")}\n`;
  return out;
}
