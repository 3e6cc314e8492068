/**
 * The dashboard pages a virtual user visits: their names, who sees them (owner-only pages are those Coder's
 * dashboard shows only to site admins), how a page's URL is chosen from what the user saw before (like links on
 * a page), and the route templates that label the requests seen (endpointOf). What each page requests, polls
 * and holds open in API mode: ./frontend-requests.ts; what browser mode clicks and waits for: ./browser-targets.ts.
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

export type PageName = "workspaces" | "workspace" | "templates" | "template" | "users" | "deployment" | "health" | "audit";

export interface PageDef {
  name: PageName;
  /** Shown only to owners (site admins) in Coder's dashboard. */
  ownerOnly: boolean;
  /** Route templates of the API calls this page makes (documentation and tests). */
  endpoints: readonly string[];
  /** The thing this page shows, chosen from what the user saw; undefined when there is nothing to show. */
  target(state: PageState, pick: <T>(items: readonly T[]) => T): PageTarget | undefined;
}

export interface PageTarget {
  /** Browser path, e.g. "/@alice/ws1". The requests a page makes: ./frontend-requests.ts (API mode). */
  url: string;
}

// What the page targets are chosen from, in the answers of the list pages.
interface WorkspaceLite {
  name: string;
  owner_name: string;
}
interface TemplateLite {
  name: string;
  organization_name?: string;
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

export const DASHBOARD_PAGES: readonly PageDef[] = [
  {
    name: "workspaces",
    ownerOnly: false,
    endpoints: ["GET /workspaces", "GET /templates"],
    target: () => ({ url: "/workspaces" }),
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
      return { url: `/@${enc(w.owner_name)}/${enc(w.name)}` };
    },
  },
  {
    name: "templates",
    ownerOnly: false,
    endpoints: ["GET /templates", "GET /organizations"],
    target: () => ({ url: "/templates" }),
  },
  {
    name: "template",
    ownerOnly: false,
    endpoints: ["GET /organizations/{organization}/templates/{templatename}", "GET /templateversions/{templateversion}"],
    target(state, pick) {
      if (state.templates.length === 0) return undefined;
      const t = pick(state.templates);
      // The dashboard's organization-qualified template URL (the short /templates/<name> means org "default").
      return { url: `/templates/${enc(t.organization_name)}/${enc(t.name)}` };
    },
  },
  {
    name: "users",
    ownerOnly: true,
    endpoints: ["GET /users", "GET /users/authmethods"],
    target: () => ({ url: "/users" }),
  },
  {
    name: "deployment",
    ownerOnly: true,
    endpoints: ["GET /deployment/config", "GET /deployment/stats", "GET /insights/daus", "GET /entitlements"],
    target: () => ({ url: "/deployment/general" }),
  },
  {
    name: "health",
    ownerOnly: true,
    endpoints: ["GET /debug/health"],
    target: () => ({ url: "/health" }),
  },
  {
    name: "audit",
    ownerOnly: true,
    endpoints: ["GET /audit"],
    target: () => ({ url: "/audit" }),
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
