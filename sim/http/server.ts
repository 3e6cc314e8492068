// The HTTP server and its request pipeline:
//   fault hook (latency, injected errors) -> pre-handlers -> router -> auth -> handler.
// Upgrades (websockets) go through the same fault hook, then the upgrade-handler registry.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { authenticate, isOwner, tokenFromRequest } from "../auth.ts";
import type { LoggedRequest, SimCore } from "../core.ts";
import { Ctx, HttpError } from "./context.ts";
import { sleep } from "../../src/util/sleep.ts";

/** Coder's rate limiter lets owners skip it with this header; injected 429s honour it too. */
function bypassesRateLimit(core: SimCore, req: IncomingMessage, query: URLSearchParams): boolean {
  const h = req.headers["x-coder-bypass-ratelimit"];
  if (h !== "true") return false;
  try {
    return isOwner(authenticate(core.state, tokenFromRequest(req, query), core.now()));
  } catch {
    return false;
  }
}

/** The username behind a request's token when it is valid (for the request log only; the handler authenticates). */
function sessionUser(core: SimCore, req: IncomingMessage, query: URLSearchParams): string | undefined {
  const token = tokenFromRequest(req, query);
  if (!token) return undefined;
  const id = token.split("-")[0] ?? "";
  const key = core.state.apiKeys.get(id);
  if (!key || `${key.id}-${key.secret}` !== token) return undefined;
  return core.state.users.get(key.userId)?.username;
}

function faultMessage(status: number): { message: string; detail: string } {
  if (status === 429) {
    return { message: "You've been rate limited for sending more than 512 requests in 1m0s.", detail: "simulated fault" };
  }
  return { message: STATUS_CODES[status] ?? "Error", detail: "simulated fault (fault injection)" };
}

async function handleRequest(core: SimCore, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const ctx = new Ctx(req, res);
  const entry: LoggedRequest = { method: ctx.method, path: ctx.path, query: ctx.query.toString(), host: req.headers.host ?? "", upgrade: false, bypass: req.headers["x-coder-bypass-ratelimit"] === "true" };
  core.logRequest(entry);
  try {
    const decision = core.faults.decide(ctx.method, ctx.path, () => bypassesRateLimit(core, req, ctx.query));
    if (decision.hang) {
      holdUnanswered(core, req.socket);
      return;
    }
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.error) {
      if (decision.error.retryAfterSec !== undefined) res.setHeader("Retry-After", String(decision.error.retryAfterSec));
      const { message, detail } = faultMessage(decision.error.status);
      ctx.error(decision.error.status, message, detail);
      return;
    }
    for (const pre of core.preHandlers) if (await pre(ctx)) return;
    const m = core.router.match(ctx.method, ctx.path);
    if (m.kind === "none") {
      ctx.error(404, "Route not found.");
      return;
    }
    if (m.kind === "method-not-allowed") {
      ctx.error(405, "Method not allowed.");
      return;
    }
    ctx.params = m.params;
    const token = tokenFromRequest(req, ctx.query);
    if (m.route.auth) {
      ctx.actor = authenticate(core.state, token, core.now());
    } else if (token) {
      try {
        ctx.actor = authenticate(core.state, token, core.now());
      } catch {
        ctx.actor = undefined;
      }
    }
    if (ctx.actor) entry.user = ctx.actor.user.username;
    await m.route.handler(ctx);
  } catch (e) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (e instanceof HttpError) ctx.error(e.status, e.message, e.detail, e.validations);
    else ctx.error(500, "An internal server error occurred.", (e as Error).message);
  }
}

/** Hung connections, destroyed when the simulator stops or drops its connections (a restart). */
const hung = new WeakMap<SimCore, Set<Duplex>>();

/** The hang fault: the connection stays open and nothing is ever written to it. */
function holdUnanswered(core: SimCore, socket: Duplex): void {
  let set = hung.get(core);
  if (!set) {
    const s = new Set<Duplex>();
    hung.set(core, s);
    const destroyAll = (): void => {
      for (const x of s) x.destroy();
      s.clear();
    };
    core.onDropConnections(destroyAll);
    core.onClose(destroyAll);
    set = s;
  }
  const held = set;
  held.add(socket);
  socket.once("close", () => held.delete(socket));
}

/** Answer an upgrade request with a plain HTTP response (Coder's JSON error shape) and close. */
export function rejectUpgrade(socket: Duplex, status: number, body: { message: string; detail?: string }, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n${extra}Connection: close\r\n\r\n${text}`,
  );
}

async function handleUpgrade(core: SimCore, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const url = new URL(req.url ?? "/", "http://sim.invalid");
  const entry: LoggedRequest = { method: (req.method ?? "GET").toUpperCase(), path: url.pathname, query: url.searchParams.toString(), host: req.headers.host ?? "", upgrade: true, bypass: req.headers["x-coder-bypass-ratelimit"] === "true" };
  const user = sessionUser(core, req, url.searchParams);
  if (user) entry.user = user;
  core.logRequest(entry);
  try {
    const decision = core.faults.decide((req.method ?? "GET").toUpperCase(), url.pathname, () => bypassesRateLimit(core, req, url.searchParams));
    if (decision.hang) {
      holdUnanswered(core, socket);
      return;
    }
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.error) {
      const headers: Record<string, string> = {};
      if (decision.error.retryAfterSec !== undefined) headers["Retry-After"] = String(decision.error.retryAfterSec);
      rejectUpgrade(socket, decision.error.status, faultMessage(decision.error.status), headers);
      return;
    }
    const m = core.matchUpgrade(url.pathname);
    if (!m) {
      rejectUpgrade(socket, 404, { message: "Route not found." });
      return;
    }
    await m.handler(req, socket, head, m.params, url);
  } catch (e) {
    if (e instanceof HttpError) {
      const body: { message: string; detail?: string } = { message: e.message };
      if (e.detail !== undefined) body.detail = e.detail;
      rejectUpgrade(socket, e.status, body);
    } else {
      rejectUpgrade(socket, 500, { message: "An internal server error occurred.", detail: (e as Error).message });
    }
  }
}

export function createSimServer(core: SimCore): Server {
  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    void handleRequest(core, req, res);
  });
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => socket.destroy());
    void handleUpgrade(core, req, socket, head);
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  return server;
}
