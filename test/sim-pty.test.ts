// The simulated agent's reconnecting-PTY websocket: echo with tty newline handling, Ctrl+C ends a
// command, agent must be connected, reconnect resumes, sessions close when the workspace stops.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import WebSocket from "ws";
import { api, createRunningWorkspace, waitFor, withSim, type Sim } from "./helpers/sim.ts";

function ptyUrl(sim: Sim, agentId: string, reconnect: string, command = ""): string {
  const q = new URLSearchParams({ reconnect, width: "80", height: "25" });
  if (command) q.set("command", command);
  return `${sim.url.replace("http://", "ws://")}/api/v2/workspaceagents/${agentId}/pty?${q}`;
}

interface Conn { sock: WebSocket; output: () => string; closed: Promise<{ code: number }> }

function open(url: string, opts: WebSocket.ClientOptions = {}): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = new WebSocket(url, opts);
    let out = "";
    sock.on("message", (d: Buffer) => (out += d.toString("utf8")));
    const closed = new Promise<{ code: number }>((r) => sock.on("close", (code) => r({ code })));
    sock.on("open", () => resolve({ sock, output: () => out, closed }));
    sock.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
    sock.on("error", (e) => reject(e));
  });
}

const agentOf = (ws: any): any => ws.latest_build.resources.flatMap((r: any) => r.agents)[0];

describe("simulated reconnecting PTY", () => {
  it("echoes input with \\n as \\r\\n, ends the command on Ctrl+C, resumes on reconnect", async () => {
    // A reconnect window far longer than the test, so a slow machine cannot let the session expire.
    await withSim({ preexisting: false, ptyReconnectWindowMs: 120_000 }, async (sim) => {
      const ws = await createRunningWorkspace(sim, "scaletest-pty-0001");
      const agent = agentOf(ws);
      const id = randomUUID();
      const cmd = "dd if=/dev/stdin of=/dev/stdout bs=4096 status=none";
      // Cookie auth, as Coder's workspace-traffic does.
      const c = await open(ptyUrl(sim, agent.id, id, cmd), { headers: { Cookie: `coder_session_token=${sim.ownerToken}` } });
      c.sock.send(JSON.stringify({ data: "hello\n" }) + "\n");
      c.sock.send(JSON.stringify({ data: "x".repeat(1023) + "\n", height: 25, width: 80 }));
      await waitFor("echo", () => c.output() === "hello\r\n" + "x".repeat(1023) + "\r\n");
      assert.equal(sim.counts().ptyConnections, 1);
      // Drop the connection and come back with the same reconnect id: the session is resumed.
      c.sock.terminate();
      await c.closed;
      const again = await open(ptyUrl(sim, agent.id, id, cmd) + `&coder_session_token=${sim.ownerToken}`);
      assert.equal(sim.counts().ptySessions, 1, "same session resumed");
      again.sock.send(JSON.stringify({ data: "abc\u0003" }));
      const { code } = await again.closed;
      assert.equal(code, 1000, "Ctrl+C ends the command and the server closes normally");
      assert.equal(again.output(), "abc^C");
      await waitFor("no sessions", () => sim.counts().ptySessions === 0 && sim.counts().ptyConnections === 0);
    });
  });

  it("acts as a shell without a command, refuses agents that are not connected, closes on stop", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const ws = await createRunningWorkspace(sim, "scaletest-pty-0002");
      const agent = agentOf(ws);
      const headers = { "Coder-Session-Token": sim.ownerToken };
      const shell = await open(ptyUrl(sim, agent.id, randomUUID()), { headers });
      await waitFor("prompt", () => shell.output().endsWith("$ "));
      shell.sock.send(JSON.stringify({ data: "ls\r" }));
      await waitFor("new prompt", () => /ls\r\n.*\$ $/.test(shell.output().split("$ ").slice(1).join("$ ") + "$ "));
      // Bad credentials and bad reconnect ids fail the upgrade with Coder's JSON errors.
      await assert.rejects(open(ptyUrl(sim, agent.id, randomUUID())), (e: any) => e.status === 401 && JSON.parse(e.body).message.length > 0);
      await assert.rejects(open(ptyUrl(sim, agent.id, "nope"), { headers }), (e: any) => e.status === 400);
      // Stopping the workspace disconnects the agent and closes its PTY sessions.
      const stop = await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "stop" });
      assert.equal(stop.status, 201);
      assert.equal((await shell.closed).code, 1001);
      const a = await api(sim, "GET", `/api/v2/workspaceagents/${agent.id}`);
      assert.equal(a.body.status, "disconnected");
      assert.equal(a.body.lifecycle_state, "off");
      await assert.rejects(open(ptyUrl(sim, agent.id, randomUUID()), { headers }), (e: any) => e.status === 400 && /connected/.test(JSON.parse(e.body).message));
    });
  });

  it("refuses a PTY to an agent that never connects", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.faults.set({ build: { agentNeverConnectCount: 1 } });
      const tpl = await api(sim, "GET", "/api/v2/organizations/coder/templates/kubernetes-minimal");
      const r = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: "scaletest-pty-0003", template_id: tpl.body.id });
      const ws = await waitFor("running", async () => {
        const w = await api(sim, "GET", `/api/v2/workspaces/${r.body.id}`);
        return w.body.latest_build.status === "running" ? w.body : undefined;
      });
      const agent = agentOf(ws);
      assert.equal(agent.status, "connecting");
      // A workspace built after it gets a connected agent, so this one has had its chance to connect.
      await createRunningWorkspace(sim, "scaletest-pty-0004");
      assert.equal((await api(sim, "GET", `/api/v2/workspaceagents/${agent.id}`)).body.status, "connecting");
      await assert.rejects(open(ptyUrl(sim, agent.id, randomUUID()), { headers: { "Coder-Session-Token": sim.ownerToken } }),
        (e: any) => e.status === 400 && JSON.parse(e.body).message === 'Agent state is "connecting", it must be in the "connected" state.');
    });
  });
});
