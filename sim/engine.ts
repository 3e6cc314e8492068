// Builds, the provisioner queue and agents: the moving parts of the simulated deployment.
// A build's job waits in a FIFO queue until one of N daemons picks it up (Coder acquires the
// oldest pending job first), runs for a drawn duration, then succeeds, fails or is canceled.
// A successful start build creates resources with one agent that connects after a delay.
import type { SimCore } from "./core.ts";
import { drawDuration } from "./options.ts";
import {
  jobStatus,
  type SimAgent, type SimBuild, type SimJob, type SimLog, type SimResource, type SimWorkspace, type Transition,
} from "./state.ts";

export interface SimDaemon {
  id: string;
  name: string;
  keyId: string;
  createdAt: number;
  lastSeenAt: number;
  currentJobId?: string;
  previousJobId?: string;
}

interface Running {
  daemon: SimDaemon;
  timer: NodeJS.Timeout;
  endsAt: number;
}

const AGENT_VERSION = "v2.24.1";
const AGENT_API_VERSION = "2.6";

export class Engine {
  readonly daemons: SimDaemon[] = [];
  /** Pending jobs in queue order (oldest first); stuck jobs stay here forever. */
  private pending: SimJob[] = [];
  private running = new Map<string, Running>();
  private agentTimers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly core: SimCore) {
    const now = core.now();
    for (let i = 0; i < core.opts.daemons; i++) {
      this.daemons.push({
        id: core.rng.uuid(),
        name: `sim-provisioner-${i + 1}`,
        keyId: "00000000-0000-0000-0000-000000000001",
        createdAt: now,
        lastSeenAt: now,
      });
    }
  }

  // ---- queue ---------------------------------------------------------------------------------

  queuePosition(job: SimJob): number {
    const i = this.pending.indexOf(job);
    return i < 0 ? 0 : i + 1;
  }

  queueSize(): number {
    return this.pending.length;
  }

  counts(): { pending: number; running: number } {
    return { pending: this.pending.length, running: this.running.size };
  }

  /** Queue a job that is not a workspace build (a template version import). */
  enqueueImport(job: SimJob): void {
    this.enqueue(job);
  }

  /** Start builds pending or running (the capacity model's load). */
  private startBuildsInFlight(): number {
    const isStart = (j: SimJob | undefined): boolean => j !== undefined && this.buildOfJob(j)?.transition === "start" && j.completedAt === undefined && j.canceledAt === undefined;
    let n = this.pending.filter(isStart).length;
    for (const d of this.daemons) if (d.currentJobId !== undefined && isStart(this.core.state.jobs.get(d.currentJobId))) n++;
    return n;
  }

  private enqueue(job: SimJob): void {
    this.pending.push(job);
    this.dispatch();
  }

  /** Give every idle daemon the oldest runnable pending job. */
  private dispatch(): void {
    for (const d of this.daemons) {
      if (d.currentJobId !== undefined) continue;
      const i = this.pending.findIndex((j) => !j.faults.stuck);
      if (i < 0) return;
      const [job] = this.pending.splice(i, 1);
      if (job) this.startJob(d, job);
    }
  }

  private startJob(daemon: SimDaemon, job: SimJob): void {
    const now = this.core.now();
    daemon.currentJobId = job.id;
    daemon.lastSeenAt = now;
    job.startedAt = now;
    job.updatedAt = now;
    job.workerId = daemon.id;
    job.workerName = daemon.name;
    const build = this.buildOfJob(job);
    this.log(job, "provisioner_daemon", "Setting up", "");
    this.log(job, "provisioner", "Planning infrastructure", "Terraform 1.9.8");
    if (build && build.transition !== "start") this.beginShutdown(build.workspaceId);
    // The capacity model (faults.setCapacity): past its knee of start builds in flight, a build takes longer.
    if (build?.transition === "start") job.durationMs += this.core.faults.buildDelayMs(this.startBuildsInFlight());
    const endsAt = now + job.durationMs;
    const timer = this.core.later(job.durationMs, () => this.finishJob(job));
    this.running.set(job.id, { daemon, timer, endsAt });
    if (build) this.core.state.events.emit("workspace", build.workspaceId);
  }

  private finishJob(job: SimJob): void {
    const run = this.running.get(job.id);
    if (!run) return;
    this.running.delete(job.id);
    const now = this.core.now();
    const build = this.buildOfJob(job);
    if (job.canceledAt !== undefined) {
      job.error = "canceled";
      this.log(job, "provisioner_daemon", "Cleaning Up", "Job canceled");
    } else if (job.faults.fail) {
      const stage = build ? stageName(build.transition) : "Planning infrastructure";
      const detail = job.faults.failError ?? "simulated provisioner failure (fault injection): timed out waiting for kubernetes_deployment.main";
      this.log(job, "provisioner", stage, `Error: ${detail}`, "error");
      job.error = job.faults.failError ?? "terraform apply: exit status 1";
    } else if (build) {
      const stage = stageName(build.transition);
      if (build.transition === "start") {
        this.log(job, "provisioner", stage, "kubernetes_persistent_volume_claim.home: Refreshing...");
        this.log(job, "provisioner", stage, `kubernetes_deployment.main: Creation complete after ${(job.durationMs / 1000).toFixed(1)}s`);
      } else {
        this.log(job, "provisioner", stage, `kubernetes_deployment.main: Destruction complete after ${(job.durationMs / 1000).toFixed(1)}s`);
      }
      this.log(job, "provisioner_daemon", "Cleaning Up", "");
    }
    job.completedAt = now;
    job.updatedAt = now;
    run.daemon.currentJobId = undefined;
    run.daemon.previousJobId = job.id;
    run.daemon.lastSeenAt = now;
    if (build) this.onBuildFinished(build, job);
    this.dispatch();
  }

  /** PATCH /workspacebuilds/{id}/cancel. Returns false if the job already completed. */
  cancelJob(job: SimJob): boolean {
    if (job.completedAt !== undefined || job.canceledAt !== undefined) return false;
    const now = this.core.now();
    job.canceledAt = now;
    job.updatedAt = now;
    const i = this.pending.indexOf(job);
    if (i >= 0) {
      // A pending job is canceled at once: no daemon ever saw it.
      this.pending.splice(i, 1);
      job.completedAt = now;
      job.error = "canceled";
      const build = this.buildOfJob(job);
      if (build) this.core.state.events.emit("workspace", build.workspaceId);
      return true;
    }
    const run = this.running.get(job.id);
    if (run) {
      // A running job is "canceling" until the daemon acknowledges (here: a short while).
      this.core.cancel(run.timer);
      run.timer = this.core.later(Math.min(100, Math.max(0, run.endsAt - now)), () => this.finishJob(job));
    }
    const build = this.buildOfJob(job);
    if (build) this.core.state.events.emit("workspace", build.workspaceId);
    return true;
  }

  private buildOfJob(job: SimJob): SimBuild | undefined {
    return job.buildId === undefined ? undefined : this.core.state.builds.get(job.buildId);
  }

  log(job: SimJob, source: SimLog["source"], stage: string, output: string, level: SimLog["level"] = "info"): void {
    job.logs.push({ id: job.logs.length + 1, createdAt: this.core.now(), level, source, stage, output });
  }

  // ---- builds --------------------------------------------------------------------------------

  /** Queue a new build for a workspace (the workspace record must already be in state). */
  createBuild(
    ws: SimWorkspace,
    transition: Transition,
    initiatorId: string,
    templateVersionId: string,
    params: { name: string; value: string }[],
    reason: SimBuild["reason"] = "initiator",
  ): SimBuild {
    const { state, rng } = this.core;
    const now = this.core.now();
    const prev = ws.buildIds.length > 0 ? state.latestBuild(ws) : undefined;
    const job: SimJob = {
      id: rng.uuid(),
      type: "workspace_build",
      orgId: ws.orgId,
      initiatorId,
      fileId: rng.uuid(),
      createdAt: now,
      updatedAt: now,
      templateVersionId,
      durationMs: drawDuration(this.core.opts.buildDuration, rng),
      logs: [],
      faults: this.core.faults.drawJob(),
    };
    const build: SimBuild = {
      id: rng.uuid(),
      workspaceId: ws.id,
      buildNumber: (prev?.buildNumber ?? 0) + 1,
      transition,
      templateVersionId,
      initiatorId,
      reason,
      createdAt: now,
      updatedAt: now,
      jobId: job.id,
      params,
      resources: [],
    };
    job.buildId = build.id;
    state.jobs.set(job.id, job);
    state.builds.set(build.id, build);
    ws.buildIds.push(build.id);
    ws.updatedAt = now;
    // Published as pending before a daemon may pick it up, as coderd publishes the inserted build.
    state.events.emit("workspace", ws.id);
    this.enqueue(job);
    return build;
  }

  /** Record an already-finished build (seeding pre-existing workspaces). */
  seedBuild(ws: SimWorkspace, transition: Transition, at: number, initiatorId: string, params: { name: string; value: string }[]): SimBuild {
    const { state, rng } = this.core;
    const tpl = state.template(ws.templateId);
    const job: SimJob = {
      id: rng.uuid(), type: "workspace_build", orgId: ws.orgId, initiatorId, fileId: rng.uuid(),
      createdAt: at, updatedAt: at + 40_000, startedAt: at + 1000, completedAt: at + 40_000,
      workerId: this.daemons[0]?.id, workerName: this.daemons[0]?.name,
      templateVersionId: tpl.activeVersionId, durationMs: 39_000, logs: [],
      faults: { fail: false, stuck: false, agentNeverConnects: false },
    };
    const prev = ws.buildIds.length > 0 ? state.latestBuild(ws) : undefined;
    const build: SimBuild = {
      id: rng.uuid(), workspaceId: ws.id, buildNumber: (prev?.buildNumber ?? 0) + 1, transition,
      templateVersionId: tpl.activeVersionId, initiatorId, reason: "initiator", createdAt: at, updatedAt: at + 40_000,
      jobId: job.id, params, resources: [],
    };
    job.buildId = build.id;
    state.jobs.set(job.id, job);
    state.builds.set(build.id, build);
    ws.buildIds.push(build.id);
    this.log(job, "provisioner_daemon", "Setting up", "");
    this.log(job, "provisioner_daemon", "Cleaning Up", "");
    if (prev && transition !== "start") this.disconnectAgents(ws.id, at + 40_000, prev);
    build.resources = this.makeResources(ws, build, job, at + 40_000);
    for (const a of this.agentsOf(build)) {
      a.firstConnectedAt = a.lastConnectedAt = a.startedAt = at + 45_000;
      a.readyAt = at + 50_000;
      a.lifecycle = "ready";
    }
    return build;
  }

  private onBuildFinished(build: SimBuild, job: SimJob): void {
    const { state } = this.core;
    const ws = state.workspaces.get(build.workspaceId);
    if (!ws) return;
    const status = jobStatus(job);
    const now = this.core.now();
    ws.updatedAt = now;
    build.updatedAt = now;
    if (status === "succeeded") {
      if (build.transition !== "start") this.disconnectAgents(ws.id, now);
      build.resources = this.makeResources(ws, build, job, now);
      if (build.transition === "delete") ws.deleted = true;
      for (const a of this.agentsOf(build)) this.scheduleConnect(a, job.faults.agentNeverConnects);
    } else if (build.transition !== "start") {
      // A failed or canceled stop/delete leaves the old agents running.
      for (const a of this.currentAgents(ws.id)) if (a.lifecycle === "shutting_down") a.lifecycle = "ready";
    }
    state.events.emit("workspace", ws.id);
  }

  private makeResources(ws: SimWorkspace, build: SimBuild, job: SimJob, at: number): SimResource[] {
    if (build.transition === "delete") return [];
    const { rng, state } = this.core;
    const tpl = state.template(ws.templateId);
    const pvc: SimResource = {
      id: rng.uuid(), jobId: job.id, name: "home", type: "kubernetes_persistent_volume_claim", createdAt: at,
      transition: build.transition, hide: false, icon: "/icon/database.svg", metadata: [], agents: [],
    };
    if (tpl.uploaded) return this.declaredResources(ws, build, job, at);
    if (build.transition !== "start") return [pvc];
    const pod: SimResource = {
      id: rng.uuid(), jobId: job.id, name: "main", type: "kubernetes_deployment", createdAt: at,
      transition: "start", hide: false, icon: "/icon/k8s.png",
      metadata: [{ key: "namespace", value: "coder", sensitive: false }], agents: [],
    };
    const agent: SimAgent = {
      id: rng.uuid(), name: tpl.agentName, resourceId: pod.id, workspaceId: ws.id, buildId: build.id,
      authToken: rng.uuid(), createdAt: at, updatedAt: at, lifecycle: "created", connectionTimeoutSeconds: 120,
      neverConnects: false, apps: tpl.apps.map((a) => ({ ...a, id: rng.uuid() })),
    };
    pod.agents.push(agent);
    state.agents.set(agent.id, agent);
    return [pod, pvc];
  }

  /**
   * Resources of a template uploaded through the API: what its main.tf declares (Coder's prebuilds
   * template: one null_resource; the task-status template: a coder_external_agent with its apps).
   */
  private declaredResources(ws: SimWorkspace, build: SimBuild, job: SimJob, at: number): SimResource[] {
    const { rng, state } = this.core;
    const tpl = state.template(ws.templateId);
    const version = state.templateVersions.get(build.templateVersionId);
    const declares = version?.declares ?? { externalAgent: false, apps: [] };
    if (!declares.externalAgent || build.transition !== "start") {
      return [{ id: rng.uuid(), jobId: job.id, name: "workspace", type: "null_resource", createdAt: at, transition: build.transition, hide: false, icon: "", metadata: [], agents: [] }];
    }
    const res: SimResource = {
      id: rng.uuid(), jobId: job.id, name: "main", type: "coder_external_agent", createdAt: at,
      transition: "start", hide: false, icon: "", metadata: [], agents: [],
    };
    const agent: SimAgent = {
      id: rng.uuid(), name: tpl.agentName, resourceId: res.id, workspaceId: ws.id, buildId: build.id,
      authToken: rng.uuid(), createdAt: at, updatedAt: at, lifecycle: "created", connectionTimeoutSeconds: 120,
      neverConnects: false,
      apps: declares.apps.map((slug) => ({
        id: rng.uuid(), slug, displayName: slug, url: "http://localhost:3284", subdomain: false, sharingLevel: "owner" as const, icon: "", external: false,
      })),
    };
    res.agents.push(agent);
    state.agents.set(agent.id, agent);
    return [res];
  }

  agentsOf(build: SimBuild): SimAgent[] {
    return build.resources.flatMap((r) => r.agents);
  }

  /** Agents of the workspace's newest successful start build that have not been shut down. */
  currentAgents(workspaceId: string): SimAgent[] {
    const ws = this.core.state.workspaces.get(workspaceId);
    if (!ws) return [];
    for (let i = ws.buildIds.length - 1; i >= 0; i--) {
      const b = this.core.state.builds.get(ws.buildIds[i] as string);
      if (b && b.transition === "start" && b.resources.length > 0) {
        return this.agentsOf(b).filter((a) => a.lifecycle !== "off");
      }
    }
    return [];
  }

  private scheduleConnect(agent: SimAgent, neverConnects: boolean): void {
    if (neverConnects) {
      agent.neverConnects = true;
      this.core.faults.injected.agentNeverConnects++;
      return;
    }
    const spec = this.core.faults.build.agentConnectDelayMs ?? this.core.opts.agentConnectDelayMs;
    const delay = drawDuration(spec, this.core.rng);
    const t = this.core.later(delay, () => {
      const now = this.core.now();
      agent.firstConnectedAt = agent.lastConnectedAt = agent.startedAt = now;
      agent.updatedAt = now;
      agent.lifecycle = "starting";
      this.core.state.events.emit("agent", agent.id);
      this.core.state.events.emit("workspace", agent.workspaceId);
      const ready = this.core.later(drawDuration(this.core.opts.agentReadyDelayMs, this.core.rng), () => {
        this.agentTimers.delete(agent.id);
        if (agent.lifecycle !== "starting") return;
        agent.lifecycle = "ready";
        agent.readyAt = agent.updatedAt = this.core.now();
        this.core.state.events.emit("agent", agent.id);
        this.core.state.events.emit("workspace", agent.workspaceId);
      });
      this.agentTimers.set(agent.id, ready);
    });
    this.agentTimers.set(agent.id, t);
  }

  private beginShutdown(workspaceId: string): void {
    for (const a of this.currentAgents(workspaceId)) {
      if (a.firstConnectedAt !== undefined && a.disconnectedAt === undefined) {
        a.lifecycle = "shutting_down";
        a.updatedAt = this.core.now();
        this.core.state.events.emit("agent", a.id);
      }
    }
  }

  private disconnectAgents(workspaceId: string, at: number, fromBuild?: SimBuild): void {
    const agents = fromBuild ? this.agentsOf(fromBuild) : this.currentAgents(workspaceId);
    for (const a of agents) {
      this.core.cancel(this.agentTimers.get(a.id));
      this.agentTimers.delete(a.id);
      if (a.firstConnectedAt !== undefined) a.disconnectedAt = at;
      a.lifecycle = "off";
      a.updatedAt = at;
      this.core.state.events.emit("agent", a.id);
    }
  }
}

function stageName(t: Transition): string {
  return t === "start" ? "Starting workspace" : t === "stop" ? "Stopping workspace" : "Destroying workspace";
}
