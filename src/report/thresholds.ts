// Re-judging a finished run against other thresholds: `report.ts --threshold-provision-p95 90s RUN`
// recomputes that check from the recorded data (stage percentiles, run counts, error rates) instead of
// re-running the test. Only the thresholds the user set are re-judged; the others keep their recorded
// verdicts. Checks are named as below; a recorded threshold of the same phase and name is replaced.
import { formatDuration } from "../config/duration.ts";
import type { ReportModel, ReportPhase, ReportThreshold } from "./model.ts";

export interface ThresholdOverrides {
  /** Percent (0..100) of workspaces that must succeed. */
  createSuccess?: number;
  /** ms */
  provisionP95?: number;
  dashboardP95?: number;
  dashboardP99?: number;
  /** Percent (0..100). */
  dashboardErrorRate?: number;
  trafficErrorRate?: number;
}

function worst(p: ReportPhase, k: "p95" | "p99"): number | null {
  const vals = Object.values(p.stages).map((s) => s[k]).filter((v): v is number => v !== null);
  return vals.length ? Math.max(...vals) : null;
}

function check(phase: string, name: string, rule: string, observed: number | null, ok: (v: number) => boolean, unit: ReportThreshold["unit"], direction: ReportThreshold["direction"]): ReportThreshold {
  return { phase, name, rule, observed, ok: observed !== null && ok(observed), unit, direction };
}

/** The checks the overrides ask for, computed from the run's data. */
export function judge(model: ReportModel, o: ThresholdOverrides): ReportThreshold[] {
  const out: ReportThreshold[] = [];
  for (const p of model.phases) {
    if (p.kind === "create") {
      if (o.createSuccess !== undefined) {
        const min = o.createSuccess;
        const v = p.totals.runs > 0 ? p.totals.pass / p.totals.runs : null;
        out.push(check(p.name, "create success", `>=${min}%`, v, (x) => x * 100 >= min - 1e-9, "ratio", "higher"));
      }
      if (o.provisionP95 !== undefined) {
        const max = o.provisionP95;
        const v = p.stages.total?.p95 ?? null;
        out.push(check(p.name, "provisioning p95", `p95<${formatDuration(max)}`, v, (x) => x < max, "ms", "lower"));
      }
    } else if (p.kind === "dashboard") {
      if (o.dashboardP95 !== undefined) {
        const max = o.dashboardP95;
        out.push(check(p.name, "dashboard p95", `p95<${formatDuration(max)}`, worst(p, "p95"), (x) => x < max, "ms", "lower"));
      }
      if (o.dashboardP99 !== undefined) {
        const max = o.dashboardP99;
        out.push(check(p.name, "dashboard p99", `p99<${formatDuration(max)}`, worst(p, "p99"), (x) => x < max, "ms", "lower"));
      }
      if (o.dashboardErrorRate !== undefined) {
        const max = o.dashboardErrorRate;
        out.push(check(p.name, "dashboard error rate", `<=${max}%`, p.errorRate, (x) => x * 100 <= max + 1e-9, "ratio", "lower"));
      }
    } else if (p.kind === "traffic" && o.trafficErrorRate !== undefined) {
      const max = o.trafficErrorRate;
      out.push(check(p.name, `${p.name} error rate`, `<=${max}%`, p.errorRate, (x) => x * 100 <= max + 1e-9, "ratio", "lower"));
    }
  }
  return out;
}

/**
 * A copy of the model judged with the overrides: matching thresholds replaced (others appended), phase
 * statuses and the verdict recomputed from them (a phase with failed runs or an error keeps failing;
 * an interrupted or unfinished run keeps that verdict).
 */
export function rejudge(model: ReportModel, o: ThresholdOverrides): ReportModel {
  const fresh = judge(model, o);
  if (fresh.length === 0) return model;
  const phases = model.phases.map((p) => {
    const mine = fresh.filter((t) => t.phase === p.name);
    if (mine.length === 0) return p;
    const kept = p.thresholds.filter((t) => !mine.some((m) => m.name === t.name));
    const thresholds = [...kept, ...mine];
    let status = p.status;
    if (status === "pass" || status === "fail") {
      status = p.totals.fail > 0 || thresholds.some((t) => !t.ok) ? "fail" : "pass";
    }
    return { ...p, thresholds, status };
  });
  let verdict = model.verdict;
  if (verdict === "pass" || verdict === "fail") {
    verdict = phases.some((p) => p.status === "fail" || p.status === "error") ? "fail" : "pass";
  }
  const names = fresh.map((t) => `${t.phase}: ${t.name} ${t.rule}`).join("; ");
  return {
    ...model,
    phases,
    verdict,
    thresholds: phases.flatMap((p) => p.thresholds),
    warnings: [...model.warnings, `thresholds re-judged by the report's settings (the run's own verdict is in summary.json): ${names}`],
  };
}
