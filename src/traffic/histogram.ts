/**
 * HDR latency histogram wrapper used by every timing measurement of the runner.
 *
 * Values are recorded in integer microseconds (pure-JS hdr-histogram-js, auto-resizing, so no upper bound
 * has to be guessed) and reported in milliseconds. Results from several workers/shards are combined with
 * `merge()` (or by decoding their `encode()` strings): percentiles are always recomputed from the merged
 * counts, never averaged.
 *
 * `mean` is exact for values recorded in this process; after `decode` it is HDR's bucket-based estimate
 * (the encoding carries no exact sum), which differs by < 0.1 %.
 *
 * Precision: 3 significant digits (0.1 % error) for run-wide histograms; 2 digits (1 %) is offered for the
 * many small per-connection / per-second histograms because a 3-digit histogram of values up to seconds
 * costs ~40 KB, which at 2,000 connections would be ~80 MB (2 digits: ~8 KB). The engine keeps one per
 * connection at 1 digit (~1 KB: 32 sub-buckets, so values are kept within 1/16 = 6 % at worst), which is
 * enough for a per-connection p95/max and keeps memory per connection low at thousands of connections.
 */
import * as hdr from "hdr-histogram-js";

export interface PercentileSummary {
  count: number;
  /** All in milliseconds; 0 when count is 0. */
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export const EMPTY_SUMMARY: Readonly<PercentileSummary> = Object.freeze({
  count: 0,
  min: 0,
  p50: 0,
  p95: 0,
  p99: 0,
  max: 0,
  mean: 0,
});

export type SignificantDigits = 1 | 2 | 3;

const US_PER_MS = 1000;

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export class LatencyHistogram {
  private h: hdr.Histogram;
  /** Exact sum of recorded µs, for the mean without a full histogram pass; NaN once unknown (decoded). */
  private sumUs = 0;

  constructor(digits: SignificantDigits = 3, from?: hdr.Histogram) {
    this.h =
      from ??
      hdr.build({
        numberOfSignificantValueDigits: digits,
        autoResize: true,
        lowestDiscernibleValue: 1,
        bitBucketSize: 32,
        useWebAssembly: false,
      });
  }

  /** Records one latency given in milliseconds (fractions kept down to 1 µs; negatives clamp to 0). */
  record(ms: number): void {
    const us = ms > 0 ? Math.round(ms * US_PER_MS) : 0;
    this.h.recordValue(us);
    this.sumUs += us;
  }

  /** Records `count` identical values (ms). */
  recordMany(ms: number, count: number): void {
    if (count <= 0) return;
    const us = ms > 0 ? Math.round(ms * US_PER_MS) : 0;
    this.h.recordValueWithCount(us, count);
    this.sumUs += us * count;
  }

  get count(): number {
    return this.h.totalCount;
  }

  /** Adds all of `other`'s values into this histogram. */
  merge(other: LatencyHistogram): this {
    if (other.h.totalCount > 0) {
      this.h.add(other.h);
      this.sumUs += other.sumUs;
    }
    return this;
  }

  /** Value (ms) at percentile `p` in [0, 100]. */
  percentile(p: number): number {
    if (this.h.totalCount === 0) return 0;
    return this.h.getValueAtPercentile(p) / US_PER_MS;
  }

  percentiles(): PercentileSummary {
    const h = this.h;
    const count = h.totalCount;
    if (count === 0) return { ...EMPTY_SUMMARY };
    return {
      count,
      min: round3(this.percentile(0)),
      p50: round3(this.percentile(50)),
      p95: round3(this.percentile(95)),
      p99: round3(this.percentile(99)),
      // From the buckets (not the exact raw max) so a merged/decoded histogram reports the same value.
      max: round3(this.percentile(100)),
      mean: round3((Number.isNaN(this.sumUs) ? h.mean : this.sumUs / count) / US_PER_MS),
    };
  }

  reset(): void {
    this.h.reset();
    this.sumUs = 0;
  }

  /** HDR V2 compressed, base64 (the format HdrHistogram's other ports read too). */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h);
  }

  static decode(encoded: string): LatencyHistogram {
    const h = hdr.decodeFromCompressedBase64(encoded, 32, false);
    h.autoResize = true;
    const out = new LatencyHistogram(3, h);
    out.sumUs = NaN;
    return out;
  }

  /** Decodes and merges a list of encoded histograms (empty strings are skipped). */
  static mergeEncoded(encoded: Iterable<string>): LatencyHistogram {
    const out = new LatencyHistogram(3);
    for (const e of encoded) {
      if (e) out.merge(LatencyHistogram.decode(e));
    }
    return out;
  }
}
