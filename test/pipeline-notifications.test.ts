// notifications as a pipeline phase (--notifications): planned before anything is created, its users
// numbered after the run's own, judged like any phase (a missing receipt fails it), and its users and
// trigger template removed by the run's cleanup.
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PhaseRecord, readResultsFile } from "../src/results/schema.ts";
import { readJSON, runSmall, tempResults } from "./helpers/pipeline.ts";
import { withSim } from "./helpers/sim.ts";

test("--notifications runs the load type as a phase; cleanup removes its users and template", async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false, notifications: { fetchIntervalMs: 100 } }, async (sim) => {
      const before = sim.counts();
      const templates = sim.state.templates.size;
      const r = await runSmall(sim, dir, [
        "--run-id", "pnt", "--scenarios", "web-terminal", "--notifications",
        "--notifications-user-count", "5", "--notifications-template-admin-percentage", "40", "--notifications-timeout", "60s",
        "--notifications-dial-timeout", "10s", "--cleanup-strategy", "always",
      ]);
      assert.equal(r.exitCode, 0, r.output);
      const runDir = join(dir, "pnt");
      const folder = readdirSync(runDir).find((d) => d.endsWith("-notifications"));
      assert.ok(folder, `a notifications phase folder in ${readdirSync(runDir).join(", ")}`);
      const rec = readResultsFile(PhaseRecord, join(runDir, folder, "result.json"));
      assert.equal(rec.status, "pass");
      assert.equal(rec.runner, "notifications");
      assert.equal(rec.totals.runs, 5);
      assert.equal(rec.stages["notifications.latency{notification_type=websocket}"]?.count, 2);
      const summary = readJSON(join(runDir, "summary.json"));
      assert.ok(summary.phases.some((p: { phase: string }) => p.phase === "notifications"));
      assert.equal(sim.counts().users, before.users);
      assert.equal(sim.state.templates.size, templates);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
