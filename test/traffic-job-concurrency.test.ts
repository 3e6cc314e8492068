// --job-concurrency (Coder's --concurrency on workspace-traffic; the runner template's job_concurrency): what the
// simulator itself sees (its own count of open PTY websockets, not ours) with a limit of 2 over 5 connections
// and with 0 (unlimited); queued connections in the progress; the value in the phase record; bad values
// refused before anything is dialled; the queue, the shard split and the plan's waves.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { ConfigError, loadConfig } from "../src/config/load.ts";
import { buildPlan } from "../src/pipeline/plan.ts";
import type { TrafficProgress } from "../src/traffic/engine.ts";
import { EMPTY_SUMMARY } from "../src/traffic/histogram.ts";
import { TrafficProgressLine } from "../src/traffic/progress.ts";
import { ConnectionQueue, shardJobConcurrency, trafficWaves } from "../src/traffic/queue.ts";
import { mergeTrafficResults, type TrafficResult } from "../src/traffic/result.ts";
import { runTrafficScenario, trafficRunner } from "../src/traffic/scenario.ts";
import { BadInputError } from "../src/util/errors.ts";
import { waitFor } from "./helpers/sim.ts";
import { startTrafficSim, trafficConfig, type TrafficSim } from "./helpers/traffic-kinds.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const RUN = "jc1";
const COMMON = ["--run-id", RUN, "--duration", "1s", "--tick-interval", "100ms", "--bytes-per-tick", "256"];
/** Ticks due in a 1 s window at 100 ms. */
const DUE = 10;

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  record: { settings: Record<string, string>; extra: { traffic: TrafficResult } } | undefined;
}

/** Runs a scenario script against the simulator (bounded: killed after 60 s). */
function runScript(ts: TrafficSim, args: string[], dir: string): Promise<ScriptRun> {
  const out = join(dir, `wt-${Date.now()}-${Math.random().toString(36).slice(2)}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scenarios", "web-terminal-traffic.ts"), ...args, "--output", `json:${out}`], {
      cwd: ROOT,
      env: { ...process.env, CODER_URL: ts.sim.url, CODER_SESSION_TOKEN: ts.sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      let record: ScriptRun["record"];
      try {
        record = JSON.parse(readFileSync(out, "utf8")) as ScriptRun["record"];
      } catch {
        record = undefined;
      }
      resolve({ code, stdout, stderr, record });
    });
  });
}

/** The simulator has seen the previous test's websockets close (its close event comes a moment after ours). */
async function simIdle(ts: TrafficSim): Promise<void> {
  await waitFor("the simulator's PTY websockets all closed", () => ts.sim.pty.openCount() === 0, 10_000);
  ts.sim.pty.resetPeak();
}

function assertAllRan(r: TrafficResult): void {
  assert.equal(r.perConnection.length, 5);
  for (const c of r.perConnection) {
    const where = `connection ${c.target.index}: ${JSON.stringify(c.errors)}`;
    assert.equal(c.status, "ok", where);
    assert.deepEqual(c.errors, [], where);
    // Its whole window: every tick due was sent, and each either came back or is counted lost.
    assert.equal(c.ticksSent, DUE, where);
    assert.equal(c.ticksCompleted + c.ticksLost, DUE, where);
    assert.ok(c.ticksCompleted > 0, where);
  }
}

describe("job concurrency against the simulator", () => {
  let ts: TrafficSim;
  let dir: string;
  before(async () => {
    ts = await startTrafficSim(5, { runId: RUN });
    dir = mkdtempSync(join(tmpdir(), "traffic-jc-"));
  });
  after(async () => {
    await ts?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("2 of 5: the simulator never sees more than 2 websockets at once, all 5 run, the queued are counted", async () => {
    const config = trafficConfig("web-terminal-traffic", ts.sim, [...COMMON, "--concurrency", "2"]);
    assert.equal(config.jobConcurrency, 2);
    await simIdle(ts);
    const accepted0 = ts.sim.pty.acceptedCount();
    assert.equal(ts.sim.pty.peakOpen(), 0, "nothing open before the run");
    const progress: TrafficProgress[] = [];
    const r = await runTrafficScenario(ts.client, config, "web-terminal", { metrics: null, onProgress: (p) => progress.push(p) });

    assert.equal(ts.sim.pty.peakOpen(), 2, "the simulator saw 2 websockets at once, never more");
    assert.equal(ts.sim.pty.acceptedCount() - accepted0, 5, "each of the 5 connections was dialled once");
    assertAllRan(r);
    assert.equal(r.settings.jobConcurrency, 2);
    // Queued connections start after earlier ones: 3 waves of a 1 s window each.
    assert.ok(r.durationMs >= 3000, `3 windows back to back (took ${r.durationMs} ms)`);
    // The first report (1 s in) comes before the first window can end (it starts after its dial).
    const first = progress[0];
    assert.ok(first, "a progress report");
    assert.equal(first.connections.queued, 3, JSON.stringify(first.connections));
    assert.ok(first.connections.open + first.connections.dialing <= 2, JSON.stringify(first.connections));
    const line = new TrafficProgressLine("web-terminal-traffic", 5);
    line.add(first);
    assert.match(line.render(first), /3 queued/);
    assert.ok(progress.every((p) => p.connections.open + p.connections.dialing + p.connections.reconnecting <= 2));
  });

  test("0 (the default): every connection at once, as before", async () => {
    const config = trafficConfig("web-terminal-traffic", ts.sim, COMMON);
    assert.equal(config.jobConcurrency, 0);
    await simIdle(ts);
    const accepted0 = ts.sim.pty.acceptedCount();
    const progress: TrafficProgress[] = [];
    const r = await runTrafficScenario(ts.client, config, "web-terminal", { metrics: null, onProgress: (p) => progress.push(p) });
    assert.equal(ts.sim.pty.peakOpen(), 5, "all 5 open at the same time");
    assert.equal(ts.sim.pty.acceptedCount() - accepted0, 5);
    assertAllRan(r);
    assert.equal(r.settings.jobConcurrency, 0);
    assert.ok(progress.every((p) => p.connections.queued === 0));
  });

  test("the script takes --concurrency and records it in the phase settings and the engine's settings", async () => {
    await simIdle(ts);
    const run = await runScript(ts, [...COMMON, "--concurrency", "2"], dir);
    assert.equal(run.code, 0, run.stderr.slice(-800));
    assert.ok(run.record, "a results file");
    assert.equal(run.record.settings["--concurrency"], "2");
    assert.equal(run.record.extra.traffic.settings.jobConcurrency, 2);
    assert.match(run.stdout + run.stderr, /at most 2 connection\(s\) at once|at most 2 at once/);
    assert.ok(ts.sim.pty.peakOpen() <= 2, `the simulator saw ${ts.sim.pty.peakOpen()} at once`);
  });

  test("bad values are refused with one clear error before anything is dialled", async () => {
    for (const bad of ["-1", "1.5", "two"]) {
      assert.throws(() => trafficConfig("web-terminal-traffic", ts.sim, [...COMMON, "--concurrency", bad]), (e: unknown) => e instanceof ConfigError && /concurrency/.test((e as Error).message), bad);
    }
    assert.throws(() => loadConfig("run", [], { env: { CODER_URL: ts.sim.url, CODER_SESSION_TOKEN: "x", SCALETEST_JOB_CONCURRENCY: "-3" }, envFile: false }), /SCALETEST_JOB_CONCURRENCY|job-concurrency/);
    // Fewer slots than shards: a shard would get none.
    const sharded = trafficConfig("web-terminal-traffic", ts.sim, [...COMMON, "--concurrency", "1", "--shard", "0/2"]);
    assert.throws(() => trafficRunner("web-terminal").validate(sharded, {}), (e: unknown) => e instanceof BadInputError && /job concurrency 1 \(--job-concurrency; --concurrency of the traffic scripts\) is less than the 2 shards/.test((e as Error).message));

    const accepted0 = ts.sim.pty.acceptedCount();
    const neg = await runScript(ts, [...COMMON, "--concurrency", "-1"], dir);
    assert.equal(neg.code, 2, neg.stderr);
    assert.match(neg.stderr, /concurrency/);
    assert.equal(neg.stderr.trim().split("\n").filter((l) => /concurrency/.test(l)).length, 1, `one error: ${neg.stderr}`);
    const shard = await runScript(ts, [...COMMON, "--concurrency", "1", "--shard", "1/2"], dir);
    assert.equal(shard.code, 2, shard.stderr);
    assert.match(shard.stderr, /less than the 2 shards/);
    assert.equal(ts.sim.pty.acceptedCount(), accepted0, "no websocket was opened");
  });
});

describe("job concurrency: queue, shards, waves, merge, plan", () => {
  test("the queue admits at most N, in order, and starts the next as one leaves", () => {
    const started: number[] = [];
    const q = new ConnectionQueue<number>(2, (n) => started.push(n));
    assert.deepEqual([1, 2, 3, 4].map((n) => q.enter(n)), [true, true, false, false]);
    assert.deepEqual(started, [1, 2]);
    assert.equal(q.queued, 2);
    q.leave();
    assert.deepEqual(started, [1, 2, 3]);
    assert.equal(q.active, 2);
    assert.deepEqual(q.clear(), [4]);
    q.leave();
    assert.deepEqual(started, [1, 2, 3], "nothing starts after clear()");
    const all: number[] = [];
    const unlimited = new ConnectionQueue<number>(0, (n) => all.push(n));
    for (let i = 0; i < 1000; i++) assert.equal(unlimited.enter(i), true);
    assert.equal(all.length, 1000);
    assert.throws(() => new ConnectionQueue(-1, () => {}), /integer >= 0/);
  });

  test("shards share the slots out (all of them, never more), waves follow", () => {
    assert.equal(shardJobConcurrency(0, { index: 1, count: 4 }), 0);
    assert.equal(shardJobConcurrency(7, undefined), 7);
    const shares = [0, 1, 2].map((index) => shardJobConcurrency(7, { index, count: 3 }));
    assert.deepEqual(shares, [3, 2, 2]);
    assert.throws(() => shardJobConcurrency(2, { index: 0, count: 3 }), BadInputError);
    assert.equal(trafficWaves(5, 2), 3);
    assert.equal(trafficWaves(5, 0), 1);
    assert.equal(trafficWaves(2, 5), 1);
  });

  test("merged shards report the run's job concurrency (the sum of their shares)", () => {
    const shard = (s: string, jc: number): TrafficResult => ({
      kind: "web-terminal", mode: "echo", shard: s,
      settings: { bytesPerTick: 1, tickIntervalMs: 100, durationMs: 1000, rampMs: 0, reconnect: false, jobConcurrency: jc },
      startedAt: new Date(0).toISOString(), endedAt: new Date(1000).toISOString(), durationMs: 1000, endReason: "duration",
      totals: { connections: 0, bytesWritten: 0, bytesRead: 0, readErrors: 0, writeErrors: 0, dialErrors: 0, drops: 0, reconnects: 0, ticksSent: 0, ticksCompleted: 0, ticksLost: 0 },
      latency: { tick: { ...EMPTY_SUMMARY }, dial: { ...EMPTY_SUMMARY } },
      histograms: { tick: "", dial: "" }, perConnection: [], errors: [], errorsOmitted: 0, timeline: [],
    });
    assert.equal(mergeTrafficResults([shard("0/2", 3), shard("1/2", 2)]).settings.jobConcurrency, 5);
    assert.equal(mergeTrafficResults([shard("0/2", 0), shard("1/2", 0)]).settings.jobConcurrency, 0);
  });

  test("the pipeline's plan runs a limited scenario in waves and says so", () => {
    const env = { CODER_URL: "http://127.0.0.1:9", CODER_SESSION_TOKEN: "x" };
    const argv = ["--workspaces", "5", "--scenarios", "web-terminal", "--duration", "1m", "--baseline-wait", "0s"];
    const limited = buildPlan(loadConfig("run", [...argv, "--job-concurrency", "2"], { env, envFile: false }).config);
    const phase = limited.phases.find((p) => p.name === "web-terminal-traffic");
    assert.ok(phase, JSON.stringify(limited.phases));
    assert.match(phase.text, /at most 2 connections at once \(3 waves\)/);
    assert.equal(phase.expectedMs, 3 * 60_000);
    const unlimited = buildPlan(loadConfig("run", argv, { env, envFile: false }).config);
    assert.equal(unlimited.phases.find((p) => p.name === "web-terminal-traffic")?.expectedMs, 60_000);
  });
});
