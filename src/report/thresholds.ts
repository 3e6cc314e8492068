// Re-judging a finished run against other limits: `report.ts --threshold-provision-p95 90s RUN` recomputes
// that threshold from the phase's recorded metrics instead of re-running the test. A re-judged threshold
// REPLACES the recorded row that measures the same thing (same metric and statistic, whatever its limit);
// the other rows keep their recorded verdicts.
import { formatDuration } from "../config/duration.ts";
import { summarizeSeries, valueOf } from "../results/metric-set.ts";
import type { MetricSetJSON } from "../results/schema.ts";
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

/** What a threshold measures: its expression without the limit and without a label selector. */
export function thresholdIdentity(expression: string): string {
  return expression.replace(/(<=|>=|==|<|>)[^<>=]*$/, "").replace(/\{[^}]*\}/g, "").trim();
}

/** The worst label value's percentile of a labelled latency metric (every label value must hold). */
function worstPercentile(metrics: MetricSetJSON, name: string, stat: "p95" | "p99"): { value: number | null; label: string | null } {
  const m = metrics[name];
  if (!m || m.type !== "latency") return { value: null, label: null };
  let worst: { value: number | null; label: string | null } = { value: null, label: null };
  for (const s of m.series) {
    const v = summarizeSeries([s])[stat];
    if (v !== null && (worst.value === null || v > worst.value)) worst = { value: v, label: Object.entries(s.labels).map(([k, x]) => `${k}=${x}`).join(",") || null };
  }
  return worst;
}

function row(p: ReportPhase, expression: string, metric: string, observed: number | null, limit: number, unit: string, ok: (v: number) => boolean, label: string | null = null): ReportThreshold {
  const pass = observed !== null && ok(observed);
  return {
    phase: p.name, expression, metric, observed, limit, unit, ok: pass, abort: false, failed_label: pass ? null : label,
    source: "report", direction: /</.test(expression) ? "lower" : "higher",
  };
}

/** The thresholds the overrides ask for, computed from each phase's recorded metrics. */
export function judge(model: ReportModel, o: ThresholdOverrides): ReportThreshold[] {
  const out: ReportThreshold[] = [];
  for (const p of model.phases) {
    const m = p.metrics;
    if (p.kind === "create") {
      if (o.createSuccess !== undefined) {
        const min = o.createSuccess;
        out.push(row(p, `create.success_rate>=${min}%`, "create.success_rate", valueOf(m, "create.success_rate"), min / 100, "ratio", (x) => x * 100 >= min - 1e-9));
      }
      if (o.provisionP95 !== undefined) {
        const max = o.provisionP95;
        const v = m["create.provision"]?.type === "latency" ? summarizeSeries(m["create.provision"].series).p95 : null;
        out.push(row(p, `create.provision.p95<${formatDuration(max)}`, "create.provision", v, max, "ms", (x) => x < max));
      }
    } else if (p.kind === "dashboard") {
      for (const [stat, max] of [["p95", o.dashboardP95], ["p99", o.dashboardP99]] as const) {
        if (max === undefined) continue;
        const w = worstPercentile(m, "dashboard.page", stat);
        out.push(row(p, `dashboard.page.${stat}<${formatDuration(max)}`, "dashboard.page", w.value, max, "ms", (x) => x < max, w.label));
      }
      if (o.dashboardErrorRate !== undefined) {
        const max = o.dashboardErrorRate;
        out.push(row(p, `dashboard.error_rate{*}<=${max}%`, "dashboard.error_rate", valueOf(m, "dashboard.error_rate") ?? 0, max / 100, "ratio", (x) => x * 100 <= max + 1e-9));
      }
    } else if (p.kind === "traffic" && o.trafficErrorRate !== undefined && p.runner) {
      const max = o.trafficErrorRate;
      const metric = `${p.runner.replace(/-traffic$/, "")}.connection_error_rate`;
      out.push(row(p, `${metric}<=${max}%`, metric, valueOf(m, metric) ?? 0, max / 100, "ratio", (x) => x * 100 <= max + 1e-9));
    }
  }
  return out;
}

/**
 * A copy of the model judged with the overrides: each re-judged threshold replaces the recorded rows that
 * measure the same thing; phase statuses and the verdict are recomputed (a phase that errored or was
 * interrupted, or an unfinished run, keeps that verdict).
 */
export function rejudge(model: ReportModel, o: ThresholdOverrides): ReportModel {
  const fresh = judge(model, o);
  if (fresh.length === 0) return model;
  const phases = model.phases.map((p) => {
    const mine = fresh.filter((t) => t.phase === p.name);
    if (mine.length === 0) return p;
    const replaced = new Set(mine.map((t) => thresholdIdentity(t.expression)));
    const thresholds = [...p.thresholds.filter((t) => !replaced.has(thresholdIdentity(t.expression))), ...mine];
    let status = p.status;
    if ((status === "pass" || status === "fail") && !p.abortedBy) {
      status = thresholds.length ? (thresholds.some((t) => !t.ok) ? "fail" : "pass") : p.totals.fail > 0 ? "fail" : "pass";
    }
    return { ...p, thresholds, status };
  });
  let verdict = model.verdict;
  if (verdict === "pass" || verdict === "fail") verdict = phases.some((p) => p.status === "fail" || p.status === "error") ? "fail" : "pass";
  const names = fresh.map((t) => `${t.phase}: ${t.expression}`).join("; ");
  return {
    ...model,
    phases,
    verdict,
    thresholds: phases.flatMap((p) => p.thresholds),
    warnings: [...model.warnings, `thresholds re-judged by the report's settings (the run's own verdict is in summary.json): ${names}`],
  };
}
