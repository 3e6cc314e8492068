// Prometheus series of create-workspaces (served by the run's one metrics endpoint), so Grafana
// shows the create phase live next to coderd's own provisioner metrics.
import { Counter, Gauge, Histogram } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/registry.ts";
import type { CreateStage, WorkspaceUnitResult } from "./types.ts";

const STAGE_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

export interface CreateMetrics {
  stage(stage: CreateStage, ms: number): void;
  started(): void;
  finished(unit: WorkspaceUnitResult): void;
}

export function createMetrics(): CreateMetrics {
  const stages = scenarioMetric(
    "scaletest_create_stage_seconds",
    () =>
      new Histogram({
        name: "scaletest_create_stage_seconds",
        help: "create-workspaces: duration of each stage per workspace (user, create, queue, build, agent, command, total)",
        labelNames: ["stage"],
        buckets: STAGE_BUCKETS,
        registers: [getRegistry()],
      }),
  );
  const done = scenarioMetric(
    "scaletest_create_workspaces_total",
    () =>
      new Counter({
        name: "scaletest_create_workspaces_total",
        help: "create-workspaces: workspaces finished, by result (ok, failed, not_started)",
        labelNames: ["result"],
        registers: [getRegistry()],
      }),
  );
  const inFlight = scenarioMetric(
    "scaletest_create_in_flight",
    () => new Gauge({ name: "scaletest_create_in_flight", help: "create-workspaces: workspaces being created now", registers: [getRegistry()] }),
  );
  return {
    stage: (stage, ms) => stages.observe({ stage }, ms / 1000),
    started: () => inFlight.inc(),
    finished: (u) => {
      if (!u.not_started) inFlight.dec();
      done.inc({ result: u.ok ? "ok" : u.not_started ? "not_started" : "failed" });
    },
  };
}
