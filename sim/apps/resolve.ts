// Finding a workspace's agent the way coderd resolves "owner/workspace.agent" for SSH and app URLs,
// with Coder's error wording for workspaces that are not running or agents that are not connected.
import type { SimCore } from "../core.ts";
import { HttpError, notFound, type Actor } from "../http/context.ts";
import { agentStatus, jobStatus, type SimAgent, type SimWorkspace } from "../state.ts";
import { canSeeWorkspace } from "../routes/common.ts";

export interface ResolvedAgent {
  workspace: SimWorkspace;
  ownerName: string;
  agent: SimAgent;
}

/** The agents of the workspace's latest successful start build (empty when stopped/failed/building). */
export function runningAgents(core: SimCore, ws: SimWorkspace): SimAgent[] {
  const build = core.state.latestBuild(ws);
  if (build.transition !== "start" || jobStatus(core.state.job(build.jobId)) !== "succeeded") return [];
  return build.resources.flatMap((r) => r.agents);
}

/**
 * Resolves owner + workspace (+ optional agent name; default the first agent) for `actor`.
 * Throws 404 for unknown/invisible workspaces, 400 when not running or the agent is not connected.
 */
export function resolveAgent(
  core: SimCore,
  actor: Actor,
  ownerRef: string,
  workspaceName: string,
  agentName?: string,
): ResolvedAgent {
  const owner = ownerRef === "me" ? actor.user : core.state.findUser(ownerRef);
  if (!owner) throw notFound();
  const ws = core.state.findWorkspaceByOwnerAndName(owner.id, workspaceName);
  if (!ws || !canSeeWorkspace(actor, ws)) throw notFound();
  const agents = runningAgents(core, ws);
  if (agents.length === 0) {
    throw new HttpError(400, `workspace "${ws.name}" is not running`, "start the workspace first");
  }
  const agent = agentName ? agents.find((a) => a.name === agentName) : agents[0];
  if (!agent) throw new HttpError(404, `agent "${agentName ?? ""}" not found in workspace "${ws.name}"`);
  if (agentStatus(agent, core.now()) !== "connected") {
    throw new HttpError(400, `agent "${agent.name}" of workspace "${ws.name}" is not connected`);
  }
  return { workspace: ws, ownerName: owner.username, agent };
}
