// One load scenario inside the pipeline: the same library calls the scenario scripts make, on the
// scenario's own slice of the run's workspaces (users, for dashboard) and its own settings.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { dashboardPhaseRecord, runDashboardTraffic } from "../dashboard/index.ts";
import type { PhaseRecord } from "../results/summary.ts";
import { log } from "../util/log.ts";
import type { ScenarioPlan } from "./plan.ts";
import { runTrafficPhase } from "./traffic-phase.ts";

export async function runLoadScenario(
  client: CoderClient,
  c: Config,
  s: ScenarioPlan,
  signal: AbortSignal,
  phaseDir: string | null,
): Promise<PhaseRecord> {
  if (s.scenario === "dashboard") {
    const result = await runDashboardTraffic(
      client,
      {
        mode: c.dashboardMode,
        hostToken: c.token,
        runId: c.runId,
        concurrency: c.dashboardConcurrency,
        durationMs: s.durationMs,
        thinkTimeMs: c.thinkTime,
        intervalMs: c.dashboardInterval,
        jitterMs: c.dashboardJitter,
        useHostLogin: c.useHostLogin,
        targetUsers: s.slice.spec,
        chromiumPath: c.chromiumPath,
        ...(phaseDir ? { screenshotDir: phaseDir } : {}),
        thresholds: {
          p95Ms: c.thresholdDashboardP95,
          p99Ms: c.thresholdDashboardP99,
          maxErrorRatePct: c.thresholdDashboardErrorRate,
        },
        log,
      },
      { signal },
    );
    return dashboardPhaseRecord(result, c.runId, s.phase);
  }
  return runTrafficPhase(client, c, s, signal, phaseDir);
}
