// workspace-updates as a pipeline phase (--workspace-updates): planned before anything is created, its users
// and workspaces numbered after the run's own, judged like any phase, and removed by the run's cleanup.
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PhaseRecord, readResultsFile } from "../src/results/schema.ts";
import { readJSON, runSmall, tempResults } from "./helpers/pipeline.ts";
import { withSim } from "./helpers/sim.ts";

test("--workspace-updates runs the load type as a phase after the scenarios; cleanup removes its resources too", async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false }, async (sim) => {
      const before = sim.counts();
      const r = await runSmall(sim, dir, [
        "--run-id", "pwu", "--scenarios", "web-terminal", "--workspace-updates",
        "--workspace-updates-workspaces", "4", "--workspace-updates-power-user-workspaces", "2", "--workspace-updates-power-user-percentage", "50",
        "--cleanup-strategy", "always",
      ]);
      assert.equal(r.exitCode, 0, r.output);
      const runDir = join(dir, "pwu");
      const folder = readdirSync(runDir).find((d) => d.endsWith("-workspace-updates"));
      assert.ok(folder, `a workspace-updates phase folder in ${readdirSync(runDir).join(", ")}`);
      const rec = readResultsFile(PhaseRecord, join(runDir, folder, "result.json"));
      assert.equal(rec.status, "pass");
      assert.equal(rec.runner, "workspace-updates");
      // 4 x 50% = 2: one power user with 2 workspaces, two regular users with one each.
      assert.equal(rec.totals.runs, 3);
      assert.equal(rec.stages["workspace-updates.latency{num_owned_workspaces=2}"]?.count, 2);
      // Planned before the run's 4 workspaces existed and numbered after them (scaletest-pwu-0004 on): no clash.
      assert.deepEqual(rec.errors, []);
      const summary = readJSON(join(runDir, "summary.json"));
      assert.ok(summary.phases.some((p: { phase: string }) => p.phase === "workspace-updates"));
      // Everything the run created, its own workspaces and workspace-updates' alike, is gone.
      assert.equal(sim.counts().workspaces, before.workspaces);
      assert.equal(sim.counts().users, before.users);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
