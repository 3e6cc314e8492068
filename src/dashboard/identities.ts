/**
 * Who browses: the run's `scaletest-` users (a token minted for each, as `coder exp scaletest dashboard` does)
 * or the runner's own identity (--use-host-login, or when no scaletest users exist).
 *
 * User choice follows the traffic scenarios: verified users of this run (`scaletest-<runId>-NNNN` with the
 * scale test's email) if any, else every run's verified users; sorted by name -> --target-users -> --percentage -> --shard; then only as many as
 * there are virtual users (--concurrency). Tokens are deleted again by `release()`.
 */
import type { CoderClient } from "../coder/index.ts";
import { selectTargets } from "../traffic/targets.ts";
import type { Logger } from "../util/log.ts";
import { belongsToRun } from "../util/naming.ts";
import { loadOwnership } from "../util/ownership.ts";
import { registerSecret } from "../util/redact.ts";
import { BadInputError } from "../util/errors.ts";

export interface Identity {
  username: string;
  /** Site owner: sees the admin pages. */
  owner: boolean;
  /** Session token (secret). */
  token: string;
}

export interface IdentitySet {
  identities: Identity[];
  source: "scaletest-users" | "host";
  /** Deletes the minted tokens (best effort; failures are logged, never thrown). */
  release(): Promise<void>;
}

export interface IdentityOptions {
  runId: string;
  /**
   * Unused: the host identity browses with the client's own token (the run's token in the pipeline, never
   * the Owner's original one). Kept so existing callers compile.
   */
  hostToken?: string;
  useHostLogin: boolean;
  /** At most this many identities are needed (the number of virtual users). */
  max: number;
  targetUsers?: string;
  percentage?: number;
  shard?: string;
  /** Token lifetime (ms); default 24 h, enough for any dashboard phase. */
  tokenLifetimeMs?: number;
  signal?: AbortSignal;
  log?: Logger;
}

interface Minted {
  user: string;
  keyId: string;
}

const isOwnerRole = (roles: { name: string }[] | undefined): boolean => (roles ?? []).some((r) => r.name === "owner");

export async function resolveIdentities(client: CoderClient, opts: IdentityOptions): Promise<IdentitySet> {
  if (!opts.useHostLogin) {
    // Only verified scale-test users (exact name and the scale test's email: src/util/ownership.ts);
    // a look-alike such as `scaletest-ops` or a foreign-email `scaletest-<id>-0001` never gets a token.
    const own = await loadOwnership(client, { all: true }, null, opts.signal);
    const all = [...own.users.values()].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
    const ofRun = all.filter((u) => belongsToRun(u.username, opts.runId));
    const pool = ofRun.length > 0 ? ofRun : all;
    if (pool.length > 0) {
      const selectOpts: Parameters<typeof selectTargets<(typeof pool)[number]>>[1] = {
        noun: "users",
        nameOf: (u) => u.username,
      };
      if (opts.targetUsers) selectOpts.range = opts.targetUsers;
      if (opts.percentage !== undefined) selectOpts.percentage = opts.percentage;
      if (opts.shard) selectOpts.shard = opts.shard;
      const chosen = selectTargets(pool, selectOpts).slice(0, Math.max(1, opts.max));
      if (chosen.length === 0) throw new BadInputError("the user selection (--target-users, --percentage, --shard) left no scaletest users");
      opts.log?.info(
        `dashboard: browsing as ${chosen.length} scaletest user(s) ${ofRun.length > 0 ? `of run ${opts.runId}` : "(of any run: none belong to this run)"}`,
      );
      return mintTokens(client, chosen, opts);
    }
    if (opts.targetUsers) {
      throw new BadInputError(`--target-users ${opts.targetUsers} was given but no scaletest- users exist; create them first or drop --target-users`);
    }
    opts.log?.info("dashboard: no scaletest- users exist; browsing as the runner's own user");
  }
  const me = await client.me();
  return {
    identities: [{ username: me.username, owner: isOwnerRole(me.roles), token: client.sessionToken }],
    source: "host",
    release: async () => {},
  };
}

async function mintTokens(
  client: CoderClient,
  users: { username: string; roles?: { name: string }[] }[],
  opts: IdentityOptions,
): Promise<IdentitySet> {
  const minted: Minted[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(
      minted.splice(0).map(async (m) => {
        try {
          await client.deleteToken(m.user, m.keyId);
        } catch (e) {
          opts.log?.warn(`dashboard: could not delete the token minted for ${m.user}: ${(e as Error).message}`);
        }
      }),
    );
  };
  const lifetimeNs = Math.round((opts.tokenLifetimeMs ?? 24 * 3600_000) * 1e6);
  const stamp = Date.now().toString(36);
  try {
    const identities = await Promise.all(
      users.map(async (u, i) => {
        // Token names are unique per user; the stamp keeps reruns from colliding with leftovers.
        const { key } = await client.createToken(u.username, { token_name: `scaletest-dashboard-${stamp}-${i}`, lifetime: lifetimeNs });
        registerSecret(key);
        minted.push({ user: u.username, keyId: key.split("-")[0] ?? "" });
        return { username: u.username, owner: isOwnerRole(u.roles), token: key };
      }),
    );
    return { identities, source: "scaletest-users", release };
  } catch (e) {
    await release();
    throw e;
  }
}
