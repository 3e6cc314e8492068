/**
 * The raw-`ws` floor as a function: the least code that drives the workload with `ws` directly. Per connection
 * a setTimeout chain on a fixed timetable (tick k due at open + k * interval) sends one shared payload;
 * echoes come back in order, so tick k's lag is the arrival of its last message minus its due time. No
 * metrics, no reconnects, no bookkeeping beyond an HDR histogram, which every tool pays for in some form.
 *
 * `frameBytes` splits each tick into messages of at most that many bytes (the app kind sends 1,024-byte
 * messages, as Coder's client does), so the floor can put exactly the product's frames on the wire.
 * Used by bench/clients/raw-ws.ts (peer benchmark, one process per step) and bench/clients/guard-worker.ts
 * (the CI guard, one warm process for many rounds).
 */
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { benchWsClientOptions } from "./ws-options.ts";
import { LatencyHistogram } from "../../src/traffic/histogram.ts";
import { makePayload, seededRandom } from "../../src/traffic/payload.ts";
import type { ClientReport, Workload } from "./workload.ts";

export interface FloorOptions {
  /** Largest message; a tick of more bytes goes out as several messages (default: one message per tick). */
  frameBytes?: number;
  /** After the duration, how long to wait for echoes in flight before closing (default 1 s). */
  drainMs?: number;
  /** How long to wait for the close handshakes (default 5 s). */
  closeWaitMs?: number;
  /** Called with the size of every message echoed back (the guard counts bytes in its measured window). */
  onEcho?: (bytes: number) => void;
  /** Called when a connection opens. */
  onOpen?: () => void;
}

/** Slices of `payload` of at most `max` bytes (views, no copies). */
export function frameSlices(payload: Buffer, max: number | undefined): Buffer[] {
  if (!max || payload.length <= max) return [payload];
  const out: Buffer[] = [];
  for (let i = 0; i < payload.length; i += max) out.push(payload.subarray(i, Math.min(payload.length, i + max)));
  return out;
}

/** Runs the workload against `url`; resolves once every socket has closed (or the close wait ran out). */
export function runFloor(url: string, w: Workload, o: FloorOptions = {}): Promise<ClientReport> {
  const frames = frameSlices(makePayload(w.bytesPerTick, seededRandom(1)), o.frameBytes);
  const perTick = frames.length;
  const lag = new LatencyHistogram(3);
  // The same lag by the second it was measured in (as the engine's timeline keeps it), for the steady window.
  const bySecond: LatencyHistogram[] = [];
  const sockets: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const errorSamples: string[] = [];
  let errors = 0;
  let ticksSent = 0;
  let ticksCompleted = 0;
  let stopping = false;
  const start = performance.now();
  const startMs = Date.now();
  const endAt = start + w.durationMs;

  const fail = (msg: string): void => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(msg);
  };

  const connect = (): void => {
    const ws = new WebSocket(url, benchWsClientOptions());
    sockets.push(ws);
    let origin = 0;
    let k = 0;
    let messages = 0;
    let timer: NodeJS.Timeout | undefined;
    const tick = (): void => {
      timer = undefined;
      const now = performance.now();
      if (now >= endAt || stopping) return;
      // Send every tick that is due (a late timer sends the backlog, each measured from its own due time).
      while (origin + k * w.intervalMs <= now) {
        for (const f of frames) ws.send(f);
        k++;
        ticksSent++;
      }
      timer = setTimeout(tick, origin + k * w.intervalMs - performance.now());
    };
    ws.on("open", () => {
      o.onOpen?.();
      origin = performance.now();
      tick();
    });
    ws.on("message", (data: Buffer) => {
      o.onEcho?.(data.length);
      if (++messages % perTick !== 0) return;
      const due = origin + (messages / perTick - 1) * w.intervalMs;
      ticksCompleted++;
      const now = performance.now();
      lag.record(now - due);
      (bySecond[Math.floor((now - start) / 1000)] ??= new LatencyHistogram(2)).record(now - due);
    });
    // After the end, a socket still in its handshake is cut ("closed before the connection was established"):
    // like the engine's dial aborted by the end of the run, not a fault.
    ws.on("error", (err) => {
      if (!stopping) fail(`ws error: ${err.message}`);
    });
    ws.on("close", (code) => {
      if (timer) clearTimeout(timer);
      if (!stopping) fail(`closed early: ${code}`);
    });
  };

  for (let i = 0; i < w.conns; i++) {
    const delay = w.rampMs > 0 ? Math.floor((i * w.rampMs) / w.conns) : 0;
    if (delay === 0) connect();
    else timers.push(setTimeout(connect, delay));
  }

  return new Promise<ClientReport>((resolve) => {
    // End: stop sending at the duration, close once the echoes in flight are back (or after the drain).
    setTimeout(() => {
      const finish = (): void => {
        clearInterval(drain);
        clearTimeout(giveUp);
        stopping = true;
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.close(1000);
        const s = lag.percentiles();
        const report: ClientReport = {
          tool: "raw-ws",
          ticksSent,
          ticksCompleted,
          errors,
          errorSamples,
          lag: { count: s.count, p50: s.p50, p99: s.p99, max: s.max },
          lagSeconds: { startMs, hists: Array.from(bySecond, (h) => (h ? h.encode() : "")) },
        };
        // Resolve once every close handshake finished (so the server sees clean closes), or after the wait.
        const done = (): void => {
          clearInterval(poll);
          clearTimeout(wait);
          resolve(report);
        };
        const wait = setTimeout(done, o.closeWaitMs ?? 5000);
        const poll = setInterval(() => {
          if (sockets.every((x) => x.readyState === WebSocket.CLOSED)) done();
        }, 20);
      };
      const drain = setInterval(() => {
        if (ticksCompleted >= ticksSent) finish();
      }, 10);
      const giveUp = setTimeout(finish, o.drainMs ?? 1000);
    }, w.durationMs);
  });
}
