// One replica's coderd metrics at one moment (cumulative counters as scraped or queried), and the window
// between two such moments: what that replica did during a phase.
import { bucketsFromLe, deltaBuckets, mergeBuckets, type Buckets } from "./buckets.ts";
import type { Sample } from "./exposition.ts";

/** The coderd series this module reads (names as coderd exports them). */
export const SERIES = {
  apiLatency: "coderd_api_request_latencies_seconds",
  apiRequests: "coderd_api_requests_processed_total",
  concurrentRequests: "coderd_api_concurrent_requests",
  concurrentWebsockets: "coderd_api_concurrent_websockets",
  queueWait: "coderd_provisioner_job_queue_wait_seconds",
  jobTimings: "coderd_provisionerd_job_timings_seconds",
  dbQuery: "coderd_db_query_latencies_seconds",
  cpu: "process_cpu_seconds_total",
  memory: "process_resident_memory_bytes",
  goroutines: "go_goroutines",
} as const;

const HISTOGRAMS = [SERIES.apiLatency, SERIES.queueWait, SERIES.jobTimings, SERIES.dbQuery];
const WANTED = new Set<string>([
  ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`]),
  SERIES.apiRequests, SERIES.concurrentRequests, SERIES.concurrentWebsockets, SERIES.cpu, SERIES.memory, SERIES.goroutines,
]);

export const wanted = (name: string): boolean => WANTED.has(name);

export interface Snapshot {
  /** When it was taken (ms since the epoch). */
  at: number;
  /** API latency by route pattern (`path`), methods summed, as the upstream dashboard groups it. */
  api: Map<string, Buckets>;
  /** Requests processed by status code. */
  requests: Map<string, number>;
  queueWait: Buckets | null;
  jobTimings: Buckets | null;
  /** DB query latency by query (only when coderd runs with CODER_PROMETHEUS_COLLECT_DB_METRICS). */
  db: Map<string, Buckets>;
  cpuSeconds: number | null;
  residentBytes: number | null;
  goroutines: number | null;
  concurrentRequests: number | null;
  concurrentWebsockets: number | null;
}

/**
 * Distinct label values kept per histogram: coderd has a few hundred route patterns; an endpoint sending more
 * (a bug, or hostile) has the rest counted under "OTHER", so memory stays bounded whatever it sends.
 */
export const MAX_LABEL_VALUES = 2000;

/** Histograms of one metric grouped by one label (others summed), from `_bucket` and `_sum` samples. */
function histogramsBy(samples: readonly Sample[], base: string, label: string | null): Map<string, Buckets> {
  const les = new Map<string, Map<number, number>>();
  const sums = new Map<string, number>();
  for (const s of samples) {
    let key = label ? (s.labels[label] ?? "") : "";
    if (!les.has(key) && les.size >= MAX_LABEL_VALUES) key = "OTHER";
    if (s.name === `${base}_bucket`) {
      const le = s.labels.le === "+Inf" ? Infinity : Number(s.labels.le);
      if (Number.isNaN(le)) continue;
      const m = les.get(key) ?? new Map<number, number>();
      m.set(le, (m.get(le) ?? 0) + s.value);
      les.set(key, m);
    } else if (s.name === `${base}_sum`) sums.set(key, (sums.get(key) ?? 0) + s.value);
  }
  const out = new Map<string, Buckets>();
  for (const [k, m] of les) out.set(k, bucketsFromLe(m, sums.get(k) ?? 0));
  return out;
}

function sumOf(samples: readonly Sample[], name: string): number | null {
  let found = false;
  let total = 0;
  for (const s of samples) {
    if (s.name !== name || !Number.isFinite(s.value)) continue;
    found = true;
    total += s.value;
  }
  return found ? total : null;
}

/** A replica's snapshot from the samples of one scrape (or one instant query per series). */
export function snapshotOf(samples: readonly Sample[], at: number): Snapshot {
  const requests = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== SERIES.apiRequests) continue;
    const code = s.labels.code ?? "";
    requests.set(code, (requests.get(code) ?? 0) + s.value);
  }
  return {
    at,
    api: histogramsBy(samples, SERIES.apiLatency, "path"),
    requests,
    queueWait: histogramsBy(samples, SERIES.queueWait, null).get("") ?? null,
    jobTimings: histogramsBy(samples, SERIES.jobTimings, null).get("") ?? null,
    db: histogramsBy(samples, SERIES.dbQuery, "query"),
    cpuSeconds: sumOf(samples, SERIES.cpu),
    residentBytes: sumOf(samples, SERIES.memory),
    goroutines: sumOf(samples, SERIES.goroutines),
    concurrentRequests: sumOf(samples, SERIES.concurrentRequests),
    concurrentWebsockets: sumOf(samples, SERIES.concurrentWebsockets),
  };
}

/** What one replica did in a window. */
export interface ReplicaWindow {
  replica: string;
  startMs: number;
  endMs: number;
  api: Map<string, Buckets>;
  requests: Map<string, number>;
  queueWait: Buckets | null;
  jobTimings: Buckets | null;
  db: Map<string, Buckets>;
  /** Mean cores used over the window (CPU seconds / wall seconds). */
  cpuCores: number | null;
  /** The largest value seen in the window's samples (gauges). */
  memoryMaxBytes: number | null;
  goroutinesMax: number | null;
  concurrentRequestsMax: number | null;
  concurrentWebsocketsMax: number | null;
}

const maxOf = (xs: (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
};

function deltaMap(start: Map<string, Buckets> | undefined, end: Map<string, Buckets>): Map<string, Buckets> {
  const out = new Map<string, Buckets>();
  for (const [k, b] of end) out.set(k, deltaBuckets(start?.get(k), b));
  return out;
}

/**
 * The window between the first and last of `samples` (one replica's snapshots in time order): counters and
 * histograms as differences, gauges as the largest value seen.
 */
export function windowOf(replica: string, samples: readonly Snapshot[]): ReplicaWindow | null {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return null;
  const requests = new Map<string, number>();
  for (const [code, n] of last.requests) {
    const before = first === last ? 0 : (first.requests.get(code) ?? 0);
    requests.set(code, n >= before ? n - before : n);
  }
  const seconds = (last.at - first.at) / 1000;
  const cpu =
    first !== last && seconds > 0 && first.cpuSeconds !== null && last.cpuSeconds !== null && last.cpuSeconds >= first.cpuSeconds
      ? (last.cpuSeconds - first.cpuSeconds) / seconds
      : null;
  const same = first === last;
  return {
    replica,
    startMs: first.at,
    endMs: last.at,
    api: deltaMap(same ? undefined : first.api, last.api),
    requests,
    queueWait: last.queueWait ? deltaBuckets(same ? undefined : (first.queueWait ?? undefined), last.queueWait) : null,
    jobTimings: last.jobTimings ? deltaBuckets(same ? undefined : (first.jobTimings ?? undefined), last.jobTimings) : null,
    db: deltaMap(same ? undefined : first.db, last.db),
    cpuCores: cpu,
    memoryMaxBytes: maxOf(samples.map((s) => s.residentBytes)),
    goroutinesMax: maxOf(samples.map((s) => s.goroutines)),
    concurrentRequestsMax: maxOf(samples.map((s) => s.concurrentRequests)),
    concurrentWebsocketsMax: maxOf(samples.map((s) => s.concurrentWebsockets)),
  };
}

/** Per-route histograms of several replicas merged by summing their buckets. */
export function mergeRoutes(windows: readonly ReplicaWindow[], pick: (w: ReplicaWindow) => Map<string, Buckets> = (w) => w.api): Map<string, Buckets> {
  const byRoute = new Map<string, Buckets[]>();
  for (const w of windows) for (const [route, b] of pick(w)) byRoute.set(route, [...(byRoute.get(route) ?? []), b]);
  const out = new Map<string, Buckets>();
  for (const [route, list] of byRoute) {
    const m = mergeBuckets(list);
    if (m) out.set(route, m);
  }
  return out;
}
