// A yamux client session (hashicorp/yamux spec.md), small and bounded.
//
// Frame header, 12 bytes big-endian: version (0), type (0 data, 1 window update, 2 ping, 3 go away),
// flags (1 SYN, 2 ACK, 4 FIN, 8 RST), stream id (client odd, server even, 0 = session), length (data:
// payload bytes; window update: window delta; ping: opaque value; go away: error code).
// A stream opens with a SYN window update (delta 0, as Go's yamux sends it), may send data at once, and
// each side grants the other a 256 KiB receive window that window updates extend.
//
// Written here rather than taken from npm: the one Node port (yamux-js) drops the payload of a data frame
// split across reads and buffers without limit. This one refuses a data frame larger than the stream's
// window from its header alone, and turns every malformed frame into a TailnetProtocolError on the
// session (which closes it), so a broken server is an error, never a hang or unbounded memory.
import { TailnetClosedError, TailnetProtocolError } from "./errors.ts";

export const HEADER_LENGTH = 12;
export const TYPE = { data: 0, windowUpdate: 1, ping: 2, goAway: 3 } as const;
export const FLAG = { syn: 1, ack: 2, fin: 4, rst: 8 } as const;
export const GO_AWAY = { normal: 0, protocolError: 1, internalError: 2 } as const;
/** The window every stream starts with (spec: 256 KB). */
export const INITIAL_WINDOW = 256 * 1024;

export function encodeHeader(type: number, flags: number, streamId: number, length: number): Buffer {
  const h = Buffer.alloc(HEADER_LENGTH);
  h.writeUInt8(0, 0);
  h.writeUInt8(type, 1);
  h.writeUInt16BE(flags, 2);
  h.writeUInt32BE(streamId >>> 0, 4);
  h.writeUInt32BE(length >>> 0, 8);
  return h;
}

export interface YamuxTransport {
  /** Sends bytes to the server (one websocket message). */
  write(data: Buffer): void;
  /** Closes the underlying connection. */
  close(): void;
}

export interface YamuxOptions {
  /** Ping the server this often (Go's default keepalive: 30 s); 0 = off. */
  keepAliveMs?: number;
  /** A ping unanswered this long fails the session (Go's ConnectionWriteTimeout: 10 s). */
  keepAliveTimeoutMs?: number;
  /** Streams open at once (default 64). */
  maxStreams?: number;
}

type StreamState = "open" | "localClosed" | "remoteClosed" | "closed";

/** One multiplexed stream. Data arrives through `onData`; call `consumed(n)` once the bytes are processed. */
export class YamuxStream {
  onData: (chunk: Buffer) => void = () => {};
  /** The server half-closed (FIN): no more data will come. */
  onEnd: () => void = () => {};
  /** The stream or its session failed (reset, protocol error, connection lost). */
  onError: (err: Error) => void = () => {};

  #state: StreamState = "open";
  #sendWindow = INITIAL_WINDOW;
  #recvWindow = INITIAL_WINDOW;
  #unacked = 0;
  #pending: Buffer[] = [];
  #finPending = false;
  #failed = false;

  constructor(
    readonly id: number,
    private readonly session: YamuxSession,
  ) {}

  /** Queues bytes; sends as much as the server's window allows. */
  write(data: Buffer): void {
    if (this.#state === "localClosed" || this.#state === "closed" || this.#finPending) {
      throw new TailnetClosedError(`yamux stream ${this.id}: write after close`);
    }
    if (data.length > 0) this.#pending.push(data);
    this.#flush();
  }

  /** Half-closes: sends FIN after the queued data. */
  closeWrite(): void {
    if (this.#state === "localClosed" || this.#state === "closed" || this.#finPending) return;
    this.#finPending = true;
    this.#flush();
  }

  /** Aborts the stream with RST (nothing more is sent or delivered). */
  reset(): void {
    if (this.#state === "closed") return;
    this.session.sendFrame(TYPE.windowUpdate, FLAG.rst, this.id, 0);
    this.#finish();
  }

  /** The application processed `n` received bytes: grant them back once half the window is used. */
  consumed(n: number): void {
    this.#unacked += n;
    if (this.#state === "closed" || this.#state === "remoteClosed") return;
    if (this.#unacked >= INITIAL_WINDOW / 2) {
      this.#recvWindow += this.#unacked;
      this.session.sendFrame(TYPE.windowUpdate, 0, this.id, this.#unacked);
      this.#unacked = 0;
    }
  }

  get state(): StreamState {
    return this.#state;
  }

  /** @internal a frame for this stream arrived. */
  handle(type: number, flags: number, length: number, body: Buffer | null): void {
    if (type === TYPE.windowUpdate) {
      this.#sendWindow += length;
      if (this.#sendWindow > 0x7fffffff) {
        throw new TailnetProtocolError("yamux", `stream ${this.id}: window update grows the send window past 2^31`);
      }
    } else if (body && body.length > 0) {
      if (body.length > this.#recvWindow) {
        throw new TailnetProtocolError("yamux", `stream ${this.id}: ${body.length}-byte data frame exceeds the ${this.#recvWindow}-byte receive window`);
      }
      this.#recvWindow -= body.length;
      if (this.#state !== "remoteClosed" && this.#state !== "closed") this.onData(body);
    }
    if (flags & FLAG.rst) {
      this.#fail(new TailnetClosedError(`yamux stream ${this.id} reset by the server`));
      return;
    }
    if (flags & FLAG.fin) {
      if (this.#state === "open") this.#state = "remoteClosed";
      else if (this.#state === "localClosed") this.#finish();
      this.onEnd();
    }
    this.#flush();
  }

  /** @internal the session ended. */
  fail(err: Error): void {
    this.#fail(err);
  }

  #fail(err: Error): void {
    if (this.#failed || this.#state === "closed") {
      this.#finish();
      return;
    }
    this.#failed = true;
    this.#finish();
    this.onError(err);
  }

  #finish(): void {
    this.#state = "closed";
    this.#pending = [];
    this.session.forget(this.id);
  }

  #flush(): void {
    if (this.#state === "closed" || this.#state === "localClosed") return;
    while (this.#pending.length > 0 && this.#sendWindow > 0) {
      const head = this.#pending[0]!;
      const n = Math.min(head.length, this.#sendWindow, INITIAL_WINDOW);
      this.session.sendFrame(TYPE.data, 0, this.id, n, head.subarray(0, n));
      this.#sendWindow -= n;
      if (n === head.length) this.#pending.shift();
      else this.#pending[0] = head.subarray(n);
    }
    if (this.#finPending && this.#pending.length === 0) {
      this.#finPending = false;
      this.session.sendFrame(TYPE.windowUpdate, FLAG.fin, this.id, 0);
      if (this.#state === "remoteClosed") this.#finish();
      else this.#state = "localClosed";
    }
  }
}

/** A yamux client session over a byte transport; feed it what the server sends with `feed`. */
export class YamuxSession {
  /** Called once when the session ends: null for a local close, else why. */
  onClose: (err: Error | null) => void = () => {};

  readonly #transport: YamuxTransport;
  readonly #streams = new Map<number, YamuxStream>();
  readonly #maxStreams: number;
  #nextId = 1;
  #buf: Buffer = Buffer.alloc(0);
  #closed = false;
  #remoteGoAway = false;
  #pingTimer: NodeJS.Timeout | undefined;
  #pingDeadline: NodeJS.Timeout | undefined;
  #pingId = 0;

  constructor(transport: YamuxTransport, opts: YamuxOptions = {}) {
    this.#transport = transport;
    this.#maxStreams = opts.maxStreams ?? 64;
    const every = opts.keepAliveMs ?? 30_000;
    const timeout = opts.keepAliveTimeoutMs ?? 10_000;
    if (every > 0) {
      this.#pingTimer = setInterval(() => this.#ping(timeout), every);
      this.#pingTimer.unref();
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Opens a stream (SYN sent at once; data may follow before the server's ACK). */
  open(): YamuxStream {
    if (this.#closed) throw new TailnetClosedError("yamux session is closed");
    if (this.#remoteGoAway) throw new TailnetClosedError("yamux: the server sent GoAway; no new streams");
    if (this.#streams.size >= this.#maxStreams) throw new TailnetClosedError(`yamux: ${this.#maxStreams} streams already open`);
    const id = this.#nextId;
    this.#nextId += 2;
    const s = new YamuxStream(id, this);
    this.#streams.set(id, s);
    this.sendFrame(TYPE.windowUpdate, FLAG.syn, id, 0);
    return s;
  }

  /** Bytes from the server. Throws nothing: a malformed frame fails the session (see onClose). */
  feed(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      let off = 0;
      while (!this.#closed && this.#buf.length - off >= HEADER_LENGTH) {
        const b = this.#buf;
        const version = b.readUInt8(off);
        const type = b.readUInt8(off + 1);
        const flags = b.readUInt16BE(off + 2);
        const id = b.readUInt32BE(off + 4);
        const length = b.readUInt32BE(off + 8);
        if (version !== 0) throw new TailnetProtocolError("yamux", `unsupported version ${version} in frame header`);
        if (type > TYPE.goAway) throw new TailnetProtocolError("yamux", `invalid message type ${type}`);
        let body: Buffer | null = null;
        if (type === TYPE.data) {
          // Never more than a window of data at once: refuse from the header, before buffering the body.
          if (length > INITIAL_WINDOW) {
            throw new TailnetProtocolError("yamux", `data frame of ${length} bytes on stream ${id} exceeds the ${INITIAL_WINDOW}-byte window`);
          }
          if (b.length - off - HEADER_LENGTH < length) break;
          body = b.subarray(off + HEADER_LENGTH, off + HEADER_LENGTH + length);
          off += HEADER_LENGTH + length;
        } else {
          off += HEADER_LENGTH;
        }
        this.#dispatch(type, flags, id, length, body);
      }
      this.#buf = off === 0 ? this.#buf : Buffer.from(this.#buf.subarray(off));
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      if (err instanceof TailnetProtocolError) this.#goAway(GO_AWAY.protocolError);
      this.#end(err);
    }
  }

  /** Closes the session: GoAway(normal), every stream fails with TailnetClosedError, the transport closes. */
  close(): void {
    if (this.#closed) return;
    this.#goAway(GO_AWAY.normal);
    this.#end(null);
  }

  /** The transport ended (socket closed or failed). */
  transportClosed(err: Error): void {
    this.#end(err);
  }

  /** @internal */
  sendFrame(type: number, flags: number, id: number, length: number, body?: Buffer): void {
    if (this.#closed) return;
    this.#transport.write(body ? Buffer.concat([encodeHeader(type, flags, id, length), body]) : encodeHeader(type, flags, id, length));
  }

  /** @internal */
  forget(id: number): void {
    this.#streams.delete(id);
  }

  #dispatch(type: number, flags: number, id: number, length: number, body: Buffer | null): void {
    if (type === TYPE.ping) {
      if (flags & FLAG.syn) this.sendFrame(TYPE.ping, FLAG.ack, 0, length);
      else if ((flags & FLAG.ack) && length === this.#pingId && this.#pingDeadline) {
        clearTimeout(this.#pingDeadline);
        this.#pingDeadline = undefined;
      }
      return;
    }
    if (type === TYPE.goAway) {
      if (length === GO_AWAY.normal) {
        this.#remoteGoAway = true;
        return;
      }
      const why = length === GO_AWAY.protocolError ? "protocol error" : length === GO_AWAY.internalError ? "internal error" : `unknown code ${length}`;
      throw new TailnetClosedError(`yamux: the server ended the session with GoAway (${why})`);
    }
    if (flags & FLAG.syn) {
      // The server opening a stream: nothing here accepts one, so refuse it as Go does past its backlog.
      if (!this.#streams.has(id)) this.sendFrame(TYPE.windowUpdate, FLAG.rst, id, 0);
      return;
    }
    const s = this.#streams.get(id);
    // Frames for a stream we no longer track (reset or finished) are dropped, as Go's yamux does.
    if (!s) return;
    s.handle(type, flags, length, body);
  }

  #ping(timeoutMs: number): void {
    if (this.#closed || this.#pingDeadline) return;
    this.#pingId = (this.#pingId + 1) >>> 0;
    this.sendFrame(TYPE.ping, FLAG.syn, 0, this.#pingId);
    this.#pingDeadline = setTimeout(() => this.#end(new TailnetClosedError(`yamux: keepalive ping unanswered after ${timeoutMs} ms`)), timeoutMs);
    this.#pingDeadline.unref();
  }

  #goAway(code: number): void {
    try {
      this.sendFrame(TYPE.goAway, 0, 0, code);
    } catch {
      // the transport is already gone
    }
  }

  #end(err: Error | null): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    if (this.#pingDeadline) clearTimeout(this.#pingDeadline);
    this.#buf = Buffer.alloc(0);
    const streamErr = err ?? new TailnetClosedError("yamux session closed");
    for (const s of [...this.#streams.values()]) s.fail(streamErr);
    this.#streams.clear();
    try {
      this.#transport.close();
    } catch {
      // closing a failed socket
    }
    this.onClose(err);
  }
}
