// The simulator's yamux server session (hashicorp/yamux spec.md), written independently of the product's
// client (src/coder/tailnet) so a bug shared by both cannot hide: the two only meet on the wire and in the
// hand-written fixtures of test/tailnet-fixtures.test.ts.
//
// Header (12 bytes, network order): version u8 = 0 | type u8 | flags u16 | stream id u32 | length u32.
// Types: 0 data, 1 window update, 2 ping, 3 go away. Flags: 0x1 SYN, 0x2 ACK, 0x4 FIN, 0x8 RST.
// Client streams have odd ids; the server ACKs a SYN with a window update (delta 0), as Go's yamux does
// when its application accepts the stream. Each direction starts with a 256 KB window per stream.

const HDR = 12;
const WINDOW = 262144;
const T_DATA = 0;
const T_WINDOW = 1;
const T_PING = 2;
const T_GOAWAY = 3;
const F_SYN = 0x1;
const F_ACK = 0x2;
const F_FIN = 0x4;
const F_RST = 0x8;

export class SimYamuxError extends Error {}

function header(type: number, flags: number, id: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(HDR);
  b[0] = 0;
  b[1] = type;
  b.writeUInt16BE(flags, 2);
  b.writeUInt32BE(id, 4);
  b.writeUInt32BE(len, 8);
  return b;
}

export class SimYamuxStream {
  /** Bytes from the client. */
  onData: (b: Buffer) => void = () => {};
  /** The client half-closed its side. */
  onFin: () => void = () => {};
  /** The stream is gone (client RST, or the session ended). */
  onGone: () => void = () => {};

  sendWindow = WINDOW;
  private recvWindow = WINDOW;
  private readBytes = 0;
  private queue: Buffer[] = [];
  private wantFin = false;
  localClosed = false;
  remoteClosed = false;
  gone = false;

  constructor(
    readonly id: number,
    private readonly session: SimYamuxSession,
  ) {}

  /** Sends bytes as the client's window allows; the rest waits for its window updates. */
  write(b: Buffer): void {
    if (this.gone || this.localClosed || this.wantFin) return;
    this.queue.push(b);
    this.pump();
  }

  /** Half-close after queued data. */
  fin(): void {
    if (this.gone || this.localClosed) return;
    this.wantFin = true;
    this.pump();
  }

  /** Hard reset. */
  rst(): void {
    if (this.gone) return;
    this.session.out(header(T_WINDOW, F_RST, this.id, 0));
    this.drop();
  }

  /** @internal */
  received(type: number, flags: number, len: number, body: Buffer | null): void {
    if (type === T_WINDOW) this.sendWindow += len;
    if (body && body.length) {
      if (body.length > this.recvWindow) throw new SimYamuxError(`stream ${this.id}: client overran its receive window`);
      this.recvWindow -= body.length;
      this.readBytes += body.length;
      if (this.readBytes >= WINDOW / 2) {
        this.session.out(header(T_WINDOW, 0, this.id, this.readBytes));
        this.recvWindow += this.readBytes;
        this.readBytes = 0;
      }
      if (!this.remoteClosed) this.onData(body);
    }
    if (flags & F_RST) {
      this.drop();
      return;
    }
    if (flags & F_FIN && !this.remoteClosed) {
      this.remoteClosed = true;
      this.onFin();
      if (this.localClosed) this.drop();
    }
    this.pump();
  }

  /** @internal */
  drop(): void {
    if (this.gone) return;
    this.gone = true;
    this.queue = [];
    this.session.forget(this.id);
    this.onGone();
  }

  private pump(): void {
    while (!this.gone && this.queue.length && this.sendWindow > 0) {
      const b = this.queue[0]!;
      const n = Math.min(b.length, this.sendWindow);
      this.session.out(Buffer.concat([header(T_DATA, 0, this.id, n), b.subarray(0, n)]));
      this.sendWindow -= n;
      if (n === b.length) this.queue.shift();
      else this.queue[0] = b.subarray(n);
    }
    if (!this.gone && this.wantFin && !this.queue.length) {
      this.wantFin = false;
      this.localClosed = true;
      this.session.out(header(T_WINDOW, F_FIN, this.id, 0));
      if (this.remoteClosed) this.drop();
    }
  }
}

export class SimYamuxSession {
  private pending: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, SimYamuxStream>();
  ended = false;

  constructor(
    private readonly send: (b: Buffer) => void,
    private readonly accept: (s: SimYamuxStream) => void,
    /** Called once with why the session ended (GoAway code sent, or null for the client's close). */
    private readonly onEnd: (err: Error | null) => void,
  ) {}

  get streamCount(): number {
    return this.streams.size;
  }

  /** @internal */
  out(b: Buffer): void {
    if (!this.ended) this.send(b);
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** Bytes from the client; a protocol violation sends GoAway(protocol error) and ends the session. */
  input(chunk: Buffer): void {
    if (this.ended) return;
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    try {
      while (!this.ended && this.pending.length - at >= HDR) {
        const p = this.pending;
        const version = p[at]!;
        const type = p[at + 1]!;
        const flags = p.readUInt16BE(at + 2);
        const id = p.readUInt32BE(at + 4);
        const len = p.readUInt32BE(at + 8);
        if (version !== 0) throw new SimYamuxError(`bad version ${version}`);
        let body: Buffer | null = null;
        if (type === T_DATA) {
          if (len > WINDOW) throw new SimYamuxError(`data frame of ${len} bytes is larger than a window`);
          if (p.length - at - HDR < len) break;
          body = p.subarray(at + HDR, at + HDR + len);
          at += HDR + len;
        } else if (type <= T_GOAWAY) {
          at += HDR;
        } else {
          throw new SimYamuxError(`bad frame type ${type}`);
        }
        this.frame(type, flags, id, len, body);
      }
      this.pending = at ? Buffer.from(this.pending.subarray(at)) : this.pending;
    } catch (e) {
      if (!(e instanceof SimYamuxError)) throw e;
      this.send(header(T_GOAWAY, 0, 0, 1));
      this.end(e);
    }
  }

  /** Ends the session from the server side: GoAway with `code` (0 normal). */
  goAway(code = 0): void {
    if (this.ended) return;
    this.send(header(T_GOAWAY, 0, 0, code));
    this.end(null);
  }

  /** The connection is gone: every stream is dropped. */
  end(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    for (const s of [...this.streams.values()]) s.drop();
    this.onEnd(err);
  }

  private frame(type: number, flags: number, id: number, len: number, body: Buffer | null): void {
    if (type === T_PING) {
      if (flags & F_SYN) this.send(header(T_PING, F_ACK, 0, len));
      return;
    }
    if (type === T_GOAWAY) {
      this.end(null);
      return;
    }
    let s = this.streams.get(id);
    if (flags & F_SYN) {
      if (s || id === 0 || id % 2 === 0) throw new SimYamuxError(`SYN for stream ${id} (duplicate, zero or not a client id)`);
      s = new SimYamuxStream(id, this);
      this.streams.set(id, s);
      this.send(header(T_WINDOW, F_ACK, id, 0));
      this.accept(s);
    }
    // Data for a stream already gone is dropped, as Go's yamux does.
    s?.received(type, flags, len, body);
  }
}
