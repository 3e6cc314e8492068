// Crash safety: SIGKILL scripts/run.ts in each phase, then `scenarios/cleanup.ts --run-id R`, then
// `--all`: no scaletest- resource may be left, and the deployment's pre-existing users and workspaces
// must be exactly as before. Cleanup itself killed mid-way and rerun must still converge.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Sim } from "../sim/index.ts";
import {
  runPhases,
  runScript,
  scaletestLeft,
  simEnv,
  startScript,
  tempResults,
  tinyRunArgs,
  until,
  withReliabilitySim,
} from "./helpers/reliability.ts";

async function cleanupConverges(sim: Sim, runId: string, resultsDir: string): Promise<void> {
  const env = simEnv(sim);
  const byRun = await runScript("scenarios/cleanup.ts", ["--run-id", runId, "--results-dir", resultsDir, "--cleanup-job-timeout", "20s"], env, 40_000);
  assert.equal(byRun.code, 0, `cleanup --run-id ${runId} succeeds:\n${byRun.stderr.slice(-2000)}`);
  assert.deepEqual(scaletestLeft(sim), { users: [], workspaces: [] }, "cleanup --run-id removed the run's resources");
  const all = await runScript("scenarios/cleanup.ts", ["--all", "--results-dir", resultsDir], env, 40_000);
  assert.equal(all.code, 0, `cleanup --all succeeds (finding nothing):\n${all.stderr.slice(-2000)}`);
}

/** Kills the pipeline with SIGKILL once run.json shows `phase` running (plus `afterMs`). */
async function crashIn(phase: string, runId: string, afterMs = 0, simOpts = {}): Promise<void> {
  await withReliabilitySim(simOpts, async (sim) => {
    const tmp = tempResults(`crash-${runId}`);
    try {
      const preexisting = sim.snapshotPreexisting();
      const start = sim.counts();
      const runDir = join(tmp.dir, runId);
      const run = startScript("scripts/run.ts", tinyRunArgs(runId, tmp.dir, ["--scenarios", "ssh,dashboard", "--duration", "2s"]), simEnv(sim), 60_000);
      try {
        await until(`phase ${phase} to run`, () => runPhases(runDir).some((p) => p.name === phase && p.status === "running"), 30_000, 5);
      } catch (e) {
        run.child.kill("SIGKILL");
        const r = await run.done;
        throw new Error(`${(e as Error).message}; run exited ${r.code}: ${r.stderr.slice(-1500)}`);
      }
      if (afterMs > 0) await new Promise((r) => setTimeout(r, afterMs));
      run.child.kill("SIGKILL");
      const r = await run.done;
      assert.equal(r.signal, "SIGKILL", `the run was still going in ${phase} (exit ${r.code})`);
      await cleanupConverges(sim, runId, tmp.dir);
      assert.equal(sim.snapshotPreexisting(), preexisting, "pre-existing users and workspaces unchanged");
      const end = sim.counts();
      assert.equal(end.users, start.users);
      assert.equal(end.workspaces, start.workspaces);
      assert.equal(end.tokens, start.tokens, "the run's API token is not left behind");
      assert.equal(end.activeBuilds, 0);
    } finally {
      tmp.remove();
    }
  });
}

describe("crash safety: SIGKILL in each phase, then cleanup", { concurrency: 2 }, () => {
  it("killed in prepare", () => crashIn("prepare", "kprep"));
  it("killed mid create-workspaces (builds in flight)", () => crashIn("create-workspaces", "kcreate", 150, { buildDuration: 600 }));
  it("killed in ssh traffic (connections open)", () => crashIn("ssh-traffic", "kssh", 500));
  it("killed in dashboard traffic", () => crashIn("dashboard-traffic", "kdash", 500));
  it("killed in report", () => crashIn("report", "kreport"));
  it("killed in cleanup (delete builds in flight)", () => crashIn("cleanup", "kclean", 100, { buildDuration: 400 }));

  it("cleanup itself killed mid-way and rerun still converges", async () => {
    await withReliabilitySim({ buildDuration: 300 }, async (sim) => {
      const tmp = tempResults("crash-rerun");
      try {
        const preexisting = sim.snapshotPreexisting();
        const start = sim.counts();
        const runId = "krerun";
        const made = await runScript(
          "scripts/run.ts",
          tinyRunArgs(runId, tmp.dir, ["--workspaces", "6", "--scenarios", "ssh", "--duration", "1s", "--cleanup-strategy", "on_error"]),
          simEnv(sim),
        );
        assert.equal(made.code, 0, made.stderr.slice(-2000));
        assert.equal(scaletestLeft(sim).workspaces.length, 6);
        // Kill cleanup once delete builds are under way.
        const cleanup = startScript("scenarios/cleanup.ts", ["--run-id", runId, "--results-dir", tmp.dir, "--cleanup-concurrency", "2"], simEnv(sim));
        await until("a delete build to start", () => sim.counts().activeBuilds > 0, 20_000, 5);
        cleanup.child.kill("SIGKILL");
        await cleanup.done;
        assert.ok(scaletestLeft(sim).workspaces.length > 0, "the kill left work undone");
        await cleanupConverges(sim, runId, tmp.dir);
        assert.equal(sim.snapshotPreexisting(), preexisting);
        assert.equal(sim.counts().users, start.users);
        assert.equal(sim.counts().workspaces, start.workspaces);
      } finally {
        tmp.remove();
      }
    });
  });
});
