import { test } from "node:test";
import { performance } from "node:perf_hooks";
import assert from "node:assert/strict";
import { Registry } from "prom-client";
import { runTraffic } from "../src/traffic/engine.ts";
import { TrafficMetrics } from "../src/metrics/traffic.ts";
import type { TrafficConnection, TrafficDialer } from "../src/traffic/transport.ts";
import { FakeConnection, makeTargets, startLoopbackServer, wsDialer } from "./helpers/traffic.ts";

async function metricValue(reg: Registry, name: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  assert.ok(m, `metric ${name} registered`);
  // Counters: sum of series. Histograms: sum of the _count series.
  return m.values.reduce((s, v) => {
    const name = (v as { metricName?: string }).metricName;
    return s + (name && !name.endsWith("_count") ? 0 : v.value);
  }, 0);
}

/**
 * Ticks on a connection's timetable inside the run: tick k of connection i is due at its ramp offset
 * floor(i * ramp / n) + k * interval and counts while that is before the end of the duration. The engine sends
 * (or counts lost) every one of them however late its timers fire, so these are exact, not windows.
 */
/** Ticks due to connection i of n: its timetable starts when it is up, so ramp and dial time take none away. */
function ticksDue(o: { durationMs: number; tickIntervalMs: number; rampMs?: number }, _n: number, _i: number): number {
  return Math.ceil(o.durationMs / o.tickIntervalMs);
}

interface TransportRecord {
  /** Writes that went out on this transport (= ticks sent over it). */
  writes: number;
  /** Bytes it handed to the engine while the engine still used it. */
  bytesIn: number;
}

/**
 * Wraps a dialer to record what every transport it dialled carried, per target index (one entry per dial);
 * `onChunk` sees every chunk handed to the engine (to trigger a fault once traffic is flowing).
 */
function recordingDialer(
  inner: TrafficDialer,
  onChunk?: (chunk: Buffer) => void,
): { dialer: TrafficDialer; transports: Map<number, TransportRecord[]> } {
  const transports = new Map<number, TransportRecord[]>();
  const dialer: TrafficDialer = {
    kind: inner.kind,
    echo: inner.echo,
    async dial(target, signal) {
      const conn = await inner.dial(target, signal);
      const rec: TransportRecord = { writes: 0, bytesIn: 0 };
      const list = transports.get(target.index) ?? [];
      list.push(rec);
      transports.set(target.index, list);
      let closing = false;
      return {
        write(chunk) {
          const r = conn.write(chunk);
          rec.writes++;
          return r;
        },
        onData(cb) {
          conn.onData((chunk) => {
            if (!closing) rec.bytesIn += chunk.length;
            onChunk?.(chunk);
            cb(chunk);
          });
        },
        onClose: (cb) => conn.onClose(cb),
        close() {
          closing = true;
          return conn.close();
        },
      };
    },
  };
  return { dialer, transports };
}

test("50 echo connections x 1024 B / 100 ms for 3 s: every byte comes back, no errors", async () => {
  const server = await startLoopbackServer();
  const reg = new Registry();
  const metrics = new TrafficMetrics(reg);
  const progress: number[] = [];
  const timing = { tickIntervalMs: 100, durationMs: 3000, rampMs: 500 };
  try {
    const r = await runTraffic({
      targets: makeTargets(50),
      dialer: wsDialer(server.url),
      bytesPerTick: 1024,
      ...timing,
      metrics,
      onProgress: (p) => progress.push(p.lastSecond.ticks),
    });
    const t = r.totals;
    assert.equal(t.connections, 50);
    assert.equal(t.readErrors + t.writeErrors + t.dialErrors + t.drops, 0, JSON.stringify(r.errors.slice(0, 3)));
    assert.equal(r.errors.length, 0);
    // The drain waits for in-flight echoes, so everything written came back.
    assert.equal(t.bytesRead, t.bytesWritten);
    assert.equal(t.bytesWritten, t.ticksSent * 1024);
    assert.equal(t.ticksCompleted, t.ticksSent);
    assert.equal(t.ticksLost, 0);
    // Every tick of every timetable (30 per connection: each starts when its connection is up) was sent and came
    // back: 1,500 in all.
    const due = Array.from({ length: 50 }, (_, i) => ticksDue(timing, 50, i));
    assert.equal(t.ticksSent, due.reduce((a, b) => a + b, 0));
    assert.equal(t.ticksSent, 1500);
    assert.equal(r.latency.tick.count, t.ticksCompleted);
    // Measured from each tick's due time: never zero, percentiles ordered.
    const lat = r.latency.tick;
    assert.ok(lat.min >= 0 && lat.p50 > 0 && lat.p50 <= lat.p95 && lat.p95 <= lat.p99 && lat.p99 <= lat.max, JSON.stringify(lat));
    assert.equal(r.latency.dial.count, 50);
    assert.ok(r.histograms.tick.length > 0);
    assert.equal(r.perConnection.length, 50);
    for (const [i, c] of r.perConnection.entries()) {
      assert.equal(c.target.index, i);
      assert.equal(c.status, "ok");
      assert.equal(c.bytesRead, c.bytesWritten);
      assert.equal(c.ticksCompleted, due[i], `connection ${i}`);
      assert.equal(c.tickLatency.count, due[i]);
      assert.ok(c.dialMs !== null);
    }
    // Timeline: one point per second that passed (the last one partial), numbered in order; counters add up to
    // the totals. A busy machine may fire the per-second timer late, so only its order and sums are exact.
    assert.ok(r.timeline.length >= 2, `timeline ${r.timeline.length}`);
    assert.deepEqual(r.timeline.map((p) => p.t), r.timeline.map((_, k) => k));
    assert.equal(
      r.timeline.reduce((s, p) => s + p.bytesWritten, 0),
      t.bytesWritten,
    );
    assert.equal(
      r.timeline.reduce((s, p) => s + p.ticks, 0),
      t.ticksCompleted,
    );
    assert.equal(progress.length, r.timeline.length, "one progress report per timeline point");
    // Metrics agree with the result.
    assert.equal(await metricValue(reg, "coderd_scaletest_bytes_written_total"), t.bytesWritten);
    assert.equal(await metricValue(reg, "coderd_scaletest_bytes_read_total"), t.bytesRead);
    assert.equal(await metricValue(reg, "scaletest_tick_latency_seconds"), t.ticksCompleted);
    const conns = (await reg.getMetricsAsJSON()).find((m) => m.name === "scaletest_connections")!;
    const closed = conns.values.find((v) => v.labels.state === "closed");
    assert.equal(closed?.value, 50);
  } finally {
    await server.close();
  }
});

test("dropped connections are counted once; without --reconnect they end in error", async () => {
  const server = await startLoopbackServer({
    // 400 ms into a 2 s run: 1.6 s to spare for the drop to land inside the run on a loaded machine.
    dropAfterMs: (i) => (i % 5 === 0 ? 400 : undefined),
  });
  const timing = { tickIntervalMs: 50, durationMs: 2000 };
  const rec = recordingDialer(wsDialer(server.url));
  try {
    const r = await runTraffic({
      targets: makeTargets(10),
      dialer: rec.dialer,
      bytesPerTick: 256,
      ...timing,
    });
    assert.equal(r.totals.drops, 2);
    assert.equal(r.totals.reconnects, 0);
    assert.equal(r.totals.readErrors, 2, "an abnormal close (1006) is a read error");
    assert.equal(r.totals.writeErrors, 0);
    const bad = r.perConnection.filter((c) => c.status === "error").map((c) => c.target.index);
    assert.deepEqual(bad, [0, 5]);
    const c0 = r.perConnection[0]!;
    assert.ok(c0.errors[0]!.startsWith("connection lost"));
    // Nothing more was sent once it dropped (one transport, whose writes are the ticks sent) ...
    assert.equal(rec.transports.get(0)?.length, 1);
    assert.equal(c0.ticksSent, rec.transports.get(0)![0]!.writes);
    assert.equal(c0.bytesRead, rec.transports.get(0)![0]!.bytesIn);
    const due = ticksDue(timing, 10, 0);
    assert.ok(c0.ticksCompleted <= c0.ticksSent && c0.ticksSent < due, `sent ${c0.ticksSent} of ${due}`);
    // ... and the ticks due after the drop (and those unanswered at it) are lost, not silently skipped.
    assert.equal(c0.ticksLost, due - c0.ticksCompleted);
    assert.ok(c0.ticksLost >= due - c0.ticksSent);
    const c1 = r.perConnection[1]!;
    assert.equal(c1.ticksLost, 0, JSON.stringify(r.perConnection.map((c) => [c.ticksSent, c.ticksCompleted, c.ticksLost, c.dialMs])) + r.durationMs);
    assert.equal(c1.ticksCompleted, due);
    assert.equal(r.totals.ticksCompleted + r.totals.ticksLost, r.perConnection.reduce((s, c) => s + c.ticksCompleted + c.ticksLost, 0));
  } finally {
    await server.close();
  }
});

test("with --reconnect a dropped connection is re-established and keeps its timetable", async () => {
  const server = await startLoopbackServer({
    // Only the first connection of targets 0 and 5 is dropped, 400 ms into a 2 s run.
    dropAfterMs: (i, nth) => (i % 5 === 0 && nth === 1 ? 400 : undefined),
  });
  const timing = { tickIntervalMs: 50, durationMs: 2000 };
  const rec = recordingDialer(wsDialer(server.url));
  try {
    const r = await runTraffic({
      targets: makeTargets(10),
      dialer: rec.dialer,
      bytesPerTick: 256,
      ...timing,
      reconnect: true,
      // The outage lasts at least this long: longer than several tick intervals.
      reconnectBackoffMs: 200,
    });
    assert.equal(r.totals.drops, 2);
    assert.equal(r.totals.reconnects, 2);
    assert.equal(server.accepted(), 12);
    const c0 = r.perConnection[0]!;
    assert.equal(c0.status, "dropped");
    assert.equal(c0.reconnects, 1);
    // It kept sending and reading on the new transport after the reconnect ...
    const [first, second] = rec.transports.get(0)!;
    assert.equal(rec.transports.get(0)!.length, 2);
    assert.ok(second!.writes > 0 && second!.bytesIn > 0, `after the reconnect: ${JSON.stringify(second)}`);
    assert.equal(c0.ticksSent, first!.writes + second!.writes);
    assert.equal(c0.bytesRead, first!.bytesIn + second!.bytesIn);
    // ... on its original timetable: every tick due is either completed or lost (the outage's share).
    const due = ticksDue(timing, 10, 0);
    assert.equal(c0.ticksCompleted + c0.ticksLost, due);
    // Ticks due while reconnecting were timed from their due time: the first waited out most of the >= 200 ms outage.
    assert.ok(c0.tickLatency.max >= 150, `max ${c0.tickLatency.max}`);
    assert.ok(r.perConnection.filter((c) => c.status === "ok").length === 8);
    for (const c of r.perConnection.filter((c) => c.status === "ok")) assert.equal(c.ticksCompleted, due);
    assert.equal(r.latency.dial.count, 12);
  } finally {
    await server.close();
  }
});

test("no coordinated omission: a 500 ms stall shows as ~500 ms latency although sending paused", async () => {
  const server = await startLoopbackServer();
  const timing = { tickIntervalMs: 100, durationMs: 2500 };
  // The far end stalls for 500 ms once 20 echoes came back (about 0.4 s in), not at a wall-clock moment.
  let echoes = 0;
  const rec = recordingDialer(wsDialer(server.url), (chunk) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) if (++echoes === 20) server.stall(500);
  });
  try {
    const p = runTraffic({
      targets: makeTargets(5),
      dialer: rec.dialer,
      bytesPerTick: 512,
      ...timing,
      // At most 2 unanswered ticks: the engine stops sending during the stall and catches up afterwards.
      maxInFlight: 2,
    });
    const r = await p;
    assert.ok(echoes >= 20, "the stall was injected");
    assert.equal(r.totals.drops + r.totals.writeErrors + r.totals.readErrors, 0);
    const lat = r.latency.tick;
    // The first tick due after the stall began waits out the rest of it: between stall - interval and
    // stall (400-500 ms here), depending on where the stall falls between two ticks.
    assert.ok(lat.max >= 390, `max ${lat.max}`);
    assert.ok(lat.p99 >= 350, `p99 ${lat.p99}`);
    // Only the ticks around the stall waited for it: the typical tick is faster than the stalled ones.
    assert.ok(lat.p50 < lat.p99, `p50 ${lat.p50} p99 ${lat.p99}`);
    // Catch-up: nothing was skipped, every tick of the timetable came back.
    assert.equal(r.totals.ticksLost, 0, JSON.stringify(r.perConnection.map((c) => [c.ticksSent, c.ticksCompleted, c.dialMs])) + ` ${r.endReason}`);
    assert.equal(r.totals.ticksCompleted, 5 * ticksDue(timing, 5, 0));
    // The worst second of the timeline carries the stall.
    assert.ok(Math.max(...r.timeline.map((t) => t.max)) >= 390);
  } finally {
    await server.close();
  }
});

test("write mode: latency is write completion, async writes, nothing read", async () => {
  const server = await startLoopbackServer({ mode: "discard" });
  const timing = { tickIntervalMs: 50, durationMs: 1000 };
  try {
    const r = await runTraffic({
      targets: makeTargets(4),
      dialer: wsDialer(server.url, "write", true),
      bytesPerTick: 2048,
      ...timing,
    });
    assert.equal(r.mode, "write");
    assert.equal(r.totals.bytesRead, 0);
    // Every tick's write completed (the drain waits for writes in flight).
    assert.equal(r.totals.ticksCompleted, 4 * ticksDue(timing, 4, 0));
    assert.equal(r.totals.ticksLost, 0);
    assert.equal(r.totals.bytesWritten, r.totals.ticksCompleted * 2048);
    assert.equal(r.latency.tick.count, r.totals.ticksCompleted);
    assert.ok(r.latency.tick.min >= 0 && r.latency.tick.p50 <= r.latency.tick.max);
  } finally {
    await server.close();
  }
});

test("read mode: bytes streamed by the far end are counted", async () => {
  const server = await startLoopbackServer({ mode: "stream", streamBytes: 1000, streamEveryMs: 20 });
  const rec = recordingDialer(wsDialer(server.url, "read"));
  try {
    const r = await runTraffic({
      targets: makeTargets(3),
      dialer: rec.dialer,
      bytesPerTick: 64,
      tickIntervalMs: 100,
      durationMs: 1000,
    });
    assert.equal(r.mode, "read");
    // Every byte the far end streamed while the connection was in use is counted, on the right connection
    // (how many chunks arrive depends on the far end's timer, so the count is compared, not guessed).
    for (const c of r.perConnection) {
      const got = rec.transports.get(c.target.index)![0]!.bytesIn;
      assert.ok(got > 0 && got % 1000 === 0, `connection ${c.target.index} got ${got} B`);
      assert.equal(c.bytesRead, got);
    }
    assert.equal(r.totals.bytesRead, r.perConnection.reduce((s, c) => s + c.bytesRead, 0));
    assert.equal(r.totals.ticksCompleted, r.totals.ticksSent);
  } finally {
    await server.close();
  }
});

test("a write on a dead connection is one write error and one drop, never more", async () => {
  const conns: FakeConnection[] = [];
  const dialer: TrafficDialer = {
    kind: "ssh",
    echo: "echo",
    async dial(): Promise<TrafficConnection> {
      const c = new FakeConnection(true, 5);
      conns.push(c);
      return c;
    },
  };
  const r = await runTraffic({
    targets: makeTargets(1),
    dialer,
    bytesPerTick: 100,
    tickIntervalMs: 20,
    durationMs: 400,
  });
  // The transport also reports the close afterwards: must not count again.
  conns[0]!.closeWith(new Error("late close"));
  assert.equal(r.totals.writeErrors, 1);
  assert.equal(r.totals.drops, 1);
  assert.equal(r.totals.readErrors, 0);
  assert.equal(r.totals.ticksSent, 5);
  // Echoes of the 5 sent ticks arrive a microtask later: when a late timer sends several of them together with the
  // failing 6th write, those still in flight are lost with the connection. Every tick due (20) is counted either way.
  assert.ok(r.totals.ticksCompleted <= 5);
  assert.equal(r.totals.ticksCompleted + r.totals.ticksLost, ticksDue({ tickIntervalMs: 20, durationMs: 400 }, 1, 0));
  assert.ok(r.totals.ticksLost >= 15);
  assert.equal(r.perConnection[0]!.status, "error");
  assert.match(r.perConnection[0]!.errors[0]!, /^write failed: broken pipe/);
});

test("close reported twice by a transport counts one drop", async () => {
  const conns: FakeConnection[] = [];
  const dialer: TrafficDialer = {
    kind: "web-terminal",
    echo: "echo",
    async dial() {
      const c = new FakeConnection(true);
      conns.push(c);
      setTimeout(() => {
        c.closeWith(new Error("reset"));
        c.closeWith(new Error("reset again"));
      }, 100);
      return c;
    },
  };
  const r = await runTraffic({ targets: makeTargets(2), dialer, bytesPerTick: 10, tickIntervalMs: 20, durationMs: 300 });
  assert.equal(r.totals.drops, 2);
  assert.equal(r.totals.readErrors, 2);
});

test("failed dials are retried with --reconnect and counted as dial errors", async () => {
  let calls = 0;
  const dialer: TrafficDialer = {
    kind: "ssh",
    echo: "echo",
    async dial(target) {
      calls++;
      if (target.index === 1 && calls <= 3) throw new Error("agent not reachable");
      return new FakeConnection(true);
    },
  };
  const r = await runTraffic({
    targets: makeTargets(2),
    dialer,
    bytesPerTick: 10,
    tickIntervalMs: 20,
    durationMs: 600,
    reconnect: true,
    reconnectBackoffMs: 10,
  });
  assert.equal(r.totals.dialErrors, 2);
  assert.equal(r.totals.reconnects, 0, "a first connection after failed dials is not a reconnect");
  assert.equal(r.perConnection[1]!.status, "ok");
  assert.equal(r.perConnection[1]!.dialErrors, 2);
  // Its window began when it finally connected: the failed dials cost it no ticks.
  assert.equal(r.perConnection[1]!.ticksCompleted, 600 / 20);
  assert.equal(r.perConnection[0]!.ticksCompleted, 600 / 20);
  assert.match(r.errors[0]!.message, /dial failed: agent not reachable/);

  const noRetry = await runTraffic({
    targets: makeTargets(1),
    dialer: { kind: "ssh", echo: "echo", dial: async () => Promise.reject(new Error("nope")) },
    bytesPerTick: 10,
    tickIntervalMs: 20,
    durationMs: 200,
  });
  assert.equal(noRetry.totals.dialErrors, 1);
  assert.equal(noRetry.perConnection[0]!.status, "error");
  assert.equal(noRetry.perConnection[0]!.dialMs, null);
});

test("abort signal ends the run early and says so", async () => {
  const ac = new AbortController();
  // Abort once traffic flows on every connection (each sends its first tick as it connects), from outside the
  // write as a signal handler would.
  let writes = 0;
  const dial = async (): Promise<TrafficConnection> => {
    const c = new FakeConnection(true);
    return {
      write(chunk) {
        c.write(chunk);
        if (++writes === 3) setImmediate(() => ac.abort());
      },
      onData: (cb) => c.onData(cb),
      onClose: (cb) => c.onClose(cb),
      close: () => c.close(),
    };
  };
  const r = await runTraffic({
    targets: makeTargets(3),
    dialer: { kind: "app", echo: "echo", dial },
    bytesPerTick: 10,
    tickIntervalMs: 20,
    durationMs: 60_000,
    signal: ac.signal,
  });
  assert.equal(r.endReason, "aborted");
  assert.ok(r.durationMs < 60_000, `ran ${r.durationMs} ms: the whole duration`);
  // Everything sent before the abort came back and counts; nothing due before it is missing.
  assert.ok(r.totals.ticksCompleted >= 3, `completed ${r.totals.ticksCompleted}`);
  assert.equal(r.totals.ticksCompleted, r.totals.ticksSent);
  assert.equal(r.totals.ticksLost, 0);
});

test("dial time is not tick latency: a slow dial gets its whole window, timed from when it is up", async () => {
  const t0 = performance.now();
  const r = await runTraffic({
    targets: makeTargets(3),
    dialer: {
      kind: "ssh",
      echo: "echo",
      // Target 2 takes 1.5 s to connect: much longer than the other connections' whole window.
      dial: async (target) => {
        if (target.index === 2) await new Promise((res) => setTimeout(res, 1500));
        return new FakeConnection(true);
      },
    },
    bytesPerTick: 10,
    tickIntervalMs: 20,
    durationMs: 400,
  });
  assert.equal(r.endReason, "duration");
  assert.equal(r.totals.ticksLost, 0);
  for (const c of r.perConnection) {
    assert.equal(c.ticksCompleted, 400 / 20, `connection ${c.target.index}`);
    assert.equal(c.status, "ok");
  }
  const slow = r.perConnection[2]!;
  assert.ok(slow.dialMs! >= 1490, `dial ${slow.dialMs}`);
  assert.ok(r.latency.dial.max >= 1490);
  // Timed from its due time after the dial, its first tick no longer carries the 1.5 s dial (it did before).
  assert.ok(slow.tickLatency.max < slow.dialMs!, `tick max ${slow.tickLatency.max}, dial ${slow.dialMs}`);
  // The run lasted until the slow connection's window ended.
  assert.ok(performance.now() - t0 >= 1500 + 400 - 5);
});

test("a connection still dialling when the run is stopped is a dial error with a message", async () => {
  const ac = new AbortController();
  const r = await runTraffic({
    targets: makeTargets(2),
    dialer: {
      kind: "ssh",
      echo: "echo",
      // Target 1 never connects on its own (its dial only ends when the engine aborts it).
      dial: (target, signal) =>
        target.index === 1
          ? new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }))
          : Promise.resolve(new FakeConnection(true)),
    },
    bytesPerTick: 10,
    tickIntervalMs: 20,
    durationMs: 60_000,
    onProgress: (p) => {
      if (p.totals.ticksCompleted > 0) ac.abort();
    },
    signal: ac.signal,
  });
  assert.equal(r.endReason, "aborted");
  const c = r.perConnection[1]!;
  assert.equal(c.status, "error");
  assert.equal(c.dialErrors, 1);
  assert.equal(r.totals.dialErrors, 1);
  assert.match(c.errors[0]!, /^dial still in progress when the run ended \(\d+ ms after it began\)$/);
  assert.ok(r.errors.some((e) => /dial still in progress/.test(e.message)));
  assert.equal(r.perConnection[0]!.status, "ok");
});

test("bad options fail fast with a clear message", async () => {
  const base = {
    targets: makeTargets(1),
    dialer: { kind: "app" as const, echo: "echo" as const, dial: async () => new FakeConnection(true) },
    bytesPerTick: 10,
    tickIntervalMs: 20,
    durationMs: 100,
  };
  await assert.rejects(runTraffic({ ...base, bytesPerTick: 0 }), /bytesPerTick must be an integer >= 1/);
  await assert.rejects(runTraffic({ ...base, rampMs: 100 }), /rampMs .* must be shorter than durationMs/);
  await assert.rejects(runTraffic({ ...base, targets: [] }), /no targets/);
});
