/**
 * The floor: the least code that drives the workload with `ws` directly. Per connection a setTimeout chain on
 * a fixed timetable (tick k due at open + k * interval) sends one shared payload; echoes come back in order,
 * so echo number k's lag is its arrival minus tick k's due time. No metrics, no reconnects, no bookkeeping
 * beyond an HDR histogram, which every tool pays for in some form.
 *
 *   node --import tsx bench/clients/raw-ws.ts --url ws://127.0.0.1:PORT/ --conns N [--bytes --interval --duration --ramp]
 */
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { benchWsClientOptions } from "../lib/ws-options.ts";
import { LatencyHistogram } from "../../src/traffic/histogram.ts";
import { makePayload, seededRandom } from "../../src/traffic/payload.ts";
import { argOf, parseWorkload, REPORT_PREFIX, type ClientReport } from "../lib/workload.ts";

const argv = process.argv.slice(2);
const url = argOf(argv, "url");
const w = parseWorkload(argv);
const payload = makePayload(w.bytesPerTick, seededRandom(1));
const lag = new LatencyHistogram(3);
const sockets: WebSocket[] = [];
const errorSamples: string[] = [];
let errors = 0;
let ticksSent = 0;
let ticksCompleted = 0;
let stopping = false;
const start = performance.now();
const endAt = start + w.durationMs;

function fail(msg: string): void {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(msg);
}

function connect(): void {
  const ws = new WebSocket(url, benchWsClientOptions());
  sockets.push(ws);
  let origin = 0;
  let k = 0;
  let done = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    timer = undefined;
    const now = performance.now();
    if (now >= endAt || stopping) return;
    // Send every tick that is due (a late timer sends the backlog, each measured from its own due time).
    while (origin + k * w.intervalMs <= now) {
      ws.send(payload);
      k++;
      ticksSent++;
    }
    timer = setTimeout(tick, origin + k * w.intervalMs - performance.now());
  };
  ws.on("open", () => {
    origin = performance.now();
    tick();
  });
  ws.on("message", () => {
    const due = origin + done * w.intervalMs;
    done++;
    ticksCompleted++;
    lag.record(performance.now() - due);
  });
  ws.on("error", (err) => fail(`ws error: ${err.message}`));
  ws.on("close", (code) => {
    if (timer) clearTimeout(timer);
    if (!stopping) fail(`closed early: ${code}`);
  });
}

for (let i = 0; i < w.conns; i++) {
  const delay = w.rampMs > 0 ? Math.floor((i * w.rampMs) / w.conns) : 0;
  if (delay === 0) connect();
  else setTimeout(connect, delay);
}

// End: stop sending at the duration, close once the echoes in flight are back (or after 1 s).
setTimeout(() => {
  const finish = (): void => {
    clearInterval(drain);
    clearTimeout(giveUp);
    stopping = true;
    for (const s of sockets) s.close(1000);
    const s = lag.percentiles();
    const report: ClientReport = {
      tool: "raw-ws",
      ticksSent,
      ticksCompleted,
      errors,
      errorSamples,
      lag: { count: s.count, p50: s.p50, p99: s.p99, max: s.max },
    };
    process.stdout.write(REPORT_PREFIX + JSON.stringify(report) + "\n");
    // Exit once every close handshake finished (so the server sees clean closes), or after 5 s.
    const exit = setTimeout(() => process.exit(0), 5000);
    const poll = setInterval(() => {
      if (sockets.every((x) => x.readyState === WebSocket.CLOSED)) {
        clearInterval(poll);
        clearTimeout(exit);
        process.exit(0);
      }
    }, 50);
  };
  const drain = setInterval(() => {
    if (ticksCompleted >= ticksSent) finish();
  }, 10);
  const giveUp = setTimeout(finish, 1000);
}, w.durationMs);
