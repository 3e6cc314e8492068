// Slack-compatible webhook messages on start, completion and failure (as Coder's runner's report.sh).
// Never fatal: a failed post is logged and counted.
import { request } from "undici";
import { log } from "../util/log.ts";

export type RunEvent = "started" | "completed" | "failed";

export interface WebhookMessage {
  event: RunEvent;
  runId: string;
  coderUrl: string;
  comment: string;
  /** Settings worth showing (no secrets). */
  parameters?: Record<string, unknown>;
  verdict?: string;
  reportPath?: string;
}

export function slackBody(m: WebhookMessage): { text: string; blocks: unknown[] } {
  const head =
    m.event === "started"
      ? `New scaletest ${m.runId} started on ${m.coderUrl}.`
      : m.event === "completed"
        ? `Scaletest ${m.runId} completed on ${m.coderUrl}: *${m.verdict ?? "done"}*.`
        : `Scaletest ${m.runId} *failed* on ${m.coderUrl}${m.verdict ? `: ${m.verdict}` : ""}.`;
  const lines = [head, `• Comment: ${m.comment || "No comment provided"}`];
  if (m.reportPath) lines.push(`• Report: ${m.reportPath}`);
  if (m.parameters) {
    lines.push("Options:");
    for (const [k, v] of Object.entries(m.parameters)) lines.push(`• \`${k}\`: \`${Array.isArray(v) ? v.join(",") : String(v)}\``);
  }
  const text = lines.join("\n");
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text } }] };
}

export async function postWebhook(url: string, m: WebhookMessage): Promise<boolean> {
  if (!url) return false;
  try {
    const res = await request(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(slackBody(m)),
      headersTimeout: 5000,
      bodyTimeout: 5000,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`status ${res.statusCode}`);
    return true;
  } catch (e) {
    log.warn(`webhook (${m.event}) failed (the run goes on): ${(e as Error).message}`);
    return false;
  }
}
