// Artillery processor for the benchmark (bench/lib/artillery.ts writes the scenario that uses it).
// `beforeTick` runs right before each tick's sends (BENCH_FRAMES_PER_TICK messages, the same 1,024-byte frames
// ours and the floor send). Artillery's loop is send + think(interval): a sleep, not a timetable, so a tick's
// intended send time is taken as the previous tick + interval (what the sleep aims at); drift across ticks is
// not lag here, it shows up as lost throughput (measured at the echo server).
// Echoes arrive in order; a tick is back with its last message, and its lag (arrival - intended) goes into
// Artillery's own histogram metric `bench.tick_lag_ms`, which Artillery aggregates into its JSON report.
"use strict";
const { performance } = require("node:perf_hooks");

const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS || "100");
const FRAMES_PER_TICK = Math.max(1, Number(process.env.BENCH_FRAMES_PER_TICK || "1"));
const state = new WeakMap();

function beforeTick(context, ee, next) {
  const ws = context.ws;
  const now = performance.now();
  let s = state.get(ws);
  if (!s) {
    s = { prev: 0, due: [], messages: 0 };
    state.set(ws, s);
    ws.on("message", () => {
      if (++s.messages % FRAMES_PER_TICK !== 0) return;
      const due = s.due.shift();
      if (due === undefined) return;
      ee.emit("histogram", "bench.tick_lag_ms", performance.now() - due);
      ee.emit("counter", "bench.echoes", 1);
    });
  }
  s.due.push(s.prev ? s.prev + INTERVAL_MS : now);
  s.prev = now;
  return next();
}

module.exports = { beforeTick };
