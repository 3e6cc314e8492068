// Template writes, the one implementation every load type shares (coderd/files.go, templateversions.go,
// templates.go):
//  - POST /files takes a tar or zip (up to 10 MiB): 201 {"hash": id} for new content, 200 with the existing
//    file's id when the same user uploads the same bytes again;
//  - POST /organizations/{org}/templateversions: 201 with a pending import job that a provisioner daemon
//    runs (the engine's queue), taking `importMs` and failing while `importFails` is set (a terraform
//    archive without main.tf fails too). What the archive declares is stored on the version (presets,
//    external agent, apps) and handed to the listeners (dynamic-parameters reads its parameters);
//  - POST /organizations/{org}/templates: 201 (swagger says 200) from a version not yet part of a template;
//  - PATCH /templates/{id}/versions: promote a version whose import succeeded;
//  - DELETE /templates/{id}: refused while workspaces use it; otherwise every owner and template admin but
//    the initiator is notified (TemplateTemplateDeleted) through the notifier's queue.
// Listeners (on()) let the prebuilds reconciler and the dynamic-parameters websocket keep their own views.
import { createHash } from "node:crypto";
import { isOwner } from "../auth.ts";
import { forbidden, HttpError, notFound, type Ctx } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { renderTemplateDeleted, TEMPLATE_TEMPLATE_DELETED } from "../notifications/messages.ts";
import type { Notifier } from "../notifications/notifier.ts";
import { jobStatus, type SimJob, type SimOrg, type SimTemplate, type SimTemplateVersion } from "../state.ts";
import type { RouteDeps } from "./common.ts";
import { archiveFiles, parseMainTf } from "./template-archive.ts";
import { nameError } from "./users.ts";

/** coderd's httpapi limit on uploads (10 MiB). */
const MAX_FILE_BYTES = 10 * 1024 * 1024;
const FILE_TYPES = new Set(["application/x-tar", "application/zip"]);
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/** What listeners hear about; every callback is optional. */
export interface TemplateWriteListener {
  uploaded?(fileId: string): void;
  /** A version was created from an uploaded archive (its files, by path). */
  versionCreated?(version: SimTemplateVersion, files: Map<string, Buffer>): void;
  templateCreated?(template: SimTemplate): void;
  templateDeleted?(template: SimTemplate): void;
}

export class TemplateWrites {
  /** How long a version's import job runs once a daemon picks it up (ms). */
  importMs = 100;
  /** Import jobs fail (error "terraform init failed") while set. */
  importFails = false;
  readonly counts = { uploads: 0, versions: 0, templates: 0, deletes: 0, activeVersionChanges: 0 };
  private readonly listeners: TemplateWriteListener[] = [];

  on(listener: TemplateWriteListener): void {
    this.listeners.push(listener);
  }

  emit<K extends keyof TemplateWriteListener>(event: K, ...args: Parameters<NonNullable<TemplateWriteListener[K]>>): void {
    for (const l of this.listeners) (l[event] as ((...a: typeof args) => void) | undefined)?.apply(l, args);
  }
}

const canAdminTemplates = (ctx: Ctx): boolean => isOwner(ctx.me) || ctx.me.user.roles.includes("template-admin");

const str = (v: unknown): string => (typeof v === "string" ? v : "");

export function registerTemplateWriteRoutes(r: Router, { core, engine, convert }: RouteDeps, notifier: Notifier): TemplateWrites {
  const { state } = core;
  const writes = new TemplateWrites();

  const orgParam = (ctx: Ctx): SimOrg => {
    const org = state.findOrg(ctx.param("organization"));
    if (!org) throw notFound();
    if (!isOwner(ctx.me) && !ctx.me.user.orgIds.includes(org.id)) throw notFound();
    return org;
  };
  const templateParam = (ctx: Ctx): SimTemplate => {
    const tpl = state.templates.get(ctx.param("template"));
    if (!tpl || tpl.deleted) throw notFound();
    if (!isOwner(ctx.me) && !ctx.me.user.orgIds.includes(tpl.orgId)) throw notFound();
    return tpl;
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
    const data = Buffer.concat(chunks);
    const hash = createHash("sha256").update(data).digest("hex");
    // codersdk.UploadResponse carries the file's id in its "hash" field.
    for (const f of state.files.values()) {
      if (f.hash === hash && f.createdById === ctx.me.user.id) return ctx.json(200, { hash: f.id });
    }
    const id = core.rng.uuid();
    state.files.set(id, { id, hash, createdById: ctx.me.user.id, createdAt: core.now(), mimetype: type, data });
    writes.counts.uploads++;
    writes.emit("uploaded", id);
    ctx.json(201, { hash: id });
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
    const file = state.files.get(str(body["file_id"]));
    if (!file) throw new HttpError(404, "File not found.");
    let templateId = "";
    const wanted = str(body["template_id"]);
    if (wanted && wanted !== NIL_UUID) {
      const t = state.templates.get(wanted);
      if (!t || t.deleted || t.orgId !== org.id) throw new HttpError(404, "Template does not exist.");
      templateId = t.id;
    }
    const files = file.mimetype === "application/x-tar" ? archiveFiles(file.data) : new Map<string, Buffer>();
    const mainTf = files.get("main.tf");
    const declared = parseMainTf(mainTf?.toString("utf8") ?? "");
    const now = core.now();
    const version: SimTemplateVersion = {
      id: core.rng.uuid(), templateId, orgId: org.id,
      name: str(body["name"]) || `v-${core.rng.alnum(8).toLowerCase()}`,
      message: str(body["message"]), readme: "", createdAt: now, updatedAt: now, createdById: ctx.me.user.id, params: [],
      jobId: core.rng.uuid(),
      presets: declared.presets.map((p) => ({ id: core.rng.uuid(), name: p.name, instances: p.instances })),
      declares: { externalAgent: declared.externalAgent, apps: declared.apps },
    };
    // The echo provisioner needs no main.tf; terraform's import of an archive without one fails.
    const failError = writes.importFails ? "terraform init failed" : provisioner === "terraform" && !mainTf ? "the archive holds no main.tf" : undefined;
    const job: SimJob = {
      id: version.jobId, type: "template_version_import", orgId: org.id, initiatorId: ctx.me.user.id, fileId: file.id,
      createdAt: now, updatedAt: now, templateVersionId: version.id, durationMs: writes.importMs, logs: [],
      faults: { fail: failError !== undefined, stuck: false, agentNeverConnects: false, ...(failError ? { failError } : {}) },
    };
    state.templateVersions.set(version.id, version);
    state.jobs.set(job.id, job);
    writes.counts.versions++;
    writes.emit("versionCreated", version, files);
    // The answer shows the job as created (pending), as coderd's does: a daemon acquires it afterwards.
    const created = convert.templateVersion(version);
    engine.enqueueImport(job);
    ctx.json(201, created);
  });

  r.add("POST", "/api/v2/organizations/{organization}/templates", async (ctx) => {
    const org = orgParam(ctx);
    if (!canAdminTemplates(ctx)) throw forbidden();
    const body = await ctx.body();
    const name = str(body["name"]);
    if (nameError(name)) throw new HttpError(400, "Validation failed.", undefined, [{ field: "name", detail: `Validation failed for tag "template_name" with value: "${name}"` }]);
    for (const t of state.templates.values()) {
      if (!t.deleted && t.orgId === org.id && t.name.toLowerCase() === name.toLowerCase()) {
        throw new HttpError(409, `Template with name "${name}" already exists.`, undefined, [{ field: "name", detail: "This value is already in use and should be unique." }]);
      }
    }
    const versionId = str(body["template_version_id"]);
    const version = state.templateVersions.get(versionId);
    if (!version) {
      throw new HttpError(404, `Template version "${versionId}" does not exist.`, undefined, [{ field: "template_version_id", detail: "Template version does not exist" }]);
    }
    if (version.templateId) {
      throw new HttpError(400, `Template version ${versionId} is already part of a template`, undefined, [{ field: "template_version_id", detail: "Template version is already part of a template" }]);
    }
    const now = core.now();
    const tpl: SimTemplate = {
      id: core.rng.uuid(), orgId: org.id, name, displayName: str(body["display_name"]), description: str(body["description"]),
      icon: str(body["icon"]), activeVersionId: version.id, createdAt: now, updatedAt: now, createdById: ctx.me.user.id,
      defaultTtlMs: typeof body["default_ttl_ms"] === "number" ? body["default_ttl_ms"] : 0,
      agentName: "main", apps: [], deprecated: "",
      // Its workspaces get what its main.tf declares (engine.declaredResources).
      uploaded: true, externalAgent: version.declares?.externalAgent ?? false,
    };
    state.templates.set(tpl.id, tpl);
    version.templateId = tpl.id;
    version.updatedAt = now;
    writes.counts.templates++;
    writes.emit("templateCreated", tpl);
    // coderd answers 201 (its swagger annotation says 200).
    ctx.json(201, convert.template(tpl));
  });

  r.add("PATCH", "/api/v2/templates/{template}/versions", async (ctx) => {
    const tpl = templateParam(ctx);
    if (!canAdminTemplates(ctx)) throw forbidden();
    const body = await ctx.body();
    const v = state.templateVersions.get(str(body["id"]));
    if (!v) throw new HttpError(404, "Template version not found.");
    if (v.templateId !== tpl.id) throw new HttpError(400, "The provided template version doesn't belong to the specified template.");
    if (jobStatus(state.job(v.jobId)) !== "succeeded") throw new HttpError(400, "Only versions that have been built successfully can be promoted.");
    tpl.activeVersionId = v.id;
    tpl.updatedAt = core.now();
    writes.counts.activeVersionChanges++;
    ctx.json(200, { message: "Updated the active template version!" });
  });

  r.add("DELETE", "/api/v2/templates/{template}", (ctx) => {
    const tpl = templateParam(ctx);
    if (!canAdminTemplates(ctx)) throw forbidden();
    if (state.liveWorkspaces().some((w) => w.templateId === tpl.id)) {
      throw new HttpError(400, "All workspaces must be deleted before a template can be removed.");
    }
    // Gone from the state: GET answers 404 and the name is free again.
    state.templates.delete(tpl.id);
    writes.counts.deletes++;
    writes.emit("templateDeleted", tpl);
    const rendered = renderTemplateDeleted({ name: tpl.displayName || tpl.name, initiator: ctx.me.user.username }, core.url);
    for (const u of state.liveUsers()) {
      if (u.id === ctx.me.user.id) continue;
      if (!u.roles.includes("owner") && !u.roles.includes("template-admin")) continue;
      notifier.enqueue(u.id, TEMPLATE_TEMPLATE_DELETED, rendered, [tpl.id, tpl.orgId]);
    }
    ctx.json(200, { message: "Template has been deleted!" });
  });

  return writes;
}
