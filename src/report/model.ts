// The report model: one run folder (`<results-dir>/<run-id>/`) read into plain data that the Markdown,
// HTML and compare renderers share. Every file is validated with the results schema (src/results/schema.ts):
// run.json or summary.json that does not match is an error naming the file and the field; a phase whose
// result.json is missing or does not match still shows (from summary.json, or as "running") with a note
// naming the file and field. A phase run more than once shows its latest attempt and lists the others.
import { readCapacity } from "./capacity.ts";
import type { CapacityResult } from "../results/schema.ts";
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { PHASE_RESULT_FILE, RUN_FILE, SUMMARY_FILE, readPhase, readStatus } from "../results/dir.ts";
import { valueOf } from "../results/metric-set.ts";
import { PhaseRecord, readResultsFile, ResultsFileError, RunInfo, RunSummary, type Headline, type MetricSetJSON, type PhaseStatus, type SummaryPhase, type ThresholdRow } from "../results/schema.ts";
import type { StatsSummary } from "../results/stats.ts";
import type { TimelinePoint } from "../traffic/result.ts";

export type PhaseKind = "create" | "traffic" | "dashboard" | "cleanup" | "other";
export type Verdict = "pass" | "fail" | "interrupted" | "incomplete";
export type MetricUnit = "ms" | "ratio" | "count" | "bytes/s" | "ops/s";

/** One second of throughput, aligned on the run's start. */
export interface ThroughputPoint {
  /** Seconds since the run started. */
  t: number;
  bytesPerSec: number;
  opsPerSec: number;
  errors: number;
  p95Ms: number | null;
}

export interface ReportThreshold extends ThresholdRow {
  phase: string;
  /** "lower" when smaller observed values are better (the expression uses "<"), else "higher". */
  direction: "lower" | "higher";
}

export interface PhaseAttempt {
  attempt: number;
  dir: string;
  status: PhaseStatus | "running" | "unknown";
  startedAt: string | null;
}

export interface ReportPhase {
  /** 1-based position in the report. */
  index: number;
  name: string;
  /** Folder name of the attempt shown, e.g. "02-ssh-traffic", or null when the phase has no folder. */
  dir: string | null;
  kind: PhaseKind;
  runner: string | null;
  attempt: number;
  /** Earlier attempts of this phase in the same run (reruns), oldest first. */
  otherAttempts: PhaseAttempt[];
  /** "running" when the folder exists but result.json does not (yet). */
  status: PhaseStatus | "running" | "unknown";
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  /** Time the load actually ran (rates are over it). */
  activeMs: number | null;
  error: string | null;
  interruptedBy: string | null;
  abortedBy: string | null;
  totals: { runs: number; pass: number; fail: number };
  stages: Record<string, StatsSummary>;
  headline: Headline[];
  thresholds: ReportThreshold[];
  /** The expressions the phase was judged with, and its metrics (report.ts re-evaluates them). */
  expressions: string[];
  metrics: MetricSetJSON;
  settings: Record<string, string>;
  /** ms per successful workspace (create phases). */
  buildTimes: number[];
  timeline: ThroughputPoint[];
  throughput: { bytesPerSec: number | null; opsPerSec: number | null; bytes: number | null; ops: number | null };
  /** 0..1; null when unknown. */
  errorRate: number | null;
  /** First few failure messages. */
  failures: string[];
  /** Runner-specific data of the phase record (traffic timeline, dashboard failures, ...). */
  extra: Record<string, unknown>;
}

export interface ReportModel {
  runDir: string;
  runId: string;
  origin: "pipeline" | "scenarios" | null;
  verdict: Verdict;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  interruptedBy: string | null;
  comment: string;
  url: string;
  coderVersion: string;
  /** Current status/phase from state/ (as the metadata scripts show them). */
  status: string;
  phase: string;
  /** run.json settings by flag name ("--duration": "5m"). */
  settings: Record<string, string>;
  phases: ReportPhase[];
  thresholds: ReportThreshold[];
  /** Problems met while reading (missing or unreadable phase files). */
  warnings: string[];
  /** For a run still going, read live: the time it was read (running phases last until then). */
  now: string | null;
  /** capacity.json of a capacity search, when the run has one. */
  capacity?: CapacityResult | null;
}

const PHASE_DIR_RE = /^(\d{2,})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;
const MAX_FAILURES = 10;

export function phaseKind(name: string, runner: string | null = null): PhaseKind {
  const n = runner ?? name;
  if (/create/.test(n)) return "create";
  if (/dashboard/.test(n)) return "dashboard";
  if (/cleanup/.test(n)) return "cleanup";
  if (/traffic|ssh|terminal|app/.test(n)) return "traffic";
  return "other";
}

export function thresholdDirection(expression: string): "lower" | "higher" {
  return /[<]/.test(expression) ? "lower" : "higher";
}

function timeMs(v: string | null): number | null {
  if (v === null) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

function toTimeline(raw: readonly TimelinePoint[], baseMs: number | null, runStartMs: number | null): ThroughputPoint[] {
  const offset = baseMs !== null && runStartMs !== null ? (baseMs - runStartMs) / 1000 : 0;
  return raw
    .map((p) => ({ t: Math.round((p.t + offset) * 1000) / 1000, bytesPerSec: p.bytesWritten + p.bytesRead, opsPerSec: p.ticks, errors: 0, p95Ms: p.p95 }))
    .sort((a, b) => a.t - b.t);
}

/** The traffic result a traffic phase carries in extra.traffic (the engine's result), if any. */
function trafficOf(extra: Record<string, unknown>): { timeline: TimelinePoint[]; startedAt: string; totals: { bytesWritten: number; bytesRead: number; ticksCompleted: number } } | null {
  const t = extra.traffic as { timeline?: unknown; startedAt?: unknown; totals?: unknown } | undefined;
  return t && Array.isArray(t.timeline) && typeof t.startedAt === "string" && t.totals ? (t as never) : null;
}

function phaseFromRecord(rec: PhaseRecord | (SummaryPhase & Partial<PhaseRecord>), index: number, dir: string | null, runStartMs: number | null): ReportPhase {
  const extra = rec.extra ?? {};
  const traffic = trafficOf(extra);
  const metrics = rec.metrics ?? {};
  const kind = phaseKind(rec.phase, rec.runner);
  const activeMs = rec.active_ms ?? rec.duration_ms;
  let bytes: number | null = null;
  let ops: number | null = null;
  if (traffic) {
    bytes = traffic.totals.bytesWritten + traffic.totals.bytesRead;
    ops = traffic.totals.ticksCompleted;
  } else if (kind === "dashboard") ops = valueOf(metrics, "dashboard.views");
  const rate = (v: number | null) => (v !== null && activeMs > 0 ? v / (activeMs / 1000) : null);
  const errorRate =
    valueOf(metrics, `${rec.runner?.replace(/-traffic$/, "") ?? ""}.connection_error_rate`) ??
    valueOf(metrics, "dashboard.error_rate") ??
    (rec.totals.runs > 0 ? rec.totals.fail / rec.totals.runs : null);
  const buildTimes = Array.isArray(extra.buildTimes) ? extra.buildTimes.filter((v): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0) : [];
  return {
    index,
    name: rec.phase,
    dir,
    kind,
    runner: rec.runner,
    attempt: rec.attempt,
    otherAttempts: [],
    status: rec.status,
    startedAt: rec.started_at,
    endedAt: rec.ended_at,
    durationMs: rec.duration_ms,
    activeMs,
    error: rec.error,
    interruptedBy: rec.interrupted_by,
    abortedBy: rec.aborted_by,
    totals: rec.totals,
    stages: rec.stages,
    headline: rec.headline,
    thresholds: rec.thresholds.map((t) => ({ ...t, phase: rec.phase, direction: thresholdDirection(t.expression) })),
    expressions: rec.expressions ?? [],
    metrics,
    settings: rec.settings ?? {},
    buildTimes,
    timeline: traffic ? toTimeline(traffic.timeline, timeMs(traffic.startedAt), runStartMs) : [],
    throughput: { bytesPerSec: rate(bytes), opsPerSec: rate(ops), bytes, ops },
    errorRate,
    failures: [...(rec.error ? [rec.error] : []), ...(rec.errors ?? [])].slice(0, MAX_FAILURES),
    extra,
  };
}

function placeholder(name: string, index: number, dir: string, status: "running" | "unknown", attempt: number): ReportPhase {
  return {
    index, name, dir, kind: phaseKind(name), runner: null, attempt, otherAttempts: [], status, startedAt: null, endedAt: null, durationMs: null,
    activeMs: null, error: null, interruptedBy: null, abortedBy: null, totals: { runs: 0, pass: 0, fail: 0 }, stages: {}, headline: [],
    thresholds: [], expressions: [], metrics: {}, settings: {}, buildTimes: [], timeline: [],
    throughput: { bytesPerSec: null, opsPerSec: null, bytes: null, ops: null }, errorRate: null, failures: [], extra: {},
  };
}

/** Reads `<results-dir>/<run-id>/` into a ReportModel. Throws if the folder, run.json or summary.json cannot be read. */
export function loadReportModel(runDir: string, opts: { now?: Date } = {}): ReportModel {
  const dir = resolve(runDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`run folder ${dir} does not exist: pass a folder like <results-dir>/<run-id>, or --results-dir so the latest run is used`);
  }
  const warnings: string[] = [];
  const run = existsSync(join(dir, RUN_FILE)) ? readResultsFile(RunInfo, join(dir, RUN_FILE)) : null;
  if (!run) warnings.push(`${RUN_FILE} is missing: run settings are not shown`);
  const summary = existsSync(join(dir, SUMMARY_FILE)) ? readResultsFile(RunSummary, join(dir, SUMMARY_FILE)) : null;
  const runStart = run?.started_at ?? summary?.started_at ?? null;
  const runStartMs = timeMs(runStart);

  // Phase folders in order; the latest attempt of each phase name is shown, the others listed.
  const folders = readdirSync(dir)
    .map((d) => ({ d, m: PHASE_DIR_RE.exec(d) }))
    .filter(({ d, m }) => m !== null && statSync(join(dir, d)).isDirectory())
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]) || a.d.localeCompare(b.d));
  const byName = new Map<string, ReportPhase[]>();
  for (const { d, m } of folders) {
    const name = m![2]!;
    const attempt = (byName.get(name)?.length ?? 0) + 1;
    const file = join(dir, d, PHASE_RESULT_FILE);
    let phase: ReportPhase;
    if (existsSync(file)) {
      try {
        phase = phaseFromRecord(readResultsFile(PhaseRecord, file), 0, d, runStartMs);
      } catch (e) {
        if (!(e instanceof ResultsFileError)) throw e;
        warnings.push(`${d}/${PHASE_RESULT_FILE} cannot be read (${e.message.slice(e.file.length + 2)}); the phase is shown without its results`);
        phase = placeholder(name, 0, d, "unknown", attempt);
      }
    } else {
      const fromSummary = summary?.phases.find((p) => p.dir === d);
      if (fromSummary) phase = phaseFromRecord(fromSummary, 0, d, runStartMs);
      else {
        const entry = run?.phases.find((p) => p.dir === d);
        if (!entry || entry.status !== "running") warnings.push(`${d}/${PHASE_RESULT_FILE} is missing: the phase did not finish writing its results`);
        phase = placeholder(name, 0, d, summary ? "unknown" : "running", attempt);
        // A phase still running: its start from run.json, so the live timeline shows it growing.
        if (entry && phase.status === "running") phase.startedAt = entry.started_at;
      }
    }
    byName.set(name, [...(byName.get(name) ?? []), phase]);
  }
  const phases: ReportPhase[] = [];
  for (const attempts of byName.values()) {
    const latest = attempts.at(-1)!;
    latest.otherAttempts = attempts.slice(0, -1).map((a) => ({ attempt: a.attempt, dir: a.dir!, status: a.status, startedAt: a.startedAt }));
    phases.push(latest);
  }
  // Phases without a folder (waits) come from summary.json.
  for (const p of summary?.phases ?? []) if (p.dir === null && !byName.has(p.phase)) phases.push(phaseFromRecord(p, 0, null, runStartMs));
  phases.sort((a, b) => (a.startedAt ?? "\uffff").localeCompare(b.startedAt ?? "\uffff"));
  phases.forEach((p, i) => (p.index = i + 1));

  const ends = phases.map((p) => p.endedAt).filter((s): s is string => s !== null).sort();
  const runEnd = summary?.ended_at ?? run?.ended_at ?? ends.at(-1) ?? null;
  let verdict: Verdict;
  if (summary) verdict = summary.status;
  else if (phases.some((p) => p.status === "fail" || p.status === "error")) verdict = "fail";
  else if (phases.some((p) => p.status === "interrupted")) verdict = "interrupted";
  else verdict = "incomplete";
  if (!summary) warnings.push(`${SUMMARY_FILE} is missing: the run has not finished (verdict from the phases so far)`);
  let endMs = timeMs(runEnd);
  // A run still going: it lasts until now (the live page's time axis grows with it).
  if (!summary && run?.status === "running" && opts.now) endMs = Math.max(endMs ?? 0, opts.now.getTime());
  return {
    runDir: dir,
    runId: run?.run_id ?? summary?.run_id ?? basename(dir),
    origin: run?.origin ?? null,
    verdict,
    startedAt: runStart,
    endedAt: runEnd,
    durationMs: summary?.duration_ms ?? (runStartMs !== null && endMs !== null ? endMs - runStartMs : null),
    now: !summary && run?.status === "running" && opts.now ? opts.now.toISOString() : null,
    interruptedBy: summary?.interrupted_by ?? null,
    comment: run?.comment ?? "",
    url: run?.url ?? "",
    coderVersion: run?.coder_version ?? "",
    status: readStatus(dir),
    phase: readPhase(dir),
    settings: run?.settings ?? {},
    phases,
    thresholds: phases.flatMap((p) => p.thresholds),
    warnings,
    capacity: readCapacity(dir, warnings),
  };
}
