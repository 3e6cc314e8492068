// The run's own API token, minted in prepare (as Coder's runner does): the owner's workspace token dies
// when the runner workspace stops, and on_stop cleanup (the template's shutdown script) still needs one.
// It is registered as a secret at once, so no log, result or error can show it. With on_stop it is kept in
// a 0600 file outside the results directory until that cleanup has run.
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { log } from "../util/log.ts";
import { registerSecret } from "../util/redact.ts";

export interface RunToken {
  name: string;
  key: string;
  /** Coder's key id: the part of the key before the first "-". */
  id: string;
  /** Where it was saved for on_stop cleanup, or null. */
  file: string | null;
}

export function tokenDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SCALETEST_TOKEN_DIR || join(homedir(), ".config", "scaletest-runner");
}

export function tokenFile(runId: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(tokenDir(env), `${runId}.token`);
}

export async function mintRunToken(owner: CoderClient, c: Config): Promise<RunToken> {
  const name = `scaletest-runner-${c.runId}`;
  // A rerun with the same run id replaces its old token rather than failing on the name.
  const existing = (await owner.listTokens("me")).filter((t) => t.token_name === name);
  for (const t of existing) await owner.deleteToken("me", t.id);
  const { key } = await owner.createToken("me", { token_name: name });
  registerSecret(key);
  const id = key.split("-")[0] ?? key;
  let file: string | null = null;
  if (c.cleanupStrategy === "on_stop") {
    file = tokenFile(c.runId);
    mkdirSync(tokenDir(), { recursive: true, mode: 0o700 });
    writeFileSync(file, key, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  log.info(`prepare: minted API token ${name} for this run`);
  return { name, key, id, file };
}

/** Deletes the run's token (and its file). Never throws: a leftover token is reported, not fatal. */
export async function forgetRunToken(owner: CoderClient, token: RunToken, _c?: Config): Promise<void> {
  try {
    await owner.deleteToken("me", token.id);
  } catch (e) {
    log.warn(`could not delete the run's API token ${token.name}: ${(e as Error).message} (delete it in Account > Tokens)`);
  }
  if (token.file) rmSync(token.file, { force: true });
}
