// Workspace apps behind coderd's path-based app proxy: /@<owner>/<workspace>.<agent>/apps/<slug>/.
// The scale-test templates run websocat behind three apps (see the scaletest notes): port 1234 echoes
// (wsec), 1235 streams /dev/urandom (wsra), 1236 discards (wsdi). The simulated workspaces behave the
// same, keyed by the app's upstream port, so a template with other apps gets Coder's 502 for them.
//
// Subdomain access (`<slug>--<agent>--<workspace>--<owner>.<wildcard host>`) needs wildcard DNS, which a
// loopback simulator does not have: GET /api/v2/applications/host answers {"host": ""} ("no wildcard
// access URL configured"), so clients use the path-based URL, as with a Coder deployment without one.
import { randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, tokenFromRequest } from "../auth.ts";
import { HttpError } from "../http/context.ts";
import { rejectUpgrade } from "../http/server.ts";
import type { RouteDeps } from "../routes/common.ts";
import type { SimApp } from "../state.ts";
import { resolveAgent } from "./resolve.ts";

export type AppBehaviour = "echo" | "random" | "discard";

/** websocat ports of Coder's scale-test templates. */
const BY_PORT: Record<string, AppBehaviour> = { "1234": "echo", "1235": "random", "1236": "discard" };

export interface SimAppsStats {
  connections: number;
  open: number;
  bytesIn: number;
  bytesOut: number;
  dropped: number;
  /** Dials of a path app's bare URL answered with coderd's 307 to the trailing-slash URL. */
  redirects: number;
}

export interface SimApps {
  stats(): SimAppsStats;
  /** How fast a "random" app (wsra) streams: `bytes` every `intervalMs` (default 4096 B / 100 ms, 40 KB/s). */
  setStreamRate(bytes: number, intervalMs: number): void;
}

export function appBehaviour(app: SimApp): AppBehaviour | undefined {
  let port = "";
  try {
    port = new URL(app.url).port;
  } catch {
    return undefined;
  }
  return BY_PORT[port];
}

/** Splits "<workspace>.<agent>" (names cannot contain dots). */
function splitWorkspaceAgent(s: string): { workspace: string; agent: string | undefined } {
  const dot = s.indexOf(".");
  return dot < 0 ? { workspace: s, agent: undefined } : { workspace: s.slice(0, dot), agent: s.slice(dot + 1) };
}

export function installApps(deps: RouteDeps): SimApps {
  const { core } = deps;
  const stats: SimAppsStats = { connections: 0, open: 0, bytesIn: 0, bytesOut: 0, dropped: 0, redirects: 0 };
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 << 20 });
  const open = new Set<WebSocket>();
  let stream = { bytes: 4096, intervalMs: 100 };
  const noise = randomBytes(1 << 16);

  const serve = (ws: WebSocket, behaviour: AppBehaviour, socket: Duplex): void => {
    stats.connections++;
    stats.open++;
    open.add(ws);
    let timer: NodeJS.Timeout | undefined;
    ws.on("close", () => {
      stats.open--;
      open.delete(ws);
      if (timer) clearInterval(timer);
    });
    ws.on("error", () => ws.terminate());
    // Fault "drop X% of connections mid-stream" (faults.setDrops): cut without a close frame, only while the
    // stream is live (from the client's first message until either side starts the closing handshake).
    const drop = core.faults.connectionDrop("app", core, () => {
      if (ws.readyState !== ws.OPEN) return false;
      stats.dropped++;
      socket.destroy();
      return true;
    });
    ws.once("close", () => drop.end());
    ws.on("message", (data: Buffer, isBinary) => {
      drop.live();
      stats.bytesIn += data.length;
      if (behaviour === "echo") {
        const send = (): void => {
          if (ws.readyState !== ws.OPEN) return;
          stats.bytesOut += data.length;
          ws.send(data, { binary: isBinary });
        };
        // The capacity model (faults.setCapacity): past its knee of live streams, every echo comes later.
        const delay = core.faults.streamDelayMs("app");
        if (delay > 0) core.later(delay, send);
        else send();
      }
    });
    if (behaviour === "random") {
      let off = 0;
      timer = setInterval(() => {
        // Like a pipe from /dev/urandom: never let unsent data pile up past a few intervals.
        if (ws.readyState !== ws.OPEN || ws.bufferedAmount > stream.bytes * 4) return;
        const n = Math.min(stream.bytes, noise.length);
        if (off + n > noise.length) off = 0;
        ws.send(noise.subarray(off, off + n), { binary: true });
        off += n;
        stats.bytesOut += n;
      }, stream.intervalMs);
    }
  };

  const handler = (req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>, url: URL): void => {
    const ownerSeg = params["owner"] ?? "";
    if (!ownerSeg.startsWith("@")) {
      rejectUpgrade(socket, 404, { message: "Route not found." });
      return;
    }
    const actor = authenticate(core.state, tokenFromRequest(req, url.searchParams), core.now());
    const { workspace, agent } = splitWorkspaceAgent(params["wsagent"] ?? "");
    const r = resolveAgent(core, actor, ownerSeg.slice(1), workspace, agent);
    const slug = params["slug"] ?? "";
    const app = r.agent.apps.find((a) => a.slug === slug);
    if (!app) throw new HttpError(404, `Application "${slug}" not found.`);
    if (app.sharingLevel === "owner" && r.workspace.ownerId !== actor.user.id) {
      throw new HttpError(404, `Application "${slug}" not found.`);
    }
    const behaviour = appBehaviour(app);
    if (!behaviour) {
      throw new HttpError(502, "Bad Gateway", `dial ${app.url}: connection refused (nothing listens there in the simulator)`);
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, behaviour, socket));
  };
  // coderd serves a path app at its trailing-slash URL and 307-redirects the bare one (workspaceapps/proxy.go);
  // Coder's scale test dials the bare URL (its websocket dial follows the redirect). Registered first: the
  // wildcard route below would also take the bare path.
  core.addUpgradeHandler("/{owner}/{wsagent}/apps/{slug}", (_req, socket, _head, params, url) => {
    if (!(params["owner"] ?? "").startsWith("@")) {
      rejectUpgrade(socket, 404, { message: "Route not found." });
      return;
    }
    stats.redirects++;
    rejectUpgrade(socket, 307, { message: "Temporary Redirect" }, { Location: `${url.pathname}/${url.search}` });
  });
  core.addUpgradeHandler("/{owner}/{wsagent}/apps/{slug}/*", handler);

  if (core.router.match("GET", "/api/v2/applications/host").kind === "none") {
    core.router.add("GET", "/api/v2/applications/host", (ctx) => ctx.json(200, { host: "" }));
  }

  core.onDropConnections(() => {
    for (const ws of open) ws.terminate();
  });
  core.onClose(() => {
    for (const ws of open) ws.terminate();
    wss.close();
  });

  return {
    stats: () => ({ ...stats }),
    setStreamRate(bytes, intervalMs) {
      if (!(bytes >= 1 && intervalMs >= 1)) throw new Error("stream rate needs bytes >= 1 and intervalMs >= 1");
      stream = { bytes, intervalMs };
    },
  };
}
