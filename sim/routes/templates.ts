// Organizations, templates and template versions (read-only: templates are seeded).
import { isOwner } from "../auth.ts";
import { HttpError, notFound, type Ctx } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { jobStatus, type SimOrg, type SimTemplate } from "../state.ts";
import type { RouteDeps } from "./common.ts";

export function registerTemplateRoutes(r: Router, { core, engine, convert }: RouteDeps): void {
  const { state } = core;

  const orgParam = (ctx: Ctx): SimOrg => {
    const org = state.findOrg(ctx.param("organization"));
    if (!org) throw notFound();
    if (!isOwner(ctx.me) && !ctx.me.user.orgIds.includes(org.id)) throw notFound();
    return org;
  };
  const templatesOf = (orgId?: string): SimTemplate[] =>
    [...state.templates.values()]
      .filter((t) => !t.deleted && (orgId === undefined || t.orgId === orgId))
      .sort((a, b) => (a.name < b.name ? -1 : 1));

  r.add("GET", "/api/v2/organizations", (ctx) => {
    const orgs = [...state.orgs.values()].filter((o) => isOwner(ctx.me) || ctx.me.user.orgIds.includes(o.id));
    ctx.json(200, orgs.map((o) => convert.org(o)));
  });

  r.add("GET", "/api/v2/organizations/{organization}", (ctx) => {
    ctx.json(200, convert.org(orgParam(ctx)));
  });

  r.add("GET", "/api/v2/templates", (ctx) => {
    ctx.json(200, templatesOf().map((t) => convert.template(t)));
  });

  r.add("GET", "/api/v2/organizations/{organization}/templates", (ctx) => {
    const org = orgParam(ctx);
    ctx.json(200, templatesOf(org.id).map((t) => convert.template(t)));
  });

  r.add("GET", "/api/v2/organizations/{organization}/templates/{templatename}", (ctx) => {
    const org = orgParam(ctx);
    const name = ctx.param("templatename");
    const t = templatesOf(org.id).find((x) => x.name === name);
    if (!t) throw notFound();
    ctx.json(200, convert.template(t));
  });

  r.add("GET", "/api/v2/templates/{template}", (ctx) => {
    const t = state.templates.get(ctx.param("template"));
    if (!t || t.deleted) throw notFound();
    ctx.json(200, convert.template(t));
  });

  r.add("GET", "/api/v2/templateversions/{templateversion}", (ctx) => {
    const v = state.templateVersions.get(ctx.param("templateversion"));
    if (!v) throw notFound();
    ctx.json(200, convert.templateVersion(v));
  });

  r.add("GET", "/api/v2/templateversions/{templateversion}/rich-parameters", (ctx) => {
    const v = state.templateVersions.get(ctx.param("templateversion"));
    if (!v) throw notFound();
    ctx.json(200, v.params.map((p) => convert.param(p)));
  });

  // ---- provisioner daemons and jobs ----------------------------------------------------------
  r.add("GET", "/api/v2/organizations/{organization}/provisionerdaemons", (ctx) => {
    const org = orgParam(ctx);
    const jobSummary = (id: string | undefined): Record<string, unknown> | undefined => {
      const job = id === undefined ? undefined : state.jobs.get(id);
      if (!job) return undefined;
      const v = state.templateVersions.get(job.templateVersionId);
      const t = v ? state.templates.get(v.templateId) : undefined;
      return { id: job.id, status: jobStatus(job), template_name: t?.name ?? "", template_display_name: t?.displayName ?? "", template_icon: t?.icon ?? "" };
    };
    const limit = Number(ctx.query.get("limit") ?? "0");
    let daemons = engine.daemons.map((d) => {
      const out: Record<string, unknown> = {
        id: d.id, organization_id: org.id, key_id: d.keyId, key_name: "built-in", name: d.name,
        created_at: core.iso(d.createdAt), last_seen_at: core.iso(d.lastSeenAt), version: core.opts.version,
        api_version: "1.7", provisioners: ["terraform"], tags: { owner: "", scope: "organization" },
        status: d.currentJobId === undefined ? "idle" : "busy",
      };
      const cur = jobSummary(d.currentJobId);
      const prev = jobSummary(d.previousJobId);
      if (cur) out["current_job"] = cur;
      if (prev) out["previous_job"] = prev;
      return out;
    });
    if (limit > 0) daemons = daemons.slice(0, limit);
    ctx.json(200, daemons);
  });

  r.add("GET", "/api/v2/organizations/{organization}/provisionerjobs", (ctx) => {
    const org = orgParam(ctx);
    const limitRaw = ctx.query.get("limit");
    const limit = limitRaw ? Number(limitRaw) : 50;
    if (!Number.isInteger(limit) || limit < 0) {
      throw new HttpError(400, "Invalid query parameters.", undefined, [{ field: "limit", detail: `Query param "limit" must be a valid integer (${limitRaw})` }]);
    }
    const statuses = (ctx.query.get("status") ?? "").split(",").filter(Boolean);
    const ids = (ctx.query.get("ids") ?? "").split(",").filter(Boolean);
    let jobs = [...state.jobs.values()].filter((j) => j.orgId === org.id);
    if (statuses.length > 0) jobs = jobs.filter((j) => statuses.includes(jobStatus(j)));
    if (ids.length > 0) jobs = jobs.filter((j) => ids.includes(j.id));
    jobs.sort((a, b) => b.createdAt - a.createdAt);
    ctx.json(200, jobs.slice(0, limit || undefined).map((j) => convert.job(j)));
  });

  r.add("GET", "/api/v2/organizations/{organization}/provisionerjobs/{job}", (ctx) => {
    const org = orgParam(ctx);
    const job = state.jobs.get(ctx.param("job"));
    if (!job || job.orgId !== org.id) throw notFound();
    ctx.json(200, convert.job(job));
  });
}
