// Crash safety: SIGKILL scripts/run.ts in each phase, then `scenarios/cleanup.ts --run-id R`, then
// `--all`: no scaletest- resource may be left, and the deployment's pre-existing users and workspaces
// must be exactly as before. Cleanup itself killed mid-way and rerun must still converge.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Sim } from "../sim/index.ts";
import { jobStatus, type Transition } from "../sim/state.ts";
import {
  runPhases,
  runScript,
  scaletestLeft,
  simEnv,
  startScript,
  tempResults,
  tinyRunArgs,
  withReliabilitySim,
} from "./helpers/reliability.ts";
import { until } from "./helpers/until.ts";

/** Builds of `transition` whose job is still queued or running, for workspaces named `prefix`*. */
function buildsInFlight(sim: Sim, transition: Transition, prefix: string): number {
  let n = 0;
  for (const b of sim.state.builds.values()) {
    if (b.transition !== transition || !sim.state.workspaces.get(b.workspaceId)?.name.startsWith(prefix)) continue;
    const st = jobStatus(sim.state.job(b.jobId));
    if (st === "pending" || st === "running") n++;
  }
  return n;
}

/** What must be observably under way in a phase before the kill (the state the kill must leave behind). */
type Underway = { what: string; check: (sim: Sim, runId: string) => boolean };

const builds = (transition: Transition): Underway => ({
  what: `${transition} builds in flight`,
  check: (sim, runId) => buildsInFlight(sim, transition, `scaletest-${runId}-`) > 0,
});
const sshOpen: Underway = { what: "SSH connections open", check: (sim) => sim.ssh.stats().open > 0 && sim.ssh.stats().sessions > 0 };
/** The dashboard phase mints a token per browsing user; one has been used, so browsing is under way. */
const dashboardBrowsing: Underway = {
  what: "a minted dashboard token in use",
  check: (sim) => [...sim.state.apiKeys.values()].some((k) => k.tokenName.startsWith("scaletest-dashboard-") && k.lastUsed > k.createdAt),
};

async function cleanupConverges(sim: Sim, runId: string, resultsDir: string): Promise<void> {
  const env = simEnv(sim);
  const byRun = await runScript("scenarios/cleanup.ts", ["--run-id", runId, "--results-dir", resultsDir, "--cleanup-job-timeout", "20s"], env, 90_000);
  assert.equal(byRun.code, 0, `cleanup --run-id ${runId} succeeds:\n${byRun.stderr.slice(-2000)}`);
  assert.deepEqual(scaletestLeft(sim), { users: [], workspaces: [] }, "cleanup --run-id removed the run's resources");
  const all = await runScript("scenarios/cleanup.ts", ["--all", "--results-dir", resultsDir], env, 90_000);
  assert.equal(all.code, 0, `cleanup --all succeeds (finding nothing):\n${all.stderr.slice(-2000)}`);
}

/** Kills the pipeline with SIGKILL once run.json shows `phase` running (and `underway` holds, if given). */
async function crashIn(phase: string, runId: string, underway?: Underway, simOpts = {}): Promise<void> {
  await withReliabilitySim(simOpts, async (sim) => {
    const tmp = tempResults(`crash-${runId}`);
    try {
      const preexisting = sim.snapshotPreexisting();
      const start = sim.counts();
      const runDir = join(tmp.dir, runId);
      const run = startScript("scripts/run.ts", tinyRunArgs(runId, tmp.dir, ["--scenarios", "ssh,dashboard", "--duration", "2s"]), simEnv(sim), 120_000);
      try {
        await until(() => runPhases(runDir).some((p) => p.name === phase && p.status === "running"), { what: `phase ${phase} to run`, timeoutMs: 90_000, everyMs: 5 });
        if (underway) await until(() => underway.check(sim, runId), { what: `${underway.what} in ${phase}`, timeoutMs: 90_000, everyMs: 5 });
      } catch (e) {
        run.child.kill("SIGKILL");
        const r = await run.done;
        throw new Error(`${(e as Error).message}; run exited ${r.code}: ${r.stderr.slice(-1500)}`);
      }
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
  it("killed mid create-workspaces (builds in flight)", () => crashIn("create-workspaces", "kcreate", builds("start"), { buildDuration: 600 }));
  it("killed in ssh traffic (connections open)", () => crashIn("ssh-traffic", "kssh", sshOpen));
  it("killed in dashboard traffic", () => crashIn("dashboard-traffic", "kdash", dashboardBrowsing));
  it("killed in report", () => crashIn("report", "kreport"));
  it("killed in cleanup (delete builds in flight)", () => crashIn("cleanup", "kclean", builds("delete"), { buildDuration: 400 }));

  it("cleanup itself killed mid-way and rerun still converges", async () => {
    await withReliabilitySim({ buildDuration: 300 }, async (sim) => {
      const tmp = tempResults("crash-rerun");
      try {
        const preexisting = sim.snapshotPreexisting();
        const start = sim.counts();
        const runId = "krerun";
        const made = await runScript(
          "scripts/run.ts",
          tinyRunArgs(runId, tmp.dir, ["--workspaces", "6", "--scenarios", "ssh", "--duration", "1s", "--cleanup-strategy", "on_stop"]),
          simEnv(sim),
          120_000,
        );
        // Only the workspaces matter here: on a busy machine SSH dials can outlast the 1 s scenario and fail its
        // verdict (exit 1), which on_stop leaves alone, as it does the workspaces.
        assert.ok(made.signal === null && (made.code === 0 || made.code === 1), `the run finished by itself (exit ${made.code}):\n${made.stderr.slice(-2000)}`);
        assert.equal(scaletestLeft(sim).workspaces.length, 6);
        // Kill cleanup once delete builds are under way.
        const cleanup = startScript("scenarios/cleanup.ts", ["--run-id", runId, "--results-dir", tmp.dir, "--cleanup-concurrency", "2"], simEnv(sim), 120_000);
        await until(() => buildsInFlight(sim, "delete", `scaletest-${runId}-`) > 0, { what: "a delete build to start", timeoutMs: 60_000, everyMs: 5 });
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
