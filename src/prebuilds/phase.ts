// prebuilds as a runner (src/scenario/runner.ts). Metrics: prebuilds.fill and prebuilds.drain (one sample
// per template), prebuilds.failed_builds, prebuilds.failed_deletions, prebuilds.errors{action},
// prebuilds.error_rate. Preset: `prebuilds.error_rate<=0` (Coder's CLI fails when any runner fails).
import type { SettingKey } from "../config/index.ts";
import { counter, rate, ratio, samplesSeries, latency, value } from "../results/metric-set.ts";
import { plannedRunner, type PlannedState } from "../scenario/planned.ts";
import type { PhaseResult, Runner, UnitResult } from "../scenario/runner.ts";
import { prebuildsOptionsFromConfig } from "./options.ts";
import { checkOptions, planPrebuilds, PrebuildsInputError, type PrebuildsPlan } from "./plan.ts";
import { renderPrebuildsText } from "./render.ts";
import { executePrebuilds } from "./run.ts";
import type { PrebuildsOptions, PrebuildsResult, TemplateUnit } from "./types.ts";

const SETTINGS: readonly SettingKey[] = [
  "runId",
  "pbNumTemplates",
  "pbNumPresets",
  "pbNumPresetPrebuilds",
  "pbTemplateVersionJobTimeout",
  "pbWorkspaceTimeout",
  "pbSkipCleanup",
];

function unitOf(u: TemplateUnit, startedAt: number): UnitResult {
  return {
    testName: "prebuilds",
    id: String(u.index),
    name: u.name,
    ok: u.ok,
    error: u.ok ? null : `${u.action ?? "error"}: ${u.error ?? "failed"}`,
    startedAt: new Date(startedAt),
    durationMs: (u.setup_ms ?? 0) + (u.fill_ms ?? 0) + (u.drain_ms ?? 0),
    stages: { setup: u.setup_ms, fill: u.fill_ms, drain: u.drain_ms },
    logs: u.logs.join("\n") + (u.logs.length ? "\n" : ""),
    extra: { template_id: u.id, failed_builds: u.failed_builds, failed_deletions: u.failed_deletions, last_fill: u.last_fill, last_drain: u.last_drain },
  };
}

export function prebuildsPhaseResult(r: PrebuildsResult): PhaseResult {
  const fills = r.templates.flatMap((u) => (u.fill_ms === null ? [] : [u.fill_ms]));
  const drains = r.templates.flatMap((u) => (u.drain_ms === null ? [] : [u.drain_ms]));
  const failed = r.templates.filter((u) => !u.ok).length;
  const failedBuilds = r.templates.reduce((n, u) => n + u.failed_builds, 0);
  const failedDeletions = r.templates.reduce((n, u) => n + u.failed_deletions, 0);
  const problems: string[] = [];
  if (!r.setting.restored) problems.push(`the reconciliation setting was not restored (${r.setting.error ?? "unknown"}): run the cleanup script for run ${r.run_id}`);
  if (r.cleanup?.failed.length) problems.push(`cleanup left ${r.cleanup.failed.length} resource(s)`);
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: r.templates.map((u) => unitOf(u, r.started_at)),
    metrics: {
      "prebuilds.fill": latency(samplesSeries(fills)),
      "prebuilds.drain": latency(samplesSeries(drains)),
      "prebuilds.failed_builds": counter("count", value(failedBuilds)),
      "prebuilds.failed_deletions": counter("count", value(failedDeletions)),
      "prebuilds.errors": counter("count", ...Object.entries(r.errors_by_action).map(([action, n]) => value(n ?? 0, { action }))),
      "prebuilds.error_rate": rate(ratio(failed, r.templates.length)),
    },
    headline: [
      { label: "prebuilt workspaces", value: r.desired_per_template * r.templates.length, unit: "count" },
      { label: "fill max", value: fills.length ? Math.max(...fills) : null, unit: "ms" },
      { label: "drain max", value: drains.length ? Math.max(...drains) : null, unit: "ms" },
      { label: "failed prebuild builds", value: failedBuilds, unit: "count" },
    ],
    errors: r.templates.filter((u) => u.error).slice(0, 10).map((u) => `${u.name} (${u.action}): ${u.error}`),
    stoppedEarly: r.stopped !== null,
    failed: problems.length ? problems.join("; ") : null,
    harnessExtra: { errors_by_action: r.errors_by_action },
    extra: { desired_per_template: r.desired_per_template, timeline: r.timeline, timeline_dropped: r.timeline_dropped, setting: r.setting, cleanup: r.cleanup },
    text: renderPrebuildsText(r),
  };
}

export type PrebuildsSettingsState = PlannedState<PrebuildsOptions, PrebuildsPlan>;

export function prebuildsRunner(extra: Partial<PrebuildsOptions> = {}): Runner<PrebuildsSettingsState> {
  return plannedRunner({
    name: "prebuilds",
    testName: "prebuilds",
    settings: SETTINGS,
    presets: () => ["prebuilds.error_rate<=0"],
    options: (c) => ({ ...prebuildsOptionsFromConfig(c), ...extra }),
    check: checkOptions,
    inputError: (problems) => new PrebuildsInputError(problems),
    plan: (ctx, options) => planPrebuilds(ctx.client, options, ctx.signal),
    execute: async (ctx, plan, options) =>
      prebuildsPhaseResult(await executePrebuilds(ctx.client, plan, options, { signal: ctx.signal, log: ctx.log.atLevel })),
  });
}
