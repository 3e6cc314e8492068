// The agent websockets the dashboard's workspace page holds open, as coderd serves them:
//  - GET /api/v2/workspaceagents/{agent}/watch-metadata-ws: codersdk.ServerSentEvent frames
//    {"type":"data","data":[WorkspaceAgentMetadata...]}, the agent's metadata now (the simulator's agents
//    declare none: an empty list) and again on every change of the agent.
//  - GET /api/v2/workspaceagents/{agent}/logs?follow: a JSON array of new agent log lines per message (the
//    simulator's agents log nothing); closed normally once the agent's lifecycle is ready.
// Both end when the simulator stops or drops connections; `counts()` tells what was opened and is open.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, tokenFromRequest } from "./auth.ts";
import type { SimCore } from "./core.ts";
import { HttpError, NOT_FOUND_MESSAGE } from "./http/context.ts";
import { canSeeWorkspace } from "./routes/common.ts";
import type { SimAgent } from "./state.ts";

export interface AgentStreamCounts {
  metadataOpened: number;
  metadataOpen: number;
  logsOpened: number;
  logsOpen: number;
}

export class AgentStreams {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096, clientTracking: false });
  private readonly metadata = new Map<WebSocket, string>();
  private readonly logs = new Map<WebSocket, string>();
  private readonly n = { metadataOpened: 0, logsOpened: 0 };

  constructor(private readonly core: SimCore) {
    core.addUpgradeHandler("/api/v2/workspaceagents/{workspaceagent}/watch-metadata-ws", (req, socket, head, p, url) =>
      this.upgrade(req, socket, head, p["workspaceagent"] ?? "", url, "metadata"));
    core.addUpgradeHandler("/api/v2/workspaceagents/{workspaceagent}/logs", (req, socket, head, p, url) =>
      this.upgrade(req, socket, head, p["workspaceagent"] ?? "", url, "logs"));
    core.state.events.on("agent", (id) => this.changed(id));
    const closeAll = (): void => {
      for (const s of [...this.metadata.keys(), ...this.logs.keys()]) s.terminate();
    };
    core.onClose(closeAll);
    core.onDropConnections(closeAll);
  }

  counts(): AgentStreamCounts {
    return { ...this.n, metadataOpen: this.metadata.size, logsOpen: this.logs.size };
  }

  private agent(req: IncomingMessage, id: string, url: URL): SimAgent {
    const actor = authenticate(this.core.state, tokenFromRequest(req, url.searchParams), this.core.now());
    const agent = this.core.state.agents.get(id);
    const ws = agent ? this.core.state.workspaces.get(agent.workspaceId) : undefined;
    if (!agent || !ws || !canSeeWorkspace(actor, ws)) throw new HttpError(404, NOT_FOUND_MESSAGE);
    return agent;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, id: string, url: URL, kind: "metadata" | "logs"): void {
    const agent = this.agent(req, id, url);
    if (kind === "logs" && !url.searchParams.has("follow")) throw new HttpError(400, "Only ?follow streams the logs over a websocket.");
    this.wss.handleUpgrade(req, socket, head, (sock) => {
      const map = kind === "metadata" ? this.metadata : this.logs;
      if (kind === "metadata") this.n.metadataOpened++;
      else this.n.logsOpened++;
      map.set(sock, agent.id);
      sock.on("close", () => map.delete(sock));
      sock.on("error", () => sock.terminate());
      sock.on("message", () => {});
      if (kind === "metadata") sock.send(JSON.stringify({ type: "data", data: [] }));
      else if (agent.lifecycle === "ready") sock.close(1000);
    });
  }

  private changed(agentId: string): void {
    const agent = this.core.state.agents.get(agentId);
    for (const [sock, id] of this.metadata) {
      if (id === agentId && sock.readyState === sock.OPEN) sock.send(JSON.stringify({ type: "data", data: [] }));
    }
    if (agent?.lifecycle !== "ready") return;
    for (const [sock, id] of this.logs) if (id === agentId) sock.close(1000);
  }
}
