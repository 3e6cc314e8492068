// SIGTERM while the deployment hangs mid-phase (it accepts requests and never answers): the pipeline stops by
// itself — every hung call ends at --request-timeout or with the stop — records the interrupted phase with what
// it had, and cleanup still runs once the deployment answers again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { withSim, waitFor } from "./helpers/sim.ts";
import { ROOT, SMALL, readJSON, simEnv, tempResults } from "./helpers/pipeline.ts";

test("SIGTERM with a hung deployment during create: stops by itself, records the partial phase, cleanup runs after", { timeout: 180_000 }, async () => {
  // Slow builds so the create phase is still running when the deployment hangs.
  await withSim({ buildDuration: 1500, daemons: 2 }, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const child = execa(
      join(ROOT, "node_modules", ".bin", "tsx"),
      [join(ROOT, "scripts", "run.ts"), ...SMALL, "--run-id", "hangsig1", "--workspaces", "6", "--create-concurrency", "6", "--scenarios", "web-terminal",
        "--request-timeout", "1s", "--connect-timeout", "1s"],
      // No forced kill after the SIGTERM: the run must end by itself (its cleanup takes a few seconds).
      { cwd: ROOT, env: { ...simEnv(sim, dir), SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" }, reject: false, all: true, forceKillAfterDelay: false },
    );
    const runDir = join(dir, "hangsig1");
    await waitFor(
      "the create phase to start",
      () => existsSync(join(runDir, "state", "phase")) && /Creating 6 workspaces/.test(readFileSync(join(runDir, "state", "phase"), "utf8")),
      60_000,
    );
    await waitFor("some of the run's workspaces to exist", () => [...sim.state.workspaces.values()].some((w) => w.name.startsWith("scaletest-hangsig1-")), 60_000);
    // The deployment hangs: every API call and websocket dial is accepted and never answered.
    const hungBefore = sim.faults.injected.hung;
    sim.faults.set({ hang: [{ path: "/api/v2/**" }] });
    await waitFor("the run's calls to hang", () => sim.faults.injected.hung > hungBefore, 30_000);
    child.kill("SIGTERM");
    // New calls are answered again (so the cleanup that must still run can do its work); the calls already held
    // stay unanswered: they end at --request-timeout or with the stop.
    sim.faults.set({ hang: [] });
    const res = await child;
    assert.equal(res.exitCode, 128 + 15, `exit ${res.exitCode} signal ${res.signal}\n${res.all}`);
    assert.doesNotMatch(res.all ?? "", /exiting now without waiting/, "stopped by itself, not by a second signal");
    const summary = readJSON<{ status: string; interrupted_by: string }>(join(runDir, "summary.json"));
    assert.equal(summary.status, "interrupted");
    assert.equal(summary.interrupted_by, "SIGTERM");
    const run = readJSON<{ phases: { name: string; status: string; dir: string | null }[] }>(join(runDir, "run.json"));
    const create = run.phases.find((p) => p.name === "create-workspaces")!;
    assert.equal(create.status, "interrupted");
    assert.ok(!run.phases.some((p) => p.name === "web-terminal-traffic"), "no load phase after the interrupted one");
    // What it had: every planned workspace has its record (finished, failed on the hang or the stop, or not started).
    const result = readJSON<{ totals: { runs: number; fail: number }; harness: { runs: Record<string, { error: string; logs: string }> } }>(join(runDir, create.dir!, "result.json"));
    assert.equal(result.totals.runs, 6);
    const units = Object.values(result.harness.runs);
    assert.equal(units.length, 6);
    assert.ok(units.some((u) => /interrupted \(SIGTERM\)|--request-timeout|no complete answer/.test(u.error)), units.map((u) => u.error).join("\n"));
    assert.equal(run.phases.find((p) => p.name === "cleanup")?.status, "pass");
    assert.deepEqual(sim.counts(), before, "cleanup removed the run's resources");
  });
});

