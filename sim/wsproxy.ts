// A workspace proxy (Coder's enterprise wsproxy) in front of the simulated deployment: its own origin (its own
// loopback port) serving what Coder's workspace-app server serves on a proxy — the agents' reconnecting PTY
// (GET /api/v2/workspaceagents/{id}/pty) and path-based apps (/@owner/workspace.agent/apps/slug/...) — against
// the same agents, sessions and tokens as the deployment. Anything else answers 404, as wsproxy does for the
// primary's routes. It keeps its own request log, so a test can tell traffic that went through the proxy from
// traffic that went to coderd.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { LoggedRequest, SimCore } from "./core.ts";
import { HttpError } from "./http/context.ts";
import { rejectUpgrade } from "./http/server.ts";

/** What a workspace proxy serves (wsproxy attaches the workspace-app routes: apps and the PTY). */
const PROXIED = [/^\/api\/v2\/workspaceagents\/[^/]+\/pty$/, /^\/@[^/]+\/[^/]+\/apps\/[^/]+(\/.*)?$/];

/** Oldest entries are dropped beyond this. */
const LOG_MAX = 100_000;

export interface SimWorkspaceProxy {
  /** e.g. http://127.0.0.1:43125 (no trailing slash). */
  readonly url: string;
  /** Every request it received (upgrades and plain HTTP), oldest first. */
  readonly requestLog: LoggedRequest[];
  close(): Promise<void>;
}

export async function startWorkspaceProxy(core: SimCore, host: string): Promise<SimWorkspaceProxy> {
  const requestLog: LoggedRequest[] = [];
  const log = (e: LoggedRequest): void => {
    if (requestLog.length >= LOG_MAX) requestLog.splice(0, requestLog.length - LOG_MAX + 1);
    requestLog.push(e);
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    log({ method: (req.method ?? "GET").toUpperCase(), path: url.pathname, query: url.searchParams.toString(), host: req.headers.host ?? "", upgrade: false });
    res.writeHead(404, { "Content-Type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ message: "Route not found.", detail: "This route does not exist on this workspace proxy; send it to the primary deployment." }));
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    log({
      method: (req.method ?? "GET").toUpperCase(), path: url.pathname, query: url.searchParams.toString(), host: req.headers.host ?? "",
      upgrade: true, bypass: req.headers["x-coder-bypass-ratelimit"] === "true",
    });
    const m = PROXIED.some((re) => re.test(url.pathname)) ? core.matchUpgrade(url.pathname) : undefined;
    if (!m) {
      rejectUpgrade(socket, 404, { message: "Route not found." });
      return;
    }
    Promise.resolve()
      .then(() => m.handler(req, socket, head, m.params, url))
      .catch((e: unknown) => {
        if (e instanceof HttpError) rejectUpgrade(socket, e.status, e.detail !== undefined ? { message: e.message, detail: e.detail } : { message: e.message });
        else rejectUpgrade(socket, 500, { message: "An internal server error occurred.", detail: (e as Error).message });
      });
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  const hostForUrl = host.includes(":") ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  core.onClose(close);
  return { url: `http://${hostForUrl}:${port}`, requestLog, close };
}
