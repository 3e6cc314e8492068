#!/usr/bin/env -S npx tsx
// Benchmark: web-terminal (reconnecting PTY) traffic at 4,096 B / 100 ms for 500 and 2,000 connections
// against the simulator, which runs in a child process so only the runner's CPU is measured. Per step it
// prints achieved vs target throughput, tick-lag percentiles (from each tick's intended send time), and
// the runner's CPU and RSS per connection.
//   node --import tsx bench/traffic.ts [--steps 500,2000] [--duration 20] [--bytes-per-tick 4096] [--ramp 3]
import { Command } from "commander";
import { CoderClient } from "../src/coder/index.ts";
import { loadConfig } from "../src/config/index.ts";
import { createWorkspaces } from "../src/create/index.ts";
import { getTrafficMetrics } from "../src/metrics/index.ts";
import { formatMs } from "../src/results/stats.ts";
import { runTrafficScenario, trafficThroughput } from "../src/traffic/scenario.ts";
import { startSimChild } from "./lib/sim-child.ts";

const o = new Command()
  .option("--steps <list>", "connection counts", "500,2000")
  .option("--duration <s>", "seconds per step", (v) => Number(v), 20)
  .option("--bytes-per-tick <n>", "bytes per tick", (v) => Number(v), 4096)
  .option("--tick-ms <n>", "tick interval (ms)", (v) => Number(v), 100)
  .option("--ramp <s>", "seconds over which connections are opened", (v) => Number(v), 3)
  .parse()
  .opts<{ steps: string; duration: number; bytesPerTick: number; tickMs: number; ramp: number }>();
const steps = o.steps.split(",").map((s) => Number(s.trim()));
const maxConns = Math.max(...steps);
const runId = "tbench";

const { proc: sim, env } = await startSimChild(["--daemons", "32", "--build-ms", "0", "--agent-connect-ms", "0", "--no-preexisting"]);

try {
  const client = new CoderClient({ url: env.CODER_URL!, token: env.CODER_SESSION_TOKEN!, concurrency: 50 });
  const c0 = performance.now();
  const created = await createWorkspaces(
    client,
    { runId, count: maxConns, template: "kubernetes-minimal", concurrency: 50, timeoutMs: 0, jobTimeoutMs: 600_000, retry: 0, pollMs: 500, noCleanup: true },
    { progress: false },
  );
  if (created.pass !== maxConns) throw new Error(`only ${created.pass}/${maxConns} workspaces became ready`);
  console.log(`setup: ${maxConns} workspaces ready in ${formatMs(performance.now() - c0)}`);

  const rows: string[] = [];
  for (const n of steps) {
    const config = loadConfig(
      "web-terminal-traffic",
      ["--run-id", runId, "--duration", `${o.duration}s`, "--bytes-per-tick", String(o.bytesPerTick), "--tick-interval", `${o.tickMs}ms`, "--target-workspaces", `0:${n}`, "--ramp", `${o.ramp}s`],
      { env: { CODER_URL: env.CODER_URL!, CODER_SESSION_TOKEN: env.CODER_SESSION_TOKEN! }, envFile: false },
    ).config;
    global.gc?.();
    const rss0 = process.memoryUsage().rss;
    let rssPeak = rss0;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 250);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await runTrafficScenario(client, config, "web-terminal", { metrics: getTrafficMetrics() });
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(sampler);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const tp = trafficThroughput(r);
    // The ramp staggers starts: connection i is due to send from i * ramp / n, so that is the target.
    const rampMs = o.ramp * 1000;
    let dueTicks = 0;
    for (let i = 0; i < n; i++) dueTicks += Math.floor((o.duration * 1000 - (i * rampMs) / n) / o.tickMs);
    tp.targetBps = (dueTicks * o.bytesPerTick) / o.duration;
    const MB = 1024 * 1024;
    const failed = r.perConnection.filter((c) => c.status !== "ok").length;
    const line =
      `| ${n} | ${(tp.targetBps / MB).toFixed(2)} | ${(tp.writtenBps / MB).toFixed(2)} (${((tp.writtenBps / tp.targetBps) * 100).toFixed(1)}%) ` +
      `| ${formatMs(r.latency.tick.p50)} | ${formatMs(r.latency.tick.p99)} | ${formatMs(r.latency.tick.max)} ` +
      `| ${((cpuMs / wallMs) * 100).toFixed(0)}% | ${(cpuMs / n / (wallMs / 1000)).toFixed(2)} ` +
      `| ${((rssPeak - rss0) / 1024 / n).toFixed(0)} | ${(rssPeak / MB).toFixed(0)} | ${r.totals.ticksLost} | ${failed} |`;
    rows.push(line);
    console.log(
      `step ${n}: wrote ${(r.totals.bytesWritten / MB).toFixed(1)} MiB, read ${(r.totals.bytesRead / MB).toFixed(1)} MiB, ` +
        `ticks ${r.totals.ticksCompleted}/${r.totals.ticksSent}, dial p99 ${formatMs(r.latency.dial.p99)}, errors ${r.errors.length}`,
    );
  }
  console.log(`\nweb-terminal traffic, ${o.bytesPerTick} B / ${o.tickMs} ms, ${o.duration} s per step (ramp ${o.ramp} s included), simulator in a child process`);
  console.log("| connections | target MiB/s | achieved MiB/s | tick p50 | tick p99 | tick max | runner CPU | CPU ms per conn-second | RSS KiB per conn | peak RSS MiB | ticks lost | failed conns |");
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) console.log(r);
  await client.close();
} finally {
  sim.kill("SIGTERM");
  await sim;
}
