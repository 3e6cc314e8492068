// notifications: Coder's load on notification delivery (scaletest/notifications, cli/exp_scaletest_notifications.go).
// Users are created (a share of them promoted to template admin), each dials the inbox watch websocket;
// once every dial is done (the dial barrier) a template is created and deleted, and every admin must
// receive coderd's "template deleted" notification on its websocket and, with --smtp-api-url, by email
// (polled from the SMTP sink's API). Regular users hold their sockets until the admins are done.
// Latency = receipt - trigger, per user and notification type; an admin whose notification has not
// arrived by --timeout is a missing receipt, counted and failing the run.
import { setMaxListeners } from "node:events";
import pLimit from "p-limit";
import { cleanupAfterLoad } from "../cleanup/cleanup.ts";
import { CoderClient } from "../coder/client.ts";
import type { User } from "../coder/types.ts";
import { LatencyHistogram } from "../traffic/histogram.ts";
import { randomBytes } from "node:crypto";
import { stopCauseOf } from "../util/signals.ts";
import { InboxWatcher } from "./inbox.ts";
import { notificationsMetrics } from "./metrics.ts";
import { planNotifications, type NotificationsPlan } from "./plan.ts";
import { watchSmtp } from "./smtp.ts";
import { triggerTemplateDeleted } from "./trigger.ts";
import {
  TEMPLATE_DELETED_ID,
  type LabelledHistogram,
  type NotificationsAction,
  type NotificationsHooks,
  type NotificationsOptions,
  type NotificationsResult,
  type NotificationType,
  type StopReason,
  type UserRecord,
} from "./types.ts";

/** Name of the latency histograms in results. */
export const LATENCY_RESULT_METRIC = "notification_delivery_latency";

export async function runNotifications(client: CoderClient, opts: NotificationsOptions, hooks: NotificationsHooks = {}): Promise<NotificationsResult> {
  const plan = await planNotifications(client, opts);
  return executeNotifications(client, plan, opts, hooks);
}

interface Unit {
  rec: UserRecord;
  user: User | null;
  tokenKeyId: string | null;
  userClient: CoderClient | null;
  watcher: InboxWatcher | null;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function executeNotifications(
  client: CoderClient,
  plan: NotificationsPlan,
  opts: NotificationsOptions,
  hooks: NotificationsHooks = {},
): Promise<NotificationsResult> {
  const log = hooks.log ?? (() => {});
  const stop = hooks.signal ?? new AbortController().signal;
  const metrics = notificationsMetrics();
  const startedAt = Date.now();
  const t0 = performance.now();
  const smtp = opts.smtpApiUrl !== "";
  const errors: NotificationsResult["errors"] = [];
  const byAction: NotificationsResult["errors_by_action"] = {};
  const count = (username: string, action: NotificationsAction, error: string): void => {
    metrics.error(action);
    byAction[action] = (byAction[action] ?? 0) + 1;
    if (errors.length < 1000) errors.push({ username, action, error });
  };
  log("info", `notifications: ${plan.users.length} user(s): ${plan.admins} template admin(s), ${plan.regular} regular user(s)${smtp ? "; email checked through the SMTP API" : ""}`);

  const units: Unit[] = plan.users.map((p) => ({
    rec: {
      index: p.index, username: p.username, email: p.email, user_id: null, role: p.role, ok: false, action: null, error: null,
      dial_ms: null, websocket_receipt_at: null, smtp_receipt_at: null, websocket_latency_ms: null, smtp_latency_ms: null,
      messages: 0, smtp_polls: 0, logs: [],
    },
    user: null, tokenKeyId: null, userClient: null, watcher: null,
  }));
  const say = (u: Unit, msg: string): void => void u.rec.logs.push(`${new Date().toISOString()} ${msg}`);
  /** The unit's failure (its first); the error is counted under its action. */
  const failUnit = (u: Unit, action: NotificationsAction, error: string, counted = false): void => {
    if (!counted) count(u.rec.username, action, error);
    if (u.rec.action) return;
    u.rec.action = action;
    u.rec.error = error;
    say(u, `FAILED (${action}): ${error}`);
    log("warn", `${u.rec.username} failed (${action}): ${error.split("\n")[0]}`);
  };
  const tokenLifetimeMs = opts.setupTimeoutMs + opts.timeoutMs + 60 * 60_000;

  // 1. Setup, bounded by --setup-timeout: user, role, token.
  const setupSignal = AbortSignal.any([stop, AbortSignal.timeout(opts.setupTimeoutMs)]);
  setMaxListeners(0, setupSignal);
  const limit = pLimit(opts.setupConcurrency > 0 ? opts.setupConcurrency : Number.POSITIVE_INFINITY);
  await Promise.all(units.map((u) => limit(() => setupUnit(u))));
  const setupMs = performance.now() - t0;

  // 2. The test, bounded by --timeout: every user dials; then the trigger; then the receipts.
  const testSignal = AbortSignal.any([stop, AbortSignal.timeout(opts.timeoutMs)]);
  // Every admin's waits listen on it: one listener per user is expected, not a leak.
  setMaxListeners(0, testSignal);
  const ready = units.filter((u) => u.userClient && !u.rec.action);
  await Promise.all(ready.map((u) => dialUnit(u)));
  const barrierMs = performance.now() - t0;
  const listening = units.filter((u) => u.watcher && !u.rec.action);
  log("info", `barrier: ${listening.length}/${units.length} inbox watch(es) open after ${Math.round(barrierMs)} ms; triggering`);
  const admins = listening.filter((u) => u.rec.role === "template-admin");
  for (const u of admins) u.watcher!.arm();
  const triggerStart = Date.now();
  const trigger = testSignal.aborted
    ? { template_name: plan.templateName, template_id: null, triggered_at: null, steps_ms: {}, error: `not triggered: ${stopCauseOf(stop) ?? "--timeout"} first` }
    : await triggerTemplateDeleted(client, plan.organization.id, plan.templateName, plan.templateDescription, (m) => log("info", m));
  if (trigger.error) {
    count("(trigger)", "trigger", trigger.error);
    log("error", `trigger failed: ${trigger.error}`);
  } else {
    log("info", `template ${plan.templateName} deleted: waiting for ${admins.length} admin(s) to be notified`);
  }
  await Promise.all(admins.map((u) => awaitReceipts(u)));
  // Regular users held their sockets until the admins were done (Coder's ReceivingWatchBarrier).
  for (const u of listening) if (u.rec.role === "member") u.rec.ok = true;
  const elapsed = performance.now() - t0;
  for (const u of units) {
    if (u.watcher) u.rec.messages = u.watcher.messages;
    u.watcher?.close();
  }

  // 3. Tokens revoked, then (unless --no-cleanup) users and any leftover trigger template deleted.
  const tokens = { minted: 0, revoked: 0, failed: 0 };
  for (const u of units) {
    await u.userClient?.close();
    if (!u.tokenKeyId || !u.user) continue;
    tokens.minted++;
    try {
      await client.deleteToken(u.user.id, u.tokenKeyId);
      tokens.revoked++;
    } catch (e) {
      tokens.failed++;
      count(u.rec.username, "revoke_token", `revoke the token minted for ${u.rec.username}: ${errText(e)}`);
    }
  }
  const result = summarize();
  if (!opts.noCleanup) {
    log("info", `cleaning up run ${opts.runId} (--no-cleanup keeps the users)`);
    result.cleanup = await cleanupAfterLoad(client, opts.runId, opts.cleanup, log);
    for (const item of result.cleanup.users) if (!item.ok) count(item.name, "delete_user", item.error ?? "not deleted");
    result.errors_by_action = { ...byAction };
    if (result.cleanup.exit_code !== 0) result.exit_code = 1;
  }
  return result;

  async function setupUnit(u: Unit): Promise<void> {
    if (setupSignal.aborted) return failUnit(u, "create_user", `not set up: ${stopCauseOf(stop) ? `stopped (${stopCauseOf(stop)})` : "--setup-timeout exceeded"}`);
    try {
      u.user = await client.request<User>("POST", "/users", {
        body: { username: u.rec.username, email: u.rec.email, name: "", password: `St-${randomBytes(18).toString("base64url")}-9a`, login_type: "password", organization_ids: [plan.organization.id] },
        expect: [201, 200],
        signal: setupSignal,
      });
      u.rec.user_id = u.user.id;
      say(u, `created user ${u.user.username} (${u.user.id})`);
    } catch (e) {
      return failUnit(u, "create_user", `create user: ${errText(e)}`);
    }
    try {
      if (u.rec.role === "template-admin") {
        await client.request("PUT", `/users/${u.user.id}/roles`, { body: { roles: ["template-admin"] }, signal: setupSignal });
        say(u, "granted the template-admin role");
      }
      const key = await client.createToken(u.user.id, { token_name: `${opts.runId}-nt-${u.rec.index}-${Date.now().toString(36)}`, lifetime: tokenLifetimeMs * 1_000_000 });
      u.tokenKeyId = key.key.split("-")[0] ?? null;
      // The user's own client: its token goes to the deployment's origin only, without the bypass header.
      u.userClient = new CoderClient({ url: client.url, token: key.key, concurrency: 1 });
    } catch (e) {
      return failUnit(u, "prepare_user", `prepare user: ${errText(e)}`);
    }
  }

  async function dialUnit(u: Unit): Promise<void> {
    const d0 = performance.now();
    try {
      u.watcher = await InboxWatcher.dial(u.userClient!, TEMPLATE_DELETED_ID, opts.dialTimeoutMs, testSignal);
      u.rec.dial_ms = performance.now() - d0;
      say(u, `inbox watch open (dial ${Math.round(u.rec.dial_ms)} ms)`);
    } catch (e) {
      failUnit(u, "dial", `dial notification websocket: ${errText(e)}`);
    }
  }

  async function awaitReceipts(u: Unit): Promise<void> {
    if (trigger.error || trigger.triggered_at === null) return failUnit(u, "trigger", `no notification to wait for: ${trigger.error ?? "not triggered"}`, true);
    const triggeredAt = trigger.triggered_at;
    const smtpWatch = smtp
      ? watchSmtp(
          {
            apiUrl: opts.smtpApiUrl,
            email: u.rec.email,
            templateId: TEMPLATE_DELETED_ID,
            pollMs: opts.smtpPollMs ?? 2000,
            requestTimeoutMs: opts.smtpRequestTimeoutMs,
            notBefore: triggerStart,
            onError: (action, msg) => {
              count(u.rec.username, action, msg);
              say(u, `${action}: ${msg}`);
            },
          },
          testSignal,
        )
      : null;
    const [, mail] = await Promise.all([u.watcher!.wait(testSignal), smtpWatch]);
    const w = u.watcher!;
    if (w.receiptAt !== null) {
      u.rec.websocket_receipt_at = w.receiptAt;
      u.rec.websocket_latency_ms = Math.max(0, w.receiptAt - triggeredAt);
      say(u, `notification received on the websocket after ${u.rec.websocket_latency_ms} ms`);
    }
    if (mail) {
      u.rec.smtp_polls = mail.polls;
      if (mail.receiptAt !== null) {
        u.rec.smtp_receipt_at = mail.receiptAt;
        u.rec.smtp_latency_ms = Math.max(0, mail.receiptAt - triggeredAt);
        say(u, `notification received by email after ${u.rec.smtp_latency_ms} ms`);
      }
    }
    const why = stopCauseOf(stop) ? `stopped (${stopCauseOf(stop)})` : `--timeout ${opts.timeoutMs} ms exceeded`;
    if (w.receiptAt === null) {
      if (w.error) failUnit(u, "read_notification_websocket", `read notification: ${w.error}`);
      else failUnit(u, "timeout", `websocket notification missing: ${why}`);
    }
    if (mail && mail.receiptAt === null) {
      if (mail.error) failUnit(u, "smtp_decode", mail.error, true);
      else failUnit(u, "timeout", `email notification missing: ${why}`);
    }
    if (!u.rec.action) u.rec.ok = true;
  }

  function summarize(): NotificationsResult {
    const hist: Record<NotificationType, LatencyHistogram> = { websocket: new LatencyHistogram(), smtp: new LatencyHistogram() };
    const receipts: NotificationsResult["receipts"] = { websocket: { expected: 0, received: 0, missing: 0 }, smtp: { expected: 0, received: 0, missing: 0 } };
    const receiptTimes: NotificationsResult["receipt_times"] = {};
    for (const u of units) {
      const r = u.rec;
      receiptTimes[r.username] = { notification_websocket_receipt_time: {}, notification_smtp_receipt_time: {} };
      if (r.role !== "template-admin") continue;
      receipts.websocket.expected++;
      if (smtp) receipts.smtp.expected++;
      if (r.websocket_latency_ms !== null) {
        receipts.websocket.received++;
        hist.websocket.record(r.websocket_latency_ms);
        metrics.latency(r.websocket_latency_ms / 1000, TEMPLATE_DELETED_ID, "websocket");
        receiptTimes[r.username]!.notification_websocket_receipt_time[TEMPLATE_DELETED_ID] = new Date(r.websocket_receipt_at!).toISOString();
      }
      if (r.smtp_latency_ms !== null) {
        receipts.smtp.received++;
        hist.smtp.record(r.smtp_latency_ms);
        metrics.latency(r.smtp_latency_ms / 1000, TEMPLATE_DELETED_ID, "smtp");
        receiptTimes[r.username]!.notification_smtp_receipt_time[TEMPLATE_DELETED_ID] = new Date(r.smtp_receipt_at!).toISOString();
      }
    }
    receipts.websocket.missing = receipts.websocket.expected - receipts.websocket.received;
    receipts.smtp.missing = receipts.smtp.expected - receipts.smtp.received;
    const types: NotificationType[] = smtp ? ["websocket", "smtp"] : ["websocket"];
    const latency: LabelledHistogram[] = types.map((t) => ({
      metric: LATENCY_RESULT_METRIC,
      unit: "ms",
      labels: { notification_type: t },
      summary: hist[t].percentiles(),
      hdr: hist[t].encode(),
    }));
    const pass = units.filter((u) => u.rec.ok).length;
    const stopped = stopCauseOf(stop);
    return {
      run_id: opts.runId,
      users: units.length,
      template_admins: plan.admins,
      regular_users: plan.regular,
      smtp,
      started_at: startedAt,
      elapsed_ms: elapsed,
      setup_ms: setupMs,
      barrier_ms: barrierMs,
      trigger,
      units: units.map((u) => u.rec),
      latency,
      receipts,
      receipt_times: receiptTimes,
      errors_by_action: { ...byAction },
      errors,
      pass,
      fail: units.length - pass,
      stopped,
      tokens,
      cleanup: null,
      // As Coder's CLI: any failed user fails the run; a stopped run never passes.
      exit_code: pass === units.length && stopped === null && !trigger.error ? 0 : 1,
    };
  }
}
