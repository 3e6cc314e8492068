// The capacity search inside a pipeline run: each step is its own phase through the one harness (so its
// thresholds, client- and server-side, are judged on that step's window alone), the search decides the next
// load from the step's verdict, and capacity.json records the steps, the knee and what broke.
import type { Config } from "../config/index.ts";
import { createRunner, type CreateSettings } from "../create/phase.ts";
import type { CreatePlan } from "../create/types.ts";
import { dashboardRunner } from "../dashboard/index.ts";
import type { ScenarioPlan } from "../pipeline/plan.ts";
import type { PipelineSession } from "../pipeline/session.ts";
import { shardedTraffic } from "../pipeline/shards.ts";
import { PHASE_RESULT_FILE } from "../results/dir.ts";
import type { CapacityResult, CapacityStep, PhaseRecord } from "../results/schema.ts";
import type { Recorded } from "../scenario/harness.ts";
import type { Runner } from "../scenario/runner.ts";
import { trafficRunner } from "../traffic/scenario.ts";
import { log } from "../util/log.ts";
import { isConnectionLoad, stepText, type CapacityPlan } from "./plan.ts";
import { brokenThreshold, buildCapacityResult, breakText, CAPACITY_FILE, loadText, stepOf } from "./result.ts";
import { CapacitySearch } from "./schedule.ts";
import { capacityMetrics } from "./metrics.ts";

/** What the search needs beyond the plan: the names its create steps use (after the run's own workspaces). */
export interface CapacitySetup {
  plan: CapacityPlan;
  /** Create steps: the create settings and plan whose names continue the run's (empty for other loads). */
  create: CreateSettings | null;
  names: string[];
}

/** The phase name of a step ("capacity-web-terminal-16"). */
export function stepPhase(p: CapacityPlan, n: number): string {
  return `capacity-${p.load}-${n}`;
}

/** Runs the step at load `n` as a phase. */
class StepRunner {
  private used = 0;
  /** Workspaces the run has so far (the pipeline's own, plus what workspace steps added). */
  private workspaces: number;

  constructor(
    private readonly run: PipelineSession,
    private readonly setup: CapacitySetup,
  ) {
    this.workspaces = run.c.workspaces;
  }

  private nextNames(count: number): string[] {
    const names = this.setup.names.slice(this.used, this.used + count);
    if (names.length < count) throw new Error(`capacity: the plan has ${this.setup.names.length - this.used} workspace name(s) left, the step needs ${count}`);
    this.used += count;
    return names;
  }

  private createStep(count: number, concurrency: number): { runner: Runner<unknown>; settings: unknown } {
    const base = this.setup.create!;
    const plan: CreatePlan = { ...base.plan!, names: this.nextNames(count) };
    const settings: CreateSettings = { ...base, options: { ...base.options, count, concurrency }, plan, noCleanup: true };
    return { runner: createRunner({ pipeline: true }) as Runner<unknown>, settings };
  }

  async step(n: number): Promise<Recorded> {
    const { run } = this;
    const p = this.setup.plan;
    const c = run.c;
    const phase = stepPhase(p, n);
    const text = `Capacity step: ${stepText(p, n, c)}`;
    const common = { phase, text, own: true, tags: ["capacity"] };
    if (p.load === "builds") {
      const s = this.createStep(n, n);
      return run.phase(s.runner, s.settings, common);
    }
    if (p.load === "workspaces") {
      const add = n - this.workspaces;
      const s = this.createStep(add, c.createConcurrency);
      const rec = await run.phase(s.runner, s.settings, common);
      this.workspaces += rec.record.totals.pass;
      return rec;
    }
    if (p.load === "dashboard") {
      const config: Config = { ...c, dashboardConcurrency: n };
      const targets = { range: `0:${this.workspaces}`, durationMs: p.holdMs };
      const runner = dashboardRunner as Runner<unknown>;
      return run.phase(runner, runner.validate(config, targets), { ...common, config, targets });
    }
    if (!isConnectionLoad(p.load)) throw new Error(`capacity: unknown load ${p.load}`);
    const targets = { range: `0:${n}`, durationMs: p.holdMs };
    // A step's load is its n connections held at once: --job-concurrency would queue them, so it does not apply.
    const config: Config = { ...c, jobConcurrency: 0 };
    // Traffic steps shard over --runners like the pipeline's scenarios: each shard takes its part of 0:n.
    const scenario: ScenarioPlan = { scenario: p.load, phase, durationMs: p.holdMs, percentage: 100, slice: { start: 0, end: n, wrapped: false, spec: targets.range }, startOffsetMs: 0 };
    const runner = trafficRunner(p.load, shardedTraffic(config, scenario)) as Runner<unknown>;
    return run.phase(runner, runner.validate(config, targets), { ...common, config, targets });
  }
}

/** Adds what the search learnt to a step's phase record (result.json), so the record alone says which threshold broke. */
function annotate(run: PipelineSession, rec: Recorded, n: number, step: number, ok: boolean): void {
  const broke = ok ? null : brokenThreshold(n, rec.record.thresholds);
  rec.record.extra.capacity = { load: run.c.capacityLoad, step_load: n, step, ok, broke, broke_text: broke ? breakText(broke) : null };
  if (rec.dir) run.results.writeJSON(`${rec.dir}/${PHASE_RESULT_FILE}`, rec.record);
}

/** A step passes when its phase passed: every threshold met and no unit or shard failed. */
export function stepPassed(rec: PhaseRecord): boolean {
  return rec.status === "pass";
}

/** Runs the search and writes capacity.json; returns it. */
export async function runCapacitySearch(run: PipelineSession, setup: CapacitySetup): Promise<CapacityResult> {
  const p = setup.plan;
  const search = new CapacitySearch(p.spec);
  const steps = new StepRunner(run, setup);
  const done: CapacityStep[] = [];
  const metrics = capacityMetrics();
  for (let n = search.next(); n !== null; n = search.next()) {
    if (run.signal.aborted) {
      search.stop("signal");
      break;
    }
    log.info(`capacity: step ${done.length + 1} at ${loadText(p.load, n)}`);
    let rec: Recorded;
    metrics.stepStarted(p.load, n);
    try {
      rec = await steps.step(n);
    } catch (e) {
      metrics.stepDone(p.load, n, false, search.knee);
      log.error(`capacity: the step at ${n} could not run: ${(e as Error).message}`);
      search.stop("error");
      break;
    }
    // Stopped by a signal (not by its own abort threshold, which is a verdict on the step): the step says nothing.
    if (rec.record.status === "interrupted" || (run.signal.aborted && !rec.record.aborted_by && rec.record.status !== "pass")) {
      metrics.stepDone(p.load, n, false, search.knee);
      done.push(stepOf(done.length + 1, n, rec.record, rec.dir, false));
      search.stop("signal");
      break;
    }
    const ok = stepPassed(rec.record);
    annotate(run, rec, n, done.length + 1, ok);
    done.push(stepOf(done.length + 1, n, rec.record, rec.dir, ok));
    search.record(n, ok);
    metrics.stepDone(p.load, n, ok, search.knee);
    // An abort-marked threshold that failed stops the run (as everywhere in the pipeline): the search ends with it.
    if (run.signal.aborted) search.stop(rec.record.aborted_by ? "failed-step" : "signal");
    log.info(`capacity: ${loadText(p.load, n)}: ${ok ? "pass" : `fail${done.at(-1)!.broke ? ` (${breakText(done.at(-1)!.broke!)})` : ""}`}`);
  }
  const result = buildCapacityResult({
    runId: run.c.runId,
    load: p.load,
    spec: p.spec,
    holdMs: p.holdMs,
    steps: done,
    knee: search.knee,
    firstBad: search.firstBad,
    stoppedBy: search.stoppedBy ?? "max",
  });
  run.results.writeJSON(CAPACITY_FILE, result);
  log.info(`capacity: ${result.summary}`);
  return result;
}
