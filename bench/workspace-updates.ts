#!/usr/bin/env -S npx tsx
// Benchmark: one runner process holds N (default 1,000) concurrent WorkspaceUpdates streams, one per user,
// through the real load type (runWorkspaceUpdates: users, tokens, tailnet dial, yamux, drpc, protobuf),
// against the simulator in a child process (its CPU is not counted). Reported per stream: setup CPU (user,
// token, dial), idle-hold CPU while every stream is open, RSS growth with all streams open, and the
// create-and-observe phase's CPU and update latency.
//   node --import tsx bench/workspace-updates.ts [--users 1000] [--hold-s 20] [--daemons 16]
import { Command } from "commander";
import { CoderClient } from "../src/coder/index.ts";
import { formatMs } from "../src/results/stats.ts";
import { runWorkspaceUpdates } from "../src/workspace-updates/index.ts";
import { startSimChild } from "./lib/sim-child.ts";

const o = new Command()
  .option("--users <n>", "users, each holding one stream (regular users: one workspace each)", (v) => Number(v), 1000)
  .option("--hold-s <n>", "seconds every stream is held open and idle before workspaces are created", (v) => Number(v), 20)
  .option("--daemons <n>", "simulated provisioner daemons", (v) => Number(v), 16)
  .parse()
  .opts<{ users: number; holdS: number; daemons: number }>();

const { proc: sim, env } = await startSimChild(["--daemons", String(o.daemons), "--build-ms", "0", "--agent-connect-ms", "0", "--no-preexisting"]);
const client = new CoderClient({ url: env.CODER_URL, token: env.CODER_SESSION_TOKEN, concurrency: 32 });

const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const rssMiB = (): number => process.memoryUsage().rss / 1024 / 1024;

global.gc?.();
const base = { cpu: cpuMs(), rss: rssMiB(), t: performance.now() };
const marks: { barrier?: { cpu: number; rss: number; t: number }; held?: { cpu: number; rss: number; t: number } } = {};
const r = await runWorkspaceUpdates(
  client,
  {
    runId: "wubench",
    workspaceCount: o.users,
    powerUserWorkspaces: 2,
    powerUserPercentage: 0,
    template: "kubernetes-minimal",
    updatesTimeoutMs: 600_000,
    dialTimeoutMs: 120_000,
    cleanup: { concurrency: 50, timeoutMs: 0, jobTimeoutMs: 600_000 },
  },
  {
    log: (level, msg) => {
      if (level !== "debug") console.error(`[${level}] ${msg}`);
    },
    onBarrier: async () => {
      marks.barrier = { cpu: cpuMs(), rss: rssMiB(), t: performance.now() };
      await new Promise((res) => setTimeout(res, o.holdS * 1000));
      marks.held = { cpu: cpuMs(), rss: rssMiB(), t: performance.now() };
    },
  },
);
const end = { cpu: cpuMs(), t: performance.now() };
const b = marks.barrier!;
const h = marks.held!;
const n = o.users;
const open = r.units.filter((u) => u.dial_ms !== null).length;
const all = r.latency[0]!.summary;
const dials = r.units.map((u) => u.dial_ms).filter((x): x is number => x !== null).sort((x, y) => x - y);
const pct = (p: number): number => dials[Math.min(dials.length - 1, Math.floor((dials.length - 1) * p))] ?? 0;
// Cleanup happens inside runWorkspaceUpdates after the updates phase; its CPU is in the last figure.
console.log(`workspace-updates benchmark: ${n} users, one stream each, ${o.holdS} s idle hold, ${o.daemons} daemons, instant builds`);
console.log(`  streams open at the barrier: ${open}/${n} after ${formatMs(b.t - base.t)} (dial p50 ${formatMs(pct(0.5))}, p99 ${formatMs(pct(0.99))})`);
console.log(`  setup CPU (user + token + dial): ${(b.cpu - base.cpu).toFixed(0)} ms, ${((b.cpu - base.cpu) / n).toFixed(2)} ms per stream`);
console.log(`  idle hold: ${(h.cpu - b.cpu).toFixed(0)} ms CPU over ${((h.t - b.t) / 1000).toFixed(1)} s = ${(((h.cpu - b.cpu) / n / ((h.t - b.t) / 1000)) * 1000).toFixed(2)} µs per stream-second`);
console.log(`  RSS: ${base.rss.toFixed(0)} MiB before, ${h.rss.toFixed(0)} MiB with all streams open = ${(((h.rss - base.rss) * 1024) / n).toFixed(1)} KiB per stream (incl. each user's API client)`);
console.log(`  create + observe + cleanup: ${(end.cpu - h.cpu).toFixed(0)} ms CPU (${((end.cpu - h.cpu) / n).toFixed(2)} ms per stream) in ${formatMs(end.t - h.t)}`);
console.log(`  update latency: n=${all.count} p50 ${formatMs(all.p50)} p95 ${formatMs(all.p95)} p99 ${formatMs(all.p99)} max ${formatMs(all.max)}`);
console.log(`  users passed ${r.pass}/${r.units.length}; errors ${JSON.stringify(r.errors_by_action)}; peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
await client.close();
sim.kill("SIGTERM");
await sim;
process.exit(r.exit_code);
