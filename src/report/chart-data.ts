// The data behind the report's charts, computed here (not in the browser) so it is testable and the
// page's script only draws. Each chart is null when the run has nothing to show for it.
import { capacityCharts, type CapacityChart } from "./capacity.ts";
import { summarize } from "../results/stats.ts";
import { LatencyHistogram } from "../traffic/histogram.ts";
import { prebuildsTimeChart } from "./prebuilds-chart.ts";
import type { TimelinePoint } from "../traffic/result.ts";
import type { ReportModel, ReportPhase } from "./model.ts";
import { serverSideCharts } from "./server-side.ts";

export interface TimelineBar {
  label: string;
  status: string;
  /** Seconds since the run started. */
  start: number;
  end: number;
}

export interface HistogramBin {
  /** ms, inclusive lower bound. */
  from: number;
  /** ms, exclusive upper bound (inclusive for the last bin). */
  to: number;
  count: number;
}

export interface BuildDistribution {
  phase: string;
  bins: HistogramBin[];
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

/** One bar group of a stage chart: a stage's percentiles (ms). */
export interface StageBar {
  label: string;
  stage: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** Stage latencies of one phase kind, on its own scale: no two stages' medians differ by more than 100x. */
export interface StageChart {
  id: string;
  phase: string;
  title: string;
  caption: string;
  bars: StageBar[];
}

export interface TimeSeries {
  label: string;
  /** How the page draws it: percentile lines, the target (dashed), achieved, counts. */
  style: "p50" | "p95" | "p99" | "target" | "achieved" | "count" | "replica";
  /** t = seconds since the run started; v = null leaves a gap. */
  points: { t: number; v: number | null }[];
}

/** A chart over time: x is always 0..xMax, the run's whole duration, the same axis as the phase timeline. */
export interface TimeChart {
  id: string;
  phase: string;
  title: string;
  caption: string;
  unit: "ms" | "per-second" | "count" | "cores";
  xMax: number;
  series: TimeSeries[];
}

export interface ChartData {
  /** The run's duration (s): every time chart's x-range is 0..durationSec. */
  durationSec: number;
  timeline: TimelineBar[] | null;
  builds: BuildDistribution[] | null;
  stageCharts: StageChart[];
  timeCharts: TimeChart[];
  /** A capacity search's charts (value against load, limit, knee). */
  capacity?: CapacityChart[];
}

/** Medians below 1 µs (the histograms' resolution) count as 1 µs when comparing scales. */
export const MEDIAN_FLOOR_MS = 0.001;
/** No chart holds stages whose medians differ by more than this factor. */
export const MAX_SCALE_RATIO = 100;

/** Splits bars into groups whose medians stay within MAX_SCALE_RATIO of each other (ascending medians). */
export function splitByScale(bars: readonly StageBar[]): StageBar[][] {
  const sorted = [...bars].sort((a, b) => (a.p50 ?? 0) - (b.p50 ?? 0));
  const groups: StageBar[][] = [];
  let lo = 0;
  for (const b of sorted) {
    const m = Math.max(b.p50 ?? 0, MEDIAN_FLOOR_MS);
    if (groups.length === 0 || m > lo * MAX_SCALE_RATIO) {
      groups.push([b]);
      lo = m;
    } else groups.at(-1)!.push(b);
  }
  return groups;
}

/** A "nice" bin width (1, 2 or 5 times a power of ten) giving at most `maxBins` bins over `span` ms. */
export function niceBinWidth(span: number, maxBins: number): number {
  if (!(span > 0)) return 1;
  const raw = span / maxBins;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** Histogram of millisecond values with nice bin edges. */
export function histogram(values: readonly number[], maxBins = 24): HistogramBin[] {
  if (values.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const width = niceBinWidth(max - min, maxBins);
  const start = Math.floor(min / width) * width;
  const n = Math.max(1, Math.floor((max - start) / width) + 1);
  const bins: HistogramBin[] = Array.from({ length: n }, (_, i) => ({ from: start + i * width, to: start + (i + 1) * width, count: 0 }));
  for (const v of values) {
    const i = Math.min(n - 1, Math.floor((v - start) / width));
    bins[i]!.count++;
  }
  return bins;
}

export function chartData(model: ReportModel): ChartData {
  const runStart = model.startedAt ? Date.parse(model.startedAt) : NaN;
  const bars: TimelineBar[] = [];
  for (const p of model.phases) {
    const s = p.startedAt ? Date.parse(p.startedAt) : NaN;
    if (Number.isNaN(s) || Number.isNaN(runStart)) continue;
    const e = p.endedAt ? Date.parse(p.endedAt) : p.durationMs !== null ? s + p.durationMs : p.status === "running" && model.now ? Date.parse(model.now) : NaN;
    const end = Number.isNaN(e) ? s : e;
    bars.push({ label: p.name, status: p.status, start: (s - runStart) / 1000, end: (end - runStart) / 1000 });
  }

  const builds: BuildDistribution[] = model.phases
    .filter((p) => p.buildTimes.length > 0)
    .map((p) => {
      const st = summarize(p.buildTimes);
      return { phase: p.name, bins: histogram(p.buildTimes), count: st.count, p50: st.p50, p95: st.p95, max: st.max };
    });

  const durationSec = model.durationMs !== null ? model.durationMs / 1000 : Math.max(0, ...bars.map((b) => b.end));
  return {
    durationSec,
    timeline: bars.length ? bars : null,
    builds: builds.length ? builds : null,
    stageCharts: stageCharts(model),
    timeCharts: [...timeCharts(model, durationSec), ...serverSideCharts(model, durationSec)],
    ...(model.capacity ? { capacity: capacityCharts(model.capacity) } : {}),
  };
}

const STAGE_TITLE: Record<string, string> = {
  create: "build stages",
  traffic: "tick and dial latency",
  dashboard: "page load time",
  cleanup: "delete time",
  other: "stage latency",
};

/** What a stage's bar is called in its chart: the label value for labelled metrics, else the stage. */
function stageLabel(stage: string): string {
  const m = /^[^{]+\{[^=]+=(.*)\}$/.exec(stage);
  return m ? m[1]! : stage;
}

function stageCharts(model: ReportModel): StageChart[] {
  const out: StageChart[] = [];
  for (const p of model.phases) {
    const measured = Object.entries(p.stages).filter(([, s]) => s.count > 0 && s.p50 !== null);
    // A stage that never took measurable time (p99 under 1 µs, e.g. an empty provisioner queue) has no
    // scale of its own: it is named in the caption instead of getting a chart of zeros.
    const instant = measured.filter(([, s]) => (s.p99 ?? s.p50 ?? 0) < MEDIAN_FLOOR_MS).map(([stage]) => stageLabel(stage));
    const all: StageBar[] = measured
      .filter(([, s]) => (s.p99 ?? s.p50 ?? 0) >= MEDIAN_FLOOR_MS)
      .map(([stage, s]) => ({ label: stageLabel(stage), stage, p50: s.p50, p95: s.p95, p99: s.p99 }));
    if (all.length === 0) continue;
    const instantNote = instant.length ? ` Not drawn, under 1 µs throughout: ${instant.join(", ")}.` : "";
    // A dashboard phase's pages and its API calls are separate charts (a page is several calls).
    const sets: { key: string; title: string; bars: StageBar[] }[] =
      p.kind === "dashboard"
        ? [
            { key: "pages", title: "page load time per page", bars: all.filter((b) => b.stage.startsWith("dashboard.page")) },
            { key: "api", title: "API call time per endpoint", bars: all.filter((b) => !b.stage.startsWith("dashboard.page")) },
          ]
        : [{ key: "stages", title: STAGE_TITLE[p.kind] ?? STAGE_TITLE.other!, bars: all }];
    for (const set of sets) {
      if (set.bars.length === 0) continue;
      const groups = splitByScale(set.bars);
      groups.forEach((g, gi) => {
        const part = groups.length > 1 ? ` (${gi + 1} of ${groups.length}, by scale)` : "";
        out.push({
          id: `chart-stages-${p.index}-${set.key}-${gi}`,
          phase: p.name,
          title: `${p.name}: ${set.title}${part}`,
          caption:
            `p50, p95 and p99 of each ${p.kind === "dashboard" && set.key === "pages" ? "page" : "stage"} over the whole phase (ms, linear scale)` +
            (groups.length > 1 ? `; stages whose medians differ by more than ${MAX_SCALE_RATIO}x are in separate charts.` : ".") +
            (gi === 0 && set.key !== "api" ? instantNote : ""),
          bars: g,
        });
      });
    }
  }
  return out;
}

interface TrafficExtra {
  startedAt: string;
  settings: { tickIntervalMs: number; durationMs: number; rampMs: number };
  totals: { connections: number; drops: number };
  timeline: TimelinePoint[];
  errors: { at: string }[];
  errorsOmitted: number;
}

function trafficExtra(p: ReportPhase): TrafficExtra | null {
  const t = p.extra["traffic"] as Partial<TrafficExtra> | undefined;
  return t && typeof t.startedAt === "string" && Array.isArray(t.timeline) && t.settings && t.totals ? (t as TrafficExtra) : null;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** Per-second tick-latency percentiles, from the per-second HDR snapshots the traffic engine records. */
function percentileSeries(points: readonly TimelinePoint[], offset: number): TimeSeries[] {
  // A point stands for its second [t, t+1): drawn at the middle of it.
  const p50: TimeSeries["points"] = [];
  const p95: TimeSeries["points"] = [];
  const p99: TimeSeries["points"] = [];
  for (const pt of points) {
    const t = round(pt.t + 0.5 + offset);
    if (pt.ticks === 0) {
      p50.push({ t, v: null });
      p95.push({ t, v: null });
      p99.push({ t, v: null });
      continue;
    }
    if (pt.hist) {
      const s = LatencyHistogram.decode(pt.hist).percentiles();
      p50.push({ t, v: s.p50 });
      p95.push({ t, v: s.p95 });
      p99.push({ t, v: s.p99 });
    } else p95.push({ t, v: pt.p95 });
  }
  const out: TimeSeries[] = [];
  if (p50.length) out.push({ label: "p50", style: "p50", points: p50 });
  out.push({ label: "p95", style: "p95", points: p95 });
  if (p99.length) out.push({ label: "p99", style: "p99", points: p99 });
  return out;
}

/** Counts per whole second of the run, from ISO times. */
function perSecond(times: readonly string[], runStart: number, from: number, to: number): TimeSeries["points"] {
  const counts = new Map<number, number>();
  for (const at of times) {
    const ms = Date.parse(at);
    if (Number.isNaN(ms)) continue;
    const s = Math.floor((ms - runStart) / 1000);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const out: TimeSeries["points"] = [];
  for (let s = Math.floor(from); s <= Math.ceil(to); s++) out.push({ t: s + 0.5, v: counts.get(s) ?? 0 });
  return out;
}

function timeCharts(model: ReportModel, xMax: number): TimeChart[] {
  const runStart = model.startedAt ? Date.parse(model.startedAt) : NaN;
  if (Number.isNaN(runStart)) return [];
  const out: TimeChart[] = [];
  const errorSeries: TimeSeries[] = [];
  let untimed = 0;
  for (const p of model.phases) {
    const start = p.startedAt ? (Date.parse(p.startedAt) - runStart) / 1000 : NaN;
    const end = p.endedAt ? (Date.parse(p.endedAt) - runStart) / 1000 : xMax;
    const tr = trafficExtra(p);
    if (tr) {
      const offset = (Date.parse(tr.startedAt) - runStart) / 1000;
      const kind = (p.runner ?? p.name).replace(/-traffic$/, "");
      out.push({
        id: `chart-latency-time-${p.index}`,
        phase: p.name,
        title: `${p.name}: tick latency over time`,
        caption: `${kind} tick latency per second of the run: p50, p95 and p99 of the ticks completed in that second (ms). Gaps are seconds with no completed tick.`,
        unit: "ms",
        xMax,
        series: percentileSeries(tr.timeline, offset),
      });
      const perSec = 1000 / tr.settings.tickIntervalMs;
      const target = tr.totals.connections * perSec;
      const loadStart = round(offset);
      const loadEnd = round(offset + tr.settings.durationMs / 1000);
      out.push({
        id: `chart-throughput-${p.index}`,
        phase: p.name,
        title: `${p.name}: ticks per second, achieved vs target`,
        caption:
          `Solid: ticks completed per second. Dashed: the target, ${tr.totals.connections} connection${tr.totals.connections === 1 ? "" : "s"} × ` +
          `${Number(perSec.toFixed(2))} ticks/s (one tick every ${tr.settings.tickIntervalMs} ms) while the load ran.`,
        unit: "per-second",
        xMax,
        series: [
          { label: "achieved", style: "achieved", points: tr.timeline.map((pt) => ({ t: round(pt.t + 0.5 + offset), v: pt.ticks })) },
          { label: "target", style: "target", points: [{ t: loadStart, v: target }, { t: loadEnd, v: target }] },
        ],
      });
      errorSeries.push({ label: p.name, style: "count", points: perSecond(tr.errors.map((e) => e.at), runStart, Number.isNaN(start) ? offset : start, end) });
      untimed += tr.errorsOmitted;
    } else if ((p.runner ?? p.name) === "prebuilds" && !Number.isNaN(start)) {
      const chart = prebuildsTimeChart(p, start, xMax);
      if (chart) out.push(chart);
    } else if (p.kind === "dashboard" && !Number.isNaN(start)) {
      const d = p.extra["dashboard"] as
        | { failures?: { at: string }[]; failures_total?: number; timeline?: { t: number; views: number; errors: number; hist: string }[]; timeline_started_at?: string }
        | undefined;
      if (d && Array.isArray(d.timeline) && typeof d.timeline_started_at === "string") {
        // Per-second page views, failures and load-time histograms (recorded since the dashboard runner kept them).
        const offset = (Date.parse(d.timeline_started_at) - runStart) / 1000;
        const points: TimelinePoint[] = d.timeline.map((x) => ({ t: x.t, ticks: x.views, hist: x.hist, bytesRead: 0, bytesWritten: 0, p95: 0, max: 0 }));
        out.push({
          id: `chart-latency-time-${p.index}`,
          phase: p.name,
          title: `${p.name}: page load time over time`,
          caption: "Dashboard page load time per second of the run: p50, p95 and p99 of the page views finished in that second (ms). Seconds without a view are not drawn.",
          unit: "ms",
          xMax,
          series: percentileSeries(points, offset),
        });
        out.push({
          id: `chart-throughput-${p.index}`,
          phase: p.name,
          title: `${p.name}: page views per second`,
          caption: "Page views finished per second (solid) and the failed ones among them (red). Dashboard load has no fixed target rate: each virtual user loads the next page after the think time.",
          unit: "per-second",
          xMax,
          series: [
            { label: "views", style: "achieved", points: d.timeline.map((x) => ({ t: round(x.t + 0.5 + offset), v: x.views })) },
            { label: "failed", style: "p99", points: d.timeline.map((x) => ({ t: round(x.t + 0.5 + offset), v: x.errors })) },
          ],
        });
        const byTime = new Map(d.timeline.map((x) => [Math.floor(x.t + offset), x.errors]));
        const pts: TimeSeries["points"] = [];
        for (let sec = Math.floor(start); sec <= Math.ceil(end); sec++) pts.push({ t: sec + 0.5, v: byTime.get(sec) ?? 0 });
        errorSeries.push({ label: p.name, style: "count", points: pts });
      } else {
        const failures = Array.isArray(d?.failures) ? d.failures : [];
        errorSeries.push({ label: p.name, style: "count", points: perSecond(failures.map((f) => f.at), runStart, start, end) });
        untimed += Math.max(0, (d?.failures_total ?? failures.length) - failures.length);
      }
    }
  }
  if (errorSeries.length) {
    out.push({
      id: "chart-errors-time",
      phase: "run",
      title: "Errors and drops over time",
      caption:
        `Errors per second of the run, by phase: failed dials, writes, reads and dropped connections (traffic), failed page views (dashboard).` +
        (untimed ? ` ${untimed} further error${untimed === 1 ? " was" : "s were"} counted without a time and are not drawn.` : ""),
      unit: "count",
      xMax,
      series: errorSeries,
    });
  }
  return out;
}
