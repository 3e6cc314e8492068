// The notifications phase's own section of the report: receipts per notification type (expected,
// received, missing), the trigger and the errors by Coder's action names. Latency tables and charts come
// from the phase's stages like any phase's.
import { formatMs } from "../results/stats.ts";
import { NotificationsExtraJSON } from "../results/schema.ts";
import { mdTable } from "./format.ts";
import type { ReportPhase } from "./model.ts";

/** The section's data, or null for other phases (or a record this version cannot read). */
export function notificationsOf(p: ReportPhase): NotificationsExtraJSON | null {
  if (p.runner !== "notifications") return null;
  const parsed = NotificationsExtraJSON.safeParse(p.extra["notifications"]);
  return parsed.success ? parsed.data : null;
}

function rows(n: NotificationsExtraJSON): string[][] {
  return Object.entries(n.receipts)
    .filter(([t]) => t === "websocket" || n.smtp)
    .map(([t, x]) => [t, String(x.expected), String(x.received), String(x.missing)]);
}

function triggerText(n: NotificationsExtraJSON): string {
  if (n.trigger.error) return `Trigger failed: ${n.trigger.error}`;
  const steps = Object.entries(n.trigger.steps_ms).map(([k, v]) => `${k} ${formatMs(v)}`).join(", ");
  return `Trigger: template ${n.trigger.template_name} created and deleted (${steps}); ${n.users} users, ${n.template_admins} template admins; all sockets open after ${formatMs(n.barrier_ms)}.`;
}

function errorsText(n: NotificationsExtraJSON): string {
  const e = Object.entries(n.errors_by_action);
  return e.length ? `Errors by action: ${e.map(([a, c]) => `${a}=${c}`).join(", ")}.` : "";
}

export function notificationsMarkdown(p: ReportPhase): string {
  const n = notificationsOf(p);
  if (!n) return "";
  return [`${triggerText(n)}\n`, mdTable(["notification type", "expected", "received", "missing"], rows(n), [1, 2, 3]), errorsText(n)].filter(Boolean).join("\n");
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function notificationsHtml(p: ReportPhase): string {
  const n = notificationsOf(p);
  if (!n) return "";
  const body = rows(n)
    .map(([t, ...v]) => `<tr><td>${esc(t!)}</td>${v.map((x, i) => `<td class="num${i === 2 && x !== "0" ? " fail" : ""}">${esc(x)}</td>`).join("")}</tr>`)
    .join("");
  const err = errorsText(n);
  return (
    `<div class="notifications"><p>${esc(triggerText(n))}</p>` +
    `<table><thead><tr><th>notification type</th><th class="num">expected</th><th class="num">received</th><th class="num">missing</th></tr></thead><tbody>${body}</tbody></table>` +
    (err ? `<p class="muted">${esc(err)}</p>` : "") +
    `</div>`
  );
}
