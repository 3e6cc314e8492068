// The run's own API token, minted in prepare (as Coder's runner does) so the run does not depend on the
// token it was started with, and revoked at the end. It is registered as a secret at once, so no log,
// result or error can show it, and it is never written to disk. A run killed before revoking it leaves
// it behind: `scenarios/cleanup.ts --run-id` deletes it by name (scaletest-runner-<run-id>). With the
// on_stop strategy the template's shutdown script cleans up with the workspace's own token.
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { log } from "../util/log.ts";
import { registerSecret } from "../util/redact.ts";

export interface RunToken {
  name: string;
  key: string;
  /** Coder's key id: the part of the key before the first "-". */
  id: string;
}

export function runTokenName(runId: string): string {
  return `scaletest-runner-${runId}`;
}

export async function mintRunToken(owner: CoderClient, c: Config): Promise<RunToken> {
  const name = runTokenName(c.runId);
  // A rerun with the same run id replaces its old token rather than failing on the name.
  const existing = (await owner.listTokens("me")).filter((t) => t.token_name === name);
  for (const t of existing) await owner.deleteToken("me", t.id);
  const { key } = await owner.createToken("me", { token_name: name });
  registerSecret(key);
  log.info(`prepare: minted API token ${name} for this run`);
  return { name, key, id: key.split("-")[0] ?? key };
}

/** Revokes the run's token. Never throws: a leftover token is reported (and removed by cleanup), not fatal. */
export async function forgetRunToken(owner: CoderClient, token: RunToken): Promise<void> {
  try {
    await owner.deleteToken("me", token.id);
  } catch (e) {
    log.warn(`could not delete the run's API token ${token.name}: ${(e as Error).message} (scenarios/cleanup.ts --run-id removes it)`);
  }
}
