// Coder's Prometheus series for this load type (scaletest/prebuilds/metrics.go): job counts as gauges per
// template, errors by action; served by the run's one metrics endpoint.
import { Counter, Gauge } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/registry.ts";
import type { JobCounts, PrebuildsAction } from "./types.ts";

const PREFIX = "coderd_scaletest_prebuild_";
const FILL = ["jobs_created", "jobs_running", "jobs_failed", "jobs_completed"] as const;
const DRAIN = ["deletion_jobs_created", "deletion_jobs_running", "deletion_jobs_failed", "deletion_jobs_completed"] as const;
export const ERRORS_METRIC = `${PREFIX}errors_total`;

function gauge(suffix: string): Gauge {
  const name = PREFIX + suffix;
  return scenarioMetric(name, () => new Gauge({ name, help: `Prebuild ${suffix.replaceAll("_", " ")} per template`, labelNames: ["template_name"], registers: [getRegistry()] }));
}

export interface PrebuildsMetrics {
  fill(template: string, c: JobCounts): void;
  drain(template: string, c: JobCounts): void;
  error(template: string, action: PrebuildsAction): void;
}

export function prebuildsMetrics(): PrebuildsMetrics {
  const fill = FILL.map(gauge);
  const drain = DRAIN.map(gauge);
  const errors = scenarioMetric(
    ERRORS_METRIC,
    () => new Counter({ name: ERRORS_METRIC, help: "Total number of prebuild errors", labelNames: ["template_name", "action"], registers: [getRegistry()] }),
  );
  const set = (gs: Gauge[], template_name: string, c: JobCounts): void => {
    [c.created, c.running, c.failed, c.completed].forEach((v, i) => gs[i]!.set({ template_name }, v));
  };
  return {
    fill: (t, c) => set(fill, t, c),
    drain: (t, c) => set(drain, t, c),
    error: (template_name, action) => errors.inc({ template_name, action }),
  };
}
