// coderd's Prometheus endpoint, simulated honestly: the metric names, types, labels and buckets of coderd
// (coderd/httpmw/prometheus.go, coderd/provisionerdserver, provisionerd), each measured from the simulator's
// own work — its HTTP handlers' real latencies per route pattern, its open websockets, its provisioner
// queue — plus prom-client's process metrics (process_cpu_seconds_total, process_resident_memory_bytes).
// Nothing is made up: no goroutines (Node has none) and no database figures (the simulator has no database).
// Served on its own loopback listener, as coderd serves its metrics on --prometheus-address.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SimCore } from "../core.ts";
import type { Engine } from "../engine.ts";
import type { SimJob } from "../state.ts";
import type { Notifier } from "../notifications/notifier.ts";

/** coderd/httpmw/prometheus.go */
export const API_LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5, 10, 30];
const WEBSOCKET_DURATION_BUCKETS = [0.001, 1, 60, 3600, 54000, 108000];
/** coderd/provisionerdserver/metrics.go */
const QUEUE_WAIT_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 900, 1800];
/** provisionerd/provisionerd.go */
const JOB_TIMING_BUCKETS = [1, 10, 30, 60, 300, 600, 1800, 3600];
/** coderd/notifications/metrics.go */
const NOTIFICATION_QUEUED_BUCKETS = [1, 2.5, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 600, 3600];
const NOTIFICATION_SEND_BUCKETS = [0.001, 0.05, 0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120];

export interface SimMetrics {
  readonly registry: Registry;
  /** The metrics endpoint, e.g. http://127.0.0.1:41234/ (any path answers, as coderd's promhttp handler). */
  readonly url: string;
  /** Measure one HTTP server's requests and upgrades (called again after a simulated restart). */
  attach(server: Server): void;
  /** One lifecycle executor pass took `seconds` (coderd_lifecycle_autobuild_execution_duration_seconds). */
  autobuildExecution(seconds: number): void;
  close(): Promise<void>;
}

/**
 * The route pattern coderd would label a request with (httpmw.HTTPRoute): the matched pattern; "UNKNOWN"
 * for an unmatched /api/ path; "STATIC" for anything else.
 */
function routeOf(core: SimCore, method: string, path: string): string {
  const m = core.router.match(method, path);
  if (m.kind === "found") return m.route.pattern;
  return path.startsWith("/api/") ? "UNKNOWN" : "STATIC";
}

/** The upgrade route's pattern (the core keeps them private: read through an index, nothing is changed). */
function upgradePatternOf(core: SimCore, path: string): string | undefined {
  const routes = core["upgradeRoutes"] as { segments: string[] }[];
  const parts = path.split("/").slice(1);
  for (const r of routes) {
    if (r.segments.length > parts.length) continue;
    const ok = r.segments.every((s, i) => s === "*" || (s.startsWith("{") && s.endsWith("}") ? parts[i] !== "" : s === parts[i]));
    if (ok && (r.segments.length === parts.length || r.segments[r.segments.length - 1] === "*")) return `/${r.segments.join("/")}`;
  }
  return undefined;
}

export async function startSimMetrics(core: SimCore, engine: Engine, opts: { host: string; port?: number; version: string; notifier?: Notifier }): Promise<SimMetrics> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  if (opts.notifier) {
    // coderd's notifier: time a message waited in the queue until leased, and the dispatch itself, by method.
    const queued = new Histogram({ name: "coderd_notifications_queued_seconds", help: "The time elapsed between a notification being enqueued in the store and retrieved for dispatching (measures the latency of the notifications system). This should generally be within CODER_NOTIFICATIONS_FETCH_INTERVAL seconds; higher values for a sustained period indicates delayed processing and CODER_NOTIFICATIONS_LEASE_COUNT can be increased to accommodate this.", labelNames: ["method"], buckets: NOTIFICATION_QUEUED_BUCKETS, registers: [registry] });
    const send = new Histogram({ name: "coderd_notifications_dispatcher_send_seconds", help: "The time taken to dispatch notifications.", labelNames: ["method"], buckets: NOTIFICATION_SEND_BUCKETS, registers: [registry] });
    opts.notifier.onDispatch((e) => {
      queued.observe({ method: e.method }, e.queuedSeconds);
      send.observe({ method: e.method }, e.sendSeconds);
    });
  }
  const latency = new Histogram({
    name: "coderd_api_request_latencies_seconds",
    help: "Latency distribution of requests in seconds.",
    labelNames: ["method", "path"],
    buckets: API_LATENCY_BUCKETS,
    registers: [registry],
  });
  const processed = new Counter({
    name: "coderd_api_requests_processed_total",
    help: "The total number of processed API requests",
    labelNames: ["code", "method", "path"],
    registers: [registry],
  });
  const concurrent = new Gauge({
    name: "coderd_api_concurrent_requests",
    help: "The number of concurrent API requests.",
    labelNames: ["method", "path"],
    registers: [registry],
  });
  const websockets = new Gauge({
    name: "coderd_api_concurrent_websockets",
    help: "The total number of concurrent API websockets.",
    labelNames: ["path"],
    registers: [registry],
  });
  const wsDurations = new Histogram({
    name: "coderd_api_websocket_durations_seconds",
    help: "Websocket duration distribution of requests in seconds.",
    labelNames: ["path"],
    buckets: WEBSOCKET_DURATION_BUCKETS,
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: "coderd_provisioner_job_queue_wait_seconds",
    help: "Time from job creation to acquiral.",
    labelNames: ["provisioner_type", "job_type", "transition", "build_reason"],
    buckets: QUEUE_WAIT_BUCKETS,
    registers: [registry],
  });
  const autobuild = new Histogram({
    name: "coderd_lifecycle_autobuild_execution_duration_seconds",
    help: "Duration of each autobuild execution.",
    registers: [registry],
  });
  const jobTimings = new Histogram({
    name: "coderd_provisionerd_job_timings_seconds",
    help: "The provisioner job time duration in seconds.",
    labelNames: ["provisioner", "status"],
    buckets: JOB_TIMING_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "coderd_provisionerd_jobs_current",
    help: "The number of currently running provisioner jobs.",
    labelNames: ["provisioner"],
    registers: [registry],
    collect() {
      this.set({ provisioner: "terraform" }, engine.counts().running);
    },
  });
  new Gauge({
    name: "coderd_provisionerd_num_daemons",
    help: "The number of provisioner daemons.",
    registers: [registry],
    collect() {
      this.set(engine.daemons.length);
    },
  });
  const buildInfo = new Gauge({
    name: "coderd_build_info",
    help: "Version and revision of the running coderd.",
    labelNames: ["version", "revision"],
    registers: [registry],
  });
  buildInfo.set({ version: opts.version, revision: "simulated" }, 1);

  // Provisioner jobs: observed when the engine reports a workspace change (it emits one when a daemon
  // acquires a job and when a job finishes). Jobs that existed before (seeded, backdated) are not observed.
  const acquired = new WeakSet<SimJob>();
  const finished = new WeakSet<SimJob>();
  for (const j of core.state.jobs.values()) {
    acquired.add(j);
    finished.add(j);
  }
  const onWorkspace = (wsId: string): void => {
    const ws = core.state.workspaces.get(wsId);
    if (!ws) return;
    for (const id of ws.buildIds) {
      const b = core.state.builds.get(id);
      if (!b) continue;
      const job = core.state.jobs.get(b.jobId);
      if (!job) continue;
      if (job.startedAt !== undefined && !acquired.has(job)) {
        acquired.add(job);
        queueWait.observe(
          { provisioner_type: "terraform", job_type: job.type, transition: b.transition, build_reason: b.reason },
          Math.max(0, job.startedAt - job.createdAt) / 1000,
        );
      }
      if (job.completedAt !== undefined && job.startedAt !== undefined && !finished.has(job)) {
        finished.add(job);
        jobTimings.observe({ provisioner: "terraform", status: job.error === undefined ? "success" : "failed" }, Math.max(0, job.completedAt - job.startedAt) / 1000);
      }
    }
  };
  core.state.events.on("workspace", onWorkspace);

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const method = (req.method ?? "GET").toUpperCase();
    const path = new URL(req.url ?? "/", "http://sim.invalid").pathname;
    const route = routeOf(core, method, path);
    const started = process.hrtime.bigint();
    concurrent.inc({ method, path: route });
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      concurrent.dec({ method, path: route });
      latency.observe({ method, path: route }, Number(process.hrtime.bigint() - started) / 1e9);
      processed.inc({ code: String(res.statusCode), method, path: route });
    };
    res.once("finish", end);
    res.once("close", end);
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex): void => {
    const path = new URL(req.url ?? "/", "http://sim.invalid").pathname;
    const route = upgradePatternOf(core, path) ?? (path.startsWith("/api/") ? "UNKNOWN" : "STATIC");
    const started = process.hrtime.bigint();
    websockets.inc({ path: route });
    socket.once("close", () => {
      websockets.dec({ path: route });
      wsDurations.observe({ path: route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
  };

  const server = createServer((req, res) => {
    registry
      .metrics()
      .then((text) => {
        res.writeHead(200, { "Content-Type": registry.contentType });
        res.end(text);
      })
      .catch((e: unknown) => {
        res.writeHead(500, { "Content-Type": "text/plain" });
        res.end(String(e));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    registry,
    url: `http://${host}:${port}/`,
    autobuildExecution: (s) => autobuild.observe(s),
    attach(s) {
      // Prepended, so the clock starts before the pipeline (and its injected latency) runs.
      s.prependListener("request", onRequest);
      s.prependListener("upgrade", onUpgrade);
    },
    close: () =>
      new Promise<void>((resolve) => {
        core.state.events.off("workspace", onWorkspace);
        registry.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
