// Options of the simulated deployment and their defaults.
import type { NotifierOptions } from "./notifications/notifier.ts";
import type { CapacityModel } from "./faults.ts";
import type { Rng } from "./rng.ts";

/** A duration: fixed ms, a uniform range, or a function of the seeded PRNG. */
export type DurationSpec = number | { minMs: number; maxMs: number } | ((rng: Rng) => number);

export interface SimOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to listen on; loopback only by default. */
  host?: string;
  /** PRNG seed for deterministic runs (default 1). */
  seed?: number;
  /** Number of provisioner daemons (default 4). */
  daemons?: number;
  /** How long one build runs once a daemon picks it up (default 300-800 ms). */
  buildDuration?: DurationSpec;
  /** Delay from a successful start build to the agent connecting (default 100-300 ms). */
  agentConnectDelayMs?: DurationSpec;
  /** Delay from agent connected (lifecycle starting) to lifecycle ready (default 50 ms). */
  agentReadyDelayMs?: DurationSpec;
  /** Create the pre-existing non-scaletest users and workspaces (default true). */
  preexisting?: boolean;
  /** Owner session token; must look like Coder's "<10 chars>-<22 chars>". Generated when absent. */
  ownerToken?: string;
  /** How long a disconnected reconnecting-PTY session can be resumed (default 5000 ms). */
  ptyReconnectWindowMs?: number;
  /** Version string reported by /buildinfo. */
  version?: string;
  /** Serve coderd's Prometheus metrics on a second loopback port (default true). */
  metrics?: boolean;
  /** A Premium licence: prebuilds and external agents answer (default true); false = 403 as coderd without it. */
  premium?: boolean;
  /** The prebuilds reconciler's interval (CODER_WORKSPACE_PREBUILDS_RECONCILIATION_INTERVAL; default 500 ms). */
  prebuildsReconcileIntervalMs?: number;
  /** The notifier (queue fetch interval, SMTP smarthost); see sim/notifications/notifier.ts. */
  notifications?: NotifierOptions;
  /** A capacity model from the start (latency past a knee of builds or connections); faults.setCapacity changes it. */
  capacity?: CapacityModel;
  /** The lifecycle executor's tick (coderd's --autobuild-poll-interval; default 60000 = 1 m; 0 = no ticker). */
  autobuildPollIntervalMs?: number;
  /** Enabled experiments (default ["workspace-build-updates"], which serves watch-all-workspacebuilds). */
  experiments?: string[];
}

export interface ResolvedOptions {
  port: number;
  host: string;
  seed: number;
  daemons: number;
  buildDuration: DurationSpec;
  agentConnectDelayMs: DurationSpec;
  agentReadyDelayMs: DurationSpec;
  preexisting: boolean;
  ownerToken: string | undefined;
  ptyReconnectWindowMs: number;
  version: string;
  metrics: boolean;
  premium: boolean;
  prebuildsReconcileIntervalMs: number;
  notifications: NotifierOptions;
  capacity: CapacityModel;
  autobuildPollIntervalMs: number;
  experiments: string[];
}

export function resolveOptions(o: SimOptions = {}): ResolvedOptions {
  const daemons = o.daemons ?? 4;
  if (!Number.isInteger(daemons) || daemons < 0) {
    throw new Error(`sim option daemons must be a non-negative integer, got ${String(o.daemons)}`);
  }
  if (o.ownerToken !== undefined && !/^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/.test(o.ownerToken)) {
    throw new Error(
      "sim option ownerToken must look like a Coder session token: 10 alphanumerics, '-', 22 alphanumerics",
    );
  }
  const tick = o.autobuildPollIntervalMs;
  if (tick !== undefined && !(Number.isFinite(tick) && tick >= 0)) {
    throw new Error(`sim option autobuildPollIntervalMs must be 0 (no ticker) or a positive number of ms, got ${String(tick)}`);
  }
  return {
    port: o.port ?? 0,
    host: o.host ?? "127.0.0.1",
    seed: o.seed ?? 1,
    daemons,
    buildDuration: o.buildDuration ?? { minMs: 300, maxMs: 800 },
    agentConnectDelayMs: o.agentConnectDelayMs ?? { minMs: 100, maxMs: 300 },
    agentReadyDelayMs: o.agentReadyDelayMs ?? 50,
    preexisting: o.preexisting ?? true,
    ownerToken: o.ownerToken,
    ptyReconnectWindowMs: o.ptyReconnectWindowMs ?? 5000,
    version: o.version ?? "v2.24.1+sim",
    metrics: o.metrics ?? true,
    premium: o.premium ?? true,
    prebuildsReconcileIntervalMs: o.prebuildsReconcileIntervalMs ?? 500,
    notifications: o.notifications ?? {},
    capacity: o.capacity ?? {},
    autobuildPollIntervalMs: o.autobuildPollIntervalMs ?? 60_000,
    experiments: o.experiments ?? ["workspace-build-updates"],
  };
}

export function drawDuration(spec: DurationSpec, rng: Rng): number {
  if (typeof spec === "number") return Math.max(0, spec);
  if (typeof spec === "function") return Math.max(0, spec(rng));
  const lo = Math.min(spec.minMs, spec.maxMs);
  const hi = Math.max(spec.minMs, spec.maxMs);
  return lo + rng.next() * (hi - lo);
}

/** Parse "A-B" or "A" (milliseconds) as used by the CLI flags. */
export function parseMsRange(text: string): DurationSpec {
  const m = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (!m || m[1] === undefined) throw new Error(`expected milliseconds as "N" or "MIN-MAX", got "${text}"`);
  const a = Number(m[1]);
  return m[2] === undefined ? a : { minMs: a, maxMs: Number(m[2]) };
}
