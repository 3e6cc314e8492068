// Users, login/logout, API tokens and a user's organizations.
import { isOwner } from "../auth.ts";
import { HttpError, forbidden, notFound, type ValidationError } from "../http/context.ts";
import type { Router } from "../http/router.ts";
import { paginate, parseSearch } from "../search.ts";
import type { SimUser, UserStatus } from "../state.ts";
import { requireOwner, userParam, type RouteDeps } from "./common.ts";

const USERNAME_RE = /^[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;

/** Coder's codersdk.NameValid: 1-32 chars, alphanumerics with single inner hyphens. */
export function nameError(name: string): string | undefined {
  if (name.length > 32) return "must be <= 32 characters";
  if (name.length < 1) return "must be >= 1 character";
  if (!USERNAME_RE.test(name)) return "must be alphanumeric with hyphens";
  return undefined;
}

export function registerUserRoutes(r: Router, { core, convert }: RouteDeps): void {
  const { state } = core;

  r.add("GET", "/api/v2/users", (ctx) => {
    const terms = parseSearch(ctx.query.get("q") ?? "", "search", ["search", "username", "email", "status", "role"], "user");
    let users = state.liveUsers();
    const search = [...(terms.get("search") ?? []), ...(terms.get("username") ?? [])].map((s) => s.toLowerCase());
    if (search.length > 0) {
      users = users.filter((u) => search.every((s) => u.username.toLowerCase().includes(s) || u.email.toLowerCase().includes(s)));
    }
    const emails = terms.get("email");
    if (emails) users = users.filter((u) => emails.some((e) => u.email.toLowerCase().includes(e.toLowerCase())));
    const statuses = terms.get("status")?.flatMap((s) => s.split(",")).map((s) => s.toLowerCase());
    if (statuses) users = users.filter((u) => statuses.includes(u.status));
    const roles = terms.get("role");
    if (roles) users = users.filter((u) => roles.some((role) => role === "member" || u.roles.includes(role)));
    users.sort((a, b) => (a.username.toLowerCase() < b.username.toLowerCase() ? -1 : 1));
    const count = users.length;
    ctx.json(200, { users: paginate(users, ctx.query).map((u) => convert.user(u)), count });
  });

  r.add("POST", "/api/v2/users", async (ctx) => {
    requireOwner(ctx.me);
    const body = await ctx.body();
    const username = typeof body["username"] === "string" ? body["username"] : "";
    const email = typeof body["email"] === "string" ? body["email"] : "";
    const errors: ValidationError[] = [];
    if (!email || !EMAIL_RE.test(email)) errors.push({ field: "email", detail: `Validation failed for tag "email" with value: "${email}"` });
    const nameErr = nameError(username);
    if (nameErr) errors.push({ field: "username", detail: `Validation failed for tag "username" with value: "${username}"` });
    if (errors.length > 0) throw new HttpError(400, "Validation failed.", undefined, errors);
    const loginType = typeof body["login_type"] === "string" && body["login_type"] !== "" ? body["login_type"] : "password";
    const password = typeof body["password"] === "string" ? body["password"] : "";
    if (loginType !== "password" && password !== "") {
      throw new HttpError(400, `Password cannot be set for non-password ("${loginType}") authentication.`);
    }
    if (loginType !== "password" && loginType !== "none") {
      throw new HttpError(400, `Unsupported login type "${loginType}" for manually creating new users.`);
    }
    const orgIds = Array.isArray(body["organization_ids"]) ? body["organization_ids"].filter((x): x is string => typeof x === "string") : [];
    if (orgIds.length === 0) {
      throw new HttpError(
        400,
        "No organization specified to place the user as a member of. It is required to specify at least one organization id to place the user in.",
        "required at least 1 value for the array 'organization_ids'",
        [{ field: "organization_ids", detail: "Missing values, this cannot be empty" }],
      );
    }
    for (const u of state.liveUsers()) {
      if (u.username.toLowerCase() === username.toLowerCase() || u.email.toLowerCase() === email.toLowerCase()) {
        throw new HttpError(409, "User already exists.");
      }
    }
    const resolvedOrgs: string[] = [];
    for (const id of orgIds) {
      if (id === "00000000-0000-0000-0000-000000000000") resolvedOrgs.push(state.defaultOrgId);
      else if (state.orgs.has(id)) resolvedOrgs.push(id);
      else throw new HttpError(404, `Organization does not exist with the provided id "${id}".`);
    }
    if (loginType === "password" && password.length < 6) {
      throw new HttpError(400, "Password not strong enough!", undefined, [{ field: "password", detail: "password must be at least 6 characters" }]);
    }
    const status = body["user_status"];
    const now = core.now();
    const user: SimUser = {
      id: core.rng.uuid(), username, email, name: typeof body["name"] === "string" ? body["name"] : "",
      createdAt: now, updatedAt: now, lastSeenAt: now,
      // Coder creates users as dormant unless told otherwise; they turn active on first use.
      status: status === "active" || status === "suspended" || status === "dormant" ? (status as UserStatus) : "dormant",
      loginType: loginType as SimUser["loginType"], password, roles: [], orgIds: resolvedOrgs, deleted: false, preexisting: false,
    };
    state.users.set(user.id, user);
    ctx.json(201, convert.user(user));
  });

  r.add("GET", "/api/v2/users/{user}", (ctx) => {
    ctx.json(200, convert.user(userParam(ctx, core)));
  });

  r.add("DELETE", "/api/v2/users/{user}", (ctx) => {
    requireOwner(ctx.me);
    const user = userParam(ctx, core);
    if (user.id === ctx.me.user.id) throw new HttpError(403, "You cannot delete yourself!");
    if (state.liveWorkspaces().some((w) => w.ownerId === user.id)) {
      // coderd/users.go deleteUser: 417 Expectation Failed.
      throw new HttpError(417, "You cannot delete a user that has workspaces. Delete their workspaces and try again!");
    }
    user.deleted = true;
    user.updatedAt = core.now();
    for (const [id, k] of state.apiKeys) if (k.userId === user.id) state.apiKeys.delete(id);
    ctx.json(200, { message: "User has been deleted!" });
  });

  r.add("GET", "/api/v2/users/{user}/organizations", (ctx) => {
    const user = userParam(ctx, core);
    if (!isOwner(ctx.me) && user.id !== ctx.me.user.id) throw notFound();
    ctx.json(200, user.orgIds.map((id) => convert.org(state.org(id))));
  });

  r.add(
    "POST",
    "/api/v2/users/login",
    async (ctx) => {
      const body = await ctx.body();
      const email = typeof body["email"] === "string" ? body["email"] : "";
      const password = typeof body["password"] === "string" ? body["password"] : "";
      const errors: ValidationError[] = [];
      if (!email) errors.push({ field: "email", detail: `Validation failed for tag "required" with value: ""` });
      if (!password) errors.push({ field: "password", detail: `Validation failed for tag "required" with value: ""` });
      if (errors.length > 0) throw new HttpError(400, "Validation failed.", undefined, errors);
      const user = state.liveUsers().find((u) => u.email.toLowerCase() === email.toLowerCase());
      if (!user || user.loginType !== "password" || user.password !== password) {
        throw new HttpError(401, "Incorrect email or password.");
      }
      if (user.status === "suspended") {
        throw new HttpError(401, "Your account is suspended. Contact an admin to reactivate your account.");
      }
      if (user.status === "dormant") user.status = "active";
      const { token } = core.mintKey(user.id, { loginType: "password", tokenName: "", lifetimeSeconds: 24 * 3600 });
      ctx.res.setHeader("Set-Cookie", `coder_session_token=${token}; Path=/; HttpOnly; SameSite=Lax`);
      ctx.json(201, { session_token: token });
    },
    { auth: false },
  );

  r.add("POST", "/api/v2/users/logout", (ctx) => {
    state.apiKeys.delete(ctx.me.key.id);
    ctx.res.setHeader("Set-Cookie", "coder_session_token=; Path=/; Max-Age=0");
    ctx.json(200, { message: "Logged out!" });
  });

  r.add(
    "GET",
    "/api/v2/users/authmethods",
    (ctx) => {
      ctx.json(200, {
        terms_of_service_url: "",
        password: { enabled: true },
        github: { enabled: false, default_provider_configured: false },
        oidc: { enabled: false, signInText: "", iconUrl: "" },
      });
    },
    { auth: false },
  );

  // ---- API tokens ----------------------------------------------------------------------------
  const tokenOwner = (ctx: Parameters<Parameters<Router["add"]>[2]>[0]): SimUser => {
    const user = userParam(ctx, core);
    if (!isOwner(ctx.me) && user.id !== ctx.me.user.id) throw notFound();
    return user;
  };

  r.add("POST", "/api/v2/users/{user}/keys/tokens", async (ctx) => {
    const user = tokenOwner(ctx);
    const body = await ctx.body();
    const lifetimeNs = typeof body["lifetime"] === "number" ? body["lifetime"] : 0;
    // codersdk sends lifetime as a Go time.Duration (nanoseconds); 0 means the default (30 days).
    const lifetimeSeconds = lifetimeNs > 0 ? Math.max(1, Math.round(lifetimeNs / 1e9)) : 30 * 24 * 3600;
    if (lifetimeSeconds > 365 * 24 * 3600) {
      throw new HttpError(400, "Failed to validate create API key request.", "lifetime must be less than 8760h0m0s");
    }
    let name = typeof body["token_name"] === "string" ? body["token_name"] : "";
    if (name === "") name = `${user.username}_${core.rng.alnum(6).toLowerCase()}`;
    for (const k of state.apiKeys.values()) {
      if (k.userId === user.id && k.tokenName === name && k.loginType === "token") {
        throw new HttpError(409, `A token with name "${name}" already exists.`, undefined, [{ field: "name", detail: "duplicate name" }]);
      }
    }
    const { token } = core.mintKey(user.id, { loginType: "token", tokenName: name, lifetimeSeconds });
    ctx.json(201, { key: token });
  });

  r.add("GET", "/api/v2/users/{user}/keys/tokens", (ctx) => {
    const user = tokenOwner(ctx);
    const keys = [...state.apiKeys.values()].filter((k) => k.userId === user.id && k.loginType === "token");
    ctx.json(200, keys.map((k) => convert.apiKey(k)));
  });

  r.add("POST", "/api/v2/users/{user}/keys", (ctx) => {
    const user = tokenOwner(ctx);
    const { token } = core.mintKey(user.id, { loginType: "password", tokenName: "", lifetimeSeconds: 24 * 3600 });
    ctx.json(201, { key: token });
  });

  r.add("GET", "/api/v2/users/{user}/keys/{keyid}", (ctx) => {
    const user = tokenOwner(ctx);
    const key = state.apiKeys.get(ctx.param("keyid"));
    if (!key || key.userId !== user.id) throw notFound();
    ctx.json(200, convert.apiKey(key));
  });

  r.add("DELETE", "/api/v2/users/{user}/keys/{keyid}", (ctx) => {
    const user = tokenOwner(ctx);
    const key = state.apiKeys.get(ctx.param("keyid"));
    if (!key || key.userId !== user.id) throw notFound();
    if (key.id === ctx.me.key.id && !isOwner(ctx.me)) throw forbidden();
    state.apiKeys.delete(key.id);
    ctx.noContent();
  });
}
