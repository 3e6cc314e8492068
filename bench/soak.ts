#!/usr/bin/env -S npx tsx
// `npm run soak`: traffic (ssh, web-terminal, app) and dashboard scenarios for 2 minutes each, at once,
// from one pipeline child process against a simulated deployment, sampling the runner's RSS and open
// file descriptors every 5 s. Prints the RSS slope (least squares, MB/min, after a 20 s warm-up) and the
// fd delta between the start and the end of the load. Flat memory: the second-half slope well under 1 MB/min
// (the whole-window slope also counts V8 growing its heap towards its first major GC).
//   npm run soak [-- --minutes 2 --workspaces 20]
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startSim } from "../sim/index.ts";
import { fdCount, rssBytes, runPhases, simEnv, startScript, tempResults } from "../test/helpers/reliability.ts";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "2" }, workspaces: { type: "string", default: "20" } } });
const minutes = Number(values.minutes);
const workspaces = Number(values.workspaces);
if (!(minutes > 0 && minutes <= 60) || !(Number.isInteger(workspaces) && workspaces > 0 && workspaces <= 500)) {
  process.stderr.write("soak: --minutes must be within (0, 60] and --workspaces a whole number within 1..500\n");
  process.exit(2);
}

const sim = await startSim({ seed: 5, buildDuration: 50, agentConnectDelayMs: 20, agentReadyDelayMs: 10 });
const tmp = tempResults("soak");
const runId = "soak";
const runDir = join(tmp.dir, runId);
const loadPhases = ["ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic"];
const run = startScript(
  "scripts/run.ts",
  [
    "--run-id", runId, "--results-dir", tmp.dir, "--workspaces", String(workspaces), "--create-concurrency", "10",
    "--scenarios", "ssh,web-terminal,app,dashboard", "--concurrent", "--stagger-delay", "0s", "--percentage", "25",
    "--duration", `${Math.round(minutes * 60)}s`, "--bytes-per-tick", "1024", "--tick-interval", "100ms",
    "--baseline-wait", "0s", "--dashboard-concurrency", "4", "--cleanup-strategy", "always", "--metrics-address", "127.0.0.1:0",
  ],
  simEnv(sim),
  (minutes * 60 + 120) * 1000,
);
const pid = run.child.pid as number;
const samples: { t: number; rssMb: number; fds: number }[] = [];
let t0: number | null = null;
let running = true;
void run.done.then(() => (running = false));
process.stderr.write(`soak: ${workspaces} workspaces, 4 scenarios at once for ${minutes} min; sampling pid ${pid} every 5 s\n`);
while (running) {
  const loadOn = runPhases(runDir).some((p) => loadPhases.includes(p.name) && p.status === "running");
  if (loadOn) {
    t0 ??= Date.now();
    try {
      const s = { t: (Date.now() - t0) / 1000, rssMb: rssBytes(pid) / 2 ** 20, fds: fdCount(pid) };
      samples.push(s);
      process.stderr.write(`soak: t=${s.t.toFixed(0)}s rss=${s.rssMb.toFixed(1)} MB fds=${s.fds}\n`);
    } catch {
      // exiting
    }
  }
  await new Promise((r) => setTimeout(r, loadOn ? 5000 : 200));
}
const result = await run.done;
await sim.stop();
tmp.remove();

/** Least-squares RSS slope in MB/min over the samples (NaN with fewer than 3). */
function slopeOf(xs: readonly { t: number; rssMb: number }[]): number {
  const n = xs.length;
  if (n < 3) return NaN;
  const mx = xs.reduce((a, s) => a + s.t, 0) / n;
  const my = xs.reduce((a, s) => a + s.rssMb, 0) / n;
  const sxy = xs.reduce((a, s) => a + (s.t - mx) * (s.rssMb - my), 0);
  const sxx = xs.reduce((a, s) => a + (s.t - mx) ** 2, 0);
  return (sxy / sxx) * 60;
}
const warm = samples.filter((s) => s.t >= 20);
const slope = slopeOf(warm);
// V8 grows its heap until a major GC settles it, so the whole-window slope over-reads a short soak; the
// second half shows whether memory keeps climbing once the load is steady.
const lateSlope = slopeOf(warm.slice(Math.floor(warm.length / 2)));
const first = samples[0];
const last = samples.at(-1);
const report = {
  exit_code: result.code,
  samples: samples.length,
  rss_start_mb: first ? Number(first.rssMb.toFixed(1)) : null,
  rss_end_mb: last ? Number(last.rssMb.toFixed(1)) : null,
  rss_max_mb: samples.length ? Number(Math.max(...samples.map((s) => s.rssMb)).toFixed(1)) : null,
  rss_slope_mb_per_min: Number.isNaN(slope) ? null : Number(slope.toFixed(2)),
  rss_slope_second_half_mb_per_min: Number.isNaN(lateSlope) ? null : Number(lateSlope.toFixed(2)),
  fds_start: first?.fds ?? null,
  fds_end: last?.fds ?? null,
  fd_delta: first && last ? last.fds - first.fds : null,
};
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
process.exit(result.code === 0 ? 0 : 1);
