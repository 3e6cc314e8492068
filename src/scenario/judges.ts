// Which thresholds judge a runner's phase, and the one evaluator (src/thresholds) applied to its metrics:
// the runner's presets (from the --threshold-* settings), replaced or extended by every --threshold
// expression that names one of its metrics.
import type { Config, ScriptName } from "../config/index.ts";
import type { MetricSetJSON, ThresholdRow } from "../results/schema.ts";
import { abortingFailures, catalogEntry, evaluate, mergeThresholds, runnerOf, thresholdsFor, type ThresholdResult, type ThresholdSpec } from "../thresholds/index.ts";
import type { Judge } from "./judge.ts";
import type { Runner } from "./runner.ts";

/** The metric prefix of a runner ("ssh-traffic" -> "ssh", "create-workspaces" -> "create"). */
export function metricRunner(runner: string): string {
  return runner === "create-workspaces" ? "create" : runner.replace(/-traffic$/, "");
}

/** One evaluated threshold as a phase-record row. */
export function thresholdRow(r: ThresholdResult, source: string): ThresholdRow {
  const e = catalogEntry(r.metric);
  return {
    expression: r.expression,
    metric: r.metric,
    observed: r.observed?.value ?? null,
    limit: r.limit.value,
    unit: r.observed?.unit ?? (e ? (e.type === "rate" ? "ratio" : e.type === "latency" && r.stat !== "count" ? "ms" : e.unit) : "count"),
    ok: r.ok,
    abort: r.abort !== null,
    failed_label: r.failing.filter((f) => f !== "").join("; ") || null,
    source,
  };
}

/** A judge over a fixed list of specs; `sources` says where each expression came from. */
export function judgeOf(specs: readonly ThresholdSpec[], sourceOf: (expression: string) => string = () => "flag"): Judge {
  const aborting = specs.filter((s) => s.abort !== null);
  return {
    expressions: specs.map((s) => s.expression),
    hasAbort: aborting.length > 0,
    evaluate: (metrics: MetricSetJSON) => evaluate(specs, metrics).map((r) => thresholdRow(r, sourceOf(r.expression))),
    abortFailure: (metrics: MetricSetJSON, elapsedMs: number) => {
      const failed = abortingFailures(evaluate(aborting, metrics), elapsedMs)[0];
      return failed ? thresholdRow(failed, sourceOf(failed.expression)) : null;
    },
  };
}

/** The thresholds of a runner's phase: its presets, then the --threshold expressions naming its metrics. */
export function judgeFor(runner: Pick<Runner<unknown>, "name" | "presets">, c: Config, _script: ScriptName): Judge {
  const mine = metricRunner(runner.name);
  const presets = runner.presets(c);
  const specs = thresholdsFor(mergeThresholds(presets, c.thresholds), mine);
  const fromPreset = new Set(mergeThresholds(presets).map((s) => s.expression));
  return judgeOf(specs, (x) => (fromPreset.has(x) ? "preset" : "flag"));
}

export { runnerOf };
