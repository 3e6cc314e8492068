/**
 * The traffic engine's result record (written by scenarios as JSON) and the merge of several of them
 * (shards of one run, or several kinds for a run-wide summary).
 *
 * Field meanings are part of the results format: keep them stable, add rather than rename.
 */
import { LatencyHistogram, type PercentileSummary } from "./histogram.ts";
import type { TrafficKind, TrafficTarget } from "./transport.ts";

export interface TrafficTotals {
  /** Targets (one connection each). */
  connections: number;
  bytesWritten: number;
  bytesRead: number;
  /** Abnormal read-side failures reported by the transport (close with an error). */
  readErrors: number;
  /** Failed writes; at most one per connection attempt (the connection is abandoned after it). */
  writeErrors: number;
  /** Failed dial attempts (first dial and redials), including a dial still in flight when the run ended. */
  dialErrors: number;
  /** Connections that ended unexpectedly before the end of the run. */
  drops: number;
  /** Successful redials after a drop. */
  reconnects: number;
  ticksSent: number;
  /** Echo mode: the tick's newline came back. read/write modes: the tick's write completed. */
  ticksCompleted: number;
  /**
   * Ticks due in a connection's window (from when it first came up) that never completed: echoes outstanding
   * when it dropped, ticks it never sent (it failed for good, or was still reconnecting when the run ended),
   * and ticks still in flight when the drain period ran out. Ticks due during an outage that the connection
   * sent after reconnecting are not lost: they are timed from their due time. ticksCompleted + ticksLost =
   * all ticks due.
   */
  ticksLost: number;
}

export type ConnectionStatus = "ok" | "dropped" | "error";

/** One connection's counters (the run's totals, per connection) plus what only a connection has. */
export interface ConnectionResult extends Omit<TrafficTotals, "connections"> {
  target: TrafficTarget;
  /** Set by mergeTrafficResults when the merged results carried a shard. */
  shard?: string;
  /** First successful dial time (ms); null if never connected. */
  dialMs: number | null;
  tickLatency: PercentileSummary;
  /** First few error messages, in order. */
  errors: string[];
  /**
   * "ok": connected at the end, never dropped. "dropped": connected at the end after dropping and reconnecting.
   * "error": not connected at the end (never connected, or dropped without a successful reconnect).
   */
  status: ConnectionStatus;
}

export interface TrafficError {
  /** Workspace name of the target ("owner/workspace.agent" in messages). */
  target: string;
  message: string;
  /** ISO time. */
  at: string;
  shard?: string;
}

export interface TimelinePoint {
  /** Seconds since `startedAt` (the bucket [t, t+1)). */
  t: number;
  bytesWritten: number;
  bytesRead: number;
  /** Ticks completed in this second. */
  ticks: number;
  /** ms; tick latency percentiles of the ticks completed in this second. */
  p95: number;
  max: number;
  /** The second's tick-latency HDR histogram (2-digit precision, encoded) so merges stay exact. */
  hist?: string;
}

export interface TrafficResult {
  /** "mixed" only on a merge of different kinds. */
  kind: TrafficKind | "mixed";
  /** "echo" | "read" | "write" */
  mode: string;
  /** "i/n" when this result is one shard of a run. */
  shard?: string;
  /**
   * Settings the run used, for the report. jobConcurrency: at most that many connections at once (0 =
   * unlimited; absent in results written before it existed, which means 0); a shard's own share of it.
   */
  settings: { bytesPerTick: number; tickIntervalMs: number; durationMs: number; rampMs: number; reconnect: boolean; jobConcurrency?: number };
  startedAt: string;
  endedAt: string;
  durationMs: number;
  /** Why the run ended: "duration" | "aborted". */
  endReason: "duration" | "aborted";
  totals: TrafficTotals;
  latency: { tick: PercentileSummary; dial: PercentileSummary };
  /** Encoded HDR histograms (LatencyHistogram.decode) for exact merging. */
  histograms: { tick: string; dial: string };
  perConnection: ConnectionResult[];
  /** Capped list (first errors of the run); see totals for counts. */
  errors: TrafficError[];
  /** Number of errors not listed in `errors` because of the cap. */
  errorsOmitted: number;
  timeline: TimelinePoint[];
}

export const TOTAL_KEYS: readonly (keyof TrafficTotals)[] = [
  "connections",
  "bytesWritten",
  "bytesRead",
  "readErrors",
  "writeErrors",
  "dialErrors",
  "drops",
  "reconnects",
  "ticksSent",
  "ticksCompleted",
  "ticksLost",
];

export function emptyTotals(): TrafficTotals {
  return {
    connections: 0,
    bytesWritten: 0,
    bytesRead: 0,
    readErrors: 0,
    writeErrors: 0,
    dialErrors: 0,
    drops: 0,
    reconnects: 0,
    ticksSent: 0,
    ticksCompleted: 0,
    ticksLost: 0,
  };
}

/**
 * Merges results: counters added, histograms merged (percentiles recomputed from the merged histograms),
 * per-connection rows and errors concatenated (tagged with their result's `shard`), timelines aligned on wall
 * time and merged per second (counters added, per-second histograms merged). `kind`/`mode` come from the
 * first result, or "mixed" when they differ.
 */
/**
 * Percentiles come from the merged histogram; the mean is linear, so it is merged exactly from each input's
 * exact mean and count (a decoded histogram only gives HDR's bucket estimate of it).
 */
function withExactMean(p: PercentileSummary, results: readonly TrafficResult[], which: "tick" | "dial"): PercentileSummary {
  const count = results.reduce((n, r) => n + r.latency[which].count, 0);
  if (count === 0) return p;
  const sum = results.reduce((acc, r) => acc + r.latency[which].mean * r.latency[which].count, 0);
  return { ...p, mean: Math.round((sum / count) * 1000) / 1000 };
}

export function mergeTrafficResults(results: readonly TrafficResult[]): TrafficResult {
  const first = results[0];
  if (!first) throw new Error("mergeTrafficResults needs at least one result");
  const totals = emptyTotals();
  const tick = new LatencyHistogram(3);
  const dial = new LatencyHistogram(3);
  const perConnection: ConnectionResult[] = [];
  const errors: TrafficError[] = [];
  let errorsOmitted = 0;
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const r of results) {
    for (const k of TOTAL_KEYS) totals[k] += r.totals[k];
    if (r.histograms.tick) tick.merge(LatencyHistogram.decode(r.histograms.tick));
    if (r.histograms.dial) dial.merge(LatencyHistogram.decode(r.histograms.dial));
    for (const c of r.perConnection) perConnection.push(r.shard && !c.shard ? { ...c, shard: r.shard } : c);
    for (const e of r.errors) errors.push(r.shard && !e.shard ? { ...e, shard: r.shard } : e);
    errorsOmitted += r.errorsOmitted;
    startMs = Math.min(startMs, Date.parse(r.startedAt));
    endMs = Math.max(endMs, Date.parse(r.endedAt));
  }
  errors.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));

  // Timelines: align each result's seconds on wall-clock time relative to the earliest start.
  const buckets = new Map<number, { p: TimelinePoint; h: LatencyHistogram | undefined }>();
  for (const r of results) {
    const offset = Math.round((Date.parse(r.startedAt) - startMs) / 1000);
    for (const pt of r.timeline) {
      const t = pt.t + offset;
      let b = buckets.get(t);
      if (!b) {
        b = { p: { t, bytesWritten: 0, bytesRead: 0, ticks: 0, p95: 0, max: 0 }, h: undefined };
        buckets.set(t, b);
      }
      b.p.bytesWritten += pt.bytesWritten;
      b.p.bytesRead += pt.bytesRead;
      b.p.ticks += pt.ticks;
      b.p.max = Math.max(b.p.max, pt.max);
      if (pt.hist) {
        b.h ??= new LatencyHistogram(3);
        b.h.merge(LatencyHistogram.decode(pt.hist));
      } else {
        // No histogram to merge: the best honest bound is the worst second's p95.
        b.p.p95 = Math.max(b.p.p95, pt.p95);
      }
    }
  }
  const timeline = [...buckets.values()]
    .sort((a, b) => a.p.t - b.p.t)
    .map(({ p, h }) => {
      if (h && h.count > 0) {
        p.p95 = Math.max(p.p95, h.percentile(95));
        p.hist = h.encode();
      }
      return p;
    });

  const kinds = new Set(results.map((r) => r.kind));
  const modes = new Set(results.map((r) => r.mode));
  const shards = results.map((r) => r.shard).filter((s): s is string => !!s);
  return {
    kind: kinds.size === 1 ? first.kind : "mixed",
    mode: modes.size === 1 ? first.mode : "mixed",
    ...(shards.length ? { shard: shards.join(",") } : {}),
    // Shards of one run each held their share of the run's job concurrency: together, the run's value.
    settings:
      shards.length === results.length && results.length > 1
        ? { ...first.settings, jobConcurrency: results.every((r) => (r.settings.jobConcurrency ?? 0) > 0) ? results.reduce((n, r) => n + (r.settings.jobConcurrency ?? 0), 0) : 0 }
        : first.settings,
    startedAt: new Date(startMs).toISOString(),
    endedAt: new Date(endMs).toISOString(),
    durationMs: endMs - startMs,
    endReason: results.some((r) => r.endReason === "aborted") ? "aborted" : "duration",
    totals,
    latency: { tick: withExactMean(tick.percentiles(), results, "tick"), dial: withExactMean(dial.percentiles(), results, "dial") },
    histograms: { tick: tick.count ? tick.encode() : "", dial: dial.count ? dial.encode() : "" },
    perConnection,
    errors,
    errorsOmitted,
    timeline,
  };
}
