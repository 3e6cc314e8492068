// The user pool: the one module a load type calls to take scale-test users from a pool (made once by
// create-users) instead of creating its own — Coder's --reuse-users, narrowed to one named pool so a run
// knows exactly whose users it borrows.
//
//   const users = await selectPoolUsers(client, { pool: "p1", runId, count });   // read-only (plan/prepare)
//   const lease = await leaseUsers(client, users, { runId, purpose: "create" });  // mints one token per user
//   ... lease.users[i].client acts as users[i] ...
//   const tokens = await lease.release();                                          // revokes every token
//
// A pool is the users of one create-users run: `scaletest-<pool>-NNNN` with the scale test's email (the
// ownership rule, src/util/ownership.ts). Borrowing never makes them the run's: the run's cleanup deletes
// its workspaces (owned by pool users, which the rule allows) but never a pool user; only an explicit
// cleanup of the pool (`cleanup --run-id <pool>`) deletes them. Tokens are minted per run, named
// `scaletest-<run>-<purpose><stamp>`, bounded in lifetime, and revoked when the run is done with them.
import pLimit from "p-limit";
import { CoderClient } from "../coder/client.ts";
import type { User } from "../coder/types.ts";
import { BadInputError } from "../util/errors.ts";
import { isScaletestUser } from "../util/ownership.ts";
import { isRunId, runPrefix } from "../util/naming.ts";
import { registerSecret } from "../util/redact.ts";

export class UserPoolError extends BadInputError {
  constructor(message: string) {
    super(message);
    this.name = "UserPoolError";
  }
}

/** Problems with a --user-pool value for run `runId` (no API calls). */
export function checkPoolId(pool: string, runId: string): string[] {
  if (!isRunId(pool)) return [`--user-pool ${JSON.stringify(pool)} is not a pool id: give the --run-id of the create-users run that made the pool (1-8 of [a-z0-9])`];
  if (pool === runId) return [`--user-pool ${pool} is this run's own id: a run borrows a pool's users, it cannot be the pool (its cleanup would delete them); choose another --run-id`];
  return [];
}

/** A pool user a run may borrow: verified member of the pool, not suspended, password login, not an Owner. */
export function usablePoolUser(u: User, pool: string): boolean {
  if (!isScaletestUser(u, { runId: pool })) return false;
  if (u.status === "suspended") return false;
  if ((u.login_type ?? "password") !== "password") return false;
  return !(u.roles ?? []).some((r) => r.name === "owner");
}

/** Every usable user of `pool`, sorted by username (read-only). */
export async function listPoolUsers(client: CoderClient, pool: string, signal?: AbortSignal): Promise<User[]> {
  const out: User[] = [];
  for await (const u of client.iterateUsers({ q: runPrefix(pool), ...(signal ? { signal } : {}) })) if (usablePoolUser(u, pool)) out.push(u);
  return out.sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
}

/**
 * The first `count` usable users of `pool` (by username). Throws UserPoolError, before anything is created,
 * when the id is bad or the pool holds too few.
 */
export async function selectPoolUsers(client: CoderClient, o: { pool: string; runId: string; count: number; signal?: AbortSignal }): Promise<User[]> {
  const problems = checkPoolId(o.pool, o.runId);
  if (problems.length) throw new UserPoolError(problems[0]!);
  const users = await listPoolUsers(client, o.pool, o.signal);
  if (users.length < o.count) {
    throw new UserPoolError(
      users.length === 0
        ? `--user-pool ${o.pool} holds no usable users (scaletest-${o.pool}-NNNN, password login, not suspended, not Owners): make it first with create-users --run-id ${o.pool} --count ${o.count}`
        : `--user-pool ${o.pool} holds ${users.length} usable user(s); this run needs ${o.count}: lower the count or make a bigger pool`,
    );
  }
  return users.slice(0, o.count);
}

export interface LeasedUser {
  user: User;
  /** A client acting as this user (its minted token; no rate-limit bypass, as Coder's per-user clients). */
  client: CoderClient;
}

export interface TokenCounts {
  minted: number;
  revoked: number;
  failed: number;
}

export interface UserLease {
  users: LeasedUser[];
  /** Revokes every minted token and closes the clients; safe to call twice. Never throws. */
  release(): Promise<TokenCounts>;
}

export interface LeaseOptions {
  runId: string;
  /** A short word naming the use (token names: scaletest-<run>-<purpose><stamp>), letters/digits, <= 6. */
  purpose: string;
  /** Token lifetime (ms): a crashed run's tokens expire on their own. Default 24 h. */
  lifetimeMs?: number;
  /** Tokens minted at once (default 10). */
  concurrency?: number;
  signal?: AbortSignal;
  log?: (level: "warn" | "info", msg: string) => void;
}

/** Mints one token per user (Coder's reuse mode), each behind its own client. All or nothing. */
export async function leaseUsers(client: CoderClient, users: readonly User[], o: LeaseOptions): Promise<UserLease> {
  if (!/^[a-z0-9]{1,6}$/.test(o.purpose)) throw new Error(`lease purpose ${JSON.stringify(o.purpose)} must be 1-6 of [a-z0-9]`);
  const stamp = Date.now().toString(36).slice(-5);
  const name = `${runPrefix(o.runId)}${o.purpose}${stamp}`;
  const minted: { user: User; keyId: string; client: CoderClient }[] = [];
  const counts: TokenCounts = { minted: 0, revoked: 0, failed: 0 };
  let released = false;
  const release = async (): Promise<TokenCounts> => {
    if (released) return counts;
    released = true;
    const limit = pLimit(o.concurrency ?? 10);
    await Promise.all(
      minted.map((m) =>
        limit(async () => {
          await m.client.close();
          try {
            // The run's own client revokes it (not the token itself: it would be gone mid-request).
            await client.deleteToken(m.user.id, m.keyId);
            counts.revoked++;
          } catch (e) {
            counts.failed++;
            o.log?.("warn", `could not revoke the token minted for pool user ${m.user.username}: ${(e as Error).message} (it expires on its own)`);
          }
        }),
      ),
    );
    return counts;
  };
  const limit = pLimit(o.concurrency ?? 10);
  const lifetimeNs = Math.round((o.lifetimeMs ?? 24 * 3600_000) * 1e6);
  try {
    await Promise.all(
      users.map((user) =>
        limit(async () => {
          if (o.signal?.aborted) throw new Error("stopped before every pool user's token was minted");
          const { key } = await client.createToken(user.id, { token_name: name, lifetime: lifetimeNs });
          registerSecret(key);
          counts.minted++;
          const userClient = new CoderClient({ url: client.url, token: key, concurrency: 2, ...(o.signal ? { signal: o.signal } : {}) });
          minted.push({ user, keyId: key.split("-")[0] ?? "", client: userClient });
        }),
      ),
    );
  } catch (e) {
    await release();
    throw new Error(`minting tokens for the pool's users: ${(e as Error).message}`, { cause: e });
  }
  const byId = new Map(minted.map((m) => [m.user.id, m]));
  return { users: users.map((u) => ({ user: u, client: byId.get(u.id)!.client })), release };
}

/**
 * After a crash, the tokens a run minted for borrowed users outlive it (until their lifetime ends). A run's
 * cleanup calls this with the owners of the run's workspaces that it does not delete itself (pool users):
 * their tokens named for run `runId` (scaletest-<run>-<purpose><stamp>) are revoked. Never throws.
 */
export async function revokeRunTokens(
  client: CoderClient,
  runId: string,
  users: readonly Pick<User, "id" | "username">[],
  log?: (level: "warn" | "info", msg: string) => void,
): Promise<{ deleted: string[]; failed: string[] }> {
  const name = new RegExp(`^${runPrefix(runId)}[a-z0-9]+$`);
  const deleted: string[] = [];
  const failed: string[] = [];
  for (const u of users) {
    let tokens;
    try {
      tokens = await client.listTokens(u.id);
    } catch (e) {
      failed.push(`${u.username}/(list: ${(e as Error).message})`);
      continue;
    }
    for (const t of tokens) {
      if (!name.test(t.token_name)) continue;
      try {
        await client.deleteToken(u.id, t.id);
        deleted.push(`${u.username}/${t.token_name}`);
      } catch (e) {
        failed.push(`${u.username}/${t.token_name}`);
        log?.("warn", `could not revoke token ${t.token_name} of pool user ${u.username}: ${(e as Error).message}`);
      }
    }
  }
  if (deleted.length) log?.("info", `cleanup: revoked ${deleted.length} token(s) the run minted for borrowed users`);
  return { deleted, failed };
}
