#!/usr/bin/env -S npx tsx
// Benchmark: create N workspaces (default 1,000) against the simulator with instant builds and
// report what the runner itself costs: client CPU milliseconds per workspace and peak RSS. The
// simulator runs in a child process so its CPU is not counted.
//   node --import tsx bench/create-workspaces.ts [--count 1000] [--concurrency 50] [--poll-ms 1000]
import { Command } from "commander";
import { CoderClient } from "../src/coder/index.ts";
import { cleanupRun } from "../src/cleanup/index.ts";
import { createWorkspaces, renderStageTable } from "../src/create/index.ts";
import { formatMs } from "../src/results/stats.ts";
import { startSimChild } from "./lib/sim-child.ts";

const o = new Command()
  .option("--count <n>", "workspaces", (v) => Number(v), 1000)
  .option("--concurrency <n>", "create concurrency", (v) => Number(v), 50)
  .option("--poll-ms <n>", "longest poll interval for builds/agents", (v) => Number(v), 1000)
  .option("--daemons <n>", "simulated provisioner daemons", (v) => Number(v), 16)
  .parse()
  .opts<{ count: number; concurrency: number; pollMs: number; daemons: number }>();

const { proc: sim, env } = await startSimChild(["--daemons", String(o.daemons), "--build-ms", "0", "--agent-connect-ms", "0", "--no-preexisting"]);

const client = new CoderClient({ url: env.CODER_URL!, token: env.CODER_SESSION_TOKEN!, concurrency: o.concurrency });
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const r = await createWorkspaces(
  client,
  { runId: "bench", count: o.count, template: "kubernetes-minimal", concurrency: o.concurrency, timeoutMs: 0, jobTimeoutMs: 600_000, retry: 0, pollMs: o.pollMs, noCleanup: true },
  { progress: { label: "bench create", tty: false, intervalMs: 5000 } },
);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

const c0 = performance.now();
const c = await cleanupRun(client, { runId: "bench", concurrency: o.concurrency, timeoutMs: 0, jobTimeoutMs: 600_000, pollMs: o.pollMs }, { progress: false });
const cleanupWall = performance.now() - c0;

console.log(`create-workspaces benchmark: ${o.count} workspaces, concurrency ${o.concurrency}, poll ${o.pollMs} ms, ${o.daemons} daemons, instant builds`);
console.log(`  ready:             ${r.pass}/${r.count} in ${formatMs(wall)} (${(r.pass / (wall / 1000)).toFixed(1)} workspaces/s)`);
console.log(`  client CPU:        ${cpuMs.toFixed(0)} ms total, ${(cpuMs / o.count).toFixed(2)} ms per workspace`);
// The kernel's part: on loopback a socket write also runs the receiving side's TCP work (and wakes the idle
// simulator), so system time here is higher than against a deployment across a network.
console.log(`  of which system:   ${(cpu.system / 1000 / o.count).toFixed(2)} ms per workspace (user ${(cpu.user / 1000 / o.count).toFixed(2)})`);
console.log(`  peak RSS:          ${peakRssMiB.toFixed(1)} MiB`);
console.log(`  API requests:      ${client.stats().requests} (${(client.stats().requests / o.count).toFixed(1)} per workspace incl. cleanup)`);
console.log(`  cleanup:           ${c.workspaces.filter((w) => w.ok).length} workspaces, ${c.users.filter((u) => u.ok).length} users in ${formatMs(cleanupWall)}`);
console.log(renderStageTable(r.stages));
await client.close();
sim.kill("SIGTERM");
await sim;
process.exit(r.exit_code || c.exit_code);
