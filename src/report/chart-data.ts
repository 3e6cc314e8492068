// The data behind the report's charts, computed here (not in the browser) so it is testable and the
// page's script only draws. Each chart is null when the run has nothing to show for it.
import { summarize } from "../results/stats.ts";
import type { ReportModel } from "./model.ts";

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

export interface LatencyGroup {
  /** "phase · stage" */
  label: string;
  phase: string;
  stage: string;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface ThroughputSeries {
  phase: string;
  /** "bytes" series are bytes/s, "ops" series operations (ticks, page views) per second. */
  measure: "bytes" | "ops";
  points: { t: number; v: number }[];
}

export interface ChartData {
  timeline: TimelineBar[] | null;
  builds: BuildDistribution[] | null;
  latency: LatencyGroup[] | null;
  throughput: ThroughputSeries[] | null;
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
    const e = p.endedAt ? Date.parse(p.endedAt) : p.durationMs !== null ? s + p.durationMs : NaN;
    const end = Number.isNaN(e) ? s : e;
    bars.push({ label: p.name, status: p.status, start: (s - runStart) / 1000, end: (end - runStart) / 1000 });
  }

  const builds: BuildDistribution[] = model.phases
    .filter((p) => p.buildTimes.length > 0)
    .map((p) => {
      const st = summarize(p.buildTimes);
      return { phase: p.name, bins: histogram(p.buildTimes), count: st.count, p50: st.p50, p95: st.p95, max: st.max };
    });

  const latency: LatencyGroup[] = [];
  for (const p of model.phases) {
    for (const [stage, st] of Object.entries(p.stages)) {
      if (st.count === 0 && st.p95 === null) continue;
      latency.push({ label: `${p.name} · ${stage}`, phase: p.name, stage, p50: st.p50, p95: st.p95, p99: st.p99, max: st.max });
    }
  }

  const throughput: ThroughputSeries[] = [];
  for (const p of model.phases) {
    if (p.timeline.length === 0) continue;
    if (p.timeline.some((pt) => pt.bytesPerSec > 0)) {
      throughput.push({ phase: p.name, measure: "bytes", points: p.timeline.map((pt) => ({ t: pt.t, v: pt.bytesPerSec })) });
    } else if (p.timeline.some((pt) => pt.opsPerSec > 0)) {
      throughput.push({ phase: p.name, measure: "ops", points: p.timeline.map((pt) => ({ t: pt.t, v: pt.opsPerSec })) });
    }
  }

  return {
    timeline: bars.length ? bars : null,
    builds: builds.length ? builds : null,
    latency: latency.length ? latency : null,
    throughput: throughput.length ? throughput : null,
  };
}
