// The pipeline end to end against the simulated deployment: phase order and timing from run.json,
// every results file, cleanup, dry run, and a comparison of two runs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compareRuns, loadReportModel } from "../src/report/index.ts";
import { withSim } from "./helpers/sim.ts";
import { readJSON, runSmall, tempResults, walk } from "./helpers/pipeline.ts";

type PhaseEntry = { name: string; started_at: string; ended_at: string; status: string; dir: string | null };

const ms = (iso: string) => new Date(iso).getTime();

function assertResultsParse(runDir: string): void {
  const files = walk(runDir);
  for (const f of files.filter((f) => f.endsWith(".json"))) assert.doesNotThrow(() => readJSON(f), `${f} parses`);
  for (const want of ["run.json", "summary.json", "report.md", "report.html", "state/status", "state/phase"]) {
    assert.ok(existsSync(join(runDir, want)), `${want} written`);
  }
}

test("sequential pipeline: phases in order with a baseline wait after each scenario, all results parse, nothing left", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const snapshot = sim.snapshotPreexisting();
    const dir = tempResults();
    const out = await runSmall(sim, dir, ["--scenarios", "ssh,web-terminal,app,dashboard", "--baseline-wait", "1s"]);
    assert.equal(out.exitCode, 0, out.output);
    const runDir = out.runDir!;
    const run = readJSON<{ phases: PhaseEntry[]; status: string; exit_code: number }>(join(runDir, "run.json"));
    assert.deepEqual(
      run.phases.map((p) => p.name),
      [
        "prepare", "create-workspaces", "baseline",
        "ssh-traffic", "baseline-2", "web-terminal-traffic", "baseline-3", "app-traffic", "baseline-4", "dashboard-traffic", "baseline-5",
        "report", "cleanup",
      ],
    );
    assert.equal(run.status, "pass");
    // Phases never overlap in sequential mode; waits last their configured second; scenarios their 2 s.
    for (let i = 1; i < run.phases.length; i++) {
      assert.ok(ms(run.phases[i]!.started_at) >= ms(run.phases[i - 1]!.ended_at) - 5, `${run.phases[i]!.name} starts after ${run.phases[i - 1]!.name}`);
    }
    // Lower bounds only (a busy machine may stretch any phase); each ran for what it was configured to.
    for (const p of run.phases.filter((p) => p.name.startsWith("baseline"))) {
      const d = ms(p.ended_at) - ms(p.started_at);
      assert.ok(d >= 990, `${p.name} lasted ${d} ms, at least its 1 s`);
    }
    for (const p of run.phases.filter((p) => p.name.endsWith("-traffic"))) {
      const d = ms(p.ended_at) - ms(p.started_at);
      assert.ok(d >= 1900, `${p.name} lasted ${d} ms, at least its 2 s`);
      // The load itself ran for its duration (active time recorded by the phase), within the phase's span.
      const rec = readJSON<{ active_ms: number; status: string }>(join(runDir, p.dir!, "result.json"));
      assert.ok(rec.active_ms >= 1900 && rec.active_ms <= d, `${p.name} active ${rec.active_ms} ms of ${d} ms`);
    }
    assertResultsParse(runDir);
    const summary = readJSON<{ status: string; phases: { phase: string; status: string }[] }>(join(runDir, "summary.json"));
    assert.equal(summary.status, "pass");
    assert.ok(summary.phases.some((p) => p.phase === "cleanup" && p.status === "pass"));
    assert.match(readFileSync(join(runDir, "state", "status"), "utf8"), /Complete\n$/);
    // Each traffic scenario took its own quarter of the 4 workspaces.
    for (const [phase, name] of [["ssh-traffic", "0000"], ["web-terminal-traffic", "0001"], ["app-traffic", "0002"]] as const) {
      const rec = readJSON<{ extra: { traffic: { perConnection: { target: { workspaceName: string } }[] } } }>(
        join(runDir, run.phases.find((p) => p.name === phase)!.dir!, "result.json"),
      );
      assert.deepEqual(rec.extra.traffic.perConnection.map((c) => c.target.workspaceName.slice(-4)), [name]);
    }
    assert.deepEqual(sim.counts(), before, "cleanup removed every scaletest resource and the run's token");
    assert.equal(sim.snapshotPreexisting(), snapshot);
  });
});

test("concurrent pipeline: scenarios start a stagger apart and overlap", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const out = await runSmall(sim, dir, ["--scenarios", "ssh,web-terminal,app,dashboard", "--concurrent", "--stagger-delay", "1s", "--duration", "3s"]);
    assert.equal(out.exitCode, 0, out.output);
    const run = readJSON<{ phases: PhaseEntry[] }>(join(out.runDir!, "run.json"));
    const scen = ["ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic"].map((n) => run.phases.find((p) => p.name === n)!);
    const t0 = ms(scen[0]!.started_at);
    // In order, each at least a stagger after the one before (lower bounds: a busy machine only delays).
    scen.forEach((p, i) => {
      const offset = ms(p.started_at) - t0;
      assert.ok(offset >= i * 1000 - 50, `${p.name} started at +${offset} ms, want >= +${i * 1000}`);
      if (i > 0) assert.ok(ms(p.started_at) - ms(scen[i - 1]!.started_at) >= 950, `${p.name} starts a stagger after ${scen[i - 1]!.name}`);
    });
    assert.ok(ms(scen[3]!.started_at) < ms(scen[0]!.ended_at), "scenarios overlap");
    const state = readFileSync(join(out.runDir!, "state", "phase"), "utf8");
    assert.match(state, /START:\d+: Load scenarios: ssh, web-terminal, app, dashboard/);
    assertResultsParse(out.runDir!);
    assert.deepEqual(sim.counts(), before);
  });
});

test("--dry-run prints every phase and creates nothing", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const out = await runSmall(sim, dir, ["--dry-run", "--scenarios", "ssh,dashboard", "--baseline-wait", "30s"]);
    assert.equal(out.exitCode, 0);
    assert.equal(out.runDir, null);
    for (const phase of ["prepare", "create-workspaces", "baseline", "ssh-traffic", "dashboard-traffic", "report", "cleanup"]) {
      assert.match(out.output, new RegExp(`\\d+\\. ${phase}:`), `plan lists ${phase}`);
    }
    assert.match(out.output, /Expected duration: ~/);
    assert.match(out.output, /workspaces 0:1 \(25%\)/);
    assert.deepEqual(sim.counts(), before);
    assert.deepEqual(walk(dir), [], "no results written");
  });
});

test("--compare of two runs flags the stage the slower builds made worse", async () => {
  const dir = tempResults();
  const args = ["--scenarios", "dashboard", "--duration", "1s", "--workspaces", "6", "--create-concurrency", "6", "--percentage", "100"];
  const fast = await withSim({ buildDuration: 50 }, (sim) => runSmall(sim, dir, ["--run-id", "fast1", ...args]));
  const slow = await withSim({ buildDuration: 600 }, (sim) => runSmall(sim, dir, ["--run-id", "slow1", ...args]));
  assert.equal(fast.exitCode, 0, fast.output);
  assert.equal(slow.exitCode, 0, slow.output);
  const cmp = compareRuns(loadReportModel(fast.runDir!), loadReportModel(slow.runDir!));
  const build = cmp.rows.filter((r) => r.phase === "create-workspaces" && /build/.test(r.metric));
  assert.ok(build.length > 0, "build stage rows present");
  assert.ok(build.every((r) => r.verdict === "worse"), JSON.stringify(build));
});

test("greedy agent: one extra workspace flooded during the middle third of each traffic scenario", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const out = await runSmall(sim, dir, [
      "--run-id", "greedy1", "--scenarios", "web-terminal,ssh", "--duration", "3s", "--percentage", "50",
      "--greedy-agent", "--greedy-bytes-per-tick", "65536", "--greedy-tick-interval", "40ms",
    ]);
    assert.equal(out.exitCode, 0, out.output);
    const run = readJSON<{ phases: PhaseEntry[] }>(join(out.runDir!, "run.json"));
    const names = run.phases.map((p) => p.name);
    assert.ok(names.indexOf("greedy-agent") > names.indexOf("create-workspaces"));
    for (const scenario of ["web-terminal-traffic", "ssh-traffic"]) {
      const main = run.phases.find((p) => p.name === scenario)!;
      const greedy = run.phases.find((p) => p.name === `${scenario}-greedy-agent`)!;
      const rec = readJSON<{ started_at: string; extra: { traffic: { perConnection: { target: { workspaceName: string } }[]; totals: { bytesWritten: number } } } }>(
        join(out.runDir!, greedy.dir!, "result.json"),
      );
      const offset = ms(rec.started_at) - ms(main.started_at);
      assert.ok(offset >= 900, `${scenario} flood starts a third in (+${offset} ms)`);
      assert.ok(ms(rec.started_at) < ms(main.ended_at), `${scenario} flood starts while the scenario runs`);
      assert.deepEqual(rec.extra.traffic.perConnection.map((c) => c.target.workspaceName), ["scaletest-greedy1-0004"]);
      assert.ok(rec.extra.traffic.totals.bytesWritten >= 65536 * 10, "the flood sent its big ticks");
      const mainRec = readJSON<{ extra: { traffic: { perConnection: { target: { workspaceName: string } }[] } } }>(
        join(out.runDir!, main.dir!, "result.json"),
      );
      assert.ok(mainRec.extra.traffic.perConnection.every((c) => c.target.workspaceName !== "scaletest-greedy1-0004"));
    }
    assert.deepEqual(sim.counts(), before, "cleanup removed the greedy workspace too");
  });
});

test("--runners 2 outside Kubernetes: the slice is split over two local shard processes and merged", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const out = await runSmall(sim, dir, ["--run-id", "shard2", "--scenarios", "web-terminal", "--percentage", "100", "--runners", "2", "--duration", "3s"]);
    assert.equal(out.exitCode, 0, out.output);
    const run = readJSON<{ phases: PhaseEntry[] }>(join(out.runDir!, "run.json"));
    const phase = run.phases.find((p) => p.name === "web-terminal-traffic")!;
    const rec = readJSON<{ status: string; extra: { traffic: { totals: { connections: number }; perConnection: { shard?: string; target: { workspaceName: string } }[] }; missing_shards: number[] } }>(
      join(out.runDir!, phase.dir!, "result.json"),
    );
    assert.equal(rec.status, "pass");
    assert.deepEqual(rec.extra.missing_shards, []);
    assert.equal(rec.extra.traffic.totals.connections, 4);
    assert.deepEqual(
      rec.extra.traffic.perConnection.map((c) => [c.shard, c.target.workspaceName.slice(-4)]).sort(),
      [["0/2", "0000"], ["0/2", "0001"], ["1/2", "0002"], ["1/2", "0003"]],
    );
    assert.ok(existsSync(join(out.runDir!, phase.dir!, "shards", "0.json")) && existsSync(join(out.runDir!, phase.dir!, "shards", "1.json")));
    assert.deepEqual(sim.counts(), before);
  });
});
