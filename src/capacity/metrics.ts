// The capacity search on the metrics endpoint, beside the steps' own load metrics: the load of the step
// running now, the knee found so far, and the steps by verdict (the Grafana row "Capacity search").
import { Counter, Gauge } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/index.ts";

export interface CapacityMetrics {
  stepStarted(load: string, n: number): void;
  stepDone(load: string, n: number, ok: boolean, knee: number | null): void;
}

export function capacityMetrics(): CapacityMetrics {
  const step = scenarioMetric("scaletest_capacity_step_load", () => new Gauge({ name: "scaletest_capacity_step_load", help: "Load of the capacity step running now (0 between steps).", labelNames: ["load"], registers: [getRegistry()] }));
  const knee = scenarioMetric("scaletest_capacity_knee", () => new Gauge({ name: "scaletest_capacity_knee", help: "Largest capacity step so far that met every threshold.", labelNames: ["load"], registers: [getRegistry()] }));
  const steps = scenarioMetric("scaletest_capacity_steps_total", () => new Counter({ name: "scaletest_capacity_steps_total", help: "Capacity steps finished, by result (held, failed).", labelNames: ["load", "result"], registers: [getRegistry()] }));
  return {
    stepStarted: (load, n) => step.set({ load }, n),
    stepDone: (load, _n, ok, k) => {
      step.set({ load }, 0);
      steps.inc({ load, result: ok ? "held" : "failed" });
      if (k !== null) knee.set({ load }, k);
    },
  };
}
