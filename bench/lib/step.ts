/**
 * One benchmark step: one tool, N connections, one child process, measured from outside.
 *
 * The echo server is reset, the tool's process is started and sampled (/proc) until it exits, then the
 * steady traffic window is taken from the echo server's own record: from 0.5 s after the last of the N
 * connections opened to 0.5 s before 1 % of them (at least one) had closed. Throughput (bytes the echo
 * server received) and CPU (interpolated between samples) cover that window only, so tool start-up
 * (Artillery's CLI loads for seconds), ramp and shutdown are left out for every tool alike.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { loadavg } from "node:os";
import { launchArtillery } from "./artillery.ts";
import type { EchoServer } from "./echo.ts";
import { onToolCpus, type PinPlan } from "./pin.ts";
import { ProcSampler } from "./procstat.ts";
import { LatencyHistogram } from "../../src/traffic/histogram.ts";
import {
  BUCKET_MS,
  HOLD_P99_MS,
  HOLD_THROUGHPUT,
  REPORT_PREFIX,
  workloadArgs,
  type ClientReport,
  type EchoReport,
  type LagSummary,
  type StepResult,
  type ToolName,
  type Workload,
} from "./workload.ts";

/** Repo root: children resolve `--import tsx` from here, wherever the harness was started. */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const CLIENTS: Record<Exclude<ToolName, "artillery">, string> = {
  ours: fileURLToPath(new URL("../clients/ours.ts", import.meta.url)),
  "raw-ws": fileURLToPath(new URL("../clients/raw-ws.ts", import.meta.url)),
};

export interface StepOptions {
  /** Where Artillery's scripts/reports (and CPU profiles) go. */
  workDir: string;
  /** Extra node flags for a Node tool's process at this step (e.g. --cpu-prof). */
  nodeFlags?: (tool: "ours" | "raw-ws", conns: number) => string[];
  /** Where the tool's process runs (bench/lib/pin.ts); unpinned when absent. */
  pin?: PinPlan;
}

interface Launched {
  child: ChildProcess;
  collect(exitCode: number | null): ClientReport;
}

function launchNodeClient(tool: "ours" | "raw-ws", w: Workload, url: string, flags: string[], pin?: PinPlan): Launched {
  const args = [...flags, "--import", "tsx", CLIENTS[tool], "--url", url, ...workloadArgs(w)];
  const c = pin ? onToolCpus(pin, process.execPath, args) : { cmd: process.execPath, args };
  const child = spawn(c.cmd, c.args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  return {
    child,
    collect(exitCode) {
      const line = out.split("\n").find((l) => l.startsWith(REPORT_PREFIX));
      if (line) return JSON.parse(line.slice(REPORT_PREFIX.length)) as ClientReport;
      return {
        tool,
        ticksSent: 0,
        ticksCompleted: 0,
        errors: 1,
        errorSamples: [`${tool} exited with ${exitCode} without a report: ${err.trim().slice(-500)}`],
        lag: { count: 0, p50: 0, p99: 0, max: 0 },
      };
    },
  };
}

export interface Window {
  start: number;
  end: number;
}

/**
 * The steady window (epoch ms) from the echo server's open/close record, or undefined when there is none.
 * It ends at the first close, and at the latest when the first connection's own `durationMs` is up: ours
 * runs each connection for the duration from its own start (Coder's semantics), so with a ramp the first
 * connections stop sending while the last still run, before anyone closes; the floor stops all at once at
 * its start + duration, which is earlier still. Counting past that would charge the ramp to throughput.
 */
export function steadyWindow(r: EchoReport, expect: number, bucketsEnd: number, durationMs = Infinity): Window | undefined {
  if (r.opens.length === 0) return undefined;
  const opens = [...r.opens].sort((a, b) => a - b);
  const closes = [...r.closes].sort((a, b) => a - b);
  const allOpen = opens[Math.min(expect, opens.length) - 1]!;
  const k = Math.max(1, Math.ceil(expect * 0.01));
  const cutoff = Math.min(closes[k - 1] ?? bucketsEnd, opens[0]! + durationMs);
  const start = allOpen + 500;
  const end = cutoff - 500;
  return end - start >= 1000 ? { start, end } : undefined;
}

/** Bytes/s the echo server received over whole buckets inside `win`. */
export function achievedRate(r: EchoReport, win: Window): { bytesPerSec: number; seconds: number } {
  const first = Math.ceil((win.start - r.startedAt) / BUCKET_MS);
  const last = Math.floor((win.end - r.startedAt) / BUCKET_MS); // exclusive
  let bytes = 0;
  for (let i = first; i < last; i++) bytes += r.bucketsIn[i] ?? 0;
  const seconds = ((last - first) * BUCKET_MS) / 1000;
  return { bytesPerSec: seconds > 0 ? bytes / seconds : 0, seconds };
}

/**
 * Lag of the ticks measured in the whole seconds inside `win` (the tool's per-second record), or undefined
 * when the tool has none or no whole second fits.
 */
export function steadyLag(r: ClientReport, win: Window | undefined): LagSummary | undefined {
  if (!win || !r.lagSeconds) return undefined;
  const { startMs, hists } = r.lagSeconds;
  const inside: string[] = [];
  for (let k = 0; k < hists.length; k++) {
    const from = startMs + k * 1000;
    if (from >= win.start && from + 1000 <= win.end) inside.push(hists[k]!);
  }
  if (inside.length === 0) return undefined;
  const s = LatencyHistogram.mergeEncoded(inside).percentiles();
  return s.count > 0 ? { count: s.count, p50: s.p50, p99: s.p99, max: s.max } : undefined;
}

export function judge(s: Omit<StepResult, "ok" | "failures">): string[] {
  const f: string[] = [];
  if (s.windowS <= 0) f.push("no steady window (connections never all open, or closed early)");
  if (s.lagP99Ms >= HOLD_P99_MS) f.push(`p99 tick lag (${s.lagScope === "steady" ? "steady window" : "whole run"}) ${s.lagP99Ms} ms >= ${HOLD_P99_MS} ms`);
  if (s.throughputRatio < HOLD_THROUGHPUT) f.push(`throughput ${(s.throughputRatio * 100).toFixed(1)} % < ${HOLD_THROUGHPUT * 100} %`);
  if (s.errors > 0) f.push(`${s.errors} errors`);
  return f;
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

export async function runStep(tool: ToolName, w: Workload, echo: EchoServer, o: StepOptions): Promise<StepResult> {
  await echo.reset(w.conns);
  const load0 = loadavg()[0]!;
  const t0 = Date.now();
  const launched: Launched =
    tool === "artillery"
      ? launchArtillery(w, echo.url, o.workDir, o.pin)
      : launchNodeClient(tool, w, echo.url, o.nodeFlags?.(tool, w.conns) ?? [], o.pin);
  const sampler = new ProcSampler(launched.child.pid!, 100);
  const limitMs = w.durationMs + 90_000;
  const exitCode = await new Promise<number | null>((resolve) => {
    const kill = setTimeout(() => launched.child.kill("SIGKILL"), limitMs);
    launched.child.once("exit", (code) => {
      clearTimeout(kill);
      resolve(code);
    });
  });
  sampler.stop();
  const wallS = (Date.now() - t0) / 1000;
  const er = await echo.report();
  const client = launched.collect(exitCode);

  const bucketsEnd = er.startedAt + er.bucketsIn.length * BUCKET_MS;
  const win = steadyWindow(er, w.conns, bucketsEnd, w.durationMs);
  const rate = win ? achievedRate(er, win) : { bytesPerSec: 0, seconds: 0 };
  const steady = steadyLag(client, win);
  const target = (w.conns * w.bytesPerTick * 1000) / w.intervalMs;
  const cpuS = win ? sampler.cpuAt(win.end) - sampler.cpuAt(win.start) : 0;
  const connMin = (w.conns * rate.seconds) / 60;
  const firstOpen = er.opens.length ? Math.min(...er.opens) : t0;
  const peak = sampler.peakRss();
  const idle = sampler.rssBefore(firstOpen);
  // When the peak was reached (VmHWM first at its final value): during the dials, the steady window, or the
  // drain and closes after it. Mid-window RSS is the steady-state footprint.
  const peakAtMs = sampler.samples.find((x) => Math.max(x.peakRssBytes, x.rssBytes) >= peak)?.at ?? 0;
  const peakPhase: NonNullable<StepResult["peakRssPhase"]> = !win ? "unknown" : peakAtMs < win.start ? "dials" : peakAtMs <= win.end ? "steady" : "end";
  const midRss = win ? sampler.rssBefore((win.start + win.end) / 2) : 0;
  const base = {
    tool,
    conns: w.conns,
    targetBytesPerSec: target,
    achievedBytesPerSec: Math.round(rate.bytesPerSec),
    throughputRatio: round(rate.bytesPerSec / target, 4),
    windowS: rate.seconds,
    lagP50Ms: (steady ?? client.lag).p50,
    lagP99Ms: (steady ?? client.lag).p99,
    lagMaxMs: (steady ?? client.lag).max,
    lagScope: steady ? ("steady" as const) : ("run" as const),
    runLagP50Ms: client.lag.p50,
    runLagP99Ms: client.lag.p99,
    runLagMaxMs: client.lag.max,
    ...(client.lagNote ? { lagNote: client.lagNote } : {}),
    cpuS: round(cpuS, 2),
    cpuMsPerConnMin: connMin > 0 ? round((cpuS * 1000) / connMin, 2) : 0,
    connsPerCpuS: cpuS > 0 ? round((w.conns * rate.seconds) / cpuS, 1) : 0,
    // Per byte actually moved: the fair cost when a starved tool moved less than the target (then CPU per
    // connection-minute only says how much CPU it was given).
    cpuMsPerMiB: rate.bytesPerSec > 0 ? round((cpuS * 1000) / ((rate.bytesPerSec * rate.seconds) / 2 ** 20), 2) : 0,
    peakRssMB: round(peak / 2 ** 20, 1),
    idleRssMB: round(idle / 2 ** 20, 1),
    rssKBPerConn: round((peak - idle) / 1024 / w.conns, 1),
    peakRssPhase: peakPhase,
    steadyRssKBPerConn: midRss ? round((midRss - idle) / 1024 / w.conns, 1) : 0,
    errors: client.errors + er.abnormalCloses,
    errorSamples: client.errorSamples,
    echoServerCpuS: round(er.cpuMs / 1000, 2),
    wallS: round(wallS, 1),
    ...(client.gc ? { gc: client.gc } : {}),
    ...(client.memory ? { memory: client.memory } : {}),
    loadavg1m: [round(load0, 2), round(loadavg()[0]!, 2)] as [number, number],
  };
  if (client.lag.count === 0) base.errorSamples = [...base.errorSamples, "no tick lag recorded"];
  const failures = judge(base);
  if (client.lag.count === 0) failures.push("no echoes measured");
  return { ...base, ok: failures.length === 0, failures };
}

export function defaultWorkDir(root: string): string {
  return join(root, "bench", "results", "work");
}
