// An SMTP sink with the small HTTP API Coder's notifications load type polls (Coder's
// `coder exp scaletest smtp`, scaletest/smtpmock): every email a deployment sends is accepted and kept;
//   GET  /messages?email=<addr>  -> [{subject, date, notification_template_id, received_at}] of the mails to <addr>
//   POST /purge                  -> drops every stored mail
// The notification template id is found, as Coder's mock does, with `notifications\?disabled=<uuid>` in the
// decoded body (the footer's "Stop receiving emails like this" link). `received_at` (ms precision, this
// host's clock) is an addition: Coder's mock has only the Date header, which has whole seconds.
// SMTP is smtp-server's, parsing mailparser's; no protocol is hand-written here.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** scaletest/smtpmock's regular expression. */
export const TEMPLATE_ID_RE = /notifications\?disabled=([a-f0-9-]+)/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const NIL_UUID = "00000000-0000-0000-0000-000000000000";

export interface SmtpSinkOptions {
  /** Address both servers listen on (Coder's --host-address, default localhost). */
  host?: string;
  /** 0 = a free port. */
  smtpPort?: number;
  apiPort?: number;
  /** Stored mails beyond this are purged (checked every purgeCheckMs; Coder's --purge-at-count 100000). */
  purgeAtCount?: number;
  purgeCheckMs?: number;
  /** Largest mail accepted (bytes); bigger ones are refused with 552. */
  maxMessageBytes?: number;
  log?: (msg: string) => void;
}

export interface StoredMail {
  recipients: string[];
  subject: string;
  /** The Date header, or null. */
  date: Date | null;
  templateId: string;
  receivedAt: number;
}

export interface EmailSummary {
  subject: string;
  /** RFC 3339, as Go encodes time.Time. */
  date: string;
  notification_template_id: string;
  /** When the sink received it (RFC 3339 with ms). */
  received_at: string;
}

export interface SmtpSink {
  /** host:port of the SMTP server. */
  readonly smtpAddress: string;
  readonly smtpPort: number;
  /** http://host:port of the API. */
  readonly apiUrl: string;
  count(): number;
  purge(): void;
  /** Summaries of the mails to `email` (all when empty). */
  messages(email: string): EmailSummary[];
  close(): Promise<void>;
}

/** The template id in a decoded body, or the nil UUID. */
export function findTemplateId(body: string): string {
  const m = TEMPLATE_ID_RE.exec(body);
  const id = m?.[1];
  return id && UUID_RE.test(id) ? id : NIL_UUID;
}

export async function startSmtpSink(o: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const host = o.host ?? "127.0.0.1";
  const maxBytes = o.maxMessageBytes ?? 1024 * 1024;
  const purgeAt = o.purgeAtCount ?? 100_000;
  const log = o.log ?? (() => {});
  let mails: StoredMail[] = [];

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    size: maxBytes,
    banner: "scaletest SMTP sink",
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on("data", (c: Buffer) => {
        size += c.length;
        if (size <= maxBytes) chunks.push(c);
      });
      stream.on("end", () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded || size > maxBytes) {
          const err = Object.assign(new Error(`message exceeds ${maxBytes} bytes`), { responseCode: 552 });
          return callback(err);
        }
        const recipients = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        simpleParser(Buffer.concat(chunks))
          .then((parsed) => {
            const body = `${typeof parsed.html === "string" ? parsed.html : ""}\n${parsed.text ?? ""}`;
            mails.push({ recipients, subject: parsed.subject ?? "", date: parsed.date ?? null, templateId: findTemplateId(body), receivedAt: Date.now() });
            callback();
          })
          .catch((e: unknown) => {
            log(`smtp-sink: could not parse a mail: ${e instanceof Error ? e.message : String(e)}`);
            callback(Object.assign(new Error("message could not be parsed"), { responseCode: 554 }));
          });
      });
    },
  });
  smtp.on("error", (e) => log(`smtp-sink: SMTP error: ${e.message}`));
  await new Promise<void>((resolve, reject) => {
    smtp.server.once("error", reject);
    smtp.listen(o.smtpPort ?? 0, host, () => {
      smtp.server.off("error", reject);
      resolve();
    });
  });
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  const summaries = (email: string): EmailSummary[] => {
    const want = email.trim().toLowerCase();
    return mails
      .filter((m) => want === "" || m.recipients.includes(want))
      .map((m) => ({
        subject: m.subject,
        date: (m.date ?? new Date(m.receivedAt)).toISOString(),
        notification_template_id: m.templateId,
        received_at: new Date(m.receivedAt).toISOString(),
      }));
  };

  const api: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sink.invalid");
    req.resume();
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
      res.end(text);
    };
    if (url.pathname === "/messages") {
      if (req.method !== "GET") return send(405, { message: "use GET /messages?email=<address>" });
      return send(200, summaries(url.searchParams.get("email") ?? ""));
    }
    if (url.pathname === "/purge") {
      if (req.method !== "POST") return send(405, { message: "use POST /purge" });
      mails = [];
      res.writeHead(200);
      return res.end();
    }
    send(404, { message: "not found: the API has GET /messages?email= and POST /purge" });
  });
  api.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    api.once("error", reject);
    api.listen(o.apiPort ?? 0, host, () => {
      api.off("error", reject);
      resolve();
    });
  });
  const apiPort = (api.address() as AddressInfo).port;
  const hostForUrl = host.includes(":") ? `[${host}]` : host;

  // Coder's mock purges when the store grows past --purge-at-count (checked every 10 s).
  const purgeTimer = setInterval(() => {
    if (mails.length > purgeAt) {
      log(`smtp-sink: ${mails.length} stored mails exceed --purge-at-count ${purgeAt}: purging`);
      mails = [];
    }
  }, o.purgeCheckMs ?? 10_000);
  purgeTimer.unref();

  return {
    smtpAddress: `${hostForUrl}:${smtpPort}`,
    smtpPort,
    apiUrl: `http://${hostForUrl}:${apiPort}`,
    count: () => mails.length,
    purge: () => void (mails = []),
    messages: summaries,
    close: async () => {
      clearInterval(purgeTimer);
      await Promise.all([
        new Promise<void>((r) => smtp.close(() => r())),
        new Promise<void>((r) => {
          api.close(() => r());
          api.closeAllConnections();
        }),
      ]);
    },
  };
}
