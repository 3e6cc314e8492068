/**
 * The benchmark's workload and the shapes the harness passes around. Every tool drives the same thing:
 * N websocket connections to the loopback echo server, each sending one `bytesPerTick` message every
 * `intervalMs` (printable random bytes ending in "\n", as the product's PTY traffic), connections starting
 * evenly over `rampMs`, for `durationMs` in all (ramp included).
 */

/** Echo-server byte counters are bucketed this finely (ms). */
export const BUCKET_MS = 100;

export type ToolName = "ours" | "raw-ws" | "artillery";
export const ALL_TOOLS: readonly ToolName[] = ["ours", "raw-ws", "artillery"];

export interface Workload {
  conns: number;
  bytesPerTick: number;
  intervalMs: number;
  durationMs: number;
  rampMs: number;
}

/** What the echo server saw since its last reset (bench/echo-server.ts). */
export interface EchoReport {
  /** epoch ms of the reset; bucket i covers [startedAt + i*100, startedAt + (i+1)*100) */
  startedAt: number;
  expect: number;
  bytesIn: number;
  messagesIn: number;
  bucketsIn: number[];
  /** epoch ms of every connection open / close since the reset, in order */
  opens: number[];
  closes: number[];
  /** closes with a code other than 1000/1001/1005 (no status) */
  abnormalCloses: number;
  maxOpen: number;
  cpuMs: number;
}

export interface LagSummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** What a load client reports about itself (its own view of lag and errors). */
export interface ClientReport {
  tool: ToolName;
  ticksSent: number;
  ticksCompleted: number;
  errors: number;
  errorSamples: string[];
  /** ms from each tick's intended send time to its echo's arrival */
  lag: LagSummary;
  /** How the lag was measured, when it differs from "fixed timetable" (Artillery). */
  lagNote?: string;
  /**
   * The same lag by the second it was measured in (encoded 2-digit HDR histograms; hists[k] covers
   * [startMs + k * 1000, startMs + (k + 1) * 1000), epoch ms), so the harness can take the ticks of the
   * steady window alone. Absent for a tool that cannot say (Artillery: only whole-run summaries).
   */
  lagSeconds?: { startMs: number; hists: string[] };
  /** Garbage collections over the whole run (Node tools: bench/lib/gc-stats.ts) */
  gc?: { minor: number; major: number; pauseMs: number };
  /** process.memoryUsage() mid-run, MB (Node tools: bench/lib/gc-stats.ts) */
  memory?: { rssMB: number; heapUsedMB: number; heapTotalMB: number; externalMB: number; arrayBuffersMB: number };
}

/** One tool at one N, as the table and the JSON show it. */
export interface StepResult {
  tool: ToolName;
  conns: number;
  ok: boolean;
  /** why the step does not "hold" (empty when ok) */
  failures: string[];
  targetBytesPerSec: number;
  achievedBytesPerSec: number;
  throughputRatio: number;
  /** the steady traffic window the throughput and CPU figures cover */
  windowS: number;
  /**
   * Tick lag of the ticks measured inside the steady window (the window throughput and CPU cover), or of the
   * whole run when the tool gives no per-second record (`lagScope`). The dial storm of the ramp is not in the
   * steady window: it shows in the whole run's figures (runLag*).
   */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
  lagScope: "steady" | "run";
  /** Tick lag over the whole run: ramp (ticks of the first connections while the rest dial), steady and drain. */
  runLagP50Ms: number;
  runLagP99Ms: number;
  runLagMaxMs: number;
  lagNote?: string;
  cpuS: number;
  /** CPU ms (user+sys of the load process tree) per connection-minute of traffic */
  cpuMsPerConnMin: number;
  /** CPU ms per MiB the echo server received in the window (cost per work done, fair under starvation) */
  cpuMsPerMiB?: number;
  /** connection-seconds of traffic per CPU-second */
  connsPerCpuS: number;
  peakRssMB: number;
  idleRssMB: number;
  /** (peak RSS - RSS before the first connection) per connection */
  rssKBPerConn: number;
  /** when the peak RSS was reached: during the dials, the steady window, or the drain and closes ("end") */
  peakRssPhase?: "dials" | "steady" | "end" | "unknown";
  /** (RSS mid-window - RSS before the first connection) per connection: the steady footprint */
  steadyRssKBPerConn?: number;
  errors: number;
  errorSamples: string[];
  echoServerCpuS: number;
  wallS: number;
  /** the tool's garbage collections over its whole run (Node tools) */
  gc?: { minor: number; major: number; pauseMs: number };
  /** the tool's own memory breakdown mid-run (Node tools) */
  memory?: ClientReport["memory"];
  /** 1-minute load average of the machine when the step started and ended (others' load shows here) */
  loadavg1m?: [number, number];
}

/** A step "holds" when p99 tick lag (steady window) < 10 ms, throughput >= 99 % of target, and nothing failed. */
export const HOLD_P99_MS = 10;
export const HOLD_THROUGHPUT = 0.99;

/** Argument parsing shared by the client processes: --name value. */
export function argOf(argv: readonly string[], name: string, def?: string): string {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? argv[i + 1] : undefined;
  if (v !== undefined) return v;
  if (def !== undefined) return def;
  throw new Error(`missing --${name}`);
}

export function workloadArgs(w: Workload): string[] {
  return [
    "--conns",
    String(w.conns),
    "--bytes",
    String(w.bytesPerTick),
    "--interval",
    String(w.intervalMs),
    "--duration",
    String(w.durationMs),
    "--ramp",
    String(w.rampMs),
  ];
}

export function parseWorkload(argv: readonly string[]): Workload {
  return {
    conns: Number(argOf(argv, "conns")),
    bytesPerTick: Number(argOf(argv, "bytes", "4096")),
    intervalMs: Number(argOf(argv, "interval", "100")),
    durationMs: Number(argOf(argv, "duration", "10000")),
    rampMs: Number(argOf(argv, "ramp", "1000")),
  };
}

/** Client processes print their report as one line with this prefix on stdout. */
export const REPORT_PREFIX = "BENCH_CLIENT_REPORT ";
