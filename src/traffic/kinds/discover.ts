/**
 * Which workspace agents a traffic scenario connects to, shared by every kind.
 *
 * Candidates: workspaces whose name starts with `prefix` (one run: `scaletest-<runId>-`; all runs:
 * `scaletest-`, Coder's own behaviour), listed with the `name:` filter (a substring match in Coder) and then
 * kept by exact prefix client-side. With `--target-users START:END`, only workspaces owned by that slice of
 * the prefix-named users (sorted by username) stay. Then src/traffic/targets.ts applies, in this order:
 * sort by name -> `--target-workspaces` -> `--percentage` -> `--shard`.
 *
 * Agent: like Coder's CLI, the first agent of the last resource that has agents (one per workspace in the
 * scale-test templates). Workspaces without one are skipped after selection (Coder warns and skips too), so
 * indexes mean the same as in `coder exp scaletest workspace-traffic --target-workspaces`.
 */
import type { CoderClient, Workspace, WorkspaceAgent } from "../../coder/index.ts";
import { applyTargetRange, parseTargetRange, selectTargets, type Shard, type TargetRange } from "../targets.ts";
import type { TrafficTarget } from "../transport.ts";
import { BadInputError } from "../../util/errors.ts";

export interface DiscoverOptions {
  /** Workspace (and user) name prefix: `runPrefix(runId)` or `"scaletest-"`. */
  prefix: string;
  /** "START:END" over the name-sorted workspaces. */
  targetWorkspaces?: string | TargetRange;
  /** "START:END" over the name-sorted prefix-named users; keeps their workspaces. */
  targetUsers?: string | TargetRange;
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

/** Prefix-named workspaces, exact prefix, any order. */
export async function listPrefixedWorkspaces(client: CoderClient, prefix: string, signal?: AbortSignal): Promise<Workspace[]> {
  const out: Workspace[] = [];
  for await (const ws of client.iterateWorkspaces({ q: `name:${prefix}`, ...(signal ? { signal } : {}) })) {
    if (ws.name.startsWith(prefix)) out.push(ws);
  }
  return out;
}

/** Usernames of the `range` slice of prefix-named users sorted by username. */
export async function targetUsernames(
  client: CoderClient,
  prefix: string,
  range: string | TargetRange,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const parsed = typeof range === "string" ? parseTargetRange("users", range) : range;
  const names: string[] = [];
  for await (const u of client.iterateUsers({ q: prefix, ...(signal ? { signal } : {}) })) {
    if (u.username.startsWith(prefix)) names.push(u.username);
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return new Set(applyTargetRange("users", names, parsed));
}

export async function discoverTargets(client: CoderClient, opts: DiscoverOptions): Promise<Discovered> {
  let workspaces = await listPrefixedWorkspaces(client, opts.prefix, opts.signal);
  const candidates = workspaces.length;
  if (workspaces.length === 0) {
    throw new BadInputError(
      `no workspaces named ${opts.prefix}* exist: create them first (create-workspaces) or check --run-id`,
    );
  }
  if (opts.targetUsers !== undefined && opts.targetUsers !== "") {
    const users = await targetUsernames(client, opts.prefix, opts.targetUsers, opts.signal);
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
