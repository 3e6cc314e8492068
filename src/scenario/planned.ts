// The shape most load types' runners share (autostart, create-users, dynamic parameters, notifications,
// prebuilds, task status, workspace updates): options read from the config and checked before anything is
// created, a plan resolved once against the deployment (the pipeline plans in its preflight, before its own
// workspaces exist; a script in prepare), then executed and turned into the phase result.
import type { Config, ScriptName, SettingKey } from "../config/index.ts";
import type { PhaseResult, Runner, RunnerContext } from "./runner.ts";

/** A planned runner's state: its checked options and, once resolved, its plan. */
export interface PlannedState<O, P> {
  options: O;
  plan: P | null;
}

export interface PlannedRunnerSpec<O, P> {
  name: ScriptName;
  testName: string;
  settings: readonly SettingKey[];
  presets: (c: Config) => string[];
  /** The load type's options from the config. */
  options: (c: Config) => O;
  /** Every problem with them (none: empty), found before anything is created. */
  check: (options: O) => string[];
  /** The load type's input error for those problems (one error naming them all). */
  inputError: (problems: string[]) => Error;
  /** Read-only checks and lookups against the deployment. */
  plan: (ctx: RunnerContext, options: O) => Promise<P>;
  execute: (ctx: RunnerContext, plan: P, options: O) => Promise<PhaseResult>;
}

export function plannedRunner<O, P>(spec: PlannedRunnerSpec<O, P>): Runner<PlannedState<O, P>> {
  return {
    name: spec.name,
    testName: spec.testName,
    settings: spec.settings,
    presets: spec.presets,
    validate(c) {
      const options = spec.options(c);
      const problems = spec.check(options);
      if (problems.length) throw spec.inputError(problems);
      return { options, plan: null };
    },
    async prepare(ctx, s) {
      // Planned once: a plan resolved in the pipeline's preflight is kept.
      return s.plan ? s : { ...s, plan: await spec.plan(ctx, s.options) };
    },
    async run(ctx, s) {
      return spec.execute(ctx, s.plan ?? (await spec.plan(ctx, s.options)), s.options);
    },
  };
}
