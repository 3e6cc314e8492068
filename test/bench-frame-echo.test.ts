/** The benchmark's frame-level echo (bench/lib/frame-echo.ts) against real `ws` clients and raw frames. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { WebSocket } from "ws";
import { acceptUpgrade, frameEcho } from "../bench/lib/frame-echo.ts";

interface Seen {
  bytes: number;
  frames: number;
  closes: Array<number | undefined>;
}

async function echoServer(maxPayload?: number): Promise<{ server: Server; url: string; seen: Seen }> {
  const seen: Seen = { bytes: 0, frames: 0, closes: [] };
  const server = createServer((_q, res) => res.writeHead(426).end());
  server.on("upgrade", (req, socket: Socket, head: Buffer) => {
    const answer = acceptUpgrade(req);
    if (!answer) return void socket.end("HTTP/1.1 400 Bad Request\r\n\r\n");
    socket.write(answer);
    frameEcho(socket, head, {
      onData: (b, f) => {
        seen.bytes += b;
        seen.frames += f;
      },
      onClose: (code) => seen.closes.push(code),
    }, maxPayload);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`, seen };
}

function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

test("echoes binary and text messages unchanged (random masks unmasked), counts payload bytes, and answers close with its code", async () => {
  const { server, url, seen } = await echoServer();
  try {
    const ws = await open(url);
    const got: Array<{ data: Buffer; binary: boolean }> = [];
    ws.on("message", (data: Buffer, binary: boolean) => got.push({ data: Buffer.from(data), binary }));
    const sent = [randomBytes(1024), randomBytes(1024), randomBytes(70_000), Buffer.from("hello\n")];
    ws.send(sent[0]!);
    ws.send(sent[1]!);
    ws.send(sent[2]!);
    ws.send(sent[3]!.toString(), { binary: false });
    const deadline = Date.now() + 10_000;
    while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(got.length, 4);
    for (let i = 0; i < 3; i++) assert.ok(got[i]!.binary && got[i]!.data.equals(sent[i]!), `message ${i} came back changed`);
    assert.equal(got[3]!.binary, false);
    assert.equal(got[3]!.data.toString(), "hello\n");
    assert.equal(seen.bytes, 1024 + 1024 + 70_000 + 6);
    assert.equal(seen.frames, 4);
    const closed = new Promise<number>((r) => ws.once("close", (code: number) => r(code)));
    ws.close(1000);
    assert.equal(await closed, 1000);
    const d2 = Date.now() + 5000;
    while (seen.closes.length === 0 && Date.now() < d2) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(seen.closes, [1000]);
  } finally {
    server.close();
  }
});

test("a frame split across reads is echoed once whole; ping gets pong; an unmasked frame closes with 1002; an oversized one with 1009", async () => {
  const { server, url, seen } = await echoServer(4096);
  const port = Number(new URL(url).port);
  const raw = async (): Promise<{ s: Socket; read: () => Buffer }> => {
    const s = connect(port, "127.0.0.1");
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => (buf = Buffer.concat([buf, d])));
    s.write("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    const d = Date.now() + 5000;
    while (!buf.includes("\r\n\r\n") && Date.now() < d) await new Promise((r) => setTimeout(r, 5));
    assert.match(buf.toString(), /^HTTP\/1\.1 101 .*Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/s);
    buf = Buffer.alloc(0);
    return { s, read: () => buf };
  };
  const waitLen = async (read: () => Buffer, n: number): Promise<Buffer> => {
    const d = Date.now() + 5000;
    while (read().length < n && Date.now() < d) await new Promise((r) => setTimeout(r, 5));
    return read();
  };
  const masked = (opcode: number, payload: Buffer, key = Buffer.from([1, 2, 3, 4])): Buffer => {
    const body = Buffer.from(payload.map((b, i) => b ^ key[i & 3]!));
    return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), key, body]);
  };
  try {
    const a = await raw();
    const frame = masked(0x2, Buffer.from("abcdefgh"));
    a.s.write(frame.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 20));
    a.s.write(frame.subarray(5));
    const echoed = await waitLen(a.read, 10);
    assert.deepEqual(echoed.subarray(0, 10), Buffer.concat([Buffer.from([0x82, 8]), Buffer.from("abcdefgh")]));
    a.s.write(masked(0x9, Buffer.from("pi")));
    const pong = await waitLen(a.read, 14);
    assert.deepEqual(pong.subarray(10, 14), Buffer.from([0x8a, 2, 0x70, 0x69]));
    assert.equal(seen.bytes, 8, "ping payload is not data");

    a.s.write(Buffer.from([0x82, 0x02, 0x61, 0x62])); // not masked
    const closed1002 = await waitLen(a.read, 18);
    assert.deepEqual(closed1002.subarray(14, 18), Buffer.from([0x88, 2, 0x03, 0xea]));

    const b = await raw();
    b.s.write(Buffer.concat([Buffer.from([0x82, 0x80 | 126, 0x20, 0x00]), Buffer.alloc(4)])); // 8,192 > 4,096
    const closed1009 = await waitLen(b.read, 4);
    assert.deepEqual(closed1009.subarray(0, 4), Buffer.from([0x88, 2, 0x03, 0xf1]));
    a.s.destroy();
    b.s.destroy();
  } finally {
    server.close();
  }
});
