// End-to-end through src/coder only, against the simulated deployment: user -> workspace with
// rich parameters -> build -> agent ready -> PTY round trip -> stop -> delete -> user gone, and the
// simulator's state back to where it started.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type WebSocket from "ws";
import { startSim, type Sim } from "../sim/index.ts";
import { BuildFailedError, CoderApiError, CoderClient, sendPtyInput, type RetryInfo, type WorkspaceBuildParameter } from "../src/coder/index.ts";
import { refusesConnections } from "./helpers/sim.ts";
import { until } from "./helpers/until.ts";

const RUN = "e2ec0de1";
const NAME = `scaletest-${RUN}-0000`;
const TEMPLATE = "kubernetes-minimal";

/** Reads PTY output until `marker` shows up (or fails after timeoutMs). */
function readUntil(ws: WebSocket, marker: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => {
      ws.off("message", onMsg);
      reject(new Error(`PTY output did not contain ${JSON.stringify(marker)} within ${timeoutMs} ms; got ${JSON.stringify(out.slice(-300))}`));
    }, timeoutMs);
    const onMsg = (d: Buffer): void => {
      out += d.toString("utf8");
      if (out.includes(marker)) {
        clearTimeout(t);
        ws.off("message", onMsg);
        resolve(out);
      }
    };
    ws.on("message", onMsg);
  });
}

describe("client end-to-end against the simulator", () => {
  let sim: Sim | undefined;
  let client: CoderClient;
  const retries: RetryInfo[] = [];

  before(async () => {
    sim = await startSim({ seed: 7, buildDuration: { minMs: 50, maxMs: 120 }, agentConnectDelayMs: 60, agentReadyDelayMs: 30 });
    client = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 4, onRetry: (i) => retries.push(i) });
  });

  after(async () => {
    await client?.close();
    await sim?.close();
  });

  it("creates a user and a workspace, talks to its PTY, and cleans everything up", { timeout: 45_000 }, async () => {
    assert.ok(sim);
    const start = structuredClone(sim.counts());

    const info = await client.buildInfo();
    assert.match(info.version, /^v\d+\.\d+\.\d+/);
    const me = await client.me();
    assert.ok(me.roles?.some((r) => r.name === "owner"), "owner token expected");

    const org = await client.defaultOrganization();
    const user = await client.createUser({
      email: `${NAME}@scaletest.local`,
      username: NAME,
      password: "Sc4letest-e2e-password!",
      login_type: "password",
      organization_ids: [org.id],
    });
    assert.equal(user.username, NAME);
    assert.deepEqual((await client.user(NAME)).id, user.id);
    const found = [];
    for await (const u of client.iterateUsers({ q: `username:scaletest-${RUN}-`, pageSize: 1 })) found.push(u.username);
    assert.deepEqual(found, [NAME]);

    const template = await client.templateByName(org.id, TEMPLATE);
    const version = await client.templateVersion(template.active_version_id);
    assert.equal(version.job.status, "succeeded");
    const params = await client.templateVersionRichParameters(template.active_version_id);
    assert.ok(params.length > 0, "template should have rich parameters");
    // Pick a non-default value where options exist, to prove values are passed through.
    const values: WorkspaceBuildParameter[] = params.map((p) => {
      const alt = p.options?.find((o) => o.value !== p.default_value);
      return { name: p.name, value: alt?.value ?? p.default_value };
    });

    const ws = await client.createWorkspace(NAME, { name: NAME, template_id: template.id, rich_parameter_values: values });
    assert.equal(ws.name, NAME);
    assert.equal(ws.owner_name, NAME);
    assert.equal(ws.latest_build.transition, "start");

    const built = await client.waitForBuild(ws.latest_build.id, { pollMs: 50, timeoutMs: 20_000 });
    assert.equal(built.job.status, "succeeded");
    assert.equal(built.status, "running");
    const logs = await client.workspaceBuildLogs(built.id);
    assert.ok(Array.isArray(logs));

    const agents = await client.waitForAgents(ws.id, { pollMs: 50, timeoutMs: 20_000 });
    assert.ok(agents.length >= 1);
    const agent = agents[0];
    assert.ok(agent);
    assert.equal(agent.status, "connected");
    assert.equal(agent.lifecycle_state, "ready");
    assert.equal((await client.workspaceAgent(agent.id)).id, agent.id);
    const resources = await client.workspaceResources(ws.id);
    assert.ok(resources.some((r) => (r.agents ?? []).some((a) => a.id === agent.id)));
    assert.equal((await client.workspaceByOwnerAndName(NAME, NAME)).id, ws.id);
    const listed = [];
    for await (const w of client.iterateWorkspaces({ q: `name:scaletest-${RUN}-` })) listed.push(w.name);
    assert.deepEqual(listed, [NAME]);

    const pty = await client.openReconnectingPty(agent.id, { width: 80, height: 25 });
    try {
      const marker = `scaletest-e2e-${Date.now().toString(36)}`;
      const read = readUntil(pty, marker, 10_000);
      await sendPtyInput(pty, `echo ${marker}\r`);
      const out = await read;
      assert.ok(out.includes(marker));
    } finally {
      pty.close();
    }

    const stop = await client.stopWorkspace(ws.id);
    assert.equal(stop.transition, "stop");
    const stopped = await client.waitForBuild(stop.id, { pollMs: 50, timeoutMs: 20_000 });
    assert.equal(stopped.status, "stopped");

    const del = await client.deleteWorkspace(ws.id);
    assert.equal(del.transition, "delete");
    const deleted = await client.waitForBuild(del.id, { pollMs: 50, timeoutMs: 20_000 });
    assert.equal(deleted.status, "deleted");
    const gone = await client.workspace(ws.id).then(
      (w) => w,
      (e: unknown) => e,
    );
    assert.ok(gone instanceof CoderApiError && gone.notFound, `workspace should be gone, got ${String(gone)}`);

    await client.deleteUser(user.id);
    const userGone = await client.user(NAME).then(
      (u) => u,
      (e: unknown) => e,
    );
    assert.ok(userGone instanceof CoderApiError && userGone.notFound, `user should be gone, got ${String(userGone)}`);

    assert.deepEqual(sim.counts(), start, "simulator state should be back to where it started");
    assert.deepEqual(retries, [], "no retries expected against a healthy simulator");
    assert.equal(client.stats().retries, 0);
  });

  it("counts every retry of injected faults and reports failed builds with their logs", { timeout: 30_000 }, async () => {
    assert.ok(sim);
    const start = structuredClone(sim.counts());
    const faulty = new CoderClient({ url: sim.url, token: sim.ownerToken, retry: { attempts: 8, baseDelayMs: 5, maxDelayMs: 20 } });
    try {
      const org = await faulty.defaultOrganization();
      const template = await faulty.templateByName(org.id, TEMPLATE);
      const injectedBefore = sim.faults.injected.http;
      sim.faults.set({ http: [{ method: "GET", path: "/api/v2/workspaces", status: 503, rate: 0.5, retryAfterSec: 0 }] });
      for (let i = 0; i < 10; i++) await faulty.listWorkspaces({ q: "name:scaletest-", limit: 5 });
      const injected = sim.faults.injected.http - injectedBefore;
      sim.faults.clear();
      assert.ok(injected > 0, "the seeded fault rate should have hit at least once");
      assert.equal(faulty.stats().retries, injected, "every injected 503 must show up as a counted retry");
      assert.equal(faulty.stats().retriesBy["503"], injected);

      sim.faults.set({ build: { failRate: 1 } });
      const ws = await faulty.createWorkspace("me", { name: `scaletest-${RUN}-0001`, template_id: template.id });
      const err = await faulty.waitForBuild(ws.latest_build.id, { pollMs: 50, timeoutMs: 20_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      sim.faults.clear();
      assert.ok(err instanceof BuildFailedError, `expected BuildFailedError, got ${String(err)}`);
      assert.equal(err.jobStatus, "failed");
      assert.ok(err.jobError.length > 0, "job error should be carried");
      assert.ok(err.logTail.length > 0, "log tail should be carried");

      const del = await faulty.deleteWorkspace(ws.id);
      await faulty.waitForBuild(del.id, { pollMs: 50, timeoutMs: 20_000 });
    } finally {
      sim.faults.clear();
      await faulty.close();
    }
    assert.deepEqual(sim.counts(), start);
  });

  it("rides out a coderd restart: idempotent calls retry through connection refusals", { timeout: 30_000 }, async () => {
    assert.ok(sim);
    // Retry budget: 39 full-jitter delays of up to 250 ms (about 4.8 s expected) outlast the 1.5 s down time.
    const c = new CoderClient({ url: sim.url, token: sim.ownerToken, retry: { attempts: 40, baseDelayMs: 50, maxDelayMs: 250 } });
    try {
      await c.buildInfo();
      const restarts = sim.faults.injected.restarts;
      // Down long enough that the call below starts inside the window even on a busy machine.
      const restarting = sim.restart(1500);
      const s = sim;
      await until(() => refusesConnections(s), { what: "the simulator to refuse connections while restarting", timeoutMs: 20_000 });
      const info = await c.buildInfo();
      await restarting;
      assert.equal(sim.faults.injected.restarts, restarts + 1);
      assert.match(info.version, /^v/);
      const st = c.stats();
      assert.ok(st.retries >= 1, `expected retries during the restart, stats ${JSON.stringify(st)}`);
      assert.ok((st.retriesBy["ECONNREFUSED"] ?? 0) > 0, `expected ECONNREFUSED retries, got ${JSON.stringify(st.retriesBy)}`);
    } finally {
      await c.close();
    }
  });
});
