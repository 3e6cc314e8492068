// What Coder's web dashboard asks for beyond the load types' own calls (facts: the frontend's AuthProvider,
// DashboardProvider, NavbarView, WorkspacePage, TemplatesPage, UsersPage, DeploymentSettings):
//  - POST /authcheck (coderd/authorize.go checkAuthorization): each named check evaluated against the
//    caller's roles, answered {name: bool}; `owner_id: "me"` means the caller; any_org with an
//    organization_id is a 400, as a check without a resource_type.
//  - GET /notifications/inbox, /updatecheck, /deployment/ssh, /experiments/available, /users/roles, /groups,
//    /templates/examples, /templateversions/{v}/resources, /workspaces/{w}/resolve-autostart,
//    /workspacebuilds/{b}/parameters, /workspacebuilds/{b}/timings.
// Every authcheck and check is counted (`counts()`), so tests can see the RBAC work the dashboard causes.
import { isOwner } from "../auth.ts";
import { HttpError, notFound, type Actor } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import type { Notifier } from "../notifications/notifier.ts";
import { plaintext } from "../notifications/messages.ts";
import { canSeeWorkspace, requireOwner, workspaceParam, type RouteDeps } from "./common.ts";

export interface AuthCheck {
  object?: { resource_type?: string; resource_id?: string; owner_id?: string; organization_id?: string; any_org?: boolean };
  action?: string;
}

export interface DashboardRouteCounts {
  /** POST /authcheck requests answered, and checks evaluated in them. */
  authchecks: number;
  checks: number;
}

/** One POST /authcheck as answered: who asked, and each check's name and verdict. */
export interface AuthcheckRecord {
  user: string;
  results: Record<string, boolean>;
}

/** Newest authchecks kept for tests (older ones drop off; the counts stay complete). */
const AUTHCHECK_LOG_MAX = 1000;

/** Resource types a member may act on when the object is their own (owner_id = them). */
const OWNED_BY_MEMBER = new Set(["workspace", "workspace_dormant", "api_key", "user_secret", "chat", "notification_preference", "inbox_notification"]);
/** Resource types every member of an organization may read there. */
const MEMBER_ORG_READ = new Set(["organization", "organization_member", "template", "group", "provisioner_daemon"]);

/**
 * An RBAC decision as coderd's built-in roles make it for the simulator's two kinds of users: a site owner may
 * do anything; a member may read and use the templates of its organizations, read its organizations and their
 * members, and do anything to what it owns (workspaces, keys); nothing deployment-wide.
 */
export function allowed(actor: Actor, check: AuthCheck): boolean {
  if (isOwner(actor)) return true;
  const o = check.object ?? {};
  const type = o.resource_type ?? "";
  const action = check.action ?? "";
  const orgOk = o.any_org === true || !o.organization_id || actor.user.orgIds.includes(o.organization_id);
  if (!orgOk) return false;
  if (o.owner_id && o.owner_id === actor.user.id && OWNED_BY_MEMBER.has(type)) return true;
  if (type === "template" && (action === "read" || action === "use")) return true;
  if (MEMBER_ORG_READ.has(type) && action === "read") return true;
  if (type === "user" && action === "read" && o.resource_id === actor.user.id) return true;
  if (type === "workspace_proxy" && action === "read") return true;
  return false;
}

export interface DashboardApi {
  counts(): DashboardRouteCounts;
  /** The newest authchecks answered, oldest first. */
  authcheckLog(): AuthcheckRecord[];
}

export function registerDashboardRoutes(r: Router, { core, convert }: RouteDeps, notifier: Notifier): DashboardApi {
  const { state } = core;
  const n: DashboardRouteCounts = { authchecks: 0, checks: 0 };
  const log: AuthcheckRecord[] = [];

  r.add("POST", "/api/v2/authcheck", async (ctx) => {
    const body = await ctx.body();
    const checks = body["checks"];
    if (!checks || typeof checks !== "object" || Array.isArray(checks)) {
      throw new HttpError(400, "Invalid request.", undefined, [{ field: "checks", detail: "checks must be an object of named checks" }]);
    }
    // Every check is validated before any is evaluated: a bad one refuses the whole request.
    const parsed = Object.entries(checks as Record<string, AuthCheck>).map(([name, raw]) => {
      const c = { ...(raw ?? {}), object: { ...(raw?.object ?? {}) } };
      if (!c.object.resource_type) throw new HttpError(400, `Object's type field must be defined for key "${name}".`);
      if (c.object.any_org && c.object.organization_id) {
        throw new HttpError(400, `Object cannot have 'any_org' and 'organization_id' set for key "${name}".`);
      }
      if (c.object.owner_id === "me") c.object.owner_id = ctx.me.user.id;
      return [name, c] as const;
    });
    const out: Record<string, boolean> = {};
    for (const [name, c] of parsed) {
      out[name] = allowed(ctx.me, c);
      n.checks++;
    }
    n.authchecks++;
    if (log.length >= AUTHCHECK_LOG_MAX) log.shift();
    log.push({ user: ctx.me.user.username, results: { ...out } });
    ctx.json(200, out);
  });

  r.add("GET", "/api/v2/notifications/inbox", (ctx) => {
    const rows = notifier.inboxOf(ctx.me.user.id);
    const readStatus = ctx.query.get("read_status") || "all";
    const picked = rows.filter((x) => readStatus === "all" || (readStatus === "read") === (x.readAt !== null)).slice(0, 25);
    ctx.json(200, {
      notifications: picked.map((x) => ({
        id: x.id, user_id: x.userId, template_id: x.templateId, targets: x.targets, title: x.title,
        content: ctx.query.get("format") === "plaintext" ? plaintext(x.content) : x.content, icon: x.icon, actions: x.actions,
        read_at: x.readAt === null ? null : core.iso(x.readAt), created_at: core.iso(x.createdAt),
      })),
      unread_count: notifier.unreadCount(ctx.me.user.id),
    });
  });

  r.add("GET", "/api/v2/updatecheck", (ctx) => {
    ctx.json(200, { current: true, version: core.opts.version, url: `https://github.com/coder/coder/releases/tag/${core.opts.version}` });
  });

  r.add("GET", "/api/v2/deployment/ssh", (ctx) => {
    ctx.json(200, { hostname_prefix: "coder.", hostname_suffix: "coder", ssh_config_options: {} });
  });

  r.add("GET", "/api/v2/experiments/available", (ctx) => {
    requireOwner(ctx.me);
    ctx.json(200, { safe: [] });
  });

  r.add("GET", "/api/v2/users/roles", (ctx) => {
    const owner = isOwner(ctx.me);
    const role = (name: string, display: string) => ({
      // Site roles carry no organization_id (omitempty in codersdk.Role).
      name, display_name: display, site_permissions: [], organization_permissions: [],
      user_permissions: [], assignable: owner, built_in: true,
    });
    ctx.json(200, [role("owner", "Owner"), role("template-admin", "Template Admin"), role("user-admin", "User Admin"), role("auditor", "Auditor")]);
  });

  r.add("GET", "/api/v2/groups", (ctx) => {
    const orgs = [...state.orgs.values()].filter((o) => isOwner(ctx.me) || ctx.me.user.orgIds.includes(o.id));
    ctx.json(200, orgs.map((o) => {
      const members = [...state.users.values()].filter((u) => !u.deleted && !u.system && u.orgIds.includes(o.id));
      return {
        // Coder's Everyone group has the organization's id.
        id: o.id, name: "Everyone", display_name: "", organization_id: o.id, organization_name: o.name,
        organization_display_name: o.displayName, members: [], total_member_count: members.length,
        avatar_url: "", quota_allowance: 0, source: "user",
      };
    }));
  });

  r.add("GET", "/api/v2/templates/examples", (ctx) => {
    ctx.json(200, [{
      id: "docker", url: "https://github.com/coder/coder/tree/main/examples/templates/docker", name: "Docker Containers",
      description: "Provision Docker containers as Coder workspaces", icon: "/icon/docker.png", tags: ["docker", "container"],
      markdown: "",
    }]);
  });

  r.add("GET", "/api/v2/templateversions/{templateversion}/resources", (ctx) => {
    const v = state.templateVersions.get(ctx.param("templateversion"));
    if (!v) throw notFound();
    // The resources of the version's import: the simulator's workspaces of the template carry the same shape.
    const ws = [...state.workspaces.values()].find((w) => !w.deleted && w.templateId === v.templateId && w.buildIds.length > 0);
    const b = ws ? state.latestBuild(ws) : undefined;
    ctx.json(200, (b?.resources ?? []).map((res) => convert.resource(res)));
  });

  r.add("GET", "/api/v2/workspaces/{workspace}/resolve-autostart", (ctx) => {
    workspaceParam(ctx, core);
    ctx.json(200, { parameter_mismatch: false });
  });

  const buildParam = (ref: string, actor: Actor) => {
    const b = state.builds.get(ref);
    const ws = b ? state.workspaces.get(b.workspaceId) : undefined;
    if (!b || !ws || !canSeeWorkspace(actor, ws)) throw notFound();
    return b;
  };

  r.add("GET", "/api/v2/workspacebuilds/{workspacebuild}/parameters", (ctx) => {
    const b = buildParam(ctx.param("workspacebuild"), ctx.me);
    ctx.json(200, b.params.map((p) => ({ name: p.name, value: p.value })));
  });

  r.add("GET", "/api/v2/workspacebuilds/{workspacebuild}/timings", (ctx) => {
    const b = buildParam(ctx.param("workspacebuild"), ctx.me);
    const job = state.job(b.jobId);
    const started = job.startedAt ?? job.createdAt;
    const ended = job.completedAt ?? core.now();
    ctx.json(200, {
      provisioner_timings: job.completedAt === undefined ? [] : [{
        job_id: job.id, started_at: core.iso(started), ended_at: core.iso(ended), stage: "apply", source: "coder",
        action: "create", resource: "coder_agent.main",
      }],
      agent_script_timings: [],
      agent_connection_timings: [],
    });
  });

  // Without ?follow the agent's logs so far as one JSON array (the simulator's agents log nothing); with it, a
  // websocket (sim/agent-streams.ts).
  r.add("GET", "/api/v2/workspaceagents/{workspaceagent}/logs", (ctx) => {
    const agent = state.agents.get(ctx.param("workspaceagent"));
    const ws = agent ? state.workspaces.get(agent.workspaceId) : undefined;
    if (!agent || !ws || !canSeeWorkspace(ctx.me, ws)) throw notFound();
    ctx.json(200, []);
  });

  return { counts: () => ({ ...n }), authcheckLog: () => log.slice() };
}
