// A workspace-traffic scenario split over shards (--runners N > 1): a Kubernetes Indexed Job when the
// runner is in a pod, else N local child processes (which still spreads the load over this machine's
// cores). Each shard runs the scenario script on its part of the slice; results are merged.
import { basename } from "node:path";
import type { Config } from "../config/index.ts";
import { LocalExecutor, runShardedTraffic, shardEnv, type ShardExecutor, type ShardOutcome, type ShardRunSpec } from "../scaleout/index.ts";
import type { KubernetesExecutorOptions } from "../scaleout/kubernetes.ts";
import type { RunnerContext } from "../scenario/runner.ts";
import { TRAFFIC_SCRIPT, trafficAutoTimeoutMs, type TrafficSettings } from "../traffic/scenario.ts";
import { trafficWaves } from "../traffic/queue.ts";
import type { TrafficResult } from "../traffic/result.ts";
import { log } from "../util/log.ts";
import type { ScenarioPlan } from "./plan.ts";

/** The Kubernetes executor, its (large) client library loaded on first use rather than by every entry point. */
class KubernetesExecutorOnDemand implements ShardExecutor {
  readonly name = "kubernetes";
  private executor: Promise<ShardExecutor> | null = null;
  constructor(private readonly opts: KubernetesExecutorOptions) {}
  private get(): Promise<ShardExecutor> {
    this.executor ??= import("../scaleout/kubernetes.ts").then((m) => new m.KubernetesExecutor(this.opts));
    return this.executor;
  }
  async runShards(spec: ShardRunSpec): Promise<ShardOutcome[]> {
    return (await this.get()).runShards(spec);
  }
  async cleanup(runId: string): Promise<string[]> {
    return (await this.get()).cleanup(runId);
  }
}

/** In a pod: an Indexed Job in the runner's namespace; elsewhere: child processes. */
export function shardExecutor(c: Config, env: NodeJS.ProcessEnv = process.env): ShardExecutor {
  if (env.KUBERNETES_SERVICE_HOST) {
    if (!c.runnerImage) throw new Error("--runners > 1 in Kubernetes needs --runner-image (SCALETEST_RUNNER_IMAGE): the image shard pods run");
    return new KubernetesExecutorOnDemand({ namespace: c.namespace, image: c.runnerImage, results: { mode: "log" }, log: (m) => log.info(m) });
  }
  return new LocalExecutor({});
}

/** The most waves any shard's connections take: its largest slice part over its smallest job-concurrency share. */
function shardWaves(c: Config, s: ScenarioPlan): number {
  if (c.jobConcurrency === 0) return 1;
  const perShard = Math.ceil((s.slice.end - s.slice.start) / c.runners);
  return trafficWaves(perShard, Math.max(1, Math.floor(c.jobConcurrency / c.runners)));
}

export function shardedTraffic(c: Config, s: ScenarioPlan) {
  return async (ctx: RunnerContext, t: TrafficSettings): Promise<{ result: TrafficResult; missing: number[] }> => {
    const executor = shardExecutor(c);
    log.info(`${s.phase}: ${c.runners} shards via ${executor.name}`);
    const out = await runShardedTraffic(executor, {
      script: TRAFFIC_SCRIPT[t.kind],
      runners: c.runners,
      runId: c.runId,
      phase: basename(ctx.phaseDir),
      resultsDir: c.resultsDir,
      // Shards take the pipeline's slice as is: the percentage was applied when slicing.
      scriptArgs: ["--target-workspaces", s.slice.spec, "--duration", `${s.durationMs}ms`, "--percentage", "100"],
      ...shardEnv(c),
      // The shard's own hard limit (ramp + duration + 2m unless --traffic-timeout, longer when its connections
      // queue for --job-concurrency) plus a minute to start and report.
      timeoutMs: (c.trafficTimeout > 0 ? c.trafficTimeout : trafficAutoTimeoutMs(Math.min(c.ramp, Math.max(0, s.durationMs - 1)), s.durationMs, shardWaves(c, s))) + 60_000,
      signal: ctx.signal,
    });
    if (out.missing.length) log.warn(`${s.phase}: no results from shard(s) ${out.missing.join(", ")}`);
    return { result: out.result, missing: out.missing };
  };
}
