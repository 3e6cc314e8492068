// The greedy agent (as in Coder's runner): one extra workspace, created after the others, that is
// flooded with traffic during the middle third of each workspace-traffic scenario, so the report shows
// what one noisy neighbour does to everyone else. Its name continues the run's numbering
// (scaletest-<run>-<count>), so cleanup finds it and the scenarios' slices (0..count) never include it.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { createOptionsFromConfig, planCreate, type CreatePlan } from "../create/index.ts";
import { trafficRunner, type TrafficSettings } from "../traffic/scenario.ts";
import { indexWidth, resourceName } from "../util/naming.ts";
import type { ScenarioPlan } from "./plan.ts";

/** Validates the greedy template and fixes the greedy workspace's name (nothing is created). */
export async function planGreedy(client: CoderClient, c: Config): Promise<CreatePlan> {
  const plan = await planCreate(client, { ...createOptionsFromConfig(c, c.thresholdCreateSuccess), count: 1, template: c.greedyAgentTemplate, parameters: [] });
  return { ...plan, names: [resourceName(c.runId, c.workspaces, indexWidth(c.workspaces))] };
}

/**
 * The flood for one scenario (none for dashboard): SSH scenarios flood over SSH, the others over the web
 * terminal, as Coder's runner does, for a third of the scenario, to the greedy workspace only. It is not
 * judged (it is there to stress) and stays out of the shared traffic metrics.
 */
export function greedyFlood(c: Config, s: ScenarioPlan) {
  if (s.scenario === "dashboard") return null;
  const kind = s.scenario === "ssh" ? "ssh" : "web-terminal";
  const config: Config =
    kind === "ssh"
      ? { ...c, sshBytesPerTick: c.greedyBytesPerTick, sshTickInterval: c.greedyTickInterval, thresholdTrafficErrorRate: 100 }
      : { ...c, webTerminalBytesPerTick: c.greedyBytesPerTick, webTerminalTickInterval: c.greedyTickInterval, thresholdTrafficErrorRate: 100 };
  const runner = trafficRunner(kind);
  const third = Math.floor(s.durationMs / 3);
  const settings: TrafficSettings = {
    ...runner.validate(config, { range: `${c.workspaces}:${c.workspaces + 1}`, durationMs: Math.max(1000, third) }),
  };
  settings.opts.metrics = null;
  return { runner, settings, config, delayMs: third, phase: `${s.phase}-greedy-agent` };
}
