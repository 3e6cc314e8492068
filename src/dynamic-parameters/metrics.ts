// Coder's Prometheus series for this load type (scaletest/dynamicparameters/metrics.go): same names, the
// concurrent_evaluations label, default buckets; served by the run's one metrics endpoint.
import { Histogram } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/registry.ts";

export const INITIAL_METRIC = "coderd_scaletest_dynamic_parameters_latency_initial_response_seconds";
export const CHANGE_METRIC = "coderd_scaletest_dynamic_parameters_latency_change_response_seconds";

export interface DynamicParametersMetrics {
  initial(seconds: number, concurrentEvaluations: number): void;
  change(seconds: number, concurrentEvaluations: number): void;
}

export function dynamicParametersMetrics(): DynamicParametersMetrics {
  const initial = scenarioMetric(
    INITIAL_METRIC,
    () =>
      new Histogram({
        name: INITIAL_METRIC,
        help: "Time from opening the dynamic parameters stream until its initial evaluation arrives",
        labelNames: ["concurrent_evaluations"],
        registers: [getRegistry()],
      }),
  );
  const change = scenarioMetric(
    CHANGE_METRIC,
    () =>
      new Histogram({
        name: CHANGE_METRIC,
        help: "Time from the initial evaluation until the response to a parameter change arrives",
        labelNames: ["concurrent_evaluations"],
        registers: [getRegistry()],
      }),
  );
  return {
    initial: (s, n) => initial.observe({ concurrent_evaluations: String(n) }, s),
    change: (s, n) => change.observe({ concurrent_evaluations: String(n) }, s),
  };
}
