// dynamic-parameters: Coder's load of template parameter evaluation (`coder exp scaletest
// dynamic-parameters`). Prepare one distinct template version per partition of --concurrent-evaluations
// (./setup.ts), then run every session at once (Coder's concurrent strategy), each bounded by
// --job-timeout and the whole run by --timeout. Nothing is left to clean up: the sessions only read, and
// the versions stay as Coder's tool leaves them (a template's versions are its history).
import type { LogFn } from "../util/log.ts";
import type { CoderClient } from "../coder/client.ts";
import { runUnits, type BoundRunUnits } from "../scenario/units.ts";
import { withTimeout } from "../util/abort.ts";
import { stopCauseOf } from "../util/signals.ts";
import { dynamicParametersMetrics } from "./metrics.ts";
import { planDynamicParameters } from "./plan.ts";
import { runSession, type SessionSpec } from "./session.ts";
import { setupPartitions, type SetupOutcome } from "./setup.ts";
import type { DynamicParametersOptions, DynamicParametersPlan, DynamicParametersResult, SessionResult, SessionStage, StopReason } from "./types.ts";

export interface DynamicParametersHooks {
  signal?: AbortSignal;
  log?: LogFn;
  /** The harness's unit runner (RunnerContext.runUnits); default: the same runner, bound to `signal` only. */
  runUnits?: BoundRunUnits;
  onSessionDone?: (s: SessionResult) => void;
}

export async function runDynamicParameters(client: CoderClient, o: DynamicParametersOptions, hooks: DynamicParametersHooks = {}): Promise<DynamicParametersResult> {
  return executeDynamicParameters(client, await planDynamicParameters(client, o), o, hooks);
}

function stopReasonOf(signal: AbortSignal | undefined, timer: AbortSignal | undefined): StopReason | null {
  return stopCauseOf(signal) ?? (timer?.aborted ? "timeout" : null);
}

export async function executeDynamicParameters(
  client: CoderClient,
  plan: DynamicParametersPlan,
  o: DynamicParametersOptions,
  hooks: DynamicParametersHooks = {},
): Promise<DynamicParametersResult> {
  const log = hooks.log ?? (() => {});
  const startedAt = Date.now();
  const t0 = performance.now();
  const { signal: stop, timer } = withTimeout(hooks.signal, o.timeoutMs);
  const stopReason = (): StopReason | null => stopReasonOf(hooks.signal, timer);
  const metrics = dynamicParametersMetrics();

  let setup: SetupOutcome;
  try {
    setup = await setupPartitions(client, plan, o, { signal: stop, log });
  } catch (e) {
    // The versions could not be prepared: no session runs, and the run fails with the reason.
    const reason = stopReason();
    const error = reason ? `stopped (${reason}) while preparing the template versions` : `setup dynamic parameters partitions: ${(e as Error).message}`;
    log("error", error);
    return result(plan, o, null, [], startedAt, performance.now() - t0, performance.now() - t0, reason, error);
  }
  const setupMs = performance.now() - t0;
  const specs: SessionSpec[] = [];
  for (const part of setup.partitions) {
    for (let j = 0; j < part.concurrent_evaluations; j++) {
      specs.push({ id: `${j}/${part.index}`, partition: part.index, concurrentEvaluations: part.concurrent_evaluations, versionId: part.version.id });
    }
  }
  log("info", `running ${specs.length} concurrent evaluation session(s) over ${setup.partitions.length} version(s)`);
  const sessions = await (hooks.runUnits ?? runUnits)(specs, { concurrency: 0, signal: stop, unitTimeoutMs: o.jobTimeoutMs }, {
    run: (spec, _i, unit) =>
      runSession(client, spec, unit.signal, () =>
        unit.timer?.aborted && !stop.aborted ? `--job-timeout ${o.jobTimeoutMs} ms exceeded` : `stopped (${stopReason() ?? "aborted"})`,
      ),
    notStarted: (spec) => ({
      id: spec.id, partition: spec.partition, concurrent_evaluations: spec.concurrentEvaluations, version_id: spec.versionId, started_at: Date.now(),
      ok: false, not_started: true, initial_ms: null, change_ms: null, failed_stage: null, error: `not started: the run stopped first (${stopReason() ?? "stopped"})`, logs: [],
    }),
    onDone: (s) => {
      if (s.initial_ms !== null) metrics.initial(s.initial_ms / 1000, s.concurrent_evaluations);
      if (s.change_ms !== null) metrics.change(s.change_ms / 1000, s.concurrent_evaluations);
      if (!s.ok && !s.not_started) log("warn", `session ${s.id} failed (${s.failed_stage}): ${s.error}`);
      hooks.onSessionDone?.(s);
    },
  });
  return result(plan, o, setup, sessions, startedAt, performance.now() - t0, setupMs, stopReason(), null);
}

function result(
  plan: DynamicParametersPlan,
  o: DynamicParametersOptions,
  setup: SetupOutcome | null,
  sessions: SessionResult[],
  startedAt: number,
  elapsedMs: number,
  setupMs: number,
  stopped: StopReason | null,
  setupError: string | null,
): DynamicParametersResult {
  const byStage: Partial<Record<SessionStage, number>> = {};
  for (const s of sessions) if (!s.ok && s.failed_stage) byStage[s.failed_stage] = (byStage[s.failed_stage] ?? 0) + 1;
  const pass = sessions.filter((s) => s.ok).length;
  return {
    run_id: o.runId,
    template: { name: o.template.trim(), id: setup?.templateId ?? plan.template?.id ?? "", created: setup?.templateCreated ?? false },
    parts: plan.parts,
    partitions: setup?.partitions ?? [],
    started_at: startedAt,
    elapsed_ms: elapsedMs,
    setup_ms: setupMs,
    setup_error: setupError,
    sessions,
    pass,
    fail: sessions.length - pass,
    errors_by_stage: byStage,
    stopped,
    exit_code: setupError === null && pass === sessions.length && sessions.length > 0 && stopped === null ? 0 : 1,
  };
}
