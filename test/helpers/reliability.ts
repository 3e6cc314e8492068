// Shared by the reliability suites (fault matrix, crash safety, secrets, hostile input, resources):
// run the real entry points (scripts/run.ts, scenarios/*.ts) as child processes against an in-process
// simulator, exactly as a user would, and read what they left behind.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSim, type Sim, type SimOptions } from "../../sim/index.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const FAKE_CODER = join(ROOT, "test", "fake-coder", "coder");

/** Fast builds and agents: a 4-workspace pipeline runs in a few seconds. */
export const RELIABILITY_SIM: SimOptions = { seed: 11, daemons: 4, buildDuration: 50, agentConnectDelayMs: 20, agentReadyDelayMs: 10 };

export async function withReliabilitySim<T>(options: SimOptions, fn: (sim: Sim) => Promise<T>): Promise<T> {
  const sim = await startSim({ ...RELIABILITY_SIM, ...options });
  try {
    return await fn(sim);
  } finally {
    sim.faults.clear();
    await sim.stop();
  }
}

/** A results folder under the OS temp dir; removed by the returned function. */
export function tempResults(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Settings for a tiny but complete pipeline: 4 workspaces, every scenario for `duration`, no baseline. */
export function tinyRunArgs(runId: string, resultsDir: string, extra: string[] = []): string[] {
  return [
    "--run-id", runId,
    "--results-dir", resultsDir,
    "--workspaces", "4",
    "--create-concurrency", "4",
    "--scenarios", "ssh,web-terminal,app,dashboard",
    "--duration", "2s",
    "--tick-interval", "100ms",
    "--bytes-per-tick", "256",
    "--baseline-wait", "0s",
    "--dashboard-concurrency", "2",
    "--cleanup-strategy", "always",
    "--metrics-address", "127.0.0.1:0",
    ...extra,
  ];
}

/** Environment for an entry point aimed at `sim` (token via env, never argv). */
export function simEnv(sim: Sim, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Nothing from the developer's shell may steer the run.
  for (const k of Object.keys(env)) if (k.startsWith("SCALETEST_") || k.startsWith("CODER_")) delete env[k];
  return {
    ...env,
    CODER_URL: sim.url,
    CODER_SESSION_TOKEN: sim.ownerToken,
    SCALETEST_CODER_BINARY: FAKE_CODER,
    NO_COLOR: "1",
    ...extra,
  };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Started {
  child: ChildProcess;
  /** Output so far (grows while the child runs). */
  output(): { stdout: string; stderr: string };
  done: Promise<ChildResult>;
}

/** Starts `node --import tsx <script> ...args` from the repository root; killed after `timeoutMs`. */
export function startScript(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Started {
  const t0 = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, script), ...args], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<ChildResult>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

export function runScript(script: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ChildResult> {
  return startScript(script, args, env, timeoutMs).done;
}

export function readJSON<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}

export interface PhaseResult {
  dir: string;
  record: any;
}

/** Every `NN-<phase>/result.json` of a run folder, in order. */
export function phaseResults(runDir: string): PhaseResult[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .filter((d) => /^\d{2,}-/.test(d) && existsSync(join(runDir, d, "result.json")))
    .sort()
    .map((d) => ({ dir: d, record: readJSON(join(runDir, d, "result.json")) }));
}

export function phase(runDir: string, name: string): any {
  const p = phaseResults(runDir).find((x) => x.record.phase === name);
  if (!p) throw new Error(`no result.json for phase ${name} in ${runDir}`);
  return p.record;
}

/** Attempts per status/code summed over every phase's extra.api block. */
export function apiByStatus(runDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { record } of phaseResults(runDir)) {
    for (const [k, v] of Object.entries((record.extra?.api?.by_status ?? {}) as Record<string, number>)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

/** Live users and workspaces whose names start with `scaletest-` (what cleanup must remove). */
export function scaletestLeft(sim: Sim): { users: string[]; workspaces: string[] } {
  return {
    users: sim.state.liveUsers().filter((u) => u.username.startsWith("scaletest-")).map((u) => u.username),
    workspaces: sim.state.liveWorkspaces().filter((w) => w.name.startsWith("scaletest-")).map((w) => w.name),
  };
}

/** Every regular file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Polls until `check` returns a value (or throws after timeoutMs). */
export async function until<T>(what: string, check: () => T | undefined | false | null, timeoutMs = 20_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The phases run.json lists as started (name and status), or [] before it exists. */
export function runPhases(runDir: string): { name: string; status: string }[] {
  const p = join(runDir, "run.json");
  if (!existsSync(p)) return [];
  try {
    return (readJSON(p).phases ?? []) as { name: string; status: string }[];
  } catch {
    return []; // caught between write and rename: try again
  }
}

/** Open file descriptors of a process (Linux /proc). */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size in bytes of a process (Linux /proc). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
