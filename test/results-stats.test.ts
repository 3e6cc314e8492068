import { test } from "node:test";
import assert from "node:assert/strict";
import * as hdr from "hdr-histogram-js";
import { formatMs, formatTable, statsColumns, summarize, summarizeHistogramUs, type StatsSummary } from "../src/results/stats.ts";

function close(actual: number | null, want: number, rel = 0.002) {
  assert.ok(actual !== null && Math.abs(actual - want) <= Math.max(want * rel, 0.001), `${actual} ≈ ${want}`);
}

test("summarize: exact count/min/max/mean, HDR percentiles within 3 significant digits", () => {
  const values = Array.from({ length: 1000 }, (_, i) => i + 1); // 1..1000 ms
  const s = summarize(values);
  assert.equal(s.count, 1000);
  assert.equal(s.min, 1);
  assert.equal(s.max, 1000);
  assert.equal(s.mean, 500.5);
  close(s.p50, 500);
  close(s.p95, 950);
  close(s.p99, 990);
  const one = summarize([0.25]);
  assert.deepEqual(one, { count: 1, p50: 0.25, p95: 0.25, p99: 0.25, max: 0.25, mean: 0.25, min: 0.25 });
  assert.deepEqual(summarize([]), { count: 0, p50: null, p95: null, p99: null, max: null, mean: null, min: null });
  const big = summarize([10, 3_600_000]); // 1 hour: auto-resizes
  assert.equal(big.max, 3_600_000);
  close(big.p99, 3_600_000);
  assert.throws(() => summarize([1, -2]), /finite milliseconds >= 0/);
  assert.throws(() => summarize([NaN]), /finite/);
});

test("summarizeHistogramUs reads a microsecond histogram", () => {
  const h = hdr.build({ numberOfSignificantValueDigits: 3 });
  for (let i = 1; i <= 100; i++) h.recordValue(i * 1000); // 1..100 ms
  const s = summarizeHistogramUs(h);
  assert.equal(s.count, 100);
  close(s.p50, 50);
  close(s.p99, 99);
  close(s.max, 100);
  close(s.min, 1);
  close(s.mean, 50.5);
  assert.equal(summarizeHistogramUs(hdr.build()).count, 0);
});

test("formatMs picks readable units", () => {
  const cases: [number | null | undefined, string][] = [
    [0, "0ms"],
    [0.42, "0.42ms"],
    [0.4, "0.4ms"],
    [1.25, "1.3ms"],
    [9.96, "10ms"],
    [45, "45ms"],
    [850, "850ms"],
    [999.4, "999ms"],
    [999.6, "1s"],
    [1200, "1.2s"],
    [45_300, "45.3s"],
    [59_960, "1m00s"],
    [123_000, "2m03s"],
    [3_723_000, "1h02m03s"],
    [-1500, "-1.5s"],
    [null, "-"],
    [undefined, "-"],
    [NaN, "-"],
  ];
  for (const [ms, want] of cases) assert.equal(formatMs(ms), want, String(ms));
});

test("formatTable aligns columns (numbers right, text left)", () => {
  const rows = [
    { name: "create", n: 5, note: "ok" },
    { name: "agent-connect", n: 120, note: null },
  ];
  const t = formatTable(rows, [
    { header: "stage", value: "name" },
    { header: "count", value: "n" },
    { header: "note", value: (r) => r.note },
  ]);
  assert.equal(
    t,
    "stage          count  note\n" +
      "-------------  -----  ----\n" +
      "create             5  ok\n" +
      "agent-connect    120  -\n",
  );
  const stats: StatsSummary = summarize([100, 200, 300]);
  const st = formatTable([{ name: "build", stats }], statsColumns());
  assert.match(st, /^stage  count    p50    p95    p99    max   mean\n/);
  assert.match(st, /build      3  200ms  300ms  300ms  300ms  200ms\n$/);
});
