/**
 * API mode sends what src/dashboard/frontend-requests.ts lists (a page load's global requests, each page's requests,
 * polls and websockets); the `load` of each target below is no longer used by it.
 *
 * The dashboard pages a virtual user visits, and the API calls Coder's dashboard (site/src/pages/...) makes
 * for each. Calls inside one `Promise.all` go out concurrently, as the browser's react-query fetches do; a
 * later wave waits for the data it needs (e.g. the workspace page needs the workspace before its template).
 *
 * | page       | URL                   | API calls (→ = next wave)                                                     | who    |
 * |------------|-----------------------|-------------------------------------------------------------------------------|--------|
 * | workspaces | /workspaces           | GET /workspaces?q=owner:me&limit=25&offset=0, GET /templates                  | all    |
 * | workspace  | /@owner/name          | GET /users/{user}/workspace/{name}?include_deleted=true → GET /templates/{id}, |        |
 * |            |                       |   GET /templateversions/{template_active_version_id} only when outdated       | all    |
 * | templates  | /templates            | GET /templates, GET /organizations                                            | all    |
 * | template   | /templates/org/name   | GET /organizations/{org}/templates/{name} → GET /templateversions/{active}    | all    |
 * | users      | /users                | GET /users?limit=25&offset=0 (no q), GET /users/authmethods                   | owner  |
 * | deployment | /deployment/general   | GET /deployment/config, GET /deployment/stats, GET /insights/daus,            |        |
 * |            |                       |   GET /entitlements                                                           | owner  |
 * | health     | /health               | GET /debug/health                                                             | owner  |
 * | audit      | /audit                | GET /audit?q=&limit=25&offset=0                                               | owner  |
 *
 * Sources: WorkspacesPage (workspaces + templates queries, default filter "owner:me"), WorkspacePage
 * (workspaceByOwnerAndName, template, builds history), TemplatesPage, TemplateLayout (getTemplateByName then
 * getTemplateVersion), UsersPage (users + authMethods), DeploymentSettings/GeneralSettingsPage (config, DAUs,
 * entitlements; the deployment banner polls stats), HealthPage, AuditPage. Owner-only pages are those the
 * dashboard shows only to admins (members get 403 from their endpoints). Endpoints Coder calls that are not in
 * the API contract we test against (authcheck, roles, groups, template resources/DAUs) are left out.
 */

/** What a virtual user knows about the deployment, learned from earlier page views (like links it saw). */
export interface PageState {
  me: { id: string; username: string; owner: boolean };
  workspaces: WorkspaceRef[];
  templates: TemplateRef[];
}

/** What a fresh visitor knows before its first page: only who it is. */
export function newPageState(identity: { username: string; owner: boolean }): PageState {
  return { me: { id: "", username: identity.username, owner: identity.owner }, workspaces: [], templates: [] };
}

export interface WorkspaceRef {
  owner_name: string;
  name: string;
}

export interface TemplateRef {
  name: string;
  /** Organization name for the template URL (Coder's route defaults to "default"). */
  organization_name: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** Issues one API call of a page; `endpoint` is its route template (the per-endpoint metric label). */
export interface PageApi {
  get<T>(endpoint: string, path: string, query?: Query): Promise<T>;
}

export type PageName = "workspaces" | "workspace" | "templates" | "template" | "users" | "deployment" | "health" | "audit";

export interface PageDef {
  name: PageName;
  /** Shown only to owners (site admins) in Coder's dashboard. */
  ownerOnly: boolean;
  /** Route templates of the API calls this page makes (documentation and tests). */
  endpoints: readonly string[];
  /**
   * Browser mode: an element of Coder's real UI that shows the page rendered (a CSS selector). The list pages
   * render an MUI table body (Coder's own dashboard runner waits for `tbody.MuiTableBody-root` first); pages
   * without a known landmark are judged by their requests and network idle only.
   */
  landmark?: string;
  /** The thing this page shows, chosen from what the user saw; undefined when there is nothing to show. */
  target(state: PageState, pick: <T>(items: readonly T[]) => T): PageTarget | undefined;
}

export interface PageTarget {
  /** Browser path, e.g. "/@alice/ws1". */
  url: string;
  /** Issues the page's API calls as the dashboard does, updating `state` with what it learned. */
  load(api: PageApi, state: PageState): Promise<void>;
}

// Minimal shapes of the responses the pages read.
interface WorkspaceLite {
  id: string;
  name: string;
  owner_name: string;
  template_id: string;
  template_active_version_id?: string;
  outdated?: boolean;
  latest_build: { id: string; template_version_id: string };
}
interface TemplateLite {
  id: string;
  name: string;
  organization_name?: string;
  active_version_id: string;
}

const enc = encodeURIComponent;

function rememberWorkspaces(state: PageState, list: { workspaces?: WorkspaceLite[] | null } | undefined): void {
  const ws = list?.workspaces ?? [];
  state.workspaces = ws.map((w) => ({ owner_name: w.owner_name, name: w.name }));
}

function rememberTemplates(state: PageState, list: TemplateLite[] | undefined): void {
  state.templates = (list ?? []).map((t) => ({ name: t.name, organization_name: t.organization_name || "default" }));
}

/**
 * Browser mode learns links the same way, from the API answers its pages received: the workspaces list and the
 * templates list give the targets of the workspace and template pages.
 */
export function learnFrom(endpoint: string, body: unknown, state: PageState): void {
  if (endpoint === "GET /workspaces" && body && typeof body === "object") {
    rememberWorkspaces(state, body as { workspaces?: WorkspaceLite[] });
  } else if (endpoint === "GET /templates" && Array.isArray(body)) {
    rememberTemplates(state, body as TemplateLite[]);
  }
}

/** The MUI table body of Coder's list pages (the selector Coder's dashboard scale test waits for first). */
export const CODER_TABLE_BODY = "tbody.MuiTableBody-root";

export const DASHBOARD_PAGES: readonly PageDef[] = [
  {
    name: "workspaces",
    ownerOnly: false,
    endpoints: ["GET /workspaces", "GET /templates"],
    landmark: CODER_TABLE_BODY,
    target: () => ({
      url: "/workspaces",
      async load(api, state) {
        const [list, templates] = await Promise.all([
          api.get<{ workspaces?: WorkspaceLite[] }>("GET /workspaces", "/workspaces", { q: "owner:me", limit: 25, offset: 0 }),
          api.get<TemplateLite[]>("GET /templates", "/templates"),
        ]);
        rememberWorkspaces(state, list);
        rememberTemplates(state, templates);
      },
    }),
  },
  {
    name: "workspace",
    ownerOnly: false,
    // The frontend's workspace page (WorkspacePage/WorkspaceReadyPage): the template, and the active template
    // version only for an outdated workspace; the build list only with the history sidebar open (not here).
    endpoints: [
      "GET /users/{user}/workspace/{workspacename}",
      "GET /templates/{template}",
      "GET /templateversions/{templateversion}",
    ],
    target(state, pick) {
      if (state.workspaces.length === 0) return undefined;
      const w = pick(state.workspaces);
      return {
        url: `/@${enc(w.owner_name)}/${enc(w.name)}`,
        async load(api) {
          const ws = await api.get<WorkspaceLite>(
            "GET /users/{user}/workspace/{workspacename}",
            `/users/${enc(w.owner_name)}/workspace/${enc(w.name)}`,
            { include_deleted: true },
          );
          await Promise.all([
            api.get("GET /templates/{template}", `/templates/${enc(ws.template_id)}`),
            ...(ws.outdated && ws.template_active_version_id
              ? [api.get("GET /templateversions/{templateversion}", `/templateversions/${enc(ws.template_active_version_id)}`)]
              : []),
          ]);
        },
      };
    },
  },
  {
    name: "templates",
    ownerOnly: false,
    endpoints: ["GET /templates", "GET /organizations"],
    landmark: CODER_TABLE_BODY,
    target: () => ({
      url: "/templates",
      async load(api, state) {
        const [templates] = await Promise.all([
          api.get<TemplateLite[]>("GET /templates", "/templates"),
          api.get("GET /organizations", "/organizations"),
        ]);
        rememberTemplates(state, templates);
      },
    }),
  },
  {
    name: "template",
    ownerOnly: false,
    endpoints: ["GET /organizations/{organization}/templates/{templatename}", "GET /templateversions/{templateversion}"],
    target(state, pick) {
      if (state.templates.length === 0) return undefined;
      const t = pick(state.templates);
      return {
        // The dashboard's organization-qualified template URL (the short /templates/<name> means org "default").
        url: `/templates/${enc(t.organization_name)}/${enc(t.name)}`,
        async load(api) {
          const tpl = await api.get<TemplateLite>(
            "GET /organizations/{organization}/templates/{templatename}",
            `/organizations/${enc(t.organization_name)}/templates/${enc(t.name)}`,
          );
          await api.get("GET /templateversions/{templateversion}", `/templateversions/${enc(tpl.active_version_id)}`);
        },
      };
    },
  },
  {
    name: "users",
    ownerOnly: true,
    endpoints: ["GET /users", "GET /users/authmethods"],
    landmark: CODER_TABLE_BODY,
    target: () => ({
      url: "/users",
      async load(api) {
        await Promise.all([
          // No q: the frontend sends one only from a filter in the URL.
          api.get("GET /users", "/users", { limit: 25, offset: 0 }),
          api.get("GET /users/authmethods", "/users/authmethods"),
        ]);
      },
    }),
  },
  {
    name: "deployment",
    ownerOnly: true,
    endpoints: ["GET /deployment/config", "GET /deployment/stats", "GET /insights/daus", "GET /entitlements"],
    target: () => ({
      url: "/deployment/general",
      async load(api) {
        await Promise.all([
          api.get("GET /deployment/config", "/deployment/config"),
          api.get("GET /deployment/stats", "/deployment/stats"),
          api.get("GET /insights/daus", "/insights/daus", { tz_offset: 0 }),
          api.get("GET /entitlements", "/entitlements"),
        ]);
      },
    }),
  },
  {
    name: "health",
    ownerOnly: true,
    endpoints: ["GET /debug/health"],
    target: () => ({
      url: "/health",
      async load(api) {
        await api.get("GET /debug/health", "/debug/health");
      },
    }),
  },
  {
    name: "audit",
    ownerOnly: true,
    endpoints: ["GET /audit"],
    target: () => ({
      url: "/audit",
      async load(api) {
        await api.get("GET /audit", "/audit", { q: "", limit: 25, offset: 0 });
      },
    }),
  },
];

export const PAGE_NAMES: readonly PageName[] = DASHBOARD_PAGES.map((p) => p.name);

/** The landing page: Coder redirects "/" to /workspaces. */
export const LANDING_PAGE: PageName = "workspaces";

export function pagesFor(owner: boolean): PageDef[] {
  return DASHBOARD_PAGES.filter((p) => owner || !p.ownerOnly);
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Route template of an API path seen in the browser (e.g. "/api/v2/templates/<uuid>" -> "GET /templates/{template}"),
 * matched against the endpoints of every page; unknown paths keep their shape with ids replaced.
 */
export function endpointOf(method: string, apiPath: string): string {
  const path = apiPath.replace(/^\/api\/v2/, "").replace(/\/+$/, "") || "/";
  const parts = path.split("/");
  for (const page of DASHBOARD_PAGES) {
    for (const ep of page.endpoints) {
      const [m, tpl] = ep.split(" ") as [string, string];
      if (m !== method.toUpperCase()) continue;
      const t = tpl.split("/");
      if (t.length !== parts.length) continue;
      if (t.every((seg, i) => seg.startsWith("{") || seg === parts[i])) return ep;
    }
  }
  return `${method.toUpperCase()} ${parts.map((p) => (UUID_RE.test(p) ? "{id}" : p)).join("/")}`;
}
