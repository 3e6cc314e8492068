// Workspace prebuilds, as enterprise/coderd/prebuilds does them (template uploads, versions and their
// presets are sim/routes/template-writes.ts; this module listens to it):
//  - a reconciler runs every reconcileIntervalMs unless reconciliation is paused (PUT /prebuilds/settings):
//    per preset of each template's ACTIVE version it keeps `instances` prebuilt workspaces, owned by the
//    prebuilds system user, creating them with start builds; prebuilt workspaces of presets no longer active
//    are deleted (failed deletions are tried again on a later pass);
//  - GET /templateversions/{id}/presets lists a version's presets;
//  - without the Premium licence (option premium: false) the prebuilds endpoints answer 403, as coderd's
//    feature middleware does.
import type { SimCore } from "./core.ts";
import type { Engine } from "./engine.ts";
import { HttpError, notFound } from "./http/context.ts";
import type { RouteDeps } from "./routes/common.ts";
import { requireOwner } from "./routes/common.ts";
import type { TemplateWrites } from "./routes/template-writes.ts";
import { jobStatus, type SimPreset, type SimTemplate, type SimTemplateVersion, type SimUser, type SimWorkspace } from "./state.ts";

/** Coder's prebuilds system user (database.PrebuildsSystemUserID). */
export const PREBUILDS_USER_ID = "c42fdf75-3097-471c-8c33-fb52454d81c0";
const NOT_LICENSED = "Workspace Prebuilds is a Premium feature. Contact sales!";

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
      // A template may be created before its version's import finished (coderd does not wait); its presets
      // are known, and filled, once the import succeeded.
      const imported = active !== undefined && jobStatus(state.job(active.jobId)) === "succeeded";
      for (const p of imported ? active.presets ?? [] : []) {
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

export function installPrebuilds({ core, engine }: RouteDeps, writes: TemplateWrites, opts: PrebuildsOptions): Prebuilds {
  const { state } = core;
  const r = core.router;
  const prebuilds = new Prebuilds(core, engine, opts);
  core.onClose(() => prebuilds.stop());
  writes.on({ versionCreated: (v) => prebuilds.registerPresets(v) });

  const licensed = (): void => {
    if (!opts.premium) throw new HttpError(403, NOT_LICENSED);
  };

  r.add("GET", "/api/v2/templateversions/{templateversion}/presets", (ctx) => {
    const v = state.templateVersions.get(ctx.param("templateversion"));
    if (!v) throw notFound();
    // codersdk.Preset's JSON names (swagger: id, name, parameters, default, desiredPrebuildInstances, ...).
    ctx.json(200, (v.presets ?? []).map((p) => ({ id: p.id, name: p.name, parameters: [], default: false, desiredPrebuildInstances: p.instances, description: "", icon: "" })));
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
