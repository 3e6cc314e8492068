// The thresholds a phase is judged with: expressions (presets from the --threshold-* settings plus every
// --threshold), evaluated over the phase's named metrics at its end and, for those marked to abort, over
// its live metrics while it runs.
import type { MetricSetJSON, ThresholdRow } from "../results/schema.ts";

export interface Judge {
  /** Every expression this phase is judged with, as written. */
  readonly expressions: readonly string[];
  /** Rows for every expression over `metrics` (the phase's final metrics). */
  evaluate(metrics: MetricSetJSON): ThresholdRow[];
  /** The first abort-marked threshold that fails on `metrics` (live, `elapsedMs` into the phase), or null. */
  abortFailure(metrics: MetricSetJSON, elapsedMs: number): ThresholdRow | null;
  /** True when some expression is marked to abort (the harness then evaluates it during the phase). */
  readonly hasAbort: boolean;
}

/** Judges nothing (a phase judged by its units alone). */
export const noJudge: Judge = { expressions: [], evaluate: () => [], abortFailure: () => null, hasAbort: false };
