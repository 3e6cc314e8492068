// --prometheus-url: read coderd's series from a Prometheus that scrapes it, over the HTTP query API. A
// phase's window is the difference between instant queries at its start and its end (each returns the last
// sample scraped before that moment, so the window is exact up to one scrape interval at each edge, like
// the direct scrape; increase() is not used because it extrapolates). Replicas are the (job, instance)
// pairs that export coderd_* series; their histograms are merged by summing buckets.
import { getText, publicUrl } from "./http.ts";
import type { Sample } from "./exposition.ts";
import { SERIES, snapshotOf, windowOf, type ReplicaWindow } from "./snapshot.ts";
import type { CoderdSource, SourceWindow, TimelinePoint, WindowHandle } from "./source.ts";

const MAX_RESPONSE = 64 * 1024 * 1024;

interface VectorItem {
  metric: Record<string, string>;
  value: [number, string];
}
interface MatrixItem {
  metric: Record<string, string>;
  values: [number, string][];
}

/** The counters and histograms read at both ends of a window. */
const CUMULATIVE = [
  `${SERIES.apiLatency}_bucket`, `${SERIES.apiLatency}_sum`,
  `${SERIES.queueWait}_bucket`, `${SERIES.queueWait}_sum`,
  `${SERIES.jobTimings}_bucket`, `${SERIES.jobTimings}_sum`,
  `${SERIES.dbQuery}_bucket`, `${SERIES.dbQuery}_sum`,
  SERIES.apiRequests, SERIES.cpu,
];
const GAUGES = [SERIES.memory, SERIES.goroutines, SERIES.concurrentRequests, SERIES.concurrentWebsockets];

export interface PrometheusOptions {
  url: string;
  /** Extra label matchers, e.g. namespace="coder" (no braces). */
  selector?: string;
  timeoutMs?: number;
}

const replicaOf = (m: Record<string, string>): string => m.pod ?? m.instance ?? m.job ?? "coderd";
const jobKey = (m: Record<string, string>): string => `${m.job ?? ""}\u0000${m.instance ?? ""}`;

export class PrometheusSource implements CoderdSource {
  readonly kind = "prometheus" as const;
  readonly description: string;
  private readonly base: string;
  private readonly sel: string;
  private readonly timeoutMs: number;

  constructor(o: PrometheusOptions) {
    this.base = o.url.replace(/\/+$/, "");
    this.sel = (o.selector ?? "").trim().replace(/^\{|\}$/g, "");
    this.timeoutMs = o.timeoutMs ?? 15_000;
    this.description = `querying ${publicUrl(o.url)}${this.sel ? ` for {${this.sel}}` : ""}`;
  }

  private matchers(extra: string): string {
    return `{${[extra, this.sel].filter(Boolean).join(",")}}`;
  }

  private async api<T>(path: string, params: Record<string, string>): Promise<T> {
    const q = new URLSearchParams(params).toString();
    const text = await getText(`${this.base}/api/v1/${path}?${q}`, this.timeoutMs, MAX_RESPONSE);
    let body: { status?: string; error?: string; data?: { result?: unknown } };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`${publicUrl(this.base)}: the query API answered something that is not JSON`);
    }
    if (body.status !== "success") throw new Error(`${publicUrl(this.base)}: query failed: ${String(body.error ?? "unknown error").slice(0, 300)}`);
    return (body.data?.result ?? []) as T;
  }

  private instant(query: string, atMs: number): Promise<VectorItem[]> {
    return this.api<VectorItem[]>("query", { query, time: (atMs / 1000).toFixed(3) });
  }

  async check(): Promise<void> {
    await this.instant(`count(${this.matchers(`__name__=~"coderd_.+"`)})`, Date.now());
  }

  /** The (job, instance) pairs that export coderd series: only their process_* series are coderd's. */
  private async coderdTargets(atMs: number): Promise<Set<string>> {
    const r = await this.instant(`group by (job, instance, pod) (${this.matchers(`__name__=~"coderd_.+"`)})`, atMs);
    return new Set(r.map((i) => jobKey(i.metric)));
  }

  private async samplesAt(atMs: number, windowS: number | null): Promise<Map<string, Sample[]>> {
    const targets = await this.coderdTargets(atMs);
    const byReplica = new Map<string, Sample[]>();
    const add = (name: string, items: VectorItem[]): void => {
      for (const i of items) {
        if (!targets.has(jobKey(i.metric))) continue;
        const r = replicaOf(i.metric);
        const list = byReplica.get(r) ?? [];
        list.push({ name: i.metric.__name__ ?? name, labels: i.metric, value: Number(i.value[1]) });
        byReplica.set(r, list);
      }
    };
    add("", await this.instant(this.matchers(`__name__=~"${CUMULATIVE.join("|")}"`), atMs));
    for (const g of GAUGES) {
      // At the window's end, gauges are the largest value in the window; at its start, the value then.
      const q =
        windowS === null
          ? `sum by (job, instance, pod) (${g}${this.matchers("")})`
          : `max_over_time(sum by (job, instance, pod) (${g}${this.matchers("")})[${Math.max(1, Math.ceil(windowS))}s:])`;
      add(g, await this.instant(q, atMs));
    }
    return byReplica;
  }

  private async timeline(startMs: number, endMs: number): Promise<TimelinePoint[]> {
    const stepS = Math.max(5, Math.ceil((endMs - startMs) / 1000 / 200));
    const range = { start: (startMs / 1000).toFixed(3), end: (endMs / 1000).toFixed(3), step: `${stepS}s` };
    const win = `${Math.max(stepS * 2, 30)}s`;
    const p95 = await this.api<MatrixItem[]>("query_range", {
      query: `histogram_quantile(0.95, sum by (le, job, instance, pod) (rate(${SERIES.apiLatency}_bucket${this.matchers("")}[${win}])))`,
      ...range,
    });
    const cpu = await this.api<MatrixItem[]>("query_range", {
      query: `rate(${SERIES.cpu}${this.matchers("")}[${win}]) and on (job, instance) group by (job, instance) (${this.matchers(`__name__=~"coderd_.+"`)})`,
      ...range,
    });
    const points = new Map<string, TimelinePoint>();
    const point = (m: Record<string, string>, t: number): TimelinePoint => {
      const key = `${replicaOf(m)}@${t}`;
      let p = points.get(key);
      if (!p) points.set(key, (p = { at: Math.round(t * 1000), replica: replicaOf(m), cpuCores: null, memoryBytes: null, apiP95Ms: null }));
      return p;
    };
    for (const s of p95) for (const [t, v] of s.values) if (Number.isFinite(Number(v))) point(s.metric, t).apiP95Ms = Number(v) * 1000;
    for (const s of cpu) for (const [t, v] of s.values) point(s.metric, t).cpuCores = Number(v);
    return [...points.values()].sort((a, b) => a.at - b.at);
  }

  async begin(): Promise<WindowHandle> {
    const startMs = Date.now();
    let startSamples: Promise<Map<string, Sample[]>> | null = null;
    const collect = (final: boolean) => async (): Promise<SourceWindow> => {
      const endMs = Date.now();
      const warnings: string[] = [];
      const replicas: ReplicaWindow[] = [];
      let timeline: TimelinePoint[] = [];
      try {
        startSamples ??= this.samplesAt(startMs, null);
        const s0 = await startSamples;
        const s1 = await this.samplesAt(endMs, (endMs - startMs) / 1000);
        for (const [replica, samples] of s1) {
          const a = snapshotOf(s0.get(replica) ?? [], startMs);
          const b = snapshotOf(samples, endMs);
          // A replica that had no series at the start began during the window: all it counted is in it.
          const w = windowOf(replica, s0.has(replica) ? [a, b] : [b]);
          if (w) replicas.push(w);
        }
        if (final) timeline = await this.timeline(startMs, endMs);
      } catch (e) {
        startSamples = null;
        warnings.push(`coderd metrics: ${(e as Error).message}`);
      }
      if (final && replicas.length === 0 && warnings.length === 0) warnings.push(`coderd metrics: ${publicUrl(this.base)} has no coderd_* series${this.sel ? ` matching {${this.sel}}` : ""}`);
      return { source: "prometheus", replicas, timeline, warnings };
    };
    return { peek: collect(false), end: collect(true) };
  }

  close(): void {}
}
