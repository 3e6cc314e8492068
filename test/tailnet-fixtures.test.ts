// Byte-level fixtures for the tailnet RPC, written by hand from hashicorp/yamux spec.md and storj.io/drpc's
// drpcwire (packet.go, varint.go, error.go), never produced by the project's encoders. They hold the
// product's client (src/coder/tailnet) and the simulator's server (sim/tailnet), which share no protocol
// code, to the same wire format; and they check that a malformed server gives a clear protocol error,
// never a hang.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import WebSocket, { WebSocketServer } from "ws";
import {
  dialTailnet,
  TailnetClosedError,
  TailnetProtocolError,
  TailnetRemoteError,
  type TailnetConnection,
  type WorkspaceUpdate,
} from "../src/coder/tailnet/index.ts";
import { withSim } from "./helpers/sim.ts";

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+|#[^\n]*/g, ""), "hex");

/** Owner 01234567-89ab-cdef-0123-456789abcdef as Coder sends it: 16 raw bytes. */
const OWNER = "01234567-89ab-cdef-0123-456789abcdef";
const OWNER_BYTES = "0123456789abcdef0123456789abcdef";
/** "/coder.tailnet.v2.Tailnet/WorkspaceUpdates" in ASCII: 42 bytes. */
const RPC_ASCII = Buffer.from("/coder.tailnet.v2.Tailnet/WorkspaceUpdates", "ascii").toString("hex");

// What Coder's Go client (yamux.Client + drpcconn) writes to open WorkspaceUpdates for OWNER.
const CLIENT_OPEN = hex(`
  00 01 0001 00000001 00000000   # yamux: version 0, type 1 window update, flags SYN, stream 1, delta 0
  00 00 0000 00000001 00000044   # yamux: version 0, type 0 data, no flags, stream 1, length 68
    03 01 01 2a                  # drpc: control 0x03 = kind 1 invoke << 1 | done; stream 1; message 1; length 42
    ${RPC_ASCII}                 #   the RPC path
    05 01 02 12                  # drpc: control 0x05 = kind 2 message << 1 | done; stream 1; message 2; length 18
      0a 10 ${OWNER_BYTES}       #   protobuf WorkspaceUpdatesRequest: field 1 (bytes, wire type 2), length 16, the UUID
  00 00 0000 00000001 00000004   # yamux: data, stream 1, length 4
    0d 01 03 00                  # drpc: control 0x0d = kind 6 close-send << 1 | done; stream 1; message 3; length 0
`);

// What a server answers when the owner has no workspaces: ACK the stream, then one empty WorkspaceUpdate.
const SERVER_ACK_AND_EMPTY_UPDATE = hex(`
  00 01 0002 00000001 00000000   # yamux: window update, flags ACK, stream 1, delta 0
  00 00 0000 00000001 00000004   # yamux: data, stream 1, length 4
    05 01 01 00                  # drpc: message, stream 1, message 1, length 0 (an empty WorkspaceUpdate)
`);

const WS_ID = "11111111222233334444555555555555";
const AGENT_ID = "aaaaaaaabbbbccccddddeeeeeeeeeeee";
// A WorkspaceUpdate upserting workspace scaletest-abc-0001 (RUNNING) and its agent "main".
const UPDATE_PB = hex(`
  0a 28                          # field 1 upserted_workspaces, length 40
    0a 10 ${WS_ID}               #   Workspace.id (bytes), 16
    12 12 ${Buffer.from("scaletest-abc-0001").toString("hex")}  # Workspace.name (string), 18
    18 03                        #   Workspace.status (varint) = RUNNING
  12 2a                          # field 2 upserted_agents, length 42
    0a 10 ${AGENT_ID}            #   Agent.id, 16
    12 04 ${Buffer.from("main").toString("hex")}               #   Agent.name, 4
    1a 10 ${WS_ID}               #   Agent.workspace_id, 16
`);

interface Raw {
  url: string;
  close(): Promise<void>;
}

/** A bare websocket server speaking only the bytes a test gives it (no project code on this side). */
async function rawServer(onConnect: (ws: WebSocket, received: () => Buffer, req: { url: string; token: string }) => void): Promise<Raw> {
  const http: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  http.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const chunks: Buffer[] = [];
      ws.on("message", (d: Buffer) => chunks.push(d));
      onConnect(ws, () => Buffer.concat(chunks), { url: req.url ?? "", token: String(req.headers["coder-session-token"] ?? "") });
    });
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  const port = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}

/** Resolves when `check` holds; fails after a generous bound (a hang is a failure, not a wait). */
async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The first result of the stream's iterator, or a failure if none comes within the bound. */
async function firstResult(it: AsyncIterator<WorkspaceUpdate>, ms = 10_000): Promise<IteratorResult<WorkspaceUpdate>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      it.next(),
      new Promise<never>((_, rej) => {
        timer = setTimeout(() => rej(new Error("no result: the client hung")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const TOKEN = "abcdefghij-0123456789abcdefghijkl";
const servers: Raw[] = [];
const conns: TailnetConnection[] = [];
after(async () => {
  for (const c of conns) c.close();
  for (const s of servers) await s.close();
});

describe("client frames", () => {
  test("opening WorkspaceUpdates writes exactly the hand-written yamux + drpc + protobuf bytes", async () => {
    let got: () => Buffer = () => Buffer.alloc(0);
    let req = { url: "", token: "" };
    const srv = await rawServer((_ws, received, r) => {
      got = received;
      req = r;
    });
    servers.push(srv);
    const conn = await dialTailnet({ url: srv.url, token: TOKEN, keepAliveMs: 0 });
    conns.push(conn);
    conn.workspaceUpdates(OWNER);
    await until("the client's opening bytes", () => got().length >= CLIENT_OPEN.length);
    assert.equal(got().toString("hex"), CLIENT_OPEN.toString("hex"));
    assert.equal(req.url, "/api/v2/tailnet?version=2.3");
    assert.equal(req.token, TOKEN);
  });

  test("a second stream uses the next odd yamux id (3) and drpc stream 1 again (one drpc conn per yamux stream)", async () => {
    let got: () => Buffer = () => Buffer.alloc(0);
    const srv = await rawServer((_ws, received) => (got = received));
    servers.push(srv);
    const conn = await dialTailnet({ url: srv.url, token: TOKEN, keepAliveMs: 0 });
    conns.push(conn);
    conn.workspaceUpdates(OWNER);
    conn.workspaceUpdates(OWNER);
    await until("two streams' bytes", () => got().length >= 2 * CLIENT_OPEN.length);
    const second = got().subarray(CLIENT_OPEN.length);
    const expected = Buffer.from(CLIENT_OPEN);
    for (const at of [4, 16, 12 + 12 + 68 + 4]) expected.writeUInt32BE(3, at); // the three yamux headers' stream ids
    assert.equal(second.toString("hex"), expected.toString("hex"));
  });

  test("the client decodes a hand-written WorkspaceUpdate, then ends at the server's drpc close", async () => {
    const srv = await rawServer((ws) => {
      ws.once("message", () => {
        const msg = Buffer.concat([hex("05 01 01"), Buffer.from([UPDATE_PB.length]), UPDATE_PB]); // drpc message, s1 m1
        const close = hex("0b 01 02 00"); // drpc: control 0x0b = kind 5 close << 1 | done; stream 1; message 2; length 0
        const body = Buffer.concat([msg, close]);
        const yamuxData = Buffer.concat([hex("00 00 0000 00000001"), Buffer.from([0, 0, 0, body.length]), body]);
        ws.send(Buffer.concat([hex("00 01 0002 00000001 00000000"), yamuxData]));
      });
    });
    servers.push(srv);
    const conn = await dialTailnet({ url: srv.url, token: TOKEN, keepAliveMs: 0 });
    conns.push(conn);
    const it = conn.workspaceUpdates(OWNER);
    const first = await firstResult(it);
    assert.equal(first.done, false);
    assert.deepEqual(first.value, {
      upsertedWorkspaces: [{ id: "11111111-2222-3333-4444-555555555555", name: "scaletest-abc-0001", status: "RUNNING" }],
      upsertedAgents: [{ id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", name: "main", workspaceId: "11111111-2222-3333-4444-555555555555" }],
      deletedWorkspaces: [],
      deletedAgents: [],
    });
    assert.equal((await firstResult(it)).done, true);
  });
});

describe("simulator decodes fixture frames", () => {
  async function simExchange(bytes: Buffer[], want: number): Promise<Buffer> {
    return withSim({ preexisting: false }, async (sim) => {
      const ws = new WebSocket(`${sim.url.replace("http", "ws")}/api/v2/tailnet?version=2.3`, { headers: { "Coder-Session-Token": sim.ownerToken } });
      const chunks: Buffer[] = [];
      ws.on("message", (d: Buffer) => chunks.push(d));
      await new Promise<void>((res, rej) => {
        ws.once("open", () => res());
        ws.once("error", rej);
      });
      for (const b of bytes) ws.send(b, { binary: true });
      await until("the simulator's answer", () => Buffer.concat(chunks).length >= want);
      ws.terminate();
      return Buffer.concat(chunks);
    });
  }

  test("the hand-written open gets the ACK and an empty first update (an owner with no workspaces)", async () => {
    const got = await simExchange([CLIENT_OPEN], SERVER_ACK_AND_EMPTY_UPDATE.length);
    assert.equal(got.toString("hex"), SERVER_ACK_AND_EMPTY_UPDATE.toString("hex"));
  });

  test("the same bytes one websocket message per byte are reassembled", async () => {
    const split = [...CLIENT_OPEN].map((b) => Buffer.from([b]));
    const got = await simExchange(split, SERVER_ACK_AND_EMPTY_UPDATE.length);
    assert.equal(got.toString("hex"), SERVER_ACK_AND_EMPTY_UPDATE.toString("hex"));
  });

  test("a 15-byte owner id is answered with a drpc error packet (code 0) naming it", async () => {
    const bad = hex(`
      00 01 0001 00000001 00000000
      00 00 0000 00000001 00000043   # 67 bytes: the invoke (46) and a 21-byte message frame
        03 01 01 2a ${RPC_ASCII}
        05 01 02 11 0a 0f ${OWNER_BYTES.slice(0, 30)}   # protobuf field 1, length 15
    `);
    const text = "parse workspace owner ID: invalid UUID (got 15 bytes)";
    const want = hex(`
      00 01 0002 00000001 00000000
      00 00 0000 00000001 ${(4 + 8 + text.length).toString(16).padStart(8, "0")}
        07 01 01 ${(8 + text.length).toString(16)}   # drpc: control 0x07 = kind 3 error << 1 | done; stream 1; message 1
        0000000000000000 ${Buffer.from(text).toString("hex")}   # code 0 (8 bytes big-endian), then the text
    `);
    const got = await simExchange([bad], want.length);
    assert.equal(got.subarray(0, want.length).toString("hex"), want.toString("hex"));
  });
});

describe("malformed frames from the server give a clear protocol error, never a hang", () => {
  const ACK = "00 01 0002 00000001 00000000";
  /** yamux data frame on stream 1 around `body`. */
  const data = (body: Buffer): Buffer => {
    const h = hex("00 00 0000 00000001 00000000");
    h.writeUInt32BE(body.length, 8);
    return Buffer.concat([h, body]);
  };
  const cases: { name: string; send: (ws: WebSocket) => void; error: new (...a: never[]) => Error; match: RegExp }[] = [
    { name: "yamux version 1", send: (ws) => ws.send(hex("01 01 0002 00000001 00000000")), error: TailnetProtocolError, match: /yamux protocol error: unsupported version 1/ },
    { name: "yamux type 9", send: (ws) => ws.send(hex("00 09 0000 00000001 00000000")), error: TailnetProtocolError, match: /invalid message type 9/ },
    {
      name: "a yamux data header announcing 2 GiB (no body ever follows)",
      send: (ws) => ws.send(hex(`${ACK} 00 00 0000 00000001 7fffffff`)),
      error: TailnetProtocolError,
      match: /data frame of 2147483647 bytes on stream 1 exceeds the 262144-byte window/,
    },
    { name: "a drpc varint of 11 bytes", send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex("05 ffffffffffffffffffff 01"))])), error: TailnetProtocolError, match: /drpc protocol error: varint too long/ },
    {
      name: "a drpc frame announcing 16 MiB",
      send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex("05 01 01 80808008"))])),
      error: TailnetProtocolError,
      match: /frame of 16777216 bytes exceeds the 4194304-byte limit/,
    },
    { name: "a drpc frame for stream 0 (ids must grow)", send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex("05 00 01 00"))])), error: TailnetProtocolError, match: /id monotonicity violation/ },
    {
      name: "a drpc packet changing kind mid-way",
      send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex("04 01 01 01 0a  07 01 01 00"))])), // message (not done), then error, same id
      error: TailnetProtocolError,
      match: /packet kind change from message to error/,
    },
    { name: "an invoke from the server", send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex("03 01 01 01 2f"))])), error: TailnetProtocolError, match: /invoke from the server on an existing stream/ },
    { name: "a truncated protobuf message", send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex("05 01 01 02 0a 05"))])), error: TailnetProtocolError, match: /protobuf protocol error: WorkspaceUpdate does not decode/ },
    {
      name: "a workspace id that is not 16 bytes",
      send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex("05 01 01 06 0a 04 0a 02 abcd"))])),
      error: TailnetProtocolError,
      match: /workspace id is 2 bytes, want a 16-byte UUID/,
    },
    { name: "a text websocket message", send: (ws) => ws.send("hello"), error: TailnetProtocolError, match: /websocket protocol error: text message/ },
    { name: "a 2 MiB websocket message", send: (ws) => ws.send(Buffer.alloc(2 * 1024 * 1024)), error: TailnetProtocolError, match: /larger than 1048576 bytes/ },
    {
      name: "a drpc error packet (code 7)",
      send: (ws) => ws.send(Buffer.concat([hex(ACK), data(hex(`07 01 01 0c 0000000000000007 ${Buffer.from("boom").toString("hex")}`))])),
      error: TailnetRemoteError,
      match: /WorkspaceUpdates: server error \(drpc code 7\): boom/,
    },
    { name: "a yamux FIN without a drpc close", send: (ws) => ws.send(hex(`${ACK} 00 01 0004 00000001 00000000`)), error: TailnetClosedError, match: /closed the yamux stream without a drpc close/ },
    { name: "a yamux RST", send: (ws) => ws.send(hex(`${ACK} 00 01 0008 00000001 00000000`)), error: TailnetClosedError, match: /yamux stream 1 reset by the server/ },
    { name: "a GoAway with a protocol error", send: (ws) => ws.send(hex("00 03 0000 00000000 00000001")), error: TailnetClosedError, match: /GoAway \(protocol error\)/ },
    { name: "the socket dropped", send: (ws) => ws.terminate(), error: TailnetClosedError, match: /websocket closed \(code 1006\)/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const srv = await rawServer((ws) => ws.once("message", () => c.send(ws)));
      servers.push(srv);
      const conn = await dialTailnet({ url: srv.url, token: TOKEN, keepAliveMs: 0 });
      conns.push(conn);
      const it = conn.workspaceUpdates(OWNER);
      await assert.rejects(firstResult(it), (e: Error) => {
        assert.ok(e instanceof c.error, `${e.name}: ${e.message}`);
        assert.match(e.message, c.match);
        return true;
      });
    });
  }
});
