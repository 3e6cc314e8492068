// task-status as a runner (src/scenario/runner.ts). Metrics: task-status.latency, task-status.missing,
// task-status.missing_rate, task-status.report_errors, task-status.errors{action}. Preset:
// `task-status.missing_rate<=0` (every update sent must show on the watch).
import type { SettingKey } from "../config/index.ts";
import type { CreatePlan } from "../create/types.ts";
import { counter, histogramSeries, latency, rate, ratio, value } from "../results/metric-set.ts";
import { plannedRunner, type PlannedState } from "../scenario/planned.ts";
import type { PhaseResult, Runner, UnitResult } from "../scenario/runner.ts";
import { taskStatusOptionsFromConfig } from "./options.ts";
import { checkOptions, planTaskStatus, TaskStatusInputError } from "./plan.ts";
import { renderTaskStatusText } from "./render.ts";
import { executeTaskStatus } from "./run.ts";
import type { TaskStatusOptions, TaskStatusResult, WorkspaceUnit } from "./types.ts";

const SETTINGS: readonly SettingKey[] = ["runId", "tsCount", "tsTemplate", "tsAppSlug", "tsReportPeriod", "tsReportDuration", "tsBaseline", "tsWorkspaceTimeout", "tsNoCleanup"];

function unitOf(u: WorkspaceUnit, startedAt: number): UnitResult {
  const seen = u.latencies_ms.filter((x): x is number => x !== null);
  return {
    testName: "task-status",
    id: String(u.index),
    name: u.name,
    ok: u.ok,
    error: u.ok ? null : u.action ? `${u.action}: ${u.error}` : `${u.missing} update(s) missing, ${u.report_errors} not reported`,
    startedAt: new Date(startedAt),
    durationMs: u.setup_ms ?? 0,
    stages: { setup: u.setup_ms, update_max: seen.length ? Math.max(...seen) : null },
    logs: u.logs.join("\n") + (u.logs.length ? "\n" : ""),
    extra: { workspace_id: u.id, sent: u.sent, observed: u.observed, missing: u.missing, report_errors: u.report_errors, latencies_ms: u.latencies_ms },
  };
}

export function taskStatusPhaseResult(r: TaskStatusResult): PhaseResult {
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: r.units.map((u) => unitOf(u, r.started_at)),
    metrics: {
      "task-status.latency": latency(histogramSeries(r.latency.summary.count ? r.latency.hdr : "")),
      "task-status.missing": counter("count", value(r.missing)),
      "task-status.missing_rate": rate(ratio(r.missing, r.sent)),
      "task-status.report_errors": counter("count", value(r.report_errors)),
      "task-status.errors": counter("count", ...Object.entries(r.errors_by_action).map(([action, n]) => value(n ?? 0, { action }))),
    },
    headline: [
      { label: "updates sent", value: r.sent, unit: "count" },
      { label: "update p95", value: r.latency.summary.count ? r.latency.summary.p95 : null, unit: "ms" },
      { label: "missing updates", value: r.missing, unit: "count" },
    ],
    errors: r.units.filter((u) => u.action).slice(0, 10).map((u) => `${u.name} (${u.action}): ${u.error}`),
    stoppedEarly: r.stopped !== null,
    failed:
      r.units.some((u) => u.action) ? `${r.units.filter((u) => u.action).length} workspace(s) could not be set up` : r.cleanup?.failed.length ? `cleanup left ${r.cleanup.failed.length} workspace(s)` : null,
    harnessExtra: { transport: r.transport, missing_status_updates: r.missing, report_task_status_errors: r.report_errors },
    extra: { transport: r.transport, template: r.template, barrier_ms: r.barrier_ms, updates_per_workspace: r.updates_per_workspace, sent: r.sent, observed: r.observed, cleanup: r.cleanup },
    text: renderTaskStatusText(r),
  };
}

export type TaskStatusSettings = PlannedState<TaskStatusOptions, CreatePlan>;

export function taskStatusRunner(extra: Partial<TaskStatusOptions> = {}): Runner<TaskStatusSettings> {
  return plannedRunner({
    name: "task-status",
    testName: "task-status",
    settings: SETTINGS,
    presets: () => ["task-status.missing_rate<=0"],
    options: (c) => ({ ...taskStatusOptionsFromConfig(c), ...extra }),
    check: checkOptions,
    inputError: (problems) => new TaskStatusInputError(problems),
    plan: (ctx, options) => planTaskStatus(ctx.client, options),
    execute: async (ctx, plan, options) =>
      taskStatusPhaseResult(
        await executeTaskStatus(ctx.client, plan, options, { signal: ctx.signal, log: ctx.log.atLevel, token: ctx.config.token }),
      ),
  });
}
