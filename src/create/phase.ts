// create-workspaces as a runner (src/scenario/runner.ts): validate the options, resolve the template and
// parameters (prepare, read-only), create and time the workspaces, and clean up unless --no-cleanup.
// Metrics: create.provision (unit start -> workspace ready), create.user/request/queue/build/agent/command per
// stage, create.success_rate, create.failures{stage}, create.retries.
import { cleanupRun } from "../cleanup/cleanup.ts";
import { cleanupHarnessJSON, renderCleanupText } from "../cleanup/render.ts";
import type { Config, SettingKey } from "../config/index.ts";
import { counter, latency, rate, ratio, samplesSeries, summaryOf, value } from "../results/metric-set.ts";
import type { MetricSetJSON } from "../results/schema.ts";
import { presetThresholds } from "../thresholds/presets.ts";
import type { PhaseResult, Runner, RunnerContext, UnitResult } from "../scenario/runner.ts";
import { createOptionsFromConfig } from "./options.ts";
import { checkCreateOptions, CreateInputError, planCreate } from "./plan.ts";
import { CREATE_TEST_NAME, lastLogMs, renderCreateText, unitExtra } from "./render.ts";
import { executeCreate } from "./runner.ts";
import { CREATE_STAGES, type CreateOptions, type CreatePlan, type CreateResult, type WorkspaceUnitResult } from "./types.ts";

export interface CreateSettings {
  options: CreateOptions;
  /** Resolved by prepare (or by the pipeline's preflight). */
  plan: CreatePlan | null;
  /** Leave the workspaces for the next phases (the pipeline, --no-cleanup). */
  noCleanup: boolean;
  cleanup: { concurrency: number; timeoutMs: number; jobTimeoutMs: number };
}

const SETTINGS: readonly SettingKey[] = [
  "runId", "workspaces", "template", "parameters", "createConcurrency", "createTimeout", "jobTimeout", "createRetry",
  "noWaitForAgents", "useHostLogin", "userPool", "runCommand", "runTimeout", "runExpectOutput", "runExpectTimeout", "runExpectOutputTimeout", "noCleanup",
];

/** The named metrics of the units finished so far. */
export function createMetricSet(units: readonly WorkspaceUnitResult[]): MetricSetJSON {
  const started = units.filter((u) => !u.not_started);
  const m: Record<string, MetricSetJSON[string]> = {
    "create.provision": latency(samplesSeries(units.filter((u) => u.ok && u.timings.total !== null).map((u) => u.timings.total!))),
    "create.success_rate": rate(ratio(units.filter((u) => u.ok).length, units.length)),
    "create.retries": counter("count", value(units.reduce((n, u) => n + Math.max(0, u.attempts.length - 1), 0))),
  };
  const failures = new Map<string, number>();
  for (const u of started) if (!u.ok) failures.set(u.failed_stage ?? "unknown", (failures.get(u.failed_stage ?? "unknown") ?? 0) + 1);
  m["create.failures"] = counter("count", ...[...failures].map(([stage, n]) => value(n, { stage })));
  for (const s of CREATE_STAGES) {
    if (s === "total") continue;
    // The create call is "create.request" (create.create would read oddly).
    m[`create.${s === "create" ? "request" : s}`] = latency(samplesSeries(units.map((u) => u.timings[s]).filter((v): v is number => v !== null)));
  }
  return m;
}

function unitOf(u: WorkspaceUnitResult): UnitResult {
  return {
    testName: CREATE_TEST_NAME,
    id: String(u.index),
    name: u.name,
    ok: u.ok,
    ...(u.not_started ? { notStarted: true } : {}),
    error: u.error,
    startedAt: new Date(u.started_at),
    durationMs: u.timings.total ?? (u.not_started ? 0 : lastLogMs(u)),
    stages: { ...u.timings },
    logs: u.logs.join("\n") + (u.logs.length ? "\n" : ""),
    extra: unitExtra(u),
  };
}

export function createPhaseResult(r: CreateResult): PhaseResult {
  const metrics = createMetricSet(r.units);
  const provision = summaryOf(metrics, "create.provision");
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: r.units.map(unitOf),
    metrics,
    stages: Object.fromEntries(CREATE_STAGES.map((s) => [s, r.stages[s]])),
    headline: [
      { label: "ready", value: r.pass, unit: "count" },
      { label: "of", value: r.count, unit: "count" },
      { label: "provisioning p50", value: provision?.p50 ?? null, unit: "ms" },
      { label: "p95", value: provision?.p95 ?? null, unit: "ms" },
      { label: "errors", value: r.units.filter((u) => !u.ok && !u.not_started).length, unit: "count" },
    ],
    errors: r.units.filter((u) => !u.ok && u.error).slice(0, 10).map((u) => `${u.name}: ${u.error!.split("\n")[0]}`),
    stoppedEarly: r.stopped !== null,
    harnessExtra: {
      run_id: r.run_id, template: r.template, parameters: r.parameters, concurrency: r.concurrency, use_host_login: r.use_host_login,
      success_rate: Math.round(r.success_rate * 100) / 100, success_threshold: r.success_threshold, retries: r.retries, stopped: r.stopped, cleanup: null,
    },
    extra: {
      // The distribution of provisioning times (the report's build-time chart).
      buildTimes: r.units.filter((u) => u.ok && u.timings.total !== null).map((u) => u.timings.total as number),
      success_rate: r.success_rate,
      retries: r.retries,
      stopped: r.stopped,
      count: r.count,
      template: r.template,
      user_pool: r.user_pool ?? null,
    },
    text: renderCreateText(r),
  };
}

/** The create-workspaces runner; `script` decides which success threshold applies (the pipeline's or --success-threshold). */
export function createRunner(opts: { pipeline: boolean } = { pipeline: false }): Runner<CreateSettings> {
  const successOf = (c: Config) => (opts.pipeline ? c.thresholdCreateSuccess : c.successThreshold);
  return {
    name: "create-workspaces",
    testName: CREATE_TEST_NAME,
    settings: SETTINGS,
    // The script judges --success-threshold (as Coder's does); the pipeline every create preset.
    presets: (c) => (opts.pipeline ? presetThresholds(c).filter((e) => e.startsWith("create.")) : [`create.success_rate>=${successOf(c)}%`]),
    validate(c) {
      const options = createOptionsFromConfig(c, successOf(c));
      const problems = checkCreateOptions(options);
      if (problems.length) throw new CreateInputError(problems);
      return {
        options,
        plan: null,
        noCleanup: opts.pipeline || c.noCleanup,
        cleanup: { concurrency: c.cleanupConcurrency, timeoutMs: c.cleanupTimeout, jobTimeoutMs: c.cleanupJobTimeout },
      };
    },
    async prepare(ctx, s) {
      // The pipeline resolved the plan in its preflight; a plan is never resolved twice (the run id is in use by then).
      return s.plan ? s : { ...s, plan: await planCreate(ctx.client, s.options) };
    },
    async run(ctx, s) {
      const plan = s.plan ?? (await planCreate(ctx.client, s.options));
      const done: WorkspaceUnitResult[] = [];
      ctx.live(() => createMetricSet(done));
      const r = await executeCreate(ctx.client, plan, { ...s.options, noCleanup: true }, {
        signal: ctx.signal,
        log: ctx.log.atLevel,
        onUnitDone: (u) => done.push(u),
        runUnits: ctx.runUnits,
      });
      return createPhaseResult(r);
    },
    async cleanup(ctx: RunnerContext, s, result) {
      if (s.noCleanup) return;
      ctx.log.info(`cleaning up run ${ctx.runId} (--no-cleanup keeps the workspaces)`);
      // Not the phase's signal: after an interruption, cleanup is exactly what should still run.
      const c = await cleanupRun(ctx.client, { runId: ctx.runId, ...s.cleanup }, { log: ctx.log.atLevel });
      result.harnessExtra = { ...result.harnessExtra, cleanup: cleanupHarnessJSON(c) };
      result.text += `\n${renderCleanupText(c)}`;
      if (c.exit_code !== 0) result.failed = `cleanup after create left ${c.remaining.length} resource(s) behind`;
    },
  };
}
