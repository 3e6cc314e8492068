// autostart as a runner (src/scenario/runner.ts). Metrics: autostart.total / job_created / job_acquired
// (from the scheduled minute), autostart.end_to_end (from the schedule set), autostart.errors{action}
// (Coder's action names), autostart.late, autostart.error_rate. The preset `autostart.error_rate<=0%`
// fails the run when any workspace fails or is late, as Coder's CLI does.
import type { SettingKey } from "../config/index.ts";
import { counter, histogramSeries, latency, rate, ratio, value } from "../results/metric-set.ts";
import { plannedRunner, type PlannedState } from "../scenario/planned.ts";
import type { PhaseResult, Runner, UnitResult } from "../scenario/runner.ts";
import { AutostartInputError, checkOptions, planAutostart, type AutostartPlan } from "./plan.ts";
import { executeAutostart } from "./run.ts";
import { autostartOptionsFromConfig } from "./options.ts";
import { renderAutostartText } from "./render.ts";
import type { AutostartOptions, AutostartResult, AutostartRunRecord } from "./types.ts";
import type { UserSource } from "./users.ts";
import type { CoderClient } from "../coder/client.ts";

const SETTINGS: readonly SettingKey[] = [
  "runId",
  "asWorkspaceCount",
  "userPool",
  "asWorkspaceJobTimeout",
  "asDelay",
  "asTimeout",
  "asTemplate",
  "asParameters",
  "asNoCleanup",
  "asWatch",
];

function unitOf(r: AutostartRunRecord, startedAt: number): UnitResult {
  return {
    testName: "autostart",
    id: String(r.index),
    name: r.workspace_name,
    ok: r.ok,
    error: r.ok ? null : `${r.action ?? "error"}: ${r.error ?? "failed"}`,
    startedAt: new Date(startedAt),
    durationMs: r.total_ms ?? 0,
    stages: {
      user: r.setup.user_ms,
      create: r.setup.create_ms,
      start_build: r.setup.start_build_ms,
      stop_build: r.setup.stop_build_ms,
      job_created: r.job_created_ms,
      job_acquired: r.job_acquired_ms,
      total: r.total_ms,
      end_to_end: r.end_to_end_ms,
    },
    logs: r.logs.join("\n") + (r.logs.length ? "\n" : ""),
    extra: {
      // Coder's harness metrics of an autostart run (scaletest/autostart/output.go ToHarnessResults).
      metrics: {
        end_to_end_latency_seconds: (r.end_to_end_ms ?? 0) / 1000,
        trigger_to_completion_seconds: (r.total_ms ?? 0) / 1000,
        workspace_id: r.workspace_id ?? "",
        workspace_name: r.workspace_name,
      },
      username: r.username,
      workspace_id: r.workspace_id,
      reused_user: r.reused_user,
      times: r.times,
      build: r.build,
      updates: r.updates,
      dropped_updates: r.dropped_updates,
    },
  };
}

export function autostartPhaseResult(r: AutostartResult): PhaseResult {
  const dist = (name: string) => r.latency.find((h) => h.metric === name);
  const series = (name: string) => {
    const h = dist(name);
    return latency(histogramSeries(h && h.summary.count ? h.hdr : ""));
  };
  const total = dist("total");
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: r.runs.map((u) => unitOf(u, r.started_at)),
    metrics: {
      "autostart.total": series("total"),
      "autostart.job_created": series("job_created"),
      "autostart.job_acquired": series("job_acquired"),
      "autostart.end_to_end": series("end_to_end"),
      "autostart.errors": counter("count", ...Object.entries(r.errors_by_action).map(([action, n]) => value(n ?? 0, { action }))),
      "autostart.late": counter("count", value(r.late.length)),
      "autostart.error_rate": rate(ratio(r.fail, r.runs.length)),
    },
    headline: [
      { label: "workspaces", value: r.runs.length, unit: "count" },
      { label: "trigger to completion p95", value: total && total.summary.count ? total.summary.p95 : null, unit: "ms" },
      { label: "late", value: r.late.length, unit: "count" },
      { label: "failed", value: r.fail, unit: "count" },
    ],
    errors: [
      ...(r.late.length ? [`late (no autostart build done by --autostart-timeout): ${r.late.join(", ")}`] : []),
      ...r.errors.filter((e) => !r.late.includes(e.workspace_name)).slice(0, 10).map((e) => `${e.workspace_name} (${e.action}): ${e.error}`),
    ],
    stoppedEarly: r.stopped !== null,
    failed: r.cleanup && r.cleanup.exit_code !== 0 ? `cleanup left ${r.cleanup.failed.length + r.cleanup.remaining.length} resource(s)` : null,
    harnessExtra: { autostart_results: r.coder, errors_by_action: r.errors_by_action },
    extra: {
      results: r.coder,
      watch: r.watch,
      schedule: r.schedule,
      scheduled_for: r.scheduled_for === null ? null : new Date(r.scheduled_for).toISOString(),
      barrier_ms: r.barrier_ms,
      late: r.late,
      template: r.template,
      tokens: r.tokens,
      latency: r.latency,
      cleanup: r.cleanup,
    },
    text: renderAutostartText(r),
  };
}

export type AutostartSettings = PlannedState<AutostartOptions, AutostartPlan>;

export interface AutostartRunnerOptions {
  /**
   * Where the users come from (default: one new user per workspace). A user pool plugs in here; note that
   * the run's cleanup removes only what its own users own (the ownership rule), so a source handing out
   * users of another run must remove their workspaces itself (e.g. in release()).
   */
  users?: (client: CoderClient, plan: AutostartPlan) => UserSource;
}

export function autostartRunner(o: AutostartRunnerOptions = {}): Runner<AutostartSettings> {
  return plannedRunner({
    name: "autostart",
    testName: "autostart",
    settings: SETTINGS,
    presets: () => ["autostart.error_rate<=0%"],
    options: autostartOptionsFromConfig,
    check: checkOptions,
    inputError: (problems) => new AutostartInputError(problems),
    plan: (ctx, options) => planAutostart(ctx.client, options),
    execute: async (ctx, plan, options) =>
      autostartPhaseResult(
        await executeAutostart(ctx.client, plan, options, { signal: ctx.signal, log: ctx.log.atLevel }, o.users?.(ctx.client, plan)),
      ),
  });
}
