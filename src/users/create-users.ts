// create-users: Coder's `coder exp scaletest create-users`, used here to make a user pool once. Per user:
// POST /users (password login, a random password never stored), a login with a fresh client (POST
// /users/login, timed as Coder times it) whose session is logged out again at once (so the pool leaves no
// session behind), and for the first `templateAdmins` users PUT /users/{id}/roles ["template-admin"].
// Users are named scaletest-<pool>-NNNN with the scale test's email, so the ownership rule covers them.
// Unlike Coder's command the users are kept: they are the pool (cleanup: `cleanup --run-id <pool>`).
import { randomBytes } from "node:crypto";
import type { CoderClient } from "../coder/client.ts";
import { CoderApiError } from "../coder/errors.ts";
import type { Organization, User } from "../coder/types.ts";
import { runUnits, type BoundRunUnits } from "../scenario/units.ts";
import { BadInputError } from "../util/errors.ts";
import { indexWidth, resourceName, runPrefix, scaletestEmail, validateRunId } from "../util/naming.ts";
import { registerSecret } from "../util/redact.ts";

export const MAX_POOL_USERS = 5000;

export class CreateUsersInputError extends BadInputError {
  constructor(readonly problems: string[]) {
    super(problems.length === 1 ? `create-users: ${problems[0]}` : `create-users: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "CreateUsersInputError";
  }
}

export interface CreateUsersOptions {
  /** The pool's id (the run id): users scaletest-<pool>-NNNN. */
  pool: string;
  count: number;
  /** Coder's --template-admin-percentage (at least one admin when above 0). */
  templateAdminPercentage: number;
  /** Users at once; 0 = unlimited. */
  concurrency: number;
  jobTimeoutMs?: number;
}

export interface CreateUsersPlan {
  organization: Organization;
  names: string[];
  emails: string[];
  templateAdmins: number;
}

export interface UserRecord {
  index: number;
  username: string;
  user_id: string | null;
  template_admin: boolean;
  ok: boolean;
  not_started: boolean;
  error: string | null;
  /** POST /users, POST /users/login, PUT roles (ms). */
  create_ms: number | null;
  login_ms: number | null;
  role_ms: number | null;
  started_at: number;
}

export interface CreateUsersResult {
  pool: string;
  started_at: number;
  elapsed_ms: number;
  users: UserRecord[];
  pass: number;
  fail: number;
  template_admins: number;
  exit_code: number;
}

/** Coder's rule: round(count * pct / 100), and at least one when pct > 0. */
export function templateAdminCount(count: number, pct: number): number {
  if (pct <= 0) return 0;
  return Math.min(count, Math.max(1, Math.round((count * pct) / 100)));
}

export function checkCreateUsersOptions(o: CreateUsersOptions): string[] {
  const p: string[] = [];
  try {
    validateRunId(o.pool);
  } catch (e) {
    p.push((e as Error).message);
  }
  if (!Number.isInteger(o.count) || o.count < 1 || o.count > MAX_POOL_USERS) p.push(`--count must be a whole number from 1 to ${MAX_POOL_USERS}; got ${o.count}`);
  if (!(o.templateAdminPercentage >= 0 && o.templateAdminPercentage <= 100)) p.push(`--template-admin-percentage must be within 0..100; got ${o.templateAdminPercentage}`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 0) p.push(`--concurrency must be 0 (unlimited) or more; got ${o.concurrency}`);
  return p;
}

/** Read-only checks: the options, an Owner token, and a pool id nobody uses yet. */
export async function planCreateUsers(client: CoderClient, o: CreateUsersOptions): Promise<CreateUsersPlan> {
  const problems = checkCreateUsersOptions(o);
  if (problems.length) throw new CreateUsersInputError(problems);
  const me = await client.me();
  if (!(me.roles ?? []).some((r) => r.name === "owner")) throw new CreateUsersInputError([`the token's user ${me.username} is not an Owner: creating users needs one`]);
  const organization = await client.defaultOrganization();
  const prefix = runPrefix(o.pool);
  for await (const u of client.iterateUsers({ q: prefix })) {
    if (u.username.startsWith(prefix)) {
      throw new CreateUsersInputError([`pool id ${o.pool} is already in use (user ${u.username}): choose another --run-id, or remove that pool first with: cleanup --run-id ${o.pool}`]);
    }
  }
  const width = indexWidth(o.count);
  const names: string[] = [];
  const emails: string[] = [];
  for (let i = 0; i < o.count; i++) {
    names.push(resourceName(o.pool, i, width));
    emails.push(scaletestEmail(o.pool, i, width));
  }
  return { organization, names, emails, templateAdmins: templateAdminCount(o.count, o.templateAdminPercentage) };
}

function password(): string {
  return `Pw-${randomBytes(12).toString("base64url")}-7q`;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function executeCreateUsers(
  client: CoderClient,
  plan: CreateUsersPlan,
  o: CreateUsersOptions,
  hooks: { signal?: AbortSignal; runUnits?: BoundRunUnits; log?: (l: "info" | "warn", m: string) => void; onUserDone?: (u: UserRecord) => void } = {},
): Promise<CreateUsersResult> {
  const startedAt = Date.now();
  const t0 = performance.now();
  const indexes = plan.names.map((_, i) => i);
  const users = await (hooks.runUnits ?? runUnits)(indexes, { concurrency: o.concurrency, ...(hooks.signal ? { signal: hooks.signal } : {}), unitTimeoutMs: o.jobTimeoutMs ?? 0 }, {
    run: async (i, _n, unit) => {
      const rec: UserRecord = {
        index: i, username: plan.names[i]!, user_id: null, template_admin: i < plan.templateAdmins, ok: false, not_started: false, error: null,
        create_ms: null, login_ms: null, role_ms: null, started_at: Date.now(),
      };
      const pw = password();
      registerSecret(pw);
      let step = "create";
      try {
        let s = performance.now();
        const u = await client.request<User>("POST", "/users", {
          body: { username: rec.username, email: plan.emails[i]!, name: "", password: pw, login_type: "password", organization_ids: [plan.organization.id] },
          expect: [201],
          signal: unit.signal,
        });
        rec.create_ms = performance.now() - s;
        rec.user_id = u.id;
        // Logged in from a fresh client, as Coder's runner (no bypass header, no token): CoderClient.login.
        step = "login";
        s = performance.now();
        const session = await client.login(plan.emails[i]!, pw, { signal: unit.signal });
        rec.login_ms = performance.now() - s;
        // The pool keeps users, not sessions: log this one out again.
        try {
          await session.request("POST", "/users/logout", { expect: [200], signal: unit.signal });
        } finally {
          await session.close();
        }
        if (rec.template_admin) {
          step = "role";
          s = performance.now();
          await client.request("PUT", `/users/${encodeURIComponent(u.id)}/roles`, { body: { roles: ["template-admin"] }, expect: [200], signal: unit.signal });
          rec.role_ms = performance.now() - s;
        }
        rec.ok = true;
      } catch (e) {
        rec.error = `${step}: ${e instanceof CoderApiError || e instanceof Error ? errText(e) : String(e)}`;
        hooks.log?.("warn", `${rec.username} failed (${rec.error})`);
      }
      return rec;
    },
    notStarted: (i) => ({
      index: i, username: plan.names[i]!, user_id: null, template_admin: i < plan.templateAdmins, ok: false, not_started: true,
      error: "not started: the run stopped first", create_ms: null, login_ms: null, role_ms: null, started_at: Date.now(),
    }),
    onDone: (u) => hooks.onUserDone?.(u),
  });
  const pass = users.filter((u) => u.ok).length;
  return {
    pool: o.pool,
    started_at: startedAt,
    elapsed_ms: performance.now() - t0,
    users,
    pass,
    fail: users.length - pass,
    template_admins: users.filter((u) => u.ok && u.template_admin).length,
    exit_code: pass === users.length ? 0 : 1,
  };
}
