/**
 * Hot-path Prometheus metrics.
 *
 * prom-client's own Counter/Histogram hash the label set on every `inc`/`observe`, even through a
 * `.labels()` child; at 2,000 connections x 10 ticks/s x ~5 observations that is most of a CPU core. These
 * collectors resolve a labelled child once (per connection) and then update plain numbers; the prom-client
 * Registry serialises them on scrape like any other metric (they implement its `get()` contract), so they
 * share the endpoint, default labels (e.g. `shard`) and text format with prom-client's metrics.
 *
 * Use prom-client's classes directly for low-rate metrics; use these for anything touched per tick.
 */
import type { Registry } from "prom-client";

export type LabelValues = Record<string, string>;

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

interface MetricObject {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  values: MetricValue[];
  aggregator: "sum";
}

/** Things a hot path can hold on to. */
export interface CounterChild {
  inc(n?: number): void;
  readonly value: number;
}
export interface GaugeChild {
  set(v: number): void;
  inc(n?: number): void;
  dec(n?: number): void;
  readonly value: number;
}
export interface HistogramChild {
  /** Observes a value in the metric's unit (seconds for *_seconds metrics). */
  observe(v: number): void;
}

function keyOf(labelNames: readonly string[], labels: LabelValues): string {
  const parts: string[] = [];
  for (const n of labelNames) {
    const v = labels[n];
    if (v === undefined) throw new Error(`metric label "${n}" missing (have ${Object.keys(labels).join(", ")})`);
    parts.push(v);
  }
  // join() gives one flat string; `+=` would keep a rope of cons-strings alive as the map key for as long as
  // the series lives (~6 nodes per key, 6 series per traffic connection).
  return parts.join("\u0000");
}

function isLabelSet(x: LabelValues | LabelSet): x is LabelSet {
  return typeof (x as LabelSet).key === "string" && Array.isArray((x as LabelSet).names) && typeof (x as LabelSet).labels === "object";
}

function pick(labelNames: readonly string[], labels: LabelValues): LabelValues {
  const out: LabelValues = {};
  for (const n of labelNames) {
    const v = labels[n];
    // Empty label values are equivalent to an absent label in Prometheus; omit them from the output.
    if (v !== undefined && v !== "") out[n] = v;
  }
  return out;
}

/**
 * A label set resolved once for several metrics with the same label names (a traffic connection's six
 * per-connection series): one key string and one labels object shared by all of them, not one each.
 */
export interface LabelSet {
  readonly names: readonly string[];
  readonly key: string;
  readonly labels: LabelValues;
}

export function labelSet(names: readonly string[], labels: LabelValues): LabelSet {
  return { names, key: keyOf(names, labels), labels: pick(names, labels) };
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

abstract class FastMetric<C> {
  readonly aggregator = "sum" as const;
  /** Each child keeps its own labels (one object per series, not a wrapper around it). */
  protected children = new Map<string, C & { readonly labels: LabelValues }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  protected abstract create(labels: LabelValues): C & { readonly labels: LabelValues };

  /** Returns the child for `labels`, creating it (initialised to zero, so the series exists) on first use. */
  labels(labels: LabelValues | LabelSet): C {
    const set = isLabelSet(labels) ? labels : undefined;
    if (set && !sameNames(set.names, this.labelNames)) {
      throw new Error(`metric ${this.name} has labels ${this.labelNames.join(", ")}, not ${set.names.join(", ")}`);
    }
    const k = set ? set.key : keyOf(this.labelNames, labels as LabelValues);
    let child = this.children.get(k);
    if (!child) {
      child = this.create(set ? set.labels : pick(this.labelNames, labels as LabelValues));
      this.children.set(k, child);
    }
    return child;
  }

  /** Drops every series (tests; a long-lived process reusing the registry for unrelated runs). */
  reset(): void {
    this.children.clear();
  }
}

class CounterImpl implements CounterChild {
  value = 0;
  constructor(readonly labels: LabelValues) {}
  inc(n = 1): void {
    this.value += n;
  }
}

export class FastCounter extends FastMetric<CounterChild> {
  readonly type = "counter" as const;
  protected create(labels: LabelValues): CounterImpl {
    return new CounterImpl(labels);
  }
  get(): MetricObject {
    const values: MetricValue[] = [];
    for (const child of this.children.values()) values.push({ value: child.value, labels: child.labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

class GaugeImpl implements GaugeChild {
  value = 0;
  constructor(readonly labels: LabelValues) {}
  set(v: number): void {
    this.value = v;
  }
  inc(n = 1): void {
    this.value += n;
  }
  dec(n = 1): void {
    this.value -= n;
  }
}

export class FastGauge extends FastMetric<GaugeChild> {
  readonly type = "gauge" as const;
  protected create(labels: LabelValues): GaugeImpl {
    return new GaugeImpl(labels);
  }
  get(): MetricObject {
    const values: MetricValue[] = [];
    for (const child of this.children.values()) values.push({ value: child.value, labels: child.labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

class HistogramImpl implements HistogramChild {
  /** Non-cumulative counts; index bounds.length is the +Inf bucket. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    private readonly bounds: Float64Array,
    readonly labels: LabelValues,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class FastHistogram extends FastMetric<HistogramChild> {
  readonly type = "histogram" as const;
  private readonly bounds: Float64Array;

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    const sorted = [...buckets].sort((a, b) => a - b);
    if (sorted.length === 0) throw new Error(`histogram ${name} needs at least one bucket`);
    this.bounds = Float64Array.from(sorted);
  }

  protected create(labels: LabelValues): HistogramImpl {
    return new HistogramImpl(this.bounds, labels);
  }

  get(): MetricObject {
    const values: MetricValue[] = [];
    for (const child of this.children.values()) {
      const h = child as HistogramImpl;
      const labels = h.labels;
      let cum = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cum += h.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: this.bounds[i]! }, value: cum });
      }
      cum += h.counts[this.bounds.length]!;
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: "+Inf" }, value: cum });
      values.push({ metricName: `${this.name}_sum`, labels, value: h.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: h.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

type AnyFast = FastCounter | FastGauge | FastHistogram;

/**
 * Registers `metric` in `registry`, or returns the one already registered under that name (so several
 * scenarios in one process share series). Throws if the name is taken by a different kind of metric.
 */
export function registerFast<T extends AnyFast>(registry: Registry, metric: T): T {
  const existing = registry.getSingleMetric(metric.name) as unknown;
  if (existing) {
    if (existing instanceof metric.constructor) return existing as T;
    throw new Error(`metric ${metric.name} is already registered with a different type`);
  }
  // The Registry only needs name/help/type/get(); the cast bridges prom-client's class-based typing.
  registry.registerMetric(metric as unknown as Parameters<Registry["registerMetric"]>[0]);
  return metric;
}
