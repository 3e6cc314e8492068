// The websocket connection the web-terminal and app kinds share (src/traffic/kinds/ws-conn.ts): a tick's
// frames leave in one corked writev; a write the socket takes whole completes during the call; a write the
// socket has to buffer returns a promise that resolves only once the far end has taken the bytes, and
// settles (never hangs) if the connection is torn down first.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import { CoderClient } from "../src/coder/index.ts";
import { appDialer, appFrames } from "../src/traffic/kinds/app.ts";
import { wsConnection } from "../src/traffic/kinds/ws-conn.ts";
import { makePayload, seededRandom } from "../src/traffic/payload.ts";
import { waitFor } from "./helpers/wait-for.ts";

let wss: WebSocketServer;
let url: string;
/** What the server side received, per connection, and its sockets (to stop reading). */
const received: number[] = [];
const serverSockets: WebSocket[] = [];

before(async () => {
  wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
  wss.on("connection", (ws) => {
    const i = received.push(0) - 1;
    serverSockets.push(ws);
    ws.on("message", (d: Buffer) => {
      received[i]! += d.length;
    });
  });
});

after(async () => {
  for (const c of wss.clients) c.terminate();
  await new Promise((r) => wss.close(r));
});

async function open(): Promise<{ ws: WebSocket; index: number }> {
  const index = received.length;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  await waitFor(() => serverSockets.length > index, { what: "server side of the connection" });
  return { ws, index };
}

const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

test("a 4 KiB tick goes out as four 1,024-byte messages in one writev, and completes during the call", async () => {
  const { ws, index } = await open();
  const conn = wsConnection(ws, { encode: (c) => appFrames(c) });
  conn.onData(() => {});
  conn.onClose(() => {});
  const sock = socketOf(ws);
  const calls: Array<{ kind: "write" | "writev"; chunks: number }> = [];
  const origWrite = sock._write.bind(sock);
  const origWritev = sock._writev!.bind(sock);
  sock._write = (chunk, enc, cb) => {
    calls.push({ kind: "write", chunks: 1 });
    origWrite(chunk, enc, cb);
  };
  sock._writev = (chunks, cb) => {
    calls.push({ kind: "writev", chunks: chunks.length });
    origWritev(chunks, cb);
  };
  const payload = makePayload(4096, seededRandom(3));
  const r = conn.write(payload);
  assert.equal(r, undefined, "the socket took the whole tick: no promise");
  assert.deepEqual(calls, [{ kind: "writev", chunks: 4 }]);
  await waitFor(() => received[index] === 4096, { what: "4,096 bytes at the far end" });
  await conn.close();
});

test("a far end that stops reading: a write left in our buffer returns a promise, resolved once the socket flushed it", async () => {
  const { ws, index } = await open();
  const conn = wsConnection(ws, { encode: (c) => appFrames(c) });
  conn.onData(() => {});
  conn.onClose(() => {});
  const server = socketOf(serverSockets[index]!);
  server.pause();
  const payload = makePayload(64 * 1024, seededRandom(4));
  let pending: Promise<void> | undefined;
  let writes = 0;
  // Kernel buffers on loopback hold a few MB at most: the socket has to buffer long before 4,000 writes.
  while (!pending && writes < 4000) {
    const r = conn.write(payload);
    writes++;
    if (r) pending = r;
  }
  assert.ok(pending, `every one of ${writes} writes of 64 KiB completed with the far end not reading`);
  // A promise only when bytes are left in our own buffer (it resolves once the socket has handed them to the
  // kernel, which may happen before the far end reads again if the kernel's buffers grow).
  assert.ok(ws.bufferedAmount > 0, "a promise although nothing was buffered");
  server.resume();
  await pending;
  await waitFor(() => received[index] === writes * payload.length, { what: "every byte at the far end" });
  await conn.close();
});

test("a write still buffered when the connection is torn down settles, and the loss is reported by onClose", async () => {
  const { ws, index } = await open();
  const conn = wsConnection(ws, { encode: (c) => appFrames(c) });
  conn.onData(() => {});
  let closedWith: Error | undefined | null = null;
  conn.onClose((e) => (closedWith = e));
  socketOf(serverSockets[index]!).pause();
  const payload = makePayload(64 * 1024, seededRandom(5));
  let pending: Promise<void> | undefined;
  for (let i = 0; i < 4000 && !pending; i++) pending = conn.write(payload) ?? undefined;
  assert.ok(pending, "the socket never had to buffer");
  const outcome = pending.then(
    () => "resolved",
    (e: Error) => `rejected: ${e.message}`,
  );
  // Our own socket is destroyed with the bytes still in its buffer. Node completes a destroyed socket's
  // in-flight write with no error, so the promise may resolve or reject; it must not hang (the engine would
  // wait on it forever), and the loss itself is reported by onClose (the engine counts it as a drop).
  ws.terminate();
  assert.match(await outcome, /^(resolved|rejected: .+)$/);
  await waitFor(() => closedWith !== null, { what: "onClose" });
  assert.ok((closedWith as unknown) instanceof Error, "a torn-down connection is reported as lost");
  assert.throws(() => conn.write(payload), /not open/);
});

test("an opened product websocket keeps none of the dial's listeners, only a no-op error listener", async () => {
  const { CoderClient } = await import("../src/coder/index.ts");
  const client = new CoderClient({ url: new URL(url.replace("ws:", "http:")), token: "loopback-test-not-a-secret" });
  const ws = await client.openWebSocket(new URL(`${url}@o/w.main/apps/wsec/`));
  try {
    assert.equal(ws.listenerCount("unexpected-response"), 0);
    assert.equal(ws.listenerCount("error"), 1, "exactly one (no-op) error listener, so a late error is never unhandled");
    ws.emit("error", new Error("late error after the open"));
  } finally {
    ws.terminate();
  }
});

test("the handshake timeout is the dial's own timer: a far end that never answers the upgrade fails with ETIMEDOUT, and an open socket carries no idle timer", async () => {
  const { createServer } = await import("node:net");
  const { CoderApiError } = await import("../src/coder/index.ts");
  const accepted: Socket[] = [];
  const silent = createServer((s) => {
    accepted.push(s);
    s.on("data", () => {}); // reads the upgrade request, never answers it
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  try {
    const port = (silent.address() as AddressInfo).port;
    const client = new CoderClient({ url: new URL(`http://127.0.0.1:${port}/`), token: "loopback-test-not-a-secret" });
    const err = await client.openWebSocket(new URL(`ws://127.0.0.1:${port}/x`), { handshakeTimeoutMs: 200 }).then(
      () => assert.fail("a handshake nobody answered opened"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CoderApiError, String(err));
    assert.equal(err.code, "ETIMEDOUT");
    assert.equal(err.status, 0);
    // The dial gave up and cut its socket: the far end sees it closed.
    await waitFor(() => accepted.length === 1 && accepted[0]!.destroyed, { what: "the timed-out dial's socket closed" });
  } finally {
    silent.close();
  }
  // An opened socket never had a socket timeout (ws's own handshakeTimeout keeps one, refreshed on every read and
  // write for the socket's whole life).
  const ok = new CoderClient({ url: new URL(url.replace("ws:", "http:")), token: "loopback-test-not-a-secret" });
  const ws = await ok.openWebSocket(new URL(`${url}@o/w.main/apps/wsec/`), { handshakeTimeoutMs: 5000 });
  try {
    // Node keeps a socket's idle timer under its private `timeout` symbol; ws's handshakeTimeout leaves one there.
    const sock = socketOf(ws) as unknown as Record<symbol, unknown>;
    const kTimeout = Object.getOwnPropertySymbols(sock).find((k) => k.description === "timeout");
    assert.equal(kTimeout ? sock[kTimeout] ?? undefined : undefined, undefined);
  } finally {
    ws.terminate();
  }
});

test("a redirect whose answer outlasts the handshake timeout is not followed: the dial fails with ETIMEDOUT and opens no second socket", async () => {
  const { createServer } = await import("node:net");
  const { CoderApiError } = await import("../src/coder/index.ts");
  const requests: string[] = [];
  // Answers the upgrade with a same-origin 302 whose body never completes.
  const slow = createServer((s) => {
    s.once("data", (d: Buffer) => {
      requests.push(d.toString("latin1").split("\r\n")[0]!);
      s.write("HTTP/1.1 302 Found\r\nLocation: /moved\r\nContent-Length: 100\r\n\r\n{");
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", r));
  try {
    const port = (slow.address() as AddressInfo).port;
    const client = new CoderClient({ url: new URL(`http://127.0.0.1:${port}/`), token: "loopback-test-not-a-secret" });
    const timeoutMs = 200;
    const err = await client.openWebSocket(new URL(`ws://127.0.0.1:${port}/x`), { handshakeTimeoutMs: timeoutMs, sameOriginRedirects: 1 }).then(
      () => assert.fail("a handshake that timed out opened"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof CoderApiError, String(err));
    assert.equal(err.code, "ETIMEDOUT");
    // The 302's body is read for at most the handshake timeout from its arrival, so its reader gives up after the
    // dial did; a timer set now for twice as long fires after it (timers fire in deadline order). Then the far end
    // is given a moment to see a redirected dial, if one was made (a bounded absence check, not synchronisation).
    await new Promise((r) => setTimeout(r, 2 * timeoutMs));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(requests, ["GET /x HTTP/1.1"]);
  } finally {
    slow.close();
  }
});

test("traffic dials frame with an all-zero masking key (a shared tick buffer goes out as it is); other websockets mask at random", async () => {
  // A server that reads the raw bytes of the first client frame: FIN/opcode, MASK|len, [ext len], 4-byte key.
  const keys: Buffer[] = [];
  const raw = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((r) => raw.once("listening", () => r()));
  raw.on("connection", (_ws, req) => {
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2) return;
      const len = buf[1]! & 0x7f;
      const at = len === 126 ? 4 : len === 127 ? 10 : 2;
      if (buf.length < at + 4) return;
      assert.equal(buf[1]! & 0x80, 0x80, "client frames are masked (RFC 6455 5.3)");
      keys.push(buf.subarray(at, at + 4));
      req.socket.off("data", onData);
    };
    req.socket.on("data", onData);
  });
  after(() => raw.close());
  const port = (raw.address() as AddressInfo).port;
  const client = new CoderClient({ url: `http://127.0.0.1:${port}`, token: "zero-mask-test-token" });
  const agentId = "00000000-0000-4000-8000-000000000001";
  const dialer = appDialer(client, {
    mode: "wsec",
    appHost: "",
    agents: new Map([[agentId, { id: agentId, name: "main", created_at: "", lifecycle_state: "ready", status: "connected", apps: [{ id: "a", slug: "wsec", display_name: "wsec", subdomain: false, health: "healthy", sharing_level: "owner" }] }]]),
  });
  const conn = await dialer.dial({ workspaceId: "w", workspaceName: "scaletest-z-0001", ownerName: "scaletest-z-0001", agentId, agentName: "main", index: 0 }, new AbortController().signal);
  let other: WebSocket | undefined;
  try {
    await conn.write(makePayload(1024, seededRandom(1)));
    await waitFor(() => keys.length === 1, { what: "the traffic frame's masking key" });
    assert.deepEqual([...keys[0]!], [0, 0, 0, 0], "a traffic connection's masking key is all zero");

    // Any other websocket of the client keeps ws's random key.
    other = await client.openWebSocket(new URL(`ws://127.0.0.1:${port}/api/v2/other`));
    other.send(Buffer.alloc(16, 1));
    await waitFor(() => keys.length === 2, { what: "the other frame's masking key" });
    assert.notDeepEqual([...keys[1]!], [0, 0, 0, 0], "a random key (all zero has odds of 1 in 2^32)");
  } finally {
    other?.terminate();
    for (const c of raw.clients) c.terminate();
    await conn.close();
    await client.close();
  }
});
