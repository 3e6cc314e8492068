// create-workspaces as Coder's runner does it: each user is created with a password, logs in with a fresh
// client (no session, no bypass header), and creates, waits for and uses its workspace with its own session;
// every build is waited for by following its log over the websocket to its end, and a failed build's reason comes
// from that stream. The simulator's stream is held to Coder's message shape (the contract's ProvisionerJobLog).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import WebSocket from "ws";
import type { Sim } from "../sim/index.ts";
import type { LoggedRequest } from "../sim/core.ts";
import type { CoderClient } from "../src/coder/index.ts";
import { buildLogsFollowUrl, newFollowStats, waitForBuildFollowingLogs } from "../src/coder/build-logs.ts";
import { BuildFailedError } from "../src/coder/errors.ts";
import { createWorkspaces, type CreateOptions } from "../src/create/index.ts";
import { CONTRACT_PATH } from "./helpers/client-contract.ts";
import { clientFor, startFastSim } from "./helpers/create-sim.ts";

const base = (runId: string, count: number): CreateOptions & { noCleanup: boolean } => ({
  runId, count, template: "kubernetes-minimal", concurrency: 8, timeoutMs: 60_000, jobTimeoutMs: 30_000, retry: 0, pollMs: 100, noCleanup: true,
});
const quiet = { progress: false as const };

const addFormats = addFormatsModule as unknown as (a: Ajv) => Ajv;

function logSchemaValidator(): (v: unknown) => boolean {
  const contract = JSON.parse(readFileSync(CONTRACT_PATH, "utf8")) as { definitions: Record<string, unknown> };
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false }));
  return ajv.compile({ $ref: "#/definitions/codersdk.ProvisionerJobLog", definitions: contract.definitions });
}

/** Reads one build's log stream to its close: the frames (parsed) and the close code. */
function readStream(sim: Sim, buildId: string, token: string, after = 0): Promise<{ frames: unknown[]; code: number; binary: number }> {
  return new Promise((resolve, reject) => {
    const frames: unknown[] = [];
    let binary = 0;
    const ws = new WebSocket(buildLogsFollowUrl(new URL(sim.url), buildId, after), { headers: { Cookie: `coder_session_token=${token}` } });
    ws.on("message", (d, isBinary) => {
      if (isBinary) binary++;
      else frames.push(JSON.parse(d.toString()));
    });
    ws.on("close", (code) => resolve({ frames, code, binary }));
    ws.on("error", reject);
  });
}

describe("create-workspaces as each user, following build logs", () => {
  let sim: Sim;
  let client: CoderClient;

  before(async () => {
    sim = await startFastSim({ daemons: 4 });
    client = clientFor(sim);
  });
  after(async () => {
    await client.close();
    await sim.close();
  });

  test("each workspace is created by its own user after a login; every build's log stream is followed to its end", async () => {
    const from = sim.core.requestLog.length;
    const streamsBefore = { ...sim.buildLogs.counts };
    const r = await createWorkspaces(client, base("asu", 12), quiet);
    assert.equal(r.pass, 12, r.units.map((u) => u.error).join("\n"));
    const log = sim.core.requestLog.slice(from);
    const logins = log.filter((e) => e.method === "POST" && e.path === "/api/v2/users/login");
    assert.equal(logins.length, 12, "one password login per user");
    for (const e of logins) {
      assert.equal(e.user, undefined, "the login is sent without any session");
      assert.equal(e.bypass, false, "the login client is a fresh one, without the bypass header");
    }
    for (const u of r.units) {
      const simUser = [...sim.state.users.values()].find((x) => x.username === u.name)!;
      assert.equal(simUser.loginType, "password");
      const ws = [...sim.state.workspaces.values()].find((w) => w.name === u.name)!;
      assert.equal(ws.ownerId, simUser.id);
      // Created by the user itself, at /users/{its id}/workspaces, with its own session and no bypass header.
      const creates = log.filter((e) => e.method === "POST" && e.path === `/api/v2/users/${simUser.id}/workspaces`);
      assert.equal(creates.length, 1, `${u.name}: ${JSON.stringify(creates)}`);
      assert.equal(creates[0]!.user, u.name);
      assert.equal(creates[0]!.bypass, false);
      // The user was created (by the Owner, with the bypass header) before its workspace, and logged in between.
      const createIdx = log.indexOf(creates[0]!);
      const userIdx = log.findIndex((e) => e.method === "POST" && e.path === "/api/v2/users" && e.user === "admin");
      assert.ok(userIdx >= 0 && userIdx < createIdx);
      assert.ok(log.slice(0, createIdx).some((e) => e.path === "/api/v2/users/login"));
      // Its build's log was followed over the websocket by the user; no plain log read was needed.
      const buildId = sim.state.latestBuild(ws).id;
      const streams = log.filter((e: LoggedRequest) => e.upgrade && e.path === `/api/v2/workspacebuilds/${buildId}/logs`);
      assert.equal(streams.length, 1);
      assert.equal(streams[0]!.query, "follow=", "?follow (the simulator logs the parsed query)");
      assert.equal(streams[0]!.user, u.name);
      assert.equal(streams[0]!.bypass, false);
      // Everything after the login is the user's own: agent waits included.
      const after = log.slice(createIdx).filter((e) => e.path.includes(ws.id));
      assert.ok(after.length > 0 && after.every((e) => e.user === u.name), `${u.name}: ${JSON.stringify(after.filter((e) => e.user !== u.name))}`);
      assert.match(u.logs.join("\n"), /logged in as .* build log followed: [1-9]\d* line\(s\) over 1 stream/s);
      assert.ok(u.timings.login !== null && u.timings.login >= 0);
    }
    assert.equal(log.filter((e) => !e.upgrade && /\/workspacebuilds\/[^/]+\/logs$/.test(e.path)).length, 0);
    assert.equal(sim.buildLogs.counts.opened - streamsBefore.opened, 12);
    assert.equal(sim.buildLogs.counts.completed - streamsBefore.completed, 12, "every stream ran to the server's close at the job's end");
  });

  test("a failed build's reason and log tail come from its streamed log", async () => {
    const from = sim.core.requestLog.length;
    sim.faults.set({ build: { failRate: 1 } });
    try {
      const r = await createWorkspaces(client, base("asf", 3), quiet);
      assert.equal(r.fail, 3);
      for (const u of r.units) {
        assert.equal(u.failed_stage, "build");
        assert.ok(u.log_tail.some((l) => /simulated provisioner failure/.test(l)), u.log_tail.join("\n"));
        assert.deepEqual(u.attempts[0]!.log_tail, u.log_tail);
      }
    } finally {
      sim.faults.clear();
    }
    // Not one plain read of the logs: the tail is what the stream delivered.
    assert.equal(sim.core.requestLog.slice(from).filter((e) => !e.upgrade && /\/workspacebuilds\/[^/]+\/logs$/.test(e.path)).length, 0);
  });

  test("--use-host-login: no user and no login, the runner's own session creates and follows", async () => {
    const from = sim.core.requestLog.length;
    const r = await createWorkspaces(client, { ...base("ash", 2), useHostLogin: true }, quiet);
    assert.equal(r.pass, 2);
    const log = sim.core.requestLog.slice(from);
    assert.equal(log.filter((e) => e.path === "/api/v2/users/login" || (e.method === "POST" && e.path === "/api/v2/users")).length, 0);
    const streams = log.filter((e) => e.upgrade && /\/workspacebuilds\/[^/]+\/logs$/.test(e.path));
    assert.equal(streams.length, 2);
    for (const s of streams) assert.equal(s.user, "admin");
  });

  test("the stream's URL is codersdk's: ?follow, &after= only when non-zero, under the deployment's path", () => {
    assert.equal(buildLogsFollowUrl(new URL("http://127.0.0.1:3000"), "b1").href, "ws://127.0.0.1:3000/api/v2/workspacebuilds/b1/logs?follow");
    assert.equal(buildLogsFollowUrl(new URL("https://coder.example.com/base/"), "b1", 7).href, "wss://coder.example.com/base/api/v2/workspacebuilds/b1/logs?follow&after=7");
  });

  test("the simulator's stream: Coder's message shape, after=, a normal close once the job ended, auth and visibility", async () => {
    const valid = logSchemaValidator();
    const r = await createWorkspaces(client, base("ass", 1), quiet);
    assert.equal(r.pass, 1);
    const ws = [...sim.state.workspaces.values()].find((w) => w.name === "scaletest-ass-0")!
      ?? [...sim.state.workspaces.values()].find((w) => w.name.startsWith("scaletest-ass-"))!;
    const build = sim.state.latestBuild(ws);
    const all = await readStream(sim, build.id, sim.ownerToken);
    assert.equal(all.code, 1000);
    assert.equal(all.binary, 0, "text frames only");
    assert.ok(all.frames.length >= 3);
    for (const f of all.frames) assert.ok(valid(f), JSON.stringify(f));
    const ids = all.frames.map((f) => (f as { id: number }).id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    const later = await readStream(sim, build.id, sim.ownerToken, ids[1]!);
    assert.deepEqual(later.frames.map((f) => (f as { id: number }).id), ids.slice(2));

    // A build still running: lines arrive as written, and the close comes only with the job's end.
    sim.faults.set({ build: { stuckPendingRate: 0 } });
    const stop = await client.stopWorkspace(ws.id);
    const followed = await readStream(sim, stop.id, sim.ownerToken);
    assert.equal(followed.code, 1000);
    assert.equal(sim.state.job(sim.state.builds.get(stop.id)!.jobId).completedAt !== undefined, true, "closed only once the job completed");
    assert.ok(followed.frames.some((f) => /Destruction complete/.test((f as { output: string }).output)));
    sim.faults.clear();

    // No token: 401; another user's build: 404 (as coderd hides what a member may not see).
    await assert.rejects(readStream(sim, build.id, ""), /401/);
    const other = await client.createUser({ username: "scaletest-ass-other", email: "ass-other@scaletest.local", password: "An0ther-Passw0rd!", organization_ids: [(await client.defaultOrganization()).id] });
    const otherClient = await client.login("ass-other@scaletest.local", "An0ther-Passw0rd!");
    try {
      await assert.rejects(readStream(sim, build.id, otherClient.sessionToken), /404/);
    } finally {
      await otherClient.close();
      await client.deleteUser(other.id);
    }
  });

  test("waitForBuildFollowingLogs redials a dropped stream from the last line, and ends with the build's outcome", async () => {
    sim.faults.set({ build: { failRate: 0 } });
    const r = await createWorkspaces(client, base("asd", 1), quiet);
    assert.equal(r.pass, 1);
    const ws = [...sim.state.workspaces.values()].find((w) => w.name.startsWith("scaletest-asd-") && !w.deleted)!;
    // A slow stop build; the stream is cut while it runs.
    const slow = await startFastSim({ daemons: 1, buildDuration: { minMs: 1500, maxMs: 1500 } });
    const slowClient = clientFor(slow);
    try {
      const r2 = await createWorkspaces(slowClient, { ...base("asd2", 1), noWaitForAgents: true }, quiet);
      assert.equal(r2.pass, 1);
      const ws2 = [...slow.state.workspaces.values()].find((w) => w.name.startsWith("scaletest-asd2-") && !w.deleted)!;
      const stop = await slowClient.stopWorkspace(ws2.id);
      const stats = newFollowStats();
      const waiting = waitForBuildFollowingLogs(slowClient, stop.id, { timeoutMs: 20_000, stats, pendingPollMs: 50 });
      // Cut the stream once it is open (observable: the simulator holds it).
      const deadline = Date.now() + 10_000;
      while (slow.buildLogs.openCount() === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      assert.equal(slow.buildLogs.openCount(), 1);
      slow.core.dropConnections();
      const done = await waiting;
      assert.equal(done.job.status, "succeeded");
      assert.ok(stats.reconnects >= 1 && stats.streams >= 2, JSON.stringify(stats));
      // The redial asked only for lines after the last one seen.
      const dials = slow.core.requestLog.filter((e) => e.upgrade && e.path === `/api/v2/workspacebuilds/${stop.id}/logs`);
      assert.ok(dials.length >= 2);
      assert.match(dials[dials.length - 1]!.query, /^follow=&after=[1-9]\d*$/);
    } finally {
      await slowClient.close();
      await slow.close();
    }
    // A canceled build: BuildFailedError with the canceled status.
    sim.faults.set({ build: { stuckPendingRate: 1 } });
    const pending = await client.stopWorkspace(ws.id);
    sim.faults.clear();
    await client.cancelBuild(pending.id);
    await assert.rejects(waitForBuildFollowingLogs(client, pending.id, { timeoutMs: 10_000 }), (e: unknown) => e instanceof BuildFailedError && e.jobStatus === "canceled");
  });
});
