// Minimal dashboard pages of the simulated deployment, served at the paths Coder's dashboard uses. Each page is
// static HTML whose script fetches the same API endpoints (with the session cookie) as Coder's page does (see
// src/dashboard/pages.ts for the table) and renders the answers with the landmarks of Coder's real UI: the list
// pages' tables have an MUI table body (`tbody.MuiTableBody-root`); when a call failed, an error alert
// ([role=alert]) names it, as Coder's ErrorAlert shows it. No marker of our own: the runner must judge these pages
// as it judges a real Coder's.
import type { PreHandler } from "../core.ts";
import type { Ctx } from "../http/context.ts";

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
    name: "template",
    title: "Template",
    match: (p) => {
      // /templates/<org>/<name>, or /templates/<name> in the default organization.
      const m = /^\/templates\/(?:([^/]+)\/)?([^/]+)$/.exec(p);
      return m?.[2] ? { organization: decodeURIComponent(m[1] ?? "default"), template: decodeURIComponent(m[2]) } : undefined;
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
function table(headers, rows) {
  return "<table><thead><tr>" + headers.map((h) => "<th>" + esc(h) + "</th>").join("") + '</tr></thead><tbody class="MuiTableBody-root">' +
    rows.map((r) => "<tr>" + r.map((c) => "<td>" + c + "</td>").join("") + "</tr>").join("") + "</tbody></table>";
}
const PAGES = {
  async workspaces() {
    const [list, templates] = await all([api("/workspaces", { q: "owner:me", limit: 25, offset: 0 }), api("/templates")]);
    const ws = list.workspaces || [];
    return "<h1>Workspaces</h1><p>" + list.count + " workspace(s), " + templates.length + " template(s)</p>" +
      table(["Name", "Template", "Status"], ws.map((w) => [
        '<a href="/@' + enc(w.owner_name) + "/" + enc(w.name) + '">' + esc(w.name) + "</a>", esc(w.template_name), esc(w.latest_build.status)]));
  },
  async workspace() {
    const w = await api("/users/" + enc(PARAMS.owner) + "/workspace/" + enc(PARAMS.workspace), { include_deleted: true });
    // As the frontend: the template, and its active version only when the workspace is outdated.
    const [template, active] = await all([
      api("/templates/" + enc(w.template_id)),
      w.outdated ? api("/templateversions/" + enc(w.template_active_version_id)) : Promise.resolve(null),
    ]);
    return "<h1>" + esc(w.owner_name) + "/" + esc(w.name) + "</h1><p>Template " + esc(template.name) +
      (active ? ", update available: " + esc(active.name) : "") + "</p><p>Build #" + esc(w.latest_build.build_number) + " " + esc(w.latest_build.status) + "</p>";
  },
  async templates() {
    const [templates, orgs] = await all([api("/templates"), api("/organizations")]);
    return "<h1>Templates</h1><p>" + orgs.length + " organization(s)</p>" +
      table(["Name", "Active version"], templates.map((t) => ['<a href="/templates/' + enc(t.name) + '">' + esc(t.name) + "</a>", esc(t.active_version_id)]));
  },
  async template() {
    const t = await api("/organizations/" + enc(PARAMS.organization) + "/templates/" + enc(PARAMS.template));
    const v = await api("/templateversions/" + enc(t.active_version_id));
    return "<h1>" + esc(t.display_name || t.name) + "</h1><p>Active version " + esc(v.name) + "</p>";
  },
  async users() {
    const [users, methods] = await all([api("/users", { limit: 25, offset: 0 }), api("/users/authmethods")]);
    return "<h1>Users</h1><p>" + users.count + " user(s); password login " + (methods.password && methods.password.enabled ? "on" : "off") + "</p>" +
      table(["Username", "Email", "Status"], (users.users || []).map((u) => [esc(u.username), esc(u.email), esc(u.status)]));
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
(async () => {
  try {
    main.innerHTML = await PAGES[PAGE]();
  } catch (e) {
    main.innerHTML = '<div role="alert" class="error"></div>';
    main.firstChild.textContent = String(e && e.message ? e.message : e);
  }
})();
`;

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

function html(route: PageRoute, params: Record<string, string>): string {
  const nav = [
    ["/workspaces", "Workspaces"],
    ["/templates", "Templates"],
    ["/users", "Users"],
    ["/deployment/general", "Deployment"],
    ["/health", "Health"],
    ["/audit", "Audit"],
  ]
    .map(([href, label]) => `<a href="${href}">${label}</a>`)
    .join(" ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(route.title)} - Coder (simulated)</title>
<style>body{font:14px sans-serif;margin:0}nav{background:#222;padding:8px}nav a{color:#eee;margin-right:12px}
main{padding:16px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}
.error{background:#fdd;border:1px solid #c00;color:#900;padding:12px}</style></head>
<body data-page="${route.name}" data-params="${escapeHtml(JSON.stringify(params))}">
<nav>${nav}</nav><main id="main" data-testid="page-${route.name}"><p>Loading...</p></main>
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

/** The pre-handler serving the pages (GET/HEAD of non-API paths only; everything else falls through). */
export const dashboardPages: PreHandler = (ctx) => {
  if (ctx.method !== "GET" && ctx.method !== "HEAD") return false;
  const path = ctx.path;
  if (path.startsWith("/api/")) return false;
  if (path === "/") {
    // Coder's dashboard sends "/" to the workspaces list.
    send(ctx, 307, "", { Location: "/workspaces" });
    return true;
  }
  for (const r of ROUTES) {
    const params = r.match(path);
    if (params) {
      send(ctx, 200, html(r, params));
      return true;
    }
  }
  return false;
};

/** Page names served (same names as the runner's page table). */
export const SIM_DASHBOARD_PAGES: readonly string[] = ROUTES.map((r) => r.name);
