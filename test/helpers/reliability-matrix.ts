// One cell of the fault matrix: a tiny real pipeline (scripts/run.ts as a child process) against an
// in-process simulator with one fault switched on, then the contract every cell must keep:
// - the run finishes within its timeout (never hangs), with an exit code that matches its verdict;
// - every HTTP fault the simulator injected is recorded exactly once (the client's per-phase api blocks,
//   summed in run.json, plus the dashboard visitors' own per-endpoint counts);
// - cleanup leaves no scaletest- resource behind and the pre-existing users and workspaces untouched.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Sim, SimOptions } from "../../sim/index.ts";
import {
  phaseResults,
  readJSON,
  runPhases,
  scaletestLeft,
  simEnv,
  startScript,
  tempResults,
  tinyRunArgs,
  until,
  withReliabilitySim,
  type ChildResult,
} from "./reliability.ts";

export interface CellContext {
  sim: Sim;
  runDir: string;
  result: ChildResult;
  run: any;
  summary: any;
  /** Recorded attempts per status: run.json api totals plus the dashboard visitors' endpoint counts. */
  recorded: Record<string, number>;
  phase(name: string): any;
}

export interface Cell {
  runId: string;
  sim?: SimOptions;
  /** Run flags added to (and overriding) the tiny defaults. */
  args?: string[];
  /** Switch the fault on before the run starts. */
  setup?: (sim: Sim) => void;
  /** Runs alongside the pipeline (e.g. switch a fault on when a phase starts). */
  during?: (sim: Sim, runDir: string) => Promise<void>;
  verdict: "pass" | "fail" | ((ctx: CellContext) => "pass" | "fail");
  timeoutMs?: number;
  /** Faults recorded outside the API counters (e.g. refused websocket dials), per status. */
  recordedElsewhere?: (ctx: CellContext) => Record<string, number>;
  check?: (ctx: CellContext) => void;
}

/**
 * How long a cell's run may take before it is killed; waits inside the run (`during`) get as long, so they never
 * give up on a run that is still within its own limit (a busy machine and unlucky retry backoffs can make a run
 * that usually takes 11 s take 30).
 */
const RUN_TIMEOUT_MS = 45_000;

/** Resolves when run.json shows phase `name` started (or rejects after timeoutMs). */
export function phaseStarted(runDir: string, name: string, timeoutMs = RUN_TIMEOUT_MS): Promise<true> {
  return until(`phase ${name} to start`, () => runPhases(runDir).some((p) => p.name === name), timeoutMs, 10);
}

export function phaseEnded(runDir: string, name: string, timeoutMs = RUN_TIMEOUT_MS): Promise<true> {
  return until(`phase ${name} to end`, () => runPhases(runDir).some((p) => p.name === name && p.status !== "running"), timeoutMs, 10);
}

function add(into: Record<string, number>, from: Record<string, number> | undefined): void {
  for (const [k, v] of Object.entries(from ?? {})) into[k] = (into[k] ?? 0) + v;
}

export async function runCell(cell: Cell): Promise<CellContext> {
  return withReliabilitySim(cell.sim ?? {}, async (sim) => {
    const tmp = tempResults(`fault-${cell.runId}`);
    try {
      const preexisting = sim.snapshotPreexisting();
      const start = sim.counts();
      cell.setup?.(sim);
      const runDir = join(tmp.dir, cell.runId);
      const timeoutMs = cell.timeoutMs ?? RUN_TIMEOUT_MS;
      const child = startScript("scripts/run.ts", tinyRunArgs(cell.runId, tmp.dir, cell.args), simEnv(sim), timeoutMs);
      const during = cell.during?.(sim, runDir).catch((e: unknown) => e);
      const result = await child.done;
      const duringError = await during;
      sim.faults.clear();
      const why = `${cell.runId}: exit ${result.code}/${result.signal} after ${result.ms} ms\n${result.stderr.slice(-3000)}`;
      assert.equal(result.signal, null, `the run must finish within ${timeoutMs} ms, not be killed. ${why}`);
      if (duringError instanceof Error) throw new Error(`${duringError.message}. ${why}`, { cause: duringError });
      assert.ok(existsSync(join(runDir, "run.json")), `${cell.runId}: the run wrote no run.json. ${why}`);

      const run = readJSON(join(runDir, "run.json"));
      const summary = readJSON(join(runDir, "summary.json"));
      const recorded: Record<string, number> = {};
      add(recorded, run.api?.by_status);
      for (const { record } of phaseResults(runDir)) {
        for (const ep of Object.values((record.extra?.dashboard?.endpoints ?? {}) as Record<string, { by_status?: Record<string, number> }>)) {
          add(recorded, ep.by_status);
        }
      }
      const ctx: CellContext = {
        sim, runDir, result, run, summary, recorded,
        phase: (name) => {
          const p = phaseResults(runDir).find((x) => x.record.phase === name);
          assert.ok(p, `${cell.runId}: phase ${name} has a result.json`);
          return p.record;
        },
      };

      if (cell.recordedElsewhere) add(recorded, cell.recordedElsewhere(ctx));
      // Verdict and exit code agree, and are the expected ones.
      const verdict = typeof cell.verdict === "function" ? cell.verdict(ctx) : cell.verdict;
      assert.equal(summary.status, verdict, `${cell.runId}: verdict. ${why}`);
      assert.equal(run.status, verdict);
      assert.equal(result.code, verdict === "pass" ? 0 : 1, `${cell.runId}: exit code matches the verdict`);

      // Exactly once: every injected HTTP fault appears once among the recorded attempts.
      for (const [status, n] of Object.entries(sim.faults.injected.httpByStatus)) {
        assert.equal(recorded[status] ?? 0, n, `${cell.runId}: ${n} injected HTTP ${status} recorded exactly once (recorded ${JSON.stringify(recorded)})`);
      }
      // The phases' api blocks never add up to more than the run's total (no double counting).
      const phaseSum: Record<string, number> = {};
      for (const { record } of phaseResults(runDir)) {
        assert.ok(record.extra?.api, `${cell.runId}: phase ${record.phase} has an api block`);
        add(phaseSum, record.extra.api.by_status);
      }
      for (const [k, v] of Object.entries(phaseSum)) assert.ok(v <= (run.api.by_status[k] ?? 0), `${cell.runId}: phases' ${k} ${v} <= run total`);
      // Every retry has a record: retries never exceed the failed attempts they answer.
      for (const [k, v] of Object.entries(run.api.retries_by as Record<string, number>)) {
        assert.ok(v <= (run.api.by_status[k] ?? 0), `${cell.runId}: ${v} retries on ${k} recorded against ${run.api.by_status[k]} attempts`);
      }

      // Nothing left behind; nothing else touched.
      assert.deepEqual(scaletestLeft(sim), { users: [], workspaces: [] }, `${cell.runId}: cleanup removed every scaletest resource`);
      assert.equal(sim.snapshotPreexisting(), preexisting, `${cell.runId}: pre-existing users and workspaces unchanged`);
      const end = sim.counts();
      assert.equal(end.users, start.users);
      assert.equal(end.workspaces, start.workspaces);
      assert.equal(end.activeBuilds, 0, `${cell.runId}: no build left running`);
      cell.check?.(ctx);
      return ctx;
    } finally {
      tmp.remove();
    }
  });
}
