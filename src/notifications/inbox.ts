// One user's inbox watch (Coder's dialNotificationWebsocket + watchNotifications): the websocket
// GET /api/v2/notifications/inbox/watch (no query), read as JSON text messages
// {"notification": {"template_id": ...}, "unread_count": N}; the first message of the expected template
// after the watcher is armed is the receipt.
import type WebSocket from "ws";
import type { CoderClient } from "../coder/client.ts";

/** The inbox watch URL under a deployment's base URL (ws/wss). */
export function inboxWatchUrl(base: URL): URL {
  const u = new URL(base.href);
  u.protocol = u.protocol === "https:" || u.protocol === "wss:" ? "wss:" : "ws:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/api/v2/notifications/inbox/watch`;
  u.search = "";
  return u;
}

/** Largest inbox message read (a notification is a few hundred bytes; Coder's websocket reads up to 32 KiB). */
export const MAX_INBOX_MESSAGE_BYTES = 64 * 1024;

export class InboxWatcher {
  /** Messages read (any template). */
  messages = 0;
  /** Epoch ms of the receipt, once received. */
  receiptAt: number | null = null;
  /** Set when the socket failed or sent something unreadable before the receipt. */
  error: string | null = null;
  private armed = false;
  private readonly waiters: (() => void)[] = [];

  private constructor(private readonly ws: WebSocket, private readonly templateId: string) {
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("close", (code) => this.fail(`websocket closed (code ${code}) before the notification arrived`));
    ws.on("error", (e) => this.fail(`websocket error: ${e.message}`));
  }

  /** Dials the watch as the user of `client` (its own token, sent only to the deployment's origin). */
  static async dial(client: CoderClient, templateId: string, timeoutMs: number, signal?: AbortSignal): Promise<InboxWatcher> {
    const ws = await client.openWebSocket(inboxWatchUrl(client.url), {
      handshakeTimeoutMs: timeoutMs,
      maxPayload: MAX_INBOX_MESSAGE_BYTES,
      ...(signal ? { signal } : {}),
    });
    return new InboxWatcher(ws, templateId);
  }

  /** From now on a message of the expected template counts (set just before the trigger). */
  arm(): void {
    this.armed = true;
  }

  get done(): boolean {
    return this.receiptAt !== null || this.error !== null;
  }

  /** Resolves once received or failed, or when `signal` aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.done || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = (): void => {
        signal.removeEventListener("abort", finish);
        resolve();
      };
      this.waiters.push(finish);
      signal.addEventListener("abort", finish, { once: true });
    });
  }

  close(): void {
    this.ws.removeAllListeners("close");
    this.ws.on("error", () => {});
    this.ws.close(1000, "done");
    // A peer that never answers the close frame is cut.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  private settle(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private fail(msg: string): void {
    if (this.done) return;
    this.error = msg;
    this.settle();
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.done) return;
    this.messages++;
    if (isBinary) return this.fail("unexpected binary message on the inbox watch");
    let templateId: unknown;
    try {
      const parsed = JSON.parse(String(data)) as { notification?: { template_id?: unknown } };
      templateId = parsed.notification?.template_id;
    } catch (e) {
      return this.fail(`unmarshal notification: ${(e as Error).message}`);
    }
    if (this.armed && templateId === this.templateId) {
      this.receiptAt = Date.now();
      this.settle();
    }
  }
}
