// Deployment-level endpoints the CLI and dashboard call: build info, appearance, entitlements,
// stats, health, regions/proxies, audit, insights. Values are static or derived from state.
import { HttpError, type Ctx } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { agentStatus, jobStatus, workspaceStatus } from "../state.ts";
import { requireOwner, type RouteDeps } from "./common.ts";

export interface MetaExtras {
  /** Open reconnecting-PTY sessions, for /deployment/stats. */
  ptySessions(): number;
}

const PRIMARY_REGION_ID = "00000000-0000-0000-0000-000000000000";

export function registerMetaRoutes(r: Router, { core, engine }: RouteDeps, extras: MetaExtras): void {
  const { state } = core;

  r.add(
    "GET",
    "/api/v2/buildinfo",
    (ctx) => {
      ctx.json(200, {
        external_url: "https://github.com/coder/coder",
        version: core.opts.version,
        dashboard_url: core.url,
        telemetry: false,
        workspace_proxy: false,
        agent_api_version: "2.6",
        provisioner_api_version: "1.7",
        upgrade_message: "",
        deployment_id: state.deploymentId,
        webpush_public_key: "",
      });
    },
    { auth: false },
  );

  const appearance = () => ({
    application_name: state.appearance.applicationName,
    logo_url: state.appearance.logoUrl,
    docs_url: "https://coder.com/docs",
    service_banner: {
      enabled: state.appearance.serviceBanner.enabled,
      message: state.appearance.serviceBanner.message,
      background_color: state.appearance.serviceBanner.backgroundColor,
    },
    announcement_banners: state.appearance.announcementBanners,
    support_links: [],
  });

  r.add("GET", "/api/v2/appearance", (ctx) => ctx.json(200, appearance()), { auth: false });

  r.add("PUT", "/api/v2/appearance", async (ctx) => {
    requireOwner(ctx.me);
    const body = await ctx.body();
    const banner = body["service_banner"] as Record<string, unknown> | undefined;
    if (typeof body["application_name"] === "string") state.appearance.applicationName = body["application_name"];
    if (typeof body["logo_url"] === "string") state.appearance.logoUrl = body["logo_url"];
    if (banner && typeof banner === "object") {
      const color = typeof banner["background_color"] === "string" ? banner["background_color"] : "";
      if (color !== "" && !/^#[0-9a-fA-F]{6}$/.test(color)) {
        throw new HttpError(400, `"${color}" is not a valid color.`, "expected a hex color such as #00ff00");
      }
      state.appearance.serviceBanner = {
        enabled: banner["enabled"] === true,
        message: typeof banner["message"] === "string" ? banner["message"] : "",
        backgroundColor: color,
      };
    }
    if (Array.isArray(body["announcement_banners"])) {
      state.appearance.announcementBanners = body["announcement_banners"].map((b) => {
        const o = b as Record<string, unknown>;
        return {
          enabled: o["enabled"] === true,
          message: typeof o["message"] === "string" ? o["message"] : "",
          background_color: typeof o["background_color"] === "string" ? o["background_color"] : "",
        };
      });
    }
    const { service_banner, announcement_banners, application_name, logo_url } = appearance();
    ctx.json(200, { service_banner, announcement_banners, application_name, logo_url });
  });

  r.add("GET", "/api/v2/entitlements", (ctx) => {
    ctx.json(200, {
      features: {},
      warnings: [],
      errors: [],
      has_license: false,
      trial: false,
      require_telemetry: false,
      refreshed_at: core.iso(core.now()),
    });
  });

  r.add("GET", "/api/v2/deployment/stats", (ctx) => {
    requireOwner(ctx.me);
    const now = core.now();
    const counts = { pending: 0, building: 0, running: 0, failed: 0, stopped: 0 };
    for (const w of state.liveWorkspaces()) {
      const b = state.latestBuild(w);
      const st = workspaceStatus(b.transition, jobStatus(state.job(b.jobId)));
      if (st === "pending") counts.pending++;
      else if (st === "starting" || st === "stopping" || st === "deleting") counts.building++;
      else if (st === "running") counts.running++;
      else if (st === "failed") counts.failed++;
      else if (st === "stopped") counts.stopped++;
    }
    ctx.json(200, {
      aggregated_from: core.iso(now - 5 * 60_000),
      collected_at: core.iso(now),
      next_update_at: core.iso(now + 30_000),
      workspaces: { ...counts, connection_latency_ms: { p50: 1.5, p95: 4 }, rx_bytes: 0, tx_bytes: 0 },
      session_count: { vscode: 0, ssh: 0, jetbrains: 0, reconnecting_pty: extras.ptySessions() },
    });
  });

  r.add("GET", "/api/v2/deployment/config", (ctx) => {
    requireOwner(ctx.me);
    ctx.json(200, {
      config: { allow_workspace_renames: false, disable_password_auth: false, experiments: core.opts.experiments, wildcard_access_url: "", rate_limit: { api: 512, disable_all: false } },
      options: [],
    });
  });

  r.add("GET", "/api/v2/debug/health", (ctx) => {
    requireOwner(ctx.me);
    const now = core.iso(core.now());
    const ok = { healthy: true, severity: "ok", warnings: [], dismissed: false };
    ctx.json(200, {
      time: now,
      healthy: true,
      severity: "ok",
      coder_version: core.opts.version,
      access_url: { ...ok, access_url: core.url, reachable: true, status_code: 200, healthz_response: "OK" },
      database: { ...ok, reachable: true, latency: "1ms", latency_ms: 1, threshold_ms: 15 },
      derp: { ...ok, regions: {}, netcheck_logs: [] },
      websocket: { ...ok, body: "", code: 101 },
      workspace_proxy: { ...ok, workspace_proxies: { regions: [] } },
      provisioner_daemons: {
        severity: "ok",
        warnings: [],
        dismissed: false,
        items: engine.daemons.map((d) => ({
          provisioner_daemon: {
            id: d.id, name: d.name, created_at: core.iso(d.createdAt), last_seen_at: core.iso(d.lastSeenAt),
            version: core.opts.version, api_version: "1.7", provisioners: ["terraform"],
            tags: { owner: "", scope: "organization" }, status: d.currentJobId === undefined ? "idle" : "busy",
          },
          warnings: [],
        })),
      },
    });
  });

  const primaryRegion = () => ({
    id: PRIMARY_REGION_ID,
    name: "primary",
    display_name: "Default",
    icon_url: "/emojis/1f3e1.png",
    healthy: true,
    path_app_url: core.url,
    wildcard_hostname: "",
  });

  r.add("GET", "/api/v2/regions", (ctx) => ctx.json(200, { regions: [primaryRegion()] }));

  r.add("GET", "/api/v2/workspaceproxies", (ctx) => {
    const now = core.iso(core.now());
    ctx.json(200, {
      regions: [{
        ...primaryRegion(), derp_enabled: true, derp_only: false, deleted: false, created_at: now, updated_at: now,
        version: core.opts.version, status: { status: "ok", checked_at: now, report: { errors: [], warnings: [] } },
      }],
    });
  });

  r.add("GET", "/api/v2/audit", (ctx) => {
    requireOwner(ctx.me);
    const limit = ctx.query.get("limit");
    if (limit === null || !/^\d+$/.test(limit)) {
      throw new HttpError(400, "Invalid query parameters.", undefined, [{ field: "limit", detail: 'Query param "limit" is required and must be a non-negative integer' }]);
    }
    // The simulator keeps no audit trail (documented): the list is always empty.
    ctx.json(200, { audit_logs: [], count: 0 });
  });

  const requireParams = (ctx: Ctx, names: string[]): void => {
    const missing = names.filter((n) => !ctx.query.get(n));
    if (missing.length > 0) {
      throw new HttpError(400, "Query parameters have invalid values.", undefined,
        missing.map((n) => ({ field: n, detail: `Query param "${n}" is required` })));
    }
  };

  r.add("GET", "/api/v2/insights/daus", (ctx) => {
    requireParams(ctx, ["tz_offset"]);
    const offset = Number(ctx.query.get("tz_offset"));
    const today = new Date(core.now()).toISOString().slice(0, 10);
    const active = new Set<string>();
    for (const w of state.liveWorkspaces()) {
      if (state.latestBuild(w).resources.some((res) => res.agents.some((a) => agentStatus(a, core.now()) === "connected"))) active.add(w.ownerId);
    }
    ctx.json(200, { tz_hour_offset: Number.isFinite(offset) ? offset : 0, entries: [{ date: today, amount: active.size }] });
  });

  r.add("GET", "/api/v2/insights/templates", (ctx) => {
    requireParams(ctx, ["start_time", "end_time", "interval"]);
    const start = ctx.query.get("start_time") ?? "";
    const end = ctx.query.get("end_time") ?? "";
    const ids = (ctx.query.get("template_ids") ?? "").split(",").filter(Boolean);
    ctx.json(200, {
      report: { start_time: start, end_time: end, template_ids: ids, active_users: 0, apps_usage: [], parameters_usage: [] },
      interval_reports: [],
    });
  });

  r.add("GET", "/api/v2/insights/user-latency", (ctx) => {
    requireParams(ctx, ["start_time", "end_time"]);
    const ids = (ctx.query.get("template_ids") ?? "").split(",").filter(Boolean);
    ctx.json(200, {
      report: { start_time: ctx.query.get("start_time"), end_time: ctx.query.get("end_time"), template_ids: ids, users: [] },
    });
  });

}
