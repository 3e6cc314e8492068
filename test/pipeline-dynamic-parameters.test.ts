// dynamic-parameters as a pipeline phase (--dynamic-parameters): validated and planned in the preflight,
// run after the load scenarios, judged by its preset threshold, and shown in the report's section.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { PhaseRecord, readResultsFile } from "../src/results/schema.ts";
import { BadInputError } from "../src/util/errors.ts";
import { readJSON, runSmall, tempResults } from "./helpers/pipeline.ts";
import { withSim } from "./helpers/sim.ts";

test("--dynamic-parameters runs the load type as a phase; bad input stops the run before anything is created", async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false }, async (sim) => {
      sim.dynamicParameters.importMs = 20;
      const before = sim.counts();
      // The preflight refuses it (scripts/run.ts turns that into exit 2).
      await assert.rejects(
        runSmall(sim, dir, ["--run-id", "pdpbad", "--scenarios", "web-terminal", "--dynamic-parameters", "--dynamic-parameters-template", "team-template"]),
        (e: unknown) => e instanceof BadInputError && /--template "team-template" must start with scaletest-/.test((e as Error).message),
      );
      assert.deepEqual(sim.counts(), before);
      assert.equal(sim.dynamicParameters.counts.versions, 0);

      const r = await runSmall(sim, dir, [
        "--run-id", "pdp", "--scenarios", "web-terminal", "--dynamic-parameters", "--dynamic-parameters-concurrent-evaluations", "10",
        "--cleanup-strategy", "always",
      ]);
      assert.equal(r.exitCode, 0, r.output);
      const runDir = join(dir, "pdp");
      const folder = readdirSync(runDir).find((d) => d.endsWith("-dynamic-parameters"));
      assert.ok(folder, `a dynamic-parameters phase folder in ${readdirSync(runDir).join(", ")}`);
      const rec = readResultsFile(PhaseRecord, join(runDir, folder, "result.json"));
      assert.equal(rec.status, "pass");
      assert.equal(rec.runner, "dynamic-parameters");
      assert.equal(rec.totals.runs, 10);
      assert.deepEqual(rec.thresholds.map((t) => [t.expression, t.ok]), [["dynamic-parameters.error_rate<=0%", true]]);
      assert.equal(rec.stages["dynamic-parameters.change{concurrent_evaluations=5}"]?.count, 5);
      const summary = readJSON(join(runDir, "summary.json"));
      assert.ok(summary.phases.some((p: { phase: string }) => p.phase === "dynamic-parameters"));
      assert.match(readFileSync(join(runDir, "report.md"), "utf8"), /## Dynamic parameters[\s\S]*\| 10 \|/);
      assert.equal(sim.counts().workspaces, before.workspaces);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
