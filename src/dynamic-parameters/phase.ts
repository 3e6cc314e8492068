// dynamic-parameters as a runner (src/scenario/runner.ts). Metrics:
//   dynamic-parameters.initial{concurrent_evaluations}  open -> initial evaluation (ms)
//   dynamic-parameters.change{concurrent_evaluations}   initial evaluation -> change response (ms)
//   dynamic-parameters.errors{stage}                     failed sessions by stage (connect, initial, change)
//   dynamic-parameters.error_rate                        failed sessions of all sessions
// The preset `dynamic-parameters.error_rate<=0%` fails the run when any session fails.
import type { SettingKey } from "../config/index.ts";
import { counter, latency, rate, ratio, samplesSeries, value } from "../results/metric-set.ts";
import type { MetricSetJSON } from "../results/schema.ts";
import { plannedRunner, type PlannedState } from "../scenario/planned.ts";
import type { PhaseResult, Runner, UnitResult } from "../scenario/runner.ts";
import { dynamicParametersOptionsFromConfig } from "./options.ts";
import { checkOptions, DynamicParametersInputError, planDynamicParameters } from "./plan.ts";
import { renderDynamicParametersText } from "./render.ts";
import { executeDynamicParameters } from "./run.ts";
import type { DynamicParametersOptions, DynamicParametersPlan, DynamicParametersResult, SessionResult } from "./types.ts";

export const DYNAMIC_PARAMETERS_TEST_NAME = "dynamic-parameters";

const SETTINGS: readonly SettingKey[] = [
  "runId", "dpConcurrentEvaluations", "dpTemplate", "dpProvisionerTags", "dpTimeout", "dpJobTimeout", "dpImportTimeout",
];

/** The named metrics of the sessions finished so far. */
export function dynamicParametersMetricSet(sessions: readonly SessionResult[]): MetricSetJSON {
  const counts = [...new Set(sessions.map((s) => s.concurrent_evaluations))].sort((a, b) => b - a);
  const series = (pick: (s: SessionResult) => number | null) =>
    counts.map((n) =>
      samplesSeries(
        sessions.filter((s) => s.concurrent_evaluations === n).map(pick).filter((v): v is number => v !== null),
        { concurrent_evaluations: String(n) },
      ),
    );
  const byStage = new Map<string, number>();
  for (const s of sessions) if (!s.ok && !s.not_started) byStage.set(s.failed_stage ?? "unknown", (byStage.get(s.failed_stage ?? "unknown") ?? 0) + 1);
  return {
    "dynamic-parameters.initial": latency(...series((s) => s.initial_ms)),
    "dynamic-parameters.change": latency(...series((s) => s.change_ms)),
    "dynamic-parameters.errors": counter("count", ...[...byStage].map(([stage, n]) => value(n, { stage }))),
    "dynamic-parameters.error_rate": rate(ratio(sessions.filter((s) => !s.ok).length, sessions.length)),
  };
}

function unitOf(s: SessionResult): UnitResult {
  return {
    testName: DYNAMIC_PARAMETERS_TEST_NAME,
    id: s.id,
    name: `${s.version_id} (${s.concurrent_evaluations} concurrent)`,
    ok: s.ok,
    ...(s.not_started ? { notStarted: true } : {}),
    error: s.error,
    startedAt: new Date(s.started_at),
    durationMs: (s.initial_ms ?? 0) + (s.change_ms ?? 0),
    stages: { initial: s.initial_ms, change: s.change_ms },
    logs: s.logs.join("\n") + (s.logs.length ? "\n" : ""),
    extra: { partition: s.partition, concurrent_evaluations: s.concurrent_evaluations, template_version_id: s.version_id, failed_stage: s.failed_stage },
  };
}

export function dynamicParametersPhaseResult(r: DynamicParametersResult): PhaseResult {
  const metrics = dynamicParametersMetricSet(r.sessions);
  const p = (pick: (s: SessionResult) => number | null) => {
    const v = r.sessions.map(pick).filter((x): x is number => x !== null).sort((a, b) => a - b);
    return v.length ? v[Math.min(v.length - 1, Math.ceil(0.95 * v.length) - 1)]! : null;
  };
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: Math.max(0, r.elapsed_ms - r.setup_ms),
    units: r.sessions.map(unitOf),
    metrics,
    headline: [
      { label: "sessions", value: r.sessions.length, unit: "count" },
      { label: "initial p95", value: p((s) => s.initial_ms), unit: "ms" },
      { label: "change p95", value: p((s) => s.change_ms), unit: "ms" },
      { label: "failed", value: r.fail, unit: "count" },
    ],
    errors: [...(r.setup_error ? [r.setup_error] : []), ...r.sessions.filter((s) => !s.ok && s.error).slice(0, 10).map((s) => `${s.id}: ${s.error}`)],
    stoppedEarly: r.stopped !== null,
    failed: r.setup_error,
    harnessExtra: { template: r.template, partitions: r.parts },
    extra: {
      template: r.template,
      parts: r.parts,
      partitions: r.partitions.map((x) => ({ index: x.index, concurrent_evaluations: x.concurrent_evaluations, version_id: x.version.id, import_ms: x.import_ms })),
      setup_ms: r.setup_ms,
      setup_error: r.setup_error,
      errors_by_stage: r.errors_by_stage,
      // Both distributions' samples (ms), for the report's charts.
      latency: {
        initial: r.sessions.flatMap((s) => (s.initial_ms === null ? [] : [s.initial_ms])),
        change: r.sessions.flatMap((s) => (s.change_ms === null ? [] : [s.change_ms])),
      },
    },
    text: renderDynamicParametersText(r),
  };
}

export type DynamicParametersSettings = PlannedState<DynamicParametersOptions, DynamicParametersPlan>;

export function dynamicParametersRunner(): Runner<DynamicParametersSettings> {
  return plannedRunner({
    name: "dynamic-parameters",
    testName: DYNAMIC_PARAMETERS_TEST_NAME,
    settings: SETTINGS,
    presets: () => ["dynamic-parameters.error_rate<=0%"],
    options: dynamicParametersOptionsFromConfig,
    check: checkOptions,
    inputError: (problems) => new DynamicParametersInputError(problems),
    plan: (ctx, options) => planDynamicParameters(ctx.client, options),
    async execute(ctx, plan, options) {
      const done: SessionResult[] = [];
      ctx.live(() => dynamicParametersMetricSet(done));
      const r = await executeDynamicParameters(ctx.client, plan, options, {
        signal: ctx.signal,
        log: ctx.log.atLevel,
        runUnits: ctx.runUnits,
        onSessionDone: (x) => done.push(x),
      });
      return dynamicParametersPhaseResult(r);
    },
  });
}
