// PUT /api/v2/users/{user}/roles (Coder's assign-role-to-user): an Owner sets a user's site roles; 200 with
// the user. Unknown roles are refused with 400, as coderd does.
import { HttpError } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { requireOwner, userParam, type RouteDeps } from "./common.ts";

const SITE_ROLES = new Set(["owner", "template-admin", "user-admin", "auditor"]);

export function registerRoleRoutes(r: Router, { core, convert }: RouteDeps): void {
  r.add("PUT", "/api/v2/users/{user}/roles", async (ctx) => {
    requireOwner(ctx.me);
    const user = userParam(ctx, core);
    const body = await ctx.body();
    const roles = Array.isArray(body["roles"]) ? body["roles"].filter((x): x is string => typeof x === "string") : null;
    if (!roles) throw new HttpError(400, "Validation failed.", undefined, [{ field: "roles", detail: "roles must be a list of role names" }]);
    const unknown = roles.filter((x) => x !== "member" && !SITE_ROLES.has(x));
    if (unknown.length) throw new HttpError(400, `Invalid role names: ${unknown.join(", ")}`);
    if (user.id === ctx.me.user.id) throw new HttpError(400, "You cannot change your own roles.");
    user.roles = roles.filter((x) => x !== "member");
    user.updatedAt = core.now();
    ctx.json(200, convert.user(user));
  });
}
