/**
 * Which workspace agents a traffic scenario connects to, shared by every kind.
 *
 * Candidates: the workspaces the strict ownership rule (src/util/ownership.ts) gives to the run (`prefix`
 * `scaletest-<runId>-`) or to any run (`scaletest-`): exact `scaletest-<R>-<digits>` names owned by a verified
 * scale-test user of R or by the runner. Listed with the `name:` filter (a substring match in Coder), then
 * checked client-side. Never a look-alike: traffic opens terminals and runs commands in what it targets.
 * With `--target-users START:END`, only workspaces owned by that slice of the run's verified users (sorted
 * by username) stay. Then src/traffic/targets.ts applies, in this order:
 * sort by name -> `--target-workspaces` -> `--percentage` -> `--shard`.
 *
 * Agent: like Coder's CLI, the first agent of the last resource that has agents (one per workspace in the
 * scale-test templates). Workspaces without one are skipped after selection (Coder warns and skips too), so
 * indexes mean the same as in `coder exp scaletest workspace-traffic --target-workspaces`.
 */
import type { CoderClient, Workspace, WorkspaceAgent } from "../../coder/index.ts";
import { isScaletestUser, listOwnedWorkspaces, loadOwnership, selectorFromPrefix, type Ownership } from "../../util/ownership.ts";
import { applyTargetRange, parseTargetRange, selectTargets, type Shard, type TargetRange } from "../targets.ts";
import type { TrafficTarget } from "../transport.ts";
import { BadInputError } from "../../util/errors.ts";

export interface DiscoverOptions {
  /** Workspace (and user) name prefix: `runPrefix(runId)` or `"scaletest-"`. */
  prefix: string;
  /** --template: only workspaces of this template (name or id), before any slicing (Coder filters the listing). */
  template?: string;
  /** "START:END" over the name-sorted workspaces. */
  targetWorkspaces?: string | TargetRange;
  /** "START:END" over the name-sorted prefix-named users; keeps their workspaces. */
  targetUsers?: string | TargetRange;
  /** The run borrowed its users from this pool (create-users): --target-users counts the pool's users. */
  userPool?: string;
  /** Percentage (0, 100] of what the range left. */
  percentage?: number;
  /** "i/n" (0-based). */
  shard?: string | Shard;
  signal?: AbortSignal;
}

export interface Discovered {
  targets: TrafficTarget[];
  /** The agent record of each target (apps, name), by agent id. */
  agents: Map<string, WorkspaceAgent>;
  /** Candidates before selection. */
  candidates: number;
  /** Selected workspaces skipped for having no agent (names). */
  skipped: string[];
}

/** Coder's choice: the first agent of the last resource with agents. */
export function workspaceAgent(ws: Workspace): WorkspaceAgent | undefined {
  let agent: WorkspaceAgent | undefined;
  for (const r of ws.latest_build?.resources ?? []) {
    const first = r.agents?.[0];
    if (first) agent = first;
  }
  return agent;
}

/** The verified owners for `prefix` (one run's, or every run's); the runner is the client's own user. */
export async function ownershipFor(client: CoderClient, prefix: string, signal?: AbortSignal): Promise<Ownership> {
  const runner = await client.me();
  return loadOwnership(client, selectorFromPrefix(prefix), runner, signal);
}

/** The run's (or every run's) workspaces under the strict ownership rule, any order. */
export async function listPrefixedWorkspaces(client: CoderClient, prefix: string, signal?: AbortSignal, own?: Ownership): Promise<Workspace[]> {
  return listOwnedWorkspaces(client, own ?? (await ownershipFor(client, prefix, signal)), signal);
}

/** Usernames of the `range` slice of the run's verified scale-test users, sorted by username. */
export async function targetUsernames(
  client: CoderClient,
  prefix: string,
  range: string | TargetRange,
  signal?: AbortSignal,
  own?: Ownership,
  userPool?: string,
): Promise<Set<string>> {
  const parsed = typeof range === "string" ? parseTargetRange("users", range) : range;
  const ownership = own ?? (await ownershipFor(client, prefix, signal));
  // A run that borrowed a pool's users has none of its own: its users are the pool's (verified likewise).
  const users = userPool ? [...ownership.owners.values()].filter((u) => isScaletestUser(u, { runId: userPool })) : [...ownership.users.values()];
  const names = users.map((u) => u.username);
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Set(applyTargetRange("users", names, parsed));
}

export async function discoverTargets(client: CoderClient, opts: DiscoverOptions): Promise<Discovered> {
  const own = await ownershipFor(client, opts.prefix, opts.signal);
  let workspaces = await listPrefixedWorkspaces(client, opts.prefix, opts.signal, own);
  if (workspaces.length === 0) {
    throw new BadInputError(
      `no workspaces named ${opts.prefix}* exist (exact scaletest-<run-id>-<number> names owned by the run's scale-test users or the runner): create them first (create-workspaces) or check --run-id`,
    );
  }
  if (opts.template) {
    const t = opts.template;
    const all = workspaces;
    workspaces = workspaces.filter((w) => w.template_name === t || w.template_id === t);
    if (workspaces.length === 0) {
      const used = [...new Set(all.map((w) => w.template_name).filter(Boolean))].sort().join(", ");
      throw new BadInputError(`none of the ${all.length} ${opts.prefix}* workspaces is of --template ${JSON.stringify(t)} (their templates: ${used})`);
    }
  }
  const candidates = workspaces.length;
  if (opts.targetUsers !== undefined && opts.targetUsers !== "") {
    const users = await targetUsernames(client, opts.prefix, opts.targetUsers, opts.signal, own, opts.userPool);
    workspaces = workspaces.filter((w) => users.has(w.owner_name));
    if (workspaces.length === 0) {
      throw new BadInputError(`the selected --target-users own no ${opts.prefix}* workspaces`);
    }
  }
  const selected = selectTargets(workspaces, {
    noun: "workspaces",
    nameOf: (w) => w.name,
    ...(opts.targetWorkspaces !== undefined ? { range: opts.targetWorkspaces } : {}),
    ...(opts.percentage !== undefined ? { percentage: opts.percentage } : {}),
    ...(opts.shard !== undefined ? { shard: opts.shard } : {}),
  });
  const targets: TrafficTarget[] = [];
  const agents = new Map<string, WorkspaceAgent>();
  const skipped: string[] = [];
  for (const ws of selected) {
    const agent = workspaceAgent(ws);
    if (!agent) {
      skipped.push(ws.name);
      continue;
    }
    agents.set(agent.id, agent);
    targets.push({
      workspaceId: ws.id,
      workspaceName: ws.name,
      ownerName: ws.owner_name,
      agentId: agent.id,
      agentName: agent.name,
      index: targets.length,
    });
  }
  return { targets, agents, candidates, skipped };
}
