// Which stats apply to which kind of metric, and in what unit their values come out.
import type { Metric, ValueUnit } from "../results/metric-set.ts";
import { percentileOf, type ThresholdSpec } from "./parse.ts";
import { limitProblem, type ObservedUnit } from "./units.ts";

export type MetricType = Metric["type"];

/** The stat a threshold without one reads: rates their rate, counters their count, gauges their value. */
export const DEFAULT_STAT: Record<MetricType, string | null> = {
  latency: null,
  counter: "count",
  gauge: "value",
  rate: "rate",
};

const LATENCY_STATS = "p50, p90, p95, p99 (any p1..p100), min, max, mean, count";
const ALLOWED: Record<Exclude<MetricType, "latency">, readonly string[]> = {
  counter: ["count"],
  // A gauge's value over a phase is the largest seen, so .max names it too (coderd.cpu.max<3).
  gauge: ["value", "max"],
  rate: ["rate"],
};

/** The stat a spec reads from a metric of this type. */
export function statFor(spec: Pick<ThresholdSpec, "stat">, type: MetricType): string | null {
  return spec.stat ?? DEFAULT_STAT[type];
}

/** Null when `stat` applies to a metric of this type; else what is wrong and what to write. */
export function statProblem(metric: string, stat: string | null, type: MetricType): string | null {
  if (type === "latency") {
    if (stat === null) return `${metric} is a latency: name a stat, e.g. ${metric}.p95 (${LATENCY_STATS})`;
    if (percentileOf(stat) !== null || ["min", "max", "mean", "count"].includes(stat)) return null;
    return `.${stat} does not apply to the latency ${metric}: use ${LATENCY_STATS}`;
  }
  if (stat === null || ALLOWED[type].includes(stat)) return null;
  return `.${stat} does not apply to ${metric} (a ${type}): leave the stat out, or write .${ALLOWED[type].join(" / .")}`;
}

/** The unit of the value a stat reads. */
export function observedUnit(type: MetricType, unit: ValueUnit | "ms", stat: string | null): ObservedUnit {
  if (type === "latency") return stat === "count" ? "count" : "ms";
  if (type === "rate") return "ratio";
  return unit;
}

/** Every problem with a spec against a metric of this type and unit, or null. */
export function specProblem(spec: ThresholdSpec, type: MetricType, unit: ValueUnit | "ms"): string | null {
  const stat = statFor(spec, type);
  const sp = statProblem(spec.metric, stat, type);
  if (sp) return sp;
  return limitProblem(spec.limit, observedUnit(type, unit, stat));
}
