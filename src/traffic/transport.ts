/**
 * The contract between the traffic engine (src/traffic/engine.ts) and the connection kinds
 * (reconnecting-PTY websocket, SSH, workspace-app websocket). A kind only knows how to dial one agent
 * and move bytes; the engine owns timing, counting, reconnects and metrics.
 */

/** One workspace agent to connect to. `index` is the position in the run's selected target list. */
export interface TrafficTarget {
  workspaceId: string;
  workspaceName: string;
  ownerName: string;
  agentId: string;
  agentName: string;
  index: number;
}

export type TrafficKind = "web-terminal" | "ssh" | "app";

/**
 * What the far end does with what we write:
 * - "echo": returns it (possibly transformed, e.g. a PTY turns "\n" into "\r\n"); a tick is complete when its
 *   trailing "\n" comes back, and tick latency = echo arrival - the tick's due time.
 * - "read": the far end streams data at us (app mode `wsra`); we still write ticks, count what we read, and
 *   tick latency = write completion - due time.
 * - "write": the far end discards (app mode `wsdi`); tick latency = write completion - due time.
 */
export type EchoMode = "echo" | "read" | "write";

/**
 * One open connection. Implementations must:
 * - never mutate or keep the `chunk` passed to `write` after it returns/resolves: payload buffers are shared
 *   between connections and reused every tick;
 * - call the `onData` callback with raw received bytes (no copies needed: the engine only scans them);
 * - call the `onClose` callback exactly once when the connection ends for any reason, with an Error when it
 *   was lost (reset, protocol error, non-normal websocket close), also while `close()` waits for the far end
 *   to answer its goodbye, and without one on a clean end (the far end's normal close, also in answer to
 *   `close()`) or when `close()` itself had to cut a far end that never answered;
 * - return a Promise from `write` only if the kind has a real completion signal (e.g. a flush callback);
 *   a synchronous `write` that throws reports a write error.
 */
export interface TrafficConnection {
  write(chunk: Buffer): void | Promise<void>;
  onData(cb: (chunk: Buffer) => void): void;
  onClose(cb: (err?: Error) => void): void;
  /**
   * Ends the connection gracefully (e.g. Ctrl+C / SIGHUP to the remote command, then close). May be called on a
   * connection that already closed (after a failed write or a drop): must then resolve promptly.
   */
  close(): Promise<void>;
}

export interface TrafficDialer {
  kind: TrafficKind;
  echo: EchoMode;
  /**
   * How many "\n" bytes come back per tick in echo mode (default 1). A PTY that both echoes the typed line
   * and prints the command's output would return 2. A "\r\n" translation still counts as one.
   */
  echoNewlinesPerTick?: number;
  /**
   * Opens one connection to `target`. Must honour `signal` (run stop / dial timeout) by rejecting. The signal
   * only covers the dial: remove any listener on it once connected (it also fires when the run ends, and a
   * connection torn down by it during the drain would count as a drop).
   */
  dial(target: TrafficTarget, signal: AbortSignal): Promise<TrafficConnection>;
}
