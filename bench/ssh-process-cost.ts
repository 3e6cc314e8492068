/**
 * What one SSH connection of ssh-traffic costs the runner: each is a `coder ssh --stdio` child process (the CLI
 * dials the agent over Coder's tailnet) plus our side (the ssh2 client and the traffic engine in this process).
 * Runs ssh-traffic through the product's own code path (runTrafficScenario) and samples /proc while it runs:
 * the CLI processes' CPU and RSS (every descendant of this process), and this process's own CPU and RSS growth.
 *
 *   # against a real deployment, with the installed coder CLI, on an existing run's workspaces:
 *   CODER_URL=https://coder.example.com CODER_SESSION_TOKEN=... \
 *     node --import tsx bench/ssh-process-cost.ts --run-id <id> [--coder-binary coder] [--connections 20] [--duration 30]
 *   # without CODER_URL: the simulator in a child process and the repository's stand-in CLI (test/fake-coder),
 *   # which measures our own side (the stand-in is a bash relay, far lighter than the real CLI):
 *     node --import tsx bench/ssh-process-cost.ts [--connections 20] [--duration 10]
 *
 * Prints one table row per run; figures per connection. Sizing: runner CPU cores >= connections x (CLI CPU % +
 * our CPU %) / 100 with headroom, memory >= connections x (CLI RSS + our RSS) + ~200 MiB; above what one pod
 * holds, split with --runners (README "Scale out").
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CoderClient } from "../src/coder/index.ts";
import { loadConfig } from "../src/config/index.ts";
import { createWorkspaces } from "../src/create/index.ts";
import { runTrafficScenario } from "../src/traffic/scenario.ts";
import { argOf } from "./lib/workload.ts";
import { startSimChild, type SimChild } from "./lib/sim-child.ts";

const CLK_TCK = 100;
const argv = process.argv.slice(2);
const connections = Number(argOf(argv, "connections", "20"));
const durationS = Number(argOf(argv, "duration", "10"));
const bytesPerTick = Number(argOf(argv, "bytes-per-tick", "1024"));
const tickMs = Number(argOf(argv, "tick-ms", "100"));
if (!(Number.isInteger(connections) && connections >= 1)) throw new Error(`--connections must be a whole number >= 1 (got ${argOf(argv, "connections")})`);
if (!(durationS >= 1)) throw new Error(`--duration must be >= 1 second (got ${argOf(argv, "duration")})`);

const real = Boolean(process.env["CODER_URL"]);
const standIn = fileURLToPath(new URL("../test/fake-coder/coder", import.meta.url));
const coderBinary = argOf(argv, "coder-binary", real ? "coder" : standIn);
let runId = argOf(argv, "run-id", real ? "" : "sshcost");
if (real && !runId) throw new Error("--run-id <id> is required against a real deployment: the run whose workspaces to connect to");

/** CPU ticks and RSS of every descendant of `root` (not root itself, nor `exclude`'s tree: the simulator), from /proc. */
function descendants(root: number, exclude?: number): { count: number; cpuS: number; rssBytes: number } {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const s = readFileSync(`/proc/${pid}/stat`, "utf8");
      const rest = s.slice(s.lastIndexOf(")") + 2).split(" ");
      parent.set(pid, Number(rest[1]));
      ticks.set(pid, Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]));
    } catch {
      // gone
    }
  }
  const isDesc = (pid: number): boolean => {
    if (pid === exclude) return false;
    for (let p = parent.get(pid), hops = 0; p !== undefined && hops < 64; p = parent.get(p), hops++) {
      if (p === exclude) return false;
      if (p === root) return true;
    }
    return false;
  };
  let count = 0;
  let t = 0;
  let rss = 0;
  for (const pid of parent.keys()) {
    if (!isDesc(pid)) continue;
    count++;
    t += ticks.get(pid) ?? 0;
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      rss += m ? Number(m[1]) * 1024 : 0;
    } catch {
      // gone
    }
  }
  return { count, cpuS: t / CLK_TCK, rssBytes: rss };
}

let sim: SimChild | undefined;
let env: Record<string, string> = { CODER_URL: process.env["CODER_URL"] ?? "", CODER_SESSION_TOKEN: process.env["CODER_SESSION_TOKEN"] ?? "" };
try {
  if (!real) {
    sim = await startSimChild(["--build-ms", "0", "--agent-connect-ms", "0", "--daemons", "16"]);
    env = { ...sim.env };
  }
  const client = new CoderClient({ url: env["CODER_URL"]!, token: env["CODER_SESSION_TOKEN"]!, concurrency: 16 });
  if (!real) {
    runId = `ssh${Date.now().toString(36).slice(-5)}`;
    const made = await createWorkspaces(client, {
      runId, count: connections, template: "kubernetes-minimal", concurrency: 16, timeoutMs: 120_000, jobTimeoutMs: 60_000, retry: 0, noCleanup: true, useHostLogin: true,
    }, { progress: false });
    if (made.pass !== connections) throw new Error(`setup: ${made.pass}/${connections} workspaces ready`);
  }
  const config = loadConfig("ssh-traffic", [
    "--run-id", runId, "--duration", `${durationS}s`, "--bytes-per-tick", String(bytesPerTick), "--tick-interval", `${tickMs}ms`,
    "--coder-binary", coderBinary, "--target-workspaces", `0:${connections}`,
  ], { env: { ...env }, envFile: false }).config;

  // Sample while the traffic runs: the CLI processes (descendants) and our own process.
  const rss0 = process.memoryUsage().rss;
  const cpu0 = process.cpuUsage();
  const cli0 = descendants(process.pid, sim?.proc.pid);
  let peak = { count: 0, rssBytes: 0 };
  let ourPeakRss = rss0;
  const timer = setInterval(() => {
    const d = descendants(process.pid, sim?.proc.pid);
    if (d.count >= peak.count) peak = { count: d.count, rssBytes: Math.max(peak.rssBytes, d.rssBytes) };
    ourPeakRss = Math.max(ourPeakRss, process.memoryUsage().rss);
  }, 500);
  const t0 = performance.now();
  const r = await runTrafficScenario(client, config, "ssh", { metrics: null });
  const wallS = (performance.now() - t0) / 1000;
  clearInterval(timer);
  const cli1 = descendants(process.pid, sim?.proc.pid);
  const cpu = process.cpuUsage(cpu0);
  const ourCpuS = (cpu.user + cpu.system) / 1e6;
  // The CLIs have exited by now; their CPU is what the kernel charged to this process's children (cutime/cstime).
  const self = readFileSync(`/proc/${process.pid}/stat`, "utf8");
  const rest = self.slice(self.lastIndexOf(")") + 2).split(" ");
  const childrenCpuS = (Number(rest[13]) + Number(rest[14])) / CLK_TCK;
  const n = r.perConnection.length;
  const ok = r.perConnection.filter((c) => c.status === "ok").length;
  const row = {
    cli: real ? `${coderBinary} (real)` : "stand-in (test/fake-coder)",
    connections: n,
    ok,
    duration_s: durationS,
    wall_s: Number(wallS.toFixed(1)),
    cli_processes_peak: peak.count,
    cli_rss_mib_per_conn: Number((peak.rssBytes / Math.max(1, n) / 2 ** 20).toFixed(1)),
    cli_cpu_pct_per_conn: Number(((100 * (childrenCpuS + cli1.cpuS - cli0.cpuS)) / wallS / Math.max(1, n)).toFixed(2)),
    our_cpu_pct_per_conn: Number(((100 * ourCpuS) / wallS / Math.max(1, n)).toFixed(2)),
    our_rss_kib_per_conn: Math.round((ourPeakRss - rss0) / 1024 / Math.max(1, n)),
    bytes_written: r.totals.bytesWritten,
  };
  console.log(JSON.stringify(row));
  console.log(
    `| ${row.cli} | ${row.connections} (${row.ok} ok) | ${row.duration_s} s | ${row.cli_cpu_pct_per_conn} % | ${row.cli_rss_mib_per_conn} MiB | ` +
      `${row.our_cpu_pct_per_conn} % | ${row.our_rss_kib_per_conn} KiB |`,
  );
  await client.close();
} finally {
  if (sim) {
    sim.proc.kill("SIGTERM");
    await sim.proc.catch(() => undefined);
  }
}
