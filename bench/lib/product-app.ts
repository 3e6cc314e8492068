/**
 * The product's own transport path for the benchmark guard: the traffic engine (runTraffic) with the
 * workspace-app kind (src/traffic/kinds/app.ts: appDialer -> openAuthedWebSocket -> wsConnection, the same
 * connection code the web-terminal kind uses) in echo mode (`wsec`), with the product's Prometheus metrics on,
 * dialled at the bench's loopback echo server. The app URL is built exactly as for a real deployment
 * (path-based: /@owner/workspace.agent/apps/wsec/); the echo server answers any path, and echoes the app's
 * 1,024-byte binary messages back unchanged, as Coder's `wsec` app (websocat) does.
 *
 * Nothing here stubs product code: the CoderClient is real (it is only asked for its URL; the dial goes
 * straight to the websocket, as in a run), the agents are what discovery would have returned.
 */
import { Registry } from "prom-client";
import { CoderClient, type WorkspaceAgent } from "../../src/coder/index.ts";
import { runTraffic } from "../../src/traffic/engine.ts";
import { appDialer, APP_MAX_MESSAGE } from "../../src/traffic/kinds/app.ts";
import type { TrafficDialer, TrafficTarget } from "../../src/traffic/transport.ts";
import { TrafficMetrics } from "../../src/metrics/traffic.ts";
import type { ClientReport, Workload } from "./workload.ts";

/** The app kind splits each tick into messages of this size; the floor sends the same frames. */
export const PRODUCT_FRAME_BYTES = APP_MAX_MESSAGE;

/** A loopback-only token: it only ever goes to the bench's own echo server. */
const BENCH_TOKEN = "bench-guard-not-a-secret";

function targetsAndAgents(conns: number): { targets: TrafficTarget[]; agents: Map<string, WorkspaceAgent> } {
  const targets: TrafficTarget[] = [];
  const agents = new Map<string, WorkspaceAgent>();
  const now = new Date().toISOString();
  for (let i = 0; i < conns; i++) {
    const name = `scaletest-guard-${String(i).padStart(4, "0")}`;
    const agentId = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    targets.push({ workspaceId: `w${i}`, workspaceName: name, ownerName: name, agentId, agentName: "main", index: i });
    agents.set(agentId, {
      id: agentId,
      name: "main",
      created_at: now,
      lifecycle_state: "ready",
      status: "connected",
      apps: [{ id: `app-${i}`, slug: "wsec", display_name: "wsec", subdomain: false, health: "healthy", sharing_level: "owner" }],
    });
  }
  return { targets, agents };
}

/**
 * The kind's connections with one extra call per received chunk to `onEcho` (the guard counts the bytes that
 * came back in its measured window; the floor pays the same call), and `onOpen` per connection opened.
 */
function counting(d: TrafficDialer, onEcho: (bytes: number) => void, onOpen: () => void): TrafficDialer {
  return {
    ...d,
    dial: async (target, signal) => {
      const c = await d.dial(target, signal);
      onOpen();
      return {
        ...c,
        onData: (cb) =>
          c.onData((chunk) => {
            onEcho(chunk.length);
            cb(chunk);
          }),
      };
    },
  };
}

/** Runs the workload through the product's app transport against the echo server at `echoUrl` (ws://host:port/). */
export interface ProductAppHooks {
  onEcho: (bytes: number) => void;
  onOpen: () => void;
}

export async function runProductApp(echoUrl: string, w: Workload, hooks?: ProductAppHooks): Promise<ClientReport> {
  const http = new URL(echoUrl);
  http.protocol = "http:";
  const client = new CoderClient({ url: http, token: BENCH_TOKEN });
  const { targets, agents } = targetsAndAgents(w.conns);
  const dialer = appDialer(client, { mode: "wsec", agents, appHost: "" });
  const r = await runTraffic({
    targets,
    dialer: hooks ? counting(dialer, hooks.onEcho, hooks.onOpen) : dialer,
    bytesPerTick: w.bytesPerTick,
    tickIntervalMs: w.intervalMs,
    durationMs: w.durationMs,
    rampMs: w.rampMs,
    metrics: new TrafficMetrics(new Registry()),
  });
  const t = r.totals;
  return {
    tool: "ours",
    ticksSent: t.ticksSent,
    ticksCompleted: t.ticksCompleted,
    errors: t.dialErrors + t.drops + t.readErrors + t.writeErrors,
    errorSamples: r.errors.slice(0, 5).map((e) => `${e.target}: ${e.message}`),
    lag: { count: r.latency.tick.count, p50: r.latency.tick.p50, p99: r.latency.tick.p99, max: r.latency.tick.max },
    // The engine's own per-second record (its timeline: second k of the run, by when each echo arrived).
    lagSeconds: { startMs: Date.parse(r.startedAt), hists: r.timeline.map((p) => p.hist ?? "") },
  };
}
