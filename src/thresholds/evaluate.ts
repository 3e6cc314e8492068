/**
 * The one threshold evaluator: specs over a MetricSet -> one result per spec.
 *
 * Rules:
 *  - No selector: the threshold holds for EVERY label value (each distinct label set is judged on its own;
 *    series with the same labels, e.g. from shards, are merged first) and fails naming the values that fail.
 *  - {label:value}: the series carrying those labels, merged. {*}: every series merged. Merging is exact:
 *    histograms are merged and percentiles recomputed (never averaged), counters summed, rates recomputed
 *    from summed numerators and denominators, gauges take the largest value.
 *  - No data (metric absent, no series selected, an empty histogram, a rate over 0): the result says "no
 *    data" and fails, unless the spec says `;nodata=pass`. Counts are the exception: a recorded metric with
 *    nothing counted (an empty histogram, a counter without series, a label value never seen) counts 0.
 *  - A spec that does not fit the metric (a latency without a stat, a duration limit on a rate) fails with a
 *    message saying so; validateThresholds refuses such specs up front for catalog metrics.
 */
import { labelText, mergeLatency, mergeValues, type Labels, type LatencySeries, type Metric, type MetricSet, type ValueSeries } from "../results/metric-set.ts";
import { parseThreshold, percentileOf, specKey, type Op, type ThresholdSpec } from "./parse.ts";
import { DEFAULT_STAT, observedUnit, specProblem, statFor } from "./rules.ts";
import { formatValue, type ObservedUnit } from "./units.ts";
import { catalogEntry } from "./catalog.ts";

export interface Observation {
  /** The label set judged ({} for an unlabelled or aggregated series). */
  labels: Labels;
  /** null = no data. */
  value: number | null;
  /** As people read it ("1.7s", "0.5%"), or "no data". */
  text: string;
  ok: boolean;
}

export interface ThresholdResult {
  /** Canonical expression, e.g. "dashboard.page.p95<500ms". */
  expression: string;
  /** What identifies the threshold (metric, selector, stat): a re-evaluation replaces the row with the same key. */
  key: string;
  metric: string;
  stat: string | null;
  ok: boolean;
  /** No series had data (counted as failed unless the spec says ;nodata=pass). */
  noData: boolean;
  /** The worst value judged (the failing one furthest from the limit, else the one closest to it). */
  observed: { value: number; unit: ObservedUnit; text: string } | null;
  limit: { value: number; text: string };
  /** Every label set judged, in label order. */
  series: Observation[];
  /** The label sets that failed, rendered "page=workspaces" (empty for an unlabelled or aggregated metric). */
  failing: string[];
  abort: ThresholdSpec["abort"];
  /** One line for people: the expression, the verdict, what was observed and which values failed. */
  message: string;
}

const EPS = 1e-9;

/** Compares with a relative tolerance so 1% of 100 is exactly "<= 1%" despite float rounding. */
export function compare(observed: number, op: Op, limit: number): boolean {
  const tol = EPS * Math.max(1, Math.abs(limit), Math.abs(observed));
  const eq = Math.abs(observed - limit) <= tol;
  switch (op) {
    case "<":
      return observed < limit && !eq;
    case "<=":
      return observed < limit || eq;
    case ">":
      return observed > limit && !eq;
    case ">=":
      return observed > limit || eq;
    case "==":
      return eq;
  }
}

/** The stat of merged latency series (ms, or a count); null = no data. */
function latencyStat(series: readonly LatencySeries[], stat: string): number | null {
  const m = mergeLatency(series);
  if (stat === "count") return m.count;
  const p = percentileOf(stat);
  if (p !== null) return m.percentile(p);
  return stat === "max" ? m.max : stat === "min" ? m.min : stat === "mean" ? m.mean : null;
}

type AnySeries = LatencySeries | ValueSeries;

function matches(labels: Labels, want: Readonly<Record<string, string>>): boolean {
  return Object.entries(want).every(([k, v]) => labels[k] === v);
}

/** The groups of series the spec judges: one per label set, one selected, or all. */
function groups<S extends AnySeries>(spec: ThresholdSpec, series: readonly S[]): { labels: Labels; series: S[] }[] {
  const sel = spec.selector;
  if (sel.kind === "all") return [{ labels: {}, series: [...series] }];
  if (sel.kind === "labels") return [{ labels: sel.labels, series: series.filter((s) => matches(s.labels, sel.labels)) }];
  const by = new Map<string, { labels: Labels; series: S[] }>();
  for (const s of series) {
    const k = labelText(s.labels);
    let g = by.get(k);
    if (!g) by.set(k, (g = { labels: s.labels, series: [] }));
    g.series.push(s);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}

function statOf(m: Metric, stat: string, series: readonly AnySeries[]): number | null {
  return m.type === "latency" ? latencyStat(series as LatencySeries[], stat) : mergeValues(m.type, series as ValueSeries[]);
}

/** How far a value is on the failing side of the limit (larger = worse), for picking the row to show. */
function badness(v: number, op: Op, limit: number): number {
  if (op === "<" || op === "<=") return v - limit;
  if (op === ">" || op === ">=") return limit - v;
  return Math.abs(v - limit);
}

function result(spec: ThresholdSpec, key: string, base: Partial<ThresholdResult> & Pick<ThresholdResult, "ok" | "noData" | "message">): ThresholdResult {
  return {
    expression: spec.expression,
    key,
    metric: spec.metric,
    stat: spec.stat,
    observed: null,
    limit: { value: spec.limit.value, text: spec.limit.text },
    series: [],
    failing: [],
    abort: spec.abort,
    ...base,
  };
}

/** Judges one spec against a metric set. */
export function evaluateOne(spec: ThresholdSpec, metrics: MetricSet): ThresholdResult {
  const m = metrics[spec.metric];
  const key = specKey(spec, m ? DEFAULT_STAT[m.type] : (catalogDefault(spec.metric) ?? null));
  const noData = (why: string): ThresholdResult => {
    const ok = spec.noData === "pass";
    return result(spec, key, { ok, noData: true, message: `${spec.expression}: no data (${why})${ok ? ", allowed by ;nodata=pass" : ": FAILED"}` });
  };
  if (!m) return noData(`${spec.metric} was not recorded`);
  const unit = m.type === "latency" ? "ms" : m.unit;
  const problem = specProblem(spec, m.type, unit);
  if (problem) return result(spec, key, { ok: false, noData: false, message: `${spec.expression}: ${problem}: FAILED` });
  const stat = statFor(spec, m.type)!;
  const ounit = observedUnit(m.type, unit, stat);

  // Counts are 0 where nothing was counted (a counter without series, a label value never seen).
  const counts = stat === "count";
  const judged: Observation[] = [];
  let selected = groups<AnySeries>(spec, m.series);
  if (selected.length === 0 && counts) selected = [{ labels: {}, series: [] }];
  for (const g of selected) {
    const v = g.series.length ? statOf(m, stat, g.series) : counts ? 0 : null;
    if (v === null) {
      judged.push({ labels: g.labels, value: null, text: "no data", ok: false });
      continue;
    }
    judged.push({ labels: g.labels, value: v, text: formatValue(v, ounit), ok: compare(v, spec.op, spec.limit.value) });
  }
  const withData = judged.filter((o) => o.value !== null);
  if (withData.length === 0) {
    const sel = spec.selector;
    return noData(sel.kind === "labels" ? `no ${spec.metric} series with ${labelText(sel.labels)}${known(m)}` : `${spec.metric} has no samples`);
  }
  // Label values without data among others with data are shown but do not fail the threshold.
  const failing = withData.filter((o) => !o.ok);
  const worst = [...(failing.length ? failing : withData)].sort(
    (a, b) => badness(b.value!, spec.op, spec.limit.value) - badness(a.value!, spec.op, spec.limit.value),
  )[0]!;
  const ok = failing.length === 0;
  const observed = { value: worst.value!, unit: ounit, text: worst.text };
  const where = (o: Observation) => (labelText(o.labels) ? ` ${labelText(o.labels)}` : "");
  const labelled = spec.selector.kind === "each" && withData.some((o) => labelText(o.labels) !== "");
  let message: string;
  if (ok) {
    message = `${spec.expression}: ok, ${labelled ? `worst${where(worst)} ` : ""}${worst.text}`;
  } else {
    const shown = failing.slice(0, 5).map((o) => `${where(o).trim() || spec.metric} ${o.text}`.trim());
    const more = failing.length > shown.length ? ` and ${failing.length - shown.length} more` : "";
    message = `${spec.expression}: FAILED: ${shown.join(", ")}${more} (limit ${spec.op}${spec.limit.text})`;
  }
  return result(spec, key, {
    ok,
    noData: false,
    observed,
    series: judged,
    failing: failing.map((o) => labelText(o.labels)).filter((t) => t !== ""),
    message,
  });
}

function known(m: Metric): string {
  const vals = [...new Set(m.series.map((s) => labelText(s.labels)).filter((t) => t))];
  return vals.length ? ` (recorded: ${vals.slice(0, 10).join("; ")}${vals.length > 10 ? "; ..." : ""})` : "";
}

function catalogDefault(metric: string): string | null | undefined {
  const e = catalogEntry(metric);
  return e ? DEFAULT_STAT[e.type] : undefined;
}

/** Judges every spec (expressions are parsed; bad ones throw a BadInputError). */
export function evaluate(specs: readonly (ThresholdSpec | string)[], metrics: MetricSet): ThresholdResult[] {
  return specs.map((s) => evaluateOne(typeof s === "string" ? parseThreshold(s) : s, metrics));
}

/**
 * The failed abort thresholds whose delay has passed, for the check made every few seconds during a phase.
 * "No data" never aborts: early in a phase nothing may have been measured yet.
 */
export function abortingFailures(results: readonly ThresholdResult[], elapsedMs: number): ThresholdResult[] {
  return results.filter((r) => r.abort && !r.ok && !r.noData && elapsedMs >= r.abort.delayMs);
}

/** The identity of a spec (metric, selector, stat with the catalog's default filled in). */
export function thresholdKey(spec: ThresholdSpec): string {
  return specKey(spec, catalogDefault(spec.metric) ?? null);
}

/**
 * Merges threshold lists: a later spec with the same metric, selector and stat REPLACES the earlier one in
 * its place; new ones are appended. This is how --threshold overrides a preset, and how report.ts re-judges
 * a run with a changed limit (the row is replaced, not added).
 */
export function mergeThresholds(...lists: readonly (readonly (ThresholdSpec | string)[])[]): ThresholdSpec[] {
  const out: ThresholdSpec[] = [];
  const at = new Map<string, number>();
  for (const list of lists) {
    for (const item of list) {
      const spec = typeof item === "string" ? parseThreshold(item) : item;
      const k = thresholdKey(spec);
      const i = at.get(k);
      if (i === undefined) {
        at.set(k, out.length);
        out.push(spec);
      } else out[i] = spec;
    }
  }
  return out;
}
