// Minimal dashboard pages of the simulated deployment, served at the paths Coder's dashboard uses. Each page is
// static HTML whose script fetches the API endpoints (with the session cookie) Coder's page fetches (see
// src/dashboard/pages.ts for the table; where the simulator lacks Coder's endpoint the nearest one it has is
// used, noted at the page) and renders the answers with the elements of Coder's real UI that Coder's own
// dashboard scale test clicks and waits for (scaletest/dashboard/chromedp.go; site/src/...): the nav links
// (`nav a[href="/workspaces"]`, class "active" on the current one), the list pages' MUI table body
// (`tbody.MuiTableBody-root`) with clickable rows (`tr[role=button][data-testid=workspace-<id>]`, template-,
// build-, version-, `tr[data-testid=user-<id>]`), the build page's `[aria-label="Build details"]`, the
// template tabs (`/templates/<org>/<name>/docs|files|versions`, aria-current on the active one), `#readme` and
// `.monaco-editor`. When a call failed, an error alert ([role=alert]) names it, as Coder's ErrorAlert shows it.
// The signed-in user is embedded in the page, as coderd embeds it in its HTML. No marker of our own: the runner
// must judge these pages as it judges a real Coder's. `omitLandmarks` (a fault) renders a page without them.
import type { PreHandler } from "../core.ts";
import type { Ctx } from "../http/context.ts";

/** The signed-in user of a page request (from its session cookie), as coderd embeds it; undefined when none. */
export type WhoAmI = (ctx: Ctx) => { username: string; owner: boolean } | undefined;

/** Knobs of the served pages. */
export interface DashboardPagesControl {
  /**
   * Fault: pages (by name, e.g. "workspace", "template", "workspace-build") rendered without Coder's UI elements (no test ids,
   * roles, aria labels, ids or classes in the page's content): what a runner waiting for them must count as failed.
   */
  readonly omitLandmarks: Set<string>;
}

interface PageRoute {
  name: string;
  title: string;
  match: (path: string) => Record<string, string> | undefined;
}

const literal = (name: string, title: string, ...paths: string[]): PageRoute => ({
  name,
  title,
  match: (p) => (paths.includes(p) ? {} : undefined),
});

const TEMPLATE_TABS = ["docs", "files", "resources", "versions", "embed"];

const ROUTES: PageRoute[] = [
  literal("workspaces", "Workspaces", "/workspaces"),
  literal("templates", "Templates", "/templates"),
  literal("users", "Users", "/users"),
  literal("health", "Health", "/health"),
  literal("audit", "Audit", "/audit"),
  {
    name: "deployment",
    title: "Deployment",
    match: (p) => (p === "/deployment" || /^\/deployment\/[a-z-]+$/.test(p) ? {} : undefined),
  },
  {
    // TemplateVersionPage: /templates/<org>/<name>/versions/<version>.
    name: "template-version",
    title: "Template version",
    match: (p) => {
      const m = /^\/templates\/([^/]+)\/([^/]+)\/versions\/([^/]+)$/.exec(p);
      return m?.[1] && m[2] && m[3]
        ? { organization: decodeURIComponent(m[1]), template: decodeURIComponent(m[2]), version: decodeURIComponent(m[3]) }
        : undefined;
    },
  },
  {
    // TemplateLayout: /templates/<org>/<name>[/<tab>], or /templates/<name> in the default organization.
    name: "template",
    title: "Template",
    match: (p) => {
      const tab = /^\/templates\/([^/]+)\/([^/]+)\/([a-z]+)$/.exec(p);
      if (tab?.[1] && tab[2] && tab[3] && TEMPLATE_TABS.includes(tab[3])) {
        return { organization: decodeURIComponent(tab[1]), template: decodeURIComponent(tab[2]), tab: tab[3] };
      }
      const m = /^\/templates\/(?:([^/]+)\/)?([^/]+)$/.exec(p);
      return m?.[2] ? { organization: decodeURIComponent(m[1] ?? "default"), template: decodeURIComponent(m[2]), tab: "summary" } : undefined;
    },
  },
  {
    // WorkspaceBuildPage: /@<owner>/<workspace>/builds/<number>.
    name: "workspace-build",
    title: "Build",
    match: (p) => {
      const m = /^\/@([^/]+)\/([^/]+)\/builds\/(\d+)$/.exec(p);
      return m?.[1] && m[2] && m[3] ? { owner: decodeURIComponent(m[1]), workspace: decodeURIComponent(m[2]), build: m[3] } : undefined;
    },
  },
  {
    name: "workspace",
    title: "Workspace",
    match: (p) => {
      const m = /^\/@([^/]+)\/([^/]+)$/.exec(p);
      return m?.[1] && m[2] ? { owner: decodeURIComponent(m[1]), workspace: decodeURIComponent(m[2]) } : undefined;
    },
  },
];

// The browser side: one script for every page, switching on the page name. Kept in plain ES2020.
const SCRIPT = String.raw`
const PAGE = document.body.dataset.page;
const PARAMS = JSON.parse(document.body.dataset.params || "{}");
const ME = JSON.parse(document.body.dataset.me || "null");
const OMIT = document.body.dataset.omit === "1";
const main = document.getElementById("main");
const enc = encodeURIComponent;
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
async function api(path, query) {
  const qs = query ? "?" + new URLSearchParams(query).toString() : "";
  const res = await fetch("/api/v2" + path + qs, { credentials: "same-origin", headers: { accept: "application/json" } });
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (!res.ok) throw new Error("GET /api/v2" + path + ": HTTP " + res.status + (body && body.message ? " - " + body.message : ""));
  return body;
}
// Like react-query's parallel queries: every call runs to its end; the page fails if any failed.
async function all(promises) {
  const rs = await Promise.allSettled(promises);
  const bad = rs.find((r) => r.status === "rejected");
  if (bad) throw bad.reason;
  return rs.map((r) => r.value);
}
// A table as Coder's MUI tables render it; rows are [cells, attributes] (useClickableTableRow: role=button + href).
function table(headers, rows) {
  return "<table><thead><tr>" + headers.map((h) => "<th>" + esc(h) + "</th>").join("") + '</tr></thead><tbody class="MuiTableBody-root">' +
    rows.map(([cells, attrs]) => "<tr " + (attrs || "") + ">" + cells.map((c) => "<td>" + c + "</td>").join("") + "</tr>").join("") + "</tbody></table>";
}
const clickable = (testid, href) => 'role="button" tabindex="0" data-testid="' + esc(testid) + '" data-href="' + esc(href) + '"';
function tabs(org, name, active) {
  const base = "/templates/" + enc(org) + "/" + enc(name);
  const list = [["docs", "Docs"], ...(ME && ME.owner ? [["files", "Source Code"]] : []), ["resources", "Resources"], ["versions", "Versions"], ["embed", "Embed"]];
  return '<div class="tabs">' + list.map(([tab, label]) =>
    '<a href="' + base + "/" + tab + '"' + (tab === active ? ' aria-current="page"' : "") + ">" + label + "</a>").join(" ") + "</div>";
}
async function templateByName() {
  // TemplateLayout: the template by name, then its active version.
  const t = await api("/organizations/" + enc(PARAMS.organization) + "/templates/" + enc(PARAMS.template));
  const v = await api("/templateversions/" + enc(t.active_version_id));
  return [t, v];
}
const PAGES = {
  async workspaces() {
    const [list, templates] = await all([api("/workspaces", { q: "owner:me", limit: 25, offset: 0 }), api("/templates")]);
    const ws = list.workspaces || [];
    return "<h1>Workspaces</h1><p>" + list.count + " workspace(s), " + templates.length + " template(s)</p>" +
      table(["Name", "Template", "Status"], ws.map((w) => [[esc(w.name), esc(w.template_name), esc(w.latest_build.status)],
        clickable("workspace-" + w.id, "/@" + enc(w.owner_name) + "/" + enc(w.name))]));
  },
  async workspace() {
    const w = await api("/users/" + enc(PARAMS.owner) + "/workspace/" + enc(PARAMS.workspace), { include_deleted: true });
    // The template, the builds table (BuildsTable of the workspace page Coder's runner knows), and the active
    // template version only when the workspace is outdated.
    const [template, builds, active] = await all([
      api("/templates/" + enc(w.template_id)),
      api("/workspaces/" + enc(w.id) + "/builds", { limit: 25, offset: 0 }),
      w.outdated ? api("/templateversions/" + enc(w.template_active_version_id)) : Promise.resolve(null),
    ]);
    const here = "/@" + enc(w.owner_name) + "/" + enc(w.name);
    return "<h1>" + esc(w.owner_name) + "/" + esc(w.name) + "</h1><p>Template " + esc(template.name) +
      (active ? ", update available: " + esc(active.name) : "") + "</p>" +
      table(["Build"], builds.map((b) => [["#" + esc(b.build_number) + " " + esc(b.transition) + " " + esc(b.status)],
        clickable("build-" + b.id, here + "/builds/" + b.build_number)]));
  },
  async "workspace-build"() {
    // Coder fetches GET /users/{user}/workspace/{name}/builds/{number}; the simulator lacks that endpoint, so
    // the page finds the build in the workspace's build list.
    const w = await api("/users/" + enc(PARAMS.owner) + "/workspace/" + enc(PARAMS.workspace), { include_deleted: true });
    const builds = await api("/workspaces/" + enc(w.id) + "/builds", { limit: 25, offset: 0 });
    const b = builds.find((x) => String(x.build_number) === PARAMS.build);
    if (!b) throw new Error("build #" + PARAMS.build + " of " + w.name + " not found");
    return "<h1>Build #" + esc(b.build_number) + "</h1>" +
      '<div aria-label="Build details"><p>Workspace <a href="/@' + enc(w.owner_name) + "/" + enc(w.name) + '">' + esc(w.name) + "</a></p>" +
      "<p>" + esc(b.transition) + ", " + esc(b.status) + ", reason " + esc(b.reason) + "</p></div>";
  },
  async templates() {
    const [templates, orgs] = await all([api("/templates"), api("/organizations")]);
    return "<h1>Templates</h1><p>" + orgs.length + " organization(s)</p>" +
      table(["Name", "Active version"], templates.map((t) => [[esc(t.display_name || t.name), esc(t.active_version_id)],
        clickable("template-" + t.id, "/templates/" + enc(t.organization_name || "default") + "/" + enc(t.name))]));
  },
  async template() {
    const [t, v] = await templateByName();
    const org = t.organization_name || PARAMS.organization;
    let body;
    switch (PARAMS.tab) {
      case "docs": body = '<div id="readme"><pre>' + esc(v.readme || "No documentation") + "</pre></div>"; break;
      // Coder's Source Code tab shows the version's files in its Monaco-based viewer.
      case "files": body = '<div class="monaco-editor"><pre>' + esc(v.job && v.job.file_id) + "</pre></div>"; break;
      case "versions":
        // Coder lists GET /templates/{id}/versions; the simulator lacks that endpoint: the active version only.
        body = table(["Version"], [[[esc(v.name)], clickable("version-" + v.id, "/templates/" + enc(org) + "/" + enc(t.name) + "/versions/" + enc(v.name))]]);
        break;
      default: body = "<p>" + esc(t.description || "") + " Active version " + esc(v.name) + "</p>";
    }
    return "<h1>" + esc(t.display_name || t.name) + "</h1>" + tabs(org, t.name, PARAMS.tab) + body;
  },
  async "template-version"() {
    // Coder fetches the version by name; the simulator lacks that endpoint: the template's active version.
    const [t, v] = await templateByName();
    if (v.name !== PARAMS.version) throw new Error("version " + PARAMS.version + " of " + t.name + " not found");
    return "<h1>" + esc(t.name) + " " + esc(v.name) + '</h1><div class="monaco-editor"><pre>' + esc(v.job && v.job.file_id) + "</pre></div>";
  },
  async users() {
    const [users, methods] = await all([api("/users", { limit: 25, offset: 0 }), api("/users/authmethods")]);
    return "<h1>Users</h1><p>" + users.count + " user(s); password login " + (methods.password && methods.password.enabled ? "on" : "off") + "</p>" +
      table(["Username", "Email", "Status"], (users.users || []).map((u) => [[esc(u.username), esc(u.email), esc(u.status)], 'data-testid="user-' + esc(u.id) + '"']));
  },
  async deployment() {
    const [config, stats, daus, ent] = await all([api("/deployment/config"), api("/deployment/stats"), api("/insights/daus", { tz_offset: 0 }), api("/entitlements")]);
    return "<h1>Deployment</h1><p>" + Object.keys(config.config || {}).length + " settings</p>" +
      "<p>" + esc(JSON.stringify(stats.workspaces || {})) + "</p><p>" + ((daus.entries || []).length) + " DAU entries; " + Object.keys(ent.features || {}).length + " features</p>";
  },
  async health() {
    const h = await api("/debug/health");
    return "<h1>Health</h1><p>Healthy: " + esc(h.healthy) + " (" + esc(h.severity) + ")</p>";
  },
  async audit() {
    const a = await api("/audit", { q: "", limit: 25, offset: 0 });
    return "<h1>Audit</h1><p>" + esc(a.count) + " audit log(s)</p>";
  },
};
// The fault: the same content without any of Coder's UI elements.
function strip(root) {
  for (const el of root.querySelectorAll("*")) {
    for (const a of ["data-testid", "role", "aria-label", "aria-current", "id", "class"]) el.removeAttribute(a);
  }
}
(async () => {
  try {
    main.innerHTML = await PAGES[PAGE]();
    if (OMIT) strip(main);
  } catch (e) {
    main.innerHTML = '<div role="alert" class="error"></div>';
    main.firstChild.textContent = String(e && e.message ? e.message : e);
  }
})();
// Clickable rows navigate as Coder's do (the dashboard is a single-page app; here each page is a document).
main.addEventListener("click", (ev) => {
  const row = ev.target.closest("tr[data-href]");
  if (row) location.href = row.dataset.href;
});
`;

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

interface PageFor {
  route: PageRoute;
  params: Record<string, string>;
  path: string;
  me: { username: string; owner: boolean } | undefined;
  omit: boolean;
}

function html({ route, params, path, me, omit }: PageFor): string {
  // Coder's navbar: NavLinks (class "active" on the current section); the admin links for owners only.
  const links: [string, string][] = [
    ["/workspaces", "Workspaces"],
    ["/templates", "Templates"],
    ...(me?.owner ? ([["/users", "Users"], ["/audit", "Audit"], ["/deployment/general", "Deployment"]] as [string, string][]) : []),
  ];
  const section = (href: string): string => (href.startsWith("/deployment/") ? "/deployment" : href);
  const nav = links
    .map(([href, label]) => {
      const active = path === section(href) || path.startsWith(`${section(href)}/`);
      return `<a href="${href}"${active ? ' class="active"' : ""}>${label}</a>`;
    })
    .join(" ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(route.title)} - Coder (simulated)</title>
<style>body{font:14px sans-serif;margin:0}nav{background:#222;padding:8px}nav a{color:#eee;margin-right:12px}
main{padding:16px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}tr[data-href]{cursor:pointer}
.tabs a{margin-right:12px}.tabs a[aria-current]{font-weight:bold}
.error{background:#fdd;border:1px solid #c00;color:#900;padding:12px}</style></head>
<body data-page="${route.name}" data-params="${escapeHtml(JSON.stringify(params))}" data-me="${escapeHtml(JSON.stringify(me ?? null))}"${omit ? ' data-omit="1"' : ""}>
<nav>${nav}</nav><main id="main"><p>Loading...</p></main>
<script>${SCRIPT}</script></body></html>`;
}

function send(ctx: Ctx, status: number, body: string, headers: Record<string, string> = {}): void {
  ctx.res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  ctx.res.end(ctx.method === "HEAD" ? undefined : body);
}

/**
 * The pre-handler serving the pages (GET/HEAD of non-API paths only; everything else falls through), and its
 * knobs. `whoAmI` gives the signed-in user embedded in each page.
 */
export function dashboardPages(whoAmI: WhoAmI): { handler: PreHandler; control: DashboardPagesControl } {
  const control: DashboardPagesControl = { omitLandmarks: new Set() };
  const handler: PreHandler = (ctx) => {
    if (ctx.method !== "GET" && ctx.method !== "HEAD") return false;
    const path = ctx.path;
    if (path.startsWith("/api/")) return false;
    if (path === "/") {
      // Coder's dashboard sends "/" to the workspaces list.
      send(ctx, 307, "", { Location: "/workspaces" });
      return true;
    }
    for (const route of ROUTES) {
      const params = route.match(path);
      if (params) {
        send(ctx, 200, html({ route, params, path, me: whoAmI(ctx), omit: control.omitLandmarks.has(route.name) }));
        return true;
      }
    }
    return false;
  };
  return { handler, control };
}

/** Page names served (the runner's page names where the page is the same). */
export const SIM_DASHBOARD_PAGES: readonly string[] = ROUTES.map((r) => r.name);
