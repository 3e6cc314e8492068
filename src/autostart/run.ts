// autostart: Coder's 9 a.m. storm (scaletest/autostart). Every workspace gets a user (./users.ts), is
// created, started and stopped; once all are stopped (the barrier) every workspace's autostart schedule
// is set to the same minute, --autostart-delay ahead, and each autostart build is followed on the build
// watch (./watch.ts) from job created to job acquired to done. Latencies are measured from the scheduled
// minute (Coder's job creation / acquired / total, the results' trigger_to_completion) and from when each
// schedule was set (end_to_end). A build not done by --autostart-timeout after the minute is late.
import { cleanupAfterLoad } from "../cleanup/cleanup.ts";
import type { CoderClient } from "../coder/client.ts";
import { BuildFailedError } from "../coder/errors.ts";
import type { Workspace } from "../coder/types.ts";
import { createWorkspace } from "../create/unit.ts";
import { formatMs } from "../results/stats.ts";
import { LatencyHistogram } from "../traffic/histogram.ts";
import { withTimeout } from "../util/abort.ts";
import { stopCauseOf } from "../util/signals.ts";
import { autostartMetrics } from "./metrics.ts";
import { planAutostart, type AutostartPlan } from "./plan.ts";
import { autostartTime, coderPercentile, minuteText, scheduleFor } from "./schedule.ts";
import type {
  AutostartAction,
  AutostartHooks,
  AutostartOptions,
  AutostartResult,
  AutostartRunRecord,
  CoderAutostartResults,
  LatencyDistribution,
  StopReason,
} from "./types.ts";
import { AcquireError, newUsers, poolUsers, type RunUser, type UserSource } from "./users.ts";
import { openBuildWatch, WatchClosedError, type BuildWatch, type Subscription } from "./watch.ts";

/** Names of the latency distributions in results (the catalog's autostart.<name>). */
export const LATENCY_NAMES = ["job_created", "job_acquired", "total", "end_to_end"] as const;

export async function runAutostart(client: CoderClient, opts: AutostartOptions, hooks: AutostartHooks = {}): Promise<AutostartResult> {
  const plan = await planAutostart(client, opts);
  return executeAutostart(client, plan, opts, hooks);
}

interface Unit {
  rec: AutostartRunRecord;
  user: RunUser | null;
  ws: Workspace | null;
  /** Builds that existed before the schedule was set (the stop build): never the autostart build. */
  known: Set<string>;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function newRecord(index: number, name: string): AutostartRunRecord {
  return {
    index,
    username: name,
    user_id: null,
    workspace_name: name,
    workspace_id: null,
    reused_user: false,
    ok: false,
    action: null,
    error: null,
    setup: { user_ms: null, create_ms: null, start_build_ms: null, stop_build_ms: null },
    times: { schedule_set_at: null, job_created_at: null, job_acquired_at: null, completed_at: null },
    job_created_ms: null,
    job_acquired_ms: null,
    total_ms: null,
    end_to_end_ms: null,
    build: null,
    updates: 0,
    dropped_updates: 0,
    logs: [],
  };
}

/**
 * Runs a validated plan. `users` is where the users come from (default: one new user per workspace);
 * a user pool plugs in here.
 */
export async function executeAutostart(
  client: CoderClient,
  plan: AutostartPlan,
  opts: AutostartOptions,
  hooks: AutostartHooks = {},
  users?: UserSource,
): Promise<AutostartResult> {
  const log = hooks.log ?? (() => {});
  const signal = hooks.signal;
  const clock = hooks.clock ?? { now: () => Date.now() };
  const startedAt = clock.now();
  const t0 = performance.now();
  const metrics = autostartMetrics();
  const { create } = plan;
  const pollMs = opts.pollMs ?? 1000;
  const userOpts = {
    // Bounded to just past the run: setup waits, the delay, the autostart wait, and an hour of slack.
    tokenLifetimeMs: 2 * opts.workspaceJobTimeoutMs + opts.autostartDelayMs + opts.autostartTimeoutMs + 60 * 60_000,
    ...(signal ? { signal } : {}),
  };
  const source = users ?? (create.poolUsers ? poolUsers(client, create, userOpts) : newUsers(client, create, userOpts));
  const units: Unit[] = create.names.map((name, i) => ({ rec: newRecord(i, name), user: null, ws: null, known: new Set() }));
  const late: string[] = [];
  const say = (u: Unit, msg: string): void => {
    u.rec.logs.push(`${new Date(clock.now()).toISOString()} ${msg}`);
  };
  const failUnit = (u: Unit, action: AutostartAction, error: string): void => {
    if (u.rec.action) return;
    u.rec.ok = false;
    u.rec.action = action;
    u.rec.error = error;
    metrics.error(u.rec.username, action);
    say(u, `FAILED (${action}): ${error}`);
    log("warn", `${u.rec.workspace_name} failed (${action}): ${error.split("\n")[0]}`);
  };
  const stoppedText = (): string => `stopped (${stopCauseOf(signal) ?? "aborted"})`;
  log("info", `autostart: ${units.length} workspace(s) from template ${create.template.name}; schedules set ${formatMs(opts.autostartDelayMs)} ahead after all are stopped`);

  // 1. Setup, all at once (Coder's concurrent strategy): user, workspace, start build, stop build.
  await Promise.all(units.map((u) => setupUnit(u)));
  const barrierMs = performance.now() - t0;
  const ready = units.filter((u) => u.rec.action === null);
  log("info", `barrier: ${ready.length}/${units.length} workspace(s) stopped after ${formatMs(barrierMs)}`);
  await hooks.onBarrier?.();

  // 2. One watch, then one schedule for everyone, then each workspace's autostart build.
  let watch: BuildWatch | null = null;
  let watchInfo: AutostartResult["watch"] = { mode: opts.watch ?? "all-workspace-builds", reason: "not opened: no workspace reached the barrier" };
  let scheduledFor: number | null = null;
  let schedule: string | null = null;
  if (ready.length && !signal?.aborted) {
    try {
      watch = await openBuildWatch(client, { now: clock.now, ...(opts.watch ? { force: opts.watch } : {}), ...(signal ? { signal } : {}) });
      watchInfo = { mode: watch.mode, reason: watch.reason };
      log("info", `watching autostart builds: ${watch.mode} (${watch.reason})`);
    } catch (e) {
      watchInfo = { mode: opts.watch ?? "all-workspace-builds", reason: `could not open: ${errText(e)}` };
      for (const u of ready) failUnit(u, "watch_workspace", `open the build watch: ${errText(e)}`);
    }
  } else if (ready.length) {
    for (const u of ready) failUnit(u, "update_workspace_autostart", `${stoppedText()} before the schedule was set`);
  }
  if (watch) {
    scheduledFor = autostartTime(clock.now(), opts.autostartDelayMs);
    schedule = scheduleFor(scheduledFor);
    log("info", `every autostart scheduled for ${minuteText(scheduledFor)} (${schedule}); late after ${new Date(scheduledFor + opts.autostartTimeoutMs).toISOString()}`);
    const w = watch;
    const at = scheduledFor;
    const sched = schedule;
    await Promise.all(ready.map((u) => autostartUnit(u, w, at, sched)));
    watch.close();
  }
  const elapsed = performance.now() - t0;

  // 3. Users given back (minted tokens revoked).
  const tokens = { minted: 0, revoked: 0, failed: 0 };
  for (const u of units) {
    if (!u.user) continue;
    tokens.minted++;
    if (await u.user.release()) tokens.revoked++;
    else {
      tokens.failed++;
      log("warn", `could not revoke the token minted for ${u.rec.username}`);
    }
  }

  const result = summarize(units, { create, startedAt, elapsed, barrierMs, schedule, scheduledFor, watch: watchInfo, late, stopped: stopCauseOf(signal), tokens });
  if (!opts.noCleanup) {
    log("info", `cleaning up run ${create.runId} (--no-cleanup keeps the users and workspaces)`);
    result.cleanup = await cleanupAfterLoad(client, create.runId, opts.cleanup, log);
    if (result.cleanup.exit_code !== 0) result.exit_code = 1;
  }
  return result;

  async function waitBuild(u: Unit, buildId: string, action: AutostartAction, what: string): Promise<number | null> {
    const s = performance.now();
    try {
      await u.user!.client.waitForBuild(buildId, { timeoutMs: opts.workspaceJobTimeoutMs, ...(signal ? { signal } : {}), pollMs });
      return performance.now() - s;
    } catch (e) {
      const why = signal?.aborted
        ? stoppedText()
        : e instanceof BuildFailedError
          ? e.message.split("\n")[0]!
          : `--workspace-job-timeout ${formatMs(opts.workspaceJobTimeoutMs)}: ${errText(e).split("\n")[0]}`;
      failUnit(u, action, `${what}: ${why}`);
      return null;
    }
  }

  async function setupUnit(u: Unit): Promise<void> {
    if (signal?.aborted) return failUnit(u, "create_user", `not started: ${stoppedText()} first`);
    let s = performance.now();
    try {
      u.user = await source.acquire(u.rec.index);
    } catch (e) {
      return failUnit(u, e instanceof AcquireError ? e.action : "create_user", errText(e));
    }
    u.rec.setup.user_ms = performance.now() - s;
    u.rec.username = u.user.user.username;
    u.rec.user_id = u.user.user.id;
    u.rec.reused_user = u.user.reused;
    say(u, `${u.user.reused ? "reusing" : "created"} user ${u.rec.username} (${u.rec.user_id})`);
    // As that user: the workspace, and its first start build.
    s = performance.now();
    try {
      u.ws = await createWorkspace(u.user.client, create, u.user.user.id, u.rec.workspace_name);
    } catch (e) {
      return failUnit(u, "create_workspace", `create workspace ${u.rec.workspace_name}: ${errText(e)}`);
    }
    u.rec.setup.create_ms = performance.now() - s;
    u.rec.workspace_id = u.ws.id;
    u.known.add(u.ws.latest_build.id);
    say(u, `created workspace ${u.ws.name} (${u.ws.id})`);
    const started = await waitBuild(u, u.ws.latest_build.id, "wait_for_initial_build", "initial start build");
    if (started === null) return;
    u.rec.setup.start_build_ms = started;
    // Stopped, so the executor may start it.
    let stopId: string;
    try {
      stopId = (await u.user.client.createBuild(u.ws.id, { transition: "stop" })).id;
    } catch (e) {
      return failUnit(u, "create_stop_build", `create stop build: ${errText(e)}`);
    }
    u.known.add(stopId);
    const stopped = await waitBuild(u, stopId, "wait_for_stop_build", "stop build");
    if (stopped === null) return;
    u.rec.setup.stop_build_ms = stopped;
    say(u, "workspace stopped; waiting for the others (barrier)");
  }

  async function autostartUnit(u: Unit, watch: BuildWatch, at: number, sched: string): Promise<void> {
    const wsId = u.ws!.id;
    let sub: Subscription;
    try {
      sub = await watch.subscribe(wsId, u.user!.client);
    } catch (e) {
      return failUnit(u, "watch_workspace", `watch workspace: ${errText(e)}`);
    }
    try {
      // End to end counts from the moment the schedule is sent (the server may act on it at once).
      const setAt = clock.now();
      try {
        await u.user!.client.request("PUT", `/workspaces/${encodeURIComponent(wsId)}/autostart`, {
          body: { schedule: sched },
          expect: [204],
          idempotent: true,
          ...(signal ? { signal } : {}),
        });
      } catch (e) {
        return failUnit(u, "update_workspace_autostart", `update workspace autostart: ${errText(e)}`);
      }
      u.rec.times.schedule_set_at = setAt;
      say(u, `autostart schedule set: ${sched}`);
      await waitAutostart(u, sub, at, setAt);
    } finally {
      u.rec.updates = sub.received;
      u.rec.dropped_updates = sub.dropped;
      sub.close();
    }
  }

  async function waitAutostart(u: Unit, sub: Subscription, at: number, setAt: number): Promise<void> {
    const deadline = at + opts.autostartTimeoutMs;
    const { signal: waitSignal, timer } = withTimeout(signal, Math.max(1, deadline - clock.now()));
    let last = "no autostart build seen";
    let buildId = "";
    for (;;) {
      let upd;
      try {
        upd = await sub.next(waitSignal);
      } catch (e) {
        if (timer?.aborted && !signal?.aborted) {
          late.push(u.rec.workspace_name);
          return failUnit(
            u,
            "wait_for_autostart_build",
            `late: no autostart build finished by ${new Date(deadline).toISOString()} (--autostart-timeout ${formatMs(opts.autostartTimeoutMs)} after the scheduled ${minuteText(at)}); ${last}`,
          );
        }
        if (signal?.aborted) return failUnit(u, "wait_for_autostart_build", `${stoppedText()} while waiting for the autostart build; ${last}`);
        return failUnit(u, "wait_for_autostart_build", `${e instanceof WatchClosedError ? e.message : errText(e)}; ${last}`);
      }
      if (u.known.has(upd.build_id)) continue;
      if (upd.transition !== "start") {
        return failUnit(u, "wait_for_autostart_build", `unexpected ${upd.transition} build #${upd.build_number} instead of the autostart`);
      }
      buildId = upd.build_id;
      last = `last seen: build #${upd.build_number} job ${upd.job_status}`;
      const t = u.rec.times;
      if (t.job_created_at === null) {
        t.job_created_at = upd.at;
        u.rec.job_created_ms = upd.at - at;
        metrics.jobCreation(u.rec.job_created_ms / 1000, u.rec.username, u.rec.workspace_name);
      }
      if ((upd.job_status === "running" || upd.job_status === "succeeded") && t.job_acquired_at === null) {
        t.job_acquired_at = upd.at;
        u.rec.job_acquired_ms = upd.at - at;
        metrics.jobAcquired(u.rec.job_acquired_ms / 1000, u.rec.username, u.rec.workspace_name);
      }
      if (upd.job_status === "failed" || upd.job_status === "canceled") {
        return failUnit(u, "wait_for_autostart_build", `autostart build #${upd.build_number} ${upd.job_status}`);
      }
      if (upd.job_status === "succeeded") {
        t.completed_at = upd.at;
        u.rec.total_ms = upd.at - at;
        u.rec.end_to_end_ms = upd.at - setAt;
        metrics.total(u.rec.total_ms / 1000, u.rec.username, u.rec.workspace_name);
        break;
      }
    }
    u.rec.ok = true;
    say(u, `autostart build done ${formatMs(u.rec.total_ms)} after the scheduled minute (${formatMs(u.rec.end_to_end_ms)} after the schedule was set)`);
    // The server's own record of it: its reason and job timestamps.
    try {
      const b = await client.workspaceBuild(buildId);
      u.rec.build = {
        id: b.id,
        number: b.build_number,
        reason: b.reason ?? null,
        job_created_at: b.job?.created_at ?? null,
        job_started_at: b.job?.started_at ?? null,
        job_completed_at: b.job?.completed_at ?? null,
      };
    } catch (e) {
      say(u, `could not read the autostart build ${buildId}: ${errText(e)}`);
    }
  }
}

interface SummaryInput {
  create: AutostartPlan["create"];
  startedAt: number;
  elapsed: number;
  barrierMs: number;
  schedule: string | null;
  scheduledFor: number | null;
  watch: AutostartResult["watch"];
  late: string[];
  stopped: StopReason | null;
  tokens: AutostartResult["tokens"];
}

/** Go's Duration.Milliseconds(): whole milliseconds, truncated toward zero. */
const wholeMs = (ms: number | null): number => Math.trunc(ms ?? 0);

/** Coder's results JSON from the runs (scaletest/autostart/output.go MarshalJSON: int64 milliseconds). */
export function coderResults(runs: readonly AutostartRunRecord[]): CoderAutostartResults {
  const ok = runs.filter((r) => r.ok);
  const e2e = ok.map((r) => wholeMs(r.end_to_end_ms));
  const ttc = ok.map((r) => wholeMs(r.total_ms));
  return {
    total_runs: runs.length,
    successful_runs: ok.length,
    failed_runs: runs.length - ok.length,
    end_to_end_latency_p50_ms: coderPercentile(e2e, 0.5),
    end_to_end_latency_p95_ms: coderPercentile(e2e, 0.95),
    end_to_end_latency_p99_ms: coderPercentile(e2e, 0.99),
    trigger_to_completion_p50_ms: coderPercentile(ttc, 0.5),
    trigger_to_completion_p95_ms: coderPercentile(ttc, 0.95),
    trigger_to_completion_p99_ms: coderPercentile(ttc, 0.99),
    runs: runs.map((r) => ({
      workspace_id: r.workspace_id ?? "",
      workspace_name: r.workspace_name,
      success: r.ok,
      ...(r.error ? { error: r.error } : {}),
      end_to_end_latency_ms: wholeMs(r.end_to_end_ms),
      trigger_to_completion_ms: wholeMs(r.total_ms),
    })),
  };
}

function summarize(units: Unit[], s: SummaryInput): AutostartResult {
  const runs = units.map((u) => u.rec);
  const pick: Record<(typeof LATENCY_NAMES)[number], (r: AutostartRunRecord) => number | null> = {
    job_created: (r) => r.job_created_ms,
    job_acquired: (r) => r.job_acquired_ms,
    total: (r) => r.total_ms,
    end_to_end: (r) => r.end_to_end_ms,
  };
  const latency: LatencyDistribution[] = LATENCY_NAMES.map((metric) => {
    const h = new LatencyHistogram();
    for (const r of runs) {
      const v = pick[metric](r);
      // A server clock ahead of ours can put an event before the minute: recorded as 0, kept raw in the run.
      if (v !== null) h.record(Math.max(0, v));
    }
    return { metric, summary: h.percentiles(), hdr: h.encode() };
  });
  const errors = runs
    .filter((r) => r.action !== null)
    .map((r) => ({ username: r.username, workspace_name: r.workspace_name, action: r.action!, error: r.error ?? "" }));
  const byAction: AutostartResult["errors_by_action"] = {};
  for (const e of errors) byAction[e.action] = (byAction[e.action] ?? 0) + 1;
  const pass = runs.filter((r) => r.ok).length;
  const c = s.create;
  return {
    run_id: c.runId,
    template: { name: c.template.name, id: c.template.id, version_id: c.templateVersionId },
    started_at: s.startedAt,
    elapsed_ms: s.elapsed,
    barrier_ms: s.barrierMs,
    schedule: s.schedule,
    scheduled_for: s.scheduledFor,
    watch: s.watch,
    runs,
    latency,
    coder: coderResults(runs),
    errors,
    errors_by_action: byAction,
    late: [...s.late].sort(),
    pass,
    fail: runs.length - pass,
    stopped: s.stopped,
    cleanup: null,
    tokens: s.tokens,
    // As Coder's CLI: any failed workspace fails the run; a stopped run never passes.
    exit_code: pass === runs.length && s.stopped === null ? 0 : 1,
  };
}
