// Helpers shared by route modules: resolving path parameters the way coderd's httpmw does,
// with 404s that do not leak existence to users without access.
import { isOwner } from "../auth.ts";
import type { Convert } from "../convert.ts";
import type { SimCore } from "../core.ts";
import type { Engine } from "../engine.ts";
import { forbidden, notFound, type Actor, type Ctx } from "../http/context.ts";
import type { SimUser, SimWorkspace } from "../state.ts";

/** What every route module receives. */
export interface RouteDeps {
  core: SimCore;
  engine: Engine;
  convert: Convert;
}

/** {user} path parameter: "me", a UUID or a username. */
export function userParam(ctx: Ctx, core: SimCore, name = "user"): SimUser {
  const ref = ctx.param(name);
  if (ref === "me") return ctx.me.user;
  const u = core.state.findUser(ref);
  if (!u) throw notFound();
  return u;
}

export function requireOwner(actor: Actor): void {
  if (!isOwner(actor)) throw forbidden();
}

export function canSeeWorkspace(actor: Actor, ws: SimWorkspace): boolean {
  return isOwner(actor) || ws.ownerId === actor.user.id;
}

/** {workspace} path parameter (a UUID), visible to its owner and to owners (site role). */
export function workspaceParam(ctx: Ctx, core: SimCore): SimWorkspace {
  const ws = core.state.workspaces.get(ctx.param("workspace"));
  if (!ws || !canSeeWorkspace(ctx.me, ws)) throw notFound();
  return ws;
}
