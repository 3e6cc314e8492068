// The simulator's shared core: options, seeded PRNG, state, faults, router, timers.
// Route modules and feature modules (provisioner, agents, PTY, later SSH/apps) receive this object.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { Faults } from "./faults.ts";
import type { Ctx } from "./http/context.ts";
import { Router, matchSegments } from "./http/router.ts";
import type { ResolvedOptions } from "./options.ts";
import { createRng, type Rng } from "./rng.ts";
import { SimState, type SimApiKey } from "./state.ts";

/**
 * A websocket (or other) upgrade handler. It owns `socket` once called: it must either complete
 * the upgrade or write an HTTP error response and destroy the socket.
 */
export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  params: Record<string, string>,
  url: URL,
) => void | Promise<void>;

/** A handler that may claim any request before routing (e.g. subdomain apps by Host). */
export type PreHandler = (ctx: Ctx) => boolean | Promise<boolean>;

/** One request the simulator received (HTTP or upgrade), as tests read it from `requestLog`. */
export interface LoggedRequest {
  method: string;
  /** Path without query. */
  path: string;
  /** Raw query string ("" when none): ids and names in it (e.g. the SSH lookup's) count too. */
  query: string;
  /** The Host header (subdomain apps are addressed by it). */
  host: string;
  upgrade: boolean;
  /** The request carried `X-Coder-Bypass-Ratelimit: true` (REST call or websocket upgrade alike). */
  bypass?: boolean;
  /** Username of the session that made it (a valid token's user), for per-user request logs. */
  user?: string;
}

/** Oldest entries are dropped beyond this, so a long benchmark cannot grow the log without bound. */
export const REQUEST_LOG_MAX = 200_000;

interface UpgradeRoute {
  segments: string[];
  handler: UpgradeHandler;
}

export class SimCore {
  readonly rng: Rng;
  readonly state = new SimState();
  readonly faults: Faults;
  readonly router = new Router();
  readonly preHandlers: PreHandler[] = [];
  private readonly upgradeRoutes: UpgradeRoute[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Cleanup callbacks run on stop (close websockets, SSH servers, ...). */
  private readonly closers: (() => void | Promise<void>)[] = [];
  private readonly droppers: (() => void)[] = [];
  /** Every request received, oldest first (bounded by REQUEST_LOG_MAX). */
  readonly requestLog: LoggedRequest[] = [];
  ownerToken = "";
  url = "";
  stopped = false;

  constructor(readonly opts: ResolvedOptions) {
    this.rng = createRng(opts.seed);
    this.faults = new Faults(this.rng);
    this.faults.setCapacity(opts.capacity);
  }

  logRequest(entry: LoggedRequest): void {
    if (this.requestLog.length >= REQUEST_LOG_MAX) this.requestLog.splice(0, this.requestLog.length - REQUEST_LOG_MAX + 1);
    this.requestLog.push(entry);
  }

  now(): number {
    return Date.now();
  }

  iso(t: number): string {
    return new Date(t).toISOString();
  }

  /** setTimeout that stop() cancels. */
  later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) fn();
    }, Math.max(0, ms));
    this.timers.add(t);
    return t;
  }

  cancel(t: NodeJS.Timeout | undefined): void {
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  onClose(fn: () => void | Promise<void>): void {
    this.closers.push(fn);
  }

  /** Register a callback that drops live connections (used by restart and stop). */
  onDropConnections(fn: () => void): void {
    this.droppers.push(fn);
  }

  dropConnections(): void {
    for (const fn of this.droppers) fn();
  }

  async runClosers(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const fn of this.closers.splice(0)) await fn();
  }

  addUpgradeHandler(pattern: string, handler: UpgradeHandler): void {
    this.upgradeRoutes.push({ segments: pattern.split("/").slice(1), handler });
  }

  matchUpgrade(path: string): { handler: UpgradeHandler; params: Record<string, string> } | undefined {
    const parts = path.split("/").slice(1);
    for (const r of this.upgradeRoutes) {
      const params = matchSegments(r.segments, parts);
      if (params) return { handler: r.handler, params };
    }
    return undefined;
  }

  /** Mint an API key for a user; returns the key record and the full token string. */
  mintKey(
    userId: string,
    opts: { tokenName?: string; loginType?: "password" | "token"; lifetimeSeconds?: number; token?: string } = {},
  ): { key: SimApiKey; token: string } {
    let id: string;
    let secret: string;
    if (opts.token) {
      [id, secret] = opts.token.split("-") as [string, string];
    } else {
      do id = this.rng.alnum(10);
      while (this.state.apiKeys.has(id));
      secret = this.rng.alnum(22);
    }
    const now = this.now();
    const lifetimeSeconds = opts.lifetimeSeconds ?? 30 * 24 * 3600;
    const loginType = opts.loginType ?? "token";
    const key: SimApiKey = {
      id,
      secret,
      userId,
      tokenName: opts.tokenName ?? (loginType === "token" ? `token-${id}` : ""),
      loginType,
      scope: "all",
      createdAt: now,
      updatedAt: now,
      expiresAt: now + lifetimeSeconds * 1000,
      lastUsed: now,
      lifetimeSeconds,
    };
    this.state.apiKeys.set(id, key);
    return { key, token: `${id}-${secret}` };
  }
}
