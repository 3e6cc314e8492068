// Shapes of a dynamic-parameters run: its options, the prepared partitions, one record per session.
import type { Organization, Template, TemplateVersion, User } from "../coder/types.ts";
import type { StopCause } from "../util/signals.ts";

export interface DynamicParametersOptions {
  /** The run's id (results folder, logs). Sessions create nothing but template versions. */
  runId: string;
  /** Coder's --template (default scaletest-dynamic-parameters); created when missing. */
  template: string;
  /** Coder's --concurrent-evaluations. */
  concurrentEvaluations: number;
  /** Coder's --provisioner-tag key=value items. */
  provisionerTags: readonly string[];
  /** Coder's --timeout for the whole run (ms; 0 = none). */
  timeoutMs: number;
  /** Coder's --job-timeout for one session (ms). */
  jobTimeoutMs: number;
  /** How long the prepared versions may take to import (ms). */
  importTimeoutMs: number;
  /** Poll interval of the version imports (Coder: 2 s). */
  importPollMs?: number;
}

/** codersdk.PreviewDiagnostic (hcl diagnostic as the server sends it). */
export interface Diagnostic {
  severity?: string;
  summary?: string;
  detail?: string;
  extra?: { code?: string } | null;
}

/** codersdk.PreviewParameter, the fields the runner reads. */
export interface PreviewParameter {
  name: string;
  diagnostics?: Diagnostic[] | null;
  [k: string]: unknown;
}

/** codersdk.DynamicParametersResponse: id -1 is the initial evaluation, else the request's id. */
export interface DynamicParametersResponse {
  id: number;
  diagnostics?: Diagnostic[] | null;
  parameters?: PreviewParameter[] | null;
}

/** codersdk.DynamicParametersRequest. */
export interface DynamicParametersRequest {
  id: number;
  inputs: Record<string, string>;
  owner_id?: string;
}

export interface DynamicParametersPlan {
  runner: User;
  organization: Organization;
  /** The template when it exists already; null: the run creates it (named options.template). */
  template: Template | null;
  /** Coder's partitions of --concurrent-evaluations, one version each. */
  parts: number[];
  provisionerTags: Record<string, string>;
}

export interface Partition {
  index: number;
  concurrent_evaluations: number;
  version: TemplateVersion;
  /** Upload + version create + import wait (ms). */
  import_ms: number | null;
}

export type SessionStage = "connect" | "initial" | "change";

/** One session ("dynamic-parameters/<j>/<i>" in Coder's harness terms: j-th of partition i). */
export interface SessionResult {
  id: string;
  partition: number;
  concurrent_evaluations: number;
  version_id: string;
  /** Epoch ms. */
  started_at: number;
  ok: boolean;
  not_started: boolean;
  /** Start -> the initial evaluation (includes the websocket dial, as Coder measures it). */
  initial_ms: number | null;
  /** The initial evaluation -> the response to the change (as Coder measures it). */
  change_ms: number | null;
  failed_stage: SessionStage | null;
  /** The error, with the server's diagnostic text when that was the cause. */
  error: string | null;
  logs: string[];
}

export type StopReason = StopCause | "timeout";

export interface LatencyBlock {
  /** All sessions, then one entry per concurrent_evaluations value. */
  labels: Record<string, string>;
  samples_ms: number[];
}

export interface DynamicParametersResult {
  run_id: string;
  template: { name: string; id: string; created: boolean };
  parts: number[];
  partitions: Partition[];
  /** Epoch ms. */
  started_at: number;
  elapsed_ms: number;
  /** Time spent preparing the versions (ms). */
  setup_ms: number;
  /** Why the versions could not be prepared (then no session ran), or null. */
  setup_error: string | null;
  sessions: SessionResult[];
  pass: number;
  fail: number;
  errors_by_stage: Partial<Record<SessionStage, number>>;
  stopped: StopReason | null;
  exit_code: number;
}
