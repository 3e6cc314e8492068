// The named metrics a runner produces, in the one shape the results files carry and the threshold evaluator
// reads (types derived from the results schema): builders for runners, and the one way to read them back —
// merged latency stats (percentiles from the merged HDR histogram, clamped to the exact max; never
// averaged), the one latency summary every table and chart shows (exact max, nulls when empty), and value
// metrics (counters summed, gauges the largest, rates recomputed from summed parts).
import { LatencyHistogram, type PercentileSummary } from "../traffic/histogram.ts";
import type { EncodedMetric, LatencySummary, MetricSetJSON } from "./schema.ts";

/** One metric: a latency (labelled encoded HDR histograms) or a counter, gauge or rate (labelled values). */
export type Metric = EncodedMetric;
/** Metric name ("create.provision", "ssh.tick", "dashboard.page") -> metric. */
export type MetricSet = MetricSetJSON;
export type LatencyMetric = Extract<Metric, { type: "latency" }>;
export type ValueMetric = Exclude<Metric, { type: "latency" }>;
export type LatencySeries = LatencyMetric["series"][number];
export type ValueSeries = ValueMetric["series"][number];
/** Units of value metrics. Latencies are always milliseconds. */
export type ValueUnit = ValueMetric["unit"];
export type Labels = Readonly<Record<string, string>>;
type Exact = NonNullable<LatencySeries["exact"]>;

export const EMPTY_SUMMARY: Readonly<LatencySummary> = Object.freeze({ count: 0, min: null, p50: null, p95: null, p99: null, max: null, mean: null });

// ---- builders -------------------------------------------------------------------------------------------

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
  if (samplesMs.length === 0) return { labels: { ...labels }, histogram: "" };
  return { labels: { ...labels }, histogram: h.encode(), exact: { count: samplesMs.length, sumMs: sum, minMs: min, maxMs: max } };
}

/** A series from an already recorded histogram, encoded (e.g. the traffic engine's), with its exact figures if known. */
export function histogramSeries(encoded: string, labels: Labels = {}, exact?: Exact): LatencySeries {
  return exact && exact.count > 0 ? { labels: { ...labels }, histogram: encoded, exact } : { labels: { ...labels }, histogram: encoded };
}

/** A series from a live histogram (encoded; count, min, max and mean from its own summary). */
export function liveHistogramSeries(h: LatencyHistogram, labels: Labels = {}): LatencySeries {
  return h.count ? histogramSeries(h.encode(), labels, exactOf(h.percentiles())) : histogramSeries("", labels);
}

/** Exact figures from a histogram's summary (undefined when it has no samples). */
export function exactOf(p: PercentileSummary): Exact | undefined {
  return p.count > 0 ? { count: p.count, sumMs: p.mean * p.count, minMs: p.min, maxMs: p.max } : undefined;
}

export const latency = (...series: LatencySeries[]): LatencyMetric => ({ type: "latency", series });
export const counter = (unit: ValueUnit, ...series: ValueSeries[]): ValueMetric => ({ type: "counter", unit, series });
export const gauge = (unit: ValueUnit, ...series: ValueSeries[]): ValueMetric => ({ type: "gauge", unit, series });
export const rate = (...series: ValueSeries[]): ValueMetric => ({ type: "rate", unit: "ratio", series });
export const value = (v: number, labels: Labels = {}): ValueSeries => ({ labels: { ...labels }, value: v });
/** `numerator` of `denominator` (e.g. failed of all connections); 0 when there is no data. */
export const ratio = (numerator: number, denominator: number, labels: Labels = {}): ValueSeries => ({
  labels: { ...labels },
  numerator,
  denominator,
  value: denominator > 0 ? numerator / denominator : 0,
});

// ---- reading --------------------------------------------------------------------------------------------

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Labels as "page=workspaces" (sorted keys, comma-separated); "" for none. */
export function labelText(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/** Latency series merged: stats in ms (3 decimals); min, max and mean exact when every series carries its exact figures. */
export interface MergedLatency {
  count: number;
  /** Value at percentile p (0..100) of the merged histogram, clamped to the exact max; null when empty. */
  percentile(p: number): number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
}

export function mergeLatency(series: readonly LatencySeries[]): MergedLatency {
  const h = LatencyHistogram.mergeEncoded(series.map((s) => s.histogram));
  if (h.count === 0) return { count: 0, percentile: () => null, min: null, max: null, mean: null };
  const filled = series.filter((s) => s.histogram !== "");
  const exact = filled.every((s) => s.exact)
    ? filled.reduce<Exact>(
        (a, s) => ({ count: a.count + s.exact!.count, sumMs: a.sumMs + s.exact!.sumMs, minMs: Math.min(a.minMs, s.exact!.minMs), maxMs: Math.max(a.maxMs, s.exact!.maxMs) }),
        { count: 0, sumMs: 0, minMs: Infinity, maxMs: -Infinity },
      )
    : null;
  const max = exact ? exact.maxMs : h.percentile(100);
  return {
    count: h.count,
    percentile: (p) => round3(Math.min(max, h.percentile(p))),
    min: round3(exact ? exact.minMs : h.percentile(0)),
    max: round3(max),
    mean: round3(exact && exact.count > 0 ? exact.sumMs / exact.count : h.percentiles().mean),
  };
}

/** The one latency summary of one or more series merged. */
export function summarizeSeries(series: readonly LatencySeries[]): LatencySummary {
  const m = mergeLatency(series);
  if (m.count === 0) return { ...EMPTY_SUMMARY };
  return { count: m.count, min: m.min, p50: m.percentile(50), p95: m.percentile(95), p99: m.percentile(99), max: m.max, mean: m.mean };
}

/** Summary of a latency metric, all series merged (null if the metric is absent or not a latency). */
export function summaryOf(metrics: MetricSet, name: string, labels?: Labels): LatencySummary | null {
  const m = metrics[name];
  if (!m || m.type !== "latency") return null;
  const series = labels ? m.series.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v)) : m.series;
  return summarizeSeries(series);
}

/**
 * The value of value series merged: counters summed, gauges the largest, rates recomputed from summed
 * numerators and denominators (a lone series without parts is taken at its value). null = no data.
 */
export function mergeValues(type: ValueMetric["type"], series: readonly ValueSeries[]): number | null {
  if (series.length === 0) return null;
  if (type === "counter") return series.reduce((a, s) => a + s.value, 0);
  if (type === "gauge") return Math.max(...series.map((s) => s.value));
  if (series.every((s) => s.denominator !== undefined && s.numerator !== undefined)) {
    const den = series.reduce((a, s) => a + s.denominator!, 0);
    const num = series.reduce((a, s) => a + s.numerator!, 0);
    return den > 0 ? num / den : null;
  }
  return series.length === 1 ? series[0]!.value : null;
}

/** A value metric, every series merged (see mergeValues); null if absent, a latency or without data. */
export function valueOf(metrics: MetricSet, name: string): number | null {
  const m = metrics[name];
  return !m || m.type === "latency" ? null : mergeValues(m.type, m.series);
}

/** Every latency metric's merged summary (and one per label value), as a stage table: "ssh.tick", "dashboard.page{page=x}". */
export function stagesOf(metrics: MetricSet): Record<string, LatencySummary> {
  const out: Record<string, LatencySummary> = {};
  for (const [name, m] of Object.entries(metrics)) {
    if (m.type !== "latency") continue;
    // Series with the same labels (e.g. from shards) are one row.
    const byLabels = new Map<string, LatencySeries[]>();
    for (const s of m.series) byLabels.set(labelText(s.labels), [...(byLabels.get(labelText(s.labels)) ?? []), s]);
    const labelled = [...byLabels].filter(([k]) => k !== "");
    if (labelled.length === 0) out[name] = summarizeSeries(m.series);
    else for (const [k, group] of labelled) out[`${name}{${k}}`] = summarizeSeries(group);
  }
  return out;
}
