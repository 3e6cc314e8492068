/** A connection's own latency summary (src/traffic/conn-latency.ts) against exact percentiles. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConnLatency } from "../src/traffic/conn-latency.ts";
import { seededRandom } from "../src/traffic/payload.ts";

function exact(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

test("percentiles within 1/16 above the exact value (never below); min, max, mean and count exact", () => {
  const rnd = seededRandom(7);
  for (const spread of [1, 50, 5_000, 600_000]) {
    const h = new ConnLatency();
    const values: number[] = [];
    // Values from 1 µs up to `spread` ms, first ones in the middle so the bucket window grows both ways.
    for (let i = 0; i < 3000; i++) {
      const ms = Math.round((i < 10 ? spread / 2 : rnd() ** 3 * spread) * 1000) / 1000;
      values.push(ms);
      h.record(ms);
    }
    const sorted = [...values].sort((a, b) => a - b);
    const s = h.percentiles();
    assert.equal(s.count, 3000);
    assert.equal(s.min, sorted[0]);
    assert.equal(s.max, sorted.at(-1));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(Math.abs(s.mean - mean) < 0.002, `mean ${s.mean} vs ${mean}`);
    for (const [p, got] of [[50, s.p50], [95, s.p95], [99, s.p99]] as const) {
      const want = exact(sorted, p);
      assert.ok(got >= want - 0.001, `spread ${spread}: p${p} ${got} below exact ${want}`);
      assert.ok(got <= want * (1 + 1 / 16) + 0.016, `spread ${spread}: p${p} ${got} more than 1/16 above exact ${want}`);
    }
  }
});

test("empty, a single value, negatives clamp to 0, and values beyond half an hour share the last bucket", () => {
  assert.deepEqual(new ConnLatency().percentiles(), { count: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  const one = new ConnLatency();
  one.record(12.345);
  const s = one.percentiles();
  assert.equal(s.min, 12.345);
  assert.equal(s.max, 12.345);
  assert.equal(s.p99, 12.345, "a percentile is never above the largest value recorded");
  const neg = new ConnLatency();
  neg.record(-5);
  assert.equal(neg.percentiles().max, 0);
  const huge = new ConnLatency();
  huge.record(1);
  huge.record(3_600_000);
  assert.equal(huge.percentiles().count, 2);
  assert.ok(huge.percentiles().max >= 2_147_483);
});
