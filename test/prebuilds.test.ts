// Acceptance tests of the prebuilds load type against the simulator: 3 templates x 2 presets x 3 instances
// fill and drain (job counts over time), an injected prebuild build failure counted, the reconciliation
// setting restored by the run and — after the run is killed — by the cleanup script, a deployment without
// the Premium licence refused before anything is created, and cleanup retrying only failed deletions.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { CoderClient } from "../src/coder/index.ts";
import { getRegistry } from "../src/metrics/registry.ts";
import { cleanupTemplates, executePrebuilds, planPrebuilds, PrebuildsInputError, type PrebuildsOptions } from "../src/prebuilds/index.ts";
import { setReconciliationPaused } from "../src/prebuilds/api.ts";
import { readRecord } from "../src/prebuilds/setting-record.ts";
import { restorePrebuildsSetting } from "../src/prebuilds/restore.ts";
import { FAST, waitFor, withSim, type Sim } from "./helpers/sim.ts";
import { chartData } from "../src/report/chart-data.ts";
import { loadReportModel } from "../src/report/model.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SIM = { ...FAST, prebuildsReconcileIntervalMs: 50 };

function opts(runId: string, dir: string, o: Partial<PrebuildsOptions> = {}): PrebuildsOptions {
  return {
    runId, numTemplates: 3, numPresets: 2, numPresetPrebuilds: 3, templateVersionJobTimeoutMs: 30_000, workspaceTimeoutMs: 60_000,
    skipCleanup: false, resultsDir: dir, versionPollMs: 50, workspacesPollMs: 50, ...o,
  };
}

function client(sim: Sim): CoderClient {
  return new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 16 });
}

const liveTemplates = (sim: Sim, runId: string) => [...sim.state.templates.values()].filter((t) => !t.deleted && t.name.startsWith(`scaletest-${runId}-`));
const livePrebuilds = (sim: Sim) => sim.state.liveWorkspaces().filter((w) => w.prebuildPresetId !== undefined);

function gaugeValue(name: string, template: string): number | undefined {
  const m = getRegistry().getSingleMetric(name) as unknown as { hashMap?: Record<string, { labels: Record<string, string>; value?: number }> };
  return Object.values(m?.hashMap ?? {}).find((v) => v.labels["template_name"] === template)?.value;
}

describe("prebuilds against the simulator", () => {
  test("3 templates x 2 presets x 3 instances fill and drain; setting restored; nothing left", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-"));
    try {
      await withSim(SIM, async (sim) => {
        const c = client(sim);
        try {
          const o = opts("pbfill", dir);
          const plan = await planPrebuilds(c, o);
          assert.equal(plan.originalPaused, false);
          const r = await executePrebuilds(c, plan, o);
          assert.equal(r.exit_code, 0, JSON.stringify(r.templates.map((u) => u.error)));
          assert.equal(r.templates.length, 3);
          for (const u of r.templates) {
            assert.ok(u.ok, `${u.name}: ${u.error}`);
            assert.ok(u.fill_ms !== null && u.fill_ms > 0);
            assert.ok(u.drain_ms !== null && u.drain_ms > 0);
            assert.equal(u.last_fill?.completed, 6);
            assert.deepEqual(u.last_drain, { created: 6, running: 0, failed: 0, completed: 6 });
            // Coder's gauges, per template, hold the last counts.
            assert.equal(gaugeValue("coderd_scaletest_prebuild_jobs_completed", u.name), 6);
            assert.equal(gaugeValue("coderd_scaletest_prebuild_deletion_jobs_completed", u.name), 6);
          }
          // Both phases over time: fill samples rise to 6 succeeded, drain samples fall to 0 left.
          const fill = r.timeline.filter((s) => s.stage === "fill");
          const drain = r.timeline.filter((s) => s.stage === "drain");
          assert.ok(fill.length >= 3 && drain.length >= 3);
          assert.ok(fill.every((s, i) => i === 0 || s.t_ms >= fill[i - 1]!.t_ms));
          assert.ok(Math.min(...drain.map((s) => s.t_ms)) > Math.max(...fill.map((s) => s.t_ms)) - 1);
          // Prebuilt workspaces were owned by the prebuilds system user, and the reconciler did the work.
          assert.ok(sim.prebuilds.counts.created >= 18);
          assert.ok(sim.prebuilds.counts.deleteBuilds >= 18);
          assert.equal(sim.state.prebuildsPaused, false, "setting restored to running");
          assert.equal(readRecord(dir, "pbfill")?.restored_at !== null, true);
          assert.equal(liveTemplates(sim, "pbfill").length, 0, "templates deleted");
          assert.equal(livePrebuilds(sim).length, 0);
          assert.equal(r.cleanup?.templates_deleted, 3);
        } finally {
          await c.close();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an injected prebuild build failure is counted; the reconciler replaces it and the run still fills", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-"));
    try {
      await withSim(SIM, async (sim) => {
        const c = client(sim);
        try {
          // Template imports draw no build fault: the first workspace build (a prebuild) fails.
          sim.faults.set({ build: { failCount: 1 } });
          const o = opts("pbfail", dir, { numTemplates: 1, numPresets: 1, numPresetPrebuilds: 2 });
          const r = await executePrebuilds(c, await planPrebuilds(c, o), o);
          assert.equal(sim.faults.injected.buildFailed, 1);
          const u = r.templates[0]!;
          assert.equal(u.failed_builds, 1, "the failed prebuild build is counted");
          assert.ok(u.ok, u.error ?? "");
          assert.ok((u.last_fill?.created ?? 0) >= 3, "the failed one plus two that succeeded");
          assert.equal(livePrebuilds(sim).length, 0);
        } finally {
          await c.close();
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("cleanup retries only failed deletions, three attempts in all, as Coder's runner", async () => {
    await withSim(SIM, async (sim) => {
      const c = client(sim);
      const dir = mkdtempSync(join(tmpdir(), "pb-"));
      try {
        // Fill one template, skip the run's own cleanup, then clean up with two delete builds failing.
        const o = opts("pbretry", dir, { numTemplates: 1, numPresets: 1, numPresetPrebuilds: 3, skipCleanup: true });
        const plan = await planPrebuilds(c, o);
        // Stop before the drain: the run is aborted once the fill is done.
        const ac = new AbortController();
        const watcher = waitFor("3 prebuilds succeeded", () => livePrebuilds(sim).filter((w) => sim.state.job(sim.state.latestBuild(w).jobId).error === undefined && sim.state.job(sim.state.latestBuild(w).jobId).completedAt !== undefined).length >= 3 || undefined, 30_000).then(() => ac.abort());
        const r = await executePrebuilds(c, plan, o, { signal: ac.signal });
        await watcher;
        assert.equal(r.exit_code, 1, "a stopped run never passes");
        const tpl = liveTemplates(sim, "pbretry")[0]!;
        assert.ok(tpl, "skip-cleanup kept the template");
        const before = sim.state.builds.size;
        sim.faults.set({ build: { failCount: 2 } });
        const out = await cleanupTemplates(c, [{ name: tpl.name, id: tpl.id }], () => {});
        assert.equal(out.failed.length, 0, out.failed.join(", "));
        assert.equal(out.workspaces_deleted, 3);
        assert.equal(out.deletion_retries, 2, "only the two failed deletions were retried");
        assert.equal(sim.state.builds.size - before, 5, "3 delete builds + 2 retries, nothing else");
        assert.equal(out.templates_deleted, 1);
        await setReconciliationPaused(c, false);
      } finally {
        await c.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  test("a deployment without the Premium licence gets one clear error before anything is created or changed", async () => {
    await withSim({ ...SIM, premium: false }, async (sim) => {
      const c = client(sim);
      const dir = mkdtempSync(join(tmpdir(), "pb-"));
      try {
        const files = sim.state.files.size;
        const templates = sim.state.templates.size;
        await assert.rejects(planPrebuilds(c, opts("pbnolic", dir)), (e: unknown) => {
          assert.ok(e instanceof PrebuildsInputError);
          assert.match((e as Error).message, /Premium/);
          assert.match((e as Error).message, /403/);
          return true;
        });
        assert.equal(sim.state.files.size, files);
        assert.equal(sim.state.templates.size, templates);
        assert.equal(existsSync(join(dir, "pbnolic")), false, "no record written");
      } finally {
        await c.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

// The two cases side by side: each has a simulator and a results folder of its own.
describe("scenarios/prebuilds.ts", { concurrency: 2 }, () => {
  const run = (sim: Sim, dir: string, args: string[], opts: { timeout?: number } = {}) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
    return execa(process.execPath, ["--import", "tsx", ...args], {
      cwd: ROOT,
      env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" },
      extendEnv: false,
      reject: false,
      timeout: opts.timeout ?? 120_000,
    });
  };

  test("killed mid-run: the cleanup script deletes the run's templates and prebuilds and restores the setting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-cli-"));
    try {
      // A long reconcile interval never lets the fill finish: the run is killed while paused/filling.
      await withSim({ ...FAST, prebuildsReconcileIntervalMs: 100 }, async (sim) => {
        const child = execa(process.execPath, ["--import", "tsx", "scenarios/prebuilds.ts", "--run-id", "pbkill", "--num-templates", "2", "--num-presets", "1", "--num-preset-prebuilds", "2", "--prebuild-workspace-timeout", "10m"], {
          cwd: ROOT,
          env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SCALETEST_") && !k.startsWith("CODER_"))), CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" },
          extendEnv: false,
          reject: false,
        });
        // Kill it once its templates exist and prebuilds are being made.
        await waitFor("prebuilds being made", () => (livePrebuilds(sim).length >= 1 ? true : undefined), 60_000);
        child.kill("SIGKILL");
        await child;
        assert.equal(readRecord(dir, "pbkill")?.original_reconciliation_paused, false);
        assert.equal(readRecord(dir, "pbkill")?.restored_at, null);
        assert.equal(liveTemplates(sim, "pbkill").length, 2);
        // Someone pauses reconciliation meanwhile: cleanup must restore the RECORDED value (running).
        sim.state.prebuildsPaused = true;
        const cleanup = await run(sim, dir, ["scenarios/cleanup.ts", "--run-id", "pbkill"]);
        assert.equal(cleanup.exitCode, 0, cleanup.stderr + cleanup.stdout);
        assert.equal(liveTemplates(sim, "pbkill").length, 0);
        assert.equal(livePrebuilds(sim).length, 0);
        assert.equal(sim.state.prebuildsPaused, false, "setting back as it was before the run");
        assert.notEqual(readRecord(dir, "pbkill")?.restored_at, null);
        assert.equal(sim.state.liveUsers().filter((u) => u.username.startsWith("scaletest-")).length, 0);
        // Twice is harmless and restores nothing more.
        const again = await restorePrebuildsSetting(client(sim), dir, { runId: "pbkill" });
        assert.deepEqual(again.restored, []);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Coder's flags run the load and write the results; bad flags exit 2 before anything is created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-cli-"));
    try {
      await withSim(SIM, async (sim) => {
        // The refused run and --help (neither touches the deployment) side by side.
        const [bad, help] = await Promise.all([
          run(sim, dir, ["scenarios/prebuilds.ts", "--run-id", "pbcli", "--num-templates", "0"]),
          run(sim, dir, ["scenarios/prebuilds.ts", "--help"]),
        ]);
        assert.equal(bad.exitCode, 2, bad.stderr);
        assert.equal(sim.state.files.size, 0);
        const ok = await run(sim, dir, ["scenarios/prebuilds.ts", "--run-id", "pbcli", "--num-templates", "1", "--num-presets", "2", "--num-preset-prebuilds", "1", "--output", `json:${join(dir, "out.json")}`]);
        assert.equal(ok.exitCode, 0, ok.stderr + ok.stdout);
        const rec = JSON.parse(readFileSync(join(dir, "out.json"), "utf8"));
        assert.equal(rec.status, "pass");
        assert.ok(rec.extra.timeline.length > 0);
        assert.equal(rec.metrics["prebuilds.fill"].series[0].exact.count, 1);
        assert.equal(rec.metrics["prebuilds.error_rate"].series[0].value, 0);
        // The report draws both stages over time on the run's axis.
        const chart = chartData(loadReportModel(join(dir, "pbcli"))).timeCharts.find((c) => c.id.startsWith("chart-prebuilds-"));
        assert.ok(chart, "a prebuilds chart");
        const succeeded = chart.series.find((x) => x.label === "succeeded (fill)")!;
        const left = chart.series.find((x) => x.label === "left (drain)")!;
        assert.equal(succeeded.points.at(-1)!.v, 2, "filled to 2 (2 presets x 1)");
        assert.equal(left.points.at(-1)!.v, 0, "drained to 0");
        assert.ok(left.points[0]!.t >= succeeded.points.at(-1)!.t, "the drain follows the fill");
        for (const f of ["--num-templates", "--num-presets", "--num-preset-prebuilds", "--template-version-job-timeout", "--prebuild-workspace-timeout", "--skip-cleanup"]) {
          assert.ok(help.stdout.includes(f), `--help lists ${f}`);
        }
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
