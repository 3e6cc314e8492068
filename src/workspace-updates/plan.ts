// Everything workspace-updates checks and decides before it creates anything: the options, Coder's
// distribution of workspaces between power and regular users, the template (through create-workspaces'
// planCreate, which also refuses a run id in use) and, with reuse, the users to reuse.
import type { CoderClient } from "../coder/client.ts";
import type { User } from "../coder/types.ts";
import { CreateInputError, planCreate } from "../create/plan.ts";
import type { CreatePlan } from "../create/types.ts";
import { ALL_PREFIX, indexWidth, parseResourceName, resourceName, validateRunId } from "../util/naming.ts";
import { BadInputError } from "../util/errors.ts";
import type { Distribution, WorkspaceUpdatesOptions } from "./types.ts";

/** Bad input found before anything was created. */
export class WorkspaceUpdatesInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `workspace-updates: ${problems[0]}`
        : `workspace-updates: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
    );
    this.name = "WorkspaceUpdatesInputError";
  }
}

/**
 * Coder's rule (cli/exp_scaletest_workspaceupdates.go): power users own `pct`% of the workspaces, rounded
 * down to a multiple of `perPowerUser` (the remainder is dropped from the total), `perPowerUser` each;
 * every other workspace has its own regular user.
 */
export function distribute(count: number, perPowerUser: number, pct: number): Distribution {
  const powerTotalRaw = Math.floor((count * pct) / 100);
  const remainder = powerTotalRaw % perPowerUser;
  const total = count - remainder;
  const powerTotal = powerTotalRaw - remainder;
  const regular = total - powerTotal;
  return {
    total_workspaces: total,
    power_users: powerTotal / perPowerUser,
    power_user_workspaces: perPowerUser,
    power_workspaces_total: powerTotal,
    regular_users: regular,
    regular_workspaces_total: regular,
    dropped_by_rounding: remainder,
  };
}

export function checkOptions(o: WorkspaceUpdatesOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.runId);
  } catch (e) {
    p.push((e as Error).message);
  }
  if (!Number.isInteger(o.workspaceCount) || o.workspaceCount <= 0) p.push(`--workspace-count must be greater than 0; got ${o.workspaceCount}`);
  if (!Number.isInteger(o.powerUserWorkspaces) || o.powerUserWorkspaces <= 1) {
    p.push(`--power-user-workspaces must be greater than 1; got ${o.powerUserWorkspaces}`);
  }
  if (!(o.powerUserPercentage >= 0 && o.powerUserPercentage <= 100)) p.push(`--power-user-percentage must be between 0 and 100; got ${o.powerUserPercentage}`);
  if (!(o.updatesTimeoutMs > 0)) p.push("--workspace-updates-timeout must be positive");
  if (!(o.dialTimeoutMs > 0)) p.push("--dial-timeout must be positive");
  if (!o.template.trim()) p.push("--template is required: the template (name or id) to create the workspaces from");
  if (p.length === 0 && distribute(o.workspaceCount, o.powerUserWorkspaces, o.powerUserPercentage).total_workspaces === 0) {
    p.push("no workspace left after rounding the power users' share: raise --workspace-count or lower --power-user-percentage");
  }
  return p;
}

export interface WorkspaceUpdatesPlan {
  create: CreatePlan;
  distribution: Distribution;
  /** Per user: its name (or the reused user), and the indexes (into create.names) of its workspaces. */
  users: { index: number; username: string; reuse: User | null; workspaces: number[]; kind: "power" | "regular" }[];
}

/**
 * Validates everything without creating anything. Throws WorkspaceUpdatesInputError listing the problems;
 * API failures (deployment down, bad token) propagate as they are.
 */
export async function planWorkspaceUpdates(client: CoderClient, o: WorkspaceUpdatesOptions): Promise<WorkspaceUpdatesPlan> {
  const problems = checkOptions(o);
  if (problems.length) throw new WorkspaceUpdatesInputError(problems);
  const d = distribute(o.workspaceCount, o.powerUserWorkspaces, o.powerUserPercentage);
  let create: CreatePlan;
  try {
    create = await planCreate(client, {
      runId: o.runId,
      count: d.total_workspaces,
      template: o.template,
      parameters: o.parameters ?? [],
      concurrency: 0,
      timeoutMs: 0,
      jobTimeoutMs: o.updatesTimeoutMs,
      retry: 0,
      // With reused users no user of this run is created: only the workspace names must be free.
      useHostLogin: Boolean(o.reuseUsers),
    });
  } catch (e) {
    if (e instanceof CreateInputError) throw new WorkspaceUpdatesInputError(e.problems);
    throw e;
  }
  if (o.indexOffset) {
    const offset = o.indexOffset;
    const width = indexWidth(offset + d.total_workspaces);
    create = { ...create, names: create.names.map((_, i) => resourceName(o.runId, offset + i, width)) };
  }
  const userCount = d.power_users + d.regular_users;
  const reuse = o.reuseUsers ? await pickReusableUsers(client, create, o.runId, userCount) : null;
  const users: WorkspaceUpdatesPlan["users"] = [];
  for (let u = 0; u < userCount; u++) {
    const power = u < d.power_users;
    const first = power ? u * d.power_user_workspaces : d.power_workspaces_total + (u - d.power_users);
    const n = power ? d.power_user_workspaces : 1;
    const reused = reuse?.[u] ?? null;
    users.push({
      index: u,
      // Users are numbered like the workspaces (scaletest-<run-id>-NNNN); user u owns workspaces first..first+n-1.
      username: reused?.username ?? create.names[u]!,
      reuse: reused,
      workspaces: Array.from({ length: n }, (_, k) => first + k),
      kind: power ? "power" : "regular",
    });
  }
  return { create, distribution: d, users };
}

/**
 * --reuse-users (Coder's loadtestutil.SelectReuseUsers, narrowed to this project's ownership rule): active or
 * dormant password-login users named scaletest-<other run>-NNNN, not the runner, not owners or template admins,
 * owning no workspace (a workspace they already own would be an unexpected name on their stream).
 */
async function pickReusableUsers(client: CoderClient, plan: CreatePlan, runId: string, want: number): Promise<User[]> {
  const owners = new Set<string>();
  for await (const ws of client.iterateWorkspaces({ q: `name:${ALL_PREFIX}` })) owners.add(ws.owner_id);
  const picked: User[] = [];
  for await (const u of client.iterateUsers({ q: ALL_PREFIX })) {
    const parsed = parseResourceName(u.username);
    if (!parsed || parsed.runId === runId || u.id === plan.runner.id) continue;
    // Dormant users count too: Coder turns them active on their first authenticated request.
    if (u.status === "suspended" || (u.login_type ?? "password") !== "password") continue;
    if ((u.roles ?? []).some((r) => r.name === "owner" || r.name === "template-admin")) continue;
    if (owners.has(u.id)) continue;
    picked.push(u);
    if (picked.length >= want) break;
  }
  if (picked.length < want) {
    throw new WorkspaceUpdatesInputError([
      `--reuse-users needs ${want} existing scaletest- users (not suspended, password login, not owners, owning no workspace); found ${picked.length}. ` +
        "Create users with another run first, or drop --reuse-users.",
    ]);
  }
  return picked;
}
