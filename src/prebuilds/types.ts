// Shapes of a prebuilds run: its options, one record per template, the timeline, and the outcome.

/** Coder's `action` labels of coderd_scaletest_prebuild_errors_total, plus this runner's setup steps. */
export type PrebuildsAction =
  | "create_template_version"
  | "create_template"
  | "wait_for_workspaces"
  | "create_empty_template_version"
  | "update_active_template_version"
  | "wait_for_workspace_deletion"
  | "cleanup";

export interface PrebuildsOptions {
  runId: string;
  numTemplates: number;
  numPresets: number;
  numPresetPrebuilds: number;
  templateVersionJobTimeoutMs: number;
  /** Limit for the fill, and again for the drain, of one template. */
  workspaceTimeoutMs: number;
  skipCleanup: boolean;
  /** Where the original reconciliation setting is recorded (`<resultsDir>/<runId>/state/`). */
  resultsDir: string;
  /** Template names start at this index (the pipeline numbers them after the run's workspaces). */
  indexOffset?: number;
  /** Template version poll interval (Coder: 2 s). */
  versionPollMs?: number;
  /** Workspace poll interval while filling and draining (Coder: 500 ms). */
  workspacesPollMs?: number;
  /** Workspaces deleted at once during cleanup. */
  cleanupConcurrency?: number;
}

/** Coder's four job counts of one template at one poll (fill: start builds; drain: delete builds). */
export interface JobCounts {
  created: number;
  running: number;
  failed: number;
  completed: number;
}

/** One poll of one template, for the report's fill and drain over time. */
export interface TimelineSample {
  /** ms since the run started. */
  t_ms: number;
  stage: "fill" | "drain";
  template: string;
  counts: JobCounts;
}

export interface TemplateUnit {
  index: number;
  name: string;
  id: string | null;
  ok: boolean;
  action: PrebuildsAction | null;
  error: string | null;
  /** Template (and its first version) ready: upload, import, create (ms). */
  setup_ms: number | null;
  /** Unpause -> every preset's prebuilds succeeded (ms). */
  fill_ms: number | null;
  /** Unpause after the empty version -> no workspace left (ms). */
  drain_ms: number | null;
  /** Distinct prebuilt workspaces whose start build failed or was canceled. */
  failed_builds: number;
  /** Distinct delete builds seen failed during the drain. */
  failed_deletions: number;
  last_fill: JobCounts | null;
  last_drain: JobCounts | null;
  logs: string[];
}

export interface CleanupOutcome {
  templates_deleted: number;
  workspaces_deleted: number;
  /** Workspace deletions retried (Coder: failed deletions only, up to 3 attempts in all). */
  deletion_retries: number;
  failed: string[];
}

export interface PrebuildsResult {
  run_id: string;
  started_at: number;
  elapsed_ms: number;
  desired_per_template: number;
  templates: TemplateUnit[];
  timeline: TimelineSample[];
  /** How many timeline samples were dropped to keep it bounded. */
  timeline_dropped: number;
  errors_by_action: Partial<Record<PrebuildsAction, number>>;
  setting: { original_reconciliation_paused: boolean; restored: boolean; error: string | null };
  stopped: string | null;
  cleanup: CleanupOutcome | null;
  exit_code: number;
}
