// The greedy agent (as in Coder's runner): one extra workspace, created after the others, that is
// flooded with traffic during the middle third of each workspace-traffic scenario, so the report shows
// what one noisy neighbour does to everyone else. Its name continues the run's numbering
// (scaletest-<run>-<count>), so cleanup finds it and the scenarios' slices (0..count) never include it.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { planCreate, type CreatePlan } from "../create/index.ts";
import type { PhaseRecord } from "../results/summary.ts";
import { runTrafficScenario, trafficPhaseRecord } from "../traffic/scenario.ts";
import { indexWidth, resourceName } from "../util/naming.ts";
import { log } from "../util/log.ts";
import { createOptions } from "./create-phase.ts";
import { sleep } from "../util/sleep.ts";
import type { ScenarioPlan } from "./plan.ts";

/** Validates the greedy template and fixes the greedy workspace's name (nothing is created). */
export async function planGreedy(client: CoderClient, c: Config): Promise<CreatePlan> {
  const plan = await planCreate(client, { ...createOptions(c), count: 1, template: c.greedyAgentTemplate, parameters: [] });
  return { ...plan, names: [resourceName(c.runId, c.workspaces, indexWidth(c.workspaces))] };
}

export function greedyCreateOptions(c: Config) {
  return { ...createOptions(c), count: 1, template: c.greedyAgentTemplate, parameters: [], noCleanup: true };
}

/** The greedy flood for one scenario: waits a third of it, floods for a third. Dashboard has none. */
export async function greedyTraffic(client: CoderClient, c: Config, s: ScenarioPlan, signal: AbortSignal): Promise<PhaseRecord | null> {
  if (s.scenario === "dashboard") return null;
  const third = Math.floor(s.durationMs / 3);
  await sleep(third, signal);
  if (signal.aborted) return null;
  // SSH scenarios flood over SSH; the others over the web terminal, as Coder's runner does.
  const kind = s.scenario === "ssh" ? "ssh" : "web-terminal";
  const flood: Config =
    kind === "ssh"
      ? { ...c, sshBytesPerTick: c.greedyBytesPerTick, sshTickInterval: c.greedyTickInterval }
      : { ...c, webTerminalBytesPerTick: c.greedyBytesPerTick, webTerminalTickInterval: c.greedyTickInterval };
  log.info(`greedy agent: flooding ${kind} traffic for ${Math.round(third / 1000)}s during ${s.phase}`);
  const result = await runTrafficScenario(client, flood, kind, {
    signal,
    targetRange: `${c.workspaces}:${c.workspaces + 1}`,
    durationMs: Math.max(1000, third),
    log,
    // The flood must not count as the scenario's own traffic in the shared metrics.
    metrics: null,
  });
  // The flood's own errors are reported, but it has no threshold: it is there to stress, not to be judged.
  return trafficPhaseRecord(result, c.runId, `${s.phase}-greedy-agent`, 100);
}
