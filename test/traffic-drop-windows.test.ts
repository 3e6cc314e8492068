// Every injected drop of a live connection is recorded exactly once, whenever it lands: at the stream's first
// byte, mid-stream, during the drain after the run's end, and while the client closes (goodbye sent, not yet
// answered). The simulator counts a drop only when it cut a live stream (sim/faults.ts ConnectionDrop), and
// the kinds report a connection that ended without the far end's clean end as lost, even during close().
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer, connect, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { Duplex, PassThrough, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import ssh2 from "ssh2";
import { WebSocket, WebSocketServer } from "ws";
import { runTraffic, type RunTrafficOptions } from "../src/traffic/engine.ts";
import { appDialer, fetchAppHost } from "../src/traffic/kinds/app.ts";
import { PTY_CTRL_C_FRAME, ptyDialer } from "../src/traffic/kinds/pty.ts";
import { coderSshStdio, sshDialer, type SshStream, type SshStreamTransport } from "../src/traffic/kinds/ssh.ts";
import { wsConnection } from "../src/traffic/kinds/ws-conn.ts";
import type { TrafficResult } from "../src/traffic/result.ts";
import type { TrafficDialer, TrafficTarget } from "../src/traffic/transport.ts";
import type { DropKind } from "../sim/faults.ts";
import { makeTargets } from "./helpers/traffic.ts";
import { FAKE_CODER, startTrafficSim, type TrafficSim } from "./helpers/traffic-kinds.ts";
import { waitFor } from "./helpers/sim.ts";

const TICK = { bytesPerTick: 64, tickIntervalMs: 50 };

/**
 * Runs traffic until `ready()` holds (e.g. every stream is live), then stops the run: the end falls after
 * the condition whatever the machine's load, where a fixed duration could end before a slow dial completes.
 * With `end: "all failed"` every connection is expected to fail for good first, which ends the run by itself.
 */
async function runUntil(
  opts: Omit<RunTrafficOptions, "durationMs" | "signal" | "tickIntervalMs" | "bytesPerTick">,
  what: string,
  ready: () => boolean,
  end: "stopped" | "all failed" = "stopped",
): Promise<TrafficResult> {
  const stop = new AbortController();
  const run = runTraffic({ ...TICK, dialTimeoutMs: 60_000, ...opts, durationMs: 600_000, signal: stop.signal });
  try {
    await waitFor(what, ready, 60_000);
    if (end === "all failed") {
      // The client sees each cut a moment after the simulator made it: let the run end by itself (bounded).
      let ended = false;
      void run.then(() => (ended = true), () => (ended = true));
      await waitFor("the run to end by itself once every connection failed", () => ended, 60_000);
    }
  } finally {
    stop.abort();
  }
  const r = await run;
  if (end === "stopped") assert.equal(r.endReason, "aborted");
  else {
    // Nothing left to wait for once every connection failed: the run ends without the stop.
    assert.equal(r.endReason, "duration");
    assert.ok(r.perConnection.every((c) => c.status === "error"), JSON.stringify(r.perConnection.map((c) => c.status)));
  }
  return r;
}

/** What a far end does when the client's goodbye arrives: answer it (clean end) or cut the connection. */
type OnGoodbye = "answer" | "cut";

// ---- websocket kinds (web terminal, apps): a far end that cuts on the goodbye ----

async function startWsFarEnd(onGoodbye: OnGoodbye): Promise<{ url: string; live(): number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const live = new Set<WebSocket>();
  wss.on("connection", (ws) => {
    ws.on("error", () => {});
    ws.on("message", (data: Buffer) => {
      if (!data.equals(PTY_CTRL_C_FRAME)) {
        live.add(ws);
        ws.send(data, { binary: true });
      }
      else if (onGoodbye === "cut") ws.terminate();
      else ws.close(1000);
    });
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    live: () => live.size,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The web terminal's connection (wsConnection with the Ctrl+C goodbye) over a plain websocket. */
function wsGoodbyeDialer(url: string): TrafficDialer {
  return {
    kind: "web-terminal",
    echo: "echo",
    dial: () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.once("error", reject);
        ws.once("open", () => resolve(wsConnection(ws, { encode: (c) => [c], goodbye: PTY_CTRL_C_FRAME, closeWaitMs: 10_000 })));
      }),
  };
}

// ---- SSH: an in-process ssh2 agent reached over a plain TCP tunnel ----

interface SshFarEnd {
  port: number;
  /** Sockets with a live session (the client wrote its first byte). */
  live(): Socket[];
  close(): Promise<void>;
}

let hostKeyPem: string | undefined;
function hostKey(): string {
  hostKeyPem ??= generateKeyPairSync("ec", {
    namedCurve: "prime256v1",
    privateKeyEncoding: { type: "sec1", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  }).privateKey;
  return hostKeyPem;
}

/**
 * An agent whose exec session echoes (`echo`) or swallows (`discard`) stdin; on the client's goodbye (EOF or
 * SIGHUP) it either answers with exit status 0 and a clean close, or cuts the TCP connection.
 */
async function startSshFarEnd(onGoodbye: OnGoodbye, data: "echo" | "discard"): Promise<SshFarEnd> {
  const live = new Set<Socket>();
  const byPeer = new Map<number, Socket>();
  const server = new ssh2.Server({ hostKeys: [hostKey()] }, (client, info) => {
    const sock = byPeer.get(info.port)!;
    client.on("error", () => {});
    client.on("authentication", (ctx) => ctx.accept());
    client.on("session", (accept) => {
      const session = accept();
      session.on("exec", (acceptExec) => {
        const ch = acceptExec();
        let done = false;
        const goodbye = (): void => {
          if (done) return;
          done = true;
          if (onGoodbye === "cut") sock.destroy();
          else {
            ch.exit(0);
            ch.end();
          }
        };
        ch.on("error", () => {});
        ch.on("data", (d: Buffer) => {
          live.add(sock);
          if (data === "echo") ch.write(d);
        });
        ch.on("end", goodbye);
        session.on("signal", (acceptSignal) => {
          acceptSignal?.();
          goodbye();
        });
      });
    });
  });
  const tcp: NetServer = createServer((sock) => {
    sock.on("error", () => {});
    const peer = sock.remotePort ?? 0;
    byPeer.set(peer, sock);
    sock.once("close", () => {
      live.delete(sock);
      byPeer.delete(peer);
    });
    server.injectSocket(sock);
  });
  await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", () => resolve()));
  return {
    port: (tcp.address() as AddressInfo).port,
    live: () => [...live],
    close: async () => {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/**
 * Like `coder ssh --stdio`: its stdout ends when the agent connection goes away, but its stdin stays open
 * (writes vanish) until the process is reaped, so only the end of the read side tells the client.
 */
function stdioLikeTunnel(port: number): SshStreamTransport {
  return (): SshStream => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.on("error", () => {});
    const stdout = new PassThrough();
    sock.on("data", (d: Buffer) => stdout.write(d));
    sock.once("close", () => stdout.end());
    const stdin = new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (!sock.destroyed) sock.write(chunk);
        cb();
      },
    });
    return {
      stream: Duplex.from({ readable: stdout, writable: stdin }),
      dialed() {},
      describe: () => `test tunnel to 127.0.0.1:${port}`,
      async close() {
        sock.destroy();
      },
    };
  };
}

describe("a connection lost while the client closes it is one drop", () => {
  for (const onGoodbye of ["cut", "answer"] as const) {
    it(`web terminal: the far end ${onGoodbye === "cut" ? "cuts the connection when Ctrl+C arrives: a drop each" : "answers Ctrl+C with a normal close: no drop"}`, async () => {
      const far = await startWsFarEnd(onGoodbye);
      try {
        const r = await runUntil({ targets: makeTargets(3), dialer: wsGoodbyeDialer(far.url) }, "3 live streams", () => far.live() === 3);
        const lost = onGoodbye === "cut" ? 3 : 0;
        assert.equal(r.totals.dialErrors, 0);
        assert.equal(r.totals.drops, lost, JSON.stringify(r.errors));
        assert.equal(r.totals.readErrors, lost, "a cut is a read error, as any abnormal close");
        assert.equal(r.perConnection.filter((c) => c.status === "error").length, lost);
        if (lost) assert.ok(r.errors.every((e) => /1006/.test(e.message)), JSON.stringify(r.errors));
      } finally {
        await far.close();
      }
    });

    it(`ssh: the far end ${onGoodbye === "cut" ? "cuts the connection on EOF/SIGHUP: a drop each" : "answers EOF/SIGHUP with an exit status: no drop"}`, async () => {
      const far = await startSshFarEnd(onGoodbye, "echo");
      try {
        const dialer = sshDialer({ bytesPerTick: TICK.bytesPerTick, transport: stdioLikeTunnel(far.port), closeWaitMs: 10_000 });
        const r = await runUntil({ targets: makeTargets(3), dialer }, "3 live SSH sessions", () => far.live().length === 3);
        const lost = onGoodbye === "cut" ? 3 : 0;
        assert.equal(r.totals.dialErrors, 0, JSON.stringify(r.errors));
        assert.equal(r.totals.drops, lost, JSON.stringify(r.errors));
        assert.equal(r.perConnection.filter((c) => c.status === "error").length, lost);
        if (lost) assert.ok(r.errors.every((e) => /lost while closing/.test(e.message)), JSON.stringify(r.errors));
      } finally {
        await far.close();
      }
    });
  }

  it("ssh: a tunnel whose read side ends during the drain is a drop at once, not a silent close later", async () => {
    // The far end never echoes, so every connection has ticks in flight and the run waits in the drain.
    const far = await startSshFarEnd("answer", "discard");
    try {
      // Without the loss seen at once, the drain would run out (15 s) and close() would find no answer: no drop.
      const dialer = sshDialer({ bytesPerTick: TICK.bytesPerTick, transport: stdioLikeTunnel(far.port), closeWaitMs: 2000 });
      const r = await runUntil({ targets: makeTargets(3), dialer, drainMs: 15_000 }, "3 live SSH sessions", () => {
        if (far.live().length < 3) return false;
        // Cut right after the stop (runUntil aborts once this returns true): the engine is then in the drain.
        setImmediate(() => {
          for (const s of far.live()) s.destroy();
        });
        return true;
      });
      assert.equal(r.totals.drops, 3, JSON.stringify(r.errors));
      // Seen as a loss during the drain, not only when close() found no answer to its goodbye.
      assert.ok(r.errors.every((e) => /SSH connection lost/.test(e.message) && !/while closing/.test(e.message)), JSON.stringify(r.errors));
    } finally {
      await far.close();
    }
  });
});

// ---- the simulator's drop fault with the product's own kinds ----

describe("simulator drops: injected exactly when a live stream is cut, each recorded once", () => {
  let ts: TrafficSim;
  let targets: TrafficTarget[];
  const dialers = new Map<DropKind, TrafficDialer>();
  before(async () => {
    ts = await startTrafficSim(4, { runId: "dw1" });
    const sim = ts.sim;
    targets = [];
    const agents = new Map<string, any>();
    for (const ws of sim.state.liveWorkspaces().filter((w) => w.name.startsWith("scaletest-dw1-"))) {
      const agent = sim.state.latestBuild(ws).resources.flatMap((r) => r.agents)[0]!;
      targets.push({
        workspaceId: ws.id, workspaceName: ws.name, ownerName: sim.state.users.get(ws.ownerId)!.username,
        agentId: agent.id, agentName: agent.name, index: targets.length,
      });
      agents.set(agent.id, await ts.client.request("GET", `/workspaceagents/${agent.id}`));
    }
    dialers.set("ssh", sshDialer({ bytesPerTick: TICK.bytesPerTick, transport: coderSshStdio({ coderBinary: FAKE_CODER, url: sim.url, token: sim.ownerToken }) }));
    dialers.set("pty", ptyDialer(ts.client, { bytesPerTick: TICK.bytesPerTick }));
    dialers.set("app", appDialer(ts.client, { mode: "wsec", agents, appHost: await fetchAppHost(ts.client) }));
  });
  after(async () => {
    ts.sim.faults.setDrops(undefined);
    await ts?.stop();
  });

  for (const kind of ["ssh", "pty", "app"] as const) {
    it(`${kind}: a drop due at the stream's first byte cuts it after the dial, never during it`, async () => {
      const before = ts.sim.faults.injected.dropsByKind[kind];
      ts.sim.faults.setDrops({ rate: 1, afterMs: 0, kinds: [kind] });
      const injectedSoFar = (): number => ts.sim.faults.injected.dropsByKind[kind] - before;
      const r = await runUntil({ targets, dialer: dialers.get(kind)! }, "a cut per connection", () => injectedSoFar() >= targets.length, "all failed");
      ts.sim.faults.setDrops(undefined);
      const injected = injectedSoFar();
      assert.equal(r.totals.dialErrors, 0, `no dial was cut: ${JSON.stringify(r.errors)}`);
      assert.equal(injected, targets.length, "every connection was cut once (no reconnect)");
      assert.equal(r.totals.drops, injected, JSON.stringify(r.errors));
    });

    it(`${kind}: a drop due after the stream ended cleanly is neither injected nor recorded`, async () => {
      const before = ts.sim.faults.injected.dropsByKind[kind];
      ts.sim.faults.setDrops({ rate: 1, afterMs: 3_600_000, kinds: [kind] });
      let open = 0;
      const r = await runUntil(
        { targets, dialer: dialers.get(kind)!, onProgress: (p) => (open = p.connections.open) },
        "every connection open",
        () => open === targets.length,
      );
      ts.sim.faults.setDrops(undefined);
      assert.equal(ts.sim.faults.injected.dropsByKind[kind] - before, 0);
      assert.equal(r.totals.drops, 0, JSON.stringify(r.errors));
      assert.ok(r.totals.ticksCompleted > 0, "the streams were live");
    });
  }
});
