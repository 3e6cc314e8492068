/**
 * Our engine through one product transport, measuring itself (bench/ssh-cost.ts): `--kind app` is the
 * workspace-app websocket path against the ws echo server (bench/lib/product-app.ts), `--kind ssh` is the ssh2
 * client of the SSH kind (src/traffic/kinds/ssh.ts sshDialer) over a stdio-like stream: a loopback socket to
 * the SSH echo server wrapped as `Duplex.from({ readable, writable })`, exactly as the product wraps the
 * `coder ssh --stdio` child's stdout/stdin, so only the CLI process itself is left out.
 *
 * CPU (process.cpuUsage, all threads) and the bytes echoed are counted over the steady window: from 1 s after
 * 95 % of the connections opened, for the duration minus 1.5 s. RSS per
 * connection = (RSS mid-window - RSS before the first dial) / N.
 *
 *   node --import tsx bench/clients/ours-kind.ts --kind app|ssh --url ws://... | --port N --conns N [--bytes --interval --duration --ramp]
 */
import { connect } from "node:net";
import { Duplex } from "node:stream";
import { Registry } from "prom-client";
import { runTraffic } from "../../src/traffic/engine.ts";
import { sshDialer, type SshStreamTransport } from "../../src/traffic/kinds/ssh.ts";
import type { TrafficDialer, TrafficTarget } from "../../src/traffic/transport.ts";
import { TrafficMetrics } from "../../src/metrics/traffic.ts";
import { runProductApp } from "../lib/product-app.ts";
import { argOf, parseWorkload, REPORT_PREFIX, type ClientReport } from "../lib/workload.ts";

const argv = process.argv.slice(2);
const kind = argOf(argv, "kind");
const w = parseWorkload(argv);
if (kind !== "app" && kind !== "ssh") throw new Error(`--kind must be app or ssh (got ${kind})`);

let opened = 0;
let echoed = 0;
let window: { cpu0: NodeJS.CpuUsage; bytes0: number; t0: number } | undefined;
let result: { cpuMs: number; seconds: number; bytes: number } | undefined;
const rss0 = process.memoryUsage().rss;
const hooks = { onOpen: () => void opened++, onEcho: (n: number) => void (echoed += n) };

function startWindowWhenUp(): void {
  const t = setInterval(() => {
    // 95 % open is enough to start (a few slow handshakes on a busy machine would leave no window at all).
    if (opened < Math.ceil(w.conns * 0.95)) return;
    clearInterval(t);
    setTimeout(() => {
      window = { cpu0: process.cpuUsage(), bytes0: echoed, t0: Date.now() };
      // The window ends 0.5 s before the last connection's own window does (each runs `duration` from its open).
      const left = w.durationMs - 1000 - 500;
      setTimeout(() => {
        const c = process.cpuUsage(window!.cpu0);
        result = {
          cpuMs: (c.user + c.system) / 1000,
          seconds: (Date.now() - window!.t0) / 1000,
          bytes: echoed - window!.bytes0,
        };
      }, Math.max(500, left));
    }, 1000);
  }, 20);
  t.unref();
}
let rssMid = 0;
const mid = setTimeout(() => (rssMid = process.memoryUsage().rss), w.rampMs + w.durationMs / 2);
mid.unref();

function sshViaSocket(port: number): SshStreamTransport {
  return () => {
    const sock = connect(port, "127.0.0.1");
    sock.setNoDelay(true);
    const stream = Duplex.from({ readable: sock, writable: sock });
    return {
      stream,
      dialed() {},
      describe: () => `loopback socket to the SSH echo server :${port}`,
      async close() {
        sock.end();
        if (!sock.destroyed) await new Promise<void>((r) => sock.once("close", () => r()));
      },
    };
  };
}

function counting(d: TrafficDialer): TrafficDialer {
  return {
    ...d,
    dial: async (target, signal) => {
      const c = await d.dial(target, signal);
      hooks.onOpen();
      return { ...c, onData: (cb) => c.onData((chunk) => (hooks.onEcho(chunk.length), cb(chunk))) };
    },
  };
}

startWindowWhenUp();
let report: ClientReport;
if (kind === "app") {
  report = await runProductApp(argOf(argv, "url"), w, hooks);
} else {
  const targets: TrafficTarget[] = Array.from({ length: w.conns }, (_, i) => {
    const name = `scaletest-bench-${String(i).padStart(4, "0")}`;
    return { workspaceId: `w${i}`, workspaceName: name, ownerName: name, agentId: `a${i}`, agentName: "main", index: i };
  });
  const r = await runTraffic({
    targets,
    dialer: counting(sshDialer({ bytesPerTick: w.bytesPerTick, transport: sshViaSocket(Number(argOf(argv, "port"))) })),
    bytesPerTick: w.bytesPerTick,
    tickIntervalMs: w.intervalMs,
    durationMs: w.durationMs,
    rampMs: w.rampMs,
    metrics: new TrafficMetrics(new Registry()),
  });
  const t = r.totals;
  report = {
    tool: "ours",
    ticksSent: t.ticksSent,
    ticksCompleted: t.ticksCompleted,
    errors: t.dialErrors + t.drops + t.readErrors + t.writeErrors,
    errorSamples: r.errors.slice(0, 5).map((e) => `${e.target}: ${e.message}`),
    lag: { count: r.latency.tick.count, p50: r.latency.tick.p50, p99: r.latency.tick.p99, max: r.latency.tick.max },
  };
}
const win = result ? { ...result, rssMidMB: Math.round((rssMid / 2 ** 20) * 10) / 10 } : undefined;
process.stdout.write(
  REPORT_PREFIX + JSON.stringify({ ...report, kind, window: win, rssKBPerConn: rssMid ? Math.round((rssMid - rss0) / 1024 / w.conns) : null }) + "\n",
);
process.exit(0);
