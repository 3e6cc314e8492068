// Shapes of a workspace-updates run: its options, one record per user, and the outcome.
import type { LogFn } from "../util/log.ts";
import type { CleanupOptions, CleanupResult } from "../cleanup/types.ts";
import type { PercentileSummary } from "../traffic/histogram.ts";
import type { StopCause } from "../util/signals.ts";

/**
 * Why a user's run failed. The first five are Coder's (scaletest/workspaceupdates, the `action` label of
 * coderd_scaletest_workspace_updates_errors_total); the rest name setup steps Coder's runner returns as
 * plain errors without counting them, which this runner counts too (faults are never hidden).
 */
export const COMMON_ACTIONS = ["parse_url", "dial", "context_done", "recv", "unexpected_workspace"] as const;
export const SETUP_ACTIONS = ["create_user", "reuse_user", "mint_token", "create_workspace"] as const;
export type WorkspaceUpdatesAction = (typeof COMMON_ACTIONS)[number] | (typeof SETUP_ACTIONS)[number];

export interface WorkspaceUpdatesOptions {
  /** Tag in every name (scaletest-<runId>-NNNN). */
  runId: string;
  /** Coder's --workspace-count (before rounding the power users' share). */
  workspaceCount: number;
  /** Coder's --power-user-workspaces (> 1). */
  powerUserWorkspaces: number;
  /** Coder's --power-user-percentage (0..100). */
  powerUserPercentage: number;
  /** Template name or id. */
  template: string;
  /** `name=value` rich parameter values. */
  parameters?: readonly string[];
  /** Coder's --workspace-updates-timeout (ms). */
  updatesTimeoutMs: number;
  /** Coder's --dial-timeout (ms). */
  dialTimeoutMs: number;
  /** Users set up at once (create, token, dial); 0 = all at once. */
  setupConcurrency?: number;
  /** Use existing scaletest- users of other runs instead of creating users. */
  reuseUsers?: boolean;
  noCleanup?: boolean;
  cleanup?: Omit<CleanupOptions, "runId" | "all">;
  /**
   * First resource index of this load type's users and workspaces (default 0). The pipeline numbers them after
   * the run's own workspaces, so both share the run id (and its cleanup) without clashing.
   */
  indexOffset?: number;
  /** yamux keepalive interval for the streams (default 30 s; 0 = off). */
  keepAliveMs?: number;
}

/** Coder's distribution of workspaces between power users and regular users. */
export interface Distribution {
  /** After rounding the power users' share down to a multiple of power_user_workspaces. */
  total_workspaces: number;
  power_users: number;
  power_user_workspaces: number;
  power_workspaces_total: number;
  regular_users: number;
  regular_workspaces_total: number;
  /** Workspaces dropped by the rounding (Coder subtracts the remainder from the total). */
  dropped_by_rounding: number;
}

export interface WorkspaceOutcome {
  name: string;
  id: string | null;
  /** Epoch ms just before the create call (Coder's buildStartTime). */
  build_started_at: number | null;
  /** Build start -> the last update naming it, as Coder computes it; null when not reached. */
  latency_ms: number | null;
  /** Upserts of this workspace seen on the stream. */
  upserts: number;
}

/** One user ("workspaceupdates-<N>w/<i>" in Coder's harness terms). */
export interface UserUnitResult {
  index: number;
  username: string;
  user_id: string | null;
  /** Coder's num_owned_workspaces label. */
  num_owned_workspaces: number;
  kind: "power" | "regular";
  reused: boolean;
  ok: boolean;
  /** The step that failed (Coder's action names first), or null. */
  action: WorkspaceUpdatesAction | null;
  error: string | null;
  /** Websocket dial of the tailnet endpoint (ms). */
  dial_ms: number | null;
  /** Updates received on the stream. */
  updates: number;
  workspaces: WorkspaceOutcome[];
  logs: string[];
}

/** An HDR histogram with the labels it was recorded under (empty labels = every sample). */
export interface LabelledHistogram {
  metric: string;
  unit: "ms";
  labels: Record<string, string>;
  summary: PercentileSummary;
  /** HDR V2 compressed base64 (LatencyHistogram.encode), for merging across shards and runs. */
  hdr: string;
}

export type StopReason = StopCause;

export interface WorkspaceUpdatesResult {
  run_id: string;
  template: { name: string; id: string; version_id: string };
  distribution: Distribution;
  /** Epoch ms. */
  started_at: number;
  elapsed_ms: number;
  /** When every user's stream was open (or its setup failed) and creation began; ms from start. */
  barrier_ms: number | null;
  units: UserUnitResult[];
  /** Update latency: all samples, then one histogram per num_owned_workspaces. */
  latency: LabelledHistogram[];
  /** Coder's GetMetrics() shape: workspace name -> seconds (0 when not measured, as Coder leaves it). */
  workspace_updates_latency_seconds: Record<string, number>;
  errors: { username: string; num_owned_workspaces: number; action: WorkspaceUpdatesAction; error: string }[];
  errors_by_action: Partial<Record<WorkspaceUpdatesAction, number>>;
  pass: number;
  fail: number;
  stopped: StopReason | null;
  cleanup: CleanupResult | null;
  /** Minted per-user tokens revoked at the end / that could not be revoked. */
  tokens: { minted: number; revoked: number; failed: number };
  exit_code: number;
}

export interface WorkspaceUpdatesHooks {
  signal?: AbortSignal;
  log?: LogFn;
  /** Called once every user's stream is open (the barrier); workspaces are created once it returns (or resolves). */
  onBarrier?: () => void | Promise<void>;
}
