// One admin's SMTP watch (Coder's watchNotificationsSMTP): poll `<smtp-api>/messages?email=<address>`
// every 2 s until a mail with the expected notification_template_id is listed. Errors are counted by
// Coder's actions: smtp_poll (no answer; polling goes on), smtp_bad_status (non-200; goes on),
// smtp_decode (not the JSON expected; the watch ends). The receipt is the sink's received_at when it
// gives one (this project's sink), else the mail's Date header (Coder's mock), else the poll's time.
// Nothing of the deployment (no token) is ever sent to the sink.
import type { NotificationsAction } from "./types.ts";

/** Largest API answer read (a few hundred bytes per stored mail). */
export const MAX_SMTP_API_BYTES = 8 * 1024 * 1024;

export interface SmtpWatchOptions {
  apiUrl: string;
  email: string;
  templateId: string;
  pollMs: number;
  requestTimeoutMs: number;
  /** Counts and returns an error action. */
  onError: (action: NotificationsAction, msg: string) => void;
  /** Only mails received at or after this epoch ms count (the trigger's start). */
  notBefore: number;
}

export interface SmtpWatchResult {
  receiptAt: number | null;
  polls: number;
  /** Why the watch ended without a receipt (decode error), or null. */
  error: string | null;
}

async function readCapped(res: Response, cap: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > cap) {
      await reader.cancel();
      throw new Error(`answer larger than ${cap} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseTime(v: unknown): number | null {
  if (typeof v !== "string" || !v) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) && t > 0 ? t : null;
}

export async function watchSmtp(o: SmtpWatchOptions, signal: AbortSignal): Promise<SmtpWatchResult> {
  const url = new URL(`${o.apiUrl.replace(/\/+$/, "")}/messages`);
  url.searchParams.set("email", o.email);
  const out: SmtpWatchResult = { receiptAt: null, polls: 0, error: null };
  while (!signal.aborted) {
    out.polls++;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(o.requestTimeoutMs)]) });
    } catch (e) {
      if (signal.aborted) break;
      o.onError("smtp_poll", `poll smtp api: ${(e as Error).message}`);
      await pause(o.pollMs, signal);
      continue;
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      o.onError("smtp_bad_status", `smtp api returned status ${res.status}`);
      await pause(o.pollMs, signal);
      continue;
    }
    let summaries: unknown;
    try {
      summaries = JSON.parse(await readCapped(res, MAX_SMTP_API_BYTES));
      // Coder's mock answers null when no mail matches (a nil Go slice).
      if (summaries === null) summaries = [];
      if (!Array.isArray(summaries)) throw new Error("expected a JSON array of email summaries");
    } catch (e) {
      out.error = `decode smtp api response: ${(e as Error).message}`;
      o.onError("smtp_decode", out.error);
      return out;
    }
    for (const s of summaries as Record<string, unknown>[]) {
      if (s?.["notification_template_id"] !== o.templateId) continue;
      const at = parseTime(s["received_at"]) ?? parseTime(s["date"]) ?? Date.now();
      // The Date header has whole seconds: a mail of this trigger may carry a time up to 1 s before it.
      if (at < o.notBefore - 1000) continue;
      out.receiptAt = at;
      return out;
    }
    await pause(o.pollMs, signal);
  }
  return out;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
