// Shapes of a create-workspaces run: its options, one record per workspace, and the outcome.
import type { LogFn } from "../util/log.ts";
import type { Organization, Template, User, WorkspaceBuildParameter } from "../coder/types.ts";
import type { StatsSummary } from "../results/stats.ts";
import type { CleanupResult } from "../cleanup/types.ts";
import type { BoundRunUnits } from "../scenario/units.ts";
import type { StopCause } from "../util/signals.ts";

/** Per-workspace stages, in the order they happen. */
export const CREATE_STAGES = ["user", "login", "create", "queue", "build", "agent", "command", "total"] as const;
export type CreateStage = (typeof CREATE_STAGES)[number];

export const STAGE_HELP: Record<CreateStage, string> = {
  user: "POST /users latency (user creation)",
  login: "POST /users/login latency (the new user logs in with its password)",
  create: "POST /users/{user}/workspaces latency (create call, as the user)",
  queue: "build job created -> started (waiting for a provisioner daemon)",
  build: "build job started -> completed",
  agent: "build completed -> every agent connected and ready",
  command: "--run-command over the web terminal: open -> command exited",
  total: "unit start -> workspace ready",
};

export interface CreateOptions {
  /** Tag in every name (scaletest-<runId>-NNNN). */
  runId: string;
  count: number;
  /** Template name (or id). */
  template: string;
  /** `name=value` items. */
  parameters?: readonly string[];
  /** Units at once; 0 = unlimited. */
  concurrency: number;
  /** Whole run (ms); 0 = none. */
  timeoutMs: number;
  /** One workspace: create, build(s), agent ready, command (ms). */
  jobTimeoutMs: number;
  /** Extra start builds after a failed build. */
  retry: number;
  noWaitForAgents?: boolean;
  useHostLogin?: boolean;
  /** Only plan, never create: the run's workspaces may exist (the pipeline's --skip-create-workspaces). */
  planOnly?: boolean;
  /**
   * Run id of a user pool (create-users): its users own the workspaces, one each, acting through a token
   * minted for this run and revoked after; no user is created or deleted by this run. "" / absent = create users.
   */
  userPool?: string;
  /** Command run over the reconnecting PTY in each ready workspace ("" = none). */
  runCommand?: string;
  runTimeoutMs?: number;
  /** The command's output must contain this (within runExpectOutputTimeoutMs when > 0; "" = no expectation). */
  runExpectOutput?: string;
  /** Coder's --run-expect-timeout: the command must still run when runTimeoutMs ends it. */
  runExpectTimeout?: boolean;
  /** Our own limit for runExpectOutput to appear (0/undefined = within runTimeoutMs). */
  runExpectOutputTimeoutMs?: number;
  /** Keep the command's output (first 4 KiB) in the unit's results. */
  runLogOutput?: boolean;
  /** Percent of workspaces that must succeed (default 100). */
  successThreshold?: number;
  /** Longest poll interval for builds and agents (ms, default 1000). */
  pollMs?: number;
  /** Build-log lines kept for a failed build (default 20). */
  logTailLines?: number;
}

export interface CreateHooks {
  /** Stop signal (SIGINT/SIGTERM): no new work; in-flight waits end and their builds are canceled. */
  signal?: AbortSignal;
  /** Called as each workspace finishes (ok or not). */
  onUnitDone?: (unit: WorkspaceUnitResult) => void;
  /** Called after each stage of a workspace with its duration. */
  onStage?: (stage: CreateStage, ms: number) => void;
  /** Live progress line (default: on). */
  progress?: false | { label?: string; tty?: boolean; intervalMs?: number };
  log?: LogFn;
  /** The harness's unit runner (RunnerContext.runUnits); default: the same runner, bound to `signal` only. */
  runUnits?: BoundRunUnits;
}

/** What validation resolved before anything is created. */
export interface CreatePlan {
  runId: string;
  runner: User;
  organization: Organization;
  template: Template;
  templateVersionId: string;
  parameters: WorkspaceBuildParameter[];
  /** Names (user and workspace) of each unit, index order. */
  names: string[];
  /** With --user-pool: the pool's users, one per unit (index order). */
  poolUsers?: User[];
}

export interface BuildAttempt {
  attempt: number;
  build_id: string;
  build_number: number;
  /** Final job status: succeeded, failed, canceled, or the last seen one when the wait ended early. */
  status: string;
  queue_ms: number | null;
  build_ms: number | null;
  error: string | null;
  log_tail: string[];
}

export interface CommandOutcome {
  /** Open -> first output byte. */
  first_byte_ms: number | null;
  /** Open -> websocket closed (the command ended). */
  latency_ms: number;
  output_bytes: number;
  /** Open -> the expected output seen (--run-expect-output), or null. */
  expected_ms: number | null;
  /** The output's first 4 KiB, with --run-log-output; else null. */
  output: string | null;
}

/** One workspace ("workspacebuild/<index>" in Coder's harness terms). */
export interface WorkspaceUnitResult {
  index: number;
  name: string;
  /** Owner username (the scaletest- user, or the runner with --use-host-login). */
  owner: string;
  user_id: string | null;
  workspace_id: string | null;
  /** Epoch ms. */
  started_at: number;
  ok: boolean;
  /** True when the run stopped before this unit began (nothing created). */
  not_started: boolean;
  /** Stage where it failed, or null. */
  failed_stage: CreateStage | null;
  error: string | null;
  /** Tail of the failed build's log, if a build failed. */
  log_tail: string[];
  /** Stage durations in ms (null = not reached / not measured). */
  timings: Record<CreateStage, number | null>;
  attempts: BuildAttempt[];
  command: CommandOutcome | null;
  /** Readable log of what happened to this workspace. */
  logs: string[];
}

export type StopReason = StopCause | "timeout";

export interface CreateResult {
  run_id: string;
  template: { name: string; id: string; version_id: string };
  parameters: WorkspaceBuildParameter[];
  count: number;
  concurrency: number;
  use_host_login: boolean;
  /** Epoch ms. */
  started_at: number;
  elapsed_ms: number;
  units: WorkspaceUnitResult[];
  stages: Record<CreateStage, StatsSummary>;
  pass: number;
  fail: number;
  success_rate: number;
  success_threshold: number;
  /** Build attempts beyond the first, over all workspaces. */
  retries: number;
  /** Why the run stopped early, or null. */
  stopped: StopReason | null;
  /** Cleanup done after creating (null with --no-cleanup, or when the caller cleans up itself). */
  cleanup: CleanupResult | null;
  /** With --user-pool: the pool and this run's tokens for its users (minted, then revoked). */
  user_pool?: { pool: string; users: number; tokens: { minted: number; revoked: number; failed: number } } | null;
  exit_code: number;
}
