/**
 * Test helpers for the traffic engine: a loopback websocket server with controllable misbehaviour and a tiny
 * websocket TrafficDialer for it, plus an in-memory fake dialer for exact fault tests.
 */
import { WebSocket, WebSocketServer } from "ws";
import type { AddressInfo } from "node:net";
import type { EchoMode, TrafficConnection, TrafficDialer, TrafficTarget } from "../../src/traffic/transport.ts";

export function makeTargets(n: number, prefix = "scaletest-t1-"): TrafficTarget[] {
  return Array.from({ length: n }, (_, i) => {
    const idx = String(i).padStart(4, "0");
    return {
      workspaceId: `ws-${idx}`,
      workspaceName: `${prefix}${idx}`,
      ownerName: `${prefix}${idx}`,
      agentId: `agent-${idx}`,
      agentName: "main",
      index: i,
    };
  });
}

export interface LoopbackServerOptions {
  /** "echo" returns every message; "discard" swallows; "stream" sends `streamBytes` every `streamEveryMs`. */
  mode?: "echo" | "discard" | "stream";
  streamBytes?: number;
  streamEveryMs?: number;
  /** Called per new connection with the target index from the URL (?i=N); return ms after which to terminate it. */
  dropAfterMs?: (index: number, connectionNumber: number) => number | undefined;
}

export interface LoopbackServer {
  url: string;
  /** Connections accepted so far. */
  accepted(): number;
  /** Hold all echoes for `ms` (messages are buffered and released in order afterwards). */
  stall(ms: number): void;
  close(): Promise<void>;
}

export async function startLoopbackServer(opts: LoopbackServerOptions = {}): Promise<LoopbackServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const port = (wss.address() as AddressInfo).port;
  let accepted = 0;
  let stallUntil = 0;
  const held: { ws: WebSocket; data: Buffer }[] = [];
  let releaseTimer: NodeJS.Timeout | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const perIndex = new Map<number, number>();

  const release = () => {
    releaseTimer = undefined;
    for (const h of held.splice(0)) if (h.ws.readyState === WebSocket.OPEN) h.ws.send(h.data);
  };

  wss.on("connection", (ws, req) => {
    accepted++;
    const index = Number(new URL(req.url ?? "/", "http://x").searchParams.get("i") ?? -1);
    const nth = (perIndex.get(index) ?? 0) + 1;
    perIndex.set(index, nth);
    const mode = opts.mode ?? "echo";
    ws.on("message", (data: Buffer, isBinary) => {
      if (mode !== "echo") return;
      if (Date.now() < stallUntil) held.push({ ws, data });
      else ws.send(data, { binary: isBinary });
    });
    if (mode === "stream") {
      const chunk = Buffer.alloc(opts.streamBytes ?? 1024, 0x61);
      const t = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(chunk), opts.streamEveryMs ?? 50);
      timers.add(t);
      ws.on("close", () => {
        clearInterval(t);
        timers.delete(t);
      });
    }
    const dropMs = opts.dropAfterMs?.(index, nth);
    if (dropMs !== undefined) {
      const t = setTimeout(() => ws.terminate(), dropMs);
      timers.add(t);
      ws.on("close", () => {
        clearTimeout(t);
        timers.delete(t);
      });
    }
    ws.on("error", () => {});
  });

  return {
    url: `ws://127.0.0.1:${port}/`,
    accepted: () => accepted,
    stall(ms: number) {
      stallUntil = Date.now() + ms;
      if (releaseTimer) clearTimeout(releaseTimer);
      releaseTimer = setTimeout(release, ms);
    },
    close: async () => {
      if (releaseTimer) clearTimeout(releaseTimer);
      for (const t of timers) {
        clearTimeout(t);
        clearInterval(t);
      }
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** A websocket TrafficDialer for the loopback server. `asyncWrites` resolves writes on ws's send callback. */
export function wsDialer(url: string, echo: EchoMode = "echo", asyncWrites = false): TrafficDialer {
  return {
    kind: "app",
    echo,
    dial(target: TrafficTarget, signal: AbortSignal): Promise<TrafficConnection> {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(`${url}?i=${target.index}`, { perMessageDeflate: false });
        const onAbort = () => {
          ws.terminate();
          reject(signal.reason instanceof Error ? signal.reason : new Error("dial aborted"));
        };
        signal.addEventListener("abort", onAbort, { once: true });
        ws.once("error", (err) => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        });
        ws.once("open", () => {
          signal.removeEventListener("abort", onAbort);
          resolve(wrapWs(ws, asyncWrites));
        });
      });
    },
  };
}

function wrapWs(ws: WebSocket, asyncWrites: boolean): TrafficConnection {
  let closeErr: Error | undefined;
  ws.on("error", (err) => {
    closeErr = err;
  });
  return {
    write(chunk: Buffer) {
      if (ws.readyState !== WebSocket.OPEN) throw new Error("websocket is not open");
      if (!asyncWrites) {
        ws.send(chunk);
        return;
      }
      return new Promise<void>((resolve, reject) => ws.send(chunk, (err) => (err ? reject(err) : resolve())));
    },
    onData(cb) {
      ws.on("message", (data: Buffer) => cb(data));
    },
    onClose(cb) {
      ws.on("close", (code) => cb(code === 1000 ? undefined : (closeErr ?? new Error(`websocket closed with code ${code}`))));
    },
    close() {
      return new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once("close", () => resolve());
        ws.close(1000);
      });
    },
  };
}

/**
 * In-memory connection whose far end echoes synchronously-ish (next microtask), with hooks to fail it.
 * `failWritesAfter`: the n+1-th write throws. `closeWith`: make the far end close it.
 */
export class FakeConnection implements TrafficConnection {
  private dataCb: ((c: Buffer) => void) | undefined;
  private closeCb: ((e?: Error) => void) | undefined;
  writes = 0;
  closed = false;
  constructor(
    private readonly echo: boolean,
    private readonly failWritesAfter = Infinity,
  ) {}
  write(chunk: Buffer): void {
    if (this.closed || this.writes >= this.failWritesAfter) throw new Error("broken pipe");
    this.writes++;
    if (this.echo) queueMicrotask(() => this.dataCb?.(chunk));
  }
  onData(cb: (c: Buffer) => void): void {
    this.dataCb = cb;
  }
  onClose(cb: (e?: Error) => void): void {
    this.closeCb = cb;
  }
  closeWith(err?: Error): void {
    this.closed = true;
    this.closeCb?.(err);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
