// Read-only checks shared by the real run and --dry-run, before anything is created or written: every
// phase's runner validates its settings (bad input is refused as BadInputError), the token is an Owner's,
// the template and parameters resolve.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { cleanupRunner, type CleanupSettings } from "../cleanup/phase.ts";
import type { CreatePlan } from "../create/index.ts";
import { createRunner, type CreateSettings } from "../create/phase.ts";
import { dashboardRunner } from "../dashboard/index.ts";
import type { Runner } from "../scenario/runner.ts";
import { sshPreflight, trafficRunner } from "../traffic/scenario.ts";
import { BadInputError } from "../util/errors.ts";
import { planGreedy } from "./greedy.ts";
import { buildPlan, type Plan, type ScenarioPlan } from "./plan.ts";
import { shardedTraffic } from "./shards.ts";
import { workspaceUpdatesRunner, type WorkspaceUpdatesSettings } from "../workspace-updates/phase.ts";
import { dynamicParametersRunner, type DynamicParametersSettings } from "../dynamic-parameters/phase.ts";

export interface ScenarioPhase {
  plan: ScenarioPlan;
  runner: Runner<unknown>;
  settings: unknown;
}

export interface Preflight {
  plan: Plan;
  version: string;
  externalUrl: string;
  create: CreateSettings;
  createPlan: CreatePlan;
  greedy: CreateSettings | null;
  scenarios: ScenarioPhase[];
  /** --workspace-updates: the phase after the load scenarios, planned (names after the run's workspaces). */
  workspaceUpdates: WorkspaceUpdatesSettings | null;
  /** --dynamic-parameters: the phase after workspace-updates, validated and planned (read-only). */
  dynamicParameters: DynamicParametersSettings | null;
  cleanup: CleanupSettings;
}

/** The runner of a load scenario of the plan, with the pipeline's slice and duration. */
export function scenarioPhase(c: Config, s: ScenarioPlan): ScenarioPhase {
  const runner = (s.scenario === "dashboard" ? dashboardRunner : trafficRunner(s.scenario, shardedTraffic(c, s))) as Runner<unknown>;
  return { plan: s, runner, settings: runner.validate(c, { range: s.slice.spec, durationMs: s.durationMs }) };
}

export async function preflight(client: CoderClient, c: Config): Promise<Preflight> {
  const plan = buildPlan(c);
  const creator = createRunner({ pipeline: true });
  const scenarios = plan.scenarios.map((s) => scenarioPhase(c, s));
  const cleanup = cleanupRunner({ runId: c.runId }).validate(c, {});
  const me = await client.me();
  const roles = (me.roles ?? []).map((r) => r.name);
  if (!roles.includes("owner")) {
    throw new BadInputError(`the session token belongs to ${me.username}, who is not an Owner (roles: ${roles.join(", ") || "none"}): scale tests need an Owner`);
  }
  // SSH traffic needs the coder CLI: found and reaching this deployment, before anything is created.
  // The coder CLI is there and runs; it is handed no token here (the Owner's must reach no child): the ssh
  // phase's prepare checks it against the deployment with the run token it will use.
  if (plan.scenarios.some((s) => s.scenario === "ssh")) await sshPreflight(c, "");
  const info = await client.buildInfo();
  const create = creator.validate(c, {});
  const createPlan = (await creator.prepare!({ client } as never, create)).plan!;
  const greedyPlan = c.greedyAgent ? await planGreedy(client, c) : null;
  const greedy = greedyPlan ? { ...create, options: { ...create.options, count: 1, template: c.greedyAgentTemplate, parameters: [] }, plan: greedyPlan } : null;
  const workspaceUpdates = c.wuPhase ? await planPipelineWorkspaceUpdates(client, c) : null;
  const dp = dynamicParametersRunner();
  const dynamicParameters = c.dpPhase ? await dp.prepare!({ client } as never, dp.validate(c, {})) : null;
  return { plan, version: info.version, externalUrl: info.dashboard_url ?? c.url, create: { ...create, plan: createPlan }, createPlan, greedy, scenarios, workspaceUpdates, dynamicParameters, cleanup };
}

/**
 * workspace-updates in the pipeline: its users and workspaces follow the run's own (and the greedy agent's)
 * indexes under the same run id, and are left to the pipeline's cleanup strategy.
 */
async function planPipelineWorkspaceUpdates(client: CoderClient, c: Config): Promise<WorkspaceUpdatesSettings> {
  const runner = workspaceUpdatesRunner();
  const s = runner.validate(c, {});
  const parameters = s.options.parameters?.length ? s.options.parameters : c.parameters;
  const options = { ...s.options, parameters, noCleanup: true, reuseUsers: false, indexOffset: c.workspaces + (c.greedyAgent ? 1 : 0) };
  return runner.prepare!({ client } as never, { options, plan: null });
}
