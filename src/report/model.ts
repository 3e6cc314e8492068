// The report model: one run folder (`<results-dir>/<run-id>/`) read into plain data that the Markdown,
// HTML and compare renderers share. Reading is forgiving: a phase that failed early, a run still in
// progress or a file from an older version gives a smaller report with a warning, never an exception.
//
// WHAT THE REPORT READS (the contract with the pipeline and the scenarios; every field is optional
// unless marked *):
//
// run.json (written by the pipeline)
//   run_id, started_at, ended_at (RFC3339), comment, url (deployment URL, shown as text),
//   coder_version, scenarios (string[]), config (object: the public settings, shown as a table).
//   `comment`/`url` are also looked up in `config`.
//
// summary.json (RunSummary, scaletest-run/v1, src/results/summary.ts)
//   status* (overall verdict), started_at, ended_at, duration_ms, interrupted_by, phases[] (used for
//   phases whose folder has no result.json yet: a phase that died before writing it).
//
// NN-<phase>/result.json (PhaseRecord, scaletest-phase/v1)
//   phase*, status*, started_at*, ended_at*, duration_ms, error, interrupted_by, totals {runs,pass,fail},
//   stages: Record<stage, StatsSummary ms>   -> latency chart + stage tables + compare rows (p50/p95/p99).
//       create-workspaces: create/queue/build/agent/total; dashboard: one stage per page;
//       traffic: "tick" (and "dial") latency.
//   thresholds: ThresholdResult[] {name, rule, observed, ok, unit?: "ms"|"ratio"|"count"}
//       observed is ms for timings, a ratio 0..1 for rates. Without `unit` the report guesses from the
//       name/rule ("rate", "success", "%" => ratio, otherwise ms).
//   harness: Coder's harness JSON (failed runs listed; passing runs' duration_ms are the fallback
//       build times of a create phase).
//   extra.buildTimes: number[]   ms from create call to agent ready, one per successful workspace
//       -> build-time distribution chart. Fallback: harness runs' `total_ms`, then `duration_ms`.
//   extra.timeline: TimelinePoint[] {t (s since timeline start), bytesWritten?, bytesRead?, ticks?,
//       requests?, errors?, p95? (ms)} -> throughput-over-time chart. Timeline start =
//       extra.timelineStartedAt, else extra.traffic.startedAt, else the phase's started_at.
//   extra.traffic: a whole TrafficResult (src/traffic/result.ts); its timeline, totals, latency.tick
//       and startedAt are used when the fields above are absent.
//   extra.totals: TrafficTotals (bytes/ticks/errors) when extra.traffic is absent.
//   extra.errorRate: number 0..1 (failed connections or page views / all); derived when absent from
//       extra.traffic.perConnection (status "error") or totals.fail / totals.runs.
//   extra.pages: Record<page, StatsSummary> (dashboard) used only when `stages` is empty.
// A result.json that is a bare TrafficResult (no `schema`) is accepted and read as a traffic phase.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import {
  PHASE_RESULT_FILE,
  RUN_FILE,
  SUMMARY_FILE,
  readPhase,
  readStatus,
} from "../results/dir.ts";
import type { StatsSummary } from "../results/stats.ts";
import type { PhaseRecord, PhaseStatus, RunSummary, ThresholdResult } from "../results/summary.ts";
import { BadInputError } from "../util/errors.ts";

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

export interface ReportThreshold extends ThresholdResult {
  phase: string;
  unit: "ms" | "ratio" | "count";
  /** "lower" when smaller observed values are better (rule uses "<"), else "higher". */
  direction: "lower" | "higher";
}

export interface ReportPhase {
  /** 1-based, from the folder name (or the order in summary.json). */
  index: number;
  name: string;
  /** Folder name, e.g. "02-ssh-traffic", or null when the phase has no folder. */
  dir: string | null;
  kind: PhaseKind;
  /** "running" when the folder exists but result.json does not (yet). */
  status: PhaseStatus | "running" | "unknown";
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  error: string | null;
  interruptedBy: string | null;
  totals: { runs: number; pass: number; fail: number };
  stages: Record<string, StatsSummary>;
  thresholds: ReportThreshold[];
  /** ms per successful workspace (create phases). */
  buildTimes: number[];
  timeline: ThroughputPoint[];
  throughput: { bytesPerSec: number | null; opsPerSec: number | null; bytes: number | null; ops: number | null };
  /** 0..1; null when unknown. */
  errorRate: number | null;
  /** First few failure messages (harness errors, traffic errors). */
  failures: string[];
}

export interface ReportModel {
  runDir: string;
  runId: string;
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
  /** run.json `config`, flattened to display strings. */
  settings: Record<string, string>;
  phases: ReportPhase[];
  thresholds: ReportThreshold[];
  /** Problems met while reading (unreadable files, missing fields). */
  warnings: string[];
}

const PHASE_DIR_RE = /^(\d{2,})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;
const MAX_FAILURES = 10;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : null;
}
function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
function timeMs(v: string | null): number | null {
  if (v === null) return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

function readJsonFile(file: string, warnings: string[]): unknown {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    warnings.push(`${basename(file)} in ${basename(resolve(file, ".."))} is not valid JSON (${(e as Error).message}); ignored`);
    return undefined;
  }
}

export function phaseKind(name: string): PhaseKind {
  if (/create/.test(name)) return "create";
  if (/dashboard/.test(name)) return "dashboard";
  if (/cleanup/.test(name)) return "cleanup";
  if (/traffic|ssh|terminal|app/.test(name)) return "traffic";
  return "other";
}

function toStats(v: unknown): StatsSummary | null {
  if (!isObj(v)) return null;
  const count = num(v.count) ?? 0;
  const g = (k: string) => num(v[k]);
  if (g("p50") === null && g("p95") === null && g("max") === null) return null;
  return { count, p50: g("p50"), p95: g("p95"), p99: g("p99"), max: g("max"), mean: g("mean"), min: g("min") };
}

function toStatsRecord(v: unknown): Record<string, StatsSummary> {
  const out: Record<string, StatsSummary> = {};
  if (!isObj(v)) return out;
  for (const [k, s] of Object.entries(v)) {
    const st = toStats(s);
    if (st) out[k] = st;
  }
  return out;
}

function thresholdUnit(t: Obj): "ms" | "ratio" | "count" {
  if (t.unit === "ms" || t.unit === "ratio" || t.unit === "count") return t.unit;
  const text = `${String(t.name ?? "")} ${String(t.rule ?? "")}`.toLowerCase();
  return /rate|success|%|ratio/.test(text) ? "ratio" : "ms";
}

function toThresholds(v: unknown, phase: string): ReportThreshold[] {
  if (!Array.isArray(v)) return [];
  return v.filter(isObj).map((t) => {
    const rule = String(t.rule ?? "");
    const unit = thresholdUnit(t);
    const direction: "lower" | "higher" = rule.includes("<")
      ? "lower"
      : rule.includes(">")
        ? "higher"
        : /success/i.test(String(t.name ?? ""))
          ? "higher"
          : "lower";
    return { phase, name: String(t.name ?? "threshold"), rule, observed: num(t.observed), ok: t.ok === true, unit, direction };
  });
}

function isTrafficResult(v: Obj): boolean {
  return Array.isArray(v.timeline) && isObj(v.totals) && "connections" in (v.totals as Obj) && typeof v.startedAt === "string";
}

/** Wraps a bare TrafficResult (no phase record around it) so it reads like one. */
function recordFromTraffic(name: string, tr: Obj): Obj {
  const latency = isObj(tr.latency) ? tr.latency : {};
  const stages: Obj = {};
  if (latency.tick) stages.tick = latency.tick;
  if (latency.dial) stages.dial = latency.dial;
  return {
    phase: name,
    status: tr.endReason === "aborted" ? "interrupted" : "pass",
    started_at: tr.startedAt,
    ended_at: tr.endedAt,
    duration_ms: tr.durationMs,
    stages,
    thresholds: [],
    extra: { traffic: tr },
  };
}

function toTimeline(raw: unknown, baseMs: number | null, runStartMs: number | null): ThroughputPoint[] {
  if (!Array.isArray(raw)) return [];
  const offset = baseMs !== null && runStartMs !== null ? (baseMs - runStartMs) / 1000 : 0;
  const out: ThroughputPoint[] = [];
  for (const p of raw) {
    if (!isObj(p)) continue;
    const t = num(p.t);
    if (t === null) continue;
    const bytes = (num(p.bytesWritten) ?? 0) + (num(p.bytesRead) ?? 0) + (num(p.bytes) ?? 0);
    const ops = (num(p.ticks) ?? 0) + (num(p.requests) ?? 0) + (num(p.ops) ?? 0);
    out.push({ t: Math.round((t + offset) * 1000) / 1000, bytesPerSec: bytes, opsPerSec: ops, errors: num(p.errors) ?? 0, p95Ms: num(p.p95) });
  }
  return out.sort((a, b) => a.t - b.t);
}

function buildTimesOf(extra: Obj, harness: unknown, kind: PhaseKind): number[] {
  if (Array.isArray(extra.buildTimes)) {
    return extra.buildTimes.filter((v): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0);
  }
  if (kind !== "create" || !isObj(harness) || !isObj(harness.runs)) return [];
  const out: number[] = [];
  for (const r of Object.values(harness.runs)) {
    if (!isObj(r) || r.error !== "<nil>") continue;
    const v = num(r.total_ms) ?? num(r.duration_ms);
    if (v !== null) out.push(v);
  }
  return out;
}

function failuresOf(harness: unknown, traffic: Obj | null, error: string | null): string[] {
  const out: string[] = [];
  if (error) out.push(error);
  if (isObj(harness) && isObj(harness.runs)) {
    for (const r of Object.values(harness.runs)) {
      if (isObj(r) && typeof r.error === "string" && r.error !== "<nil>") out.push(`${String(r.full_id ?? "")}: ${r.error}`);
      if (out.length >= MAX_FAILURES) break;
    }
  }
  if (traffic && Array.isArray(traffic.errors)) {
    for (const e of traffic.errors) {
      if (out.length >= MAX_FAILURES) break;
      if (isObj(e)) out.push(`${String(e.target ?? "")}: ${String(e.message ?? "")}`);
    }
  }
  return out.slice(0, MAX_FAILURES);
}

function phaseFromRecord(rec: Obj, index: number, dir: string | null, runStartMs: number | null): ReportPhase {
  const name = str(rec.phase) ?? (dir ? (PHASE_DIR_RE.exec(dir)?.[2] ?? dir) : "phase");
  const kind = phaseKind(name);
  const extra = isObj(rec.extra) ? rec.extra : {};
  const traffic = isObj(extra.traffic) ? extra.traffic : null;
  const startedAt = str(rec.started_at);
  const endedAt = str(rec.ended_at);
  const sMs = timeMs(startedAt);
  const eMs = timeMs(endedAt);
  const durationMs = num(rec.duration_ms) ?? (sMs !== null && eMs !== null ? eMs - sMs : null);
  let stages = toStatsRecord(rec.stages);
  if (Object.keys(stages).length === 0) stages = toStatsRecord(extra.pages);
  if (Object.keys(stages).length === 0 && traffic && isObj(traffic.latency)) {
    const tick = toStats(traffic.latency.tick);
    if (tick && tick.count > 0) stages = { tick };
  }
  const tl = Array.isArray(extra.timeline) ? extra.timeline : traffic?.timeline;
  const tlBase = timeMs(str(extra.timelineStartedAt) ?? str(traffic?.startedAt) ?? startedAt);
  const timeline = toTimeline(tl, tlBase, runStartMs);

  const totalsRaw = isObj(rec.totals) ? rec.totals : {};
  const totals = { runs: num(totalsRaw.runs) ?? 0, pass: num(totalsRaw.pass) ?? 0, fail: num(totalsRaw.fail) ?? 0 };
  const tt = isObj(traffic?.totals) ? (traffic.totals as Obj) : isObj(extra.totals) ? extra.totals : null;
  let bytes: number | null = null;
  let ops: number | null = null;
  if (tt) {
    bytes = (num(tt.bytesWritten) ?? 0) + (num(tt.bytesRead) ?? 0);
    ops = num(tt.ticksCompleted) ?? num(tt.requests) ?? null;
  } else if (timeline.length > 0) {
    bytes = timeline.reduce((a, p) => a + p.bytesPerSec, 0);
    ops = timeline.reduce((a, p) => a + p.opsPerSec, 0);
  }
  const activeMs = num(traffic?.durationMs) ?? durationMs;
  const rate = (v: number | null) => (v !== null && v > 0 && activeMs !== null && activeMs > 0 ? v / (activeMs / 1000) : v === 0 ? 0 : null);

  let errorRate = num(extra.errorRate);
  if (errorRate === null && traffic && Array.isArray(traffic.perConnection) && traffic.perConnection.length > 0) {
    const conns = traffic.perConnection.filter(isObj);
    errorRate = conns.filter((c) => c.status === "error").length / conns.length;
  }
  if (errorRate === null && totals.runs > 0) errorRate = totals.fail / totals.runs;

  const status = rec.status;
  const validStatus = ["pass", "fail", "error", "interrupted", "skipped", "running"].includes(String(status));
  const error = str(rec.error);
  return {
    index,
    name,
    dir,
    kind,
    status: validStatus ? (status as ReportPhase["status"]) : "unknown",
    startedAt,
    endedAt,
    durationMs,
    error,
    interruptedBy: str(rec.interrupted_by),
    totals,
    stages,
    thresholds: toThresholds(rec.thresholds, name),
    buildTimes: buildTimesOf(extra, rec.harness, kind),
    timeline,
    throughput: { bytesPerSec: rate(bytes), opsPerSec: rate(ops), bytes, ops },
    errorRate,
    failures: failuresOf(rec.harness, traffic, error),
  };
}

function flattenSettings(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObj(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    if (val === undefined || val === null || val === "") continue;
    out[k] = typeof val === "string" ? val : JSON.stringify(val);
  }
  return out;
}

/** Reads `<results-dir>/<run-id>/` into a ReportModel. Throws only if the folder does not exist. */
export function loadReportModel(runDir: string): ReportModel {
  const dir = resolve(runDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new BadInputError(`run folder ${dir} does not exist: pass a folder like <results-dir>/<run-id>, or --results-dir so the latest run is used`);
  }
  const warnings: string[] = [];
  const runRaw = readJsonFile(join(dir, RUN_FILE), warnings);
  const run: Obj = isObj(runRaw) ? runRaw : {};
  if (runRaw === undefined) warnings.push(`${RUN_FILE} is missing: run settings are not shown`);
  const sumRaw = readJsonFile(join(dir, SUMMARY_FILE), warnings);
  const summary = isObj(sumRaw) ? (sumRaw as unknown as RunSummary) : null;

  const records: { rec: Obj; index: number; dir: string | null }[] = [];
  const folders = readdirSync(dir)
    .map((d) => ({ d, m: PHASE_DIR_RE.exec(d) }))
    .filter(({ d, m }) => m !== null && statSync(join(dir, d)).isDirectory())
    .sort((a, b) => Number(a.m![1]) - Number(b.m![1]) || a.d.localeCompare(b.d));
  for (const { d, m } of folders) {
    const name = m![2]!;
    const raw = readJsonFile(join(dir, d, PHASE_RESULT_FILE), warnings);
    let rec: Obj | null = null;
    if (isObj(raw)) rec = raw.schema === undefined && isTrafficResult(raw) ? recordFromTraffic(name, raw) : raw;
    if (!rec) {
      const fromSummary = summary?.phases?.find((p) => p.dir === d || p.phase === name);
      rec = fromSummary ? (fromSummary as unknown as Obj) : { phase: name, status: summary ? "unknown" : "running" };
      if (!fromSummary) warnings.push(`${d}/${PHASE_RESULT_FILE} is missing: the phase did not finish writing its results`);
    }
    records.push({ rec, index: Number(m![1]), dir: d });
  }
  // Phases without a folder (waits) come from summary.json: each goes where it started among the others.
  for (const p of summary?.phases ?? []) {
    if (records.some((r) => r.rec.phase === p.phase)) continue;
    const entry = { rec: p as unknown as Obj, index: 0, dir: p.dir ?? null };
    const at = str(p.started_at);
    const pos = at === null ? -1 : records.findIndex((r) => (str(r.rec.started_at) ?? "") > at);
    if (pos < 0) records.push(entry);
    else records.splice(pos, 0, entry);
  }
  records.forEach((r, i) => (r.index = i + 1));

  const runStart =
    str(run.started_at) ??
    str(summary?.started_at) ??
    records.map((r) => str(r.rec.started_at)).filter((s): s is string => s !== null).sort()[0] ??
    null;
  const runStartMs = timeMs(runStart);
  const phases = records.map((r) => phaseFromRecord(r.rec, r.index, r.dir, runStartMs));
  const ends = phases.map((p) => p.endedAt).filter((s): s is string => s !== null).sort();
  const runEnd = str(summary?.ended_at) ?? str(run.ended_at) ?? ends.at(-1) ?? null;

  let verdict: Verdict;
  const sStatus = summary?.status;
  if (sStatus === "pass" || sStatus === "fail" || sStatus === "interrupted") verdict = sStatus;
  else if (phases.some((p) => p.status === "fail" || p.status === "error")) verdict = "fail";
  else if (phases.some((p) => p.status === "interrupted")) verdict = "interrupted";
  else verdict = "incomplete";
  if (!summary) warnings.push(`${SUMMARY_FILE} is missing: the run has not finished (verdict from the phases so far)`);

  const config = isObj(run.config) ? run.config : {};
  const durationMs =
    num(summary?.duration_ms) ??
    (runStartMs !== null && timeMs(runEnd) !== null ? timeMs(runEnd)! - runStartMs : null);
  return {
    runDir: dir,
    runId: str(run.run_id) ?? str(summary?.run_id) ?? basename(dir),
    verdict,
    startedAt: runStart,
    endedAt: runEnd,
    durationMs,
    interruptedBy: str(summary?.interrupted_by) ?? null,
    comment: str(run.comment) ?? str(config.comment) ?? "",
    url: str(run.url) ?? str(config.url) ?? "",
    coderVersion: str(run.coder_version) ?? "",
    status: readStatus(dir),
    phase: readPhase(dir),
    settings: flattenSettings(config),
    phases,
    thresholds: phases.flatMap((p) => p.thresholds),
    warnings,
  };
}

/** Type guard used by callers that hold an already parsed PhaseRecord. */
export function isPhaseRecord(v: unknown): v is PhaseRecord {
  return isObj(v) && v.schema === "scaletest-phase/v1";
}
