// Public entry point of the simulated Coder deployment.
//
//   const sim = await startSim({ seed: 7, daemons: 2, buildDuration: 50 });
//   // sim.url, sim.ownerToken ... talk to it like to Coder ...
//   await sim.stop();
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Convert } from "./convert.ts";
import { SimCore, type PreHandler, type UpgradeHandler } from "./core.ts";
import { Engine } from "./engine.ts";
import type { Faults } from "./faults.ts";
import type { Handler, RouteOptions } from "./http/router.ts";
import { createSimServer } from "./http/server.ts";
import { resolveOptions, type SimOptions } from "./options.ts";
import { PtyServer } from "./pty.ts";
import { startWorkspaceProxy, type SimWorkspaceProxy } from "./wsproxy.ts";
import { BuildLogStreams } from "./build-logs.ts";
import { installApps, type SimApps } from "./apps/server.ts";
import { installSsh, type SimSsh } from "./ssh/server.ts";
import { installDashboardPages, type DashboardPagesControl } from "./dashboard/index.ts";
import { authenticate, isOwner, tokenFromRequest } from "./auth.ts";
import type { RouteDeps } from "./routes/common.ts";
import { registerMetaRoutes } from "./routes/meta.ts";
import { registerTemplateRoutes } from "./routes/templates.ts";
import { registerUserRoutes } from "./routes/users.ts";
import { registerRoleRoutes } from "./routes/roles.ts";
import { registerTemplateWriteRoutes, type TemplateWrites } from "./routes/template-writes.ts";
import { Notifier } from "./notifications/notifier.ts";
import { InboxWatch } from "./notifications/watch.ts";
import { registerWorkspaceRoutes } from "./routes/workspaces.ts";
import { seed } from "./seed.ts";
import { startSimMetrics, type SimMetrics } from "./metrics/index.ts";
import { TailnetServer } from "./tailnet/server.ts";
import { installPrebuilds, type Prebuilds } from "./prebuilds.ts";
import { installTaskStatus, type TaskStatus } from "./taskstatus.ts";
import { LifecycleExecutor } from "./lifecycle.ts";
import { BuildWatchServer } from "./watch.ts";
import { AgentStreams } from "./agent-streams.ts";
import { registerDashboardRoutes, type DashboardApi } from "./routes/dashboard.ts";
import { DynamicParametersSim } from "./dynamic-parameters.ts";
import { jobStatus, type SimState } from "./state.ts";
import { sleep } from "../src/util/sleep.ts";

export type { SimOptions, DurationSpec } from "./options.ts";
export type { HttpFaultRule, LatencyRule, BuildFaults, FaultConfig } from "./faults.ts";
export type { CapacityModel } from "./faults.ts";
export type { TailnetFaults, TailnetCounts, StreamCloseHow } from "./tailnet/server.ts";
export type { AutobuildEntry } from "./lifecycle.ts";
export type { WatchCounts } from "./watch.ts";
export type { Handler, RouteOptions } from "./http/router.ts";
export type { UpgradeHandler, PreHandler } from "./core.ts";
export type { SimWorkspaceProxy } from "./wsproxy.ts";
export { Ctx, HttpError } from "./http/context.ts";
export { rejectUpgrade } from "./http/server.ts";

export interface SimCounts {
  /** Live (not deleted) users, including the owner and pre-existing users. */
  users: number;
  /** Live (not deleted) workspaces. */
  workspaces: number;
  /**
   * Builds of live workspaces (history included), so it returns to its start value when a test
   * cleans up; every build ever created is `state.builds.size`.
   */
  builds: number;
  /** Builds whose job is pending or running. */
  activeBuilds: number;
  pendingJobs: number;
  runningJobs: number;
  /** API keys (session tokens and minted tokens). */
  tokens: number;
  /** Agents of live workspaces that are not shut down (connecting or connected). */
  agents: number;
  agentsConnected: number;
  ptyConnections: number;
  ptySessions: number;
}

export interface Sim {
  /** Base URL, e.g. http://127.0.0.1:43123 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Session token of the owner user "admin". */
  readonly ownerToken: string;
  /** Read access to the in-memory state (do not mutate from tests). */
  readonly state: SimState;
  readonly faults: Faults;
  /** Internals for extension modules (SSH server, apps, dashboard pages). */
  readonly core: SimCore;
  readonly engine: Engine;
  readonly convert: Convert;
  readonly pty: PtyServer;
  /** The build-log websocket (GET /workspacebuilds/{id}/logs?follow) and its counts. */
  readonly buildLogs: BuildLogStreams;
  /** The agents' SSH server (reached through `coder ssh --stdio`; see sim/ssh/server.ts). */
  readonly ssh: SimSsh;
  /** Workspace apps behind the path-based app proxy (see sim/apps/server.ts). */
  readonly apps: SimApps;
  /** The tailnet RPC endpoint (GET /api/v2/tailnet: WorkspaceUpdates), its fault knobs and counters. */
  readonly tailnet: TailnetServer;
  /** Template upload, presets and the prebuilds reconciler (its counters). */
  readonly prebuilds: Prebuilds;
  /** External agents' app status and the workspace watch; its drop-updates fault and counters. */
  readonly taskStatus: TaskStatus;
  /** coderd's notifier (queue, inbox, SMTP): `notifier.stop()` is the switch that stops delivery. */
  readonly notifier: Notifier;
  /** GET /api/v2/notifications/inbox/watch and its counters. */
  readonly inboxWatch: InboxWatch;
  /** coderd's lifecycle executor (autostart): its log of autostart builds, stall(), runOnce(at). */
  readonly lifecycle: LifecycleExecutor;
  /** The build watch streams (watch-all-workspacebuilds, watch-ws) and their counters. */
  readonly watch: BuildWatchServer;
  /** The agent websockets the dashboard's workspace page holds (watch-metadata-ws, agent logs). */
  readonly agentStreams: AgentStreams;
  /** The dashboard's own endpoints (authcheck and friends): authchecks answered, checks evaluated, their log. */
  readonly dashboardApi: DashboardApi;
  /** File uploads, version imports and template writes (one implementation; knobs importMs, importFails; counts). */
  readonly templateWrites: TemplateWrites;
  /** The dynamic-parameters websocket; knobs: evalDelayMs, injectDiagnostic, importMs, importFails. */
  readonly dynamicParameters: DynamicParametersSim;
  /** coderd's Prometheus endpoint (its own loopback port), or undefined with `metrics: false`. */
  readonly metrics: SimMetrics | undefined;
  /** The metrics endpoint's URL ("" with `metrics: false`). */
  readonly metricsUrl: string;
  readonly http: {
    addRoute(method: string, pattern: string, handler: Handler, opts?: RouteOptions): void;
    /** A handler that may claim any request before routing (return true when handled). */
    use(pre: PreHandler): void;
  };
  addUpgradeHandler(pattern: string, handler: UpgradeHandler): void;
  /** The dashboard pages (browser mode) and their fault knob `omitLandmarks`. */
  readonly dashboardPages: DashboardPagesControl;
  /** A workspace proxy on its own loopback port (sim/wsproxy.ts): the PTY and path apps of this deployment. */
  startWorkspaceProxy(): Promise<SimWorkspaceProxy>;
  counts(): SimCounts;
  /** Canonical JSON of the pre-existing users and workspaces, for byte-for-byte comparison. */
  snapshotPreexisting(): string;
  /** Fault: abruptly drop a fraction (default all) of open websocket connections. */
  dropWebsockets(fraction?: number): number;
  /** Fault: stop serving for downMs (all connections drop), then serve again on the same port with the same state. */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startSim(options: SimOptions = {}): Promise<Sim> {
  const opts = resolveOptions(options);
  const core = new SimCore(opts);
  const engine = new Engine(core);
  const convert = new Convert(core, engine);
  seed(core, engine);
  const pty = new PtyServer(core);
  const deps: RouteDeps = { core, engine, convert };
  registerMetaRoutes(core.router, deps, { ptySessions: () => pty.openCount() });
  registerUserRoutes(core.router, deps);
  registerRoleRoutes(core.router, deps);
  registerTemplateRoutes(core.router, deps);
  registerWorkspaceRoutes(core.router, deps);
  const notifier = new Notifier(core, opts.notifications);
  const inboxWatch = new InboxWatch(core, notifier);
  const dashboardApi = registerDashboardRoutes(core.router, deps, notifier);
  const agentStreams = new AgentStreams(core);
  // The one implementation of file upload, version import and template writes; load types listen to it.
  const templateWrites = registerTemplateWriteRoutes(core.router, deps, notifier);
  const buildLogs = new BuildLogStreams(deps);
  const ssh = await installSsh(deps);
  const apps = installApps(deps);
  const tailnet = new TailnetServer(core);
  const prebuilds = installPrebuilds(deps, templateWrites, { premium: opts.premium, reconcileIntervalMs: opts.prebuildsReconcileIntervalMs });
  const taskStatus = installTaskStatus(deps, { premium: opts.premium });
  const lifecycle = new LifecycleExecutor(core, engine, opts.autobuildPollIntervalMs);
  const watch = new BuildWatchServer(core, convert, opts.experiments);
  const dynamicParameters = new DynamicParametersSim(core, templateWrites);
  // Minimal dashboard pages (HTML at the dashboard's paths) for browser-mode dashboard traffic.
  // The signed-in user is embedded in each page, as coderd embeds it in its HTML.
  const dashboardPages = installDashboardPages({ use: (pre) => core.preHandlers.push(pre) }, (ctx) => {
    try {
      const actor = authenticate(core.state, tokenFromRequest(ctx.req, ctx.query), core.now());
      return { username: actor.user.username, owner: isOwner(actor) };
    } catch {
      return undefined;
    }
  });

  const metrics = opts.metrics ? await startSimMetrics(core, engine, { host: opts.host, version: opts.version, notifier }) : undefined;
  if (metrics) core.onClose(() => metrics.close());
  if (metrics) lifecycle.onPass = (s) => metrics.autobuildExecution(s);
  let server = createSimServer(core);
  metrics?.attach(server);
  const port = await listen(server, opts.port, opts.host);
  const hostForUrl = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  core.url = `http://${hostForUrl}:${port}`;
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      core.stopped = true;
      core.dropConnections();
      await core.runClosers();
      await closeServer(server);
    })();
    return stopping;
  };

  const sim: Sim = {
    url: core.url,
    port,
    ownerToken: core.ownerToken,
    state: core.state,
    faults: core.faults,
    core,
    engine,
    convert,
    pty,
    buildLogs,
    ssh,
    apps,
    tailnet,
    prebuilds,
    taskStatus,
    notifier,
    inboxWatch,
    lifecycle,
    watch,
    agentStreams,
    dashboardApi,
    templateWrites,
    dynamicParameters,
    metrics,
    metricsUrl: metrics?.url ?? "",
    http: {
      addRoute: (method, pattern, handler, o) => core.router.add(method, pattern, handler, o),
      use: (pre) => core.preHandlers.push(pre),
    },
    addUpgradeHandler: (pattern, handler) => core.addUpgradeHandler(pattern, handler),
    dashboardPages,
    startWorkspaceProxy: () => startWorkspaceProxy(core, opts.host),
    counts: () => {
      const s = core.state;
      let builds = 0;
      let activeBuilds = 0;
      for (const b of s.builds.values()) {
        const st = jobStatus(s.job(b.jobId));
        if (st === "pending" || st === "running" || st === "canceling") activeBuilds++;
        if (s.workspaces.get(b.workspaceId)?.deleted === false) builds++;
      }
      let agents = 0;
      let agentsConnected = 0;
      for (const a of s.agents.values()) {
        if (a.lifecycle === "off" || s.workspaces.get(a.workspaceId)?.deleted !== false) continue;
        agents++;
        if (a.firstConnectedAt !== undefined && a.disconnectedAt === undefined) agentsConnected++;
      }
      const q = engine.counts();
      return {
        users: s.liveUsers().length,
        workspaces: s.liveWorkspaces().length,
        builds,
        activeBuilds,
        pendingJobs: q.pending,
        runningJobs: q.running,
        tokens: s.apiKeys.size,
        agents,
        agentsConnected,
        ptyConnections: pty.openCount(),
        ptySessions: pty.sessionCount(),
      };
    },
    snapshotPreexisting: () => {
      const s = core.state;
      const users = [...s.users.values()].filter((u) => u.preexisting).sort((a, b) => a.id.localeCompare(b.id)).map((u) => ({
        id: u.id, username: u.username, email: u.email, name: u.name, deleted: u.deleted, roles: u.roles,
        org_ids: u.orgIds, login_type: u.loginType,
      }));
      const workspaces = [...s.workspaces.values()].filter((w) => w.preexisting).sort((a, b) => a.id.localeCompare(b.id)).map((w) => {
        const latest = s.latestBuild(w);
        return {
          id: w.id, name: w.name, owner_id: w.ownerId, template_id: w.templateId, deleted: w.deleted,
          builds: w.buildIds.length, latest_transition: latest.transition, latest_job_status: jobStatus(s.job(latest.jobId)),
          params: latest.params,
        };
      });
      return JSON.stringify({ users, workspaces });
    },
    dropWebsockets: (fraction = 1) => pty.dropConnections(fraction),
    restart: async (downMs = 0) => {
      core.faults.injected.restarts++;
      core.dropConnections();
      await closeServer(server);
      await sleep(downMs);
      if (core.stopped) return;
      server = createSimServer(core);
      metrics?.attach(server);
      await listen(server, port, opts.host);
    },
    stop,
    close: stop,
  };
  return sim;
}
