// --coderd-metrics-url: scrape each coderd replica's metrics endpoint every few seconds during the run and
// keep its cumulative snapshots, so a phase's window is the difference between the snapshot taken when it
// began and the one taken when it ended (both scraped on the spot), and gauges are the largest value seen.
import { mergeBuckets, quantile } from "./buckets.ts";
import { parseExposition } from "./exposition.ts";
import { getText, publicUrl } from "./http.ts";
import { snapshotOf, wanted, windowOf, type Snapshot } from "./snapshot.ts";
import type { CoderdSource, SourceWindow, TimelinePoint, WindowHandle } from "./source.ts";

/** Snapshots kept per replica between windows (gauges and the timeline only need the recent ones). */
const KEEP = 4000;
const MAX_WARNINGS = 20;

export interface DirectOptions {
  urls: readonly string[];
  intervalMs: number;
  /** Per-scrape timeout (default: the interval, at most 10 s). */
  timeoutMs?: number;
}

/** A replica's name in results: host:port of its endpoint. */
export function replicaName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return publicUrl(url);
  }
}

export class DirectSource implements CoderdSource {
  readonly kind = "scrape" as const;
  readonly description: string;
  private readonly history = new Map<string, Snapshot[]>();
  /** The latest full snapshot per replica (the timeline's intervals end on it). */
  private readonly last = new Map<string, Snapshot>();
  private readonly timeline: TimelinePoint[] = [];
  /** Recent scrape failures (bounded); a window reports those that happened during it. */
  private readonly failures: { at: number; msg: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly timeoutMs: number;

  constructor(private readonly o: DirectOptions) {
    this.description = `scraping ${o.urls.map(publicUrl).join(", ")} every ${o.intervalMs} ms`;
    this.timeoutMs = o.timeoutMs ?? Math.min(10_000, Math.max(1000, o.intervalMs));
    for (const u of o.urls) this.history.set(u, []);
  }

  private warn(msg: string): void {
    this.failures.push({ at: Date.now(), msg });
    if (this.failures.length > 10 * MAX_WARNINGS) this.failures.splice(0, this.failures.length - 10 * MAX_WARNINGS);
  }

  private async scrapeOne(url: string): Promise<Snapshot | null> {
    try {
      const text = await getText(url, this.timeoutMs);
      const snap = snapshotOf(parseExposition(text, wanted), Date.now());
      const prev = this.last.get(url);
      if (!prev || snap.at > prev.at) {
        if (prev) this.addPoint(url, prev, snap);
        this.last.set(url, snap);
      }
      // Between a window's ends only the gauges are read: the history keeps them, not the histograms.
      const list = this.history.get(url)!;
      list.push({ ...snap, api: new Map(), db: new Map(), requests: new Map(), queueWait: null, jobTimings: null });
      if (list.length > KEEP) list.splice(0, list.length - KEEP);
      return snap;
    } catch (e) {
      this.warn(`coderd metrics: ${(e as Error).message}`);
      return null;
    }
  }

  private addPoint(url: string, prev: Snapshot, snap: Snapshot): void {
    const w = windowOf(replicaName(url), [prev, snap]);
    if (!w) return;
    const all = mergeBuckets([...w.api.values()]);
    const p95 = all ? quantile(all, 0.95) : null;
    this.timeline.push({ at: snap.at, replica: w.replica, cpuCores: w.cpuCores, memoryBytes: snap.residentBytes, apiP95Ms: p95 === null ? null : p95 * 1000 });
    if (this.timeline.length > KEEP * this.o.urls.length) this.timeline.splice(0, this.timeline.length - KEEP * this.o.urls.length);
  }

  /** Scrapes every replica now; returns each one's snapshot (null when it failed). */
  async scrapeAll(): Promise<Map<string, Snapshot | null>> {
    const out = new Map<string, Snapshot | null>();
    await Promise.all(this.o.urls.map(async (u) => out.set(u, await this.scrapeOne(u))));
    return out;
  }

  private start(): void {
    if (this.timer) return;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.scrapeAll().finally(() => (busy = false));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  async check(): Promise<void> {
    for (const u of this.o.urls) await getText(u, this.timeoutMs);
  }

  async begin(): Promise<WindowHandle> {
    this.start();
    const startedAt = Date.now();
    const first = await this.scrapeAll();
    const collect = (final: boolean) => async (): Promise<SourceWindow> => {
      const last = await this.scrapeAll();
      const replicas = [];
      const warnings = this.failures.filter((f) => f.at >= startedAt).map((f) => f.msg);
      for (const u of this.o.urls) {
        const s0 = first.get(u);
        const s1 = last.get(u);
        if (!s0 || !s1) {
          if (final) warnings.push(`coderd metrics: ${replicaName(u)} had no scrape at the window's ${!s0 ? "start" : "end"}: left out of this phase`);
          continue;
        }
        const between = this.history.get(u)!.filter((s) => s.at > s0.at && s.at < s1.at);
        const w = windowOf(replicaName(u), [s0, ...between, s1]);
        if (w) replicas.push(w);
      }
      const replicaNames = new Set(this.o.urls.map(replicaName));
      const timeline = this.timeline.filter((p) => p.at >= startedAt && replicaNames.has(p.replica));
      return { source: "scrape", replicas, timeline, warnings: [...new Set(warnings)].slice(0, MAX_WARNINGS) };
    };
    return { peek: collect(false), end: collect(true) };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
