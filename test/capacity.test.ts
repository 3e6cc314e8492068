// Capacity search (--capacity / scripts/capacity.ts) against the simulator's capacity model: the search finds
// the configured knee within one step (schedule mode) and within the resolution (bisect mode), for
// web-terminal connections and for concurrent builds; each step is its own phase, judged on its own window;
// capacity.json, the console line and the failing step's record say which threshold broke.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { execa } from "execa";
import { join } from "node:path";
import { test } from "node:test";
import { CapacityResult, PhaseRecord, readResultsFile } from "../src/results/schema.ts";
import { pipelineConfig, ROOT, runSmall, simEnv, tempResults } from "./helpers/pipeline.ts";
import { waitFor, withSim, type SimOptions } from "./helpers/sim.ts";
import { runPipeline } from "../src/pipeline/pipeline.ts";
import { getRegistry } from "../src/metrics/index.ts";

/** Connections: past 8 live streams every echo waits 250 ms more per stream, so tick p50 < 100 ms breaks at 9. */
const CONN_KNEE = 8;
const CONN_SIM: SimOptions = { preexisting: false, capacity: { connections: { knee: CONN_KNEE, perUnitMs: 250 } } };
const CONN_ARGS = ["--capacity", "--capacity-load", "web-terminal", "--capacity-hold", "2s", "--tick-interval", "200ms", "--threshold", "web-terminal.tick.p50<100ms"];

/**
 * Builds: 40 daemons (no queueing), every build 1.5 s, and each start build in flight past 6 adds 2 s to the
 * build that starts then, so create.build.max < 3s breaks once a step has 7 builds in flight together.
 */
const BUILD_KNEE = 6;
const BUILD_SIM: SimOptions = { preexisting: false, daemons: 40, buildDuration: 1500, capacity: { builds: { knee: BUILD_KNEE, perUnitMs: 2000 } } };
const BUILD_ARGS = ["--capacity", "--capacity-load", "builds", "--workspaces", "1", "--threshold", "create.build.max<3s"];

function capacityOf(runDir: string): CapacityResult {
  return readResultsFile(CapacityResult, join(runDir, "capacity.json"));
}

function stepRecords(runDir: string): PhaseRecord[] {
  return readdirSync(runDir)
    .filter((d) => /^\d+-capacity-/.test(d))
    .sort()
    .map((d) => readResultsFile(PhaseRecord, join(runDir, d, "result.json")));
}

/** Every step at or below the knee passed, every one above failed: the simulator's limit is what was found. */
function assertStepsAgainstKnee(cap: CapacityResult, knee: number): void {
  for (const s of cap.steps) assert.equal(s.ok, s.load <= knee, `step at ${s.load} ${s.ok ? "passed" : "failed"} (configured knee ${knee}): ${JSON.stringify(s.broke)}`);
}

test("schedule mode finds the connection knee within one step; the failing step's record says which threshold broke", async () => {
  const dir = tempResults();
  try {
    await withSim(CONN_SIM, async (sim) => {
      const r = await runSmall(sim, dir, ["--run-id", "capws", ...CONN_ARGS, "--workspaces", "16", "--create-concurrency", "16", "--capacity-steps", "4,8,12,16", "--capacity-max", "16", "--cleanup-strategy", "always",
        // Server side too: coderd's own gauge of open websockets, read over each step's window alone.
        "--coderd-metrics-url", sim.metricsUrl, "--coderd-metrics-interval", "500ms", "--threshold", "coderd.concurrent_websockets<=1000"]);
      assert.equal(r.exitCode, 0, r.output);
      const cap = capacityOf(r.runDir!);
      assertStepsAgainstKnee(cap, CONN_KNEE);
      // Schedule mode stops at the first failing step: 4, 8 pass, 12 fails, 16 never runs.
      assert.deepEqual(cap.steps.map((s) => s.load), [4, 8, 12]);
      assert.equal(cap.knee, 8);
      assert.ok(CONN_KNEE - cap.knee! < 4, "within one step of the configured knee");
      assert.equal(cap.first_bad, 12);
      assert.equal(cap.stopped_by, "failed-step");
      assert.equal(cap.broke?.expression, "web-terminal.tick.p50<100ms");
      assert.ok(cap.broke!.observed! >= 100, `observed ${cap.broke!.observed}`);
      assert.match(cap.summary, /^holds 8 web-terminal connections; at 12 web-terminal tick p50 was \S+ > 100ms$/);
      assert.ok(r.output.includes(`Capacity: ${cap.summary}`), r.output);
      // The failing step is a phase of its own: its record carries the failing row and the search's reading of it.
      const recs = stepRecords(r.runDir!);
      assert.deepEqual(recs.map((x) => x.phase), ["capacity-web-terminal-4", "capacity-web-terminal-8", "capacity-web-terminal-12"]);
      const bad = recs[2]!;
      assert.equal(bad.status, "fail");
      assert.equal(bad.thresholds.find((t) => !t.ok)?.expression, "web-terminal.tick.p50<100ms");
      assert.equal((bad.extra.capacity as { broke: { expression: string } }).broke.expression, "web-terminal.tick.p50<100ms");
      // Each step judged its own window: the passing step at 8 saw ticks from its own 8 connections only.
      const good = recs[1]!;
      assert.equal(good.status, "pass");
      assert.equal(good.totals.runs, 8);
      assert.ok(good.started_at >= recs[0]!.ended_at, "steps do not overlap");
      const websockets = recs.map((x) => x.thresholds.find((t) => t.expression === "coderd.concurrent_websockets<=1000")!.observed!);
      assert.ok(websockets[0]! >= 4 && websockets[0]! < 8, `step 4 saw ${websockets[0]} websockets on coderd`);
      assert.ok(websockets[1]! >= 8 && websockets[1]! < 12, `step 8 saw ${websockets[1]}`);
      assert.ok(websockets[2]! >= 12, `step 12 saw ${websockets[2]}`);
      // The metrics endpoint's view of the search: the knee so far, the steps by result, no step running.
      const gauge = async (name: string, labels: Record<string, string>) =>
        (await getRegistry().getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
      assert.equal(await gauge("scaletest_capacity_knee", { load: "web-terminal" }), 8);
      assert.equal(await gauge("scaletest_capacity_step_load", { load: "web-terminal" }), 0);
      assert.equal(await gauge("scaletest_capacity_steps_total", { load: "web-terminal", result: "held" }), 2);
      assert.equal(await gauge("scaletest_capacity_steps_total", { load: "web-terminal", result: "failed" }), 1);
      // Cleanup per strategy (always): nothing of the run is left.
      assert.equal(sim.counts().workspaces, 0);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bisect mode narrows the connection knee to the requested resolution", async () => {
  const dir = tempResults();
  try {
    await withSim(CONN_SIM, async (sim) => {
      const r = await runSmall(sim, dir, ["--run-id", "capwb", ...CONN_ARGS, "--workspaces", "16", "--create-concurrency", "16", "--capacity-mode", "bisect", "--capacity-start", "4", "--capacity-max", "16", "--capacity-resolution", "2", "--cleanup-strategy", "on_stop"]);
      assert.equal(r.exitCode, 0, r.output);
      const cap = capacityOf(r.runDir!);
      assertStepsAgainstKnee(cap, CONN_KNEE);
      // 4, 8 pass, 16 fails; then 12 fails, 10 fails: 8..10 is within 2.
      assert.deepEqual(cap.steps.map((s) => s.load), [4, 8, 16, 12, 10]);
      assert.equal(cap.knee, 8);
      assert.equal(cap.first_bad, 10);
      assert.ok(cap.first_bad! - cap.knee! <= 2);
      assert.ok(cap.knee! <= CONN_KNEE && CONN_KNEE < cap.first_bad!, "the configured knee lies between the last good and the first bad step");
      assert.equal(cap.stopped_by, "resolution");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("schedule and bisect modes find the concurrent-build knee", async () => {
  const dir = tempResults();
  try {
    await withSim(BUILD_SIM, async (sim) => {
      const s = await runSmall(sim, dir, ["--run-id", "capbs", ...BUILD_ARGS, "--capacity-steps", "2,4,6,8,10", "--capacity-max", "10", "--cleanup-strategy", "on_stop"]);
      assert.equal(s.exitCode, 0, s.output);
      const sc = capacityOf(s.runDir!);
      assertStepsAgainstKnee(sc, BUILD_KNEE);
      assert.deepEqual(sc.steps.map((x) => x.load), [2, 4, 6, 8]);
      assert.equal(sc.knee, 6);
      assert.equal(sc.broke?.expression, "create.build.max<3s");
      assert.match(sc.summary, /^holds 6 concurrent builds; at 8 create build max was \S+ > 3s$/);
      // Create steps add workspaces after the run's own, one name width: 1 + 2 + 4 + 6 + 8.
      assert.equal(sim.counts().workspaces, 21);

      const b = await runSmall(sim, dir, ["--run-id", "capbb", ...BUILD_ARGS, "--capacity-mode", "bisect", "--capacity-start", "2", "--capacity-max", "16", "--capacity-resolution", "1", "--cleanup-strategy", "on_stop"]);
      assert.equal(b.exitCode, 0, b.output);
      const bc = capacityOf(b.runDir!);
      assertStepsAgainstKnee(bc, BUILD_KNEE);
      // 2, 4, 8 (fails), then 6 passes, 7 fails: resolution 1.
      assert.deepEqual(bc.steps.map((x) => x.load), [2, 4, 8, 6, 7]);
      assert.equal(bc.knee, BUILD_KNEE);
      assert.equal(bc.first_bad, BUILD_KNEE + 1);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("--dry-run prints the step plan, the expected duration and the most it would create; bad searches are refused before anything", async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false }, async (sim) => {
      const r = await runSmall(sim, dir, ["--run-id", "capdr", "--dry-run", ...BUILD_ARGS, "--capacity-mode", "bisect", "--capacity-start", "10", "--capacity-max", "80", "--capacity-resolution", "5"]);
      assert.equal(r.exitCode, 0, r.output);
      assert.match(r.output, /Capacity search: concurrent builds, bisect: 10, 20, 40, 80 \(doubling up to 80\), then bisecting between the last good and the first bad step to within 5/);
      // Longest path: 10, 20, 40, 80 and 3 bisection steps of up to 80 builds each: 150 + 240.
      assert.match(r.output, /At most 7 step\(s\), ~\S+; creates at most 390 workspace\(s\) beyond the run's 1/);
      assert.match(r.output, /Expected duration: ~/);
      assert.equal(sim.counts().workspaces, 0);
      // Connection steps need a workspace each: refused before anything is created.
      const cfg = pipelineConfig(sim, dir, ["--run-id", "capbad", "--metrics-address", "", ...CONN_ARGS, "--workspaces", "4", "--capacity-steps", "4,8"]);
      await assert.rejects(runPipeline(cfg, { signal: new AbortController().signal, out: () => {} }), /largest step \(8\) needs --workspaces 8 or more/);
      // Workspace steps only grow (no bisecting), and the greedy agent has no scenario to flood: each refused (and steps at or below --workspaces), all in one message.
      const cfg2 = pipelineConfig(sim, dir, ["--run-id", "capbad2", "--metrics-address", "", "--capacity", "--capacity-load", "workspaces", "--capacity-mode", "bisect", "--greedy-agent"]);
      await assert.rejects(runPipeline(cfg2, { signal: new AbortController().signal, out: () => {} }), (e: Error) => /3 problems/.test(e.message) && /every step must be above it/.test(e.message) && /--greedy-agent/.test(e.message) && /bisect cannot step workspaces down/.test(e.message));
      assert.equal(sim.counts().workspaces, 0);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const SCRIPT = join(ROOT, "scripts", "capacity.ts");

test("scripts/capacity.ts: --dry-run plans without creating; bad input exits 2; SIGTERM mid-step ends the search, cleans up and records it", { timeout: 180_000 }, async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false }, async (sim) => {
      const env = { ...simEnv(sim, dir), SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" };
      const common = ["--baseline-wait", "0s", "--capacity-load", "web-terminal", "--workspaces", "4", "--create-concurrency", "4"];
      // The dry run and the refused run side by side: neither creates anything.
      const [dry, bad] = await Promise.all([
        execa(TSX, [SCRIPT, ...common, "--run-id", "capsd", "--capacity-steps", "2,4", "--capacity-hold", "30s", "--dry-run"], { cwd: ROOT, env, reject: false, all: true }),
        execa(TSX, [SCRIPT, ...common, "--run-id", "capsb", "--capacity-steps", "4,2"], { cwd: ROOT, env, reject: false, all: true }),
      ]);
      assert.equal(dry.exitCode, 0, dry.all);
      assert.match(dry.all ?? "", /Capacity search: web-terminal connections, schedule 2, 4; stops at the first failing step/);
      assert.match(dry.all ?? "", /At most 2 step\(s\), ~\S+; creates at most 0 workspace\(s\) beyond the run's 4/);
      assert.equal(bad.exitCode, 2, bad.all);
      assert.match(bad.all ?? "", /--capacity-steps .*must increase step by step; 2 follows 4/);
      assert.equal(sim.counts().workspaces, 0, "nothing created by the dry run or the refused run");

      const child = execa(TSX, [SCRIPT, ...common, "--run-id", "capsig", "--capacity-steps", "2,4", "--capacity-hold", "60s", "--cleanup-strategy", "always"], { cwd: ROOT, env, reject: false, all: true });
      const runDir = join(dir, "capsig");
      await waitFor("the first capacity step to start", () => existsSync(join(runDir, "state", "phase")) && /Capacity step/.test(readFileSync(join(runDir, "state", "phase"), "utf8")), 90_000);
      const inAtStart = sim.pty.bytes.in;
      await waitFor("web-terminal traffic to flow", () => sim.pty.bytes.in - inAtStart >= 2048, 60_000);
      child.kill("SIGTERM");
      const out = await child;
      assert.equal(out.exitCode, 143, out.all);
      const cap = capacityOf(runDir);
      assert.equal(cap.stopped_by, "signal");
      assert.equal(cap.knee, null);
      assert.deepEqual(cap.steps.map((s) => [s.load, s.ok]), [[2, false]]);
      assert.match(cap.summary, /stopped by a signal/);
      assert.equal(sim.counts().workspaces, 0, "cleanup (always) ran after the signal");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("workspace, dashboard and SSH steps run as judged phases over what the run has; sharded traffic steps split over --runners", { timeout: 240_000 }, async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false }, async (sim) => {
      // Workspaces: each step adds workspaces up to its total, after the run's own 2 (one name width).
      const w = await runSmall(sim, dir, ["--run-id", "capww", "--capacity", "--capacity-load", "workspaces", "--workspaces", "2", "--capacity-steps", "3,5", "--capacity-max", "5", "--cleanup-strategy", "on_stop"]);
      assert.equal(w.exitCode, 0, w.output);
      const wc = capacityOf(w.runDir!);
      assert.deepEqual(wc.steps.map((s) => [s.load, s.ok]), [[3, true], [5, true]]);
      assert.equal(wc.knee, 5);
      assert.equal(wc.stopped_by, "max");
      assert.match(wc.summary, /^holds 5 workspaces: every step up to the maximum met every threshold$/);
      const wrecs = stepRecords(w.runDir!);
      assert.deepEqual(wrecs.map((r) => r.totals.runs), [1, 2], "each step created only what it added");
      assert.equal(sim.counts().workspaces, 5);

      // Dashboard users over the run's users, each step held for its window.
      const d = await runSmall(sim, dir, ["--run-id", "capdd", "--capacity", "--capacity-load", "dashboard", "--workspaces", "2", "--capacity-steps", "1,2", "--capacity-max", "2", "--capacity-hold", "1s", "--cleanup-strategy", "always"]);
      assert.equal(d.exitCode, 0, d.output);
      const dc = capacityOf(d.runDir!);
      assert.deepEqual(dc.steps.map((s) => [s.load, s.ok]), [[1, true], [2, true]]);
      assert.deepEqual(stepRecords(d.runDir!).map((r) => [r.runner, r.settings["--concurrency"]]), [["dashboard-traffic", "1"], ["dashboard-traffic", "2"]]);

      // SSH connections through the coder CLI, and web-terminal connections split over two local shards.
      const s = await runSmall(sim, dir, ["--run-id", "capss", "--capacity", "--capacity-load", "ssh", "--workspaces", "2", "--capacity-steps", "1,2", "--capacity-max", "2", "--capacity-hold", "1s", "--cleanup-strategy", "always"]);
      assert.equal(s.exitCode, 0, s.output);
      assert.deepEqual(capacityOf(s.runDir!).steps.map((x) => [x.load, x.ok]), [[1, true], [2, true]]);
      assert.deepEqual(stepRecords(s.runDir!).map((r) => [r.runner, r.totals.runs]), [["ssh-traffic", 1], ["ssh-traffic", 2]]);

      const r = await runSmall(sim, dir, ["--run-id", "capsh", "--capacity", "--capacity-load", "web-terminal", "--workspaces", "4", "--runners", "2", "--capacity-steps", "4", "--capacity-max", "4", "--capacity-hold", "1s", "--cleanup-strategy", "always"]);
      assert.equal(r.exitCode, 0, r.output);
      const [rec] = stepRecords(r.runDir!);
      assert.equal(rec!.status, "pass");
      assert.equal(rec!.totals.runs, 4);
      assert.deepEqual(rec!.extra.missing_shards, []);
      const ids = (rec!.extra.traffic as { perConnection: { shard?: string }[] }).perConnection.map((c) => c.shard).sort();
      assert.deepEqual(ids, ["0/2", "0/2", "1/2", "1/2"], "two shards, two connections each");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an abort-marked threshold ends the failing step early: that step is the first bad one, and the run ends there", { timeout: 180_000 }, async () => {
  const dir = tempResults();
  try {
    await withSim({ preexisting: false }, async (sim) => {
      // Server side: coderd's gauge of open websockets, scraped every 500 ms, aborts the step that passes 6.
      const r = await runSmall(sim, dir, [
        "--run-id", "capab", "--capacity", "--capacity-load", "web-terminal", "--workspaces", "12", "--create-concurrency", "12",
        "--capacity-steps", "4,12", "--capacity-max", "12", "--capacity-hold", "10s", "--tick-interval", "200ms",
        "--coderd-metrics-url", sim.metricsUrl, "--coderd-metrics-interval", "500ms",
        "--threshold", "coderd.concurrent_websockets<=6;abort", "--cleanup-strategy", "always",
      ]);
      assert.equal(r.exitCode, 0, r.output);
      const cap = capacityOf(r.runDir!);
      assert.deepEqual(cap.steps.map((s) => [s.load, s.ok]), [[4, true], [12, false]]);
      assert.equal(cap.knee, 4);
      assert.equal(cap.first_bad, 12);
      assert.equal(cap.stopped_by, "failed-step");
      assert.equal(cap.broke?.expression, "coderd.concurrent_websockets<=6;abort");
      const [good, bad] = stepRecords(r.runDir!);
      assert.equal(good!.aborted_by, null);
      assert.equal(bad!.aborted_by, "coderd.concurrent_websockets<=6;abort");
      // Stopped by the abort before its hold was over: shorter than the step that held its whole 10 s.
      assert.ok(good!.active_ms >= 10_000, `the good step held ${good!.active_ms} ms`);
      assert.ok(bad!.active_ms < good!.active_ms, `the aborted step ran ${bad!.active_ms} ms, the good one ${good!.active_ms} ms`);
      assert.equal(sim.counts().workspaces, 0, "cleanup still ran");
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
