// The settings a shard gets, as environment variables: "the same settings as env".
import { settingEntries, type Config, type SettingKey } from "../config/index.ts";

/**
 * Settings a shard must not inherit: the executor sets them per shard (shard, run id, results folder, outputs),
 * they only mean something to the pipeline (runners), or they depend on where the shard runs (metrics address).
 */
export const PER_SHARD_SETTINGS: readonly SettingKey[] = ["shard", "runId", "resultsDir", "outputs", "runners", "metricsAddress"];

export interface ShardEnv {
  /** Non-secret settings that differ from their defaults, by env var. */
  env: Record<string, string>;
  /** Secret settings that are set (the session token), by env var. */
  secretEnv: Record<string, string>;
}

/**
 * The run's configuration as env vars for shard processes/pods. Only values that differ from the default
 * are passed (shorter manifests, and a shard never reads a default it would compute itself anyway).
 */
export function shardEnv(config: Config): ShardEnv {
  const env: Record<string, string> = {};
  const secretEnv: Record<string, string> = {};
  for (const [key, s] of settingEntries()) {
    if (PER_SHARD_SETTINGS.includes(key)) continue;
    const value = config[key] as unknown;
    if (value === undefined || value === "") continue;
    const shown = s.show(value);
    if (s.secret) {
      secretEnv[s.env] = shown;
      continue;
    }
    if (s.default !== undefined && shown === s.show(s.default)) continue;
    env[s.env] = shown;
  }
  return { env, secretEnv };
}
