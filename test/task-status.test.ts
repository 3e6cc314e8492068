// Acceptance tests of the task-status load type against the simulator: 10 workspaces of an external-agent
// template, updates every 1 s after a 2 s baseline, every update seen on the workspace watch with its
// latency; updates the simulator drops counted as missing; bad input and a template without an external
// agent refused before anything is created; the script's --help names the transport.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { CoderClient } from "../src/coder/index.ts";
import { getRegistry } from "../src/metrics/registry.ts";
import { createTemplate, createTemplateVersion, uploadTar, waitTemplateVersion } from "../src/prebuilds/api.ts";
import { executeTaskStatus, MISSING_METRIC, planTaskStatus, TaskStatusInputError, type TaskStatusOptions } from "../src/task-status/index.ts";
import { tarFiles } from "../src/util/tar.ts";
import { FAST, withSim, type Sim } from "./helpers/sim.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

const EXTERNAL_TF = `
resource "coder_external_agent" "main" {
  agent_id = coder_agent.main.id
}
resource "coder_agent" "main" {
  arch = "amd64"
  os   = "linux"
}
resource "coder_app" "ai" {
  agent_id = coder_agent.main.id
  slug     = "ai-agent"
}
`;

/** Pushes a template through the API, as an admin would before running task-status. */
async function pushTemplate(sim: Sim, name: string, tf: string): Promise<void> {
  const c = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 4 });
  try {
    const org = await c.defaultOrganization();
    const fileId = await uploadTar(c, tarFiles({ "main.tf": tf }));
    const v = await createTemplateVersion(c, org.id, { fileId, message: "task-status test" });
    await waitTemplateVersion(c, v.id, { timeoutMs: 30_000, pollMs: 20 });
    await createTemplate(c, org.id, { name, description: "", versionId: v.id });
  } finally {
    await c.close();
  }
}

function opts(runId: string, o: Partial<TaskStatusOptions> = {}): TaskStatusOptions {
  return {
    runId, count: 10, template: "scaletest-task-status", appSlug: "ai-agent", reportPeriodMs: 1000, reportDurationMs: 4000, baselineMs: 2000,
    workspaceTimeoutMs: 60_000, noCleanup: false, graceMs: 3000, ...o,
  };
}

async function run(sim: Sim, o: TaskStatusOptions) {
  const c = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 16 });
  try {
    return await executeTaskStatus(c, await planTaskStatus(c, o), o, { token: sim.ownerToken });
  } finally {
    await c.close();
  }
}

function counterValue(name: string): number {
  const m = getRegistry().getSingleMetric(name) as unknown as { hashMap?: Record<string, { value?: number }> };
  return Object.values(m?.hashMap ?? {}).reduce((n, v) => n + (v.value ?? 0), 0);
}

// Side by side: each case has a simulator of its own, and most of a case is waiting on its report periods.
describe("task-status against the simulator", { concurrency: 3 }, () => {
  test("10 workspaces, an update every 1 s after a 2 s baseline: every update observed with its latency", async () => {
    await withSim(FAST, async (sim) => {
      await pushTemplate(sim, "scaletest-task-status", EXTERNAL_TF);
      const r = await run(sim, opts("tsall"));
      assert.equal(r.exit_code, 0, JSON.stringify(r.units.map((u) => u.error)));
      assert.equal(r.units.length, 10);
      assert.equal(r.updates_per_workspace, 4);
      assert.equal(r.sent, 40);
      assert.equal(r.observed, 40, "every update shown by the watch");
      assert.equal(r.missing, 0);
      assert.equal(r.latency.summary.count, 40);
      assert.ok((r.latency.summary.max ?? -1) >= 0);
      for (const u of r.units) assert.ok(u.latencies_ms.every((x) => x !== null && x >= 0));
      // The updates went through the documented endpoint with the agents' tokens.
      assert.equal(sim.taskStatus.accepted, 40);
      // The reporting began only after the baseline: elapsed covers baseline + 4 periods.
      assert.ok(r.elapsed_ms - (r.barrier_ms ?? 0) >= 2000 + 4 * 1000);
      // Cleanup deleted the run's workspaces.
      assert.equal(r.cleanup?.deleted, 10);
      assert.equal(sim.state.liveWorkspaces().filter((w) => w.name.startsWith("scaletest-tsall-")).length, 0);
    });
  });

  test("updates the simulator drops are counted as missing and fail the run", async () => {
    await withSim(FAST, async (sim) => {
      await pushTemplate(sim, "scaletest-task-status", EXTERNAL_TF);
      sim.taskStatus.setFaults({ dropCount: 3 });
      const before = counterValue(MISSING_METRIC);
      const r = await run(sim, opts("tsdrop", { count: 3, reportDurationMs: 3000, baselineMs: 500, graceMs: 1500 }));
      assert.equal(sim.taskStatus.dropped, 3);
      assert.equal(r.sent, 9);
      assert.equal(r.missing, 3, "each dropped update is missing");
      assert.equal(r.observed, 6);
      assert.equal(r.exit_code, 1);
      assert.equal(counterValue(MISSING_METRIC) - before, 3);
    });
  });

  test("bad input and a template without an external agent are refused before anything is created", async () => {
    await withSim(FAST, async (sim) => {
      await pushTemplate(sim, "plain-null", `resource "null_resource" "x" {}\n`);
      const c = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 4 });
      try {
        const workspaces = sim.state.workspaces.size;
        await assert.rejects(planTaskStatus(c, opts("tsbad", { template: "plain-null" })), (e: unknown) => e instanceof TaskStatusInputError && /coder_external_agent/.test((e as Error).message));
        await assert.rejects(planTaskStatus(c, opts("tsbad", { reportDurationMs: 10 })), TaskStatusInputError);
        await assert.rejects(planTaskStatus(c, opts("tsbad", { template: "no-such-template" })), TaskStatusInputError);
        assert.equal(sim.state.workspaces.size, workspaces);
      } finally {
        await c.close();
      }
    });
  });
});

describe("scenarios/task-status.ts", () => {
  test("--help names the transport and how it differs from Coder's newest; a short run writes the phase record", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ts-cli-"));
    try {
      await withSim(FAST, async (sim) => {
        await pushTemplate(sim, "scaletest-task-status", EXTERNAL_TF);
        const env: NodeJS.ProcessEnv = {};
        for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
        const go = (args: string[]) =>
          execa(process.execPath, ["--import", "tsx", "scenarios/task-status.ts", ...args], {
            cwd: ROOT,
            env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" },
            extendEnv: false,
            reject: false,
            timeout: 120_000,
          });
        // --help (which touches nothing) alongside the short run.
        const [help, ok] = await Promise.all([
          go(["--help"]),
          go(["--run-id", "tscli", "--count", "2", "--report-status-period", "200ms", "--report-status-duration", "600ms", "--baseline-duration", "100ms", "--output", `json:${join(dir, "o.json")}`]),
        ]);
        assert.match(help.stdout, /workspaceagents\/me\/app-status/);
        assert.match(help.stdout, /dRPC|workspaceagents\/me\/rpc/);
        for (const f of ["--count", "--template", "--app-slug", "--report-status-period", "--report-status-duration", "--baseline-duration"]) assert.ok(help.stdout.includes(f), f);
        assert.equal(ok.exitCode, 0, ok.stderr + ok.stdout);
        const rec = JSON.parse(readFileSync(join(dir, "o.json"), "utf8"));
        assert.equal(rec.status, "pass");
        assert.equal(rec.extra.sent, 6);
        assert.equal(rec.metrics["task-status.missing"].series[0].value, 0);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
