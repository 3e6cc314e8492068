import { test } from "node:test";
import { TrafficProgressLine } from "../src/traffic/progress.ts";
import assert from "node:assert/strict";
import { LatencyHistogram } from "../src/traffic/histogram.ts";
import { emptyTotals, mergeTrafficResults, type TrafficResult } from "../src/traffic/result.ts";
import { makePayload, makePayloadPool, PAYLOAD_ALPHABET, seededRandom } from "../src/traffic/payload.ts";
import { runTraffic, type TrafficProgress } from "../src/traffic/engine.ts";
import { FakeConnection, makeTargets } from "./helpers/traffic.ts";

function lcg(seed: number): () => number {
  return seededRandom(seed);
}

test("histogram: merged histograms give the same percentiles as one histogram of all the data", () => {
  const rand = lcg(42);
  const all = new LatencyHistogram();
  const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
  for (let i = 0; i < 30_000; i++) {
    // Long-tailed latencies 0.1 ms .. ~3 s, different distributions per part.
    const part = i % 3;
    const v = 0.1 + rand() ** (3 + part) * 3000;
    all.record(v);
    parts[part]!.record(v);
  }
  const merged = new LatencyHistogram();
  for (const p of parts) merged.merge(p);
  assert.deepEqual(merged.percentiles(), all.percentiles());
  // Through the encoded form (what shards exchange).
  const viaEncoding = LatencyHistogram.mergeEncoded(parts.map((p) => p.encode())).percentiles();
  assert.deepEqual({ ...viaEncoding, mean: 0 }, { ...all.percentiles(), mean: 0 });
  assert.ok(Math.abs(viaEncoding.mean - all.percentiles().mean) / all.percentiles().mean < 0.001);
  // Averaging percentiles would be wrong, which is why we never do it.
  const avgP99 = parts.reduce((s, p) => s + p.percentiles().p99, 0) / 3;
  assert.notEqual(Math.round(avgP99), Math.round(all.percentiles().p99));
});

test("histogram: units, precision, empty", () => {
  const h = new LatencyHistogram();
  assert.deepEqual(h.percentiles(), { count: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  for (let i = 1; i <= 100; i++) h.record(i); // 1..100 ms
  const p = h.percentiles();
  assert.equal(p.count, 100);
  assert.ok(Math.abs(p.p50 - 50) <= 0.05, `p50 ${p.p50}`);
  assert.ok(Math.abs(p.p95 - 95) <= 0.1);
  assert.ok(Math.abs(p.max - 100) <= 0.1);
  assert.ok(Math.abs(p.mean - 50.5) <= 0.1);
  h.record(-5); // clamps to 0
  h.recordMany(20_000, 3); // 20 s, beyond any preset range: auto-resize
  assert.equal(h.count, 104);
  assert.ok(Math.abs(h.percentiles().max - 20_000) / 20_000 < 0.001);
  const d = LatencyHistogram.decode(h.encode());
  // Decoded: identical percentiles; the mean becomes HDR's bucket estimate (exact sum is not in the encoding).
  const { mean: dm, ...dp } = d.percentiles();
  const { mean: hm, ...hp } = h.percentiles();
  assert.deepEqual(dp, hp);
  assert.ok(Math.abs(dm - hm) / hm < 0.001, `${dm} vs ${hm}`);
});

test("payloads follow Coder's format: printable alphabet then newline, seeded", () => {
  const rand = seededRandom(7);
  const p = makePayload(4096, rand);
  assert.equal(p.length, 4096);
  assert.equal(p[4095], 0x0a);
  const allowed = new Set(PAYLOAD_ALPHABET);
  for (let i = 0; i < 4095; i++) assert.ok(allowed.has(p[i]!), `byte ${p[i]} at ${i}`);
  assert.ok(!allowed.has(0x0a) && !allowed.has(0x0d));
  assert.equal(allowed.size, 2 + (0x7d - 0x21 + 1));
  assert.deepEqual(makePayloadPool(100, 3), makePayloadPool(100, 3));
  assert.notDeepEqual(makePayloadPool(100, 3)[0], makePayloadPool(100, 3)[1]);
  assert.equal(makePayload(1, rand).toString(), "\n");
  assert.throws(() => makePayload(0, rand), /bytes per tick must be an integer >= 1/);
});

async function shardRun(shard: string, n: number): Promise<TrafficResult> {
  return runTraffic({
    targets: makeTargets(n),
    dialer: { kind: "ssh", echo: "echo", dial: async () => new FakeConnection(true) },
    bytesPerTick: 100,
    tickIntervalMs: 20,
    durationMs: 1200,
    shard,
  });
}

test("mergeTrafficResults adds counters, merges histograms, tags shards, aligns timelines", async () => {
  const [a, b] = await Promise.all([shardRun("0/2", 3), shardRun("1/2", 2)]);
  const m = mergeTrafficResults([a, b]);
  for (const k of Object.keys(a.totals) as (keyof typeof a.totals)[]) {
    assert.equal(m.totals[k], a.totals[k] + b.totals[k], k);
  }
  assert.equal(m.totals.connections, 5);
  assert.equal(m.latency.tick.count, a.latency.tick.count + b.latency.tick.count);
  const direct = LatencyHistogram.decode(a.histograms.tick).merge(LatencyHistogram.decode(b.histograms.tick));
  // Percentiles from the merged histogram; the mean merged exactly from the inputs' exact means.
  const exactMean = (a.latency.tick.mean * a.latency.tick.count + b.latency.tick.mean * b.latency.tick.count) / m.latency.tick.count;
  assert.deepEqual(m.latency.tick, { ...direct.percentiles(), mean: Math.round(exactMean * 1000) / 1000 });
  assert.equal(m.perConnection.length, 5);
  assert.deepEqual(
    m.perConnection.map((c) => c.shard),
    ["0/2", "0/2", "0/2", "1/2", "1/2"],
  );
  assert.equal(m.shard, "0/2,1/2");
  assert.equal(m.kind, "ssh");
  // Timelines: seconds aligned on wall-clock time, counters added. (The two runs may start either side of a
  // second boundary on a busy machine, so only sums are compared, never which second holds what.)
  const sumW = (r: TrafficResult) => r.timeline.reduce((s, p) => s + p.bytesWritten, 0);
  assert.equal(sumW(m), sumW(a) + sumW(b));
  assert.equal(
    m.timeline.reduce((s, p) => s + p.ticks, 0),
    a.totals.ticksCompleted + b.totals.ticksCompleted,
  );
  for (const pt of m.timeline) if (pt.ticks > 0) assert.ok(pt.hist, "merged seconds keep a histogram");
  // Merging one result is the identity on totals and percentiles.
  const one = mergeTrafficResults([a]);
  assert.deepEqual(one.totals, a.totals);
  assert.deepEqual(one.latency.tick, a.latency.tick);
  assert.throws(() => mergeTrafficResults([]), /at least one/);
});

test("timeline merge aligns results that started at different wall-clock seconds", () => {
  const base = (startedAt: string, timeline: TrafficResult["timeline"]): TrafficResult => ({
    kind: "app",
    mode: "echo",
    settings: { bytesPerTick: 1, tickIntervalMs: 100, durationMs: 1000, rampMs: 0, reconnect: false },
    startedAt,
    endedAt: startedAt,
    durationMs: 0,
    endReason: "duration",
    totals: emptyTotals(),
    latency: { tick: { count: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 }, dial: { count: 0, min: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 } },
    histograms: { tick: "", dial: "" },
    perConnection: [],
    errors: [],
    errorsOmitted: 0,
    timeline,
  });
  const pt = (t: number, w: number, p95: number) => ({ t, bytesWritten: w, bytesRead: 0, ticks: 1, p95, max: p95 });
  const a = base("2024-01-01T00:00:00.000Z", [pt(0, 10, 5), pt(1, 10, 7)]);
  const b = base("2024-01-01T00:00:01.000Z", [pt(0, 100, 9), pt(1, 100, 3)]);
  const m = mergeTrafficResults([a, b]);
  assert.deepEqual(
    m.timeline.map((p) => [p.t, p.bytesWritten, p.p95]),
    [
      [0, 10, 5],
      [1, 110, 9],
      [2, 100, 3],
    ],
  );
});

test("live progress line: states are now, ticks are cumulative, rates and p95 cover the interval since the last line", () => {
  const line = new TrafficProgressLine("ssh-traffic", 20);
  const hist = (ms: number[]): string => {
    const h = new LatencyHistogram(2);
    for (const v of ms) h.record(v);
    return h.encode();
  };
  const report = (sec: number, written: number, lat: number[], open: number, closed: number): TrafficProgress => ({
    elapsedMs: sec * 1000,
    connections: { pending: 0, dialing: 20 - open - closed, open, reconnecting: 0, closed, failed: 0 },
    totals: { ...emptyTotals(), connections: 20, ticksCompleted: 1000 * sec, drops: 1, dialErrors: 2 },
    lastSecond: { t: sec - 1, bytesWritten: written, bytesRead: written, ticks: lat.length, p95: 0, max: 0, hist: hist(lat) },
  });
  for (let s = 1; s <= 4; s++) line.add(report(s, 1024, [10, 10, 10], 18, 0));
  const last = report(5, 1024, [10, 10, 200], 18, 0);
  line.add(last);
  assert.equal(line.intervalMs(last), 5000);
  const text = line.render(last);
  assert.match(text, /^ssh-traffic 5s: open 18\/20 now \(2 dialling\) · ticks 5,000 total · /);
  // 5 KiB over 5 s; the 200 ms tick is 1 of 15 in the interval (the p95 sits just above 10 ms).
  assert.match(text, /1 KiB\/s out, 1 KiB\/s in, 15 ticks, tick p95 \S+ last 5s · 1 drops, 2 errors since start$/);
  // The next interval starts empty: only what was added after the render counts.
  const next = report(6, 4096, [300], 0, 20);
  line.add(next);
  assert.equal(line.intervalMs(next), 1000);
  const text2 = line.render(next);
  assert.match(text2, /open 0\/20 now \(20 closed\) · ticks 6,000 total · 4 KiB\/s out, 4 KiB\/s in, 1 ticks, tick p95 30\dms last 1s/);
});
