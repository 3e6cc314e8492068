// Build watch streams, as coderd serves them:
//  - GET /api/experimental/watch-all-workspacebuilds (websocket, behind the `workspace-build-updates`
//    experiment; 403 without it): one text JSON message per build state change of any workspace the caller
//    may read, codersdk.WorkspaceBuildUpdate {workspace_id, build_id, transition, job_status, build_number}
//    (coderd publishes it on the `workspace_updates:all` channel; no snapshot on connect).
//  - GET /api/v2/workspaces/{workspace}/watch-ws (websocket): codersdk.ServerSentEvent frames
//    {"type":"data","data":<Workspace>}, the workspace now and again on every change of it.
// Both end when the simulator stops or drops connections.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, tokenFromRequest } from "./auth.ts";
import type { Convert } from "./convert.ts";
import type { SimCore } from "./core.ts";
import type { Actor } from "./http/context.ts";
import { rejectUpgrade } from "./http/server.ts";
import { canSeeWorkspace } from "./routes/common.ts";
import { jobStatus } from "./state.ts";

export const BUILD_UPDATES_EXPERIMENT = "workspace-build-updates";

export interface WatchCounts {
  /** watch-all-workspacebuilds connections accepted / refused for the missing experiment. */
  allBuildsConnections: number;
  allBuildsRefused: number;
  /** watch-ws connections accepted. */
  workspaceConnections: number;
  /** Messages sent on each kind of stream. */
  allBuildsMessages: number;
  workspaceMessages: number;
}

export class BuildWatchServer {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024, clientTracking: false });
  private readonly sockets = new Set<WebSocket>();
  private readonly allSubs = new Set<{ sock: WebSocket; actor: Actor }>();
  private readonly wsSubs = new Map<string, Set<WebSocket>>();
  /** Last build state published per workspace ("<build id>:<job status>"). */
  private readonly published = new Map<string, string>();
  private readonly n: WatchCounts = { allBuildsConnections: 0, allBuildsRefused: 0, workspaceConnections: 0, allBuildsMessages: 0, workspaceMessages: 0 };
  readonly experiments: Set<string>;

  constructor(private readonly core: SimCore, private readonly convert: Convert, experiments: readonly string[]) {
    this.experiments = new Set(experiments);
    core.addUpgradeHandler("/api/experimental/watch-all-workspacebuilds", (req, socket, head, _p, url) => this.upgradeAll(req, socket, head, url));
    core.addUpgradeHandler("/api/v2/workspaces/{workspace}/watch-ws", (req, socket, head, p, url) => this.upgradeOne(req, socket, head, p["workspace"] ?? "", url));
    core.state.events.on("workspace", (id) => this.changed(id));
    core.onClose(() => this.closeAll());
    core.onDropConnections(() => this.closeAll());
  }

  counts(): WatchCounts {
    return { ...this.n };
  }

  closeAll(): void {
    for (const s of this.sockets) s.terminate();
  }

  private track(sock: WebSocket, onClose: () => void): void {
    this.sockets.add(sock);
    sock.on("close", () => {
      this.sockets.delete(sock);
      onClose();
    });
    sock.on("error", () => sock.terminate());
    // Clients only listen; anything they send is ignored.
    sock.on("message", () => {});
  }

  private upgradeAll(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const actor = authenticate(this.core.state, tokenFromRequest(req, url.searchParams), this.core.now());
    if (!this.experiments.has(BUILD_UPDATES_EXPERIMENT)) {
      this.n.allBuildsRefused++;
      rejectUpgrade(socket, 403, { message: `Experiment '${BUILD_UPDATES_EXPERIMENT}' is required but not enabled` });
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (sock) => {
      this.n.allBuildsConnections++;
      const sub = { sock, actor };
      this.allSubs.add(sub);
      this.track(sock, () => this.allSubs.delete(sub));
    });
  }

  private upgradeOne(req: IncomingMessage, socket: Duplex, head: Buffer, id: string, url: URL): void {
    const actor = authenticate(this.core.state, tokenFromRequest(req, url.searchParams), this.core.now());
    const ws = this.core.state.workspaces.get(id);
    if (!ws || !canSeeWorkspace(actor, ws)) {
      rejectUpgrade(socket, 404, { message: "Resource not found or you do not have access to this resource" });
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (sock) => {
      this.n.workspaceConnections++;
      let set = this.wsSubs.get(id);
      if (!set) this.wsSubs.set(id, (set = new Set()));
      set.add(sock);
      this.track(sock, () => {
        const s = this.wsSubs.get(id);
        s?.delete(sock);
        if (s?.size === 0) this.wsSubs.delete(id);
      });
      this.sendWorkspace(sock, id);
    });
  }

  private sendWorkspace(sock: WebSocket, id: string): void {
    const ws = this.core.state.workspaces.get(id);
    if (!ws || sock.readyState !== sock.OPEN) return;
    sock.send(JSON.stringify({ type: "data", data: this.convert.workspace(ws) }));
    this.n.workspaceMessages++;
  }

  private changed(id: string): void {
    for (const sock of this.wsSubs.get(id) ?? []) this.sendWorkspace(sock, id);
    const ws = this.core.state.workspaces.get(id);
    if (!ws || ws.buildIds.length === 0) return;
    const b = this.core.state.latestBuild(ws);
    const status = jobStatus(this.core.state.job(b.jobId));
    const key = `${b.id}:${status}`;
    if (this.published.get(id) === key) return;
    this.published.set(id, key);
    if (this.allSubs.size === 0) return;
    const msg = JSON.stringify({ workspace_id: ws.id, build_id: b.id, transition: b.transition, job_status: status, build_number: b.buildNumber });
    for (const sub of this.allSubs) {
      if (sub.sock.readyState !== sub.sock.OPEN || !canSeeWorkspace(sub.actor, ws)) continue;
      sub.sock.send(msg);
      this.n.allBuildsMessages++;
    }
  }
}
