/**
 * A websocket echo at the frame level, for the benchmark's far end. The far end must cost less than the tools it
 * measures, or its own queue becomes their lag: a `ws` server spends about what a `ws` client does per message
 * (parse, emit, one write per message), so at 2,000 connections x 40 messages/s it saturated its core before the
 * tools did and every tool's p99 was the server's backlog. Here each read is answered with one write: the client
 * frames in it are unmasked into one buffer as server frames (same FIN bit and opcode, payload unchanged), so
 * four 1,024-byte messages that arrive together leave together. Control frames are answered as RFC 6455 says
 * (close echoed with its code, then the socket ended; ping answered with pong); a frame without a mask, or over
 * `maxPayload`, closes the connection with 1002 / 1009.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { createRequire } from "node:module";

type MaskInto = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;

/** XOR-unmasks `source` into `output` at `offset`: bufferutil's native loop (what `ws` uses), or a plain one. */
const maskInto: MaskInto = (() => {
  try {
    return (createRequire(import.meta.url)("bufferutil") as { mask: MaskInto }).mask;
  } catch {
    return (source, mask, output, offset, length) => {
      for (let i = 0; i < length; i++) output[offset + i] = source[i]! ^ mask[i & 3]!;
    };
  }
})();

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export interface FrameEchoEvents {
  /** Payload bytes of a read's data frames (text, binary, continuation), once per read. */
  onData(bytes: number, frames: number): void;
  /** The socket closed; `code` from the client's close frame (1005 when it had none), undefined when none came. */
  onClose(code: number | undefined): void;
}

/** The 101 answer to a websocket upgrade, or undefined when the request is not one (the caller answers 400). */
export function acceptUpgrade(req: IncomingMessage): string | undefined {
  const key = req.headers["sec-websocket-key"];
  if (typeof key !== "string" || req.headers.upgrade?.toLowerCase() !== "websocket") return undefined;
  const accept = createHash("sha1").update(key + GUID).digest("base64");
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

/** Header size of a server frame carrying `len` bytes. */
function headerSize(len: number): number {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

function writeHeader(out: Buffer, at: number, b0: number, len: number): number {
  out[at] = b0;
  if (len < 126) {
    out[at + 1] = len;
    return at + 2;
  }
  if (len < 65536) {
    out[at + 1] = 126;
    out.writeUInt16BE(len, at + 2);
    return at + 4;
  }
  out[at + 1] = 127;
  out.writeUInt32BE(0, at + 2);
  out.writeUInt32BE(len, at + 6);
  return at + 10;
}

function closeFrame(code: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = 0x88;
  b[1] = 2;
  b.writeUInt16BE(code, 2);
  return b;
}

/** Echoes websocket frames on an upgraded socket (`head`: bytes that came with the upgrade request). */
export function frameEcho(socket: Duplex & { setNoDelay?: (v: boolean) => void }, head: Buffer, ev: FrameEchoEvents, maxPayload = 1 << 20): void {
  socket.setNoDelay?.(true);
  let pending: Buffer | undefined;
  let closeCode: number | undefined;
  let ended = false;

  const fail = (code: number): void => {
    if (ended) return;
    ended = true;
    socket.end(closeFrame(code));
  };

  const onChunk = (chunk: Buffer): void => {
    if (ended) return;
    const buf = pending ? Buffer.concat([pending, chunk]) : chunk;
    pending = undefined;
    // Pass 1: find the complete frames (start, header size, payload length of each) and the output's size;
    // pass 2 writes them.
    const frames: number[] = [];
    let at = 0;
    let outSize = 0;
    let end = 0;
    for (;;) {
      if (buf.length - at < 2) break;
      const b1 = buf[at + 1]!;
      let len = b1 & 0x7f;
      let h = 2;
      if (len === 126) {
        if (buf.length - at < 4) break;
        len = buf.readUInt16BE(at + 2);
        h = 4;
      } else if (len === 127) {
        if (buf.length - at < 10) break;
        if (buf.readUInt32BE(at + 2) !== 0) return fail(1009);
        len = buf.readUInt32BE(at + 6);
        h = 10;
      }
      if (!(b1 & 0x80)) return fail(1002);
      if (len > maxPayload) return fail(1009);
      const size = h + 4 + len;
      if (buf.length - at < size) break;
      frames.push(at, h, len);
      outSize += headerSize(len) + len;
      at += size;
      end = at;
    }
    if (end < buf.length) pending = Buffer.from(buf.subarray(end));
    if (end === 0) return;

    const out = Buffer.allocUnsafe(outSize);
    let o = 0;
    let dataBytes = 0;
    let dataFrames = 0;
    let closeAfter = false;
    for (let f = 0; f < frames.length; f += 3) {
      const start = frames[f]!;
      const h = frames[f + 1]!;
      const len = frames[f + 2]!;
      const b0 = buf[start]!;
      const key = buf.subarray(start + h, start + h + 4);
      const payload = buf.subarray(start + h + 4, start + h + 4 + len);
      const opcode = b0 & 0x0f;
      if (opcode === 0x8) {
        // Close: answer with the same code (unmasked), then end the socket; nothing after it is read.
        const p = Buffer.allocUnsafe(len);
        maskInto(payload, key, p, 0, len);
        closeCode = len >= 2 ? p.readUInt16BE(0) : 1005;
        o = writeHeader(out, o, 0x88, len);
        p.copy(out, o);
        o += len;
        closeAfter = true;
        break;
      }
      if (opcode === 0xa) {
        // Pong: nothing to answer; its slot in `out` stays unused.
        continue;
      }
      o = writeHeader(out, o, opcode === 0x9 ? 0x8a : b0, len);
      if ((key[0]! | key[1]! | key[2]! | key[3]!) === 0) payload.copy(out, o);
      else maskInto(payload, key, out, o, len);
      o += len;
      if (opcode <= 0x2) {
        dataBytes += len;
        dataFrames++;
      }
    }
    if (dataFrames > 0) ev.onData(dataBytes, dataFrames);
    const reply = o === out.length ? out : out.subarray(0, o);
    if (closeAfter) {
      ended = true;
      pending = undefined;
      socket.end(reply);
      // A client that never closes its side is cut; the timer must not keep the process alive.
      setTimeout(() => socket.destroy(), 2000).unref();
    } else if (o > 0) {
      socket.write(reply);
    }
  };

  socket.on("data", onChunk);
  socket.on("error", () => {});
  socket.once("close", () => ev.onClose(closeCode));
  if (head.length > 0) onChunk(head);
}
