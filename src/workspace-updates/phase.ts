// workspace-updates as a runner (src/scenario/runner.ts): users hold the WorkspaceUpdates stream while their
// workspaces are created. Metrics: workspace-updates.latency{num_owned_workspaces} (build start to the last
// upsert naming the workspace), workspace-updates.errors{action} (Coder's action names),
// workspace-updates.error_rate (failed users of all users). The preset `workspace-updates.error_rate<=0%` fails
// the run when any user fails, as Coder's CLI does.
import type { SettingKey } from "../config/index.ts";
import { counter, histogramSeries, latency, rate, ratio, value } from "../results/metric-set.ts";
import { plannedRunner, type PlannedState } from "../scenario/planned.ts";
import type { PhaseResult, Runner, UnitResult } from "../scenario/runner.ts";
import { checkOptions, planWorkspaceUpdates, WorkspaceUpdatesInputError, type WorkspaceUpdatesPlan } from "./plan.ts";
import { executeWorkspaceUpdates } from "./run.ts";
import { workspaceUpdatesOptionsFromConfig } from "./options.ts";
import { renderWorkspaceUpdatesText } from "./render.ts";
import type { UserUnitResult, WorkspaceUpdatesOptions, WorkspaceUpdatesResult } from "./types.ts";

const SETTINGS: readonly SettingKey[] = [
  "runId",
  "wuWorkspaceCount",
  "wuPowerUserWorkspaces",
  "wuPowerUserPercentage",
  "wuUpdatesTimeout",
  "wuDialTimeout",
  "wuTemplate",
  "wuParameters",
  "wuReuseUsers",
  "wuNoCleanup",
  "wuSetupConcurrency",
];

function unitOf(u: UserUnitResult, startedAt: number): UnitResult {
  const measured = u.workspaces.flatMap((w) => (w.latency_ms === null ? [] : [w.latency_ms]));
  return {
    testName: "workspaceupdates",
    id: String(u.index),
    name: u.username,
    ok: u.ok,
    error: u.ok ? null : `${u.action ?? "error"}: ${u.error ?? "failed"}`,
    startedAt: new Date(startedAt),
    durationMs: measured.length ? Math.max(...measured) : 0,
    stages: { dial: u.dial_ms, update: measured.length ? Math.max(...measured) : null },
    logs: u.logs.join("\n") + (u.logs.length ? "\n" : ""),
    extra: { num_owned_workspaces: u.num_owned_workspaces, kind: u.kind, reused: u.reused, updates: u.updates, workspaces: u.workspaces },
  };
}

export function workspaceUpdatesPhaseResult(r: WorkspaceUpdatesResult): PhaseResult {
  const byOwned = r.latency.filter((h) => h.labels["num_owned_workspaces"] !== undefined);
  const all = r.latency.find((h) => Object.keys(h.labels).length === 0);
  const failed = r.units.filter((u) => !u.ok).length;
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: r.units.map((u) => unitOf(u, r.started_at)),
    metrics: {
      "workspace-updates.latency": latency(...byOwned.map((h) => histogramSeries(h.summary.count ? h.hdr : "", { num_owned_workspaces: h.labels["num_owned_workspaces"]! }))),
      "workspace-updates.errors": counter("count", ...Object.entries(r.errors_by_action).map(([action, n]) => value(n ?? 0, { action }))),
      "workspace-updates.error_rate": rate(ratio(failed, r.units.length)),
    },
    headline: [
      { label: "users", value: r.units.length, unit: "count" },
      { label: "update p95", value: all && all.summary.count ? all.summary.p95 : null, unit: "ms" },
      { label: "failed users", value: failed, unit: "count" },
    ],
    errors: r.errors.slice(0, 10).map((e) => `${e.username} (${e.action}): ${e.error}`),
    stoppedEarly: r.stopped !== null,
    failed: r.cleanup && r.cleanup.exit_code !== 0 ? `cleanup left ${r.cleanup.failed.length + r.cleanup.remaining.length} resource(s)` : null,
    harnessExtra: { workspace_updates_latency_seconds: r.workspace_updates_latency_seconds, errors_by_action: r.errors_by_action },
    extra: { distribution: r.distribution, barrier_ms: r.barrier_ms, template: r.template, tokens: r.tokens, latency: r.latency, cleanup: r.cleanup },
    text: renderWorkspaceUpdatesText(r),
  };
}

export type WorkspaceUpdatesSettings = PlannedState<WorkspaceUpdatesOptions, WorkspaceUpdatesPlan>;

export function workspaceUpdatesRunner(): Runner<WorkspaceUpdatesSettings> {
  return plannedRunner({
    name: "workspace-updates",
    testName: "workspaceupdates",
    settings: SETTINGS,
    presets: () => ["workspace-updates.error_rate<=0%"],
    options: workspaceUpdatesOptionsFromConfig,
    check: checkOptions,
    inputError: (problems) => new WorkspaceUpdatesInputError(problems),
    plan: (ctx, options) => planWorkspaceUpdates(ctx.client, options),
    execute: async (ctx, plan, options) =>
      workspaceUpdatesPhaseResult(await executeWorkspaceUpdates(ctx.client, plan, options, { signal: ctx.signal, log: ctx.log.atLevel })),
  });
}
