// AI-task status as coderd serves it: an external agent's credentials (GET
// /workspaces/{id}/external-agent/{agent}/credentials, Premium), the agent reporting its app's status with
// its agent token (PATCH /workspaceagents/me/app-status), the status stored as the workspace's
// latest_app_status, and the workspace watch (GET /workspaces/{id}/watch, server-sent events) publishing the
// workspace on every change. Fault: drop app-status updates (accepted with 200, never stored nor published),
// counted in `dropped`.
import type { ServerResponse } from "node:http";
import { tokenFromRequest } from "./auth.ts";
import { HttpError, notFound } from "./http/context.ts";
import type { RouteDeps } from "./routes/common.ts";
import { workspaceParam } from "./routes/common.ts";
import type { SimAgent, SimAppStatus } from "./state.ts";

const STATES = new Set(["working", "idle", "complete", "failure"]);
const NOT_LICENSED = "Workspace External Agent is a Premium feature. Contact sales!";

export interface TaskStatusFaults {
  /** Drop the next N app-status updates. */
  dropCount?: number;
  /** Drop each app-status update with this probability (0..1). */
  dropRate?: number;
}

export class TaskStatus {
  /** App-status updates accepted and published / dropped by the fault. */
  accepted = 0;
  dropped = 0;
  /** Open watch (SSE) streams. */
  watchers = 0;
  private faults: TaskStatusFaults = {};

  setFaults(f: TaskStatusFaults): void {
    this.faults = { ...f };
  }

  /** Whether this update is dropped (counted faults first, then the rate). */
  drop(chance: (p: number) => boolean): boolean {
    if ((this.faults.dropCount ?? 0) > 0) {
      this.faults.dropCount = (this.faults.dropCount ?? 0) - 1;
      return true;
    }
    return (this.faults.dropRate ?? 0) > 0 && chance(this.faults.dropRate ?? 0);
  }
}

export function installTaskStatus({ core, engine, convert }: RouteDeps, opts: { premium: boolean }): TaskStatus {
  const { state } = core;
  const r = core.router;
  const ts = new TaskStatus();
  const streams = new Set<ServerResponse>();
  core.onDropConnections(() => {
    for (const s of streams) s.destroy();
  });

  r.add("GET", "/api/v2/workspaces/{workspace}/external-agent/{agent}/credentials", (ctx) => {
    if (!opts.premium) throw new HttpError(403, NOT_LICENSED);
    const ws = workspaceParam(ctx, core);
    const name = ctx.param("agent");
    const tpl = state.template(ws.templateId);
    if (!tpl.externalAgent) throw new HttpError(404, "Workspace does not have an external agent.");
    const agent = engine.currentAgents(ws.id).find((a) => a.name === name);
    if (!agent) throw new HttpError(404, `External agent "${name}" not found in workspace.`);
    ctx.json(200, {
      command: `curl -fsSL "${core.url}/api/v2/init-script/linux/amd64" | CODER_AGENT_TOKEN="${agent.authToken}" sh`,
      agent_token: agent.authToken,
    });
  });

  // Agent-token auth (the session token header carries the agent's token), as httpmw.ExtractWorkspaceAgent.
  r.add(
    "PATCH",
    "/api/v2/workspaceagents/me/app-status",
    async (ctx) => {
      const token = tokenFromRequest(ctx.req, ctx.query);
      let agent: SimAgent | undefined;
      for (const a of state.agents.values()) if (a.authToken === token && a.lifecycle !== "off") agent = a;
      if (!agent) throw new HttpError(401, "Workspace agent not authorized.", "Try logging in using your Coder session token.");
      const body = await ctx.body();
      const slug = typeof body["app_slug"] === "string" ? body["app_slug"] : "";
      const app = agent.apps.find((a) => a.slug === slug);
      if (!app) throw new HttpError(400, "Failed to find workspace app.", `No app found with slug "${slug}"`);
      const st = typeof body["state"] === "string" ? body["state"] : "";
      if (!STATES.has(st)) throw new HttpError(400, "Invalid state provided.", `invalid state provided: ${st}`);
      const message = typeof body["message"] === "string" ? body["message"] : "";
      if (message.length > 160) throw new HttpError(400, "Message is too long.", "Message must be less than 160 characters.");
      const ws = state.workspaces.get(agent.workspaceId);
      if (!ws) throw notFound();
      if (ts.drop((p) => core.rng.chance(p))) {
        ts.dropped++;
        ctx.json(200, { message: "" });
        return;
      }
      const status: SimAppStatus = {
        id: core.rng.uuid(), createdAt: core.now(), agentId: agent.id, appId: app.id,
        state: st as SimAppStatus["state"], message, uri: typeof body["uri"] === "string" ? body["uri"] : "",
      };
      ws.latestAppStatus = status;
      ts.accepted++;
      state.events.emit("workspace", ws.id);
      ctx.json(200, { message: "" });
    },
    { auth: false },
  );

  // Server-sent events: the workspace now and after every change (coderd's watchWorkspace, `event: data`),
  // a ping every 15 s.
  r.add("GET", "/api/v2/workspaces/{workspace}/watch", (ctx) => {
    const ws = workspaceParam(ctx, core);
    const res = ctx.res;
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    streams.add(res);
    ts.watchers++;
    const send = (): void => {
      if (res.destroyed) return;
      res.write(`event: data\ndata: ${JSON.stringify(convert.workspace(ws))}\n\n`);
    };
    const onChange = (id: string): void => {
      if (id === ws.id) send();
    };
    state.events.on("workspace", onChange);
    const ping = setInterval(() => !res.destroyed && res.write("event: ping\n\n"), 15_000);
    ping.unref();
    const done = (): void => {
      clearInterval(ping);
      state.events.off("workspace", onChange);
      if (streams.delete(res)) ts.watchers--;
    };
    res.on("close", done);
    core.onClose(() => {
      done();
      res.destroy();
    });
    send();
  });

  return ts;
}
