// In-memory state of the simulated deployment: plain records plus the lookups routes need.
// Records hold what Coder's database holds (timestamps, ids, relations); the JSON shapes that
// Coder's API returns are built from them in convert.ts.
import { EventEmitter } from "node:events";

export type UserStatus = "active" | "dormant" | "suspended";
export type Transition = "start" | "stop" | "delete";
export type JobStatus = "pending" | "running" | "succeeded" | "canceling" | "canceled" | "failed";
export type AgentLifecycle =
  | "created" | "starting" | "start_timeout" | "start_error" | "ready"
  | "shutting_down" | "shutdown_timeout" | "shutdown_error" | "off";

export interface SimUser {
  id: string;
  username: string;
  email: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  lastSeenAt: number;
  status: UserStatus;
  loginType: "password" | "none" | "github" | "oidc";
  password: string;
  /** Site roles explicitly granted (Coder lists only these; "member" is implicit). */
  roles: string[];
  orgIds: string[];
  deleted: boolean;
  preexisting: boolean;
  /** A system user (Coder's prebuilds owner): hidden from user lists and counts, as coderd hides it. */
  system?: boolean;
}

export interface SimOrg {
  id: string;
  name: string;
  displayName: string;
  description: string;
  icon: string;
  isDefault: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface SimParamOption { name: string; value: string; description: string; icon: string }

export interface SimParam {
  name: string;
  displayName: string;
  description: string;
  type: "string" | "number" | "bool" | "list(string)";
  /** Empty string + required=true means "no default": the value must be given. */
  defaultValue: string;
  required: boolean;
  mutable: boolean;
  ephemeral: boolean;
  icon: string;
  formType: string;
  options: SimParamOption[];
  validationMin?: number;
  validationMax?: number;
  validationRegex?: string;
  validationError?: string;
  validationMonotonic?: "increasing" | "decreasing";
}

export interface SimAppSpec {
  slug: string;
  displayName: string;
  url: string;
  subdomain: boolean;
  sharingLevel: "owner" | "authenticated" | "organization" | "public";
  icon: string;
  external: boolean;
}

export interface SimTemplate {
  id: string;
  orgId: string;
  name: string;
  displayName: string;
  description: string;
  icon: string;
  activeVersionId: string;
  createdAt: number;
  updatedAt: number;
  createdById: string;
  defaultTtlMs: number;
  /** Name of the agent the template's pod runs ("main" or "dev"). */
  agentName: string;
  apps: SimAppSpec[];
  deprecated: string;
  /** Workspaces run a `coder_external_agent` resource (its agent token is fetched, not baked in). */
  externalAgent?: boolean;
  /** Deleted (DELETE /templates/{id}): gone from listings, still named by its old workspaces. */
  deleted?: boolean;
  /** Uploaded through the API: its workspaces get only what its main.tf declares (sim/routes/template-writes.ts). */
  uploaded?: boolean;
}

/** A `coder_workspace_preset` of a template version, with its desired prebuilt instances. */
export interface SimPreset {
  id: string;
  name: string;
  instances: number;
}

/** An uploaded file (POST /files). */
export interface SimFile {
  id: string;
  hash: string;
  createdById: string;
  createdAt: number;
  mimetype: string;
  data: Buffer;
}

/** An AI-agent app status (PATCH /workspaceagents/me/app-status), as the workspace's latest_app_status. */
export interface SimAppStatus {
  id: string;
  createdAt: number;
  agentId: string;
  appId: string;
  state: "working" | "idle" | "complete" | "failure";
  message: string;
  uri: string;
}

export interface SimTemplateVersion {
  id: string;
  templateId: string;
  orgId: string;
  name: string;
  message: string;
  readme: string;
  createdAt: number;
  updatedAt: number;
  createdById: string;
  params: SimParam[];
  jobId: string;
  /** Presets declared by the version's template (uploaded versions only). */
  presets?: SimPreset[];
  /** What the uploaded main.tf declares (uploaded versions only). */
  declares?: { externalAgent: boolean; apps: string[] };
}

export interface SimLog {
  id: number;
  createdAt: number;
  level: "trace" | "debug" | "info" | "warn" | "error";
  source: "provisioner_daemon" | "provisioner";
  stage: string;
  output: string;
}

/** Faults decided for a job when it is queued (drawn from the seeded PRNG). */
export interface JobFaults {
  fail: boolean;
  stuck: boolean;
  agentNeverConnects: boolean;
  /** The error a failing job ends with (default: a failed terraform apply). */
  failError?: string;
}

export interface SimJob {
  id: string;
  type: "workspace_build" | "template_version_import";
  orgId: string;
  initiatorId: string;
  fileId: string;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  completedAt?: number;
  canceledAt?: number;
  error?: string;
  workerId?: string;
  workerName?: string;
  buildId?: string;
  templateVersionId: string;
  durationMs: number;
  logs: SimLog[];
  faults: JobFaults;
}

export interface SimApp extends SimAppSpec { id: string }

export interface SimAgent {
  id: string;
  name: string;
  resourceId: string;
  workspaceId: string;
  buildId: string;
  authToken: string;
  createdAt: number;
  updatedAt: number;
  firstConnectedAt?: number;
  lastConnectedAt?: number;
  disconnectedAt?: number;
  startedAt?: number;
  readyAt?: number;
  lifecycle: AgentLifecycle;
  connectionTimeoutSeconds: number;
  neverConnects: boolean;
  apps: SimApp[];
}

export interface SimResource {
  id: string;
  jobId: string;
  name: string;
  type: string;
  createdAt: number;
  transition: Transition;
  hide: boolean;
  icon: string;
  metadata: { key: string; value: string; sensitive: boolean }[];
  agents: SimAgent[];
}

export interface SimBuild {
  id: string;
  workspaceId: string;
  buildNumber: number;
  transition: Transition;
  templateVersionId: string;
  initiatorId: string;
  /** Why the build was made (codersdk.BuildReason): a user's call, or the lifecycle executor's autostart. */
  reason: "initiator" | "autostart";
  createdAt: number;
  updatedAt: number;
  jobId: string;
  params: { name: string; value: string }[];
  resources: SimResource[];
}

export interface SimWorkspace {
  id: string;
  ownerId: string;
  orgId: string;
  templateId: string;
  name: string;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number;
  deleted: boolean;
  ttlMs?: number;
  autostartSchedule?: string;
  automaticUpdates: "always" | "never";
  /** Build ids, oldest first. */
  buildIds: string[];
  preexisting: boolean;
  /** The preset this prebuilt workspace was created for (owned by the prebuilds system user). */
  prebuildPresetId?: string;
  latestAppStatus?: SimAppStatus;
}

export interface SimApiKey {
  id: string;
  secret: string;
  userId: string;
  tokenName: string;
  loginType: "password" | "token";
  scope: "all" | "application_connect";
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  lastUsed: number;
  lifetimeSeconds: number;
}

export interface SimAppearance {
  applicationName: string;
  logoUrl: string;
  serviceBanner: { enabled: boolean; message: string; backgroundColor: string };
  announcementBanners: { enabled: boolean; message: string; background_color: string }[];
}

/** Events other modules (watchers, dashboards, faults) can follow. */
export interface SimEvents {
  workspace: [workspaceId: string];
  agent: [agentId: string];
}

export class SimState {
  readonly users = new Map<string, SimUser>();
  readonly orgs = new Map<string, SimOrg>();
  readonly templates = new Map<string, SimTemplate>();
  readonly templateVersions = new Map<string, SimTemplateVersion>();
  readonly workspaces = new Map<string, SimWorkspace>();
  readonly builds = new Map<string, SimBuild>();
  readonly jobs = new Map<string, SimJob>();
  readonly agents = new Map<string, SimAgent>();
  readonly apiKeys = new Map<string, SimApiKey>();
  readonly files = new Map<string, SimFile>();
  /** Deployment-wide prebuilds setting (PUT /prebuilds/settings). */
  prebuildsPaused = false;
  readonly events = new EventEmitter<SimEvents>();
  appearance: SimAppearance = {
    applicationName: "",
    logoUrl: "",
    serviceBanner: { enabled: false, message: "", backgroundColor: "" },
    announcementBanners: [],
  };
  deploymentId = "";
  defaultOrgId = "";

  constructor() {
    // Many watchers may follow one workspace; that is not a leak.
    this.events.setMaxListeners(0);
  }

  liveUsers(): SimUser[] {
    return [...this.users.values()].filter((u) => !u.deleted && !u.system);
  }

  /** Look up a user by id or username (case-insensitive), ignoring deleted users. */
  findUser(ref: string): SimUser | undefined {
    const byId = this.users.get(ref);
    if (byId && !byId.deleted) return byId;
    const lower = ref.toLowerCase();
    for (const u of this.users.values()) if (!u.deleted && u.username.toLowerCase() === lower) return u;
    return undefined;
  }

  findOrg(ref: string): SimOrg | undefined {
    const byId = this.orgs.get(ref);
    if (byId) return byId;
    for (const o of this.orgs.values()) if (o.name === ref) return o;
    return undefined;
  }

  liveWorkspaces(): SimWorkspace[] {
    return [...this.workspaces.values()].filter((w) => !w.deleted);
  }

  findWorkspaceByOwnerAndName(ownerId: string, name: string): SimWorkspace | undefined {
    for (const w of this.workspaces.values()) {
      if (!w.deleted && w.ownerId === ownerId && w.name.toLowerCase() === name.toLowerCase()) return w;
    }
    return undefined;
  }

  latestBuild(ws: SimWorkspace): SimBuild {
    const id = ws.buildIds[ws.buildIds.length - 1];
    const b = id === undefined ? undefined : this.builds.get(id);
    if (!b) throw new Error(`workspace ${ws.id} has no build; every workspace is created with one`);
    return b;
  }

  job(id: string): SimJob {
    const j = this.jobs.get(id);
    if (!j) throw new Error(`provisioner job ${id} is missing from the simulator state`);
    return j;
  }

  template(id: string): SimTemplate {
    const t = this.templates.get(id);
    if (!t) throw new Error(`template ${id} is missing from the simulator state`);
    return t;
  }

  templateVersion(id: string): SimTemplateVersion {
    const v = this.templateVersions.get(id);
    if (!v) throw new Error(`template version ${id} is missing from the simulator state`);
    return v;
  }

  user(id: string): SimUser {
    const u = this.users.get(id);
    if (!u) throw new Error(`user ${id} is missing from the simulator state`);
    return u;
  }

  org(id: string): SimOrg {
    const o = this.orgs.get(id);
    if (!o) throw new Error(`organization ${id} is missing from the simulator state`);
    return o;
  }
}

/** Job status exactly as Coder derives it from the job's timestamps and error. */
export function jobStatus(j: SimJob): JobStatus {
  if (j.canceledAt !== undefined) return j.completedAt !== undefined ? "canceled" : "canceling";
  if (j.completedAt !== undefined) return j.error ? "failed" : "succeeded";
  if (j.startedAt !== undefined) return "running";
  return "pending";
}

/** Workspace status from the latest build's transition and job status (codersdk convert logic). */
export function workspaceStatus(transition: Transition, status: JobStatus): string {
  switch (status) {
    case "pending": return "pending";
    case "running": return transition === "start" ? "starting" : transition === "stop" ? "stopping" : "deleting";
    case "succeeded": return transition === "start" ? "running" : transition === "stop" ? "stopped" : "deleted";
    case "canceling": return "canceling";
    case "canceled": return "canceled";
    case "failed": return "failed";
  }
}

/** Agent connection status as Coder computes it from the connection timestamps. */
export function agentStatus(a: SimAgent, now: number): "connecting" | "connected" | "disconnected" | "timeout" {
  if (a.firstConnectedAt === undefined) {
    return now - a.createdAt > a.connectionTimeoutSeconds * 1000 ? "timeout" : "connecting";
  }
  if (a.disconnectedAt !== undefined && (a.lastConnectedAt === undefined || a.disconnectedAt >= a.lastConnectedAt)) {
    return "disconnected";
  }
  return "connected";
}
