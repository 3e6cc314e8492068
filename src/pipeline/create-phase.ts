// The create-workspaces phase as the pipeline records it: Coder's harness results, stage timings, and the
// seeds' thresholds (success rate, provisioning p95).
import type { Config } from "../config/index.ts";
import { formatDuration } from "../config/index.ts";
import { createOptionsFromConfig, toHarnessJSON, type CreateOptions, type CreateResult } from "../create/index.ts";
import { buildPhaseRecord, type PhaseRecord, type ThresholdResult } from "../results/summary.ts";

export function createOptions(c: Config): CreateOptions {
  return createOptionsFromConfig(c, c.thresholdCreateSuccess);
}

export function createThresholds(r: CreateResult, c: Config): ThresholdResult[] {
  const p95 = r.stages.total.p95;
  return [
    {
      name: "create-workspaces success rate",
      rule: `>= ${c.thresholdCreateSuccess}%`,
      observed: r.success_rate / 100,
      ok: r.success_rate >= c.thresholdCreateSuccess,
      unit: "ratio",
    },
    {
      name: "create-workspaces p95 provisioning (create call to agent ready)",
      rule: `p95 < ${formatDuration(c.thresholdProvisionP95)}`,
      observed: p95,
      ok: p95 !== null && p95 < c.thresholdProvisionP95,
      unit: "ms",
    },
  ];
}

export function createPhaseRecord(r: CreateResult, c: Config, phase = "create-workspaces"): PhaseRecord {
  return buildPhaseRecord({
    runId: c.runId,
    phase,
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    harness: toHarnessJSON(r),
    stages: r.stages,
    thresholds: createThresholds(r, c),
    interruptedBy: r.stopped === "SIGINT" || r.stopped === "SIGTERM" ? r.stopped : null,
    extra: {
      // Read by the report: the distribution of provisioning times.
      buildTimes: r.units.filter((u) => u.ok && u.timings.total !== null).map((u) => u.timings.total as number),
      success_rate: r.success_rate,
      retries: r.retries,
      stopped: r.stopped,
      count: r.count,
      template: r.template,
    },
  });
}
