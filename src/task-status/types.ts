// Shapes of a task-status run: its options, one record per workspace, and the outcome.
import type { PercentileSummary } from "../traffic/histogram.ts";

/** Why a workspace's run failed (setup steps; Coder's runner returns these as plain errors). */
export type TaskStatusAction = "create_workspace" | "wait_build" | "external_agent" | "credentials" | "watch";

export interface TaskStatusOptions {
  runId: string;
  count: number;
  template: string;
  appSlug: string;
  reportPeriodMs: number;
  reportDurationMs: number;
  baselineMs: number;
  /** Limit for one workspace's build and watch to be ready. */
  workspaceTimeoutMs: number;
  noCleanup: boolean;
  /** Workspace names start at this index (the pipeline numbers them after the run's own). */
  indexOffset?: number;
  /** How long to wait for the last updates to show after the last one was sent (default max(period, 2 s)). */
  graceMs?: number;
}

export interface WorkspaceUnit {
  index: number;
  name: string;
  id: string | null;
  ok: boolean;
  action: TaskStatusAction | null;
  error: string | null;
  /** Create -> build succeeded, credentials fetched and watch open (ms). */
  setup_ms: number | null;
  sent: number;
  observed: number;
  missing: number;
  report_errors: number;
  /** Per update number: latency (ms) from sending to the watch showing it; null = never shown. */
  latencies_ms: (number | null)[];
  logs: string[];
}

export interface TaskStatusResult {
  run_id: string;
  template: { name: string; id: string };
  transport: string;
  started_at: number;
  elapsed_ms: number;
  /** When every workspace was set up (or failed), ms from start; the baseline began then. */
  barrier_ms: number | null;
  updates_per_workspace: number;
  units: WorkspaceUnit[];
  latency: { summary: PercentileSummary; hdr: string };
  sent: number;
  observed: number;
  missing: number;
  report_errors: number;
  errors_by_action: Partial<Record<TaskStatusAction, number>>;
  stopped: string | null;
  cleanup: { deleted: number; failed: string[] } | null;
  exit_code: number;
}
