// The named metrics of a create-workspaces run (src/thresholds/catalog.ts names them), for thresholds.
import { counter, latency, latencyFromSamples, rate, rateSeries, valueSeries, type MetricSet } from "../thresholds/metrics.ts";
import type { CreateResult, CreateStage } from "./types.ts";

/** Catalog name of each stage: the whole unit is "provision", the create call "request". */
const STAGE_METRIC: Record<CreateStage, string> = {
  user: "create.user",
  create: "create.request",
  queue: "create.queue",
  build: "create.build",
  agent: "create.agent",
  command: "create.command",
  total: "create.provision",
};

export function createMetricSet(r: CreateResult): MetricSet {
  const out: Record<string, MetricSet[string]> = {};
  for (const [stage, name] of Object.entries(STAGE_METRIC) as [CreateStage, string][]) {
    out[name] = latency(latencyFromSamples(r.units.map((u) => u.timings[stage]).filter((v): v is number => v !== null)));
  }
  // Of the workspaces asked for: ones never started (the run stopped) count as not created.
  out["create.success_rate"] = rate(rateSeries(r.units.filter((u) => u.ok).length, r.count));
  const failed = new Map<string, number>();
  for (const u of r.units) {
    if (u.ok) continue;
    const stage = u.not_started ? "not_started" : (u.failed_stage ?? "unknown");
    failed.set(stage, (failed.get(stage) ?? 0) + 1);
  }
  out["create.failures"] = counter("count", ...[...failed].map(([stage, n]) => valueSeries(n, { stage })));
  out["create.retries"] = counter("count", valueSeries(r.retries));
  return out;
}
