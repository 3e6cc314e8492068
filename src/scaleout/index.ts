// Scale-out: one traffic phase fanned out over N shards (child processes or a Kubernetes Indexed Job).
export type { ShardExecutor, ShardOutcome, ShardRunSpec, ShardScript, ShardState } from "./types.ts";
export { LocalExecutor, PROJECT_DIR, shardArgs, type LocalExecutorOptions } from "./local.ts";
export { runShardedTraffic, trafficResultOf, type ShardedTrafficOutcome } from "./merge.ts";
export { shardEnv, PER_SHARD_SETTINGS, type ShardEnv } from "./env.ts";
export { encodeShardLog, decodeShardLog, type ShardLogPayload } from "./shard-log.ts";
export {
  shardsDir,
  shardResultPath,
  shardStatusPath,
  shardWorkDir,
  jobName,
  secretName,
  runSelector,
  LABEL_RUN_ID,
  LABEL_PHASE,
  LABEL_JOB,
  SHARD_APP,
} from "./paths.ts";
export { buildShardJob, buildShardSecret, objectLabels, type ShardJobOptions, type ShardResultsTransport } from "./job.ts";
// The Kubernetes executor is imported from ./kubernetes.ts where it is used: its client library is large
// (over 800 modules, more than a second of start-up), so nothing loads it until a run really needs it.
