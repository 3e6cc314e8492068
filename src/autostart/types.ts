// Shapes of an autostart run: its options, one record per workspace, and the outcome.
import type { LogFn } from "../util/log.ts";
import type { CleanupOptions, CleanupResult } from "../cleanup/types.ts";
import type { PercentileSummary } from "../traffic/histogram.ts";
import type { StopCause } from "../util/signals.ts";

/**
 * Why a workspace's run failed: Coder's action names (scaletest/autostart, the `action` label of
 * coderd_scaletest_autostart_errors_total), plus `mint_token` (our per-user session is a minted token).
 */
export const AUTOSTART_ACTIONS = [
  "create_user",
  "mint_token",
  "create_workspace",
  "watch_workspace",
  "wait_for_initial_build",
  "create_stop_build",
  "wait_for_stop_build",
  "update_workspace_autostart",
  "wait_for_autostart_build",
] as const;
export type AutostartAction = (typeof AUTOSTART_ACTIONS)[number];

/** How the autostart builds were watched: Coder's newest (one shared stream) or older (one per workspace). */
export type WatchMode = "all-workspace-builds" | "per-workspace";

export interface AutostartOptions {
  /** Tag in every name (scaletest-<runId>-NNNN). */
  runId: string;
  /** Coder's --workspace-count: users, one workspace each. */
  workspaceCount: number;
  /** Template name or id. */
  template: string;
  /** `name=value` rich parameter values. */
  parameters?: readonly string[];
  /** Coder's --workspace-job-timeout: each wait for the start and the stop build (ms). */
  workspaceJobTimeoutMs: number;
  /** Coder's --autostart-delay: how far ahead the schedule is set (ms, at least 2 minutes). */
  autostartDelayMs: number;
  /** Coder's --autostart-timeout: how long after the scheduled minute the autostart build may take to finish (ms). */
  autostartTimeoutMs: number;
  noCleanup?: boolean;
  cleanup?: Omit<CleanupOptions, "runId" | "all">;
  /** First resource index (default 0): the pipeline numbers them after the run's own workspaces. */
  indexOffset?: number;
  /** Run id of a user pool (create-users): its users own the workspaces, each through a token minted for this run. */
  userPool?: string;
  /** Force a watch mode instead of detecting it (default: detect). */
  watch?: WatchMode;
  /** Longest poll interval of the start/stop build waits (ms, default 1000). */
  pollMs?: number;
}

/** Injected for tests of the scheduling arithmetic: the wall clock (epoch ms). */
export interface AutostartClock {
  now(): number;
}

export interface AutostartTimes {
  /** Epoch ms (wall clock) when each event was seen. */
  schedule_set_at: number | null;
  job_created_at: number | null;
  job_acquired_at: number | null;
  completed_at: number | null;
}

/** One workspace ("autostart/<i>" in Coder's harness terms). */
export interface AutostartRunRecord {
  index: number;
  username: string;
  user_id: string | null;
  workspace_name: string;
  workspace_id: string | null;
  reused_user: boolean;
  ok: boolean;
  action: AutostartAction | null;
  error: string | null;
  /** Setup durations (ms): user, workspace create call, start build, stop build. */
  setup: { user_ms: number | null; create_ms: number | null; start_build_ms: number | null; stop_build_ms: number | null };
  times: AutostartTimes;
  /** From the scheduled minute (Coder's job creation / acquired / total latencies), ms. */
  job_created_ms: number | null;
  job_acquired_ms: number | null;
  total_ms: number | null;
  /** From when this workspace's schedule was set to build done (Coder's end_to_end_latency), ms. */
  end_to_end_ms: number | null;
  /** The autostart build as the server recorded it (reason, job timestamps), when it finished. */
  build: { id: string; number: number; reason: string | null; job_created_at: string | null; job_started_at: string | null; job_completed_at: string | null } | null;
  /** Watch updates received for this workspace (and dropped beyond the per-workspace buffer). */
  updates: number;
  dropped_updates: number;
  logs: string[];
}

/** Coder's results JSON (scaletest/autostart/output.go): runs and the two percentile sets. */
export interface CoderAutostartResults {
  total_runs: number;
  successful_runs: number;
  failed_runs: number;
  end_to_end_latency_p50_ms: number;
  end_to_end_latency_p95_ms: number;
  end_to_end_latency_p99_ms: number;
  trigger_to_completion_p50_ms: number;
  trigger_to_completion_p95_ms: number;
  trigger_to_completion_p99_ms: number;
  runs: { workspace_id: string; workspace_name: string; success: boolean; error?: string; end_to_end_latency_ms: number; trigger_to_completion_ms: number }[];
}

export interface LatencyDistribution {
  metric: string;
  summary: PercentileSummary;
  /** HDR V2 compressed base64, for merging. */
  hdr: string;
}

export type StopReason = StopCause;

export interface AutostartResult {
  run_id: string;
  template: { name: string; id: string; version_id: string };
  started_at: number;
  elapsed_ms: number;
  /** When every workspace was stopped (or had failed) — the barrier — ms from start. */
  barrier_ms: number | null;
  /** The one schedule every workspace got, and the minute it names (epoch ms). */
  schedule: string | null;
  scheduled_for: number | null;
  /** How builds were watched, and why (a refused watch-all-workspacebuilds names its answer). */
  watch: { mode: WatchMode; reason: string };
  runs: AutostartRunRecord[];
  /** job_created, job_acquired, total (from the scheduled minute), end_to_end (from the schedule set). */
  latency: LatencyDistribution[];
  coder: CoderAutostartResults;
  errors: { username: string; workspace_name: string; action: AutostartAction; error: string }[];
  errors_by_action: Partial<Record<AutostartAction, number>>;
  /** Workspaces whose autostart build did not finish by --autostart-timeout after the scheduled minute. */
  late: string[];
  pass: number;
  fail: number;
  stopped: StopReason | null;
  cleanup: CleanupResult | null;
  tokens: { minted: number; revoked: number; failed: number };
  exit_code: number;
}

export interface AutostartHooks {
  signal?: AbortSignal;
  log?: LogFn;
  clock?: AutostartClock;
  /** Called once every workspace is stopped (the barrier), before any schedule is set. */
  onBarrier?: () => void | Promise<void>;
}
