// storj.io/drpc wire format (drpcwire), client side.
//
// A frame is: control byte, then three unsigned LEB128 varints (stream id, message id, data length), then
// the data. Control byte bits: 0 = done (last frame of the packet), 1..6 = kind, 7 = control (frames with it
// set are ignored, for forward compatibility). Kinds: 1 invoke (data = RPC path), 2 message, 3 error
// (8-byte big-endian code + text), 4 cancel, 5 close, 6 close-send, 7 invoke-metadata.
// A packet is the data of consecutive frames with one id, ending at a done frame; ids only grow (the
// reader rejects a smaller one, and a new id drops an unfinished packet), as drpcwire.Reader does.
import { TailnetProtocolError } from "./errors.ts";

export const KIND = { invoke: 1, message: 2, error: 3, cancel: 4, close: 5, closeSend: 6, invokeMetadata: 7 } as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

const KIND_NAMES: Record<number, string> = {
  1: "invoke", 2: "message", 3: "error", 4: "cancel", 5: "close", 6: "close-send", 7: "invoke-metadata",
};

export function kindName(k: number): string {
  return KIND_NAMES[k] ?? `kind ${k}`;
}

export interface Frame {
  kind: number;
  stream: number;
  message: number;
  done: boolean;
  control: boolean;
  data: Buffer;
}

export interface Packet {
  kind: number;
  stream: number;
  message: number;
  data: Buffer;
}

/** Appends the varint encoding of a non-negative safe integer. */
export function appendVarint(out: number[], value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint value ${value} out of range`);
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/**
 * Reads a varint at `off`: the value and the offset after it, or null when `buf` ends first. More than
 * 10 bytes, or a value past 2^53, is a protocol error (drpc: "varint too long").
 */
export function readVarint(buf: Buffer, off: number): { value: number; next: number } | null {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (off + i >= buf.length) return null;
    const b = buf[off + i]!;
    value += (b & 0x7f) * mul;
    if (b < 0x80) {
      if (!Number.isSafeInteger(value)) throw new TailnetProtocolError("drpc", "varint value larger than 2^53");
      return { value, next: off + i + 1 };
    }
    mul *= 0x80;
  }
  throw new TailnetProtocolError("drpc", "varint too long");
}

export function encodeFrame(f: { kind: number; stream: number; message: number; done: boolean; control?: boolean; data?: Uint8Array }): Buffer {
  const head: number[] = [((f.kind & 0x3f) << 1) | (f.done ? 1 : 0) | (f.control ? 0x80 : 0)];
  appendVarint(head, f.stream);
  appendVarint(head, f.message);
  const data = f.data ?? new Uint8Array(0);
  appendVarint(head, data.length);
  return Buffer.concat([Buffer.from(head), data]);
}

/** Splits a byte stream into frames; a frame whose length passes `maxData` is refused from its header alone. */
export class FrameParser {
  #buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxData: number) {}

  /** Bytes held waiting for the rest of a frame. */
  get buffered(): number {
    return this.#buf.length;
  }

  push(chunk: Buffer): Frame[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const frames: Frame[] = [];
    let off = 0;
    for (;;) {
      if (this.#buf.length - off < 1) break;
      const control = this.#buf[off]!;
      const s = readVarint(this.#buf, off + 1);
      if (!s) break;
      const m = readVarint(this.#buf, s.next);
      if (!m) break;
      const l = readVarint(this.#buf, m.next);
      if (!l) break;
      if (l.value > this.maxData) {
        throw new TailnetProtocolError("drpc", `frame of ${l.value} bytes exceeds the ${this.maxData}-byte limit`);
      }
      if (this.#buf.length - l.next < l.value) break;
      frames.push({
        kind: (control & 0x7e) >> 1,
        done: (control & 1) === 1,
        control: (control & 0x80) !== 0,
        stream: s.value,
        message: m.value,
        data: this.#buf.subarray(l.next, l.next + l.value),
      });
      off = l.next + l.value;
    }
    this.#buf = off === 0 ? this.#buf : Buffer.from(this.#buf.subarray(off));
    return frames;
  }
}

/** Reassembles frames into packets exactly as drpcwire.Reader does, with a cap on a packet's size. */
export class PacketAssembler {
  #stream = 1;
  #message = 1;
  #current: { kind: number; stream: number; message: number; parts: Buffer[]; size: number } | null = null;

  constructor(private readonly maxPacket: number) {}

  /** Feeds one frame; returns the packet it completes, if any. */
  push(fr: Frame): Packet | null {
    // Frames with the control bit set are reserved for future use and skipped.
    if (fr.control) return null;
    if (fr.stream < this.#stream || (fr.stream === this.#stream && fr.message < this.#message)) {
      throw new TailnetProtocolError("drpc", `id monotonicity violation: frame <s:${fr.stream} m:${fr.message}> after <s:${this.#stream} m:${this.#message}>`);
    }
    const cur = this.#current;
    if (!cur || cur.stream !== fr.stream || cur.message !== fr.message) {
      this.#stream = fr.stream;
      this.#message = fr.message;
      this.#current = { kind: fr.kind, stream: fr.stream, message: fr.message, parts: [], size: 0 };
    } else if (cur.kind !== fr.kind) {
      throw new TailnetProtocolError("drpc", `packet kind change from ${kindName(cur.kind)} to ${kindName(fr.kind)} within <s:${fr.stream} m:${fr.message}>`);
    }
    const p = this.#current!;
    p.parts.push(fr.data);
    p.size += fr.data.length;
    if (p.size > this.maxPacket) {
      throw new TailnetProtocolError("drpc", `packet of more than ${this.maxPacket} bytes (data overflow)`);
    }
    if (!fr.done) return null;
    this.#current = null;
    // The next packet needs a larger id: the same id is never accepted twice.
    this.#message = fr.message + 1;
    return { kind: p.kind, stream: p.stream, message: p.message, data: p.parts.length === 1 ? p.parts[0]! : Buffer.concat(p.parts) };
  }
}

/** drpcwire.UnmarshalError: 8-byte big-endian code, then the message. */
export function parseErrorData(data: Buffer): { code: bigint; message: string } {
  if (data.length < 8) return { code: 0n, message: `${data.toString("utf8")} (drpcwire note: invalid error data)` };
  return { code: data.readBigUInt64BE(0), message: data.subarray(8).toString("utf8") };
}
