/**
 * The traffic phase's side of scale-out: run the shards on an executor, read each shard's result, merge.
 *
 *   const { result, shards } = await runShardedTraffic(executor, {
 *     script: "web-terminal-traffic", runners: 3, runId, phase: "web-terminal-traffic", resultsDir,
 *     scriptArgs: ["--target-workspaces", "0:300", "--web-terminal-percentage", "100"], ...shardEnv(config),
 *     timeoutMs: duration + 5 * 60_000, signal,
 *   });
 *
 * Merge rule (src/traffic/result.ts mergeTrafficResults): counters added, HDR histograms merged from their
 * encoded form (percentiles recomputed, never averaged), per-connection rows and errors concatenated with
 * their shard.
 */
import { writeFileAtomicSync } from "../results/atomic.ts";
import { z } from "zod";
import { parseResults, PhaseRecord, ResultsFileError, TrafficResultJSON } from "../results/schema.ts";
import { mergeTrafficResults, type TrafficResult } from "../traffic/result.ts";
import { shardResultPath } from "./paths.ts";
import type { ShardExecutor, ShardOutcome, ShardRunSpec } from "./types.ts";

export interface ShardedTrafficOutcome {
  /** The merge of every shard that produced a result. */
  result: TrafficResult;
  /** One per shard, in index order. */
  shards: ShardOutcome[];
  /** Indexes of shards without a result (their targets got no traffic: the report must say so). */
  missing: number[];
  /** Worst exit status among the shards' scripts (1 when any shard's own verdict failed). */
  exitCode: number;
}

/** A shard's output: the traffic scenario's phase record, with the engine result in extra.traffic. */
const ShardOutput = PhaseRecord.extend({ extra: z.looseObject({ traffic: TrafficResultJSON }) });

/**
 * The engine result inside a shard's output, validated with the results schema: an output it cannot read
 * throws a ResultsFileError naming `source` (the shard's file, or its pod) and the field.
 */
export function trafficResultOf(output: unknown, source = "shard output"): TrafficResult {
  // The schema checks every field the merge reads; fields it does not know are kept as they are.
  return parseResults(ShardOutput, output, source).extra.traffic as TrafficResult;
}

/**
 * Runs `spec.runners` shards on `executor` and merges their results. Throws when no shard produced a result
 * (naming each shard's reason). Shards that did are merged even when others failed; see `missing`.
 * Shard outputs read from pod logs are also written to `<resultsDir>/<runId>/<phase>/shards/<i>.json`, so
 * every executor leaves the same files behind.
 */
export async function runShardedTraffic(executor: ShardExecutor, spec: ShardRunSpec): Promise<ShardedTrafficOutcome> {
  const shards = (await executor.runShards(spec)).slice().sort((a, b) => a.index - b.index);
  const results: TrafficResult[] = [];
  const missing: number[] = [];
  let exitCode = 0;
  for (const s of shards) {
    if (s.state !== "succeeded" || s.output === undefined) {
      missing.push(s.index);
      exitCode = Math.max(exitCode, 1);
      continue;
    }
    let r: TrafficResult;
    try {
      r = trafficResultOf(s.output, s.source ?? `shard ${s.shard}`);
    } catch (e) {
      if (!(e instanceof ResultsFileError)) throw e;
      s.state = "failed";
      s.message = e.message;
      missing.push(s.index);
      exitCode = Math.max(exitCode, 1);
      continue;
    }
    // The engine only records a shard when it is not "0/1"; tag it so merged rows say where they came from.
    results.push(r.shard ? r : { ...r, shard: s.shard });
    if (s.exitCode) exitCode = Math.max(exitCode, s.exitCode === 2 ? 2 : 1);
    const file = shardResultPath(spec.resultsDir, spec.runId, spec.phase, s.index);
    if (s.source !== file) {
      // Never through a symlink planted in the run folder (atomic.ts).
      writeFileAtomicSync(file, JSON.stringify(s.output, null, 2) + "\n");
    }
  }
  if (results.length === 0) {
    const why = shards.map((s) => `shard ${s.shard}: ${s.state}${s.message ? ` (${s.message})` : ""}`).join("; ");
    throw new Error(`${spec.script}: no shard of ${spec.runners} produced a result on the ${executor.name} executor: ${why}`);
  }
  return { result: mergeTrafficResults(results), shards, missing, exitCode };
}
