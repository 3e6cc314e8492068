/**
 * A TrafficConnection over an open `ws` WebSocket, shared by the web-terminal (PTY) and workspace-app kinds.
 * Each tick's chunk is turned into frames by `encode` (PTY: `{"data": ...}` JSON of <= 1,024 bytes of data;
 * apps: raw binary slices of <= 1,024 bytes, as Coder's client writes them). A tick's frames are written
 * with the socket corked, so they leave in one writev. The write is complete when its last frame has been
 * handed to the kernel: during the call when the socket takes it all (then write returns nothing and the
 * engine goes on without a promise or a callback per tick), otherwise when the socket has flushed it (write
 * returns a promise, and the engine sends nothing more on this connection until then: backpressure).
 *
 * How the connection ended: cleanly only with a Normal Closure (1000) close frame from the far end, also when
 * we asked for it (our goodbye or close frame); a connection cut before that (1006) or closed with another
 * code is lost, and onClose gets an Error, even while close() waits. Only when close() has to cut the socket
 * itself (no answer within closeWaitMs) is the end not a loss.
 */
import type WebSocket from "ws";
import type { TrafficConnection } from "../transport.ts";
import { redactAndTruncate } from "../../util/redact.ts";

export interface WsConnOptions {
  /** Frames for one chunk. Must not keep or mutate `chunk`. */
  encode: (chunk: Buffer) => readonly Buffer[];
  /** Sent before closing, e.g. the PTY's Ctrl+C frame; then we wait for the far end to close. */
  goodbye?: Buffer;
  /** How long close() waits for the far end's close frame before cutting the socket (default 5 s). */
  closeWaitMs?: number;
}

/** Close codes that mean a clean end (RFC 6455 1000 Normal Closure). */
function closeError(code: number, reason: Buffer): Error | undefined {
  if (code === 1000) return undefined;
  const why = reason.length ? `: ${redactAndTruncate(reason.toString("utf8"), 200)}` : "";
  if (code === 1006) return new Error(`websocket closed abnormally (1006, connection lost without a close frame)`);
  return new Error(`websocket closed with code ${code}${why}`);
}

const BINARY = { binary: true } as const;

interface Corkable {
  cork(): void;
  uncork(): void;
}

function socketOf(ws: WebSocket): Corkable | undefined {
  const s = (ws as unknown as { _socket?: Partial<Corkable> })._socket;
  return s && typeof s.cork === "function" && typeof s.uncork === "function" ? (s as Corkable) : undefined;
}

export function wsConnection(ws: WebSocket, opts: WsConnOptions): TrafficConnection {
  let dataCb: ((chunk: Buffer) => void) | undefined;
  let closeCb: ((err?: Error) => void) | undefined;
  let closed = false;
  /** close() gave up waiting for the far end and cut the socket itself. */
  let forced = false;
  let pendingClose: { err: Error | undefined } | undefined;
  let lastError: Error | undefined;
  const closedPromise = new Promise<void>((resolve) => {
    ws.once("close", (code: number, reason: Buffer) => {
      closed = true;
      if (waiter) onFlushed(new Error("websocket closed before the write was flushed"));
      const err = forced ? undefined : closeError(code, reason);
      const reported = err && lastError ? new Error(`${err.message} (${lastError.message})`) : err;
      if (closeCb) closeCb(reported);
      else pendingClose = { err: reported };
      resolve();
    });
  });
  ws.on("error", (e: Error) => {
    lastError = e;
  });
  // The socket under `ws` (a private field, stable across ws 7-8), corked around each tick's frames; when it
  // is missing (another ws version) frames are written one by one, which is only slower.
  const sock = socketOf(ws);
  /** Ticks written / ticks whose last frame the socket has flushed (its write callbacks run in order). */
  let sent = 0;
  let flushed = 0;
  let waiter: { seq: number; resolve: () => void; reject: (e: Error) => void } | undefined;
  // One callback per connection, not a closure per tick.
  const onFlushed = (err?: Error | null): void => {
    if (err) {
      const w = waiter;
      waiter = undefined;
      w?.reject(err);
      return;
    }
    flushed++;
    if (waiter && flushed >= waiter.seq) {
      const w = waiter;
      waiter = undefined;
      w.resolve();
    }
  };
  ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    if (!dataCb) return;
    if (Buffer.isBuffer(data)) dataCb(data);
    else if (Array.isArray(data)) for (const d of data) dataCb(d);
    else dataCb(Buffer.from(data));
  });

  return {
    write(chunk: Buffer): void | Promise<void> {
      if (closed || ws.readyState !== ws.OPEN) throw new Error("websocket is not open");
      const frames = opts.encode(chunk);
      const n = frames.length;
      if (n === 0) return;
      // One tick's frames leave in one writev (one syscall) instead of one write per frame.
      sock?.cork();
      try {
        for (let i = 0; i < n - 1; i++) ws.send(frames[i]!, BINARY);
        ws.send(frames[n - 1]!, BINARY, onFlushed);
      } finally {
        sock?.uncork();
      }
      sent++;
      // Everything reached the kernel during the call (the usual case): done, like Go's conn.Write returning.
      // Otherwise the write completes when the socket has flushed this tick's last frame.
      if (ws.bufferedAmount === 0) return;
      return new Promise<void>((resolve, reject) => {
        waiter = { seq: sent, resolve, reject };
      });
    },
    onData(cb) {
      dataCb = cb;
    },
    onClose(cb) {
      closeCb = cb;
      if (pendingClose) cb(pendingClose.err);
    },
    async close(): Promise<void> {
      if (closed) return;
      const wait = opts.closeWaitMs ?? 5000;
      // Waits for the far end's close for at most `wait`; the timer goes when the close comes (at thousands of
      // connections closing at once, not thousands of timers left for the whole wait).
      const closedOrWaited = async (): Promise<void> => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([closedPromise, new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
        clearTimeout(timer);
      };
      if (opts.goodbye && ws.readyState === ws.OPEN) {
        ws.send(opts.goodbye, { binary: true });
        // The far end ends the command and closes; give it a moment, then close from our side.
        const timer = setTimeout(() => ws.close(1000), Math.min(wait, 2000));
        timer.unref();
        await closedOrWaited();
        clearTimeout(timer);
      } else if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
        ws.close(1000);
        await closedOrWaited();
      }
      if (!closed) {
        forced = true;
        ws.terminate();
      }
      await closedPromise;
    },
  };
}
