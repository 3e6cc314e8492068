// The runner contract, in the spirit of Coder's scaletest harness: every load type (create-workspaces,
// web-terminal/ssh/app traffic, dashboard, cleanup) is one module
//
//   { name, metrics, settings, validate(config), prepare?(ctx, s), run(ctx, s) -> PhaseResult, cleanup?(ctx, s) }
//
// and the harness (./harness.ts) applies timeouts, signals, abort thresholds, progress and the results
// files around it. The pipeline and the scenario scripts both go through the harness, so a phase rerun by
// hand is recorded exactly as in the pipeline.
import type { CoderClient } from "../coder/index.ts";
import type { Config, ScriptName, SettingKey } from "../config/index.ts";
import type { Headline, LatencySummary, MetricSetJSON } from "../results/schema.ts";
import type { Logger } from "../util/log.ts";
import type { BoundRunUnits } from "./units.ts";

/** One unit of work (a workspace, a connection, a virtual user, a deleted resource), as Coder's harness runs. */
export interface UnitResult {
  /** Coder's harness test name, e.g. "workspacebuild", "workspace-traffic". */
  testName: string;
  id: string;
  /** Workspace/user the unit worked on. */
  name: string;
  ok: boolean;
  /** The run stopped (signal, abort threshold, timeout) before the unit began: nothing was done. */
  notStarted?: boolean;
  error: string | null;
  startedAt: Date;
  durationMs: number;
  /** Stage timings (ms), null when not reached. */
  stages: Record<string, number | null>;
  logs?: string;
  /** Extra fields of the unit's run in Coder's harness JSON. */
  extra?: Record<string, unknown>;
}

/** What a runner returns: the typed phase result the harness turns into the phase record. */
export interface PhaseResult {
  startedAt: Date;
  endedAt: Date;
  /** Time the load actually ran (ms): rates are computed over it. */
  activeMs: number;
  units: UnitResult[];
  /** Named metrics, e.g. "create.provision", "ssh.tick", "dashboard.page{page}". */
  metrics: MetricSetJSON;
  /** Latency tables (default: every latency metric of `metrics`). */
  stages?: Record<string, LatencySummary>;
  /** The figures the end-of-run summary shows for this phase. */
  headline: Headline[];
  /** First errors, capped. */
  errors: string[];
  /** Stopped before its planned end (signal, timeout, abort threshold). */
  stoppedEarly: boolean;
  /** Failed for a reason no threshold expresses (e.g. cleanup could not run); thresholds decide otherwise. */
  failed?: string | null;
  /** Top-level fields of Coder's harness JSON (create's cleanup, stopped). */
  harnessExtra?: Record<string, unknown>;
  /** Runner-specific data for the report and tools. */
  extra: Record<string, unknown>;
  /** The runner's own detail text (tables people read), appended to summary.txt. */
  text: string;
}

/** The slice of the run a phase works on, when the pipeline chooses it (scripts take it from their flags). */
export interface PhaseTargets {
  /** "START:END" over the run's workspaces (users, for dashboard). */
  range?: string;
  durationMs?: number;
  /** Workspace name prefix: one run's, or every run's (traffic scripts without --run-id). */
  prefix?: string;
}

export interface RunnerContext {
  config: Config;
  client: CoderClient;
  runId: string;
  /** The phase's name and results folder (screenshots, shard files). */
  phase: string;
  phaseDir: string;
  /** Aborted by a stop signal, the phase timeout or a failed abort threshold: start no new unit. */
  signal: AbortSignal;
  log: Logger;
  targets: PhaseTargets;
  /** The runner hands the harness its live metrics (for abort thresholds) with this. */
  live(snapshot: () => MetricSetJSON): void;
  /** Runs units with a concurrency and a per-unit timeout; none starts once `signal` aborts (./units.ts). */
  runUnits: BoundRunUnits;
  /** prepare() before the run's own token exists (a script's early checks): hand no token to a child process. */
  checkOnly?: boolean;
}

export interface Runner<S = unknown> {
  /** The load type and the script that runs it alone, e.g. "create-workspaces". */
  name: ScriptName;
  /** Coder's harness test name of its units. */
  testName: string;
  /** Settings it reads (shown by flag name in the phase record). */
  settings: readonly SettingKey[];
  /** Preset threshold expressions from the config (`--threshold-*` settings). */
  presets(c: Config): string[];
  /** Input checks that need no deployment; throws BadInputError. Nothing is created before it passes. */
  validate(c: Config, targets: PhaseTargets): S;
  /** Read-only checks against the deployment (templates, parameters); throws BadInputError. */
  prepare?(ctx: RunnerContext, s: S): Promise<S>;
  run(ctx: RunnerContext, s: S): Promise<PhaseResult>;
  /** Removes what run created, when the runner owns that (create-workspaces without --no-cleanup). */
  cleanup?(ctx: RunnerContext, s: S, result: PhaseResult): Promise<void>;
}
