// Building a phase's named metrics in the form results files carry (histograms encoded), and the one
// latency summary every table and chart shows (from the HDR histogram, exact max, nulls when empty).
import { LatencyHistogram } from "../traffic/histogram.ts";
import type { EncodedMetric, LatencySummary, MetricSetJSON } from "./schema.ts";

type Labels = Record<string, string>;
type LatencySeries = Extract<EncodedMetric, { type: "latency" }>["series"][number];
type ValueMetric = Exclude<EncodedMetric, { type: "latency" }>;
type ValueSeries = ValueMetric["series"][number];
type ValueUnit = ValueMetric["unit"];

export const EMPTY_SUMMARY: Readonly<LatencySummary> = Object.freeze({ count: 0, min: null, p50: null, p95: null, p99: null, max: null, mean: null });

/** One latency series from millisecond samples (exact count/sum/min/max kept beside the histogram). */
export function samplesSeries(samplesMs: readonly number[], labels: Labels = {}): LatencySeries {
  const h = new LatencyHistogram(3);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of samplesMs) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`cannot record latency ${v}: values must be finite milliseconds >= 0`);
    h.record(v);
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (samplesMs.length === 0) return { labels, histogram: "" };
  return { labels, histogram: h.encode(), exact: { count: samplesMs.length, sumMs: sum, minMs: min, maxMs: max } };
}

/** A series from an already recorded histogram (e.g. the traffic engine's, encoded). */
export function histogramSeries(encoded: string, labels: Labels = {}, exact?: LatencySeries["exact"]): LatencySeries {
  return exact && exact.count > 0 ? { labels, histogram: encoded, exact } : { labels, histogram: encoded };
}

export const latency = (...series: LatencySeries[]): EncodedMetric => ({ type: "latency", series });
export const counter = (unit: ValueUnit, ...series: ValueSeries[]): EncodedMetric => ({ type: "counter", unit, series });
export const gauge = (unit: ValueUnit, ...series: ValueSeries[]): EncodedMetric => ({ type: "gauge", unit, series });
export const rate = (...series: ValueSeries[]): EncodedMetric => ({ type: "rate", unit: "ratio", series });
export const value = (v: number, labels: Labels = {}): ValueSeries => ({ labels, value: v });
/** `numerator` of `denominator` (e.g. failed of all connections); 0 when there is no data. */
export const ratio = (numerator: number, denominator: number, labels: Labels = {}): ValueSeries => ({
  labels,
  numerator,
  denominator,
  value: denominator > 0 ? numerator / denominator : 0,
});

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** The summary of one or more series merged (percentiles from the merged histogram, clamped to the exact max). */
export function summarizeSeries(series: readonly LatencySeries[]): LatencySummary {
  const h = LatencyHistogram.mergeEncoded(series.map((s) => s.histogram));
  if (h.count === 0) return { ...EMPTY_SUMMARY };
  const allExact = series.every((s) => s.histogram === "" || s.exact);
  const exacts = series.flatMap((s) => (s.exact ? [s.exact] : []));
  const max = allExact ? Math.max(...exacts.map((e) => e.maxMs)) : h.percentile(100);
  const min = allExact ? Math.min(...exacts.map((e) => e.minMs)) : h.percentile(0);
  const mean = allExact ? exacts.reduce((a, e) => a + e.sumMs, 0) / h.count : h.percentiles().mean;
  const pct = (p: number) => round3(Math.min(max, h.percentile(p)));
  return { count: h.count, min: round3(min), p50: pct(50), p95: pct(95), p99: pct(99), max: round3(max), mean: round3(mean) };
}

/** Summary of a latency metric, all series merged (null if the metric is absent or not a latency). */
export function summaryOf(metrics: MetricSetJSON, name: string, labels?: Labels): LatencySummary | null {
  const m = metrics[name];
  if (!m || m.type !== "latency") return null;
  const series = labels ? m.series.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)) : m.series;
  return summarizeSeries(series);
}

/** Sum of a value metric's series (rates: summed numerators over summed denominators); null if absent. */
export function valueOf(metrics: MetricSetJSON, name: string): number | null {
  const m = metrics[name];
  if (!m || m.type === "latency") return null;
  if (m.type === "rate") {
    const n = m.series.reduce((a, s) => a + (s.numerator ?? 0), 0);
    const d = m.series.reduce((a, s) => a + (s.denominator ?? 0), 0);
    return d > 0 ? n / d : null;
  }
  if (m.type === "gauge") return m.series.length ? Math.max(...m.series.map((s) => s.value)) : null;
  return m.series.reduce((a, s) => a + s.value, 0);
}

/** Every latency metric's merged summary (and one per label value), as a stage table: "ssh.tick", "dashboard.page{page=x}". */
export function stagesOf(metrics: MetricSetJSON): Record<string, LatencySummary> {
  const out: Record<string, LatencySummary> = {};
  for (const [name, m] of Object.entries(metrics)) {
    if (m.type !== "latency") continue;
    const labelled = m.series.filter((s) => Object.keys(s.labels).length > 0);
    if (labelled.length === 0) out[name] = summarizeSeries(m.series);
    else for (const s of labelled) out[`${name}{${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(",")}}`] = summarizeSeries([s]);
  }
  return out;
}
