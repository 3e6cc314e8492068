// Connection kinds against the simulated deployment: 50 connections of each kind for 5 s at 1,024 B / 100 ms,
// byte accounting per connection, plus the exact wire format of the PTY kind and the app URL rules.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { CoderClient } from "../src/coder/index.ts";
import { appEcho, appFrames, appUrl, NoAppHostError } from "../src/traffic/kinds/app.ts";
import { ddCommand, ptyDialer, ptyFrames } from "../src/traffic/kinds/pty.ts";
import { sshTarget } from "../src/traffic/kinds/ssh.ts";
import type { TrafficResult } from "../src/traffic/result.ts";
import { runTrafficScenario } from "../src/traffic/scenario.ts";
import { makePayload, seededRandom } from "../src/traffic/payload.ts";
import { parseDdCommand } from "../sim/ssh/server.ts";
import { FAKE_CODER, startTrafficSim, trafficConfig, type TrafficSim } from "./helpers/traffic-kinds.ts";

const N = 50;
const BPT = 1024;
/** 5 s / 100 ms: every connection is due exactly this many ticks, counted from when it is up. */
const TICKS = 50;
/**
 * Generous bounds for a busy machine: a dial may take up to 2 minutes (an SSH dial is a CLI child plus a key
 * exchange), the whole scenario up to 10. Only deadlines; nothing asserts how fast it went.
 */
const SLOW_OK = { engine: { dialTimeoutMs: 120_000 } } as const;

function assertClean(r: TrafficResult, n: number): void {
  const t = r.totals;
  assert.equal(t.connections, n);
  assert.deepEqual(
    { dialErrors: t.dialErrors, readErrors: t.readErrors, writeErrors: t.writeErrors, drops: t.drops, reconnects: t.reconnects },
    { dialErrors: 0, readErrors: 0, writeErrors: 0, drops: 0, reconnects: 0 },
    JSON.stringify(r.errors.slice(0, 3)),
  );
  const notOk = r.perConnection.filter((c) => c.status !== "ok");
  assert.equal(notOk.length, 0, `${notOk.length} connections not ok, e.g. ${JSON.stringify(notOk.slice(0, 2))}; errors ${JSON.stringify(r.errors.slice(0, 3))}`);
  const lat = r.latency.tick;
  assert.ok(lat.count > 0, "tick latency recorded");
  assert.ok(lat.p50 <= lat.p95 && lat.p95 <= lat.p99 && lat.p99 <= lat.max, `ordered percentiles ${JSON.stringify(lat)}`);
  assert.equal(r.latency.dial.count, n);
}

describe("traffic kinds against the simulator (50 connections x 5 s x 1,024 B / 100 ms)", () => {
  let ts: TrafficSim;
  before(async () => {
    ts = await startTrafficSim(N);
  });
  after(async () => {
    await ts?.stop();
  });

  const argv = (extra: string[] = [], duration = "5s"): string[] => [
    "--run-id", "tk1", "--duration", duration, "--bytes-per-tick", String(BPT), "--tick-interval", "100ms", "--timeout", "10m", ...extra,
  ];

  test("web terminal: every tick echoed (\\n -> \\r\\n), zero errors", async () => {
    const c = trafficConfig("web-terminal-traffic", ts.sim, argv());
    const r = await runTrafficScenario(ts.client, c, "web-terminal", { metrics: null, ...SLOW_OK });
    assertClean(r, N);
    assert.equal(r.kind, "web-terminal");
    for (const p of r.perConnection) {
      assert.equal(p.ticksSent, TICKS, `${p.target.workspaceName} sent ${p.ticksSent} ticks`);
      assert.equal(p.bytesWritten, p.ticksSent * BPT);
      // The terminal adds "\r" before each "\n": read = written + one byte per tick, minus ticks in flight at the end.
      const missing = p.bytesWritten + p.ticksSent - p.bytesRead;
      assert.ok(missing >= 0 && missing <= (p.ticksSent - p.ticksCompleted) * (BPT + 1), `${p.target.workspaceName}: written ${p.bytesWritten} read ${p.bytesRead}`);
      assert.ok(p.ticksSent - p.ticksCompleted <= 2, `in flight at the end: ${p.ticksSent - p.ticksCompleted}`);
    }
  });

  test("app wsec: echoed byte for byte, zero errors", async () => {
    const c = trafficConfig("app-traffic", ts.sim, argv(["--mode", "wsec"]));
    const before = ts.sim.apps.stats();
    const r = await runTrafficScenario(ts.client, c, "app", { metrics: null, ...SLOW_OK });
    assertClean(r, N);
    assert.equal(r.mode, "echo");
    for (const p of r.perConnection) {
      assert.equal(p.ticksSent, TICKS, `${p.target.workspaceName} sent ${p.ticksSent} ticks`);
      const missing = p.bytesWritten - p.bytesRead;
      assert.ok(missing >= 0 && missing <= (p.ticksSent - p.ticksCompleted) * BPT, `${p.target.workspaceName}: written ${p.bytesWritten} read ${p.bytesRead}`);
    }
    const after = ts.sim.apps.stats();
    assert.equal(after.connections - before.connections, N);
    assert.equal(after.bytesIn - before.bytesIn, r.totals.bytesWritten, "the app saw every byte we wrote");
  });

  test("ssh over the stand-in `coder ssh --stdio`: echoed byte for byte, zero errors", async () => {
    // An SSH dial (a CLI child plus a key exchange) can take seconds on a busy machine; each connection's
    // window starts when it is up, so a slow dial costs no ticks.
    const c = trafficConfig("ssh-traffic", ts.sim, argv(["--coder-binary", FAKE_CODER]));
    const before = ts.sim.ssh.stats();
    const r = await runTrafficScenario(ts.client, c, "ssh", { metrics: null, ...SLOW_OK });
    assertClean(r, N);
    for (const p of r.perConnection) {
      assert.equal(p.ticksSent, TICKS, `${p.target.workspaceName} sent ${p.ticksSent}`);
      const missing = p.bytesWritten - p.bytesRead;
      assert.ok(missing >= 0 && missing <= (p.ticksSent - p.ticksCompleted) * BPT, `${p.target.workspaceName}: written ${p.bytesWritten} read ${p.bytesRead}`);
    }
    const after = ts.sim.ssh.stats();
    assert.equal(after.sessions - before.sessions, N, "one exec session per connection on the agents' SSH server");
    assert.equal(after.bytesIn - before.bytesIn, r.totals.bytesWritten);
  });

  test("app wsra reads what the app streams; wsdi writes into the void", async () => {
    ts.sim.apps.setStreamRate(2048, 100);
    const ra = await runTrafficScenario(ts.client, trafficConfig("app-traffic", ts.sim, ["--run-id", "tk1", "--duration", "2s", "--mode", "wsra", "--target-workspaces", "0:5"]), "app", { metrics: null, ...SLOW_OK });
    assertClean(ra, 5);
    assert.equal(ra.mode, "read");
    for (const p of ra.perConnection) assert.ok(p.bytesRead >= 2048 * 10, `read ${p.bytesRead}`);
    const di = await runTrafficScenario(ts.client, trafficConfig("app-traffic", ts.sim, ["--run-id", "tk1", "--duration", "2s", "--mode", "wsdi", "--target-workspaces", "5:10"]), "app", { metrics: null, ...SLOW_OK });
    assertClean(di, 5);
    assert.equal(di.mode, "write");
    for (const p of di.perConnection) {
      assert.equal(p.bytesRead, 0);
      // 2 s / the default 100 ms interval, each write completed (the drain waits for writes in flight).
      assert.equal(p.ticksSent, 20);
      assert.ok(p.ticksCompleted >= p.ticksSent - 1, `completed ${p.ticksCompleted}`);
    }
  });
});

describe("wire formats", () => {
  test("PTY: Coder's URL, query, cookie auth, <=1,024-byte {\"data\"} frames and Ctrl+C on close", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => wss.once("listening", () => r()));
    const seen: { url: string; cookie: string | undefined; frames: string[] } = { url: "", cookie: undefined, frames: [] };
    wss.on("connection", (ws, req) => {
      seen.url = req.url ?? "";
      seen.cookie = req.headers.cookie;
      ws.on("message", (d: Buffer) => {
        const s = d.toString("utf8");
        seen.frames.push(s);
        if (s.includes("\\u0003")) ws.close(1000);
      });
    });
    const token = "abcdefghij-0123456789012345678901";
    const client = new CoderClient({ url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}`, token });
    try {
      const dialer = ptyDialer(client, { bytesPerTick: 2500 });
      const conn = await dialer.dial({ workspaceId: "w", workspaceName: "scaletest-x-0000", ownerName: "o", agentId: "agent-1", agentName: "main", index: 0 }, new AbortController().signal);
      const payload = makePayload(2500, seededRandom(3));
      await conn.write(payload);
      await conn.close();
      const u = new URL(seen.url, "http://x");
      assert.equal(u.pathname, "/api/v2/workspaceagents/agent-1/pty");
      assert.deepEqual([...u.searchParams.keys()], ["command", "height", "reconnect", "width"], "Go's sorted query");
      assert.equal(u.searchParams.get("command"), "dd if=/dev/stdin of=/dev/null bs=2500 status=none");
      assert.equal(u.searchParams.get("width"), "80");
      assert.equal(u.searchParams.get("height"), "25");
      assert.match(u.searchParams.get("reconnect") ?? "", /^[0-9a-f-]{36}$/);
      assert.equal(seen.cookie, `coder_session_token=${token}`);
      const datas = seen.frames.map((f) => {
        assert.ok(f.endsWith("\n"), "newline-delimited JSON");
        return (JSON.parse(f) as { data: string }).data;
      });
      assert.equal(datas.length, 4, "2,500 bytes -> 3 data frames + Ctrl+C");
      assert.ok(datas.slice(0, 3).every((d) => d.length <= 1024));
      assert.equal(datas.slice(0, 3).join(""), payload.toString("latin1"));
      assert.equal(datas[3], "\u0003");
    } finally {
      await client.close();
      await new Promise((r) => wss.close(r));
    }
  });

  test("dd commands, frames and names", () => {
    assert.equal(ddCommand(4096, true), "dd if=/dev/stdin of=/dev/stdout bs=4096 status=none");
    assert.deepEqual(parseDdCommand(ddCommand(7, true)), { out: "stdout", bs: 7 });
    assert.deepEqual(parseDdCommand(ddCommand(7, false)), { out: "null", bs: 7 });
    assert.equal(parseDdCommand("rm -rf /"), undefined);
    const p = makePayload(3000, seededRandom(1));
    assert.deepEqual(appFrames(p).map((f) => f.length), [1024, 1024, 952]);
    assert.equal(ptyFrames(p), ptyFrames(p), "frames memoised per pooled payload buffer");
    assert.equal(sshTarget({ ownerName: "alice", workspaceName: "scaletest-a-0001", agentName: "main" }), "alice/scaletest-a-0001.main");
  });

  test("app URL: path-based, or subdomain with a wildcard app host (Coder's createWorkspaceAppConfig)", () => {
    const target = { ownerName: "scaletest-r-0001", workspaceName: "scaletest-r-0001", agentName: "main" };
    const app = { slug: "wsec", subdomain: true, subdomain_name: "wsec--main--scaletest-r-0001--scaletest-r-0001" };
    // A subdomain app without an app host is Coder's error, not a silent fallback to the path URL.
    assert.throws(() => appUrl({ coderUrl: new URL("https://coder.example.com/"), appHost: "", target, app }), NoAppHostError);
    assert.throws(() => appUrl({ coderUrl: new URL("https://coder.example.com/"), appHost: "", target, app }), /app "wsec" is a subdomain app but no app host is configured/);
    const sub = appUrl({ coderUrl: new URL("https://coder.example.com"), appHost: "*.apps.example.com", target, app });
    assert.equal(sub.subdomain, true);
    assert.equal(sub.url.href, "wss://wsec--main--scaletest-r-0001--scaletest-r-0001.apps.example.com/");
    // Path-based: no trailing slash, exactly as Coder's CLI builds it (coderd's 307 adds it).
    assert.equal(
      appUrl({ coderUrl: new URL("http://127.0.0.1:3000/prefix"), appHost: "*.x", target, app: { slug: "wsdi", subdomain: false } }).url.href,
      "ws://127.0.0.1:3000/prefix/@scaletest-r-0001/scaletest-r-0001.main/apps/wsdi",
    );
    assert.equal(
      appUrl({ coderUrl: new URL("https://proxy.example.com"), appHost: "", target, app: { slug: "code-server", subdomain: false } }).url.href,
      "wss://proxy.example.com/@scaletest-r-0001/scaletest-r-0001.main/apps/code-server",
    );
    // Any --app slug: the scale-test apps keep their behaviour, another app is written to and read.
    assert.equal(appEcho("wsec", "wsec"), "echo");
    assert.equal(appEcho("wsra", "wsec"), "read");
    assert.equal(appEcho("code-server", "wsec"), "write");
  });
});
