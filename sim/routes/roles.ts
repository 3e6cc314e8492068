// PUT /api/v2/users/{user}/roles (coderd/users.go putUserRoles): replaces a user's site roles. Only an
// owner may grant roles here; "member" is implicit and never stored; unknown roles are a 400.
import { HttpError } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { requireOwner, userParam, type RouteDeps } from "./common.ts";

const SITE_ROLES = new Set(["owner", "template-admin", "user-admin", "auditor"]);

export function registerRoleRoutes(r: Router, { core, convert }: RouteDeps): void {
  r.add("PUT", "/api/v2/users/{user}/roles", async (ctx) => {
    requireOwner(ctx.me);
    const user = userParam(ctx, core);
    const body = await ctx.body();
    const roles = body["roles"];
    if (!Array.isArray(roles) || roles.some((x) => typeof x !== "string")) {
      throw new HttpError(400, "Validation failed.", undefined, [{ field: "roles", detail: "roles must be a list of role names" }]);
    }
    const wanted = [...new Set((roles as string[]).filter((x) => x !== "member"))];
    const unknown = wanted.filter((x) => !SITE_ROLES.has(x));
    if (unknown.length) throw new HttpError(400, `Invalid role name(s): ${unknown.join(", ")}.`);
    if (user.id === ctx.me.user.id) throw new HttpError(400, "You cannot change your own roles.");
    user.roles = wanted;
    user.updatedAt = core.now();
    ctx.json(200, convert.user(user));
  });
}
