// Watching the autostart builds as Coder's runner does. Newest Coder: one websocket for the whole run,
// GET /api/experimental/watch-all-workspacebuilds (behind the workspace-build-updates experiment), whose
// WorkspaceBuildUpdate messages a dispatcher routes to each workspace's queue. Older Coder (or the
// experiment off): each workspace's own watch, GET /api/v2/workspaces/{id}/watch-ws, whose frames carry
// the whole workspace. `openBuildWatch` tries the first and falls back to the second when the deployment
// refuses it, recording which it uses and why. Memory stays bounded: frames are capped by the socket's
// maxPayload, each queue keeps its newest BUFFER updates (dropped ones are counted).
import type WebSocket from "ws";
import type { CoderClient } from "../coder/client.ts";
import { CoderApiError } from "../coder/errors.ts";
import type { WatchMode } from "./types.ts";

/** One build state change of one workspace, as seen (wall-clock receipt time). */
export interface BuildUpdate {
  workspace_id: string;
  build_id: string;
  transition: string;
  job_status: string;
  build_number: number;
  /** Epoch ms when it arrived. */
  at: number;
}

/** Per-workspace buffer (Coder's dispatcher keeps 16 per runner; a little more slack here). */
export const BUFFER = 64;
const MAX_FRAME = 4 * 1024 * 1024;

export class WatchClosedError extends Error {}

/** A workspace's queue of updates. */
export class Subscription {
  private readonly queue: BuildUpdate[] = [];
  private waiter: ((u: BuildUpdate | Error) => void) | null = null;
  private closedWith: Error | null = null;
  received = 0;
  dropped = 0;

  constructor(private readonly onClose: () => void = () => {}) {}

  /** @internal */
  push(u: BuildUpdate): void {
    this.received++;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(u);
      return;
    }
    if (this.queue.length >= BUFFER) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(u);
  }

  /** @internal: the stream ended; waiting callers get `err`. */
  fail(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    const w = this.waiter;
    this.waiter = null;
    w?.(err);
  }

  /** The next update, or rejects when `signal` aborts or the stream ends first. */
  next(signal: AbortSignal): Promise<BuildUpdate> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.waiter = null;
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiter = (u) => {
        signal.removeEventListener("abort", onAbort);
        if (u instanceof Error) reject(u);
        else resolve(u);
      };
    });
  }

  close(): void {
    this.fail(new WatchClosedError("watch closed"));
    this.onClose();
  }
}

export interface BuildWatch {
  mode: WatchMode;
  /** Why this mode (the detection's outcome). */
  reason: string;
  /** Starts following one workspace; `client` is its owner's (per-workspace mode dials as the owner). */
  subscribe(workspaceId: string, client: CoderClient): Promise<Subscription>;
  close(): void;
}

function wsUrl(client: CoderClient, path: string): URL {
  const u = new URL(client.url);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}${path}`;
  u.search = "";
  u.hash = "";
  return u;
}

function parse(data: WebSocket.RawData): unknown {
  try {
    return JSON.parse(String(data));
  } catch {
    return null;
  }
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** codersdk.WorkspaceBuildUpdate -> BuildUpdate (null when it is not one). */
export function fromBuildUpdate(m: unknown, at: number): BuildUpdate | null {
  if (!m || typeof m !== "object") return null;
  const o = m as Record<string, unknown>;
  if (!str(o["workspace_id"]) || !str(o["build_id"])) return null;
  return {
    workspace_id: str(o["workspace_id"]),
    build_id: str(o["build_id"]),
    transition: str(o["transition"]),
    job_status: str(o["job_status"]),
    build_number: typeof o["build_number"] === "number" ? o["build_number"] : 0,
    at,
  };
}

/** A watch-ws frame ({"type":"data","data":<Workspace>}) -> its latest build as a BuildUpdate. */
export function fromWorkspaceEvent(m: unknown, at: number): BuildUpdate | null {
  if (!m || typeof m !== "object") return null;
  const ev = m as { type?: unknown; data?: unknown };
  if (ev.type !== "data" || !ev.data || typeof ev.data !== "object") return null;
  const ws = ev.data as { id?: unknown; latest_build?: { id?: unknown; transition?: unknown; build_number?: unknown; job?: { status?: unknown } } };
  const b = ws.latest_build;
  if (!str(ws.id) || !b || !str(b.id)) return null;
  return {
    workspace_id: str(ws.id),
    build_id: str(b.id),
    transition: str(b.transition),
    job_status: str(b.job?.status),
    build_number: typeof b.build_number === "number" ? b.build_number : 0,
    at,
  };
}

/** One shared watch-all-workspacebuilds stream with a dispatcher by workspace id. */
class AllBuildsWatch implements BuildWatch {
  readonly mode = "all-workspace-builds" as const;
  private readonly subs = new Map<string, Subscription>();

  constructor(private readonly sock: WebSocket, readonly reason: string, now: () => number) {
    sock.on("message", (data) => {
      const u = fromBuildUpdate(parse(data), now());
      if (u) this.subs.get(u.workspace_id)?.push(u);
    });
    sock.on("close", (code) => {
      const err = new WatchClosedError(`watch-all-workspacebuilds closed by the server (code ${code})`);
      for (const s of this.subs.values()) s.fail(err);
    });
    sock.on("error", () => {});
  }

  async subscribe(workspaceId: string): Promise<Subscription> {
    const s = new Subscription(() => this.subs.delete(workspaceId));
    this.subs.set(workspaceId, s);
    return s;
  }

  close(): void {
    this.sock.close();
  }
}

/** One watch-ws stream per workspace, dialed as its owner. */
class PerWorkspaceWatch implements BuildWatch {
  readonly mode = "per-workspace" as const;
  private readonly socks = new Set<WebSocket>();

  constructor(readonly reason: string, private readonly now: () => number) {}

  async subscribe(workspaceId: string, client: CoderClient): Promise<Subscription> {
    let sock: WebSocket | null = null;
    const s = new Subscription(() => sock?.close());
    sock = await client.openWebSocket(wsUrl(client, `/api/v2/workspaces/${encodeURIComponent(workspaceId)}/watch-ws`), {
      maxPayload: MAX_FRAME,
      onMessage: (data) => {
        const u = fromWorkspaceEvent(parse(data), this.now());
        if (u && u.workspace_id === workspaceId) s.push(u);
      },
    });
    this.socks.add(sock);
    const opened = sock;
    opened.on("close", (code) => {
      this.socks.delete(opened);
      s.fail(new WatchClosedError(`watch-ws of ${workspaceId} closed (code ${code})`));
    });
    opened.on("error", () => {});
    return s;
  }

  close(): void {
    for (const s of this.socks) s.close();
  }
}

/**
 * Detects the watch: opens watch-all-workspacebuilds with the run's (admin) client; a refusal (an HTTP
 * answer instead of the upgrade: 403 without the experiment, 404 on older coderd) means per-workspace
 * watches. `force` skips detection.
 */
export async function openBuildWatch(admin: CoderClient, o: { force?: WatchMode; now: () => number; signal?: AbortSignal }): Promise<BuildWatch> {
  if (o.force === "per-workspace") return new PerWorkspaceWatch("per-workspace watches requested", o.now);
  try {
    const sock = await admin.openWebSocket(wsUrl(admin, "/api/experimental/watch-all-workspacebuilds"), {
      maxPayload: MAX_FRAME,
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return new AllBuildsWatch(sock, "the deployment serves watch-all-workspacebuilds", o.now);
  } catch (e) {
    if (o.force === "all-workspace-builds" || !(e instanceof CoderApiError) || e.status < 400) throw e;
    const msg = (e.coderMessage || e.message).split("\n")[0]!.slice(0, 200);
    return new PerWorkspaceWatch(`watch-all-workspacebuilds answered ${e.status} (${msg}): watching each workspace (watch-ws)`, o.now);
  }
}
