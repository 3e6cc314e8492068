/**
 * The CI regression guard's measurement (test/bench-guard.test.ts; recorded by bench/guard.ts): our engine
 * and the raw-`ws` floor on the same small workload in the same run, alternating, and the ratio of their
 * CPU per full-rate connection-minute. A ratio, never an absolute time, so a slower or busier CI machine
 * moves both sides alike.
 *
 * "Full-rate": CPU per connection-minute divided by the throughput ratio, so a tool that falls behind (and
 * therefore does less work) is not rewarded for it.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { EchoServer } from "./echo.ts";
import { runStep } from "./step.ts";
import type { StepResult, Workload } from "./workload.ts";

export const BASELINE_FILE = fileURLToPath(new URL("../results/baseline.json", import.meta.url));

export interface GuardBaseline {
  kind: "traffic-bench-guard-baseline";
  recordedAt: string;
  machine: { cores: number; node: string };
  workload: Workload;
  /** ours / raw-ws CPU per full-rate connection-minute, median of the recorded rounds */
  oursOverRawCpu: number;
  rounds: number[];
  /** the guard fails when the measured ratio exceeds oursOverRawCpu x this */
  allowedFactor: number;
  note: string;
}

export const GUARD_WORKLOAD: Workload = { conns: 200, bytesPerTick: 4096, intervalMs: 100, durationMs: 4000, rampMs: 500 };

export function fullRateCpu(s: StepResult): number {
  return s.throughputRatio > 0 ? s.cpuMsPerConnMin / s.throughputRatio : Infinity;
}

export interface GuardRound {
  ours: StepResult;
  raw: StepResult;
  ratio: number;
}

/** One round: raw-ws then ours (the order alternates between rounds to cancel drift in machine load). */
export async function guardRound(echo: EchoServer, workDir: string, oursFirst: boolean, w = GUARD_WORKLOAD): Promise<GuardRound> {
  let ours: StepResult;
  let raw: StepResult;
  if (oursFirst) {
    ours = await runStep("ours", w, echo, { workDir });
    raw = await runStep("raw-ws", w, echo, { workDir });
  } else {
    raw = await runStep("raw-ws", w, echo, { workDir });
    ours = await runStep("ours", w, echo, { workDir });
  }
  return { ours, raw, ratio: fullRateCpu(ours) / fullRateCpu(raw) };
}

export function readBaseline(): GuardBaseline {
  return JSON.parse(readFileSync(BASELINE_FILE, "utf8")) as GuardBaseline;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
