// What coderd does for Coder's dynamic-parameters load type:
//  - POST /api/v2/files (application/x-tar or application/zip, up to 10 MiB): 201 {"hash": id}, 200 when the
//    same content was uploaded before;
//  - POST /api/v2/organizations/{org}/templateversions: 201, with an import job that finishes after
//    `importMs` (failed when `importFails`); the archive must hold a main.tf;
//  - POST /api/v2/organizations/{org}/templates: 201 (swagger says 200; coderd writes 201), from a version
//    that has no template yet; 409 for a taken name;
//  - GET /api/v2/templateversions/{id}/dynamic-parameters (websocket): 404 for an unknown version, 425
//    "Template version job has not finished" before its import completed; then text JSON frames:
//    {"id":-1,"diagnostics":[],"parameters":[...]} first, then one response per request echoing its id.
// The parameters are read from the uploaded main.tf and its modules (`data "coder_parameter"` blocks: name,
// display_name, type, form_type, mutable, order, literal default and literal options); a value that is
// not one of a parameter's options gets that parameter a diagnostic, as the real evaluation would.
// Knobs for tests: `evalDelayMs` added to every evaluation, `injectDiagnostic` for the next sessions.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, isOwner, tokenFromRequest } from "./auth.ts";
import type { SimCore } from "./core.ts";
import type { Convert } from "./convert.ts";
import { HttpError, NOT_FOUND_MESSAGE, notFound, type Ctx } from "./http/context.ts";
import type { Router } from "./http/router.ts";
import { requireOwner } from "./routes/common.ts";
import { jobStatus, type SimTemplate, type SimTemplateVersion } from "./state.ts";
import { untarFiles } from "../src/dynamic-parameters/tar.ts";

const MAX_UPLOAD = 10 << 20;

export interface SimDiagnostic {
  severity: "error" | "warning";
  summary: string;
  detail: string;
  extra?: { code: string };
}

interface ParamSpec {
  name: string;
  displayName: string;
  description: string;
  type: string;
  formType: string;
  mutable: boolean;
  order: number;
  /** Literal default, or null when it is an expression. */
  default: string | null;
  /** Literal option values (empty: free input). */
  options: string[];
}

interface Injected {
  stage: "initial" | "change";
  diagnostic: SimDiagnostic;
  remaining: number;
}

/** The parameters an archive declares (`data "coder_parameter"` blocks of every .tf file). */
export function parametersOf(files: Map<string, Buffer>): ParamSpec[] {
  const out: ParamSpec[] = [];
  for (const [path, data] of files) {
    if (!path.endsWith(".tf")) continue;
    const text = data.toString("utf8");
    const re = /data\s+"coder_parameter"\s+"([A-Za-z0-9_-]+)"\s*\{/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      // The block: up to the matching closing brace.
      let depth = 1;
      let i = re.lastIndex;
      while (i < text.length && depth > 0) {
        if (text[i] === "{") depth++;
        else if (text[i] === "}") depth--;
        i++;
      }
      const body = text.slice(re.lastIndex, i - 1);
      const top = body.replace(/\{[^{}]*\}/g, ""); // attributes outside nested blocks
      const attr = (k: string): string | null => {
        const a = new RegExp(`^\\s*${k}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*$`, "m").exec(top);
        return a ? a[1]!.replace(/\\"/g, '"') : null;
      };
      const raw = (k: string): string | null => new RegExp(`^\\s*${k}\\s*=\\s*(.+?)\\s*$`, "m").exec(top)?.[1] ?? null;
      const options: string[] = [];
      for (const o of body.matchAll(/option\s*\{([^{}]*)\}/g)) {
        const v = /value\s*=\s*"([^"$]*)"/.exec(o[1]!);
        if (v) options.push(v[1]!);
      }
      out.push({
        name: attr("name") ?? m[1]!,
        displayName: attr("display_name") ?? "",
        description: attr("description") ?? "",
        type: attr("type") ?? "string",
        formType: attr("form_type") ?? "",
        mutable: raw("mutable") === "true",
        order: Number(raw("order") ?? 0) || 0,
        default: attr("default"),
        options,
      });
    }
  }
  return out.sort((a, b) => a.order - b.order || (a.name < b.name ? -1 : 1));
}

function literal(v: string | null): { value: string; valid: boolean } {
  return v === null ? { value: "", valid: false } : { value: v, valid: true };
}

export class DynamicParametersSim {
  /** How long a version's import job takes (ms). */
  importMs = 200;
  /** Import jobs fail (error "terraform init failed") while set. */
  importFails = false;
  /** Added to every evaluation, initial and change alike (ms). */
  evalDelayMs = 0;
  readonly counts = { uploads: 0, versions: 0, templates: 0, sessions: 0, tooEarly: 0, evaluations: 0, open: 0 };
  private readonly files = new Map<string, { hash: string; data: Buffer; creator: string }>();
  private readonly injected: Injected[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024, clientTracking: false });
  private readonly sockets = new Set<WebSocket>();

  constructor(
    private readonly core: SimCore,
    private readonly convert: Convert,
    router: Router,
  ) {
    this.routes(router);
    core.addUpgradeHandler("/api/v2/templateversions/{templateversion}/dynamic-parameters", (req, socket, head, params, url) =>
      this.upgrade(req, socket, head, params, url));
    const closeAll = (): void => {
      for (const s of this.sockets) s.terminate();
      this.sockets.clear();
    };
    core.onClose(closeAll);
    core.onDropConnections(closeAll);
  }

  /** The next `count` sessions get `diagnostic` in their initial evaluation or in the change response. */
  injectDiagnostic(stage: "initial" | "change", diagnostic: Omit<SimDiagnostic, "severity"> & { severity?: SimDiagnostic["severity"] }, count = 1): void {
    this.injected.push({ stage, diagnostic: { severity: "error", ...diagnostic }, remaining: count });
  }

  /** At most one injection per session, oldest first. */
  private takeInjected(): { initial: SimDiagnostic[]; change: SimDiagnostic[] } {
    const out = { initial: [] as SimDiagnostic[], change: [] as SimDiagnostic[] };
    const inj = this.injected.find((i) => i.remaining > 0);
    if (inj) {
      inj.remaining--;
      out[inj.stage].push(inj.diagnostic);
    }
    return out;
  }

  private routes(r: Router): void {
    const { state } = this.core;
    r.add("POST", "/api/v2/files", async (ctx) => {
      const type = (ctx.req.headers["content-type"] ?? "").split(";")[0]!.trim();
      if (type !== "application/x-tar" && type !== "application/zip") {
        throw new HttpError(400, `Unsupported content type header "${type}".`);
      }
      const data = await readBody(ctx);
      const hash = createHash("sha256").update(data).digest("hex");
      for (const f of this.files.values()) {
        if (f.hash === hash && f.creator === ctx.me.user.id) return ctx.json(200, { hash: this.idOf(f) });
      }
      const id = this.core.rng.uuid();
      this.files.set(id, { hash, data, creator: ctx.me.user.id });
      this.counts.uploads++;
      ctx.json(201, { hash: id });
    });

    r.add("POST", "/api/v2/organizations/{organization}/templateversions", async (ctx) => {
      requireOwner(ctx.me);
      const org = state.findOrg(ctx.param("organization"));
      if (!org) throw notFound();
      const body = await ctx.body();
      const fileId = typeof body["file_id"] === "string" ? body["file_id"] : "";
      const file = this.files.get(fileId);
      if (!file) throw new HttpError(404, "File not found.");
      if (body["storage_method"] !== "file") throw new HttpError(400, `Unsupported storage method "${String(body["storage_method"])}".`);
      const templateId = typeof body["template_id"] === "string" ? body["template_id"] : "";
      if (templateId && !state.templates.get(templateId)) throw new HttpError(404, "Template does not exist.");
      const files = untarFiles(file.data);
      const now = this.core.now();
      const v: SimTemplateVersion = {
        id: this.core.rng.uuid(), templateId, orgId: org.id, name: `v-${this.core.rng.alnum(8).toLowerCase()}`,
        message: typeof body["message"] === "string" ? body["message"] : "", readme: "", createdAt: now, updatedAt: now,
        createdById: ctx.me.user.id, params: [], jobId: this.core.rng.uuid(),
      };
      const job = {
        id: v.jobId, type: "template_version_import" as const, orgId: org.id, initiatorId: ctx.me.user.id, fileId,
        createdAt: now, updatedAt: now, startedAt: now, templateVersionId: v.id, durationMs: this.importMs, logs: [],
        faults: { fail: false, stuck: false, agentNeverConnects: false },
      } as Parameters<typeof state.jobs.set>[1];
      state.templateVersions.set(v.id, v);
      state.jobs.set(job.id, job);
      this.parsed.set(v.id, parametersOf(files));
      const fails = this.importFails || !files.has("main.tf");
      this.core.later(this.importMs, () => {
        job.completedAt = this.core.now();
        job.updatedAt = job.completedAt;
        if (fails) job.error = files.has("main.tf") ? "terraform init failed" : "the archive holds no main.tf";
      });
      this.counts.versions++;
      const out = this.convert.templateVersion(v) as Record<string, unknown>;
      out["matched_provisioners"] = { count: 1, available: 1 };
      ctx.json(201, out);
    });

    r.add("POST", "/api/v2/organizations/{organization}/templates", async (ctx) => {
      requireOwner(ctx.me);
      const org = state.findOrg(ctx.param("organization"));
      if (!org) throw notFound();
      const body = await ctx.body();
      const name = typeof body["name"] === "string" ? body["name"] : "";
      if (!/^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/.test(name) || name.length > 32) {
        throw new HttpError(400, "Validation failed.", undefined, [{ field: "name", detail: `Validation failed for tag "template_name" with value: "${name}"` }]);
      }
      for (const t of state.templates.values()) {
        if (t.orgId === org.id && t.name === name) {
          throw new HttpError(409, `Template with name "${name}" already exists.`, undefined, [{ field: "name", detail: "This value is already in use and should be unique." }]);
        }
      }
      const v = state.templateVersions.get(typeof body["template_version_id"] === "string" ? body["template_version_id"] : "");
      if (!v) throw new HttpError(404, "Template version does not exist.");
      if (v.templateId) throw new HttpError(409, "Template version is already associated with a template.");
      const now = this.core.now();
      const t: SimTemplate = {
        id: this.core.rng.uuid(), orgId: org.id, name, displayName: typeof body["display_name"] === "string" ? body["display_name"] : "",
        description: typeof body["description"] === "string" ? body["description"] : "", icon: "", activeVersionId: v.id,
        createdAt: now, updatedAt: now, createdById: ctx.me.user.id, defaultTtlMs: 0, agentName: "main", apps: [], deprecated: "",
      };
      v.templateId = t.id;
      state.templates.set(t.id, t);
      this.counts.templates++;
      ctx.json(201, this.convert.template(t));
    });
  }

  private idOf(f: { hash: string }): string {
    for (const [id, x] of this.files) if (x === f) return id;
    return "";
  }

  /** Parameters of each version created here (seeded versions have none). */
  private readonly parsed = new Map<string, ParamSpec[]>();

  private evaluate(versionId: string, inputs: Record<string, string>, injected: SimDiagnostic[]): { diagnostics: SimDiagnostic[]; parameters: unknown[] } {
    this.counts.evaluations++;
    const specs = this.parsed.get(versionId) ?? [];
    const parameters = specs.map((p) => {
      const given = Object.prototype.hasOwnProperty.call(inputs, p.name) ? inputs[p.name]! : null;
      const value = given ?? p.default;
      const diagnostics: SimDiagnostic[] = [];
      if (given !== null && p.options.length > 0 && !p.options.includes(given)) {
        diagnostics.push({ severity: "error", summary: "Value must be a valid option", detail: `the value "${given}" must be defined as one of options`, extra: { code: "" } });
      }
      return {
        name: p.name, display_name: p.displayName, description: p.description, type: p.type, form_type: p.formType,
        styling: {}, mutable: p.mutable, default_value: literal(p.default), icon: "",
        options: p.options.map((o) => ({ name: o, description: "", value: literal(o), icon: "" })),
        validations: [], required: p.default === null && given === null, order: p.order, ephemeral: false,
        value: literal(value), diagnostics,
      };
    });
    return { diagnostics: injected, parameters };
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, params: Record<string, string>, url: URL): void {
    const actor = authenticate(this.core.state, tokenFromRequest(req, url.searchParams), this.core.now());
    const v = this.core.state.templateVersions.get(params["templateversion"] ?? "");
    if (!v) throw new HttpError(404, NOT_FOUND_MESSAGE);
    if (!isOwner(actor) && !actor.user.orgIds.includes(v.orgId)) throw new HttpError(404, NOT_FOUND_MESSAGE);
    const job = this.core.state.jobs.get(v.jobId);
    if (!job) throw new HttpError(404, NOT_FOUND_MESSAGE);
    if (job.completedAt === undefined) {
      this.counts.tooEarly++;
      throw new HttpError(425, "Template version job has not finished");
    }
    if (jobStatus(job) !== "succeeded") throw new HttpError(400, "Template version import job failed.", job.error ?? "");
    const injected = this.takeInjected();
    this.wss.handleUpgrade(req, socket, head, (sock) => this.attach(sock, v.id, injected));
  }

  private attach(sock: WebSocket, versionId: string, injected: { initial: SimDiagnostic[]; change: SimDiagnostic[] }): void {
    this.sockets.add(sock);
    this.counts.sessions++;
    this.counts.open++;
    let closed = false;
    // Responses go out in request order, each after the evaluation's added delay.
    let chain: Promise<void> = Promise.resolve();
    const respond = (id: number, inputs: Record<string, string>, diags: SimDiagnostic[]): void => {
      chain = chain.then(
        () =>
          new Promise<void>((resolve) => {
            this.core.later(this.evalDelayMs, () => {
              if (!closed && sock.readyState === sock.OPEN) sock.send(JSON.stringify({ id, ...this.evaluate(versionId, inputs, diags) }));
              resolve();
            });
          }),
      );
    };
    respond(-1, {}, injected.initial);
    sock.on("message", (data, isBinary) => {
      if (isBinary) return sock.close(1003, "expected text frames");
      let req: { id?: unknown; inputs?: unknown };
      try {
        req = JSON.parse(data.toString()) as typeof req;
      } catch {
        return sock.close(1007, "invalid JSON");
      }
      const inputs: Record<string, string> = {};
      if (req.inputs && typeof req.inputs === "object") {
        for (const [k, val] of Object.entries(req.inputs as Record<string, unknown>)) if (typeof val === "string") inputs[k] = val;
      }
      respond(typeof req.id === "number" ? req.id : 0, inputs, injected.change);
    });
    sock.on("close", () => {
      closed = true;
      this.counts.open--;
      this.sockets.delete(sock);
    });
    sock.on("error", () => sock.terminate());
  }
}

async function readBody(ctx: Ctx): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_UPLOAD) throw new HttpError(400, "File too large.", `the file must be at most ${MAX_UPLOAD} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
