// prebuilds and task-status as pipeline phases (--prebuilds, --task-status): planned in preflight (Premium and
// the external-agent template checked before anything is created), run after the scenarios, judged like any
// phase; the run's cleanup leaves no workspace, template or user and the reconciliation setting as it was.
import assert from "node:assert/strict";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { CoderClient } from "../src/coder/index.ts";
import { createTemplate, createTemplateVersion, uploadTar, waitTemplateVersion } from "../src/prebuilds/api.ts";
import { PhaseRecord, readResultsFile } from "../src/results/schema.ts";
import { tarFiles } from "../src/util/tar.ts";
import { BadInputError } from "../src/util/errors.ts";
import { runSmall, tempResults } from "./helpers/pipeline.ts";
import { withSim, type Sim } from "./helpers/sim.ts";

async function pushExternalAgentTemplate(sim: Sim): Promise<void> {
  const c = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 4 });
  try {
    const org = await c.defaultOrganization();
    const tf = 'resource "coder_external_agent" "main" {}\nresource "coder_app" "ai" {\n  slug = "ai-agent"\n}\n';
    const v = await createTemplateVersion(c, org.id, { fileId: await uploadTar(c, tarFiles({ "main.tf": tf })), message: "" });
    await waitTemplateVersion(c, v.id, { timeoutMs: 30_000, pollMs: 20 });
    await createTemplate(c, org.id, { name: "scaletest-task-status", description: "", versionId: v.id });
  } finally {
    await c.close();
  }
}

test("--prebuilds and --task-status run as phases; cleanup leaves nothing and the setting as it was", async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false, prebuildsReconcileIntervalMs: 100 }, async (sim) => {
      await pushExternalAgentTemplate(sim);
      const before = sim.counts();
      const templates = [...sim.state.templates.values()].filter((t) => !t.deleted).length;
      const r = await runSmall(sim, dir, [
        "--run-id", "ppt", "--scenarios", "web-terminal",
        "--prebuilds", "--prebuilds-templates", "2", "--prebuilds-presets", "1", "--prebuilds-preset-prebuilds", "2",
        "--task-status", "--task-status-count", "3", "--task-status-report-period", "300ms", "--task-status-report-duration", "900ms", "--task-status-baseline", "200ms",
        "--cleanup-strategy", "always",
      ]);
      assert.equal(r.exitCode, 0, r.output);
      const runDir = join(dir, "ppt");
      for (const [phase, runs] of [["prebuilds", 2], ["task-status", 3]] as const) {
        const folder = readdirSync(runDir).find((d) => d.endsWith(`-${phase}`));
        assert.ok(folder, `a ${phase} folder in ${readdirSync(runDir).join(", ")}`);
        const rec = readResultsFile(PhaseRecord, join(runDir, folder, "result.json"));
        assert.equal(rec.status, "pass", JSON.stringify(rec.errors));
        assert.equal(rec.totals.runs, runs);
      }
      assert.equal(sim.state.prebuildsPaused, false);
      assert.equal([...sim.state.templates.values()].filter((t) => !t.deleted).length, templates, "the run's templates are gone");
      assert.equal(sim.state.liveWorkspaces().filter((w) => w.prebuildPresetId !== undefined).length, 0);
      assert.equal(sim.counts().workspaces, before.workspaces);
      assert.equal(sim.counts().users, before.users);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--prebuilds on a deployment without the Premium licence: one clear error before anything is created", async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false, premium: false }, async (sim) => {
      const before = sim.counts();
      // Preflight refuses it as bad input (the run script exits 2 with this message).
      await assert.rejects(runSmall(sim, dir, ["--run-id", "pnl", "--scenarios", "web-terminal", "--prebuilds"]), (e: unknown) => {
        assert.ok(e instanceof BadInputError);
        assert.match((e as Error).message, /Premium feature/);
        return true;
      });
      assert.equal(sim.counts().workspaces, before.workspaces);
      assert.equal(sim.counts().users, before.users);
      assert.equal(sim.state.files.size, 0);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
