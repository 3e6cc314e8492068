/** The benchmark harness's own arithmetic: steady window, throughput, hold criteria, CPU interpolation, Artillery script. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { achievedRate, judge, steadyLag, steadyWindow } from "../bench/lib/step.ts";
import { LatencyHistogram } from "../src/traffic/histogram.ts";
import { ProcSampler, sampleProcess } from "../bench/lib/procstat.ts";
import { artilleryScript } from "../bench/lib/artillery.ts";
import { largestHeld, oursOverPeers, ratiosToOurs } from "../bench/lib/report.ts";
import { onToolCpus, parseCpuList, planPinning } from "../bench/lib/pin.ts";
import type { EchoReport, StepResult } from "../bench/lib/workload.ts";
import { waitFor } from "./helpers/wait-for.ts";

function echoReport(over: Partial<EchoReport>): EchoReport {
  return { startedAt: 0, expect: 0, bytesIn: 0, messagesIn: 0, bucketsIn: [], opens: [], closes: [], abnormalCloses: 0, maxOpen: 0, cpuMs: 0, ...over };
}

test("steady window: 0.5 s after the N-th open to 0.5 s before 1 % of N closed", () => {
  const opens = Array.from({ length: 200 }, (_, i) => 1000 + i * 5); // last open at 1995
  const closes = [9000, 9100, 9200]; // 1 % of 200 = 2 -> second close
  const w = steadyWindow(echoReport({ opens, closes }), 200, 12_000);
  assert.deepEqual(w, { start: 2495, end: 8600 });
  // Fewer connections than expected ever opened: the last one that did counts.
  assert.equal(steadyWindow(echoReport({ opens: opens.slice(0, 50), closes }), 200, 12_000)?.start, 1000 + 49 * 5 + 500);
  // Nothing closed yet: the end of the recorded buckets.
  assert.equal(steadyWindow(echoReport({ opens, closes: [] }), 200, 12_000)?.end, 11_500);
  // Too short to mean anything, or no connection at all.
  assert.equal(steadyWindow(echoReport({ opens, closes: [2600, 2700] }), 200, 12_000), undefined);
  assert.equal(steadyWindow(echoReport({}), 200, 12_000), undefined);
  // The first connection's own duration ends the window before any close (a ramped tool stops it first).
  assert.equal(steadyWindow(echoReport({ opens, closes: [] }), 200, 12_000, 8_000)?.end, 1000 + 8_000 - 500);
});

test("achieved rate counts whole 100 ms buckets inside the window", () => {
  const r = echoReport({ startedAt: 10_000, bucketsIn: [999, 100, 100, 100, 100, 999] });
  // Window 10,050..10,560: buckets 1..4 (10,100-10,500) are whole inside it.
  const a = achievedRate(r, { start: 10_050, end: 10_560 });
  assert.equal(a.seconds, 0.4);
  assert.equal(a.bytesPerSec, 1000);
});

test("a step holds only with p99 < 10 ms, >= 99 % throughput, no errors and a window", () => {
  const ok = { windowS: 8, lagP99Ms: 9.9, throughputRatio: 0.99, errors: 0 } as StepResult;
  assert.deepEqual(judge(ok), []);
  assert.equal(judge({ ...ok, lagP99Ms: 10 }).length, 1);
  assert.equal(judge({ ...ok, throughputRatio: 0.989 }).length, 1);
  assert.equal(judge({ ...ok, errors: 1 }).length, 1);
  assert.equal(judge({ ...ok, windowS: 0 }).length, 1);
});

test("steady-window lag: only the seconds wholly inside the window; none without a per-second record", () => {
  const sec = (...ms: number[]): string => {
    const h = new LatencyHistogram(2);
    for (const v of ms) h.record(v);
    return h.encode();
  };
  // Second 0 is the ramp's dial storm (400 ms lags), seconds 1-3 steady, second 4 the drain.
  const r = {
    lag: { count: 0, p50: 0, p99: 0, max: 0 },
    lagSeconds: { startMs: 10_000, hists: [sec(400, 400), sec(2, 3), "", sec(4, 5), sec(300)] },
  } as unknown as Parameters<typeof steadyLag>[0];
  const s = steadyLag(r, { start: 10_900, end: 14_000 });
  assert.equal(s?.count, 4);
  assert.ok(s!.max > 4.9 && s!.max < 5.1, `max ${s?.max}`);
  // A window with no whole second in it, or a tool without the record: nothing (the harness uses the whole run).
  assert.equal(steadyLag(r, { start: 10_100, end: 11_050 }), undefined);
  assert.equal(steadyLag({ ...r, lagSeconds: undefined }, { start: 0, end: 20_000 }), undefined);
});

test("largest N held and ratios to ours", () => {
  const s = (tool: StepResult["tool"], conns: number, ok: boolean, cpu: number, rss: number) =>
    ({ tool, conns, ok, cpuMsPerConnMin: cpu, rssKBPerConn: rss }) as StepResult;
  const steps = [s("ours", 250, true, 10, 100), s("artillery", 250, true, 30, 300), s("ours", 500, true, 8, 80), s("artillery", 500, false, 40, 200)];
  assert.deepEqual(largestHeld(steps, ["ours", "artillery", "raw-ws"]), { ours: 500, artillery: 250, "raw-ws": 0 });
  assert.deepEqual(ratiosToOurs(steps), [
    { conns: 250, tool: "artillery", cpuPerConnMin: 3, rssPerConn: 3 },
    { conns: 500, tool: "artillery", cpuPerConnMin: 5, rssPerConn: 2.5 },
  ]);
});

test("ours over each peer at the same N: CPU per conn-min and per MiB, RSS, p99 (below 1: ours is cheaper)", () => {
  const s = (tool: StepResult["tool"], conns: number, cpu: number, perMiB: number, rss: number, p99: number) =>
    ({ tool, conns, cpuMsPerConnMin: cpu, cpuMsPerMiB: perMiB, rssKBPerConn: rss, lagP99Ms: p99, runLagP99Ms: p99 * 10 }) as StepResult;
  const steps = [s("ours", 2000, 20, 8, 40, 5), s("raw-ws", 2000, 25, 10, 50, 8), s("artillery", 2000, 40, 0, 80, 50), s("raw-ws", 4000, 1, 1, 1, 1)];
  assert.deepEqual(oursOverPeers(steps), [
    { conns: 2000, tool: "raw-ws", cpu: 0.8, cpuPerMiB: 0.8, rss: 0.8, p99: 0.63, p99Run: 0.63 },
    { conns: 2000, tool: "artillery", cpu: 0.5, cpuPerMiB: null, rss: 0.5, p99: 0.1, p99Run: 0.1 },
  ]);
});

test("pinning: CPU lists, the tool's CPUs apart from the far end's, recorded as applied or why not", () => {
  assert.deepEqual(parseCpuList("0-2,5"), [0, 1, 2, 5]);
  assert.throws(() => parseCpuList("a"), /not a CPU list/);
  assert.equal(planPinning("none").unpinned, "--pin none");
  assert.deepEqual(onToolCpus(planPinning("none"), "node", ["x"]), { cmd: "node", args: ["x"] });
  assert.throws(() => planPinning("0"), /TOOL_CPUS:FAR_CPUS/);
  const auto = planPinning(undefined);
  if (auto.unpinned) {
    assert.ok(auto.unpinned.length > 0);
  } else {
    assert.notEqual(auto.tool, "");
    assert.ok(!parseCpuList(auto.farEnd).some((c) => parseCpuList(auto.tool).includes(c)), "tool and far end overlap");
    assert.deepEqual(onToolCpus(auto, "node", ["x"]), { cmd: "taskset", args: ["-c", auto.tool, "node", "x"] });
    assert.throws(() => planPinning(`${auto.tool}:${auto.tool}`), /overlap/);
  }
});

test("process sampler reads this process from /proc and interpolates CPU between samples", async () => {
  const now = sampleProcess(process.pid);
  assert.ok(now && now.rssBytes > 0 && now.peakRssBytes >= now.rssBytes && now.cpuS > 0);
  const s = new ProcSampler(process.pid, 20);
  try {
    // Burn CPU until the kernel has charged this process at least 50 ms more (several 10 ms clock ticks), however
    // little of a busy machine it gets; then wait for samples taken after the burn instead of sleeping.
    const cpu0 = process.cpuUsage();
    const burnUntil = Date.now() + 30_000;
    for (;;) {
      for (let i = 0; i < 1e5; i++) Math.sqrt(Math.random());
      const used = process.cpuUsage(cpu0);
      if (used.user + used.system >= 50_000) break;
      assert.ok(Date.now() < burnUntil, "could not get 50 ms of CPU within 30 s");
    }
    const burnt = Date.now();
    await waitFor(() => s.samples.filter((x) => x.at >= burnt).length >= 2, { what: "two samples after the busy-wait", timeoutMs: 30_000 });
  } finally {
    s.stop();
  }
  assert.ok(s.samples.length >= 3);
  const a = s.samples[0]!;
  const b = s.samples[s.samples.length - 1]!;
  // The 50 ms burnt shows (the kernel's 10 ms tick accounting may trail by a tick or so).
  assert.ok(b.cpuS - a.cpuS >= 0.03, `cpu ${a.cpuS} -> ${b.cpuS}`);
  const mid = s.cpuAt((a.at + b.at) / 2);
  assert.ok(mid >= a.cpuS && mid <= b.cpuS);
  assert.equal(s.cpuAt(a.at - 1000), a.cpuS);
  assert.equal(s.cpuAt(b.at + 1000), b.cpuS);
});

test("artillery scenario: N arrivals over the ramp, the tick as 1,024-byte sends + think in ms, brace-free payload", () => {
  const doc = artilleryScript({ conns: 300, bytesPerTick: 4096, intervalMs: 100, durationMs: 10_000, rampMs: 1000 }, "ws://127.0.0.1:1/") as {
    config: { phases: Array<{ duration: number; arrivalCount: number }>; target: string };
    scenarios: Array<{ engine: string; flow: Array<{ loop: Array<Record<string, string>>; count: number }> }>;
  };
  assert.deepEqual(doc.config.phases, [{ duration: 1, arrivalCount: 300 }]);
  const sc = doc.scenarios[0]!;
  assert.equal(sc.engine, "ws");
  const loop = sc.flow[0]!;
  assert.equal(loop.count, 100);
  assert.equal(loop.loop[0]!.function, "beforeTick");
  // The same frames as ours and the floor: four 1,024-byte messages per 4 KiB tick, the last ending in "\n".
  const sends = loop.loop.slice(1, -1).map((s) => s.send!);
  assert.deepEqual(sends.map((x) => Buffer.byteLength(x)), [1024, 1024, 1024, 1024]);
  const payload = sends.join("");
  assert.ok(payload.endsWith("\n"));
  assert.ok(!/[{}]/.test(payload), "Artillery templates {{ }} in sent strings");
  assert.equal(loop.loop.at(-1)!.think, "100ms");
});
