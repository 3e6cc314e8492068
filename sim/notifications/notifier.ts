// coderd's notification pipeline, as far as the scale test sees it: Enqueue writes one message per
// delivery method (the inbox, and SMTP when a smarthost is configured) to the queue; the notifier polls
// the queue every fetch interval (CODER_NOTIFICATIONS_FETCH_INTERVAL), leases up to `leaseCount`
// messages and dispatches them. The inbox method stores an inbox row and pushes it to the user's
// /notifications/inbox/watch websockets; the SMTP method sends a real email (nodemailer) to the
// smarthost. A failed send is retried after `retryIntervalMs`, `maxAttempts` times in all.
// `stop()` is the switch a test uses to stop the notifier: messages then stay queued.
import nodemailer, { type Transporter } from "nodemailer";
import type { SimCore } from "../core.ts";
import { renderEmail, type Rendered } from "./messages.ts";

export interface NotifierOptions {
  /** CODER_NOTIFICATIONS_FETCH_INTERVAL (coderd's default 15 s; the simulator's 1 s keeps demos short). */
  fetchIntervalMs?: number;
  /** CODER_NOTIFICATIONS_LEASE_COUNT (coderd's default 20). */
  leaseCount?: number;
  /** CODER_NOTIFICATIONS_MAX_SEND_ATTEMPTS (5). */
  maxAttempts?: number;
  /** CODER_NOTIFICATIONS_RETRY_INTERVAL (coderd's 5 m; shorter here). */
  retryIntervalMs?: number;
  /** CODER_EMAIL_SMARTHOST "host:port"; empty = no SMTP method (inbox only). */
  smtpSmarthost?: string;
  /** CODER_EMAIL_FROM. */
  smtpFrom?: string;
}

export type Method = "inbox" | "smtp";

export interface InboxRow {
  id: string;
  userId: string;
  templateId: string;
  targets: string[];
  title: string;
  content: string;
  icon: string;
  actions: { label: string; url: string }[];
  readAt: number | null;
  createdAt: number;
}

interface QueuedMessage {
  id: string;
  userId: string;
  templateId: string;
  method: Method;
  rendered: Rendered;
  targets: string[];
  enqueuedAt: number;
  attempts: number;
  /** Not before this time (retry backoff). */
  nextAttemptAt: number;
}

export interface NotifierCounts {
  enqueued: number;
  /** Messages waiting (including those waiting for a retry). */
  queued: number;
  sent: Record<Method, number>;
  /** Failed sends (each attempt). */
  failedAttempts: number;
  /** Messages given up after maxAttempts. */
  abandoned: number;
  /** Queue polls done. */
  fetches: number;
}

type InboxListener = (row: InboxRow, unread: number) => void;

/** One dispatch, as coderd's notifier metrics see it: time queued before the lease, the send itself. */
export interface DispatchEvent {
  method: Method;
  templateId: string;
  queuedSeconds: number;
  sendSeconds: number;
  ok: boolean;
}

export class Notifier {
  readonly fetchIntervalMs: number;
  private readonly leaseCount: number;
  private readonly maxAttempts: number;
  private readonly retryIntervalMs: number;
  private readonly from: string;
  private smarthost: string;
  private transport: Transporter | null = null;
  private readonly queue: QueuedMessage[] = [];
  private readonly inbox = new Map<string, InboxRow[]>();
  private readonly listeners = new Map<string, Set<InboxListener>>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private busy = false;
  private readonly n: NotifierCounts = { enqueued: 0, queued: 0, sent: { inbox: 0, smtp: 0 }, failedAttempts: 0, abandoned: 0, fetches: 0 };
  private readonly observers: ((e: DispatchEvent) => void)[] = [];
  /** Last SMTP error (for tests and logs). */
  lastError: string | null = null;

  constructor(private readonly core: SimCore, o: NotifierOptions = {}) {
    this.fetchIntervalMs = o.fetchIntervalMs ?? 1000;
    this.leaseCount = o.leaseCount ?? 20;
    this.maxAttempts = o.maxAttempts ?? 5;
    this.retryIntervalMs = o.retryIntervalMs ?? 5000;
    this.from = o.smtpFrom ?? "coder@sim.invalid";
    this.smarthost = o.smtpSmarthost ?? "";
    core.onClose(() => this.close());
    this.start();
  }

  /** Points the SMTP method at a smarthost ("host:port"; "" turns it off), as CODER_EMAIL_SMARTHOST. */
  setSmarthost(hostPort: string): void {
    this.transport?.close();
    this.transport = null;
    this.smarthost = hostPort;
  }

  get smtpEnabled(): boolean {
    return this.smarthost !== "";
  }

  /** Starts (or restarts) the notifier's fetch loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  /** The switch: the notifier stops fetching; enqueued messages stay queued. */
  stop(): void {
    this.running = false;
    this.core.cancel(this.timer);
    this.timer = undefined;
  }

  get isRunning(): boolean {
    return this.running;
  }

  counts(): NotifierCounts {
    return { ...this.n, queued: this.queue.length, sent: { ...this.n.sent } };
  }

  /** coderd's Enqueue: one message per method for the user. */
  enqueue(userId: string, templateId: string, rendered: Rendered, targets: string[]): void {
    const now = this.core.now();
    const methods: Method[] = this.smtpEnabled ? ["smtp", "inbox"] : ["inbox"];
    for (const method of methods) {
      this.queue.push({ id: this.core.rng.uuid(), userId, templateId, method, rendered, targets, enqueuedAt: now, attempts: 0, nextAttemptAt: now });
      this.n.enqueued++;
    }
  }

  /** Follows every dispatch (the simulated coderd_notifications_* metrics). */
  onDispatch(fn: (e: DispatchEvent) => void): void {
    this.observers.push(fn);
  }

  /** A user's inbox rows, newest first. */
  inboxOf(userId: string): InboxRow[] {
    return [...(this.inbox.get(userId) ?? [])].reverse();
  }

  unreadCount(userId: string): number {
    return (this.inbox.get(userId) ?? []).filter((r) => r.readAt === null).length;
  }

  /** Follows new inbox rows of a user (the watch endpoint); returns the unsubscribe function. */
  subscribe(userId: string, fn: InboxListener): () => void {
    let set = this.listeners.get(userId);
    if (!set) this.listeners.set(userId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(userId);
    };
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.core.later(this.fetchIntervalMs, () => {
      void this.fetch().finally(() => this.schedule());
    });
  }

  /** One poll of the queue: lease up to leaseCount due messages and dispatch them. */
  private async fetch(): Promise<void> {
    if (this.busy || !this.running) return;
    this.busy = true;
    this.n.fetches++;
    try {
      const now = this.core.now();
      const leased: QueuedMessage[] = [];
      for (let i = 0; i < this.queue.length && leased.length < this.leaseCount; ) {
        const m = this.queue[i]!;
        if (m.nextAttemptAt <= now) {
          leased.push(m);
          this.queue.splice(i, 1);
        } else i++;
      }
      await Promise.all(leased.map((m) => this.dispatch(m)));
    } finally {
      this.busy = false;
    }
  }

  private async dispatch(m: QueuedMessage): Promise<void> {
    m.attempts++;
    const leasedAt = this.core.now();
    const t0 = performance.now();
    const observe = (ok: boolean): void => {
      const e: DispatchEvent = { method: m.method, templateId: m.templateId, queuedSeconds: (leasedAt - m.enqueuedAt) / 1000, sendSeconds: (performance.now() - t0) / 1000, ok };
      for (const fn of this.observers) fn(e);
    };
    try {
      if (m.method === "inbox") this.deliverInbox(m);
      else await this.deliverSmtp(m);
      this.n.sent[m.method]++;
      observe(true);
    } catch (e) {
      observe(false);
      this.n.failedAttempts++;
      this.lastError = e instanceof Error ? e.message : String(e);
      if (m.attempts >= this.maxAttempts) {
        this.n.abandoned++;
        return;
      }
      m.nextAttemptAt = this.core.now() + this.retryIntervalMs;
      this.queue.push(m);
    }
  }

  private deliverInbox(m: QueuedMessage): void {
    const row: InboxRow = {
      id: this.core.rng.uuid(),
      userId: m.userId,
      templateId: m.templateId,
      targets: m.targets,
      title: m.rendered.title,
      content: m.rendered.content,
      icon: m.rendered.icon,
      actions: m.rendered.actions,
      readAt: null,
      createdAt: this.core.now(),
    };
    let rows = this.inbox.get(m.userId);
    if (!rows) this.inbox.set(m.userId, (rows = []));
    rows.push(row);
    // Bounded like any store the simulator keeps for a long benchmark.
    if (rows.length > 1000) rows.splice(0, rows.length - 1000);
    const unread = this.unreadCount(m.userId);
    for (const fn of this.listeners.get(m.userId) ?? []) fn(row, unread);
  }

  private async deliverSmtp(m: QueuedMessage): Promise<void> {
    const user = this.core.state.users.get(m.userId);
    if (!user || user.deleted) throw new Error(`user ${m.userId} is gone`);
    if (!this.transport) {
      const [host, port] = splitHostPort(this.smarthost);
      this.transport = nodemailer.createTransport({ host, port, secure: false, ignoreTLS: true, pool: true, maxConnections: 4, connectionTimeout: 10_000, socketTimeout: 30_000 });
    }
    const mail = renderEmail(m.rendered, m.templateId, this.core.url, { name: user.name, email: user.email });
    await this.transport.sendMail({ from: this.from, to: user.email, subject: mail.subject, html: mail.html, text: mail.text, date: new Date() });
  }

  close(): void {
    this.stop();
    this.transport?.close();
    this.transport = null;
  }
}

function splitHostPort(hp: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(hp.trim());
  if (!m) throw new Error(`SMTP smarthost must be host:port, got ${JSON.stringify(hp)}`);
  return [m[1]!, Number(m[2])];
}
