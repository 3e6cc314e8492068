// Workspaces and their builds: create (current and deprecated endpoints), list/search, get,
// start/stop/delete builds, build logs, cancel.
import { isOwner } from "../auth.ts";
import { HttpError, notFound, type Actor, type Ctx, type ValidationError } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { readParamValues, resolveParams } from "../params.ts";
import { paginate, parseSearch } from "../search.ts";
import {
  agentStatus, jobStatus, workspaceStatus,
  type SimUser, type SimWorkspace, type Transition,
} from "../state.ts";
import { canSeeWorkspace, userParam, workspaceParam, type RouteDeps } from "./common.ts";
import { nameError } from "./users.ts";
import { parseWeekly, ScheduleError } from "../schedule.ts";

/** coderd's validWorkspaceSchedule: empty clears the schedule; anything else must parse as cron.Weekly. */
function validSchedule(raw: unknown, message: string): string | undefined {
  if (raw === undefined || raw === null || raw === "") return undefined;
  try {
    if (typeof raw !== "string") throw new ScheduleError(WEEKLY_TYPE);
    parseWeekly(raw);
    return raw;
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    throw new HttpError(400, message, undefined, [{ field: "schedule", detail: e.message }]);
  }
}
const WEEKLY_TYPE = "validate weekly schedule: expected schedule to consist of 5 fields with an optional CRON_TZ=<timezone> prefix";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export function registerWorkspaceRoutes(r: Router, { core, engine, convert }: RouteDeps): void {
  const { state } = core;

  const statusOf = (ws: SimWorkspace): string => {
    const b = state.latestBuild(ws);
    return workspaceStatus(b.transition, jobStatus(state.job(b.jobId)));
  };

  async function createWorkspace(ctx: Ctx, owner: SimUser, orgId?: string): Promise<void> {
    const actor: Actor = ctx.me;
    const body = await ctx.body();
    const name = typeof body["name"] === "string" ? body["name"] : "";
    const templateIdRaw = typeof body["template_id"] === "string" ? body["template_id"] : "";
    const versionIdRaw = typeof body["template_version_id"] === "string" ? body["template_version_id"] : "";
    const errors: ValidationError[] = [];
    if (name === "") errors.push({ field: "name", detail: 'Validation failed for tag "required" with value: ""' });
    else if (nameError(name)) errors.push({ field: "name", detail: `Validation failed for tag "workspace_name" with value: "${name}"` });
    for (const [field, v] of [["template_id", templateIdRaw], ["template_version_id", versionIdRaw]] as const) {
      if (v !== "" && !UUID_RE.test(v)) errors.push({ field, detail: `Validation failed for tag "uuid" with value: "${v}"` });
    }
    if (errors.length > 0) throw new HttpError(400, "Validation failed.", undefined, errors);
    const templateId = templateIdRaw === NIL_UUID ? "" : templateIdRaw;
    const versionId = versionIdRaw === NIL_UUID ? "" : versionIdRaw;
    if (templateId !== "" && versionId !== "") {
      throw new HttpError(400, "You cannot specify both a template_id and a template_version_id.");
    }
    if (templateId === "" && versionId === "") {
      throw new HttpError(400, "You must specify either a template_id or a template_version_id.", undefined, [
        { field: "template_id", detail: "template_id or template_version_id is required" },
      ]);
    }
    let version = versionId ? state.templateVersions.get(versionId) : undefined;
    if (versionId && !version) {
      throw new HttpError(400, `Template version "${versionId}" doesn't exist.`, undefined, [{ field: "template_version_id", detail: "template not found" }]);
    }
    const template = state.templates.get(version ? version.templateId : templateId);
    if (!template) {
      throw new HttpError(400, `Template "${templateId}" doesn't exist.`, undefined, [{ field: "template_id", detail: "template not found" }]);
    }
    if (orgId !== undefined && template.orgId !== orgId) {
      throw new HttpError(400, `Template is not in organization "${orgId}".`);
    }
    if (!isOwner(actor) && owner.id !== actor.user.id) {
      throw new HttpError(403, "Unauthorized to create workspace.", "You are unable to create a workspace in this organization. It is possible to have access to the template, but not be able to create a workspace. Please contact an administrator about your permissions if you feel this is an error.");
    }
    if (template.deprecated) {
      throw new HttpError(400, `Template "${template.name}" has been deprecated, and cannot be used to create a new workspace.`, template.deprecated);
    }
    const autostartSchedule = validSchedule(body["autostart_schedule"], "Invalid Autostart Schedule.");
    let ttlMs: number | undefined;
    if (body["ttl_ms"] !== undefined && body["ttl_ms"] !== null) {
      const t = body["ttl_ms"];
      if (typeof t !== "number" || !Number.isInteger(t) || (t !== 0 && t < 60_000) || t > 30 * 24 * 3600_000) {
        throw new HttpError(400, "Invalid Workspace Time to Shutdown.", undefined, [{ field: "ttl_ms", detail: "time until shutdown must be at least one minute" }]);
      }
      if (t > 0) ttlMs = t;
    }
    if (state.findWorkspaceByOwnerAndName(owner.id, name)) {
      throw new HttpError(409, `Workspace "${name}" already exists.`, undefined, [{ field: "name", detail: "This value is already in use and should be unique." }]);
    }
    version ??= state.templateVersion(template.activeVersionId);
    const params = resolveParams(version.params, readParamValues(body["rich_parameter_values"]), undefined);
    const now = core.now();
    const ws: SimWorkspace = {
      id: core.rng.uuid(), ownerId: owner.id, orgId: template.orgId, templateId: template.id, name,
      createdAt: now, updatedAt: now, lastUsedAt: now, deleted: false,
      automaticUpdates: body["automatic_updates"] === "always" ? "always" : "never", buildIds: [], preexisting: false,
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      ...(autostartSchedule !== undefined ? { autostartSchedule } : {}),
    };
    state.workspaces.set(ws.id, ws);
    engine.createBuild(ws, "start", actor.user.id, version.id, params);
    // coderd answers 201 Created (swagger annotates 200; codersdk accepts only 201).
    ctx.json(201, convert.workspace(ws));
  }

  r.add("POST", "/api/v2/users/{user}/workspaces", async (ctx) => {
    await createWorkspace(ctx, userParam(ctx, core));
  });

  r.add("POST", "/api/v2/organizations/{organization}/members/{user}/workspaces", async (ctx) => {
    const org = state.findOrg(ctx.param("organization"));
    if (!org) throw notFound();
    const user = userParam(ctx, core);
    if (!user.orgIds.includes(org.id)) throw notFound();
    await createWorkspace(ctx, user, org.id);
  });

  r.add("GET", "/api/v2/workspaces", (ctx) => {
    const terms = parseSearch(ctx.query.get("q") ?? "", "name",
      ["owner", "name", "template", "status", "has-agent", "deleted", "id", "outdated", "organization"], "workspace");
    const actor = ctx.me;
    const wantDeleted = terms.get("deleted")?.[0] === "true";
    let list = [...state.workspaces.values()].filter((w) => w.deleted === wantDeleted && canSeeWorkspace(actor, w));
    for (const owner of terms.get("owner") ?? []) {
      const id = owner === "me" ? actor.user.id : undefined;
      list = list.filter((w) => (id ? w.ownerId === id : state.users.get(w.ownerId)?.username.toLowerCase() === owner.toLowerCase()));
    }
    for (const name of terms.get("name") ?? []) {
      const n = name.toLowerCase();
      list = list.filter((w) => w.name.toLowerCase().includes(n));
    }
    for (const tpl of terms.get("template") ?? []) {
      list = list.filter((w) => state.templates.get(w.templateId)?.name.toLowerCase() === tpl.toLowerCase());
    }
    for (const st of terms.get("status") ?? []) list = list.filter((w) => statusOf(w) === st.toLowerCase());
    for (const id of terms.get("id") ?? []) list = list.filter((w) => w.id === id);
    for (const org of terms.get("organization") ?? []) {
      const o = state.findOrg(org);
      list = list.filter((w) => w.orgId === o?.id);
    }
    for (const out of terms.get("outdated") ?? []) {
      list = list.filter((w) => (state.latestBuild(w).templateVersionId !== state.template(w.templateId).activeVersionId) === (out === "true"));
    }
    const now = core.now();
    for (const ha of terms.get("has-agent") ?? []) {
      list = list.filter((w) => state.latestBuild(w).resources.some((res) => res.agents.some((a) => agentStatus(a, now) === ha)));
    }
    // Coder's order: running (last start succeeded) first, then owner username, then name.
    const running = (w: SimWorkspace): number => (statusOf(w) === "running" ? 0 : 1);
    const ownerName = (w: SimWorkspace): string => state.users.get(w.ownerId)?.username.toLowerCase() ?? "";
    list.sort((a, b) => running(a) - running(b) || ownerName(a).localeCompare(ownerName(b)) || a.name.toLowerCase().localeCompare(b.name.toLowerCase()));
    const count = list.length;
    ctx.json(200, { workspaces: paginate(list, ctx.query).map((w) => convert.workspace(w)), count });
  });

  const getWorkspace = (ctx: Ctx): void => {
    const ws = workspaceParam(ctx, core);
    if (ws.deleted && ctx.query.get("include_deleted") !== "true") {
      throw new HttpError(410, `Workspace "${ws.id}" was deleted, you can view this workspace by specifying '?deleted=true' and trying again.`);
    }
    ctx.json(200, convert.workspace(ws));
  };
  r.add("GET", "/api/v2/workspaces/{workspace}", getWorkspace);

  r.add("PATCH", "/api/v2/workspaces/{workspace}", async (ctx) => {
    const ws = workspaceParam(ctx, core);
    if (ws.deleted) throw notFound();
    const body = await ctx.body();
    const name = typeof body["name"] === "string" ? body["name"] : "";
    if (name !== "" && name !== ws.name) {
      // allow_renames is false in this deployment (Coder's default).
      throw new HttpError(400, "Workspace renames are not allowed.", "Renaming workspaces is disabled on this deployment.");
    }
    ctx.noContent();
  });

  // coderd putWorkspaceAutostart: 204; a bad schedule is 400 "Invalid autostart schedule." with the
  // cron.Weekly error on the `schedule` field; an empty one clears it.
  r.add("PUT", "/api/v2/workspaces/{workspace}/autostart", async (ctx) => {
    const ws = workspaceParam(ctx, core);
    if (ws.deleted) throw notFound();
    const body = await ctx.body();
    const schedule = validSchedule(body["schedule"], "Invalid autostart schedule.");
    if (schedule === undefined) delete ws.autostartSchedule;
    else ws.autostartSchedule = schedule;
    ws.updatedAt = core.now();
    state.events.emit("workspace", ws.id);
    ctx.noContent();
  });

  r.add("GET", "/api/v2/users/{user}/workspace/{workspacename}", (ctx) => {
    const owner = userParam(ctx, core);
    const name = ctx.param("workspacename");
    let ws = state.findWorkspaceByOwnerAndName(owner.id, name);
    if (!ws && ctx.query.get("include_deleted") === "true") {
      ws = [...state.workspaces.values()].filter((w) => w.deleted && w.ownerId === owner.id && w.name === name).pop();
    }
    if (!ws || !canSeeWorkspace(ctx.me, ws)) throw notFound();
    ctx.json(200, convert.workspace(ws));
  });

  // ---- builds --------------------------------------------------------------------------------
  r.add("GET", "/api/v2/workspaces/{workspace}/builds", (ctx) => {
    const ws = workspaceParam(ctx, core);
    let builds = ws.buildIds.map((id) => state.builds.get(id)).filter((b) => b !== undefined).reverse();
    const since = ctx.query.get("since");
    if (since) {
      const t = Date.parse(since);
      if (Number.isNaN(t)) throw new HttpError(400, "Query parameters have invalid values.", undefined, [{ field: "since", detail: "must be an RFC 3339 time" }]);
      builds = builds.filter((b) => b.createdAt >= t);
    }
    ctx.json(200, paginate(builds, ctx.query).map((b) => convert.build(b)));
  });

  r.add("POST", "/api/v2/workspaces/{workspace}/builds", async (ctx) => {
    const ws = workspaceParam(ctx, core);
    if (ws.deleted) throw new HttpError(410, "Workspace has been deleted.");
    const body = await ctx.body();
    const transition = body["transition"];
    if (transition !== "start" && transition !== "stop" && transition !== "delete") {
      throw new HttpError(400, "Validation failed.", undefined, [{ field: "transition", detail: `Validation failed for tag "oneof" with value: "${String(transition ?? "")}"` }]);
    }
    const latest = state.latestBuild(ws);
    const latestJob = state.job(latest.jobId);
    if (latestJob.completedAt === undefined) throw new HttpError(409, "A workspace build is already active.");
    const tpl = state.template(ws.templateId);
    const versionId = typeof body["template_version_id"] === "string" && body["template_version_id"] !== "" && body["template_version_id"] !== NIL_UUID
      ? body["template_version_id"] : latest.templateVersionId;
    const version = state.templateVersions.get(versionId);
    if (!version || version.templateId !== tpl.id) {
      throw new HttpError(400, "Template version not found.", undefined, [{ field: "template_version_id", detail: "template version not found" }]);
    }
    const given = readParamValues(body["rich_parameter_values"]);
    const params = transition === "start" || given.length > 0 ? resolveParams(version.params, given, latest.params) : latest.params;
    const build = engine.createBuild(ws, transition as Transition, ctx.me.user.id, version.id, params);
    // coderd answers 201 Created (swagger annotates 200; codersdk accepts only 201).
    ctx.json(201, convert.build(build));
  });

  const buildParam = (ctx: Ctx) => {
    const b = state.builds.get(ctx.param("workspacebuild"));
    const ws = b ? state.workspaces.get(b.workspaceId) : undefined;
    if (!b || !ws || !canSeeWorkspace(ctx.me, ws)) throw notFound();
    return b;
  };

  r.add("GET", "/api/v2/workspacebuilds/{workspacebuild}", (ctx) => {
    ctx.json(200, convert.build(buildParam(ctx)));
  });

  // With `follow` (and a websocket upgrade) the logs stream: sim/build-logs.ts. Without, the logs so far.
  r.add("GET", "/api/v2/workspacebuilds/{workspacebuild}/logs", (ctx) => {
    const b = buildParam(ctx);
    const before = Number(ctx.query.get("before") ?? "0");
    const after = Number(ctx.query.get("after") ?? "0");
    const logs = state.job(b.jobId).logs.filter((l) => (before > 0 ? l.id < before : true) && (after > 0 ? l.id > after : true));
    ctx.json(200, logs.map((l) => convert.log(l)));
  });

  r.add("PATCH", "/api/v2/workspacebuilds/{workspacebuild}/cancel", (ctx) => {
    const b = buildParam(ctx);
    const job = state.job(b.jobId);
    const expect = ctx.query.get("expect_status");
    if (expect !== null && expect !== "" && expect !== jobStatus(job)) {
      throw new HttpError(412, "Job is not in the expected state.", `Expected status "${expect}", got "${jobStatus(job)}".`);
    }
    if (!engine.cancelJob(job)) throw new HttpError(400, "Job has already completed!");
    ctx.json(200, { message: "Job has been marked as canceled..." });
  });

  r.add("GET", "/api/v2/workspacebuilds/{workspacebuild}/resources", (ctx) => {
    ctx.json(200, buildParam(ctx).resources.map((res) => convert.resource(res)));
  });

  // ---- agents --------------------------------------------------------------------------------
  const agentParam = (ctx: Ctx) => {
    const a = state.agents.get(ctx.param("workspaceagent"));
    const ws = a ? state.workspaces.get(a.workspaceId) : undefined;
    if (!a || !ws || !canSeeWorkspace(ctx.me, ws)) throw notFound();
    return a;
  };

  r.add("GET", "/api/v2/workspaceagents/{workspaceagent}", (ctx) => {
    ctx.json(200, convert.agent(agentParam(ctx)));
  });

  r.add("GET", "/api/v2/workspaceagents/{workspaceagent}/connection", (ctx) => {
    agentParam(ctx);
    ctx.json(200, {
      derp_map: { regions: {}, omitDefaultRegions: true },
      derp_force_websockets: false,
      disable_direct_connections: false,
      hostname_suffix: "coder",
    });
  });

  r.add("GET", "/api/v2/workspaceagents/{workspaceagent}/listening-ports", (ctx) => {
    agentParam(ctx);
    ctx.json(200, { ports: [] });
  });
}
