// A workspace-traffic scenario (ssh, web-terminal, app) inside the pipeline: the scenario's slice of the
// run's workspaces, its own duration and traffic settings, recorded as a phase.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import type { PhaseRecord } from "../results/summary.ts";
import { runTrafficScenario, trafficPhaseRecord } from "../traffic/scenario.ts";
import { log } from "../util/log.ts";
import { receivedStopSignal } from "../util/signals.ts";
import type { ScenarioPlan } from "./plan.ts";

export async function runTrafficPhase(
  client: CoderClient,
  c: Config,
  s: ScenarioPlan,
  signal: AbortSignal,
  _phaseDir: string | null,
): Promise<PhaseRecord> {
  if (s.scenario === "dashboard") throw new Error("dashboard is not a workspace-traffic scenario");
  const result = await runTrafficScenario(client, c, s.scenario, {
    signal,
    targetRange: s.slice.spec,
    durationMs: s.durationMs,
    log,
  });
  return trafficPhaseRecord(result, c.runId, s.phase, c.thresholdTrafficErrorRate, signal.aborted ? receivedStopSignal() : null);
}
