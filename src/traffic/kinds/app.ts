/**
 * Workspace-app traffic: a websocket to a workspace app through coderd's app proxy, as Coder's
 * `workspace-traffic --app <slug>` opens it (cli/exp_scaletest.go createWorkspaceAppConfig +
 * scaletest/workspacetraffic):
 *  - subdomain app: `<scheme>://<wildcard app host with "*" replaced by the app's subdomain_name>` (GET
 *    /api/v2/applications/host); with no app host configured that is Coder's error, before any traffic;
 *  - otherwise path-based: `<coder URL>/@<owner>/<workspace>.<agent>/apps/<slug>` — no trailing slash, exactly as
 *    Coder's CLI builds it; coderd answers that with a 307 to the trailing-slash URL, which the dial follows
 *    (same origin only), as Go's websocket dial does.
 *  - `--app <slug>` picks any app; the scale-test templates' wsec/wsra/wsdi keep their known behaviour, any
 *    other app is sent the ticks and whatever it answers is counted (Coder's app mode writes and reads alike).
 *  - `--workspace-proxy-url`: path-based URLs are built on the proxy's URL instead (Coder's app client).
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

/** A subdomain app on a deployment without a wildcard app host: Coder's CLI refuses it before any traffic. */
export class NoAppHostError extends Error {
  constructor(slug: string) {
    super(`app "${slug}" is a subdomain app but no app host is configured (set CODER_WILDCARD_ACCESS_URL on the deployment, or use a path-based app)`);
    this.name = "NoAppHostError";
  }
}

/** The app's websocket URL (ws:// or wss://) per Coder's rules; `subdomain` says which form was used. */
export function appUrl(i: AppUrlInput): { url: URL; subdomain: boolean } {
  const wsScheme = i.coderUrl.protocol === "https:" ? "wss:" : "ws:";
  if (i.app.subdomain) {
    if (!i.appHost) throw new NoAppHostError(i.app.slug);
    return { url: new URL(`${wsScheme}//${i.appHost.replace("*", i.app.subdomain_name ?? "")}`), subdomain: true };
  }
  const u = new URL(i.coderUrl.href);
  u.protocol = wsScheme;
  const base = u.pathname.replace(/\/+$/, "");
  const seg = encodeURIComponent;
  u.pathname = `${base}/@${seg(i.target.ownerName)}/${seg(i.target.workspaceName)}.${seg(i.target.agentName)}/apps/${seg(i.app.slug)}`;
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
  /** --app: the app's slug (default: the mode's, wsec/wsra/wsdi). */
  slug?: string;
  /** --workspace-proxy-url: path-based app URLs go to this proxy instead of the deployment. */
  proxyUrl?: URL;
  /** Agent records by id, from discovery (their `apps`). */
  agents: ReadonlyMap<string, WorkspaceAgent>;
  /** Wildcard app host, from fetchAppHost(). */
  appHost: string;
  handshakeTimeoutMs?: number;
  closeWaitMs?: number;
  /** Called once per URL form decision worth telling the user. */
  warn?: (msg: string) => void;
}

/** How traffic to app `slug` behaves: the scale-test apps as their mode says, any other app written to and read. */
export function appEcho(slug: string, mode: AppMode): EchoMode {
  return slug in APP_MODE_ECHO ? APP_MODE_ECHO[slug as AppMode] : slug === mode ? APP_MODE_ECHO[mode] : "write";
}

/**
 * Checks every target's app before any traffic, as Coder's CLI builds each app config up front: the app exists
 * and, when it is a subdomain app, the deployment has an app host. Returns the problems (empty = fine).
 */
export function appProblems(targets: readonly TrafficTarget[], agents: ReadonlyMap<string, WorkspaceAgent>, slug: string, appHost: string): string[] {
  const problems: string[] = [];
  for (const t of targets) {
    const app = agents.get(t.agentId)?.apps?.find((a) => a.slug === slug);
    if (!app) problems.push(`app "${slug}" not found in workspace "${t.workspaceName}"`);
    else if (app.subdomain && !appHost) problems.push(new NoAppHostError(slug).message);
    if (problems.length >= 3) break;
  }
  return [...new Set(problems)];
}

export function appDialer(client: CoderClient, opts: AppDialerOptions): TrafficDialer {
  const slug = opts.slug || opts.mode;
  const base = opts.proxyUrl ?? client.url;
  return {
    kind: "app",
    echo: appEcho(slug, opts.mode),
    echoNewlinesPerTick: 1,
    async dial(target, signal) {
      const agent = opts.agents.get(target.agentId);
      const app = agent?.apps?.find((a) => a.slug === slug);
      if (!app) {
        throw new Error(`app "${slug}" not found in workspace ${target.ownerName}/${target.workspaceName}: use a template with the scale-test apps (wsec, wsra, wsdi)`);
      }
      const { url } = appUrl({ coderUrl: base, appHost: opts.appHost, target, app });
      const ws = await client.openWebSocket(url, {
        signal,
        sameOriginRedirects: 1,
        zeroMask: true,
        handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 30_000,
      });
      return wsConnection(ws, {
        encode: (chunk) => appFrames(chunk),
        ...(opts.closeWaitMs !== undefined ? { closeWaitMs: opts.closeWaitMs } : {}),
      });
    },
  };
}
