// State records -> Coder's JSON (codersdk field names, snake_case, RFC 3339 times, UUIDs).
//
// Optional fields the simulator leaves out ON PURPOSE (the product must cope with their absence,
// as it must with a real Coder where most of them are `omitempty` or null):
//  - Workspace: latest_app_status, deleting_at, dormant_at, next_start_at, task_id, shared_with,
//    autostart_schedule and ttl_ms unless set. (Go emits null for several of these; null does not
//    validate against the swagger schema, so omission is the faithful choice for a strict client.)
//  - WorkspaceBuild: deadline, max_deadline (Coder's NullTime marshals to null when unset),
//    template_version_preset_id.
//  - ProvisionerJob: started_at/completed_at/canceled_at/worker_id/error until they exist,
//    error_code (only for REQUIRED_TEMPLATE_VARIABLES, which never happens here).
//  - WorkspaceAgent: first_connected_at/last_connected_at/disconnected_at/started_at/ready_at until
//    they happen, latency (no DERP), parent_id, troubleshooting_url is "".
//  - User: avatar_url (empty string fails format "uri"; Coder omits it when empty).
//  - TemplateVersion: created_by.avatar_url; Template: build_time_stats values are static.
//  - WorkspaceApp: statuses is always [], healthcheck is the zero value (health "disabled").
import type { SimCore } from "./core.ts";
import type { Engine } from "./engine.ts";
import {
  agentStatus, jobStatus, workspaceStatus,
  type SimAgent, type SimApiKey, type SimBuild, type SimJob, type SimLog, type SimOrg, type SimParam,
  type SimResource, type SimTemplate, type SimTemplateVersion, type SimUser, type SimWorkspace,
} from "./state.ts";

type Json = Record<string, unknown>;

const ROLE_DISPLAY: Record<string, string> = {
  owner: "Owner",
  "template-admin": "Template Admin",
  "user-admin": "User Admin",
  auditor: "Auditor",
};

export class Convert {
  constructor(
    private readonly core: SimCore,
    private readonly engine: Engine,
  ) {}

  private iso(t: number): string {
    return this.core.iso(t);
  }

  user(u: SimUser): Json {
    return {
      id: u.id,
      username: u.username,
      email: u.email,
      name: u.name,
      created_at: this.iso(u.createdAt),
      updated_at: this.iso(u.updatedAt),
      last_seen_at: this.iso(u.lastSeenAt),
      status: u.status,
      login_type: u.loginType,
      theme_preference: "",
      organization_ids: u.orgIds,
      roles: u.roles.map((r) => ({ name: r, display_name: ROLE_DISPLAY[r] ?? r, organization_id: "" })),
    };
  }

  minimalUser(u: SimUser): Json {
    return { id: u.id, username: u.username, name: u.name };
  }

  org(o: SimOrg): Json {
    return {
      id: o.id,
      name: o.name,
      display_name: o.displayName,
      description: o.description,
      icon: o.icon,
      created_at: this.iso(o.createdAt),
      updated_at: this.iso(o.updatedAt),
      is_default: o.isDefault,
    };
  }

  template(t: SimTemplate): Json {
    const org = this.core.state.org(t.orgId);
    const creator = this.core.state.users.get(t.createdById);
    let active = 0;
    const owners = new Set<string>();
    for (const w of this.core.state.workspaces.values()) {
      if (!w.deleted && w.templateId === t.id) owners.add(w.ownerId);
    }
    active = owners.size;
    return {
      id: t.id,
      created_at: this.iso(t.createdAt),
      updated_at: this.iso(t.updatedAt),
      organization_id: org.id,
      organization_name: org.name,
      organization_display_name: org.displayName,
      organization_icon: org.icon,
      name: t.name,
      display_name: t.displayName,
      provisioner: "terraform",
      active_version_id: t.activeVersionId,
      active_user_count: active,
      build_time_stats: { start: { p50: 500, p95: 800 }, stop: { p50: 500, p95: 800 }, delete: { p50: 500, p95: 800 } },
      description: t.description,
      deprecated: t.deprecated !== "",
      deprecation_message: t.deprecated,
      icon: t.icon,
      default_ttl_ms: t.defaultTtlMs,
      activity_bump_ms: 3600000,
      autostop_requirement: { days_of_week: [], weeks: 1 },
      autostart_requirement: {
        days_of_week: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
      },
      created_by_id: t.createdById,
      created_by_name: creator?.username ?? "",
      allow_user_autostart: true,
      allow_user_autostop: true,
      allow_user_cancel_workspace_jobs: true,
      failure_ttl_ms: 0,
      time_til_dormant_ms: 0,
      time_til_dormant_autodelete_ms: 0,
      require_active_version: false,
      max_port_share_level: "public",
      cors_behavior: "simple",
      use_classic_parameter_flow: false,
    };
  }

  templateVersion(v: SimTemplateVersion): Json {
    const creator = this.core.state.users.get(v.createdById);
    return {
      id: v.id,
      // codersdk: *uuid.UUID with omitempty: absent for a version made without a template.
      ...(v.templateId ? { template_id: v.templateId } : {}),
      organization_id: v.orgId,
      created_at: this.iso(v.createdAt),
      updated_at: this.iso(v.updatedAt),
      name: v.name,
      message: v.message,
      job: this.job(this.core.state.job(v.jobId)),
      readme: v.readme,
      created_by: creator ? this.minimalUser(creator) : { id: v.createdById, username: "unknown" },
      archived: false,
      warnings: [],
      matched_provisioners: this.matchedProvisioners(),
      has_external_agent: false,
    };
  }

  param(p: SimParam): Json {
    const out: Json = {
      name: p.name,
      display_name: p.displayName,
      description: p.description,
      description_plaintext: p.description,
      type: p.type,
      form_type: p.formType,
      mutable: p.mutable,
      default_value: p.defaultValue,
      icon: p.icon,
      options: p.options.map((o) => ({ name: o.name, description: o.description, value: o.value, icon: o.icon })),
      required: p.required,
      ephemeral: p.ephemeral,
    };
    if (p.validationError !== undefined) out["validation_error"] = p.validationError;
    if (p.validationRegex !== undefined) out["validation_regex"] = p.validationRegex;
    if (p.validationMin !== undefined) out["validation_min"] = p.validationMin;
    if (p.validationMax !== undefined) out["validation_max"] = p.validationMax;
    if (p.validationMonotonic !== undefined) out["validation_monotonic"] = p.validationMonotonic;
    return out;
  }

  matchedProvisioners(): Json {
    const d = this.engine.daemons;
    const out: Json = { count: d.length, available: d.filter((x) => x.currentJobId === undefined).length };
    const seen = d.reduce((m, x) => Math.max(m, x.lastSeenAt), 0);
    if (seen > 0) out["most_recently_seen"] = this.iso(seen);
    return out;
  }

  job(j: SimJob): Json {
    const state = this.core.state;
    const build = j.buildId === undefined ? undefined : state.builds.get(j.buildId);
    const ws = build ? state.workspaces.get(build.workspaceId) : undefined;
    const version = state.templateVersions.get(j.templateVersionId);
    const tpl = version ? state.templates.get(version.templateId) : undefined;
    const status = jobStatus(j);
    const out: Json = {
      id: j.id,
      created_at: this.iso(j.createdAt),
      status,
      file_id: j.fileId,
      tags: { owner: "", scope: "organization" },
      queue_position: this.engine.queuePosition(j),
      queue_size: status === "pending" ? this.engine.queueSize() : 0,
      organization_id: j.orgId,
      initiator_id: j.initiatorId,
      input: build ? { workspace_build_id: build.id } : { template_version_id: j.templateVersionId },
      type: j.type,
      available_workers: status === "pending"
        ? this.engine.daemons.filter((d) => d.currentJobId === undefined).map((d) => d.id)
        : [],
      logs_overflowed: false,
      metadata: {
        template_version_name: version?.name ?? "",
        template_id: tpl?.id ?? j.templateVersionId,
        template_name: tpl?.name ?? "",
        template_display_name: tpl?.displayName ?? "",
        template_icon: tpl?.icon ?? "",
        ...(ws ? { workspace_id: ws.id, workspace_name: ws.name } : {}),
      },
    };
    if (j.startedAt !== undefined) out["started_at"] = this.iso(j.startedAt);
    if (j.completedAt !== undefined) out["completed_at"] = this.iso(j.completedAt);
    if (j.canceledAt !== undefined) out["canceled_at"] = this.iso(j.canceledAt);
    if (j.error !== undefined) out["error"] = j.error;
    if (j.workerId !== undefined) out["worker_id"] = j.workerId;
    if (j.workerName !== undefined) out["worker_name"] = j.workerName;
    return out;
  }

  log(l: SimLog): Json {
    return {
      id: l.id,
      created_at: this.iso(l.createdAt),
      log_source: l.source,
      log_level: l.level,
      stage: l.stage,
      output: l.output,
    };
  }

  agent(a: SimAgent): Json {
    const now = this.core.now();
    const status = agentStatus(a, now);
    const ws = this.core.state.workspaces.get(a.workspaceId);
    const owner = ws ? this.core.state.users.get(ws.ownerId) : undefined;
    let healthy = false;
    let reason = "agent is not connected";
    if (status === "connected") {
      if (a.lifecycle === "start_error") reason = "agent startup script exited with an error";
      else if (a.lifecycle === "start_timeout") reason = "agent startup script timed out";
      else if (a.lifecycle === "shutting_down" || a.lifecycle === "off") reason = "agent is shutting down";
      else { healthy = true; reason = ""; }
    } else if (status === "timeout") {
      reason = "agent is taking too long to connect";
    } else if (status === "disconnected") {
      reason = "agent has lost connection";
    }
    const out: Json = {
      id: a.id,
      created_at: this.iso(a.createdAt),
      updated_at: this.iso(a.updatedAt),
      status,
      lifecycle_state: a.lifecycle,
      name: a.name,
      resource_id: a.resourceId,
      instance_id: "",
      architecture: "amd64",
      operating_system: "linux",
      environment_variables: {},
      directory: "",
      expanded_directory: "/home/coder",
      version: "v2.24.1",
      api_version: "2.6",
      apps: a.apps.map((app) => ({
        id: app.id,
        url: app.url,
        external: app.external,
        slug: app.slug,
        display_name: app.displayName,
        command: "",
        icon: app.icon,
        subdomain: app.subdomain,
        subdomain_name: app.subdomain && ws && owner ? `${app.slug}--${a.name}--${ws.name}--${owner.username}` : "",
        sharing_level: app.sharingLevel,
        healthcheck: { url: "", interval: 0, threshold: 0 },
        health: "disabled",
        group: "",
        hidden: false,
        open_in: "slim-window",
        tooltip: "",
        statuses: [],
      })),
      display_apps: ["vscode", "vscode_insiders", "web_terminal", "ssh_helper", "port_forwarding_helper"],
      scripts: [],
      log_sources: [],
      logs_length: 0,
      logs_overflowed: false,
      subsystems: [],
      health: healthy ? { healthy: true } : { healthy: false, reason },
      connection_timeout_seconds: a.connectionTimeoutSeconds,
      troubleshooting_url: "",
      startup_script_behavior: "non-blocking",
    };
    if (a.firstConnectedAt !== undefined) out["first_connected_at"] = this.iso(a.firstConnectedAt);
    if (a.lastConnectedAt !== undefined) out["last_connected_at"] = this.iso(a.lastConnectedAt);
    if (a.disconnectedAt !== undefined) out["disconnected_at"] = this.iso(a.disconnectedAt);
    if (a.startedAt !== undefined) out["started_at"] = this.iso(a.startedAt);
    if (a.readyAt !== undefined) out["ready_at"] = this.iso(a.readyAt);
    return out;
  }

  resource(r: SimResource): Json {
    return {
      id: r.id,
      created_at: this.iso(r.createdAt),
      job_id: r.jobId,
      workspace_transition: r.transition,
      type: r.type,
      name: r.name,
      hide: r.hide,
      icon: r.icon,
      agents: r.agents.map((a) => this.agent(a)),
      metadata: r.metadata,
      daily_cost: 0,
    };
  }

  build(b: SimBuild): Json {
    const state = this.core.state;
    const ws = state.workspaces.get(b.workspaceId);
    const owner = ws ? state.users.get(ws.ownerId) : undefined;
    const initiator = state.users.get(b.initiatorId);
    const version = state.templateVersions.get(b.templateVersionId);
    const job = state.job(b.jobId);
    return {
      id: b.id,
      created_at: this.iso(b.createdAt),
      updated_at: this.iso(b.updatedAt),
      workspace_id: b.workspaceId,
      workspace_name: ws?.name ?? "",
      workspace_owner_id: ws?.ownerId ?? "",
      workspace_owner_name: owner?.username ?? "",
      workspace_owner_avatar_url: "",
      template_version_id: b.templateVersionId,
      template_version_name: version?.name ?? "",
      build_number: b.buildNumber,
      transition: b.transition,
      initiator_id: b.initiatorId,
      initiator_name: initiator?.username ?? "",
      job: this.job(job),
      reason: b.reason,
      resources: b.resources.map((r) => this.resource(r)),
      status: workspaceStatus(b.transition, jobStatus(job)),
      daily_cost: 0,
      matched_provisioners: this.matchedProvisioners(),
      has_ai_task: false,
      has_external_agent: false,
    };
  }

  workspace(w: SimWorkspace): Json {
    const state = this.core.state;
    const owner = state.users.get(w.ownerId);
    const org = state.org(w.orgId);
    const tpl = state.template(w.templateId);
    const latest = state.latestBuild(w);
    const agents = latest.resources.flatMap((r) => r.agents);
    const now = this.core.now();
    const failing = agents
      .filter((a) => !(agentStatus(a, now) === "connected" && !["start_error", "start_timeout"].includes(a.lifecycle)))
      .map((a) => a.id);
    const out: Json = {
      id: w.id,
      created_at: this.iso(w.createdAt),
      updated_at: this.iso(w.updatedAt),
      owner_id: w.ownerId,
      owner_name: owner?.username ?? "",
      owner_avatar_url: "",
      organization_id: org.id,
      organization_name: org.name,
      template_id: tpl.id,
      template_name: tpl.name,
      template_display_name: tpl.displayName,
      template_icon: tpl.icon,
      template_allow_user_cancel_workspace_jobs: true,
      template_active_version_id: tpl.activeVersionId,
      template_require_active_version: false,
      template_use_classic_parameter_flow: false,
      latest_build: this.build(latest),
      outdated: latest.templateVersionId !== tpl.activeVersionId,
      name: w.name,
      last_used_at: this.iso(w.lastUsedAt),
      health: { healthy: failing.length === 0, failing_agents: failing },
      automatic_updates: w.automaticUpdates,
      allow_renames: false,
      favorite: false,
      is_prebuild: false,
    };
    if (w.autostartSchedule !== undefined) out["autostart_schedule"] = w.autostartSchedule;
    if (w.ttlMs !== undefined) out["ttl_ms"] = w.ttlMs;
    return out;
  }

  apiKey(k: SimApiKey): Json {
    return {
      id: k.id,
      user_id: k.userId,
      last_used: this.iso(k.lastUsed),
      expires_at: this.iso(k.expiresAt),
      created_at: this.iso(k.createdAt),
      updated_at: this.iso(k.updatedAt),
      login_type: k.loginType,
      scope: k.scope,
      scopes: [k.scope],
      token_name: k.tokenName,
      lifetime_seconds: k.lifetimeSeconds,
      allow_list: [],
    };
  }
}
