// notifications as a runner (src/scenario/runner.ts). Metrics: notifications.latency{notification_type}
// (trigger to receipt, websocket and smtp), notifications.missing{notification_type} (admins whose
// notification never arrived), notifications.errors{action} (Coder's action names and ours),
// notifications.error_rate (failed users of all users). Presets `notifications.missing<=0` and
// `notifications.error_rate<=0%` fail the run on any missing receipt or failed user, as Coder's CLI does.
import type { SettingKey } from "../config/index.ts";
import { counter, histogramSeries, latency, rate, ratio, value } from "../results/metric-set.ts";
import { plannedRunner, type PlannedState } from "../scenario/planned.ts";
import type { PhaseResult, Runner, UnitResult } from "../scenario/runner.ts";
import { notificationsOptionsFromConfig } from "./options.ts";
import { checkNotificationsOptions, NotificationsInputError, planNotifications, type NotificationsPlan } from "./plan.ts";
import { renderNotificationsText } from "./render.ts";
import { executeNotifications } from "./run.ts";
import type { NotificationsOptions, NotificationsResult, UserRecord } from "./types.ts";

const SETTINGS: readonly SettingKey[] = [
  "runId",
  "ntUserCount",
  "ntTemplateAdminPercentage",
  "ntTimeout",
  "ntDialTimeout",
  "ntSetupTimeout",
  "ntSetupConcurrency",
  "ntSmtpApiUrl",
  "ntSmtpRequestTimeout",
  "ntNoCleanup",
];

function unitOf(u: UserRecord, startedAt: number): UnitResult {
  const got = [u.websocket_latency_ms, u.smtp_latency_ms].filter((x): x is number => x !== null);
  return {
    testName: "notifications",
    id: String(u.index),
    name: u.username,
    ok: u.ok,
    error: u.ok ? null : `${u.action ?? "error"}: ${u.error ?? "failed"}`,
    startedAt: new Date(startedAt),
    durationMs: got.length ? Math.max(...got) : 0,
    stages: { dial: u.dial_ms, websocket: u.websocket_latency_ms, smtp: u.smtp_latency_ms },
    logs: u.logs.join("\n") + (u.logs.length ? "\n" : ""),
    extra: {
      role: u.role,
      messages: u.messages,
      smtp_polls: u.smtp_polls,
      // Coder's GetMetrics() keys.
      notification_websocket_receipt_time: u.websocket_receipt_at === null ? {} : { "29a09665-2a4c-403f-9648-54301670e7be": new Date(u.websocket_receipt_at).toISOString() },
      notification_smtp_receipt_time: u.smtp_receipt_at === null ? {} : { "29a09665-2a4c-403f-9648-54301670e7be": new Date(u.smtp_receipt_at).toISOString() },
    },
  };
}

export function notificationsPhaseResult(r: NotificationsResult): PhaseResult {
  const failed = r.units.filter((u) => !u.ok).length;
  const byType = (t: string) => r.latency.find((h) => h.labels["notification_type"] === t);
  const ws = byType("websocket");
  const types = Object.entries(r.receipts).filter(([t]) => t === "websocket" || r.smtp);
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: r.units.map((u) => unitOf(u, r.started_at)),
    metrics: {
      "notifications.latency": latency(...r.latency.map((h) => histogramSeries(h.summary.count ? h.hdr : "", { notification_type: h.labels["notification_type"]! }))),
      "notifications.missing": counter("count", ...types.map(([t, x]) => value(x.missing, { notification_type: t }))),
      "notifications.errors": counter("count", ...Object.entries(r.errors_by_action).map(([action, n]) => value(n ?? 0, { action }))),
      "notifications.error_rate": rate(ratio(failed, r.units.length)),
    },
    headline: [
      { label: "users", value: r.users, unit: "count" },
      { label: "websocket p95", value: ws && ws.summary.count ? ws.summary.p95 : null, unit: "ms" },
      { label: "missing receipts", value: types.reduce((n, [, x]) => n + x.missing, 0), unit: "count" },
      { label: "failed users", value: failed, unit: "count" },
    ],
    errors: r.errors.slice(0, 10).map((e) => `${e.username} (${e.action}): ${e.error}`),
    stoppedEarly: r.stopped !== null,
    failed: r.trigger.error
      ? `the trigger failed: ${r.trigger.error}`
      : r.cleanup && r.cleanup.exit_code !== 0
        ? `cleanup left ${r.cleanup.failed.length + r.cleanup.remaining.length} resource(s)`
        : null,
    harnessExtra: { errors_by_action: r.errors_by_action },
    extra: {
      notifications: {
        users: r.users,
        template_admins: r.template_admins,
        regular_users: r.regular_users,
        smtp: r.smtp,
        setup_ms: r.setup_ms,
        barrier_ms: r.barrier_ms,
        trigger: r.trigger,
        receipts: r.receipts,
        latency: r.latency,
        errors_by_action: r.errors_by_action,
        tokens: r.tokens,
      },
      cleanup: r.cleanup,
    },
    text: renderNotificationsText(r),
  };
}

export type NotificationsSettings = PlannedState<NotificationsOptions, NotificationsPlan>;

export function notificationsRunner(): Runner<NotificationsSettings> {
  return plannedRunner({
    name: "notifications",
    testName: "notifications",
    settings: SETTINGS,
    presets: () => ["notifications.missing<=0", "notifications.error_rate<=0%"],
    options: notificationsOptionsFromConfig,
    check: checkNotificationsOptions,
    inputError: (problems) => new NotificationsInputError(problems),
    plan: (ctx, options) => planNotifications(ctx.client, options),
    execute: async (ctx, plan, options) =>
      notificationsPhaseResult(await executeNotifications(ctx.client, plan, options, { signal: ctx.signal, log: ctx.log.atLevel })),
  });
}
