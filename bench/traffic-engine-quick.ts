/**
 * Quick cost check of the traffic engine: N loopback websocket echo connections for a few seconds, printing
 * the engine process's CPU per connection-minute (the echo server runs in a child process and is reported
 * separately), tick latency, and the same with an in-memory transport (engine cost without websocket work).
 *
 *   node --import tsx bench/traffic-engine-quick.ts [--conns 500] [--bytes 4096] [--interval 100]
 *        [--seconds 5] [--scheduler wheel|timeout|both] [--transport ws|mem|both]
 *
 * Target: 2,000 connections x 4,096 B / 100 ms on 2 cores (client + real far ends), so the engine's own cost
 * has to be a small fraction of a core at that rate. No thresholds here: it prints figures.
 */
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { WebSocket, WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import { runTraffic } from "../src/traffic/engine.ts";
import type { TrafficConnection, TrafficDialer, TrafficTarget } from "../src/traffic/transport.ts";
import type { SchedulerKind } from "../src/traffic/scheduler.ts";
import { TrafficMetrics } from "../src/metrics/traffic.ts";
import { Registry } from "prom-client";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

// ---- child: echo server ----
if (process.argv.includes("--server")) {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  wss.on("connection", (ws) => {
    ws.on("message", (d: Buffer, isBinary) => ws.send(d, { binary: isBinary }));
    ws.on("error", () => {});
  });
  wss.on("listening", () => process.send!({ port: (wss.address() as AddressInfo).port }));
  let base = process.cpuUsage();
  process.on("message", (m: { cmd: string }) => {
    if (m.cmd === "reset") {
      base = process.cpuUsage();
      process.send!({ ok: true });
    }
    if (m.cmd === "cpu") {
      const u = process.cpuUsage(base);
      process.send!({ cpuMs: (u.user + u.system) / 1000 });
    }
    if (m.cmd === "exit") process.exit(0);
  });
} else {
  await main();
}

function ask<T>(child: ChildProcess, cmd: string): Promise<T> {
  return new Promise((resolve) => {
    child.once("message", (m) => resolve(m as T));
    child.send({ cmd });
  });
}

function targets(n: number): TrafficTarget[] {
  return Array.from({ length: n }, (_, i) => ({
    workspaceId: `w${i}`,
    workspaceName: `scaletest-bench-${String(i).padStart(4, "0")}`,
    ownerName: `scaletest-bench-${String(i).padStart(4, "0")}`,
    agentId: `a${i}`,
    agentName: "main",
    index: i,
  }));
}

function wsDialer(url: string): TrafficDialer {
  return {
    kind: "app",
    echo: "echo",
    dial: (_t, signal) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        // The signal only covers the dial: drop the listener once open.
        const onAbort = () => ws.terminate();
        signal.addEventListener("abort", onAbort, { once: true });
        ws.once("error", reject);
        ws.once("open", () => {
          signal.removeEventListener("abort", onAbort);
          const c: TrafficConnection = {
            write: (b) => ws.send(b),
            onData: (cb) => ws.on("message", (d: Buffer) => cb(d)),
            onClose: (cb) => ws.on("close", (code) => cb(code === 1000 ? undefined : new Error(`close ${code}`))),
            close: () =>
              new Promise<void>((r) => {
                if (ws.readyState === WebSocket.CLOSED) return r();
                ws.once("close", () => r());
                ws.close(1000);
              }),
          };
          resolve(c);
        });
      }),
  };
}

/** Far end in the same process that echoes on the next macrotask-ish turn (setImmediate batches). */
function memDialer(): TrafficDialer {
  return {
    kind: "app",
    echo: "echo",
    dial: async () => {
      let cb: ((b: Buffer) => void) | undefined;
      return {
        write: (b: Buffer) => void setImmediate(() => cb?.(b)),
        onData: (f) => (cb = f),
        onClose: () => {},
        close: async () => {},
      };
    },
  };
}

async function once(
  label: string,
  dialer: TrafficDialer,
  n: number,
  bytes: number,
  interval: number,
  seconds: number,
  scheduler: SchedulerKind,
  server?: ChildProcess,
): Promise<void> {
  if (server) await ask(server, "reset");
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  // Steady state: CPU between the end of the ramp (+1 s) and the last progress tick before the end.
  const rampMs = Math.min(1000, seconds * 200);
  let steady0: { cpu: NodeJS.CpuUsage; t: number } | undefined;
  let steady1: { cpu: NodeJS.CpuUsage; t: number } | undefined;
  const r = await runTraffic({
    onProgress: (p) => {
      const snap = { cpu: process.cpuUsage(), t: performance.now() };
      if (p.elapsedMs > rampMs + 1000 && !steady0) steady0 = snap;
      else if (steady0) steady1 = snap;
    },
    targets: targets(n),
    dialer,
    bytesPerTick: bytes,
    tickIntervalMs: interval,
    durationMs: seconds * 1000,
    rampMs,
    scheduler,
    metrics: new TrafficMetrics(new Registry()),
  });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const connMinutes = (n * wallMs) / 60_000;
  let steady = "";
  if (steady0 && steady1) {
    const u = process.cpuUsage(steady0.cpu);
    const u1 = steady1.cpu;
    const ms = (u1.user + u1.system - (steady0.cpu.user + steady0.cpu.system)) / 1000;
    void u;
    const cm = (n * (steady1.t - steady0.t)) / 60_000;
    steady = `steady ${(ms / cm).toFixed(1)} cpu-ms/conn-min (${((ms / (steady1.t - steady0.t)) * 100).toFixed(0)}% core)`;
  }
  const serverCpu = server ? (await ask<{ cpuMs: number }>(server, "cpu")).cpuMs : 0;
  const t = r.totals;
  const mbps = (t.bytesWritten / 1e6 / (wallMs / 1000)).toFixed(1);
  console.log(
    [
      `${label.padEnd(14)} sched=${scheduler.padEnd(7)}`,
      `cpu ${cpuMs.toFixed(0)} ms (${((cpuMs / wallMs) * 100).toFixed(0)}% of a core, ELU ${(elu.utilization * 100).toFixed(0)}%)`,
      `=> ${(cpuMs / connMinutes).toFixed(1)} cpu-ms per connection-minute overall;`,
      steady,
      server ? `server ${(serverCpu / connMinutes).toFixed(1)}` : "",
      `| ticks ${t.ticksCompleted}/${t.ticksSent} lost ${t.ticksLost} | ${mbps} MB/s each way`,
      `| tick p50 ${r.latency.tick.p50} p99 ${r.latency.tick.p99} max ${r.latency.tick.max} ms`,
      t.drops + t.dialErrors + t.readErrors + t.writeErrors ? `| FAULTS ${JSON.stringify(t)}` : "",
    ]
      .filter(Boolean)
      .join(" "),
  );
}

async function main(): Promise<void> {
  const n = Number(arg("conns", "500"));
  const bytes = Number(arg("bytes", "4096"));
  const interval = Number(arg("interval", "100"));
  const seconds = Number(arg("seconds", "5"));
  const schedArg = arg("scheduler", "both");
  const transport = arg("transport", "both");
  const scheds: SchedulerKind[] = schedArg === "both" ? ["wheel", "timeout"] : [schedArg as SchedulerKind];
  console.log(
    `traffic engine quick bench: ${n} connections x ${bytes} B every ${interval} ms for ${seconds} s, node ${process.version}`,
  );
  if (transport === "mem" || transport === "both") {
    for (const s of scheds) await once("in-memory", memDialer(), n, bytes, interval, seconds, s);
  }
  if (transport === "ws" || transport === "both") {
    const child = fork(fileURLToPath(import.meta.url), ["--server"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const { port } = await new Promise<{ port: number }>((resolve) => child.once("message", (m) => resolve(m as { port: number })));
    try {
      for (const s of scheds) await once("ws loopback", wsDialer(`ws://127.0.0.1:${port}/`), n, bytes, interval, seconds, s, child);
    } finally {
      child.send({ cmd: "exit" });
    }
  }
}
