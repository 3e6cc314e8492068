/**
 * What Coder's web dashboard (site/src/...) sends, for API mode: the requests of a full page load that every
 * page shares (once per session: the user then moves by client-side navigation, which reuses them), and each
 * page's own requests, polls and websockets while it stays open. Nothing else: API mode sends nothing the
 * frontend does not.
 *
 * Global, once per full page load (the HTML document embeds user, entitlements, appearance, regions,
 * experiments and build info, so none of those is fetched):
 *   POST /authcheck with the site-wide checks (AuthProvider, site/permissions.json)
 *   → GET /organizations (DashboardProvider)
 *   → POST /authcheck with the organization checks of every organization, GET /notifications/inbox,
 *     websocket /notifications/inbox/watch?read_status=unread (held for the session); with the permission:
 *     GET /deployment/stats (refetched at its next_update_at), GET /debug/health?force=false, GET /updatecheck.
 *
 * | page       | requests (→ = after the answer they need)                                                           |
 * |------------|------------------------------------------------------------------------------------------------------|
 * | workspaces | GET /workspaces?q=owner:me&limit=25&offset=0 (polled every 5 s), GET /templates, POST /authcheck     |
 * |            | (create per organization); filter menus: GET /templates, GET /organizations + POST /authcheck,       |
 * |            | GET /users?limit=25 (may read users); → POST /users/me/keys once per session when a listed workspace |
 * |            | runs, GET /templateversions/{active} per outdated row                                                |
 * | workspace  | GET /users/{u}/workspace/{n}?include_deleted=true → GET /templates/{id}, POST /authcheck, websocket  |
 * |            | watch-ws, GET resolve-autostart, GET /workspacebuilds/{b}/parameters, timings once the job is done,  |
 * |            | GET /templateversions/{active} only when outdated, build-log websocket only while the job runs; per  |
 * |            | agent websocket watch-metadata-ws, agent-log websocket while not ready; GET /deployment/ssh          |
 * | templates  | GET /templates?q=, POST /authcheck (create per organization), GET /templates/examples (may create    |
 * |            | templates), GET /users?limit=25 (may read users)                                                     |
 * | template   | GET /organizations/{o}/templates/{n} → GET /templateversions/{active}, POST /authcheck (template),   |
 * |            | GET /templateversions/{active}/resources → POST /authcheck (create per organization); owners         |
 * |            | GET /workspaces?q=template:{n}                                                                        |
 * | users      | GET /users?limit=25&offset=0 (→ offset=25 prefetched when there are more), GET /groups,              |
 * |            | GET /users/authmethods, GET /users/roles, GET /deployment/config                                      |
 * | deployment | GET /deployment/config, GET /insights/daus?tz_offset=<hours>, GET /experiments/available             |
 * | health     | GET /debug/health?force=false, polled every 30 s                                                     |
 * | audit      | GET /audit?limit=25&offset=0, GET /users?limit=25, GET /organizations + POST /authcheck              |
 *
 * Sources: AuthProvider, DashboardProvider, NavbarView/NotificationsInbox, DeploymentBanner, useUpdateCheck,
 * WorkspacesPage + filter/menus, WorkspacePage/WorkspaceReadyPage/AgentRow/AgentMetadata, TemplatesPage,
 * TemplateLayout/TemplateSummaryPage, UsersPage/usePaginatedQuery, GeneralSettingsPage, HealthLayout, AuditPage
 * (facts gathered page by page; the proxy latency check and the newest copies' extras are not sent).
 */
import type { PageName, PageState } from "./pages.ts";
import { registerSecret } from "../util/redact.ts";

/** Coder's refetch intervals; tests shorten them. */
export interface FrontendIntervals {
  /** WorkspacesPage refetches the list (5 s). */
  workspacesPollMs: number;
  /** HealthLayout refetches the health report (30 s). */
  healthPollMs: number;
  /** Bounds of the deployment-stats refetch at its next_update_at. */
  statsRefetchMinMs: number;
  statsRefetchMaxMs: number;
}

export const CODER_INTERVALS: FrontendIntervals = {
  workspacesPollMs: 5_000,
  healthPollMs: 30_000,
  statsRefetchMinMs: 1_000,
  statsRefetchMaxMs: 5 * 60_000,
};

export type Query = Record<string, string | number | boolean | undefined>;

/** How a page (or the session) talks to coderd; everything it opens ends when the page (session) is left. */
export interface FrontendApi {
  get<T>(endpoint: string, path: string, query?: Query): Promise<T>;
  post<T>(endpoint: string, path: string, body: unknown): Promise<T>;
  /** Repeats `fn` every `ms` while the page stays open (react-query's refetchInterval). */
  every(ms: number, fn: () => Promise<unknown>): void;
  /** Runs `fn` once after `ms` if the page is still open (a refetch at a time the server named). */
  after(ms: number, fn: () => Promise<unknown>): void;
  /** Opens a websocket and holds it while the page stays open. */
  socket(endpoint: string, path: string, query?: Query): void;
}

interface AuthorizationCheck {
  object: { resource_type: string; resource_id?: string; owner_id?: string; organization_id?: string; any_org?: boolean };
  action: string;
}

/** site/permissions.json: the site-wide checks AuthProvider sends once per page load. */
export const SITE_PERMISSION_CHECKS: Readonly<Record<string, AuthorizationCheck>> = {
  viewAllUsers: { object: { resource_type: "user" }, action: "read" },
  updateUsers: { object: { resource_type: "user" }, action: "update" },
  createUser: { object: { resource_type: "user" }, action: "create" },
  createTemplates: { object: { resource_type: "template", any_org: true }, action: "create" },
  createWorkspaceInAnyOrganization: { object: { resource_type: "workspace", any_org: true, owner_id: "me" }, action: "create" },
  updateTemplates: { object: { resource_type: "template" }, action: "update" },
  deleteTemplates: { object: { resource_type: "template" }, action: "delete" },
  viewDeploymentConfig: { object: { resource_type: "deployment_config" }, action: "read" },
  editDeploymentConfig: { object: { resource_type: "deployment_config" }, action: "update" },
  viewDeploymentStats: { object: { resource_type: "deployment_stats" }, action: "read" },
  readWorkspaceProxies: { object: { resource_type: "workspace_proxy" }, action: "read" },
  editWorkspaceProxies: { object: { resource_type: "workspace_proxy" }, action: "create" },
  createOrganization: { object: { resource_type: "organization" }, action: "create" },
  viewAnyGroup: { object: { resource_type: "group" }, action: "read" },
  createGroup: { object: { resource_type: "group" }, action: "create" },
  viewAllLicenses: { object: { resource_type: "license" }, action: "read" },
  viewNotificationTemplate: { object: { resource_type: "notification_template" }, action: "read" },
  viewOrganizationIDPSyncSettings: { object: { resource_type: "idpsync_settings" }, action: "read" },
  viewAnyMembers: { object: { resource_type: "organization_member", any_org: true }, action: "read" },
  editAnyGroups: { object: { resource_type: "group", any_org: true }, action: "update" },
  assignAnyRoles: { object: { resource_type: "assign_org_role", any_org: true }, action: "assign" },
  viewAnyIdpSyncSettings: { object: { resource_type: "idpsync_settings", any_org: true }, action: "read" },
  editAnySettings: { object: { resource_type: "organization", any_org: true }, action: "update" },
  viewAnyAuditLog: { object: { resource_type: "audit_log", any_org: true }, action: "read" },
  viewAnyConnectionLog: { object: { resource_type: "connection_log", any_org: true }, action: "read" },
  viewDebugInfo: { object: { resource_type: "debug_info" }, action: "read" },
  createOAuth2App: { object: { resource_type: "oauth2_app" }, action: "create" },
  editOAuth2App: { object: { resource_type: "oauth2_app" }, action: "update" },
  deleteOAuth2App: { object: { resource_type: "oauth2_app" }, action: "delete" },
  viewOAuth2AppSecrets: { object: { resource_type: "oauth2_app_secret" }, action: "read" },
};

/** modules/permissions/organizations.ts: per organization, keyed "<org id>.<name>" (organizationsPermissions). */
const ORG_CHECKS: readonly [string, string, string][] = [
  ["viewMembers", "organization_member", "read"],
  ["editMembers", "organization_member", "update"],
  ["createGroup", "group", "create"],
  ["viewGroups", "group", "read"],
  ["editGroups", "group", "update"],
  ["editSettings", "organization", "update"],
  ["assignOrgRoles", "assign_org_role", "assign"],
  ["viewOrgRoles", "assign_org_role", "read"],
  ["createOrgRoles", "assign_org_role", "create"],
  ["updateOrgRoles", "assign_org_role", "update"],
  ["deleteOrgRoles", "assign_org_role", "delete"],
  ["viewProvisioners", "provisioner_daemon", "read"],
  ["viewProvisionerJobs", "provisioner_jobs", "read"],
  ["viewIdpSyncSettings", "idpsync_settings", "read"],
  ["editIdpSyncSettings", "idpsync_settings", "update"],
  ["updateTemplates", "template", "update"],
];

export function organizationChecks(orgIds: readonly string[]): Record<string, AuthorizationCheck> {
  const out: Record<string, AuthorizationCheck> = {};
  for (const org of orgIds) {
    for (const [name, type, action] of ORG_CHECKS) out[`${org}.${name}`] = { object: { resource_type: type, organization_id: org }, action };
  }
  return out;
}

/** workspacePermissionsByOrganization: may the user create a workspace (for itself) in each organization. */
export function workspaceCreateChecks(orgIds: readonly string[]): Record<string, AuthorizationCheck> {
  const out: Record<string, AuthorizationCheck> = {};
  // owner_id "me": coderd substitutes the caller, as the frontend's user id would be.
  for (const org of orgIds) out[`${org}.createWorkspaceForUserID`] = { object: { resource_type: "workspace", organization_id: org, owner_id: "me" }, action: "create" };
  return out;
}

/** The workspace page's checks (WorkspacePage workspaceChecks). */
export function workspaceChecks(ws: { id: string; owner_id: string; template_id: string }): Record<string, AuthorizationCheck> {
  const obj = { resource_type: "workspace", resource_id: ws.id, owner_id: ws.owner_id };
  return {
    readWorkspace: { object: obj, action: "read" },
    updateWorkspace: { object: obj, action: "update" },
    updateWorkspaceVersion: { object: { resource_type: "template", resource_id: ws.template_id }, action: "update" },
    deploymentConfig: { object: { resource_type: "deployment_config" }, action: "read" },
    deleteFailedWorkspace: { object: obj, action: "delete" },
  };
}

/** The template page's checks (TemplateLayout checkAuthorization). */
export function templateChecks(templateId: string): Record<string, AuthorizationCheck> {
  return {
    canUpdateTemplate: { object: { resource_type: "template", resource_id: templateId }, action: "update" },
    canReadInsights: { object: { resource_type: "template", resource_id: templateId }, action: "view_insights" },
  };
}

/** What the session learned from the global requests that the pages use. */
export interface SiteSession {
  permissions: Record<string, boolean>;
  orgIds: string[];
  /** The session key for app links was fetched (react-query keeps it for the session: queryKey ["apiKey"]). */
  apiKeyFetched?: boolean;
  /**
   * Ids of the API keys that session key request created. The frontend leaves them to expire; we delete them
   * when the virtual user leaves (api-mode.ts), so a run leaves no keys on the identities it browsed as (the
   * runner's own user among them, with --use-host-login).
   */
  createdKeyIds?: string[];
}

// Minimal shapes of the answers the requests depend on.
interface Agent {
  id: string;
  lifecycle_state?: string;
}
interface Workspace {
  id: string;
  name: string;
  owner_id: string;
  owner_name: string;
  template_id: string;
  template_active_version_id?: string;
  outdated?: boolean;
  latest_build: { id: string; status?: string; job?: { status?: string }; resources?: { agents?: Agent[] | null }[] | null };
}
interface Template {
  id: string;
  name: string;
  organization_name?: string;
  active_version_id: string;
}

const enc = encodeURIComponent;
const AUTHCHECK = "POST /authcheck";

export const WS_INBOX = "WS /notifications/inbox/watch";
export const WS_WORKSPACE = "WS /workspaces/{workspace}/watch-ws";
export const WS_BUILD_LOGS = "WS /workspacebuilds/{workspacebuild}/logs";
export const WS_AGENT_METADATA = "WS /workspaceagents/{workspaceagent}/watch-metadata-ws";
export const WS_AGENT_LOGS = "WS /workspaceagents/{workspaceagent}/logs";

/** Every route template API mode may send (the per-endpoint labels), websockets included. */
export const FRONTEND_ENDPOINTS: readonly string[] = [
  AUTHCHECK,
  "GET /organizations",
  "GET /notifications/inbox",
  "GET /deployment/stats",
  "GET /debug/health",
  "GET /updatecheck",
  "GET /workspaces",
  "GET /templates",
  "GET /users",
  "POST /users/{user}/keys",
  "GET /templateversions/{templateversion}",
  "GET /users/{user}/workspace/{workspacename}",
  "GET /templates/{template}",
  "GET /workspaces/{workspace}/resolve-autostart",
  "GET /workspacebuilds/{workspacebuild}/parameters",
  "GET /workspacebuilds/{workspacebuild}/timings",
  "GET /deployment/ssh",
  "GET /templates/examples",
  "GET /organizations/{organization}/templates/{templatename}",
  "GET /templateversions/{templateversion}/resources",
  "GET /groups",
  "GET /users/authmethods",
  "GET /users/roles",
  "GET /deployment/config",
  "GET /insights/daus",
  "GET /experiments/available",
  "GET /audit",
  WS_INBOX,
  WS_WORKSPACE,
  WS_BUILD_LOGS,
  WS_AGENT_METADATA,
  WS_AGENT_LOGS,
];

const authcheck = (api: FrontendApi, checks: Record<string, AuthorizationCheck>): Promise<Record<string, boolean>> =>
  api.post<Record<string, boolean>>(AUTHCHECK, "/authcheck", { checks });

const refetchDelay = (nextUpdateAt: unknown, iv: FrontendIntervals): number => {
  const t = typeof nextUpdateAt === "string" ? Date.parse(nextUpdateAt) - Date.now() : NaN;
  return Math.min(iv.statsRefetchMaxMs, Math.max(iv.statsRefetchMinMs, Number.isFinite(t) ? t : iv.statsRefetchMaxMs));
};

/**
 * The global requests of a full page load on `api` (the session's: what it opens lasts the session). Resolves
 * once the dashboard could render the page: permissions and organizations known; `rest` settles with the others.
 */
export async function loadGlobal(api: FrontendApi, iv: FrontendIntervals): Promise<{ site: SiteSession; rest: Promise<unknown> }> {
  const permissions = await authcheck(api, { ...SITE_PERMISSION_CHECKS });
  const orgs = await api.get<{ id: string }[]>("GET /organizations", "/organizations");
  const site: SiteSession = { permissions: permissions ?? {}, orgIds: (orgs ?? []).map((o) => o.id) };
  const stats = (): Promise<unknown> =>
    api.get<{ next_update_at?: string }>("GET /deployment/stats", "/deployment/stats").then((s) => {
      api.after(refetchDelay(s?.next_update_at, iv), stats);
    });
  api.socket(WS_INBOX, "/notifications/inbox/watch", { read_status: "unread" });
  const rest = Promise.all([
    authcheck(api, organizationChecks(site.orgIds)),
    api.get("GET /notifications/inbox", "/notifications/inbox"),
    site.permissions["viewDeploymentStats"] ? stats() : undefined,
    site.permissions["viewDebugInfo"] ? api.get("GET /debug/health", "/debug/health", { force: false }) : undefined,
    site.permissions["viewDeploymentConfig"] ? api.get("GET /updatecheck", "/updatecheck") : undefined,
  ]);
  return { site, rest };
}

const jobDone = (s: string | undefined): boolean => s === "succeeded" || s === "failed" || s === "canceled";

/** The browser path of a page target parsed back into what it shows ("/@owner/name", "/templates/org/name"). */
function segments(url: string): string[] {
  return url.split("/").filter(Boolean).map((s) => decodeURIComponent(s));
}

export type PageLoader = (api: FrontendApi, url: string, state: PageState, site: SiteSession, iv: FrontendIntervals) => Promise<unknown>;

function rememberWorkspaces(state: PageState, list: { workspaces?: Workspace[] | null } | undefined): void {
  state.workspaces = (list?.workspaces ?? []).map((w) => ({ owner_name: w.owner_name, name: w.name }));
}

function rememberTemplates(state: PageState, list: Template[] | undefined): void {
  state.templates = (list ?? []).map((t) => ({ name: t.name, organization_name: t.organization_name || "default" }));
}

const USERS_MENU = { limit: 25 } as const;

export const PAGE_REQUESTS: Readonly<Record<PageName, PageLoader>> = {
  async workspaces(api, _url, state, site, iv) {
    const listQuery = { q: "owner:me", limit: 25, offset: 0 };
    const list = (): Promise<{ workspaces?: Workspace[] }> => api.get("GET /workspaces", "/workspaces", listQuery);
    api.every(iv.workspacesPollMs, list);
    const [ws, templates] = await Promise.all([
      list(),
      api.get<Template[]>("GET /templates", "/templates"),
      authcheck(api, workspaceCreateChecks(site.orgIds)),
      // The filter menus (template, organization, owner) load their options.
      api.get("GET /templates", "/templates"),
      api.get("GET /organizations", "/organizations"),
      authcheck(api, organizationChecks(site.orgIds)),
      site.permissions["viewAllUsers"] ? api.get("GET /users", "/users", USERS_MENU) : undefined,
    ]);
    rememberWorkspaces(state, ws);
    rememberTemplates(state, templates);
    const rows = ws?.workspaces ?? [];
    const outdated = [...new Set(rows.filter((w) => w.outdated && w.template_active_version_id).map((w) => w.template_active_version_id!))];
    const needsKey = !site.apiKeyFetched && rows.some((w) => w.latest_build.status === "running");
    if (needsKey) site.apiKeyFetched = true;
    await Promise.all([
      // The app links of a running workspace need a session key (WorkspacesTable), fetched once per session.
      needsKey
        ? api.post<{ key?: string }>("POST /users/{user}/keys", "/users/me/keys", {}).then((r) => {
            if (typeof r?.key !== "string") return;
            registerSecret(r.key);
            (site.createdKeyIds ??= []).push(r.key.split("-")[0] ?? "");
          })
        : undefined,
      ...outdated.map((v) => api.get("GET /templateversions/{templateversion}", `/templateversions/${enc(v)}`)),
    ]);
  },

  async workspace(api, url) {
    const [owner, name] = segments(url);
    const ownerName = (owner ?? "").replace(/^@/, "");
    const ws = await api.get<Workspace>(
      "GET /users/{user}/workspace/{workspacename}",
      `/users/${enc(ownerName)}/workspace/${enc(name ?? "")}`,
      { include_deleted: true },
    );
    const b = ws.latest_build;
    const agents = (b.resources ?? []).flatMap((r) => r.agents ?? []);
    api.socket(WS_WORKSPACE, `/workspaces/${enc(ws.id)}/watch-ws`);
    if (!jobDone(b.job?.status)) api.socket(WS_BUILD_LOGS, `/workspacebuilds/${enc(b.id)}/logs`, { follow: true, after: -1 });
    for (const a of agents) {
      api.socket(WS_AGENT_METADATA, `/workspaceagents/${enc(a.id)}/watch-metadata-ws`);
      if (a.lifecycle_state !== "ready") api.socket(WS_AGENT_LOGS, `/workspaceagents/${enc(a.id)}/logs`, { follow: true, after: 0 });
    }
    await Promise.all([
      api.get("GET /templates/{template}", `/templates/${enc(ws.template_id)}`),
      authcheck(api, workspaceChecks(ws)),
      api.get("GET /workspaces/{workspace}/resolve-autostart", `/workspaces/${enc(ws.id)}/resolve-autostart`),
      api.get("GET /workspacebuilds/{workspacebuild}/parameters", `/workspacebuilds/${enc(b.id)}/parameters`),
      jobDone(b.job?.status) ? api.get("GET /workspacebuilds/{workspacebuild}/timings", `/workspacebuilds/${enc(b.id)}/timings`) : undefined,
      ws.outdated && ws.template_active_version_id
        ? api.get("GET /templateversions/{templateversion}", `/templateversions/${enc(ws.template_active_version_id)}`)
        : undefined,
      agents.length > 0 ? api.get("GET /deployment/ssh", "/deployment/ssh") : undefined,
    ]);
  },

  async templates(api, _url, state, site) {
    const [templates] = await Promise.all([
      api.get<Template[]>("GET /templates", "/templates", { q: "" }),
      authcheck(api, workspaceCreateChecks(site.orgIds)),
      site.permissions["createTemplates"] ? api.get("GET /templates/examples", "/templates/examples") : undefined,
      site.permissions["viewAllUsers"] ? api.get("GET /users", "/users", USERS_MENU) : undefined,
    ]);
    rememberTemplates(state, templates);
  },

  async template(api, url, state) {
    const [, org, name] = segments(url);
    const tpl = await api.get<Template>(
      "GET /organizations/{organization}/templates/{templatename}",
      `/organizations/${enc(org ?? "")}/templates/${enc(name ?? "")}`,
    );
    const v = enc(tpl.active_version_id);
    await Promise.all([
      api.get("GET /templateversions/{templateversion}", `/templateversions/${v}`),
      authcheck(api, templateChecks(tpl.id)),
      api.get("GET /templateversions/{templateversion}/resources", `/templateversions/${v}/resources`),
    ]);
    await Promise.all([
      // TemplateLayout: may the user create a workspace from it (its organization's check).
      authcheck(api, workspaceCreateChecks(orgOf(tpl))),
      state.me.owner ? api.get("GET /workspaces", "/workspaces", { q: `template:${tpl.name}` }) : undefined,
    ]);
  },

  async users(api) {
    const first = api.get<{ count?: number }>("GET /users", "/users", { limit: 25, offset: 0 });
    await Promise.all([
      first.then((u) => ((u?.count ?? 0) > 25 ? api.get("GET /users", "/users", { limit: 25, offset: 25 }) : undefined)),
      api.get("GET /groups", "/groups"),
      api.get("GET /users/authmethods", "/users/authmethods"),
      api.get("GET /users/roles", "/users/roles"),
      api.get("GET /deployment/config", "/deployment/config"),
    ]);
  },

  async deployment(api) {
    // The browser's UTC offset in whole hours, as the DAU chart asks.
    const tzOffset = -Math.trunc(new Date().getTimezoneOffset() / 60);
    await Promise.all([
      api.get("GET /deployment/config", "/deployment/config"),
      api.get("GET /insights/daus", "/insights/daus", { tz_offset: tzOffset }),
      api.get("GET /experiments/available", "/experiments/available"),
    ]);
  },

  async health(api, _url, _state, _site, iv) {
    const health = (): Promise<unknown> => api.get("GET /debug/health", "/debug/health", { force: false });
    api.every(iv.healthPollMs, health);
    await health();
  },

  async audit(api, _url, _state, site) {
    await Promise.all([
      // An empty q is dropped by the frontend.
      api.get("GET /audit", "/audit", { limit: 25, offset: 0 }),
      api.get("GET /users", "/users", USERS_MENU),
      api.get("GET /organizations", "/organizations"),
      authcheck(api, organizationChecks(site.orgIds)),
    ]);
  },
};

/** The organization a template belongs to, by id when the answer carries it. */
function orgOf(t: Template & { organization_id?: string }): string[] {
  return t.organization_id ? [t.organization_id] : [];
}
