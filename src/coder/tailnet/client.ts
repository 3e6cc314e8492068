// Client for Coder's tailnet RPC endpoint, the way Coder Desktop and `coder exp scaletest workspace-updates`
// reach it (codersdk/workspacesdk/dialer.go):
//   GET /api/v2/tailnet?version=2.3, upgraded to a websocket used as a binary byte stream; a yamux client
//   session on top; each RPC on its own yamux stream speaking drpc with protobuf messages.
// Only the WorkspaceUpdates server stream is implemented (Coder's dialer also opens Coordinate and
// StreamDERPMaps; the workspace-updates load does not use them).
//
//   const conn = await dialTailnet({ url, token, timeoutMs: 120_000 });
//   for await (const update of conn.workspaceUpdates(userId)) { ... }
//   conn.close();
import type WebSocket from "ws";
import { CoderApiError } from "../errors.ts";
import { openAuthedWebSocket } from "../pty.ts";
import { encodeFrame, FrameParser, KIND, kindName, PacketAssembler, parseErrorData, type Packet } from "./drpc.ts";
import { TailnetClosedError, TailnetDialError, TailnetProtocolError, TailnetRemoteError } from "./errors.ts";
import { decodeWorkspaceUpdate, encodeWorkspaceUpdatesRequest, type WorkspaceUpdate } from "./proto.ts";
import { YamuxSession, type YamuxStream } from "./yamux.ts";

/** The API version that carries WorkspaceUpdates (2.3: RefreshResumeToken, WorkspaceUpdates). */
export const TAILNET_API_VERSION = "2.3";
export const WORKSPACE_UPDATES_RPC = "/coder.tailnet.v2.Tailnet/WorkspaceUpdates";

export interface TailnetLimits {
  /** Largest drpc packet (one protobuf message); Coder's drpcsdk.MaxMessageSize is 4 MiB. */
  maxMessageBytes: number;
  /** Largest websocket message from the server (Go's yamux writes at most a 256 KiB window per frame). */
  maxWebsocketMessageBytes: number;
  /** Decoded updates waiting for the reader; past this the stream stops granting yamux window (back-pressure). */
  maxQueuedBytes: number;
}

export const DEFAULT_TAILNET_LIMITS: Readonly<TailnetLimits> = Object.freeze({
  maxMessageBytes: 4 * 1024 * 1024,
  maxWebsocketMessageBytes: 1024 * 1024,
  maxQueuedBytes: 4 * 1024 * 1024,
});

export interface TailnetDialOptions {
  /** The deployment's URL (http or https). */
  url: string | URL;
  /** The session token of the user whose workspaces the stream follows (sent as Coder-Session-Token). */
  token: string;
  headers?: Record<string, string>;
  userAgent?: string;
  /** Limit for the websocket handshake (Coder's --dial-timeout). Default 2 minutes. */
  timeoutMs?: number;
  signal?: AbortSignal;
  limits?: Partial<TailnetLimits>;
  /** yamux keepalive ping interval (default 30 s as Go's yamux; 0 = off). */
  keepAliveMs?: number;
}

/** ws(s)://.../api/v2/tailnet?version=2.3 */
export function tailnetUrl(base: string | URL): URL {
  const u = new URL(base);
  u.protocol = u.protocol === "https:" || u.protocol === "wss:" ? "wss:" : "ws:";
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/api/v2/tailnet`;
  u.search = new URLSearchParams({ version: TAILNET_API_VERSION }).toString();
  u.hash = "";
  return u;
}

/**
 * Dials the tailnet RPC endpoint. Rejects with TailnetDialError: `permanent` for the statuses Coder's dialer
 * gives up on (409, 400, 404, 500, 403, 401), retryable otherwise (other statuses, network errors, timeout).
 */
export async function dialTailnet(opts: TailnetDialOptions): Promise<TailnetConnection> {
  const limits = { ...DEFAULT_TAILNET_LIMITS, ...opts.limits };
  const url = tailnetUrl(opts.url);
  // Messages that arrive with the upgrade are held until the session exists (a few at most: the server
  // speaks only when spoken to).
  const early: Buffer[] = [];
  let deliver: (data: WebSocket.RawData, isBinary: boolean) => void = (data, isBinary) => {
    early.push(isBinary ? toBuffer(data) : Buffer.alloc(0));
  };
  let ws: WebSocket;
  try {
    ws = await openAuthedWebSocket(url, {
      token: opts.token,
      ...(opts.headers ? { headers: opts.headers } : {}),
      ...(opts.userAgent ? { userAgent: opts.userAgent } : {}),
      handshakeTimeoutMs: opts.timeoutMs ?? 120_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
      maxPayload: limits.maxWebsocketMessageBytes,
      onMessage: (data, isBinary) => deliver(data, isBinary),
    });
  } catch (e) {
    if (e instanceof CoderApiError) {
      throw new TailnetDialError(`dial ${url.pathname}?version=${TAILNET_API_VERSION}: ${e.message.replace(/^GET \S+: /, "")}`, e.status, e.code, e);
    }
    throw new TailnetDialError(`dial ${url.pathname}: ${(e as Error).message}`, 0, undefined, e);
  }
  const conn = new TailnetConnection(ws, limits, opts.keepAliveMs);
  deliver = (data, isBinary) => conn.receive(data, isBinary);
  for (const b of early) conn.receive(b, b.length > 0);
  return conn;
}

function toBuffer(data: WebSocket.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** One websocket + yamux session. Open RPC streams on it; close it when done. */
export class TailnetConnection {
  readonly #ws: WebSocket;
  readonly #session: YamuxSession;
  readonly #limits: TailnetLimits;
  #closeError: Error | null = null;
  #closed = false;
  readonly #onClosed: ((err: Error | null) => void)[] = [];

  constructor(ws: WebSocket, limits: TailnetLimits, keepAliveMs?: number) {
    this.#ws = ws;
    this.#limits = limits;
    this.#session = new YamuxSession(
      {
        write: (data) => {
          if (ws.readyState === ws.OPEN) ws.send(data, { binary: true });
        },
        close: () => ws.close(1000),
      },
      keepAliveMs === undefined ? {} : { keepAliveMs },
    );
    this.#session.onClose = (err) => {
      this.#closed = true;
      this.#closeError = err;
      if (err) ws.terminate();
      for (const fn of this.#onClosed.splice(0)) fn(err);
    };
    ws.on("close", (code, reason) => {
      const why = reason.toString("utf8").slice(0, 200);
      this.#session.transportClosed(
        code === 1009
          ? new TailnetProtocolError("websocket", `the server sent a message larger than ${this.#limits.maxWebsocketMessageBytes} bytes`)
          : new TailnetClosedError(`websocket closed (code ${code}${why ? `: ${why}` : ""})`),
      );
    });
    ws.on("error", (err: Error & { code?: string }) =>
      this.#session.transportClosed(
        err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH"
          ? new TailnetProtocolError("websocket", `the server sent a message larger than ${this.#limits.maxWebsocketMessageBytes} bytes`)
          : new TailnetClosedError(`websocket failed: ${err.message}`, err),
      ),
    );
  }

  /** @internal bytes from the websocket */
  receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (!isBinary) {
      // Go's websocket.NetConn in binary mode fails on a text message; so does this client.
      this.#session.transportClosed(new TailnetProtocolError("websocket", "text message on the binary tailnet connection"));
      return;
    }
    this.#session.feed(toBuffer(data));
  }

  /** Why the connection ended (null while open or after a local close). */
  get closeError(): Error | null {
    return this.#closeError;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs fn once the session ends (at once if it already has). */
  onClose(fn: (err: Error | null) => void): void {
    if (this.#closed) fn(this.#closeError);
    else this.#onClosed.push(fn);
  }

  /**
   * Opens the WorkspaceUpdates stream for `ownerId` (a UUID): the server first sends the owner's current
   * workspaces and agents, then every change. Iterate it; it ends when the server closes the stream and
   * throws TailnetRemoteError / TailnetProtocolError / TailnetClosedError when it fails.
   */
  workspaceUpdates(ownerId: string): WorkspaceUpdatesStream {
    const request = encodeWorkspaceUpdatesRequest(ownerId);
    return new WorkspaceUpdatesStream(this.#session.open(), request, this.#limits);
  }

  /** Ends the session (yamux GoAway, websocket close 1000); open streams fail with TailnetClosedError. */
  close(): void {
    this.#session.close();
  }
}

type Settled = { done: true; error: Error | null };

/** The WorkspaceUpdates server stream: an async iterator of updates over one drpc stream (id 1). */
export class WorkspaceUpdatesStream implements AsyncIterableIterator<WorkspaceUpdate> {
  readonly #stream: YamuxStream;
  readonly #limits: TailnetLimits;
  readonly #frames: FrameParser;
  readonly #packets: PacketAssembler;
  readonly #queue: { update: WorkspaceUpdate; bytes: number }[] = [];
  #queuedBytes = 0;
  /** Received bytes not yet granted back to the server (held while the queue is over its cap). */
  #held = 0;
  #end: Settled | null = null;
  #waiter: ((r: IteratorResult<WorkspaceUpdate>) => void) | null = null;
  #failWaiter: ((e: Error) => void) | null = null;
  /** Messages received so far. */
  received = 0;

  constructor(stream: YamuxStream, request: Uint8Array, limits: TailnetLimits) {
    this.#stream = stream;
    this.#limits = limits;
    this.#frames = new FrameParser(limits.maxMessageBytes);
    this.#packets = new PacketAssembler(limits.maxMessageBytes);
    stream.onData = (chunk) => this.#onData(chunk);
    stream.onEnd = () => {
      if (!this.#end) {
        this.#finish(new TailnetClosedError(`${WORKSPACE_UPDATES_RPC}: the server closed the yamux stream without a drpc close`));
      }
    };
    stream.onError = (err) => this.#finish(err);
    // As drpc's client does it: invoke + message flushed together, then close-send (no more requests).
    stream.write(Buffer.concat([
      encodeFrame({ kind: KIND.invoke, stream: 1, message: 1, done: true, data: Buffer.from(WORKSPACE_UPDATES_RPC) }),
      encodeFrame({ kind: KIND.message, stream: 1, message: 2, done: true, data: request }),
    ]));
    stream.write(encodeFrame({ kind: KIND.closeSend, stream: 1, message: 3, done: true }));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<WorkspaceUpdate>> {
    const item = this.#queue.shift();
    if (item) {
      this.#queuedBytes -= item.bytes;
      this.#release();
      return Promise.resolve({ done: false, value: item.update });
    }
    if (this.#end) {
      return this.#end.error ? Promise.reject(this.#end.error) : Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#failWaiter = reject;
    });
  }

  /** Stops reading: the stream is closed (yamux FIN then forgotten); pending reads end. */
  return(): Promise<IteratorResult<WorkspaceUpdate>> {
    this.close();
    return Promise.resolve({ done: true, value: undefined });
  }

  close(): void {
    if (!this.#end) {
      this.#stream.reset();
      this.#finish(null);
    }
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  #onData(chunk: Buffer): void {
    if (this.#end) return;
    try {
      for (const fr of this.#frames.push(chunk)) {
        const pkt = this.#packets.push(fr);
        if (pkt) this.#onPacket(pkt);
        if (this.#end) break;
      }
    } catch (e) {
      this.#stream.reset();
      this.#finish(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.#held += chunk.length;
    this.#release();
  }

  #release(): void {
    if (this.#held > 0 && this.#queuedBytes <= this.#limits.maxQueuedBytes) {
      this.#stream.consumed(this.#held);
      this.#held = 0;
    }
  }

  #onPacket(pkt: Packet): void {
    if (pkt.stream !== 1) {
      throw new TailnetProtocolError("drpc", `${kindName(pkt.kind)} packet for drpc stream ${pkt.stream}; only stream 1 is open`);
    }
    switch (pkt.kind) {
      case KIND.message: {
        const update = decodeWorkspaceUpdate(pkt.data);
        this.received++;
        if (this.#waiter) {
          const w = this.#waiter;
          this.#waiter = null;
          this.#failWaiter = null;
          w({ done: false, value: update });
        } else {
          this.#queue.push({ update, bytes: pkt.data.length + 64 });
          this.#queuedBytes += pkt.data.length + 64;
        }
        return;
      }
      case KIND.error: {
        const { code, message } = parseErrorData(pkt.data);
        this.#finish(new TailnetRemoteError(WORKSPACE_UPDATES_RPC, code, message.slice(0, 1000)));
        return;
      }
      case KIND.close:
      case KIND.closeSend:
        // The server's handler returned: the stream is over (Recv returns io.EOF in Go).
        this.#finish(null);
        return;
      case KIND.cancel:
        this.#finish(new TailnetClosedError(`${WORKSPACE_UPDATES_RPC}: the server canceled the stream`));
        return;
      case KIND.invoke:
      case KIND.invokeMetadata:
        throw new TailnetProtocolError("drpc", `${kindName(pkt.kind)} from the server on an existing stream`);
      default:
        throw new TailnetProtocolError("drpc", `unknown packet kind ${pkt.kind}`);
    }
  }

  #finish(error: Error | null): void {
    if (this.#end) return;
    this.#end = { done: true, error };
    if (this.#waiter) {
      const w = this.#waiter;
      const f = this.#failWaiter!;
      this.#waiter = null;
      this.#failWaiter = null;
      if (error) f(error);
      else w({ done: true, value: undefined });
    }
  }
}
