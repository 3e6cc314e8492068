// The tailnet RPC client against the simulator's endpoint: dial errors classified as Coder's dialer does,
// the WorkspaceUpdates stream's snapshot-then-changes contract, visibility, and the version check.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import WebSocket from "ws";
import { CoderClient } from "../src/coder/index.ts";
import { dialTailnet, TailnetDialError, type WorkspaceUpdate, type WorkspaceUpdatesStream } from "../src/coder/tailnet/index.ts";
import { api, withSim, type Sim } from "./helpers/sim.ts";

/** Next update, failing (not hanging) after a generous bound. */
async function nextUpdate(it: WorkspaceUpdatesStream, ms = 15_000): Promise<WorkspaceUpdate> {
  let t: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([it.next(), new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error("no update")), ms)))]);
    assert.equal(r.done, false, "the stream ended");
    return r.value as WorkspaceUpdate;
  } finally {
    clearTimeout(t);
  }
}

async function member(sim: Sim, name: string): Promise<{ id: string; token: string }> {
  const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id as string;
  const u = await api(sim, "POST", "/api/v2/users", { username: name, email: `${name}@example.com`, password: "Member-password-123!", login_type: "password", organization_ids: [org] });
  assert.equal(u.status, 201);
  const k = await api(sim, "POST", `/api/v2/users/${u.body.id}/keys/tokens`, { token_name: "t" });
  return { id: u.body.id as string, token: k.body.key as string };
}

describe("dial errors, classified as Coder's dialer", () => {
  test("401 (bad token) is permanent, with Coder's message", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      await assert.rejects(dialTailnet({ url: sim.url, token: "aaaaaaaaaa-bbbbbbbbbbbbbbbbbbbbbb" }), (e: Error) => {
        assert.ok(e instanceof TailnetDialError);
        assert.equal(e.status, 401);
        assert.equal(e.permanent, true);
        assert.equal(e.retryable, false);
        assert.match(e.message, /401 Unauthorized: .*API key is invalid/);
        assert.ok(!e.message.includes("bbbbbbbbbbbbbbbbbbbbbb"), "the token stays out of the message");
        return true;
      });
    });
  });

  test("503 is retryable; a refused connection is retryable with status 0", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.faults.set({ http: [{ path: "/api/v2/tailnet", status: 503, count: 1 }] });
      await assert.rejects(dialTailnet({ url: sim.url, token: sim.ownerToken }), (e: TailnetDialError) => e.status === 503 && e.retryable && !e.permanent);
      // The fault is used up: the next dial goes through.
      (await dialTailnet({ url: sim.url, token: sim.ownerToken, keepAliveMs: 0 })).close();
    });
    await assert.rejects(dialTailnet({ url: "http://127.0.0.1:1", token: "x", timeoutMs: 5000 }), (e: TailnetDialError) => e.status === 0 && e.retryable);
  });

  test("the endpoint refuses an unknown API version with 400 and a validation on `version`", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      for (const v of ["2.9", "3.0", "x"]) {
        const status = await new Promise<number>((resolve) => {
          const ws = new WebSocket(`${sim.url.replace("http", "ws")}/api/v2/tailnet?version=${v}`, { headers: { "Coder-Session-Token": sim.ownerToken } });
          ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          ws.on("open", () => resolve(101));
          ws.on("error", () => {});
        });
        assert.equal(status, 400, `version ${v}`);
      }
    });
  });
});

describe("WorkspaceUpdates against the simulator", () => {
  test("a snapshot first, then every change: created -> upserted with its status, agent added, deleted -> deleted", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const m = await member(sim, "stream-user");
      const conn = await dialTailnet({ url: sim.url, token: m.token, keepAliveMs: 0 });
      const it = conn.workspaceUpdates(m.id);
      const snap = await nextUpdate(it);
      assert.deepEqual(snap, { upsertedWorkspaces: [], upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [] });

      const client = new CoderClient({ url: sim.url, token: m.token });
      const tpl = (await api(sim, "GET", "/api/v2/templates")).body.find((t: { name: string }) => t.name === "kubernetes-minimal");
      const ws = await client.createWorkspace(m.id, { name: "ws-one", template_id: tpl.id });
      const statuses: string[] = [];
      let agentId = "";
      while (!(statuses.at(-1) === "RUNNING" && agentId)) {
        const u = await nextUpdate(it);
        for (const w of u.upsertedWorkspaces) {
          assert.deepEqual([w.id, w.name], [ws.id, "ws-one"]);
          statuses.push(w.status);
        }
        for (const a of u.upsertedAgents) {
          assert.equal(a.workspaceId, ws.id);
          agentId = a.id;
        }
      }
      // An idle provisioner takes the job at once, so the first status seen may already be STARTING.
      assert.ok(["PENDING", "STARTING"].includes(statuses[0]!), statuses.join(","));
      assert.ok(statuses.includes("STARTING"), statuses.join(","));

      await client.deleteWorkspace(ws.id);
      // The agent leaves with the delete build (the latest build has none), the workspace when it is deleted.
      let gone: WorkspaceUpdate | undefined;
      const deletedAgents: string[] = [];
      while (!gone) {
        const u = await nextUpdate(it);
        deletedAgents.push(...u.deletedAgents.map((a) => a.id));
        if (u.deletedWorkspaces.length) gone = u;
      }
      assert.deepEqual(gone.deletedWorkspaces.map((w) => w.id), [ws.id]);
      assert.deepEqual(deletedAgents, [agentId]);
      it.close();
      conn.close();
      await client.close();
    });
  });

  test("a member's stream for another owner shows nothing of theirs (visibility as coderd's dbauthz)", async () => {
    await withSim({ preexisting: true }, async (sim) => {
      const m = await member(sim, "nosy-user");
      const owner = (await api(sim, "GET", "/api/v2/users/me")).body.id as string;
      const conn = await dialTailnet({ url: sim.url, token: m.token, keepAliveMs: 0 });
      const snap = await nextUpdate(conn.workspaceUpdates(owner));
      assert.equal(snap.upsertedWorkspaces.length, 0);
      // The owner's own stream does see its workspaces.
      const ownerConn = await dialTailnet({ url: sim.url, token: sim.ownerToken, keepAliveMs: 0 });
      const own = await nextUpdate(ownerConn.workspaceUpdates(owner));
      assert.ok(own.upsertedWorkspaces.length > 0);
      conn.close();
      ownerConn.close();
    });
  });

  test("closing the connection ends the server's subscription", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const me = (await api(sim, "GET", "/api/v2/users/me")).body.id as string;
      const conn = await dialTailnet({ url: sim.url, token: sim.ownerToken, keepAliveMs: 0 });
      await nextUpdate(conn.workspaceUpdates(me));
      assert.equal(sim.tailnet.counts().openSubscriptions, 1);
      conn.close();
      const deadline = Date.now() + 10_000;
      while (sim.tailnet.counts().openSubscriptions !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(sim.tailnet.counts().openSubscriptions, 0);
      assert.equal(sim.tailnet.counts().protocolErrors, 0);
    });
  });
});
