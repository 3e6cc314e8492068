// Read-only checks shared by the real run and --dry-run, before anything is created or written: every
// phase's runner validates its settings (bad input is refused as BadInputError), the token is an Owner's,
// the template and parameters resolve.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { cleanupRunner, type CleanupSettings } from "../cleanup/phase.ts";
import { cleanupPrepareRunner, type CleanupPrepareSettings } from "../cleanup/prepare.ts";
import type { CreatePlan } from "../create/index.ts";
import { createRunner, type CreateSettings } from "../create/phase.ts";
import { dashboardRunner } from "../dashboard/index.ts";
import type { Runner } from "../scenario/runner.ts";
import { sshPreflight, trafficRunner } from "../traffic/scenario.ts";
import { BadInputError } from "../util/errors.ts";
import { runPrefix } from "../util/naming.ts";
import { listOwnedWorkspaces, loadOwnership, runIdInSelector } from "../util/ownership.ts";
import { planGreedy } from "./greedy.ts";
import { buildPlan, type Plan, type ScenarioPlan } from "./plan.ts";
import { shardedTraffic } from "./shards.ts";
import { workspaceUpdatesRunner, type WorkspaceUpdatesSettings } from "../workspace-updates/phase.ts";
import { prebuildsRunner, type PrebuildsSettingsState } from "../prebuilds/phase.ts";
import { taskStatusRunner, type TaskStatusSettings } from "../task-status/phase.ts";
import { notificationsRunner, type NotificationsSettings } from "../notifications/phase.ts";
import { prepareCapacity, type CapacityPreflight } from "../capacity/prepare.ts";
import { autostartRunner, type AutostartSettings } from "../autostart/phase.ts";
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
  /** --prebuilds: planned (Premium checked, template names after the others); restores its setting itself. */
  prebuilds: PrebuildsSettingsState | null;
  /** --task-status: planned (template checked, workspaces after the others), left to the run's cleanup. */
  taskStatus: TaskStatusSettings | null;
  /** --notifications: the phase after workspace-updates, planned (its users after every other of the run). */
  notifications: NotificationsSettings | null;
  /** --autostart: the phase after workspace-updates, planned (names after the run's and workspace-updates'). */
  autostart: AutostartSettings | null;
  /** --dynamic-parameters: the phase after workspace-updates, validated and planned (read-only). */
  dynamicParameters: DynamicParametersSettings | null;
  cleanup: CleanupSettings;
  /** --cleanup-prepare: the earlier runs to clean up before anything is created. */
  cleanupPrepare: CleanupPrepareSettings | null;
  /** --skip-create-workspaces: how many of the run's workspaces an earlier run left to load (0 otherwise). */
  reused: number;
  /** --capacity: the search instead of the load scenarios (src/capacity). */
  capacity?: CapacityPreflight | null;
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
  const validated = creator.validate(c, {});
  const create = c.skipCreateWorkspaces ? { ...validated, options: { ...validated.options, planOnly: true } } : validated;
  let createPlan = (await creator.prepare!({ client } as never, create)).plan!;
  // --capacity: steps that create workspaces take names after the run's own, planned (and checked free) here.
  const capacity = c.capacity ? await prepareCapacity(client, c, { ...create, plan: createPlan }) : null;
  if (capacity) createPlan = capacity.create.plan!;
  const greedyPlan = c.greedyAgent ? await planGreedy(client, c) : null;
  const greedy = greedyPlan ? { ...create, options: { ...create.options, count: 1, template: c.greedyAgentTemplate, parameters: [] }, plan: greedyPlan } : null;
  const workspaceUpdates = c.wuPhase ? await planPipelineWorkspaceUpdates(client, c) : null;
  const cleanupPrepare = c.cleanupPrepare ? cleanupPrepareRunner().validate(c, {}) : null;
  const reused = c.skipCreateWorkspaces ? await reusableWorkspaces(client, c, me) : 0;
  // Numbered after the run's workspaces, the greedy agent's and workspace-updates' users and workspaces.
  const autostart = c.asPhase ? await planPipelineAutostart(client, c) : null;
  const notifications = c.ntPhase ? await planPipelineNotifications(client, c, c.asPhase ? c.asWorkspaceCount : 0) : null;
  let offset = c.workspaces + (c.greedyAgent ? 1 : 0) + (workspaceUpdates?.plan?.create.names.length ?? 0) + (c.asPhase ? c.asWorkspaceCount : 0) + (notifications?.plan ? notifications.plan.users.length + 1 : 0);
  const dp = dynamicParametersRunner();
  const dynamicParameters = c.dpPhase ? await dp.prepare!({ client } as never, dp.validate(c, {})) : null;
  let prebuilds: PrebuildsSettingsState | null = null;
  if (c.pbPhase) {
    const runner = prebuildsRunner({ indexOffset: offset });
    prebuilds = await runner.prepare!({ client } as never, runner.validate(c, {}));
    offset += c.pbNumTemplates;
  }
  let taskStatus: TaskStatusSettings | null = null;
  if (c.tsPhase) {
    const runner = taskStatusRunner({ indexOffset: offset, noCleanup: true });
    taskStatus = await runner.prepare!({ client } as never, runner.validate(c, {}));
  }
  return {
    plan, version: info.version, externalUrl: info.dashboard_url ?? c.url, create: { ...create, plan: createPlan }, createPlan, greedy, scenarios,
    workspaceUpdates, autostart, notifications, dynamicParameters, prebuilds, taskStatus, cleanup, cleanupPrepare, reused, capacity,
  };
}

/** --skip-create-workspaces: the run's own workspaces an earlier run left (under the ownership rule); none is bad input. */
async function reusableWorkspaces(client: CoderClient, c: Config, me: Awaited<ReturnType<CoderClient["me"]>>): Promise<number> {
  const sel = { runId: c.runId };
  const found = (await listOwnedWorkspaces(client, await loadOwnership(client, sel, me))).filter((ws) => runIdInSelector(ws.name, sel) !== null);
  if (found.length === 0) {
    throw new BadInputError(
      `--skip-create-workspaces: run ${c.runId} has no ${runPrefix(c.runId)}* workspaces to load; give the --run-id of an earlier run whose workspaces are still there, or create them (drop --skip-create-workspaces)`,
    );
  }
  // The scenarios' shares are slices of --workspaces: more than there are would aim at workspaces that do not exist.
  if (c.workspaces > found.length) {
    throw new BadInputError(`--skip-create-workspaces: run ${c.runId} has ${found.length} workspace(s), fewer than --workspaces ${c.workspaces}; set --workspaces ${found.length} (or fewer)`);
  }
  return found.length;
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

/**
 * notifications in the pipeline: its users follow the run's workspaces, the greedy agent and the
 * workspace-updates users under the same run id; users and the trigger template are left to the
 * pipeline's cleanup strategy.
 */
async function planPipelineNotifications(client: CoderClient, c: Config, after: number): Promise<NotificationsSettings> {
  const runner = notificationsRunner();
  const s = runner.validate(c, {});
  const options = { ...s.options, noCleanup: true, indexOffset: c.workspaces + (c.greedyAgent ? 1 : 0) + (c.wuPhase ? c.wuWorkspaceCount : 0) + after };
  return runner.prepare!({ client } as never, { options, plan: null });
}

/**
 * autostart in the pipeline: its users and workspaces follow the run's own, the greedy agent's and
 * workspace-updates' indexes under the same run id, and are left to the pipeline's cleanup strategy.
 */
async function planPipelineAutostart(client: CoderClient, c: Config): Promise<AutostartSettings> {
  const runner = autostartRunner();
  const s = runner.validate(c, {});
  const parameters = s.options.parameters?.length ? s.options.parameters : c.parameters;
  const indexOffset = c.workspaces + (c.greedyAgent ? 1 : 0) + (c.wuPhase ? c.wuWorkspaceCount : 0);
  const options = { ...s.options, parameters, noCleanup: true, indexOffset };
  return runner.prepare!({ client } as never, { options, plan: null });
}
