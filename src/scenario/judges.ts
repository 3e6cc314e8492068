// Which thresholds judge a runner's phase: its presets (from the --threshold-* settings) and every
// --threshold expression that names one of its metrics.
import type { Config, ScriptName } from "../config/index.ts";
import { noJudge, type Judge } from "./judge.ts";
import type { Runner } from "./runner.ts";

/** Interim: no expressions yet (the runner's own checks decide) until the thresholds evaluator lands. */
export function judgeFor(_runner: Runner<never> | Runner<any>, _c: Config, _script: ScriptName): Judge {
  return noJudge;
}
