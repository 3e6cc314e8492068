/** The benchmark's printed table and JSON document. */
import { cpus, loadavg, totalmem, type as osType, release } from "node:os";
import type { PinPlan } from "./pin.ts";
import type { StepResult, ToolName, Workload } from "./workload.ts";

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  node: string;
  os: string;
  memGB: number;
  loadavg1mAtStart: number;
}

export function machineInfo(): MachineInfo {
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    node: process.version,
    os: `${osType()} ${release()}`,
    memGB: Math.round(totalmem() / 2 ** 30),
    loadavg1mAtStart: Math.round(loadavg()[0]! * 100) / 100,
  };
}

export interface ToolInfo {
  available: boolean;
  version?: string;
  note?: string;
}

export interface BenchDocument {
  kind: "traffic-bench";
  createdAt: string;
  machine: MachineInfo;
  loadavg1mAtEnd: number;
  /** Which CPUs the tools, the echo server and the harness ran on (taskset), as applied */
  pinning: PinPlan & { applied?: { harness: string; echoServer: string } };
  workload: Omit<Workload, "conns"> & { steps: number[] };
  criteria: { p99LagMsBelow: number; throughputAtLeast: number; errors: 0 };
  tools: Partial<Record<ToolName, ToolInfo>>;
  steps: StepResult[];
  /** Largest N each tool held (0: none of the steps). */
  largestHeld: Partial<Record<ToolName, number>>;
  /** Per N: each tool's figure divided by ours (CPU per connection-minute, RSS per connection). */
  ratiosToOurs: Array<{ conns: number; tool: ToolName; cpuPerConnMin: number | null; rssPerConn: number | null }>;
  /** Per N: ours divided by each peer (CPU per connection-minute, RSS per connection, p99 tick lag). */
  oursOverPeers?: OursOverPeer[];
  sshCost?: unknown;
  createWorkspaces?: unknown;
  requestGap?: unknown;
  profile?: unknown;
}

export function largestHeld(steps: readonly StepResult[], tools: readonly ToolName[]): Partial<Record<ToolName, number>> {
  const out: Partial<Record<ToolName, number>> = {};
  for (const t of tools) {
    out[t] = Math.max(0, ...steps.filter((s) => s.tool === t && s.ok).map((s) => s.conns));
  }
  return out;
}

export function ratiosToOurs(steps: readonly StepResult[]): BenchDocument["ratiosToOurs"] {
  const out: BenchDocument["ratiosToOurs"] = [];
  for (const s of steps) {
    if (s.tool === "ours") continue;
    const o = steps.find((x) => x.tool === "ours" && x.conns === s.conns);
    const r = (a: number, b: number | undefined): number | null =>
      b && b > 0 && a > 0 ? Math.round((a / b) * 100) / 100 : null;
    out.push({
      conns: s.conns,
      tool: s.tool,
      cpuPerConnMin: r(s.cpuMsPerConnMin, o?.cpuMsPerConnMin),
      rssPerConn: r(s.rssKBPerConn, o?.rssKBPerConn),
    });
  }
  return out;
}

export interface OursOverPeer {
  conns: number;
  tool: ToolName;
  cpu: number | null;
  cpuPerMiB: number | null;
  rss: number | null;
  /** p99 over the steady window (lagP99Ms) and over the whole run, ramp included */
  p99: number | null;
  p99Run: number | null;
}

/** ours / peer at each N both ran: below 1 means ours is cheaper (or lags less). */
export function oursOverPeers(steps: readonly StepResult[]): OursOverPeer[] {
  const r = (a: number | undefined, b: number): number | null =>
    a !== undefined && a > 0 && b > 0 ? Math.round((a / b) * 100) / 100 : null;
  const out: OursOverPeer[] = [];
  for (const s of steps) {
    if (s.tool === "ours") continue;
    const o = steps.find((x) => x.tool === "ours" && x.conns === s.conns);
    if (!o) continue;
    out.push({ conns: s.conns, tool: s.tool, cpu: r(o.cpuMsPerConnMin, s.cpuMsPerConnMin), cpuPerMiB: r(o.cpuMsPerMiB, s.cpuMsPerMiB ?? 0), rss: r(o.rssKBPerConn, s.rssKBPerConn), p99: r(o.lagP99Ms, s.lagP99Ms), p99Run: r(o.runLagP99Ms, s.runLagP99Ms) });
  }
  return out;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export function formatTable(steps: readonly StepResult[]): string {
  const head = [
    ["tool", 10],
    ["N", 6],
    ["MiB/s", 7],
    ["thru %", 7],
    ["p50 ms", 8],
    ["p99 ms", 8],
    ["max ms", 8],
    ["run p99", 8],
    ["cpu ms/conn-min", 16],
    ["x ours", 7],
    ["cpu ms/MiB", 11],
    ["RSS KB/conn", 12],
    ["x ours", 7],
    ["peak MB", 8],
    ["errors", 7],
    ["load", 10],
    ["holds", 6],
  ] as const;
  const lines = [head.map(([h, n], i) => pad(h, n, i > 0)).join(" ")];
  for (const s of steps) {
    const o = steps.find((x) => x.tool === "ours" && x.conns === s.conns);
    const ratio = (a: number, b: number | undefined): string =>
      s.tool === "ours" ? "1.00" : b && b > 0 && a > 0 ? (a / b).toFixed(2) : "-";
    const cells = [
      s.tool,
      String(s.conns),
      (s.achievedBytesPerSec / 2 ** 20).toFixed(2),
      (s.throughputRatio * 100).toFixed(1),
      s.lagP50Ms.toFixed(2) + (s.lagScope === "run" ? "*" : ""),
      s.lagP99Ms.toFixed(2),
      s.lagMaxMs.toFixed(1),
      s.runLagP99Ms.toFixed(1),
      s.cpuMsPerConnMin.toFixed(1),
      ratio(s.cpuMsPerConnMin, o?.cpuMsPerConnMin),
      (s.cpuMsPerMiB ?? 0).toFixed(1),
      s.rssKBPerConn.toFixed(1),
      ratio(s.rssKBPerConn, o?.rssKBPerConn),
      s.peakRssMB.toFixed(0),
      String(s.errors),
      s.loadavg1m ? `${s.loadavg1m[0].toFixed(1)}-${s.loadavg1m[1].toFixed(1)}` : "-",
      s.ok ? "yes" : "NO",
    ];
    lines.push(cells.map((c, i) => pad(c, head[i]![1], i > 0)).join(" "));
  }
  return lines.join("\n");
}
