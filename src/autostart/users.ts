// Where an autostart run's users come from, behind one small interface so a user pool (Coder's
// --reuse-users) can be plugged in: `acquire(index)` gives a user and a client authenticated as it,
// `release()` gives back what acquire took (here: the minted token is revoked; the user itself goes
// with the run's cleanup). The default source creates one scale-test user per workspace, as Coder's
// runner does (POST /users), with a session token minted for it and bounded to just past the run.
import { CoderClient } from "../coder/client.ts";
import type { User } from "../coder/types.ts";
import { createUser } from "../create/unit.ts";
import { leaseUsers, type UserLease } from "../users/pool.ts";
import type { CreatePlan } from "../create/types.ts";
import type { AutostartAction } from "./types.ts";

export interface RunUser {
  user: User;
  /** Authenticated as the user (no rate-limit bypass: per-user clients never carry it, as Coder's). */
  client: CoderClient;
  reused: boolean;
  /** Gives back what acquire took; true when it all went back (the token revoked). */
  release(): Promise<boolean>;
}

export interface UserSource {
  acquire(index: number): Promise<RunUser>;
}

/** A failed acquisition, with Coder's action name for it. */
export class AcquireError extends Error {
  constructor(readonly action: AutostartAction, message: string) {
    super(message);
    this.name = "AcquireError";
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface NewUsersOptions {
  /** Lifetime of each minted token (ms). */
  tokenLifetimeMs: number;
  /** Per-user client settings (the run's request/connect timeouts). */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Creates user `index` of the plan (scaletest-<run-id>-NNNN) and mints its session token. */
export function newUsers(admin: CoderClient, plan: CreatePlan, o: NewUsersOptions): UserSource {
  return {
    async acquire(index) {
      let user: User;
      try {
        user = await createUser(admin, plan, index);
      } catch (e) {
        throw new AcquireError("create_user", `create user: ${errText(e)}`);
      }
      let token: string;
      try {
        const key = await admin.createToken(user.id, {
          token_name: `${plan.runId}-as-${index}-${Date.now().toString(36)}`,
          lifetime: Math.ceil(o.tokenLifetimeMs / 1000) * 1_000_000_000,
        });
        token = key.key;
      } catch (e) {
        throw new AcquireError("mint_token", `mint a token for ${user.username}: ${errText(e)}`);
      }
      const keyId = token.split("-")[0] ?? "";
      const client = new CoderClient({
        url: admin.url,
        token,
        concurrency: 2,
        ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
      return {
        user,
        client,
        reused: false,
        async release() {
          await client.close();
          try {
            await admin.deleteToken(user.id, keyId);
            return true;
          } catch {
            return false;
          }
        },
      };
    },
  };
}

/**
 * Users of a pool (create-users; the plan selected them read-only): one token minted for each on the first
 * acquire, each acquire hands out the next user; release() revokes every token (the users stay: they are
 * the pool's). Workspaces they own here go with the run's cleanup (the ownership rule allows any run's user).
 */
export function poolUsers(admin: CoderClient, plan: CreatePlan, o: NewUsersOptions): UserSource {
  const users = plan.poolUsers ?? [];
  let lease: Promise<UserLease> | null = null;
  let next = 0;
  return {
    async acquire() {
      lease ??= leaseUsers(admin, users, { runId: plan.runId, purpose: "as", lifetimeMs: o.tokenLifetimeMs, ...(o.signal ? { signal: o.signal } : {}) });
      let leased: UserLease;
      try {
        leased = await lease;
      } catch (e) {
        throw new AcquireError("mint_token", `mint tokens for the pool's users: ${errText(e)}`);
      }
      const one = leased.users[next++];
      if (!one) throw new AcquireError("create_user", `the pool has ${users.length} user(s) selected for this run, fewer than its workspaces`);
      return { user: one.user, client: one.client, reused: true, release: async () => (await leased.release()).failed === 0 };
    },
  };
}
