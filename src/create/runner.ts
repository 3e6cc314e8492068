// create-workspaces: validate, then create `count` workspaces with bounded concurrency, each as one
// unit (./unit.ts); stop starting work on a stop signal or the whole-run timeout; summarise; and
// clean up what was created unless told not to.
import type { CoderClient } from "../coder/client.ts";
import { cleanupRun } from "../cleanup/cleanup.ts";
import type { CleanupOptions, CleanupResult } from "../cleanup/types.ts";
import { summarize, type StatsSummary } from "../results/stats.ts";
import { runUnits } from "../scenario/units.ts";
import { withTimeout } from "../util/abort.ts";
import { startProgress } from "../util/progress.ts";
import { stopCauseOf } from "../util/signals.ts";
import { createMetrics } from "./metrics.ts";
import { planCreate } from "./plan.ts";
import { CreateTracker } from "./tracker.ts";
import { CREATE_STAGES, type CreateHooks, type CreateOptions, type CreatePlan, type CreateResult, type CreateStage, type StopReason, type WorkspaceUnitResult } from "./types.ts";
import { notStartedUnit, runUnit } from "./unit.ts";
import { leaseUsers, type UserLease } from "../users/pool.ts";

export interface CreateCleanupOptions {
  /** Leave everything in place (--no-cleanup). */
  noCleanup?: boolean;
  cleanup?: Omit<CleanupOptions, "runId" | "all">;
}

/** Validates (throwing CreateInputError before anything is created), creates, and cleans up unless noCleanup. */
export async function createWorkspaces(
  client: CoderClient,
  opts: CreateOptions & CreateCleanupOptions,
  hooks: CreateHooks = {},
): Promise<CreateResult> {
  const plan = await planCreate(client, opts);
  return executeCreate(client, plan, opts, hooks);
}

function stopReasonOf(signal: AbortSignal | undefined, timer: AbortSignal | undefined): StopReason | null {
  return stopCauseOf(signal) ?? (timer?.aborted ? "timeout" : null);
}

/** Runs a validated plan (see planCreate). */
export async function executeCreate(
  client: CoderClient,
  plan: CreatePlan,
  opts: CreateOptions & CreateCleanupOptions,
  hooks: CreateHooks = {},
): Promise<CreateResult> {
  const log = hooks.log ?? (() => {});
  const startedAt = Date.now();
  const t0 = performance.now();
  const { signal: stop, timer } = withTimeout(hooks.signal, opts.timeoutMs);
  const stopReason = (): StopReason | null => stopReasonOf(hooks.signal, timer);
  const tracker = new CreateTracker(plan.names.length);
  const metrics = createMetrics();
  const progress =
    hooks.progress === false
      ? null
      : startProgress({
          label: hooks.progress?.label ?? "create-workspaces",
          ...(hooks.progress?.tty !== undefined ? { tty: hooks.progress.tty } : {}),
          ...(hooks.progress?.intervalMs !== undefined ? { intervalMs: hooks.progress.intervalMs } : {}),
        });
  progress?.update(() => tracker.render());
  log(
    "info",
    `creating ${plan.names.length} workspace(s) ${plan.names[0]}..${plan.names[plan.names.length - 1]} from template ` +
      `${plan.template.name} (concurrency ${opts.concurrency === 0 ? "unlimited" : opts.concurrency}, retry ${opts.retry})`,
  );

  // With a pool: one token per borrowed user, minted for this run (bounded to the run) and revoked below.
  let lease: UserLease | null = null;
  if (plan.poolUsers && opts.userPool) {
    lease = await leaseUsers(client, plan.poolUsers, {
      runId: plan.runId,
      purpose: "create",
      lifetimeMs: (opts.timeoutMs > 0 ? opts.timeoutMs : opts.jobTimeoutMs * 4) + 3600_000,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      log,
    });
    log("info", `borrowing ${lease.users.length} user(s) of pool ${opts.userPool} (a token each, revoked at the end)`);
  }
  const ctx = {
    client,
    plan,
    opts,
    stop,
    stopReason,
    ...(lease ? { pool: lease.users } : {}),
    onStage: (stage: CreateStage, ms: number) => {
      tracker.stage(stage, ms);
      metrics.stage(stage, ms);
      hooks.onStage?.(stage, ms);
    },
  };
  // The shared unit runner: concurrency, no unit started after the stop, each bounded by --job-timeout.
  const units = await (hooks.runUnits ?? runUnits)(plan.names, { concurrency: opts.concurrency, signal: stop, unitTimeoutMs: opts.jobTimeoutMs }, {
    run: (_name, index, unit) => {
      tracker.started();
      metrics.started();
      return runUnit(ctx, index, unit);
    },
    notStarted: (_name, index) => notStartedUnit(plan, index, stopReason(), Boolean(opts.useHostLogin)),
    onStopped: () => log("warn", `stopping (${stopReason()}): no new workspaces are started; waiting for those in flight`),
    onDone: (unit) => {
      tracker.finished(unit);
      metrics.finished(unit);
      if (!unit.ok && !unit.not_started) log("warn", `${unit.name} failed during ${unit.failed_stage}: ${unit.error?.split("\n")[0]}`);
      hooks.onUnitDone?.(unit);
    },
  });
  const elapsed = performance.now() - t0;
  progress?.done(tracker.render());
  const tokens = lease ? await lease.release() : null;

  const result = summarizeCreate(plan, opts, units, startedAt, elapsed, stopReason());
  if (tokens && opts.userPool) {
    result.user_pool = { pool: opts.userPool, users: plan.poolUsers?.length ?? 0, tokens };
    if (tokens.failed) log("warn", `${tokens.failed} token(s) minted for pool users could not be revoked (they expire on their own)`);
  }

  if (!opts.noCleanup) {
    log("info", `cleaning up run ${plan.runId} (--no-cleanup keeps the workspaces)`);
    result.cleanup = await cleanupRun(
      client,
      {
        runId: plan.runId,
        concurrency: opts.cleanup?.concurrency ?? opts.concurrency,
        timeoutMs: opts.cleanup?.timeoutMs ?? 30 * 60_000,
        jobTimeoutMs: opts.cleanup?.jobTimeoutMs ?? 5 * 60_000,
        ...(opts.cleanup?.retries !== undefined ? { retries: opts.cleanup.retries } : {}),
        ...(opts.cleanup?.pollMs !== undefined ? { pollMs: opts.cleanup.pollMs } : {}),
        ...(opts.pollMs !== undefined && opts.cleanup?.pollMs === undefined ? { pollMs: opts.pollMs } : {}),
      },
      // Not the stop signal: after an interruption, cleanup is exactly what should still run
      // (a second signal force-exits).
      { progress: hooks.progress === false ? false : { label: "cleanup", ...(hooks.progress?.tty !== undefined ? { tty: hooks.progress.tty } : {}) }, log },
    );
    if (result.cleanup.exit_code !== 0) result.exit_code = 1;
  }
  return result;
}

/** Aggregates unit records into the result (no cleanup). */
export function summarizeCreate(
  plan: CreatePlan,
  opts: CreateOptions,
  units: WorkspaceUnitResult[],
  startedAt: number,
  elapsedMs: number,
  stopped: StopReason | null,
  cleanup: CleanupResult | null = null,
): CreateResult {
  const stages = {} as Record<CreateStage, StatsSummary>;
  for (const s of CREATE_STAGES) {
    stages[s] = summarize(units.map((u) => u.timings[s]).filter((v): v is number => v !== null));
  }
  const pass = units.filter((u) => u.ok).length;
  const fail = units.length - pass;
  const successRate = units.length ? (100 * pass) / units.length : 0;
  const threshold = opts.successThreshold ?? 100;
  const retries = units.reduce((n, u) => n + Math.max(0, u.attempts.length - 1), 0);
  const belowThreshold = successRate < threshold;
  return {
    run_id: plan.runId,
    template: { name: plan.template.name, id: plan.template.id, version_id: plan.templateVersionId },
    parameters: plan.parameters,
    count: units.length,
    concurrency: opts.concurrency,
    use_host_login: Boolean(opts.useHostLogin),
    started_at: startedAt,
    elapsed_ms: elapsedMs,
    units,
    stages,
    pass,
    fail,
    success_rate: successRate,
    success_threshold: threshold,
    retries,
    stopped,
    cleanup,
    // Default threshold 100: any failed workspace fails the run. A stopped run never passes.
    exit_code: belowThreshold || stopped !== null ? 1 : 0,
  };
}
