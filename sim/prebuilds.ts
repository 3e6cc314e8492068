// Template upload and workspace prebuilds, as coderd (and enterprise/coderd/prebuilds) does them:
//  - POST /files takes a tar; POST /organizations/{org}/templateversions imports it through the provisioner
//    queue, reading from its main.tf the `coder_workspace_preset` blocks (with `prebuilds { instances }`), a
//    `coder_external_agent` and `coder_app` slugs; templates are created from, and switched to, versions;
//  - a reconciler runs every reconcileIntervalMs unless reconciliation is paused (PUT /prebuilds/settings):
//    per preset of each template's ACTIVE version it keeps `instances` prebuilt workspaces, owned by the
//    prebuilds system user, creating them with start builds; prebuilt workspaces of presets no longer active
//    are deleted (failed deletions are tried again on a later pass);
//  - without the Premium licence (option premium: false) the prebuilds endpoints answer 403, as coderd's
//    feature middleware does.
import { createHash } from "node:crypto";
import type { SimCore } from "./core.ts";
import type { Engine } from "./engine.ts";
import { HttpError, notFound, type Ctx } from "./http/context.ts";
import type { RouteDeps } from "./routes/common.ts";
import { requireOwner } from "./routes/common.ts";
import { jobStatus, type SimJob, type SimPreset, type SimTemplate, type SimTemplateVersion, type SimUser, type SimWorkspace } from "./state.ts";

/** Coder's prebuilds system user (database.PrebuildsSystemUserID). */
export const PREBUILDS_USER_ID = "c42fdf75-3097-471c-8c33-fb52454d81c0";
const MAX_FILE_BYTES = 10 * 1024 * 1024;
const NOT_LICENSED = "Workspace Prebuilds is a Premium feature. Contact sales!";

/** Files of a ustar archive (regular files only), by name. */
export function untar(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString("utf8").replace(/\0.*$/s, "");
    const size = parseInt(h.subarray(124, 136).toString("ascii").replace(/\0.*$/s, "").trim() || "0", 8);
    const type = String.fromCharCode(h[156] ?? 0);
    if (!Number.isFinite(size) || size < 0) throw new Error("bad tar header");
    off += 512;
    if (type === "0" || type === "\0") out.set(name.replace(/^\.\//, ""), buf.subarray(off, off + size).toString("utf8"));
    off += Math.ceil(size / 512) * 512;
  }
  return out;
}

/** What a main.tf declares that the simulator acts on. */
export function parseMainTf(tf: string): { presets: { name: string; instances: number }[]; externalAgent: boolean; apps: string[] } {
  const presets: { name: string; instances: number }[] = [];
  for (const m of tf.matchAll(/data\s+"coder_workspace_preset"\s+"[^"]+"\s*\{([\s\S]*?)\n\}/g)) {
    const body = m[1] ?? "";
    const count = /\bcount\s*=\s*(\d+)/.exec(body);
    const instances = Number(/instances\s*=\s*(\d+)/.exec(body)?.[1] ?? "0");
    const name = /\bname\s*=\s*"([^"]*)"/.exec(body)?.[1] ?? "preset";
    const n = count ? Number(count[1]) : 1;
    for (let i = 0; i < n; i++) presets.push({ name: name.replace("${count.index + 1}", String(i + 1)).replace("${count.index}", String(i)), instances });
  }
  const apps = [...tf.matchAll(/resource\s+"coder_app"\s+"[^"]+"\s*\{[\s\S]*?\bslug\s*=\s*"([^"]+)"/g)].map((m) => m[1]!);
  return { presets, externalAgent: /resource\s+"coder_external_agent"/.test(tf), apps };
}

export interface PrebuildsOptions {
  premium: boolean;
  reconcileIntervalMs: number;
}

export class Prebuilds {
  /** Reconciliation passes run (not counting paused ticks). */
  passes = 0;
  /** Prebuilt workspaces created / delete builds issued by the reconciler. */
  readonly counts = { created: 0, deleteBuilds: 0 };
  private timer: NodeJS.Timeout | undefined;
  private readonly presetsById = new Map<string, SimPreset>();

  constructor(
    private readonly core: SimCore,
    private readonly engine: Engine,
    readonly opts: PrebuildsOptions,
  ) {
    const now = core.now();
    const org = core.state.defaultOrgId;
    const user: SimUser = {
      id: PREBUILDS_USER_ID, username: "prebuilds", email: "prebuilds@system", name: "Prebuilds", createdAt: now, updatedAt: now,
      lastSeenAt: now, status: "active", loginType: "none", password: "", roles: [], orgIds: org ? [org] : [], deleted: false,
      preexisting: false, system: true,
    };
    core.state.users.set(user.id, user);
    this.schedule();
  }

  private schedule(): void {
    this.timer = this.core.later(this.opts.reconcileIntervalMs, () => {
      try {
        if (!this.core.state.prebuildsPaused) this.reconcile();
      } finally {
        this.schedule();
      }
    });
  }

  stop(): void {
    this.core.cancel(this.timer);
  }

  preset(id: string): SimPreset | undefined {
    return this.presetsById.get(id);
  }

  registerPresets(v: SimTemplateVersion): void {
    for (const p of v.presets ?? []) this.presetsById.set(p.id, p);
  }

  /** One pass: fill every active preset to its instances, drain prebuilds of inactive presets. */
  reconcile(): void {
    const { state } = this.core;
    this.passes++;
    const prebuilt = state.liveWorkspaces().filter((w) => w.ownerId === PREBUILDS_USER_ID && w.prebuildPresetId !== undefined);
    for (const tpl of state.templates.values()) {
      if (tpl.deleted) continue;
      const active = state.templateVersions.get(tpl.activeVersionId);
      const activePresets = new Set((active?.presets ?? []).map((p) => p.id));
      const mine = prebuilt.filter((w) => w.templateId === tpl.id);
      for (const p of active?.presets ?? []) {
        const live = mine.filter((w) => w.prebuildPresetId === p.id && this.counts_as_live(w));
        for (let i = live.length; i < p.instances; i++) this.createPrebuild(tpl, active!, p);
        for (const extra of live.slice(p.instances)) this.deletePrebuild(extra);
      }
      for (const w of mine) if (!activePresets.has(w.prebuildPresetId!)) this.deletePrebuild(w);
    }
  }

  /** A prebuild that is, or is becoming, usable: its latest build is a start that has not failed. */
  private counts_as_live(w: SimWorkspace): boolean {
    const b = this.core.state.latestBuild(w);
    const st = jobStatus(this.core.state.job(b.jobId));
    return b.transition === "start" && (st === "pending" || st === "running" || st === "succeeded");
  }

  private createPrebuild(tpl: SimTemplate, version: SimTemplateVersion, p: SimPreset): void {
    const now = this.core.now();
    const ws: SimWorkspace = {
      id: this.core.rng.uuid(), ownerId: PREBUILDS_USER_ID, orgId: tpl.orgId, templateId: tpl.id,
      name: `prebuild-${this.core.rng.alnum(8).toLowerCase()}`, createdAt: now, updatedAt: now, lastUsedAt: now, deleted: false,
      automaticUpdates: "never", buildIds: [], preexisting: false, prebuildPresetId: p.id,
    };
    this.core.state.workspaces.set(ws.id, ws);
    this.engine.createBuild(ws, "start", PREBUILDS_USER_ID, version.id, []);
    this.counts.created++;
  }

  /** Deletes a prebuild once its latest job is done (a failed delete is tried again on a later pass). */
  private deletePrebuild(w: SimWorkspace): void {
    const b = this.core.state.latestBuild(w);
    const job = this.core.state.job(b.jobId);
    if (job.completedAt === undefined) return;
    if (b.transition === "delete" && jobStatus(job) === "succeeded") return;
    this.engine.createBuild(w, "delete", PREBUILDS_USER_ID, b.templateVersionId, b.params);
    this.counts.deleteBuilds++;
  }
}

export function installPrebuilds({ core, engine, convert }: RouteDeps, opts: PrebuildsOptions): Prebuilds {
  const { state } = core;
  const r = core.router;
  const prebuilds = new Prebuilds(core, engine, opts);
  core.onClose(() => prebuilds.stop());

  const orgParam = (ctx: Ctx) => {
    const org = state.findOrg(ctx.param("organization"));
    if (!org) throw notFound();
    return org;
  };
  const licensed = (): void => {
    if (!opts.premium) throw new HttpError(403, NOT_LICENSED);
  };

  // ---- files ---------------------------------------------------------------------------------
  r.add("POST", "/api/v2/files", async (ctx) => {
    const type = (ctx.req.headers["content-type"] ?? "").split(";")[0]!.trim();
    if (type !== "application/x-tar" && type !== "application/zip") {
      throw new HttpError(400, `Unsupported content type header "${type}".`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of ctx.req) {
      size += (c as Buffer).length;
      if (size > MAX_FILE_BYTES) throw new HttpError(400, "File too large.");
      chunks.push(c as Buffer);
    }
    const data = Buffer.concat(chunks);
    const hash = createHash("sha256").update(data).digest("hex");
    for (const f of state.files.values()) {
      if (f.hash === hash && f.createdById === ctx.me.user.id) return ctx.json(200, { hash: f.id });
    }
    const id = core.rng.uuid();
    state.files.set(id, { id, hash, createdById: ctx.me.user.id, createdAt: core.now(), mimetype: type, data });
    ctx.json(201, { hash: id });
  });

  // ---- template versions ---------------------------------------------------------------------
  r.add("POST", "/api/v2/organizations/{organization}/templateversions", async (ctx) => {
    const org = orgParam(ctx);
    requireOwner(ctx.me);
    const body = await ctx.body();
    const fileId = typeof body["file_id"] === "string" ? body["file_id"] : "";
    const file = state.files.get(fileId);
    if (!file) throw new HttpError(404, `File "${fileId}" not found.`);
    if (body["storage_method"] !== "file") throw new HttpError(400, "Validation failed.", undefined, [{ field: "storage_method", detail: "must be file" }]);
    if (body["provisioner"] !== "terraform" && body["provisioner"] !== "echo") {
      throw new HttpError(400, "Validation failed.", undefined, [{ field: "provisioner", detail: "must be terraform" }]);
    }
    const templateId = typeof body["template_id"] === "string" && body["template_id"] !== "00000000-0000-0000-0000-000000000000" ? body["template_id"] : "";
    if (templateId && !state.templates.get(templateId)) throw new HttpError(404, "Template not found.");
    let declared: ReturnType<typeof parseMainTf>;
    try {
      declared = parseMainTf(untar(file.data).get("main.tf") ?? "");
    } catch (e) {
      throw new HttpError(400, "Invalid template archive.", (e as Error).message);
    }
    const now = core.now();
    const version: SimTemplateVersion = {
      id: core.rng.uuid(), templateId, orgId: org.id, name: typeof body["name"] === "string" && body["name"] ? body["name"] : `v-${core.rng.alnum(8).toLowerCase()}`,
      message: typeof body["message"] === "string" ? body["message"] : "", readme: "", createdAt: now, updatedAt: now,
      createdById: ctx.me.user.id, params: [], jobId: core.rng.uuid(),
      presets: declared.presets.map((p) => ({ id: core.rng.uuid(), name: p.name, instances: p.instances })),
      declares: { externalAgent: declared.externalAgent, apps: declared.apps },
    };
    const job: SimJob = {
      id: version.jobId, type: "template_version_import", orgId: org.id, initiatorId: ctx.me.user.id, fileId,
      createdAt: now, updatedAt: now, templateVersionId: version.id, durationMs: 50 + core.rng.next() * 100, logs: [],
      faults: { fail: false, stuck: false, agentNeverConnects: false },
    };
    state.templateVersions.set(version.id, version);
    state.jobs.set(job.id, job);
    prebuilds.registerPresets(version);
    engine.enqueueImport(job);
    ctx.json(201, convert.templateVersion(version));
  });

  r.add("GET", "/api/v2/templateversions/{templateversion}/presets", (ctx) => {
    const v = state.templateVersions.get(ctx.param("templateversion"));
    if (!v) throw notFound();
    // codersdk.Preset's JSON names (swagger: id, name, parameters, default, desiredPrebuildInstances, ...).
    ctx.json(200, (v.presets ?? []).map((p) => ({ id: p.id, name: p.name, parameters: [], default: false, desiredPrebuildInstances: p.instances, description: "", icon: "" })));
  });

  // ---- templates -----------------------------------------------------------------------------
  r.add("POST", "/api/v2/organizations/{organization}/templates", async (ctx) => {
    const org = orgParam(ctx);
    requireOwner(ctx.me);
    const body = await ctx.body();
    const name = typeof body["name"] === "string" ? body["name"] : "";
    const versionId = typeof body["template_version_id"] === "string" ? body["template_version_id"] : "";
    if (!/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$/.test(name)) {
      throw new HttpError(400, "Validation failed.", undefined, [{ field: "name", detail: `Validation failed for tag "template_name" with value: "${name}"` }]);
    }
    const version = state.templateVersions.get(versionId);
    if (!version) throw new HttpError(404, `Template version "${versionId}" not found.`);
    if (version.templateId) throw new HttpError(409, `Template version "${versionId}" is already part of a template.`);
    if (jobStatus(state.job(version.jobId)) !== "succeeded") throw new HttpError(400, "Template version import job has not completed.");
    for (const t of state.templates.values()) {
      if (!t.deleted && t.orgId === org.id && t.name.toLowerCase() === name.toLowerCase()) {
        throw new HttpError(409, `Template with name "${name}" already exists.`, undefined, [{ field: "name", detail: "This value is already in use and should be unique." }]);
      }
    }
    const now = core.now();
    const tpl: SimTemplate = {
      id: core.rng.uuid(), orgId: org.id, name, displayName: typeof body["display_name"] === "string" ? body["display_name"] : "",
      description: typeof body["description"] === "string" ? body["description"] : "", icon: "", activeVersionId: version.id,
      createdAt: now, updatedAt: now, createdById: ctx.me.user.id, defaultTtlMs: 0, agentName: "main", apps: [], deprecated: "",
      uploaded: true, externalAgent: version.declares?.externalAgent ?? false,
    };
    version.templateId = tpl.id;
    state.templates.set(tpl.id, tpl);
    // coderd writes 201 Created (codersdk.CreateTemplate requires it); swagger annotates 200.
    ctx.json(201, convert.template(tpl));
  });

  r.add("PATCH", "/api/v2/templates/{template}/versions", async (ctx) => {
    const tpl = state.templates.get(ctx.param("template"));
    if (!tpl || tpl.deleted) throw notFound();
    requireOwner(ctx.me);
    const body = await ctx.body();
    const v = state.templateVersions.get(typeof body["id"] === "string" ? body["id"] : "");
    if (!v) throw new HttpError(404, "Template version not found.");
    if (v.templateId !== tpl.id) throw new HttpError(400, "The provided template version doesn't belong to the specified template.");
    if (jobStatus(state.job(v.jobId)) !== "succeeded") throw new HttpError(400, "Only versions that have been built successfully can be promoted.");
    tpl.activeVersionId = v.id;
    tpl.updatedAt = core.now();
    ctx.json(200, { message: "Updated the active template version!" });
  });

  r.add("DELETE", "/api/v2/templates/{template}", (ctx) => {
    const tpl = state.templates.get(ctx.param("template"));
    if (!tpl || tpl.deleted) throw notFound();
    requireOwner(ctx.me);
    if (state.liveWorkspaces().some((w) => w.templateId === tpl.id)) {
      throw new HttpError(400, "All workspaces must be deleted before a template can be removed.");
    }
    tpl.deleted = true;
    tpl.updatedAt = core.now();
    ctx.json(200, { message: "Template has been deleted!" });
  });

  // ---- prebuilds settings --------------------------------------------------------------------
  r.add("GET", "/api/v2/prebuilds/settings", (ctx) => {
    licensed();
    requireOwner(ctx.me);
    ctx.json(200, { reconciliation_paused: state.prebuildsPaused });
  });

  r.add("PUT", "/api/v2/prebuilds/settings", async (ctx) => {
    licensed();
    requireOwner(ctx.me);
    const body = await ctx.body();
    const paused = body["reconciliation_paused"];
    if (typeof paused !== "boolean") {
      throw new HttpError(400, "Validation failed.", undefined, [{ field: "reconciliation_paused", detail: "must be a boolean" }]);
    }
    if (paused === state.prebuildsPaused) {
      ctx.res.writeHead(304);
      ctx.res.end();
      return;
    }
    state.prebuildsPaused = paused;
    ctx.json(200, { reconciliation_paused: paused });
  });

  return prebuilds;
}
