// The simulator's drpc server side (storj.io/drpc drpcwire), independent of the product's client.
//
// Frame: [control][varint stream][varint message][varint length][data]; control = kind << 1 | done, bit 7
// = "control" (skip). Kinds: 1 invoke, 2 message, 3 error, 4 cancel, 5 close, 6 close-send, 7 invoke
// metadata. The server answers on the client's stream id with message ids 1, 2, 3...; an error packet
// carries an 8-byte big-endian code before its text.

export class SimDrpcError extends Error {}

export const K_INVOKE = 1;
export const K_MESSAGE = 2;
export const K_ERROR = 3;
export const K_CANCEL = 4;
export const K_CLOSE = 5;
export const K_CLOSE_SEND = 6;
export const K_INVOKE_METADATA = 7;

function uvarint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b += 128;
    out.push(b);
  } while (n > 0);
  return out;
}

export function frame(kind: number, stream: number, message: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([kind * 2 + 1, ...uvarint(stream), ...uvarint(message), ...uvarint(data.length)]), data]);
}

export function errorData(code: bigint, text: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(code);
  return Buffer.concat([b, Buffer.from(text, "utf8")]);
}

export interface SimPacket {
  kind: number;
  stream: number;
  message: number;
  data: Buffer;
}

/** Reads frames from the client and yields whole packets; sizes are capped (the client sends little). */
export class SimPacketReader {
  private buf: Buffer = Buffer.alloc(0);
  private cur: SimPacket | null = null;
  private last = { stream: 1, message: 1 };

  constructor(private readonly maxPacket = 64 * 1024) {}

  push(chunk: Buffer): SimPacket[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: SimPacket[] = [];
    let i = 0;
    for (;;) {
      const start = i;
      if (i >= this.buf.length) break;
      const control = this.buf[i++]!;
      const nums: number[] = [];
      let ok = true;
      for (let k = 0; k < 3 && ok; k++) {
        let v = 0;
        let mul = 1;
        for (let j = 0; ; j++) {
          if (j >= 10) throw new SimDrpcError("varint too long");
          if (i >= this.buf.length) {
            ok = false;
            break;
          }
          const b = this.buf[i++]!;
          v += (b & 127) * mul;
          mul *= 128;
          if (b < 128) break;
        }
        nums.push(v);
      }
      if (!ok) {
        i = start;
        break;
      }
      const [stream, message, len] = nums as [number, number, number];
      if (len > this.maxPacket) throw new SimDrpcError(`frame of ${len} bytes`);
      if (this.buf.length - i < len) {
        i = start;
        break;
      }
      const data = this.buf.subarray(i, i + len);
      i += len;
      if (control & 128) continue;
      const kind = (control >> 1) & 63;
      const done = (control & 1) === 1;
      if (stream < this.last.stream || (stream === this.last.stream && message < this.last.message)) {
        throw new SimDrpcError("id monotonicity violation");
      }
      if (!this.cur || this.cur.stream !== stream || this.cur.message !== message) {
        this.cur = { kind, stream, message, data: Buffer.from(data) };
        this.last = { stream, message };
      } else if (this.cur.kind !== kind) {
        throw new SimDrpcError("packet kind change");
      } else {
        this.cur.data = Buffer.concat([this.cur.data, data]);
      }
      if (this.cur.data.length > this.maxPacket) throw new SimDrpcError("data overflow");
      if (done) {
        out.push(this.cur);
        this.cur = null;
        this.last = { stream, message: message + 1 };
      }
    }
    this.buf = i ? Buffer.from(this.buf.subarray(i)) : this.buf;
    return out;
  }
}
