// Prometheus histograms as coderd exports them (cumulative `_bucket{le}` counters, `_sum`, `_count`), and
// the only correct ways to combine them: a window is the difference of two cumulative snapshots, replicas
// merge by SUMMING buckets (never by averaging their percentiles), and a percentile is read from the
// merged buckets the way Prometheus' histogram_quantile() reads them (linear within a bucket).
import { LatencyHistogram } from "../../traffic/histogram.ts";

export interface Buckets {
  /** Finite upper bounds (seconds), ascending. */
  bounds: number[];
  /** Cumulative counts per bound, then the +Inf bucket (= the total count); length bounds.length + 1. */
  cumulative: number[];
  /** Sum of the observed values (seconds). */
  sum: number;
}

export function emptyBuckets(bounds: readonly number[]): Buckets {
  return { bounds: [...bounds], cumulative: new Array<number>(bounds.length + 1).fill(0), sum: 0 };
}

export function countOf(b: Buckets): number {
  return b.cumulative[b.cumulative.length - 1] ?? 0;
}

/** Builds Buckets from `le` -> cumulative count (le as in the exposition: "0.005", "+Inf"). */
export function bucketsFromLe(byLe: ReadonlyMap<number, number>, sum: number): Buckets {
  const bounds = [...byLe.keys()].filter((le) => Number.isFinite(le)).sort((a, b) => a - b);
  const inf = byLe.get(Infinity) ?? (bounds.length ? byLe.get(bounds[bounds.length - 1]!)! : 0);
  return { bounds, cumulative: [...bounds.map((le) => byLe.get(le) ?? 0), inf], sum };
}

function sameBounds(a: Buckets, b: Buckets): boolean {
  return a.bounds.length === b.bounds.length && a.bounds.every((x, i) => x === b.bounds[i]);
}

/** Re-buckets `b` onto `bounds` (each count moves to the smallest bound >= its own): for mixed versions. */
function onto(b: Buckets, bounds: readonly number[]): Buckets {
  if (sameBounds(b, { bounds: [...bounds], cumulative: [], sum: 0 })) return b;
  const out = emptyBuckets(bounds);
  for (let i = 0; i < bounds.length; i++) {
    // cumulative count at bound i = b's cumulative at the largest of b's bounds <= bounds[i]
    let c = 0;
    for (let j = 0; j < b.bounds.length; j++) if (b.bounds[j]! <= bounds[i]!) c = b.cumulative[j]!;
    out.cumulative[i] = c;
  }
  out.cumulative[bounds.length] = countOf(b);
  out.sum = b.sum;
  return out;
}

/** Sum of histograms (replicas, methods): bucket counts add. */
export function mergeBuckets(list: readonly Buckets[]): Buckets | null {
  if (list.length === 0) return null;
  const bounds = [...new Set(list.flatMap((b) => b.bounds))].sort((a, b) => a - b);
  const out = emptyBuckets(bounds);
  for (const b0 of list) {
    const b = onto(b0, bounds);
    for (let i = 0; i < out.cumulative.length; i++) out.cumulative[i]! += b.cumulative[i]!;
    out.sum += b.sum;
  }
  return out;
}

/**
 * What was observed between two cumulative snapshots of one series. A counter that went down was reset
 * (the replica restarted): then everything in `end` was observed since.
 */
export function deltaBuckets(start: Buckets | undefined, end: Buckets): Buckets {
  if (!start) return end;
  if (!sameBounds(start, end) || countOf(end) < countOf(start) || end.cumulative.some((c, i) => c < start.cumulative[i]!)) return end;
  return { bounds: [...end.bounds], cumulative: end.cumulative.map((c, i) => c - start.cumulative[i]!), sum: end.sum - start.sum };
}

/** The q-quantile (0..1) in seconds as histogram_quantile() computes it; null when empty. */
export function quantile(b: Buckets, q: number): number | null {
  const total = countOf(b);
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (let i = 0; i < b.bounds.length; i++) {
    const c = b.cumulative[i]!;
    if (c >= rank) {
      const inBucket = c - prevCount;
      const lower = i === 0 && b.bounds[0]! <= 0 ? b.bounds[0]! : prevBound;
      return inBucket > 0 ? lower + (b.bounds[i]! - lower) * ((rank - prevCount) / inBucket) : b.bounds[i]!;
    }
    prevBound = b.bounds[i]!;
    prevCount = c;
  }
  // In the +Inf bucket: the highest finite bound, as Prometheus answers.
  return b.bounds.length ? b.bounds[b.bounds.length - 1]! : null;
}

/** Points per bucket when spreading its count over the bucket (enough for percentile resolution). */
const SPREAD = 64;

/**
 * An HDR histogram (ms) with each bucket's count spread evenly over its range, so the evaluator's
 * percentiles agree with histogram_quantile() on the same buckets to within half of 1/min(count, SPREAD)
 * of the bucket's width. The
 * +Inf bucket's observations sit at the highest finite bound (nothing more is known about them).
 */
export function toLatencyHistogram(b: Buckets): LatencyHistogram {
  const h = new LatencyHistogram(3);
  let lower = 0;
  let prev = 0;
  for (let i = 0; i <= b.bounds.length; i++) {
    const n = Math.round(b.cumulative[i]! - prev);
    prev = b.cumulative[i]!;
    const upper = i < b.bounds.length ? b.bounds[i]! : lower;
    if (n > 0) {
      const points = Math.min(n, SPREAD);
      const base = Math.floor(n / points);
      let extra = n - base * points;
      for (let k = 1; k <= points; k++) {
        // Midpoints of `points` equal slices: the HDR percentile then lies within half a slice of
        // histogram_quantile's linear interpolation.
        const v = (lower + ((upper - lower) * (k - 0.5)) / points) * 1000;
        const c = base + (extra > 0 ? 1 : 0);
        if (extra > 0) extra--;
        h.recordMany(v, c);
      }
    }
    lower = upper;
  }
  return h;
}
