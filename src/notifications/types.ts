// Shapes of a notifications run: its options, one record per user, and the outcome.
import type { LogFn } from "../util/log.ts";
import type { CleanupOptions, CleanupResult } from "../cleanup/types.ts";
import type { PercentileSummary } from "../traffic/histogram.ts";
import type { StopCause } from "../util/signals.ts";

/** coderd/notifications TemplateTemplateDeleted: what the trigger makes coderd send to every template admin. */
export const TEMPLATE_DELETED_ID = "29a09665-2a4c-403f-9648-54301670e7be";

/**
 * Coder's `action` labels of coderd_scaletest_notification_delivery_errors_total (scaletest/notifications),
 * then this runner's own (counted, never hidden): `trigger` (creating or deleting the trigger template
 * failed) and `timeout` (an admin's notification had not arrived by --timeout).
 */
export const CODER_ACTIONS = [
  "dial",
  "read_notification_websocket",
  "smtp_create_request",
  "smtp_poll",
  "smtp_bad_status",
  "smtp_decode",
  "create_user",
  "prepare_user",
  "revoke_token",
  "demote_user",
  "delete_user",
] as const;
export const OWN_ACTIONS = ["trigger", "timeout"] as const;
export type NotificationsAction = (typeof CODER_ACTIONS)[number] | (typeof OWN_ACTIONS)[number];

export type NotificationType = "websocket" | "smtp";

export interface NotificationsOptions {
  runId: string;
  /** Coder's --user-count. */
  userCount: number;
  /** Coder's --template-admin-percentage (> 0, <= 100). */
  templateAdminPercentage: number;
  /** Coder's --timeout: the whole test after setup (ms). */
  timeoutMs: number;
  /** Coder's --dial-timeout (ms), < timeoutMs. */
  dialTimeoutMs: number;
  /** Coder's --setup-timeout (ms). */
  setupTimeoutMs: number;
  /** Coder's --setup-concurrency (0 = all at once). */
  setupConcurrency: number;
  /** Coder's --smtp-api-url ("" = websocket only). */
  smtpApiUrl: string;
  /** Coder's --smtp-request-timeout (ms). */
  smtpRequestTimeoutMs: number;
  /** Poll period of the SMTP API (Coder: 2 s). */
  smtpPollMs?: number;
  noCleanup?: boolean;
  cleanup?: Omit<CleanupOptions, "runId" | "all">;
  /** First resource index of this load type's users (the pipeline numbers them after the run's workspaces). */
  indexOffset?: number;
}

export interface UserRecord {
  index: number;
  username: string;
  email: string;
  user_id: string | null;
  role: "template-admin" | "member";
  ok: boolean;
  action: NotificationsAction | null;
  error: string | null;
  dial_ms: number | null;
  /** Epoch ms of receipt; null when not received (or not expected). */
  websocket_receipt_at: number | null;
  smtp_receipt_at: number | null;
  /** Receipt - trigger (ms). */
  websocket_latency_ms: number | null;
  smtp_latency_ms: number | null;
  /** Messages read on the websocket (any template). */
  messages: number;
  /** SMTP API polls. */
  smtp_polls: number;
  logs: string[];
}

export interface LabelledHistogram {
  metric: string;
  unit: "ms";
  labels: Record<string, string>;
  summary: PercentileSummary;
  hdr: string;
}

export interface TriggerOutcome {
  template_name: string;
  template_id: string | null;
  /** Epoch ms when the delete call returned (Coder's trigger time). */
  triggered_at: number | null;
  /** Upload, version, create, delete (ms). */
  steps_ms: Record<string, number>;
  error: string | null;
}

export type StopReason = StopCause;

export interface NotificationsResult {
  run_id: string;
  users: number;
  template_admins: number;
  regular_users: number;
  smtp: boolean;
  started_at: number;
  elapsed_ms: number;
  setup_ms: number;
  /** All sockets open (or failed) -> trigger began; ms from start. */
  barrier_ms: number | null;
  trigger: TriggerOutcome;
  units: UserRecord[];
  /** Latency by notification_type (websocket, smtp). */
  latency: LabelledHistogram[];
  /** Admins expected to receive / received / missing, per type. */
  receipts: Record<NotificationType, { expected: number; received: number; missing: number }>;
  /** Coder's GetMetrics() keys per user: receipt times (RFC 3339) by notification template id. */
  receipt_times: Record<string, { notification_websocket_receipt_time: Record<string, string>; notification_smtp_receipt_time: Record<string, string> }>;
  errors_by_action: Partial<Record<NotificationsAction, number>>;
  errors: { username: string; action: NotificationsAction; error: string }[];
  pass: number;
  fail: number;
  stopped: StopReason | null;
  tokens: { minted: number; revoked: number; failed: number };
  cleanup: CleanupResult | null;
  exit_code: number;
}

export interface NotificationsHooks {
  signal?: AbortSignal;
  log?: LogFn;
}
