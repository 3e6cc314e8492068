// The dynamic-parameters websocket, as coderd serves it for Coder's dynamic-parameters load type (file
// upload, version create with its import job and template create are sim/routes/template-writes.ts, shared
// with the other load types; this module listens to it for the parameters each version's archive declares):
//  - GET /api/v2/templateversions/{id}/dynamic-parameters (websocket): 404 for an unknown version, 425
//    "Template version job has not finished" before its import completed; then text JSON frames:
//    {"id":-1,"diagnostics":[],"parameters":[...]} first, then one response per request echoing its id.
// The parameters are read from the uploaded main.tf and its modules (`data "coder_parameter"` blocks: name,
// display_name, type, form_type, mutable, order, literal default and literal options); a value that is
// not one of a parameter's options gets that parameter a diagnostic, as the real evaluation would.
// Knobs for tests: `evalDelayMs` added to every evaluation, `injectDiagnostic` for the next sessions,
// `importMs` / `importFails` (the shared import job's, kept here where the load type's tests look).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, isOwner, tokenFromRequest } from "./auth.ts";
import type { SimCore } from "./core.ts";
import { HttpError, NOT_FOUND_MESSAGE } from "./http/context.ts";
import { parametersOf, type ParamSpec } from "./routes/template-archive.ts";
import type { TemplateWrites } from "./routes/template-writes.ts";
import { jobStatus } from "./state.ts";

export { parametersOf } from "./routes/template-archive.ts";

export interface SimDiagnostic {
  severity: "error" | "warning";
  summary: string;
  detail: string;
  extra?: { code: string };
}

interface Injected {
  stage: "initial" | "change";
  diagnostic: SimDiagnostic;
  remaining: number;
}

function literal(v: string | null): { value: string; valid: boolean } {
  return v === null ? { value: "", valid: false } : { value: v, valid: true };
}

export class DynamicParametersSim {
  /** How long a version's import job runs (ms): the shared template writes' knob. */
  get importMs(): number {
    return this.writes.importMs;
  }
  set importMs(ms: number) {
    this.writes.importMs = ms;
  }
  /** Import jobs fail (error "terraform init failed") while set: the shared template writes' knob. */
  get importFails(): boolean {
    return this.writes.importFails;
  }
  set importFails(fails: boolean) {
    this.writes.importFails = fails;
  }
  /** Added to every evaluation, initial and change alike (ms). */
  evalDelayMs = 0;
  readonly counts = { uploads: 0, versions: 0, templates: 0, sessions: 0, tooEarly: 0, evaluations: 0, open: 0 };
  private readonly injected: Injected[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024, clientTracking: false });
  private readonly sockets = new Set<WebSocket>();

  constructor(
    private readonly core: SimCore,
    private readonly writes: TemplateWrites,
  ) {
    writes.on({
      uploaded: () => this.counts.uploads++,
      versionCreated: (v, files) => {
        this.counts.versions++;
        this.parsed.set(v.id, parametersOf(files));
      },
      templateCreated: () => this.counts.templates++,
    });
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
