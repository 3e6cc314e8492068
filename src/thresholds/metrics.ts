/**
 * The named metrics a runner produces and the threshold evaluator reads.
 *
 * A MetricSet maps a metric name ("create.provision", "web-terminal.tick", "dashboard.page") to
 *  - a latency metric: series of {labels, HDR histogram in microseconds}, in memory or encoded (as the results
 *    files carry them), so a finished run is re-judged from its files exactly as it was judged live; or
 *  - a value metric: series of {labels, value} for counters (summed when aggregated), gauges (the largest when
 *    aggregated) and rates (numerator / denominator, recomputed from the summed parts when aggregated).
 * Unlabelled metrics have one series with `labels: {}`.
 */
import { LatencyHistogram } from "../traffic/histogram.ts";

export type Labels = Readonly<Record<string, string>>;

/** Units of value metrics. Latencies are always milliseconds. */
export type ValueUnit = "count" | "ratio" | "bytes" | "bytes/s" | "ms";

export interface LatencySeries {
  labels: Labels;
  /** Recorded in microseconds (LatencyHistogram), or its `encode()` string; "" = no samples. */
  histogram: LatencyHistogram | string;
  /**
   * Exact figures when known (a decoded histogram only has its buckets): used for min, max and mean, and
   * merged exactly across series. Percentiles are clamped to the exact max.
   */
  exact?: { count: number; sumMs: number; minMs: number; maxMs: number };
}

export interface LatencyMetric {
  type: "latency";
  series: LatencySeries[];
}

export interface ValueSeries {
  labels: Labels;
  /** Counters and gauges: the value. Rates: numerator / denominator (0..1), which the evaluator recomputes. */
  value: number;
  /** Rates only: e.g. failed connections ... */
  numerator?: number;
  /** ... out of all connections. 0 = no data. */
  denominator?: number;
}

export interface ValueMetric {
  type: "counter" | "gauge" | "rate";
  unit: ValueUnit;
  series: ValueSeries[];
}

export type Metric = LatencyMetric | ValueMetric;

/** Metric name -> metric. */
export type MetricSet = Readonly<Record<string, Metric>>;

// ---- builders, so runners need not spell the shapes out ----------------------------------------------

export function latency(...series: LatencySeries[]): LatencyMetric {
  return { type: "latency", series };
}

/** One latency series from millisecond samples (exact count/sum/min/max kept beside the histogram). */
export function latencyFromSamples(samplesMs: readonly number[], labels: Labels = {}): LatencySeries {
  const h = new LatencyHistogram(3);
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of samplesMs) {
    h.record(v);
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return samplesMs.length
    ? { labels, histogram: h, exact: { count: samplesMs.length, sumMs: sum, minMs: min, maxMs: max } }
    : { labels, histogram: h };
}

export function counter(unit: ValueUnit, ...series: ValueSeries[]): ValueMetric {
  return { type: "counter", unit, series };
}

export function gauge(unit: ValueUnit, ...series: ValueSeries[]): ValueMetric {
  return { type: "gauge", unit, series };
}

export function rate(...series: ValueSeries[]): ValueMetric {
  return { type: "rate", unit: "ratio", series };
}

/** A rate series: `numerator` of `denominator` (e.g. failed of all connections). */
export function rateSeries(numerator: number, denominator: number, labels: Labels = {}): ValueSeries {
  return { labels, numerator, denominator, value: denominator > 0 ? numerator / denominator : 0 };
}

export function valueSeries(value: number, labels: Labels = {}): ValueSeries {
  return { labels, value };
}

// ---- reading ---------------------------------------------------------------------------------------------

/** The series' histogram, decoded if needed (a fresh object: merging into it leaves the series alone). */
export function histogramOf(s: LatencySeries): LatencyHistogram {
  const out = new LatencyHistogram(3);
  if (typeof s.histogram === "string") {
    if (s.histogram) out.merge(LatencyHistogram.decode(s.histogram));
  } else out.merge(s.histogram);
  return out;
}

/** Labels as "page=workspaces" (sorted keys, comma-separated); "" for none. */
export function labelText(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/**
 * A MetricSet as plain JSON (histograms encoded), for results files; `evaluate` reads it back unchanged.
 */
export function encodeMetricSet(set: MetricSet): Record<string, Metric> {
  const out: Record<string, Metric> = {};
  for (const [name, m] of Object.entries(set)) {
    if (m.type === "latency") {
      out[name] = {
        type: "latency",
        series: m.series.map((s) => ({
          ...s,
          histogram: typeof s.histogram === "string" ? s.histogram : s.histogram.count ? s.histogram.encode() : "",
        })),
      };
    } else out[name] = { ...m, series: m.series.map((s) => ({ ...s })) };
  }
  return out;
}
