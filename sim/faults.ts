// Fault injection: one hook in the request pipeline (HTTP errors, 429s, latency) plus build and
// agent faults that the provisioner draws per job. Every random draw uses the seeded PRNG.
import type { DurationSpec } from "./options.ts";
import { drawDuration } from "./options.ts";
import type { Rng } from "./rng.ts";

export interface HttpFaultRule {
  /** HTTP method, or "*"/undefined for any. */
  method?: string;
  /**
   * Path pattern: exact path, or with "*" matching one segment and "**" any rest,
   * e.g. "/api/v2/workspaces/*" or "/api/v2/**". A RegExp is tested against the path.
   */
  path: string | RegExp;
  /** Status to answer with (e.g. 500, 502, 503, 429). */
  status: number;
  /** Probability in [0,1] that a matching request gets the fault (default 1). */
  rate?: number;
  /** Seconds for the Retry-After header (429/503); default 1 for 429. */
  retryAfterSec?: number;
  /** Extra latency before answering (fault responses only). */
  latencyMs?: number;
  /**
   * A 429 is coderd's rate limiter by default, which an Owner's `X-Coder-Bypass-Ratelimit: true` skips
   * (such requests are neither answered with it nor counted). `proxy: true` answers from "a proxy in
   * front of coderd" instead, which no header bypasses.
   */
  proxy?: boolean;
  /** Inject at most this many times, then let requests through (deterministic tests); default unlimited. */
  count?: number;
}

export interface LatencyRule {
  method?: string;
  path: string | RegExp;
  latencyMs: DurationSpec;
}

export interface BuildFaults {
  /** Probability that a build job fails (with an error log line). */
  failRate: number;
  /** Probability that a build job stays pending forever (no daemon picks it up). */
  stuckPendingRate: number;
  /** Probability that a started workspace's agent never connects (status -> timeout). */
  agentNeverConnectRate: number;
  /** Overrides the agent connect delay while set. */
  agentConnectDelayMs?: DurationSpec;
  /** Exactly this many of the next jobs fail / stay pending / get an agent that never connects (then the rates apply). */
  failCount?: number;
  stuckPendingCount?: number;
  agentNeverConnectCount?: number;
}

/** Long-lived connection kinds the simulator can drop mid-stream. */
export type DropKind = "pty" | "ssh" | "app";

/**
 * "Drop X% of connections mid-stream": each PTY/SSH/app stream of a listed kind is, with probability `rate`,
 * cut abruptly (socket destroyed, no close frame) after a drawn delay. See ConnectionDrop for when a stream
 * counts as live, which is the only time it can be cut, and when a drop is counted.
 */
export interface ConnectionDropFaults {
  rate: number;
  /** Delay from the stream going live (the client's first byte) to the drop (default 500-2000 ms). */
  afterMs?: DurationSpec;
  /** Kinds affected (default all). */
  kinds?: DropKind[];
}

/**
 * The capacity model: a deployment that slows down past a point, so a capacity search has a knee to find.
 * Each unit of load beyond `knee` adds `perUnitMs`: builds last longer, echoes come later.
 */
export interface CapacityModel {
  /** Start builds in flight (pending or running, counted when a build starts) past `knee` lengthen that build. */
  builds?: { knee: number; perUnitMs: number };
  /** Live streams (PTY, SSH, app; `kinds` to narrow) past `knee` delay every echo on them. */
  connections?: { knee: number; perUnitMs: number; kinds?: DropKind[] };
}

function checkCapacityPart(name: string, p: { knee: number; perUnitMs: number } | undefined): void {
  if (!p) return;
  if (!Number.isInteger(p.knee) || p.knee < 0) throw new Error(`capacity model ${name}.knee must be a non-negative integer, got ${String(p.knee)}`);
  if (!(p.perUnitMs >= 0)) throw new Error(`capacity model ${name}.perUnitMs must be 0 or more, got ${String(p.perUnitMs)}`);
}

/** "Accepts and never answers": matching requests (and websocket upgrades) are held open, unanswered, until the simulator stops or drops its connections. */
export interface HangRule {
  method?: string;
  path: string | RegExp;
}

export interface FaultConfig {
  http: HttpFaultRule[];
  latency: LatencyRule[];
  build: BuildFaults;
  hang: HangRule[];
}

export interface FaultDecision {
  /** Hold the request unanswered (a hung deployment). */
  hang?: boolean;
  delayMs: number;
  error?: { status: number; retryAfterSec?: number };
}

const emptyBuild = (): BuildFaults => ({ failRate: 0, stuckPendingRate: 0, agentNeverConnectRate: 0 });

export function pathMatches(pattern: string | RegExp, path: string): boolean {
  if (pattern instanceof RegExp) return pattern.test(path);
  const p = pattern.split("/");
  const s = path.split("/");
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    if (seg === "**") return true;
    const actual = s[i];
    if (actual === undefined) return false;
    if (seg !== "*" && seg !== actual) return false;
  }
  return p.length === s.length;
}

const methodMatches = (m: string | undefined, method: string): boolean =>
  m === undefined || m === "*" || m.toUpperCase() === method;

export class Faults {
  private cfg: FaultConfig = { http: [], latency: [], build: emptyBuild(), hang: [] };
  /** Counts of injected faults, for tests and reports. */
  readonly injected = {
    http: 0, latency: 0, buildFailed: 0, stuckPending: 0, agentNeverConnects: 0, drops: 0,
    /** Requests and upgrades held unanswered by a hang rule. */
    hung: 0,
    /** HTTP faults per status code answered, e.g. { "503": 4, "429": 2 }. */
    httpByStatus: {} as Record<string, number>,
    /** Connection drops per kind. */
    dropsByKind: { pty: 0, ssh: 0, app: 0 } as Record<DropKind, number>,
    /** Restarts (server down then back) performed by Sim.restart(). */
    restarts: 0,
  };
  /** How many times each HTTP rule fired (for rules with a `count` limit). */
  private fired = new WeakMap<HttpFaultRule, number>();
  private dropCfg: ConnectionDropFaults | undefined;
  private capacityCfg: CapacityModel = {};
  /** Streams live right now by kind (from the client's first byte until the stream ends), for the capacity model. */
  private readonly liveStreams: Record<DropKind, number> = { pty: 0, ssh: 0, app: 0 };

  constructor(private readonly rng: Rng) {}

  /** Sets (or with {} clears) the capacity model. */
  setCapacity(model: CapacityModel): void {
    checkCapacityPart("builds", model.builds);
    checkCapacityPart("connections", model.connections);
    this.capacityCfg = { ...(model.builds ? { builds: { ...model.builds } } : {}), ...(model.connections ? { connections: { ...model.connections } } : {}) };
  }

  get capacity(): CapacityModel {
    return { ...this.capacityCfg };
  }

  /** Live streams counted by the capacity model (all kinds, or those it names). */
  liveStreamCount(kinds?: readonly DropKind[]): number {
    return (kinds ?? (["pty", "ssh", "app"] as const)).reduce((n, k) => n + this.liveStreams[k], 0);
  }

  /** Extra build time for a start build that begins with `inFlight` start builds in flight (itself included). */
  buildDelayMs(inFlight: number): number {
    const b = this.capacityCfg.builds;
    return b ? Math.max(0, inFlight - b.knee) * b.perUnitMs : 0;
  }

  /** Extra delay for an echo on a live stream of `kind`, from the streams live now. */
  streamDelayMs(kind: DropKind): number {
    const c = this.capacityCfg.connections;
    if (!c || (c.kinds && !c.kinds.includes(kind))) return 0;
    return Math.max(0, this.liveStreamCount(c.kinds) - c.knee) * c.perUnitMs;
  }

  /** Merge a partial configuration in (rule lists are replaced when given). */
  set(partial: { http?: HttpFaultRule[]; latency?: LatencyRule[]; build?: Partial<BuildFaults>; hang?: HangRule[] }): void {
    if (partial.hang) this.cfg.hang = [...partial.hang];
    if (partial.http) this.cfg.http = [...partial.http];
    if (partial.latency) this.cfg.latency = [...partial.latency];
    if (partial.build) this.cfg.build = { ...this.cfg.build, ...partial.build };
  }

  addHttp(rule: HttpFaultRule): void {
    this.cfg.http.push(rule);
  }

  clear(): void {
    this.cfg = { http: [], latency: [], build: emptyBuild(), hang: [] };
    this.dropCfg = undefined;
    this.capacityCfg = {};
  }

  get(): FaultConfig {
    return { http: [...this.cfg.http], latency: [...this.cfg.latency], build: { ...this.cfg.build }, hang: [...this.cfg.hang] };
  }

  get build(): BuildFaults {
    return this.cfg.build;
  }

  /**
   * The pipeline hook: decide latency and an optional error for one request. `bypassesRateLimit` says
   * whether the request may skip coderd's rate limiter (asked only when a 429 rule matches).
   */
  decide(method: string, path: string, bypassesRateLimit: () => boolean = () => false): FaultDecision {
    if (this.cfg.hang.some((h) => methodMatches(h.method, method) && pathMatches(h.path, path))) {
      this.injected.hung++;
      return { hang: true, delayMs: 0 };
    }
    let delayMs = 0;
    for (const l of this.cfg.latency) {
      if (methodMatches(l.method, method) && pathMatches(l.path, path)) {
        delayMs += drawDuration(l.latencyMs, this.rng);
        this.injected.latency++;
      }
    }
    for (const r of this.cfg.http) {
      if (!methodMatches(r.method, method) || !pathMatches(r.path, path)) continue;
      const fired = this.fired.get(r) ?? 0;
      if (r.count !== undefined && fired >= r.count) continue;
      if (r.status === 429 && !r.proxy && bypassesRateLimit()) continue;
      if (!this.rng.chance(r.rate ?? 1)) continue;
      this.fired.set(r, fired + 1);
      this.injected.http++;
      this.injected.httpByStatus[String(r.status)] = (this.injected.httpByStatus[String(r.status)] ?? 0) + 1;
      const retryAfterSec = r.retryAfterSec ?? (r.status === 429 ? 1 : undefined);
      return {
        delayMs: delayMs + (r.latencyMs ?? 0),
        error: retryAfterSec === undefined ? { status: r.status } : { status: r.status, retryAfterSec },
      };
    }
    return { delayMs };
  }

  /** The connection-drop fault in force, if any. */
  get drops(): ConnectionDropFaults | undefined {
    return this.dropCfg ? { ...this.dropCfg } : undefined;
  }

  /** Sets (or with undefined clears) the connection-drop fault. */
  setDrops(cfg: ConnectionDropFaults | undefined): void {
    if (cfg && !(cfg.rate >= 0 && cfg.rate <= 1)) throw new Error(`drop rate must be within 0..1, got ${cfg.rate}`);
    this.dropCfg = cfg ? { ...cfg } : undefined;
  }

  /**
   * The drop fault's hold on one server-side connection of `kind`: the server reports when the stream goes
   * live and when it ends, and `cut` destroys the connection (see ConnectionDrop).
   */
  connectionDrop(kind: DropKind, timers: FaultTimers, cut: () => boolean): ConnectionDrop {
    return new ConnectionDrop(kind, timers, cut, {
      draw: () => {
        const d = this.dropCfg;
        if (!d || (d.kinds && !d.kinds.includes(kind))) return undefined;
        if (!this.rng.chance(d.rate)) return undefined;
        return drawDuration(d.afterMs ?? { minMs: 500, maxMs: 2000 }, this.rng);
      },
      count: () => {
        this.injected.drops++;
        this.injected.dropsByKind[kind]++;
      },
      live: (delta) => void (this.liveStreams[kind] += delta),
    });
  }

  /** Faults for a newly queued job. */
  drawJob(): { fail: boolean; stuck: boolean; agentNeverConnects: boolean } {
    const b = this.cfg.build;
    // Counted faults first (deterministic whatever order concurrent builds arrive in), then the rates.
    const take = (k: "failCount" | "stuckPendingCount" | "agentNeverConnectCount"): boolean => {
      if ((b[k] ?? 0) <= 0) return false;
      b[k] = (b[k] ?? 0) - 1;
      return true;
    };
    const stuck = take("stuckPendingCount") || this.rng.chance(b.stuckPendingRate);
    const fail = !stuck && (take("failCount") || this.rng.chance(b.failRate));
    const agentNeverConnects = take("agentNeverConnectCount") || this.rng.chance(b.agentNeverConnectRate);
    if (stuck) this.injected.stuckPending++;
    if (fail) this.injected.buildFailed++;
    return { fail, stuck, agentNeverConnects };
  }
}

/** Timers the simulator cancels when it stops (SimCore.later / cancel). */
export interface FaultTimers {
  later(ms: number, fn: () => void): NodeJS.Timeout;
  cancel(t: NodeJS.Timeout | undefined): void;
}

/**
 * The connection-drop fault for one server-side connection, so that what the simulator counts as injected
 * is exactly what a client can see as a dropped connection:
 *  - the stream is live from the client's first byte on it until the server commits to ending it cleanly
 *    (it answers the client's goodbye or ends the session itself) or the connection closes. The first byte
 *    proves the client holds the connection open: a client writes only once its dial (TCP, TLS/websocket
 *    upgrade, SSH handshake, session open) has completed, so a cut can never land in a dial, where the
 *    client would see a failed dial, not a drop;
 *  - the delay is drawn when the stream goes live; when it expires `cut` destroys the connection only if
 *    the stream is still live (e.g. a websocket not yet closing) and says whether it did;
 *  - a drop is counted in `Faults.injected` only when it cut a live stream. A client that is closing its end
 *    (goodbye sent, not yet answered) still has a live stream: it sees no clean end, and records a drop.
 */
export class ConnectionDrop {
  private state: "idle" | "armed" | "over" = "idle";
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly kind: DropKind,
    private readonly timers: FaultTimers,
    private readonly cut: () => boolean,
    private readonly fault: { draw: () => number | undefined; count: () => void; live?: (delta: 1 | -1) => void },
  ) {}

  /** Counted as a live stream by the capacity model (from the first byte until the end or the cut). */
  private counted = false;

  private uncount(): void {
    if (!this.counted) return;
    this.counted = false;
    this.fault.live?.(-1);
  }

  /** The client's first byte arrived: start the drop clock (once; later calls do nothing). */
  live(): void {
    if (this.state !== "idle") return;
    this.counted = true;
    this.fault.live?.(1);
    const ms = this.fault.draw();
    if (ms === undefined) {
      this.state = "over";
      return;
    }
    this.state = "armed";
    this.timer = this.timers.later(ms, () => {
      if (this.state !== "armed") return;
      this.state = "over";
      this.timer = undefined;
      if (this.cut()) {
        this.uncount();
        this.fault.count();
      }
    });
  }

  /** The stream is over (clean end committed, or the connection closed): no drop from now on. */
  end(): void {
    this.uncount();
    this.state = "over";
    this.timers.cancel(this.timer);
    this.timer = undefined;
  }
}

/**
 * Parse a CLI fault spec "METHOD PATH STATUS[@RATE][xCOUNT][,retry-after=SEC][,proxy]", e.g.
 * "GET /api/v2/workspaces 503@0.2", "POST /api/v2/users/me/workspaces 429@1x3,retry-after=2,proxy".
 */
export function parseHttpFault(spec: string): HttpFaultRule {
  const parts = spec.trim().split(/\s+/);
  const [method, path, statusRate] = parts;
  const m = statusRate === undefined ? null : /^(\d{3})(?:@(\d*\.?\d+))?(?:x(\d+))?(?:,retry-after=(\d+))?(,proxy)?$/.exec(statusRate);
  if (parts.length !== 3 || method === undefined || path === undefined || !m || m[1] === undefined) {
    throw new Error(
      `bad fault "${spec}": expected "METHOD PATH STATUS[@RATE][xCOUNT][,retry-after=SEC][,proxy]", e.g. "GET /api/v2/workspaces 503@0.2"`,
    );
  }
  const status = Number(m[1]);
  if (status < 400 || status > 599) throw new Error(`bad fault "${spec}": status must be an HTTP error (400-599)`);
  const rate = m[2] === undefined ? 1 : Number(m[2]);
  if (!(rate >= 0 && rate <= 1)) throw new Error(`bad fault "${spec}": rate must be within 0..1`);
  const rule: HttpFaultRule = { method, path, status, rate };
  if (m[3] !== undefined) rule.count = Number(m[3]);
  if (m[4] !== undefined) rule.retryAfterSec = Number(m[4]);
  if (m[5] !== undefined) rule.proxy = true;
  return rule;
}

/** Parse a CLI drop-kinds list "pty,ssh,app" (any subset). */
export function parseDropKinds(list: string): DropKind[] {
  const kinds = list.split(",").map((k) => k.trim()).filter((k) => k !== "");
  const bad = kinds.filter((k) => k !== "pty" && k !== "ssh" && k !== "app");
  if (bad.length > 0 || kinds.length === 0) throw new Error(`bad connection kinds "${list}": use a comma list of pty, ssh, app`);
  return kinds as DropKind[];
}
