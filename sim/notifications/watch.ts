// GET /api/v2/notifications/inbox/watch (coderd/inboxnotifications.go watchInboxNotifications): a
// websocket on which coderd pushes each new inbox notification of the caller as one JSON text message
// {"notification": {...}, "unread_count": N}, filtered by the query's `targets`, `templates` and
// `read_status` (read|unread|all), the content rendered as `format` (markdown|plaintext).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { authenticate, tokenFromRequest } from "../auth.ts";
import type { SimCore } from "../core.ts";
import { HttpError } from "../http/context.ts";
import { plaintext } from "./messages.ts";
import type { InboxRow, Notifier } from "./notifier.ts";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface InboxWatchCounts {
  connections: number;
  open: number;
  pushed: number;
}

export class InboxWatch {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 64 * 1024, clientTracking: false });
  private readonly sockets = new Set<WebSocket>();
  private readonly n: InboxWatchCounts = { connections: 0, open: 0, pushed: 0 };

  constructor(private readonly core: SimCore, private readonly notifier: Notifier) {
    core.addUpgradeHandler("/api/v2/notifications/inbox/watch", (req, socket, head, _p, url) => this.upgrade(req, socket, head, url));
    core.onClose(() => this.closeAll());
    core.onDropConnections(() => this.closeAll());
  }

  counts(): InboxWatchCounts {
    return { ...this.n, open: this.sockets.size };
  }

  closeAll(): void {
    for (const s of this.sockets) s.terminate();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const actor = authenticate(this.core.state, tokenFromRequest(req, url.searchParams), this.core.now());
    const q = url.searchParams;
    const list = (name: string): string[] => (q.get(name) ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    const targets = list("targets");
    const templates = list("templates");
    const readStatus = q.get("read_status") || "all";
    const format = q.get("format") || "markdown";
    const problems: { field: string; detail: string }[] = [];
    for (const [field, ids] of [["targets", targets], ["templates", templates]] as const) {
      for (const id of ids) if (!UUID_RE.test(id)) problems.push({ field, detail: `Query param "${field}" must be a valid uuid` });
    }
    if (!["read", "unread", "all"].includes(readStatus)) problems.push({ field: "read_status", detail: `Query param "read_status" has invalid value "${readStatus}"` });
    if (!["markdown", "plaintext"].includes(format)) problems.push({ field: "format", detail: `Query param "format" has invalid value "${format}"` });
    if (problems.length) throw new HttpError(400, "Invalid query parameters.", undefined, problems);
    const userId = actor.user.id;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.n.connections++;
      this.sockets.add(ws);
      const unsubscribe = this.notifier.subscribe(userId, (row, unread) => {
        if (templates.length && !templates.includes(row.templateId)) return;
        if (targets.length && !targets.every((t) => row.targets.includes(t))) return;
        // A new row is unread: it is filtered out only when the caller asked for read rows.
        if (readStatus === "read") return;
        if (ws.readyState !== ws.OPEN) return;
        ws.send(JSON.stringify({ notification: this.toJSON(row, format), unread_count: unread }));
        this.n.pushed++;
      });
      const done = (): void => {
        unsubscribe();
        this.sockets.delete(ws);
      };
      ws.on("close", done);
      ws.on("error", done);
      // The client sends nothing coderd reads; ignore it.
      ws.on("message", () => {});
    });
  }

  private toJSON(r: InboxRow, format: string): Record<string, unknown> {
    return {
      id: r.id,
      user_id: r.userId,
      template_id: r.templateId,
      targets: r.targets,
      title: r.title,
      content: format === "plaintext" ? plaintext(r.content) : r.content,
      icon: r.icon,
      actions: r.actions,
      read_at: r.readAt === null ? null : this.core.iso(r.readAt),
      created_at: this.core.iso(r.createdAt),
    };
  }
}
