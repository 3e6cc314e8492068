/**
 * The CI benchmark guard (test/bench-guard.test.ts; baseline recorded by bench/guard.ts): the product's own
 * websocket transport (bench/lib/product-app.ts: traffic engine + app kind + metrics) against the raw-`ws`
 * floor putting the same frames on the wire (bench/lib/floor.ts), in the same run, as the ratio of their CPU
 * per MiB echoed.
 *
 * How it stays quiet on a busy machine:
 *  - each side runs in its own long-lived worker process (bench/clients/guard-worker.ts), warmed up by one
 *    discarded phase, so no round pays process start-up, module loading or JIT warm-up;
 *  - CPU is the worker's own process.cpuUsage over the steady part of each phase only (after the ramp,
 *    before the drain), and the worker counts the bytes echoed back to it over exactly that window, so a
 *    side that falls behind (and does less work) is neither rewarded nor punished for it;
 *  - rounds alternate which side goes first, and the verdict is the median of the per-round ratios, so a
 *    burst of load from other processes moves one round, not the median;
 *  - a round whose window a busy machine made too thin to measure (late timers, connections not all open,
 *    under half the target bytes) is run again, a bounded number of times.
 * A ratio, never an absolute time: a slower or busier machine moves both sides alike.
 * (Tried and dropped: both sides at once, each with its own echo server, so both see the same load: at a
 * load average of ~20 their dials starved each other past the phase. Callgrind instruction counts: see
 * bench/README.md.)
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { EchoServer } from "./echo.ts";
import type { ClientReport, Workload } from "./workload.ts";

export const BASELINE_FILE = fileURLToPath(new URL("../results/guard-baseline.json", import.meta.url));
const WORKER = fileURLToPath(new URL("../clients/guard-worker.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The guard fails when the median ratio exceeds the recorded one by more than this factor (30 %). */
export const ALLOWED_REGRESSION = 1.3;

export type GuardSide = "product" | "floor";

/** 100 connections per side x 4 KiB every 100 ms (Coder's PTY rate), 4.5 s per phase of which ~3.3 s are measured. */
export const GUARD_WORKLOAD: Workload = { conns: 100, bytesPerTick: 4096, intervalMs: 100, durationMs: 4500, rampMs: 500 };
/** The measured part of a phase, in ms after it starts: after the ramp has settled, before the end. */
export const GUARD_WINDOW = { fromMs: 1000, toMs: 4300 };
export const GUARD_ROUNDS = 7;

export interface PhaseRequest {
  cmd: "run";
  workload: Workload;
  window: { fromMs: number; toMs: number };
}

export interface PhaseReport {
  side: GuardSide;
  client?: ClientReport;
  wallMs: number;
  /** CPU of the worker over `window` (absent when the phase ended before the window closed) */
  cpuMs?: number;
  /** bytes echoed back to the worker over the same window */
  echoedBytes?: number;
  /** connections open when the window began */
  openAtStart?: number;
  /** connections opened in the whole phase, and when the last one opened (ms after the phase started) */
  dials?: { opened: number; lastOpenMs: number };
  /** epoch ms */
  window?: { start: number; end: number };
  /** the phase threw */
  fatal?: string;
}

/** One side's figures for one phase. */
export interface SideResult {
  side: GuardSide;
  cpuMs: number;
  windowS: number;
  throughputRatio: number;
  cpuMsPerConnMin: number;
  /** CPU ms per MiB echoed back in the window: the figure the ratio is taken of */
  cpuMsPerMiB: number;
  /** connections open when the window began (all of them, or the round is too thin) */
  openAtStart: number;
  conns: number;
  errors: number;
  errorSamples: string[];
  ticksCompleted: number;
}

export interface GuardRound {
  product: SideResult;
  floor: SideResult;
  /** product.cpuMsPerMiB / floor.cpuMsPerMiB */
  ratio: number;
}

export interface GuardRun {
  /** both sides at once in each round (RunGuardOptions.together) */
  together: boolean;
  workload: Workload;
  window: { fromMs: number; toMs: number };
  rounds: GuardRound[];
  /** rounds that were run again because they were too thin to measure, and why */
  rerun: string[];
  /** median of the rounds' ratios */
  ratio: number;
  /** 1-minute load average before and after */
  load: [number, number];
  wallS: number;
}

export interface GuardBaseline {
  kind: "bench-guard-baseline";
  version: 2;
  recordedAt: string;
  machine: { cores: number; cpu: string; node: string; loadAvg1m: [number, number] };
  together: boolean;
  workload: Workload;
  window: { fromMs: number; toMs: number };
  /** median over `rounds` of product / floor CPU per MiB echoed */
  productOverFloorCpu: number;
  rounds: number[];
  /** the guard fails when its median ratio exceeds productOverFloorCpu x this */
  allowedRegression: number;
  how: string;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/** One warm worker process. */
export class GuardWorker {
  private constructor(
    readonly side: GuardSide,
    private readonly child: ChildProcess,
  ) {}

  static async start(side: GuardSide, echoUrl: string, injectUs = 0): Promise<GuardWorker> {
    const child = fork(WORKER, ["--side", side, "--url", echoUrl, "--inject-us", String(injectUs)], {
      cwd: ROOT,
      execArgv: ["--expose-gc", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`guard worker (${side}) exited with ${code} before it was ready`)));
    });
    return new GuardWorker(side, child);
  }

  run(workload: Workload, window = GUARD_WINDOW): Promise<PhaseReport> {
    return new Promise<PhaseReport>((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`guard worker (${this.side}) exited with ${code} during a phase`));
      this.child.once("exit", onExit);
      this.child.once("message", (m) => {
        this.child.off("exit", onExit);
        resolve(m as PhaseReport);
      });
      const req: PhaseRequest = { cmd: "run", workload, window };
      this.child.send(req);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.send({ cmd: "exit" });
    await exited;
  }
}

/** Runs one phase on `worker`; CPU, bytes and window all come from the worker's own count. */
export async function measurePhase(worker: GuardWorker, w: Workload, window = GUARD_WINDOW): Promise<SideResult> {
  const p = await worker.run(w, window);
  const errorSamples = [...(p.client?.errorSamples ?? [])];
  if (p.fatal) errorSamples.unshift(p.fatal);
  const win = p.window && p.cpuMs !== undefined ? p.window : undefined;
  const dials = p.dials ? `; ${p.dials.opened} of ${w.conns} connections opened, the last at ${p.dials.lastOpenMs} ms` : "";
  if (!win) errorSamples.push(`the window (${window.fromMs}-${window.toMs} ms) never opened${dials}`);
  const windowS = win ? (win.end - win.start) / 1000 : 0;
  const target = (w.conns * w.bytesPerTick * 1000) / w.intervalMs;
  const throughputRatio = windowS > 0 ? (p.echoedBytes ?? 0) / windowS / target : 0;
  const cpuMs = p.cpuMs ?? 0;
  const cpuMsPerConnMin = windowS > 0 ? cpuMs / ((w.conns * windowS) / 60) : 0;
  return {
    side: worker.side,
    cpuMs: r3(cpuMs),
    windowS: r3(windowS),
    throughputRatio: r3(throughputRatio),
    cpuMsPerConnMin: r3(cpuMsPerConnMin),
    cpuMsPerMiB: p.echoedBytes ? r3(cpuMs / (p.echoedBytes / 2 ** 20)) : Infinity,
    openAtStart: p.openAtStart ?? 0,
    conns: w.conns,
    // The client's own fault counts (engine: dial errors, drops, read/write errors; floor: errors and early
    // closes). Not the echo server's abnormal closes: a dial still in its handshake when the phase ends is
    // cut by either side (the engine does not count it, nor does the floor), and the server then sees a 1006.
    errors: (p.client?.errors ?? 0) + (p.fatal ? 1 : 0),
    errorSamples,
    ticksCompleted: p.client?.ticksCompleted ?? 0,
  };
}

/** A phase that failed (errors, a crash): the transport is broken, which no rerun excuses. */
export function phaseError(s: SideResult): string | undefined {
  if (s.errors > 0) return `${s.side}: ${s.errors} errors: ${s.errorSamples.join(" | ")}`;
  return undefined;
}

/**
 * A phase that ran cleanly but too little to measure: its window timer fired late (a busy machine delays
 * timers by seconds), or the side moved under half the target bytes. Such a round is run again.
 */
export function phaseTooThin(s: SideResult, minWindowS = 1): string | undefined {
  if (s.windowS < minWindowS) return `${s.side}: measured window only ${s.windowS} s${s.windowS === 0 ? ` (${s.errorSamples.at(-1) ?? ""})` : ""}`;
  if (s.openAtStart < s.conns * 0.9) return `${s.side}: only ${s.openAtStart} of ${s.conns} connections were open when the window began`;
  if (s.throughputRatio < 0.5) return `${s.side}: moved only ${(s.throughputRatio * 100).toFixed(0)} % of the target bytes in the window`;
  if (!(s.cpuMs > 0) || !Number.isFinite(s.cpuMsPerMiB)) return `${s.side}: no CPU or no echoes measured`;
  return undefined;
}

/** More rounds than the guard has were too thin to measure: the machine is too busy to judge anything. */
export class GuardTooBusyError extends Error {
  constructor(readonly rerun: readonly string[]) {
    super(`the machine is too busy to measure: ${rerun.length} rounds could not be measured (${rerun.join("; ")})`);
    this.name = "GuardTooBusyError";
  }
}

export interface RunGuardOptions {
  rounds?: number;
  workload?: Workload;
  window?: { fromMs: number; toMs: number };
  onRound?: (r: GuardRound, i: number) => void;
  /**
   * true (default): in each round both sides run at the same time (the side that dials first alternating), so
   * both see the same load from the rest of the machine. false: one after the other, the first alternating.
   */
  together?: boolean;
  /** Self-check: the product side burns this many extra CPU microseconds per received message. */
  injectProductUs?: number;
}

/**
 * Starts the echo server and both workers, warms each worker up with one discarded phase, then runs
 * `rounds` rounds, the side that starts first alternating. Throws on the first phase with errors; a round too
 * thin to measure (phaseTooThin) is run again.
 */
export async function runGuard(o: RunGuardOptions = {}): Promise<GuardRun> {
  const w = o.workload ?? GUARD_WORKLOAD;
  const window = o.window ?? GUARD_WINDOW;
  const n = o.rounds ?? GUARD_ROUNDS;
  const together = o.together ?? true;
  const t0 = Date.now();
  const load0 = loadavg()[0]!;
  const echo = await EchoServer.start();
  const workers: GuardWorker[] = [];
  const rounds: GuardRound[] = [];
  const rerun: string[] = [];
  try {
    const started = await Promise.allSettled([
      GuardWorker.start("product", echo.url, o.injectProductUs ?? 0),
      GuardWorker.start("floor", echo.url),
    ]);
    for (const s of started) if (s.status === "fulfilled") workers.push(s.value);
    for (const s of started) if (s.status === "rejected") throw s.reason;
    const [product, floor] = workers as [GuardWorker, GuardWorker];
    const phase = async (wk: GuardWorker, what: string): Promise<SideResult> => {
      const s = await measurePhase(wk, w, window);
      const bad = phaseError(s);
      if (bad) throw new Error(`${what}: ${bad}`);
      return s;
    };
    const both = async (first: GuardWorker, second: GuardWorker, what: string): Promise<Record<GuardSide, SideResult>> => {
      const got: Partial<Record<GuardSide, SideResult>> = {};
      if (together) {
        const [a, b] = await Promise.all([phase(first, what), phase(second, what)]);
        got[a.side] = a;
        got[b.side] = b;
      } else {
        for (const wk of [first, second]) got[wk.side] = await phase(wk, what);
      }
      return got as Record<GuardSide, SideResult>;
    };
    await both(floor, product, "warm-up");
    // A round too thin to measure is run again, up to `n` times in all; then the machine is too busy to judge.
    for (let attempt = 0; rounds.length < n; attempt++) {
      const i = rounds.length;
      const got = attempt % 2 === 0 ? await both(product, floor, `round ${i + 1}`) : await both(floor, product, `round ${i + 1}`);
      const thin = phaseTooThin(got.product) ?? phaseTooThin(got.floor);
      if (thin) {
        rerun.push(`round ${i + 1}: ${thin}`);
        if (rerun.length > n) throw new GuardTooBusyError(rerun);
        continue;
      }
      const r: GuardRound = { product: got.product, floor: got.floor, ratio: r3(got.product.cpuMsPerMiB / got.floor.cpuMsPerMiB) };
      rounds.push(r);
      o.onRound?.(r, i);
    }
  } finally {
    await Promise.all(workers.map((wk) => wk.close()));
    await echo.close();
  }
  return {
    together,
    workload: w,
    window,
    rounds,
    rerun,
    ratio: r3(median(rounds.map((r) => r.ratio))),
    load: [r3(load0), r3(loadavg()[0]!)],
    wallS: r3((Date.now() - t0) / 1000),
  };
}

export function formatRound(r: GuardRound, i: number): string {
  const f = (s: SideResult): string =>
    `${s.side} ${s.cpuMsPerMiB.toFixed(1)} ms/MiB (cpu ${s.cpuMs.toFixed(0)} ms over ${s.windowS.toFixed(2)} s, ` +
    `${s.cpuMsPerConnMin.toFixed(1)} ms/conn-min, thru ${(s.throughputRatio * 100).toFixed(1)} %)`;
  return `round ${i + 1}: ${f(r.product)}, ${f(r.floor)} -> ratio ${r.ratio.toFixed(3)}`;
}

export function readBaseline(file = BASELINE_FILE): GuardBaseline {
  const b = JSON.parse(readFileSync(file, "utf8")) as GuardBaseline;
  if (b.kind !== "bench-guard-baseline" || b.version !== 2 || !(b.productOverFloorCpu > 0) || !(b.allowedRegression > 1) || typeof b.together !== "boolean") {
    throw new Error(`${file} is not a bench guard baseline (version 2): re-record it with \`node --import tsx bench/guard.ts --record\``);
  }
  return b;
}

export function baselineFrom(run: GuardRun): GuardBaseline {
  return {
    kind: "bench-guard-baseline",
    version: 2,
    recordedAt: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version, loadAvg1m: run.load },
    together: run.together,
    workload: run.workload,
    window: run.window,
    productOverFloorCpu: run.ratio,
    rounds: run.rounds.map((r) => r.ratio),
    allowedRegression: ALLOWED_REGRESSION,
    how:
      "Median over the rounds of (product app transport CPU per MiB echoed) / (raw-ws floor's, same frames), " +
      "each side in a warm worker process, CPU (process.cpuUsage) and bytes echoed both counted in the worker over the phase's steady window " +
      "(bench/lib/guard.ts). test/bench-guard.test.ts measures again with this workload, window and mode (together) and fails when its " +
      "median exceeds productOverFloorCpu x allowedRegression. " +
      "Re-record after an intended change: `node --import tsx bench/guard.ts --record`.",
  };
}

export function writeBaseline(b: GuardBaseline, file = BASELINE_FILE): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(b, null, 2) + "\n");
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of no values");
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
