// cleanup against the simulated deployment: crash safety (SIGKILL mid-create, then cleanup from the
// deployment alone), exact scoping, retries of failed deletes, active builds, idempotence.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Sim } from "../sim/index.ts";
import { cleanupRun, cleanupScope, inScope } from "../src/cleanup/index.ts";
import type { CoderClient } from "../src/coder/index.ts";
import { createWorkspaces, type CreateOptions } from "../src/create/index.ts";
import { clientFor, liveScaletest, startFastSim } from "./helpers/create-sim.ts";
import { until } from "./helpers/until.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const quiet = { progress: false as const };
const opts = { concurrency: 10, timeoutMs: 30_000, jobTimeoutMs: 10_000, pollMs: 100, retryDelayMs: 20 };
const create = (runId: string, count: number): CreateOptions & { noCleanup: boolean } => ({
  runId, count, template: "kubernetes-minimal", concurrency: 10, timeoutMs: 30_000, jobTimeoutMs: 20_000, retry: 0, pollMs: 100, noCleanup: true,
});

/** Environment for a scenario child process: only the deployment and the results folder. */
function childEnv(sim: Sim, resultsDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
  return { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: resultsDir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" };
}

function runScript(sim: Sim, dir: string, script: string, args: string[]) {
  return execa(process.execPath, ["--import", "tsx", join("scenarios", script), ...args], {
    cwd: ROOT, env: childEnv(sim, dir), extendEnv: false, reject: false, timeout: 120_000,
  });
}

describe("cleanup", () => {
  let sim: Sim;
  let client: CoderClient;
  let preexisting: string;
  let dir: string;

  before(async () => {
    sim = await startFastSim({ daemons: 4, buildDuration: { minMs: 100, maxMs: 200 } });
    client = clientFor(sim);
    preexisting = sim.snapshotPreexisting();
    dir = mkdtempSync(join(tmpdir(), "cleanup-test-"));
  });
  after(async () => {
    await client.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("SIGKILL mid-create, then cleanup from the deployment alone: no scaletest resource left, the rest unchanged", async () => {
    const countsBefore = sim.counts();
    const child = runScript(sim, dir, "create-workspaces.ts", ["--count", "120", "--template", "kubernetes-minimal", "--concurrency", "12", "--run-id", "kil", "--output", "text:-"]);
    // Kill it while users, workspaces and builds are in every state.
    let exited = false;
    void child.finally(() => (exited = true));
    await until(() => exited || (liveScaletest(sim, "scaletest-kil-").workspaces.length >= 20 && sim.counts().activeBuilds > 0), {
      what: "the create run to be under way",
      timeoutMs: 60_000,
    });
    child.kill("SIGKILL");
    const res = await child;
    assert.ok(!exited || res.signal === "SIGKILL", `create exited by itself before the kill: ${res.exitCode}\n${res.stderr}`);
    assert.equal(res.signal, "SIGKILL");
    const left = liveScaletest(sim, "scaletest-kil-");
    assert.ok(left.workspaces.length >= 20 && left.workspaces.length < 120, `left ${left.workspaces.length} workspaces`);
    assert.ok(left.users.length >= left.workspaces.length);

    const c = await runScript(sim, dir, "cleanup.ts", ["--run-id", "kil", "--output", "harness:-"]);
    assert.equal(c.exitCode, 0, c.stderr);
    const json = JSON.parse(c.stdout) as { total_fail: number; workspaces_deleted: number; users_deleted: number };
    assert.equal(json.total_fail, 0);
    assert.equal(json.workspaces_deleted, left.workspaces.length);
    assert.ok(json.users_deleted >= left.users.length);
    assert.deepEqual(liveScaletest(sim), { users: [], workspaces: [] });
    assert.equal(sim.snapshotPreexisting(), preexisting);
    const countsAfter = sim.counts();
    assert.equal(countsAfter.users, countsBefore.users);
    assert.equal(countsAfter.workspaces, countsBefore.workspaces);
    assert.equal(countsAfter.activeBuilds, 0);

    // Idempotent: a second run finds nothing and exits 0.
    const again = await runScript(sim, dir, "cleanup.ts", ["--run-id", "kil"]);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stdout, /nothing to delete/);
  });

  test("scope: --run-id deletes only that run; --all only scaletest- names; look-alikes and the runner survive", async () => {
    assert.equal((await createWorkspaces(client, create("aa", 3), quiet)).exit_code, 0);
    assert.equal((await createWorkspaces(client, create("aab", 2), quiet)).exit_code, 0);
    // Look-alikes: contain the prefix but do not start with it (Coder's name: filter matches substrings).
    const tpl = await client.templateByName((await client.defaultOrganization()).id, "kubernetes-minimal");
    const look = await client.createWorkspace("me", { name: "x-scaletest-aa-0001", template_id: tpl.id });
    await client.waitForBuild(look.latest_build.id, { pollMs: 100 });

    const a = await cleanupRun(client, { runId: "aa", ...opts }, quiet);
    assert.equal(a.exit_code, 0);
    assert.deepEqual(a.workspaces.map((w) => w.name), ["scaletest-aa-0000", "scaletest-aa-0001", "scaletest-aa-0002"]);
    assert.deepEqual(a.users.map((u) => u.name), ["scaletest-aa-0000", "scaletest-aa-0001", "scaletest-aa-0002"]);
    assert.deepEqual(liveScaletest(sim), { users: ["scaletest-aab-0000", "scaletest-aab-0001"], workspaces: ["scaletest-aab-0000", "scaletest-aab-0001"] });

    const all = await cleanupRun(client, { all: true, ...opts }, quiet);
    assert.equal(all.exit_code, 0);
    assert.equal(all.prefix, "scaletest-");
    assert.deepEqual(liveScaletest(sim), { users: [], workspaces: [] });
    // The look-alike workspace, the "scaletest" user (no dash), my-scaletest-box and the runner remain.
    assert.ok([...sim.state.workspaces.values()].some((w) => !w.deleted && w.name === "x-scaletest-aa-0001"));
    assert.equal(sim.snapshotPreexisting(), preexisting);
    const b = await client.createBuild(look.id, { transition: "delete" });
    await client.waitForBuild(b.id, { pollMs: 100 });
  });

  test("scope checks", () => {
    assert.throws(() => cleanupScope({}), /give --run-id <id> .* or --all/);
    assert.throws(() => cleanupScope({ runId: "abc", all: true }), /not both/);
    assert.throws(() => cleanupScope({ runId: "ABC" }), /invalid run id/);
    const s = cleanupScope({ runId: "abc" });
    assert.equal(s.prefix, "scaletest-abc-");
    assert.ok(inScope(s, "scaletest-abc-0001"));
    assert.ok(!inScope(s, "scaletest-abcd-0001"));
    assert.ok(!inScope(s, "x-scaletest-abc-0001"));
    assert.ok(!inScope(s, "scaletest-abc-"));
    const all = cleanupScope({ all: true });
    assert.ok(inScope(all, "scaletest-zz-0000"));
    assert.ok(!inScope(all, "scaletest"));
    assert.ok(!inScope(all, "my-scaletest-box"));
  });

  test("failed deletes are retried; one that keeps failing is reported by name (and its user kept), then a rerun finishes", async () => {
    assert.equal((await createWorkspaces(client, create("rt", 4), quiet)).exit_code, 0);
    const ws = [...sim.state.workspaces.values()].filter((w) => !w.deleted && w.name.startsWith("scaletest-rt-"));
    const flaky = ws.find((w) => w.name === "scaletest-rt-0001")!;
    const broken = ws.find((w) => w.name === "scaletest-rt-0002")!;
    const injected = sim.faults.injected.http;
    sim.faults.set({
      http: [
        { method: "POST", path: `/api/v2/workspaces/${broken.id}/builds`, status: 500 },
        // The flaky workspace's delete fails once, then goes through (a count-limited fault).
        { method: "POST", path: `/api/v2/workspaces/${flaky.id}/builds`, status: 500, count: 1 },
      ],
    });
    const r = await cleanupRun(client, { runId: "rt", ...opts, concurrency: 4, retryDelayMs: 100 }, quiet);
    sim.faults.clear();
    assert.equal(sim.faults.injected.http - injected, 1 + 3, "one failure for the flaky workspace, one per attempt for the broken one");
    assert.equal(r.exit_code, 1);
    const byName = new Map(r.workspaces.map((w) => [w.name, w]));
    assert.equal(byName.get("scaletest-rt-0001")!.ok, true);
    assert.equal(byName.get("scaletest-rt-0001")!.attempts, 2, "failed once, retried once");
    assert.equal(byName.get("scaletest-rt-0002")!.ok, false);
    assert.equal(byName.get("scaletest-rt-0002")!.attempts, 3);
    assert.match(byName.get("scaletest-rt-0002")!.error ?? "", /500/);
    assert.ok(r.failed.includes("workspace scaletest-rt-0002/scaletest-rt-0002"), r.failed.join(", "));
    assert.ok(r.failed.includes("user scaletest-rt-0002"), "Coder refuses to delete a user who still owns a workspace");
    assert.ok(r.remaining.includes("workspace scaletest-rt-0002/scaletest-rt-0002"));
    assert.deepEqual(liveScaletest(sim), { users: ["scaletest-rt-0002"], workspaces: ["scaletest-rt-0002"] });

    const again = await cleanupRun(client, { runId: "rt", ...opts }, quiet);
    assert.equal(again.exit_code, 0);
    assert.deepEqual(liveScaletest(sim), { users: [], workspaces: [] });
  });

  test("a workspace whose start build is still queued is canceled, then deleted", async () => {
    sim.faults.set({ build: { stuckPendingRate: 1 } });
    const tpl = await client.templateByName((await client.defaultOrganization()).id, "kubernetes-minimal");
    const ws = await client.createWorkspace("me", { name: "scaletest-stk-0000", template_id: tpl.id });
    sim.faults.clear();
    assert.equal((await client.workspaceBuild(ws.latest_build.id)).job.status, "pending");
    const r = await cleanupRun(client, { runId: "stk", ...opts }, quiet);
    assert.equal(r.exit_code, 0, JSON.stringify(r.workspaces));
    assert.ok(r.workspaces[0]!.logs.some((l) => /canceling active start build/.test(l)));
    assert.deepEqual(liveScaletest(sim), { users: [], workspaces: [] });
    assert.equal(sim.snapshotPreexisting(), preexisting);
  });
});
