// A workspace-traffic scenario (ssh, web-terminal, app) inside the pipeline: the scenario's slice of the
// run's workspaces, its own duration and traffic settings, recorded as a phase. With --runners N > 1 the
// slice is split over N shards: a Kubernetes Indexed Job when the runner is in a pod, else N local
// child processes (which still spreads the load over this machine's cores); shard results are merged.
import { basename } from "node:path";
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import type { PhaseRecord } from "../results/summary.ts";
import { KubernetesExecutor, LocalExecutor, runShardedTraffic, shardEnv, type ShardExecutor } from "../scaleout/index.ts";
import { runTrafficScenario, trafficPhaseRecord, TRAFFIC_SCRIPT } from "../traffic/scenario.ts";
import type { TrafficResult } from "../traffic/result.ts";
import { log } from "../util/log.ts";
import { receivedStopSignal } from "../util/signals.ts";
import type { ScenarioPlan } from "./plan.ts";

/** In a pod: an Indexed Job in the runner's namespace; elsewhere: child processes. */
export function shardExecutor(c: Config, env: NodeJS.ProcessEnv = process.env): ShardExecutor {
  if (env.KUBERNETES_SERVICE_HOST) {
    if (!c.runnerImage) throw new Error("--runners > 1 in Kubernetes needs --runner-image (SCALETEST_RUNNER_IMAGE): the image shard pods run");
    return new KubernetesExecutor({ namespace: c.namespace, image: c.runnerImage, results: { mode: "log" }, log: (m) => log.info(m) });
  }
  return new LocalExecutor({});
}

export async function runTrafficPhase(
  client: CoderClient,
  c: Config,
  s: ScenarioPlan,
  signal: AbortSignal,
  phaseDir: string | null,
): Promise<PhaseRecord> {
  if (s.scenario === "dashboard") throw new Error("dashboard is not a workspace-traffic scenario");
  let result: TrafficResult;
  let missingShards: number[] = [];
  if (c.runners > 1) {
    const executor = shardExecutor(c);
    log.info(`${s.phase}: ${c.runners} shards via ${executor.name}`);
    const out = await runShardedTraffic(executor, {
      script: TRAFFIC_SCRIPT[s.scenario],
      runners: c.runners,
      runId: c.runId,
      phase: phaseDir ? basename(phaseDir) : s.phase,
      resultsDir: c.resultsDir,
      // Shards take the pipeline's slice as is: the percentage was applied when slicing.
      scriptArgs: ["--target-workspaces", s.slice.spec, "--duration", `${s.durationMs}ms`, "--percentage", "100"],
      ...shardEnv(c),
      timeoutMs: (c.trafficTimeout > 0 ? c.trafficTimeout : s.durationMs + 120_000) + 60_000,
      signal,
    });
    if (out.missing.length) log.warn(`${s.phase}: no results from shard(s) ${out.missing.join(", ")}`);
    missingShards = out.missing;
    result = out.result;
  } else {
    result = await runTrafficScenario(client, c, s.scenario, { signal, targetRange: s.slice.spec, durationMs: s.durationMs, log });
  }
  const record = trafficPhaseRecord(result, c.runId, s.phase, c.thresholdTrafficErrorRate, signal.aborted ? receivedStopSignal() : null);
  if (c.runners > 1) {
    // A shard that produced nothing would otherwise vanish from the merged counts: it fails the phase.
    record.thresholds.push({
      name: `${s.phase} shards reporting`,
      rule: `missing == 0 of ${c.runners}`,
      observed: missingShards.length,
      ok: missingShards.length === 0,
      unit: "count",
    });
    record.extra.missing_shards = missingShards;
    if (missingShards.length && record.status === "pass") record.status = "fail";
  }
  return record;
}
