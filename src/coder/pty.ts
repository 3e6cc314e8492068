// The agent's reconnecting-PTY websocket (the web terminal), spoken like Coder's own client
// (codersdk/workspacesdk AgentReconnectingPTY + scaletest/workspacetraffic):
// - GET /api/v2/workspaceagents/{agent}/pty?command=&height=&reconnect=<uuid>&width= (Go's sorted encoding),
// - authenticated with the `coder_session_token` cookie (and the Coder-Session-Token header),
// - input frames are binary messages holding JSON `{"data":"..."}\n` with at most 1024 characters
//   of data each (larger frames get the socket closed with MessageTooBig by coderd),
// - output frames are raw PTY bytes.

import { randomUUID } from "node:crypto";
import type { ClientRequest, IncomingMessage } from "node:http";
import WebSocket from "ws";
import { redactAndTruncate } from "../util/redact.ts";
import { CoderApiError } from "./errors.ts";
import type { Response } from "./types.ts";

/** Largest `data` payload per frame, as Coder's rptyJSONMaxDataSize. */
export const PTY_MAX_DATA_SIZE = 1024;

export interface PtyUrlOptions {
  /** Reconnection id; the same id re-attaches to the same PTY session. Default: a new UUID. */
  reconnect?: string;
  width?: number;
  height?: number;
  /** Command to run instead of the default shell ("" = login shell). */
  command?: string;
  container?: string;
  containerUser?: string;
  /** "screen" or "buffered"; omitted = agent's choice. */
  backendType?: string;
}

export interface OpenPtyOptions extends PtyUrlOptions {
  handshakeTimeoutMs?: number;
  signal?: AbortSignal;
  /** Attached before the handshake: output sent right after the upgrade would be lost to a listener added on open. */
  onMessage?: (data: WebSocket.RawData, isBinary: boolean) => void;
  /** See AuthedWebSocketOptions.zeroMask. */
  zeroMask?: boolean;
}

/** The websocket URL of an agent's reconnecting PTY, with Coder's exact query parameters. */
export function buildPtyUrl(base: URL, agentId: string, opts: PtyUrlOptions = {}): URL {
  const u = new URL(base.href);
  u.protocol = u.protocol === "https:" || u.protocol === "wss:" ? "wss:" : "ws:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/api/v2/workspaceagents/${encodeURIComponent(agentId)}/pty`;
  const q = new URLSearchParams();
  q.set("reconnect", opts.reconnect ?? randomUUID());
  q.set("width", String(opts.width ?? 80));
  q.set("height", String(opts.height ?? 25));
  q.set("command", opts.command ?? "");
  if (opts.container) q.set("container", opts.container);
  if (opts.containerUser) q.set("container_user", opts.containerUser);
  if (opts.backendType) q.set("backend_type", opts.backendType);
  q.sort(); // Go's url.Values.Encode sorts keys
  u.search = q.toString();
  u.hash = "";
  return u;
}

/** Splits input into ReconnectingPTYRequest JSON lines of at most PTY_MAX_DATA_SIZE characters of data. */
export function encodePtyInput(data: string, maxChunk = PTY_MAX_DATA_SIZE): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < data.length) {
    let end = Math.min(data.length, i + maxChunk);
    // Do not cut a surrogate pair in half.
    const last = data.charCodeAt(end - 1);
    if (end < data.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    out.push(`${JSON.stringify({ data: data.slice(i, end) })}\n`);
    i = end;
  }
  return out;
}

/** Writes `data` to the PTY as Coder's client does (binary frames of JSON). Resolves when flushed. */
export async function sendPtyInput(ws: WebSocket, data: string): Promise<void> {
  for (const frame of encodePtyInput(data)) {
    await new Promise<void>((resolve, reject) => {
      ws.send(Buffer.from(frame, "utf8"), { binary: true }, (err) => (err ? reject(err) : resolve()));
    });
  }
}

/** Sends a resize request (`{"height":h,"width":w}`). */
export async function resizePty(ws: WebSocket, width: number, height: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    ws.send(Buffer.from(`${JSON.stringify({ height, width })}\n`, "utf8"), { binary: true }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

/** Largest websocket message accepted by default (Coder's PTY and app frames are a few KiB at most). */
export const DEFAULT_WS_MAX_PAYLOAD = 4 * 1024 * 1024;
/** How much of a refused upgrade's (non-101) body is read for its error message. */
const UPGRADE_ERROR_BODY_MAX = 8 * 1024;

export interface AuthedWebSocketOptions {
  token: string;
  /** Largest message accepted (bytes); a bigger one closes the socket (1009). Default DEFAULT_WS_MAX_PAYLOAD. */
  maxPayload?: number;
  headers?: Record<string, string>;
  userAgent?: string;
  handshakeTimeoutMs?: number;
  signal?: AbortSignal;
  /** See OpenPtyOptions.onMessage. */
  onMessage?: (data: WebSocket.RawData, isBinary: boolean) => void;
  /**
   * Redirects (301/302/307/308) to the same origin that are followed, like Go's websocket dial follows them
   * (coderd 307-redirects a path app's URL without its trailing slash). Default 0. A redirect elsewhere is an
   * error: the token goes nowhere else.
   */
  sameOriginRedirects?: number;
  /**
   * Frame our messages with an all-zero masking key (RFC 6455 5.3 masks every client frame; the key's value
   * changes nothing for the server, which XORs either way). For traffic connections only: their payload is
   * our own random bytes, and a zero key lets ws send a shared tick buffer as it is instead of allocating and
   * XOR-ing a copy of every frame (4 KiB per connection per tick: at 2,000 connections, 80 MB/s of garbage).
   */
  zeroMask?: boolean;
}

const zeroMaskKey = (mask: Buffer): void => {
  mask.fill(0);
};

/**
 * Opens a websocket authenticated like Coder's CLI: `coder_session_token` cookie plus the
 * `Coder-Session-Token` header. A non-101 answer rejects with CoderApiError carrying Coder's
 * parsed error body; connection failures reject with status 0.
 */
export function openAuthedWebSocket(url: URL, opts: AuthedWebSocketOptions): Promise<WebSocket> {
  const path = url.pathname;
  const secrets = [opts.token];
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new CoderApiError({ method: "GET", path, status: 0, code: "ABORTED", attempts: 1, secrets }));
      return;
    }
    const ws = new WebSocket(url, {
      headers: {
        ...opts.headers,
        "Coder-Session-Token": opts.token,
        Cookie: `coder_session_token=${opts.token}`,
        ...(opts.userAgent ? { "User-Agent": opts.userAgent } : {}),
      },
      // No `handshakeTimeout` here: ws implements it as the socket's idle timeout, whose (cleared) timer the
      // socket keeps and refreshes on every read and write for its whole life. Our own timer below is dropped
      // at the open.
      perMessageDeflate: false,
      maxPayload: opts.maxPayload ?? DEFAULT_WS_MAX_PAYLOAD,
      followRedirects: false,
      ...(opts.zeroMask ? { generateMask: zeroMaskKey } : {}),
      // Node's own limit on the answer's headers (16 KiB by default) bounds the handshake's size.
    });
    if (opts.onMessage) ws.on("message", opts.onMessage);
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(handshakeTimer);
      opts.signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const handshakeTimer = setTimeout(() => {
      settle(() =>
        reject(
          new CoderApiError({ method: "GET", path, status: 0, code: "ETIMEDOUT", cause: new Error("Opening handshake has timed out"), attempts: 1, secrets }),
        ),
      );
      ws.terminate();
    }, opts.handshakeTimeoutMs ?? 30_000);
    const onAbort = (): void => {
      ws.terminate();
      settle(() => reject(new CoderApiError({ method: "GET", path, status: 0, code: "ABORTED", attempts: 1, secrets })));
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });

    ws.once("open", () =>
      settle(() => {
        // The dial's listeners (and all they hold: options, secrets, the settle closures) are dropped once
        // it is open: at thousands of connections that is ~1-2 KB each. A no-op error listener (shared, no
        // closure) takes the dial's place, exactly as before (a settled dial ignored later errors), so a
        // caller that attaches its own only after the await cannot meet an unhandled 'error' event.
        ws.off("unexpected-response", onUnexpected);
        ws.off("error", onDialError);
        ws.on("error", ignoreLateError);
        resolve(ws);
      }),
    );
    const onUnexpected = (req: ClientRequest, res: IncomingMessage): void => {
      // A refused upgrade's body is read only to UPGRADE_ERROR_BODY_MAX and for at most the handshake
      // timeout: a server answering with an endless body cannot hold memory or the caller.
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => finish(), opts.handshakeTimeoutMs ?? 30_000);
      res.on("data", (c: Buffer) => {
        if (size >= UPGRADE_ERROR_BODY_MAX) return;
        chunks.push(c.subarray(0, UPGRADE_ERROR_BODY_MAX - size));
        size += Math.min(c.length, UPGRADE_ERROR_BODY_MAX - size);
        if (size >= UPGRADE_ERROR_BODY_MAX) finish();
      });
      const finish = (): void => {
        clearTimeout(timer);
        res.removeAllListeners("data");
        res.destroy();
        const location = res.headers.location;
        const status = res.statusCode ?? 0;
        if ((opts.sameOriginRedirects ?? 0) > 0 && [301, 302, 307, 308].includes(status) && typeof location === "string") {
          let next: URL | undefined;
          try {
            next = new URL(location, url.href.replace(/^ws/, "http"));
            next.protocol = url.protocol;
          } catch {
            next = undefined;
          }
          if (next && next.host === url.host) {
            req.destroy();
            const target = next;
            settle(() => {
              openAuthedWebSocket(target, { ...opts, sameOriginRedirects: (opts.sameOriginRedirects ?? 0) - 1 }).then(resolve, reject);
            });
            return;
          }
        }
        const text = Buffer.concat(chunks).toString("utf8");
        let response: Response | undefined;
        try {
          const parsed: unknown = JSON.parse(text);
          if (parsed && typeof parsed === "object") response = parsed as Response;
        } catch {
          // not JSON: keep the text
        }
        req.destroy();
        settle(() =>
          reject(
            new CoderApiError({
              method: "GET",
              path,
              status: res.statusCode ?? 0,
              response,
              bodyText: response ? undefined : redactAndTruncate(text, 300, secrets),
              attempts: 1,
              secrets,
            }),
          ),
        );
      };
      res.once("end", finish);
      res.once("error", finish);
    };
    ws.once("unexpected-response", onUnexpected);
    const onDialError = (err: Error & { code?: string }): void => {
      settle(() =>
        reject(
          new CoderApiError({
            method: "GET",
            path,
            status: 0,
            code: err.code ?? (/handshake has timed out/i.test(err.message) ? "ETIMEDOUT" : undefined),
            cause: err,
            attempts: 1,
            secrets,
          }),
        ),
      );
    };
    ws.once("error", onDialError);
  });
}

/** After the open, errors reach the caller through its own listeners and the close event. */
function ignoreLateError(): void {}
