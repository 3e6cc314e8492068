/**
 * Workspace-app traffic: a websocket to a workspace app through coderd's app proxy, as Coder's
 * `workspace-traffic --app <slug>` opens it (cli/exp_scaletest.go createWorkspaceAppConfig +
 * scaletest/workspacetraffic):
 *  - subdomain app and the deployment has a wildcard app host (GET /api/v2/applications/host):
 *    `<scheme>://<host with "*" replaced by the app's subdomain_name>/`;
 *  - otherwise path-based: `<coder URL>/@<owner>/<workspace>.<agent>/apps/<slug>/`. (Coder's CLI refuses a
 *    subdomain app when no wildcard host is configured; we fall back to the path-based URL, which coderd
 *    serves unless path apps are disabled, and say so in the log.)
 *  - the client's own session token (the run's, never the Owner's when the pipeline minted one) in the
 *    `Coder-Session-Token` header, sent only where ./destinations.ts allows: a subdomain URL on a foreign
 *    domain is refused unless listed in --trusted-origins; binary messages of at most 1,024 bytes.
 * Modes are the apps of Coder's scale-test templates (websocat): `wsec` echoes (echo mode), `wsra` streams
 * random data at us (read mode: we count what arrives), `wsdi` discards what we send (write mode).
 */
import type { CoderClient, WorkspaceAgent } from "../../coder/index.ts";
import { CoderApiError } from "../../coder/index.ts";
import type { EchoMode, TrafficDialer, TrafficTarget } from "../transport.ts";
import { wsConnection } from "./ws-conn.ts";

export type AppMode = "wsec" | "wsra" | "wsdi";

export const APP_MODE_ECHO: Record<AppMode, EchoMode> = { wsec: "echo", wsra: "read", wsdi: "write" };

/** Largest binary message we send, as Coder's app writer. */
export const APP_MAX_MESSAGE = 1024;

/** The wildcard app host ("*.apps.example.com"), or "" when the deployment has none (or the endpoint is absent). */
export async function fetchAppHost(client: CoderClient, signal?: AbortSignal): Promise<string> {
  try {
    const r = await client.request<{ host?: string }>("GET", "/applications/host", signal ? { signal } : {});
    return r?.host ?? "";
  } catch (e) {
    if (e instanceof CoderApiError && e.status === 404) return "";
    throw e;
  }
}

export interface AppUrlInput {
  coderUrl: URL;
  appHost: string;
  target: Pick<TrafficTarget, "ownerName" | "workspaceName" | "agentName">;
  app: { slug: string; subdomain?: boolean; subdomain_name?: string };
}

/** The app's websocket URL (ws:// or wss://) per Coder's rules; `subdomain` says which form was used. */
export function appUrl(i: AppUrlInput): { url: URL; subdomain: boolean } {
  const wsScheme = i.coderUrl.protocol === "https:" ? "wss:" : "ws:";
  if (i.app.subdomain && i.appHost && i.app.subdomain_name) {
    return { url: new URL(`${wsScheme}//${i.appHost.replace("*", i.app.subdomain_name)}/`), subdomain: true };
  }
  const u = new URL(i.coderUrl.href);
  u.protocol = wsScheme;
  const base = u.pathname.replace(/\/+$/, "");
  const seg = encodeURIComponent;
  u.pathname = `${base}/@${seg(i.target.ownerName)}/${seg(i.target.workspaceName)}.${seg(i.target.agentName)}/apps/${seg(i.app.slug)}/`;
  u.search = "";
  u.hash = "";
  return { url: u, subdomain: false };
}

/**
 * Binary messages of at most `max` bytes (views into the chunk, no copies). Payload buffers come from a fixed
 * pool reused every tick (src/traffic/payload.ts), so the views are made once per buffer and memoised by its
 * identity (a WeakMap: nothing is kept alive), not allocated again on every tick of every connection.
 */
const frameCache = new WeakMap<Buffer, readonly Buffer[]>();
export function appFrames(chunk: Buffer, max = APP_MAX_MESSAGE): readonly Buffer[] {
  if (max === APP_MAX_MESSAGE) {
    const hit = frameCache.get(chunk);
    if (hit) return hit;
  }
  const out: Buffer[] = [];
  if (chunk.length <= max) out.push(chunk);
  else for (let i = 0; i < chunk.length; i += max) out.push(chunk.subarray(i, Math.min(chunk.length, i + max)));
  if (max === APP_MAX_MESSAGE) frameCache.set(chunk, out);
  return out;
}

export interface AppDialerOptions {
  mode: AppMode;
  /** Agent records by id, from discovery (their `apps`). */
  agents: ReadonlyMap<string, WorkspaceAgent>;
  /** Wildcard app host, from fetchAppHost(). */
  appHost: string;
  handshakeTimeoutMs?: number;
  closeWaitMs?: number;
  /** Called once per URL form decision worth telling the user (e.g. the subdomain fallback). */
  warn?: (msg: string) => void;
}

export function appDialer(client: CoderClient, opts: AppDialerOptions): TrafficDialer {
  const slug = opts.mode;
  let warned = false;
  return {
    kind: "app",
    echo: APP_MODE_ECHO[opts.mode],
    echoNewlinesPerTick: 1,
    async dial(target, signal) {
      const agent = opts.agents.get(target.agentId);
      const app = agent?.apps?.find((a) => a.slug === slug);
      if (!app) {
        throw new Error(`app "${slug}" not found in workspace ${target.ownerName}/${target.workspaceName}: use a template with the scale-test apps (wsec, wsra, wsdi)`);
      }
      if (app.subdomain && !opts.appHost && !warned) {
        warned = true;
        opts.warn?.(`app "${slug}" is a subdomain app but the deployment has no wildcard app host; using path-based URLs`);
      }
      const { url } = appUrl({ coderUrl: client.url, appHost: opts.appHost, target, app });
      const ws = await client.openWebSocket(url, {
        signal,
        handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 30_000,
      });
      return wsConnection(ws, {
        encode: (chunk) => appFrames(chunk),
        ...(opts.closeWaitMs !== undefined ? { closeWaitMs: opts.closeWaitMs } : {}),
      });
    },
  };
}
