// The build-log stream: GET /api/v2/workspacebuilds/{id}/logs?follow[&after=N] as a websocket, as coderd serves it
// (coderd/provisionerjobs.go): every log line after `after` as one text frame of JSON ProvisionerJobLog
// ({id, created_at, log_source, log_level, stage, output}), then each new line as the job writes it, and a normal
// close (1000) once the job has completed and its last lines are sent. Without `follow` the same path is the plain
// JSON list (sim/routes/workspaces.ts).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, tokenFromRequest } from "./auth.ts";
import { HttpError, NOT_FOUND_MESSAGE } from "./http/context.ts";
import { canSeeWorkspace, type RouteDeps } from "./routes/common.ts";
import type { SimBuild } from "./state.ts";

export class BuildLogStreams {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4096, clientTracking: false });
  private readonly sockets = new Set<WebSocket>();
  /** Streams opened, and those closed by the server after the job ended (for tests). */
  readonly counts = { opened: 0, completed: 0 };

  constructor(private readonly deps: RouteDeps) {
    const { core } = deps;
    core.addUpgradeHandler("/api/v2/workspacebuilds/{workspacebuild}/logs", (req, socket, head, params, url) =>
      this.upgrade(req, socket, head, params, url));
    const closeAll = (): void => {
      for (const s of this.sockets) s.terminate();
      this.sockets.clear();
    };
    core.onClose(closeAll);
    core.onDropConnections(closeAll);
  }

  openCount(): number {
    return this.sockets.size;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>, url: URL): void {
    const { core } = this.deps;
    const actor = authenticate(core.state, tokenFromRequest(req, url.searchParams), core.now());
    const build = core.state.builds.get(params["workspacebuild"] ?? "");
    const ws = build ? core.state.workspaces.get(build.workspaceId) : undefined;
    if (!build || !ws || !canSeeWorkspace(actor, ws)) throw new HttpError(404, NOT_FOUND_MESSAGE);
    if (!url.searchParams.has("follow")) throw new HttpError(400, "Only ?follow streams the logs over a websocket.");
    const afterRaw = url.searchParams.get("after") ?? "";
    const after = afterRaw === "" ? 0 : Number(afterRaw);
    if (!Number.isInteger(after)) {
      throw new HttpError(400, "Query param \"after\" must be an integer.", undefined);
    }
    this.wss.handleUpgrade(req, socket, head, (sock) => this.stream(sock, build, after));
  }

  private stream(sock: WebSocket, build: SimBuild, after: number): void {
    const { core, convert } = this.deps;
    this.sockets.add(sock);
    this.counts.opened++;
    let sent = after;
    const job = core.state.job(build.jobId);
    const pump = (): void => {
      for (const l of job.logs) {
        if (l.id <= sent) continue;
        sock.send(JSON.stringify(convert.log(l)));
        sent = l.id;
      }
      if (job.completedAt !== undefined) {
        stop();
        this.counts.completed++;
        sock.close(1000);
      }
    };
    const onWorkspace = (id: string): void => {
      if (id === build.workspaceId) pump();
    };
    const stop = (): void => {
      core.state.events.off("workspace", onWorkspace);
      this.sockets.delete(sock);
    };
    core.state.events.on("workspace", onWorkspace);
    sock.on("close", stop);
    sock.on("error", () => sock.terminate());
    pump();
  }
}
