// Template writes a load type needs (Coder's notifications trigger; coderd/files.go, templateversions.go,
// templates.go): upload a file (tar), create a template version from it (the echo provisioner's import
// job finishes at once), create a template from that version, delete a template. Deleting a template
// notifies every owner and template admin but the initiator (TemplateTemplateDeleted), through the
// notifier's queue.
import { createHash } from "node:crypto";
import { isOwner } from "../auth.ts";
import { forbidden, HttpError, notFound, type Ctx } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { renderTemplateDeleted, TEMPLATE_TEMPLATE_DELETED } from "../notifications/messages.ts";
import type { Notifier } from "../notifications/notifier.ts";
import type { SimOrg, SimTemplate, SimTemplateVersion } from "../state.ts";
import type { RouteDeps } from "./common.ts";
import { nameError } from "./users.ts";

/** coderd's httpapi limit on uploads (10 MiB). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;
const FILE_TYPES = new Set(["application/x-tar", "application/zip"]);

interface SimFile {
  id: string;
  hash: string;
  mimetype: string;
  createdBy: string;
  createdAt: number;
  size: number;
}

const canAdminTemplates = (ctx: Ctx): boolean => isOwner(ctx.me) || ctx.me.user.roles.includes("template-admin");

export function registerTemplateWriteRoutes(r: Router, { core, convert }: RouteDeps, notifier: Notifier): void {
  const { state } = core;
  const files = new Map<string, SimFile>();

  const orgParam = (ctx: Ctx): SimOrg => {
    const org = state.findOrg(ctx.param("organization"));
    if (!org) throw notFound();
    if (!isOwner(ctx.me) && !ctx.me.user.orgIds.includes(org.id)) throw notFound();
    return org;
  };

  r.add("POST", "/api/v2/files", async (ctx) => {
    const type = (ctx.req.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (!FILE_TYPES.has(type)) throw new HttpError(400, `Unsupported content type header "${type}".`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of ctx.req) {
      size += (c as Buffer).length;
      if (size > MAX_FILE_BYTES) throw new HttpError(400, "File is too large.", `max file size is ${MAX_FILE_BYTES} bytes`);
      chunks.push(c as Buffer);
    }
    const hash = createHash("sha256").update(Buffer.concat(chunks)).digest("hex");
    // coderd answers 200 with the existing file when the same user uploads the same bytes again.
    for (const f of files.values()) {
      if (f.hash === hash && f.createdBy === ctx.me.user.id) return ctx.json(200, { hash, id: f.id });
    }
    const file: SimFile = { id: core.rng.uuid(), hash, mimetype: type, createdBy: ctx.me.user.id, createdAt: core.now(), size };
    files.set(file.id, file);
    ctx.json(201, { hash, id: file.id });
  });

  r.add("POST", "/api/v2/organizations/{organization}/templateversions", async (ctx) => {
    const org = orgParam(ctx);
    if (!canAdminTemplates(ctx)) throw forbidden();
    const body = await ctx.body();
    const storage = body["storage_method"];
    if (storage !== "file") throw new HttpError(400, "Validation failed.", undefined, [{ field: "storage_method", detail: `Validation failed for tag "oneof" with value: "${String(storage)}"` }]);
    const provisioner = body["provisioner"];
    if (provisioner !== "echo" && provisioner !== "terraform") {
      throw new HttpError(400, "Validation failed.", undefined, [{ field: "provisioner", detail: `Validation failed for tag "oneof" with value: "${String(provisioner)}"` }]);
    }
    const fileId = typeof body["file_id"] === "string" ? body["file_id"] : "";
    const file = files.get(fileId);
    if (!file) throw new HttpError(404, "File not found.");
    let templateId = "";
    if (typeof body["template_id"] === "string" && body["template_id"]) {
      const t = state.templates.get(body["template_id"]);
      if (!t || t.orgId !== org.id) throw new HttpError(404, "Template does not exist.");
      templateId = t.id;
    }
    const now = core.now();
    const version: SimTemplateVersion = {
      id: core.rng.uuid(), templateId, orgId: org.id,
      name: typeof body["name"] === "string" && body["name"] ? body["name"] : `v-${core.rng.alnum(8).toLowerCase()}`,
      message: typeof body["message"] === "string" ? body["message"] : "",
      readme: "", createdAt: now, updatedAt: now, createdById: ctx.me.user.id, params: [], jobId: core.rng.uuid(),
    };
    state.templateVersions.set(version.id, version);
    // The echo provisioner's import of an empty archive: done at once, no daemon needed.
    state.jobs.set(version.jobId, {
      id: version.jobId, type: "template_version_import", orgId: org.id, initiatorId: ctx.me.user.id, fileId: file.id,
      createdAt: now, updatedAt: now, startedAt: now, completedAt: now, templateVersionId: version.id, durationMs: 0, logs: [],
      faults: { fail: false, stuck: false, agentNeverConnects: false },
    });
    ctx.json(201, convert.templateVersion(version));
  });

  r.add("POST", "/api/v2/organizations/{organization}/templates", async (ctx) => {
    const org = orgParam(ctx);
    if (!canAdminTemplates(ctx)) throw forbidden();
    const body = await ctx.body();
    const name = typeof body["name"] === "string" ? body["name"] : "";
    if (nameError(name)) throw new HttpError(400, "Validation failed.", undefined, [{ field: "name", detail: `Validation failed for tag "template_name" with value: "${name}"` }]);
    for (const t of state.templates.values()) {
      if (t.orgId === org.id && t.name === name) {
        throw new HttpError(409, `Template with name "${name}" already exists.`, undefined, [{ field: "name", detail: "This value is already in use and should be unique." }]);
      }
    }
    const versionId = typeof body["template_version_id"] === "string" ? body["template_version_id"] : "";
    const version = state.templateVersions.get(versionId);
    if (!version) {
      throw new HttpError(404, `Template version "${versionId}" does not exist.`, undefined, [{ field: "template_version_id", detail: "Template version does not exist" }]);
    }
    if (version.templateId) {
      throw new HttpError(400, `Template version ${versionId} is already part of a template`, undefined, [{ field: "template_version_id", detail: "Template version is already part of a template" }]);
    }
    const now = core.now();
    const tpl: SimTemplate = {
      id: core.rng.uuid(), orgId: org.id, name,
      displayName: typeof body["display_name"] === "string" ? body["display_name"] : "",
      description: typeof body["description"] === "string" ? body["description"] : "",
      icon: typeof body["icon"] === "string" ? body["icon"] : "",
      activeVersionId: version.id, createdAt: now, updatedAt: now, createdById: ctx.me.user.id,
      defaultTtlMs: typeof body["default_ttl_ms"] === "number" ? body["default_ttl_ms"] : 0,
      agentName: "main", apps: [], deprecated: "",
    };
    state.templates.set(tpl.id, tpl);
    version.templateId = tpl.id;
    version.updatedAt = now;
    // coderd answers 201 (its swagger annotation says 200).
    ctx.json(201, convert.template(tpl));
  });

  r.add("DELETE", "/api/v2/templates/{template}", (ctx) => {
    const tpl = state.templates.get(ctx.param("template"));
    if (!tpl) throw notFound();
    if (!canAdminTemplates(ctx)) throw forbidden();
    if (state.liveWorkspaces().some((w) => w.templateId === tpl.id)) {
      throw new HttpError(400, "All workspaces must be deleted before a template can be removed.");
    }
    state.templates.delete(tpl.id);
    const rendered = renderTemplateDeleted({ name: tpl.displayName || tpl.name, initiator: ctx.me.user.username }, core.url);
    for (const u of state.liveUsers()) {
      if (u.id === ctx.me.user.id) continue;
      if (!u.roles.includes("owner") && !u.roles.includes("template-admin")) continue;
      notifier.enqueue(u.id, TEMPLATE_TEMPLATE_DELETED, rendered, [tpl.id, tpl.orgId]);
    }
    ctx.json(200, { message: "Template has been deleted!" });
  });
}
