// Re-judging a finished run: `report.ts --threshold 'create.provision.p95<10m' RUN` (or a --threshold-*
// preset flag) re-evaluates each phase's own recorded expressions, merged with the overrides, over the
// metrics the phase recorded, with the one evaluator (src/thresholds). A changed limit REPLACES the row with
// the same metric, selector and stat (mergeThresholds); new expressions are added.
import { evaluate, mergeThresholds, parseThreshold, thresholdsFor } from "../thresholds/index.ts";
import { metricRunner, thresholdRow } from "../scenario/judges.ts";
import type { ReportModel, ReportThreshold } from "./model.ts";
import { thresholdDirection } from "./model.ts";

/** Threshold expressions given to the report (presets set by flag, and --threshold). */
export type ThresholdOverrides = readonly string[];

/**
 * A copy of the model judged with the overrides: each phase an override concerns is re-evaluated from its
 * metrics; its status and the verdict follow (a phase that errored, was interrupted or aborted, or an
 * unfinished run, keeps that verdict).
 */
export function rejudge(model: ReportModel, overrides: ThresholdOverrides): ReportModel {
  if (overrides.length === 0) return model;
  const specs = overrides.map((o) => parseThreshold(o));
  const changed: string[] = [];
  const phases = model.phases.map((p) => {
    if (!p.runner) return p;
    // coderd.* (server-side) thresholds judge every runner phase.
    const mine = [...thresholdsFor(specs, metricRunner(p.runner)), ...thresholdsFor(specs, "coderd")];
    if (mine.length === 0) return p;
    const merged = mergeThresholds(p.expressions, mine);
    const overridden = new Set(mine.map((s) => s.expression));
    const thresholds: ReportThreshold[] = evaluate(merged, p.metrics).map((r) => ({
      ...thresholdRow(r, overridden.has(r.expression) ? "report" : "recorded"),
      phase: p.name,
      direction: thresholdDirection(r.expression),
    }));
    changed.push(...mine.map((s) => `${p.name}: ${s.expression}`));
    let status = p.status;
    if ((status === "pass" || status === "fail") && !p.abortedBy && !p.error) {
      status = thresholds.length ? (thresholds.some((t) => !t.ok) ? "fail" : "pass") : p.totals.fail > 0 ? "fail" : "pass";
    }
    return { ...p, thresholds, expressions: merged.map((s) => s.expression), status };
  });
  if (changed.length === 0) return model;
  let verdict = model.verdict;
  if (verdict === "pass" || verdict === "fail") verdict = phases.some((p) => p.status === "fail" || p.status === "error") ? "fail" : "pass";
  return {
    ...model,
    phases,
    verdict,
    thresholds: phases.flatMap((p) => p.thresholds),
    warnings: [...model.warnings, `thresholds re-judged by the report's settings (the run's own verdict is in summary.json): ${changed.join("; ")}`],
  };
}
