/**
 * One connection's tick latencies, summarised (count, min, p50/p95/p99, max, mean) for its line in the results.
 *
 * Why not an HDR histogram like the run-wide figures (./histogram.ts): an hdr-histogram-js instance is five
 * objects and a counts array, ~3 KB of RSS, and a run keeps one per connection (6 MB at 2,000). The run-wide
 * histograms keep 3 digits and stay HDR; a connection's own summary needs only its percentiles, so this keeps
 * log-linear buckets (16 per power of two: a value is reported at most 1/16 above what was recorded, like HDR at
 * one significant digit) in a Uint32Array that covers only the buckets the connection has used (typically a few
 * dozen: ~0.3 KB). min, max and mean are exact.
 */
import { EMPTY_SUMMARY, type PercentileSummary } from "./histogram.ts";

const SUB = 16;
const SUB_BITS = 4;
/** Values (µs) at or above 2^31 (~36 min) share the last bucket. */
const MAX_US = 2 ** 31 - 1;

/** Bucket of a value in µs: exact below 16, then 16 buckets per power of two. */
function bucketOf(us: number): number {
  if (us < SUB) return us;
  const e = 31 - Math.clz32(us); // floor(log2(us)) >= 4
  return SUB + (e - SUB_BITS) * SUB + ((us >>> (e - SUB_BITS)) - SUB);
}

/** The highest value (µs) a bucket holds (as HDR reports a percentile: its highest equivalent value). */
function bucketTop(i: number): number {
  if (i < SUB) return i;
  const e = Math.floor((i - SUB) / SUB) + SUB_BITS;
  const m = ((i - SUB) % SUB) + SUB;
  return ((m + 1) << (e - SUB_BITS)) - 1;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export class ConnLatency {
  /** counts[i] is bucket `first + i`. */
  private counts: Uint32Array | undefined = undefined;
  private first = 0;
  count = 0;
  private sumUs = 0;
  private minUs = Infinity;
  private maxUs = 0;

  /** Records one latency in ms (kept to 1 µs; negatives clamp to 0). */
  record(ms: number): void {
    const us = ms > 0 ? Math.min(MAX_US, Math.round(ms * 1000)) : 0;
    const b = bucketOf(us);
    let c = this.counts;
    if (!c) {
      // Room for the neighbourhood of the first value; grows when a value falls outside.
      this.first = Math.max(0, b - 8);
      c = this.counts = new Uint32Array(32);
    } else if (b < this.first || b >= this.first + c.length) {
      c = this.grow(b);
    }
    c[b - this.first]!++;
    this.count++;
    this.sumUs += us;
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
  }

  private grow(b: number): Uint32Array {
    const old = this.counts!;
    const lo = Math.min(this.first, Math.max(0, b - 8));
    const hi = Math.max(this.first + old.length, b + 9);
    // Round up to 16 buckets so a slowly widening range does not copy on every new bucket.
    const c = new Uint32Array(Math.ceil((hi - lo) / 16) * 16);
    c.set(old, this.first - lo);
    this.first = lo;
    this.counts = c;
    return c;
  }

  /** Value (ms) at percentile p in (0, 100): the top of the bucket holding the p-th percent of the values. */
  private at(p: number): number {
    const c = this.counts!;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < c.length; i++) {
      seen += c[i]!;
      if (seen >= rank) return Math.min(this.maxUs, bucketTop(this.first + i)) / 1000;
    }
    return this.maxUs / 1000;
  }

  percentiles(): PercentileSummary {
    if (this.count === 0) return { ...EMPTY_SUMMARY };
    return {
      count: this.count,
      min: round3(this.minUs / 1000),
      p50: round3(this.at(50)),
      p95: round3(this.at(95)),
      p99: round3(this.at(99)),
      max: round3(this.maxUs / 1000),
      mean: round3(this.sumUs / this.count / 1000),
    };
  }
}
