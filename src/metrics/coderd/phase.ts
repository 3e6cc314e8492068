// A phase's server-side figures from a source window: the named metrics the one evaluator judges
// (coderd.api{route}, coderd.cpu{replica}, ...), the record's `extra.coderd` block, headline figures, the
// summary text, and the change against the baseline phase before it.
import { gauge, counter, latency, histogramSeries } from "../../results/metric-set.ts";
import type { Headline, MetricSetJSON } from "../../results/schema.ts";
import { countOf, mergeBuckets, quantile, toLatencyHistogram, type Buckets } from "./buckets.ts";
import { mergeRoutes, type ReplicaWindow } from "./snapshot.ts";
import type { SourceWindow, TimelinePoint } from "./source.ts";

export interface QuantilesMs {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface ReplicaFigures {
  replica: string;
  /** Mean cores over the phase, and the largest over one scrape interval (null when not measured). */
  cpu_cores_mean: number | null;
  cpu_cores_max: number | null;
  memory_bytes_max: number | null;
  goroutines_max: number | null;
  concurrent_requests_max: number | null;
  concurrent_websockets_max: number | null;
}

export interface BaselineDelta {
  baseline_phase: string;
  /** This phase minus the baseline: the peak cores and bytes over replicas, and the API p95 (all routes). */
  cpu_cores: number | null;
  memory_bytes: number | null;
  api_p95_ms: number | null;
}

/** `extra.coderd` of a phase record. */
export interface ServerSideBlock {
  source: SourceWindow["source"];
  replicas: ReplicaFigures[];
  /** API latency from the merged buckets (histogram_quantile), all routes and per route. */
  api: QuantilesMs;
  routes: Record<string, QuantilesMs>;
  requests_by_code: Record<string, number>;
  provisioner_queue: QuantilesMs | null;
  provisioner_build: QuantilesMs | null;
  db: QuantilesMs | null;
  timeline: TimelinePoint[];
  warnings: string[];
  vs_baseline: BaselineDelta | null;
}

const round = (x: number | null, d = 3): number | null => (x === null ? null : Math.round(x * 10 ** d) / 10 ** d);

export function quantilesMs(b: Buckets | null): QuantilesMs {
  if (!b) return { count: 0, p50: null, p95: null, p99: null };
  const q = (p: number): number | null => {
    const v = quantile(b, p);
    return v === null ? null : round(v * 1000);
  };
  return { count: countOf(b), p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

function replicaFigures(w: ReplicaWindow, timeline: readonly TimelinePoint[]): ReplicaFigures {
  const peaks = timeline.filter((p) => p.replica === w.replica && p.cpuCores !== null && p.at > w.startMs && p.at <= w.endMs).map((p) => p.cpuCores!);
  const cpuMax = peaks.length ? Math.max(...peaks, w.cpuCores ?? 0) : w.cpuCores;
  return {
    replica: w.replica,
    cpu_cores_mean: round(w.cpuCores),
    cpu_cores_max: round(cpuMax),
    memory_bytes_max: w.memoryMaxBytes,
    goroutines_max: w.goroutinesMax,
    concurrent_requests_max: w.concurrentRequestsMax,
    concurrent_websockets_max: w.concurrentWebsocketsMax,
  };
}

const histogramMetric = (byLabel: Map<string, Buckets>, label: string | null) =>
  latency(
    ...[...byLabel.entries()]
      .filter(([, b]) => countOf(b) > 0)
      .map(([k, b]) => {
        const h = toLatencyHistogram(b);
        return histogramSeries(h.encode(), label ? { [label]: k } : {});
      }),
  );

export interface PhaseServerSide {
  metrics: MetricSetJSON;
  block: ServerSideBlock;
  headline: Headline[];
  text: string;
}

/** The server-side part of a phase from its window (replicas merged by summing buckets). */
export function serverSide(w: SourceWindow, baseline: { phase: string; block: ServerSideBlock } | null): PhaseServerSide {
  const routes = mergeRoutes(w.replicas);
  const all = mergeBuckets([...routes.values()]);
  const queue = mergeBuckets(w.replicas.flatMap((r) => (r.queueWait ? [r.queueWait] : [])));
  const build = mergeBuckets(w.replicas.flatMap((r) => (r.jobTimings ? [r.jobTimings] : [])));
  const db = mergeRoutes(w.replicas, (r) => r.db);
  const requests: Record<string, number> = {};
  for (const r of w.replicas) for (const [code, n] of r.requests) requests[code] = (requests[code] ?? 0) + n;
  const replicas = w.replicas.map((r) => replicaFigures(r, w.timeline));

  const metrics: MetricSetJSON = {};
  if (w.replicas.length > 0) {
    metrics["coderd.api"] = histogramMetric(routes, "route");
    metrics["coderd.api.requests"] = counter("count", ...Object.entries(requests).map(([code, n]) => ({ labels: { code }, value: n })));
    if (queue) metrics["coderd.provisioner.queue"] = histogramMetric(new Map([["", queue]]), null);
    if (build) metrics["coderd.provisioner.build"] = histogramMetric(new Map([["", build]]), null);
    if (db.size) metrics["coderd.db"] = histogramMetric(db, "query");
    const g = (name: string, unit: "count" | "bytes", pick: (r: ReplicaFigures) => number | null): void => {
      const series = replicas.flatMap((r) => (pick(r) === null ? [] : [{ labels: { replica: r.replica }, value: pick(r)! }]));
      if (series.length) metrics[name] = gauge(unit, ...series);
    };
    g("coderd.cpu", "count", (r) => r.cpu_cores_max);
    g("coderd.memory", "bytes", (r) => r.memory_bytes_max);
    g("coderd.goroutines", "count", (r) => r.goroutines_max);
    g("coderd.concurrent_requests", "count", (r) => r.concurrent_requests_max);
    g("coderd.concurrent_websockets", "count", (r) => r.concurrent_websockets_max);
  }
  const routeFigures: Record<string, QuantilesMs> = {};
  for (const [route, b] of [...routes.entries()].sort(([a], [b]) => a.localeCompare(b))) if (countOf(b) > 0) routeFigures[route] = quantilesMs(b);
  const block: ServerSideBlock = {
    source: w.source,
    replicas,
    api: quantilesMs(all),
    routes: routeFigures,
    requests_by_code: requests,
    provisioner_queue: queue ? quantilesMs(queue) : null,
    provisioner_build: build ? quantilesMs(build) : null,
    db: db.size ? quantilesMs(mergeBuckets([...db.values()])) : null,
    timeline: w.timeline,
    warnings: w.warnings,
    vs_baseline: null,
  };
  if (baseline) block.vs_baseline = compare(block, baseline.phase, baseline.block);
  return { metrics, block, headline: headline(block), text: text(block) };
}

const peak = (b: ServerSideBlock, pick: (r: ReplicaFigures) => number | null): number | null => {
  const v = b.replicas.map(pick).filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
};
const diff = (a: number | null, b: number | null, d = 3): number | null => (a === null || b === null ? null : round(a - b, d));

export function compare(now: ServerSideBlock, phase: string, base: ServerSideBlock): BaselineDelta {
  return {
    baseline_phase: phase,
    cpu_cores: diff(peak(now, (r) => r.cpu_cores_max), peak(base, (r) => r.cpu_cores_max)),
    memory_bytes: diff(peak(now, (r) => r.memory_bytes_max), peak(base, (r) => r.memory_bytes_max), 0),
    api_p95_ms: diff(now.api.p95, base.api.p95),
  };
}

function headline(b: ServerSideBlock): Headline[] {
  return [
    { label: "coderd API p95", value: b.api.p95, unit: "ms" },
    { label: "coderd CPU (peak cores)", value: peak(b, (r) => r.cpu_cores_max), unit: "count" },
    { label: "coderd memory (peak)", value: peak(b, (r) => r.memory_bytes_max), unit: "bytes" },
  ];
}

const ms = (v: number | null): string => (v === null ? "-" : `${v.toFixed(1)}ms`);
const mib = (v: number | null): string => (v === null ? "-" : `${(v / 1024 / 1024).toFixed(1)} MiB`);
const signed = (v: number | null, f: (x: number) => string): string => (v === null ? "-" : `${v >= 0 ? "+" : "-"}${f(Math.abs(v))}`);

/** The server-side lines of summary.txt. */
export function text(b: ServerSideBlock): string {
  const lines = [`Server side (coderd, from ${b.source === "prometheus" ? "Prometheus" : "its metrics endpoints"}):`];
  lines.push(`  API: ${b.api.count} requests, p50 ${ms(b.api.p50)}, p95 ${ms(b.api.p95)}, p99 ${ms(b.api.p99)}`);
  const slow = Object.entries(b.routes).sort(([, x], [, y]) => (y.p95 ?? 0) - (x.p95 ?? 0)).slice(0, 10);
  for (const [route, q] of slow) lines.push(`    ${route}: ${q.count} requests, p95 ${ms(q.p95)}, p99 ${ms(q.p99)}`);
  if (b.provisioner_queue) lines.push(`  provisioner queue wait: ${b.provisioner_queue.count} jobs, p95 ${ms(b.provisioner_queue.p95)}`);
  if (b.provisioner_build) lines.push(`  provisioner job duration: p95 ${ms(b.provisioner_build.p95)}`);
  if (b.db) lines.push(`  DB queries: ${b.db.count}, p95 ${ms(b.db.p95)}`);
  for (const r of b.replicas) {
    lines.push(
      `  ${r.replica}: CPU ${r.cpu_cores_mean?.toFixed(2) ?? "-"} cores mean, ${r.cpu_cores_max?.toFixed(2) ?? "-"} peak; memory ${mib(r.memory_bytes_max)} peak` +
        `${r.goroutines_max === null ? "" : `; ${r.goroutines_max} goroutines`}; concurrent requests ${r.concurrent_requests_max ?? "-"}, websockets ${r.concurrent_websockets_max ?? "-"}`,
    );
  }
  const d = b.vs_baseline;
  if (d) {
    lines.push(
      `  vs ${d.baseline_phase}: CPU ${signed(d.cpu_cores, (x) => `${x.toFixed(2)} cores`)}, memory ${signed(d.memory_bytes, (x) => mib(x))}, API p95 ${signed(d.api_p95_ms, (x) => ms(x))}`,
    );
  }
  for (const w of b.warnings) lines.push(`  warning: ${w}`);
  return lines.join("\n");
}
