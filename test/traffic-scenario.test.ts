// Traffic scenarios end to end against the simulator: the scenario scripts' exit codes and results with
// 10% of connections dropped mid-run (with and without --reconnect), and target selection applied to real
// simulated workspaces (--target-workspaces, --shard, --target-users, --percentage).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { discoverTargets } from "../src/traffic/kinds/discover.ts";
import type { TrafficResult } from "../src/traffic/result.ts";
import { renderTrafficText, runTrafficScenario, trafficPhaseResult } from "../src/traffic/scenario.ts";
import type { PhaseRecord } from "../src/results/summary.ts";
import { FAKE_CODER, startTrafficSim, trafficConfig, type TrafficSim } from "./helpers/traffic-kinds.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * What holds for injected drops with --reconnect whatever the machine's speed: each drop the simulator made
 * (it counts one only when it cut a live stream) is counted once; a drop that lands while the run is ending
 * is recorded but nothing reconnects after the run, so reconnects <= drops; and every dropped connection either
 * came back or ended in error with its drop counted. No connection fails for any other reason.
 */
function assertDropInvariants(r: TrafficResult, injected: number, label: string): void {
  assert.equal(r.totals.drops, injected, `${label}: every drop counted once`);
  assert.ok(r.totals.reconnects <= r.totals.drops, `${label}: reconnects ${r.totals.reconnects} <= drops ${r.totals.drops}`);
  for (const c of r.perConnection) {
    const where = `${label} connection ${c.target.index}: ${JSON.stringify(c.errors)}`;
    if (c.drops > 0) {
      assert.ok(c.status === "dropped" || c.status === "error", where);
      if (c.status === "dropped") assert.ok(c.reconnects >= 1, where);
      assert.ok(c.errors.some((e) => /^(connection lost|connection closed|write failed)/.test(e)), where);
    } else {
      assert.equal(c.status, "ok", where);
    }
  }
}

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  record: PhaseRecord & { extra: { traffic: TrafficResult } };
}

function runScript(script: string, ts: TrafficSim, args: string[], dir: string): Promise<ScriptRun> {
  const out = join(dir, `${script}-${Date.now()}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "scenarios", script), ...args, "--output", `json:${out}`, "--output", "text"], {
      cwd: ROOT,
      env: {
        ...process.env,
        CODER_URL: ts.sim.url,
        CODER_SESSION_TOKEN: ts.sim.ownerToken,
        SCALETEST_RESULTS_DIR: dir,
        SCALETEST_METRICS_ADDRESS: "127.0.0.1:0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      try {
        resolve({ code, stdout, stderr, record: JSON.parse(readFileSync(out, "utf8")) });
      } catch (e) {
        reject(new Error(`${script} exited ${code} without results: ${(e as Error).message}\n${stderr}`));
      }
    });
  });
}

describe("dropped connections (simulator drops 10% mid-run)", () => {
  let ts: TrafficSim;
  let dir: string;
  before(async () => {
    ts = await startTrafficSim(50, { runId: "dr1" });
    dir = mkdtempSync(join(tmpdir(), "traffic-scenario-"));
  });
  after(async () => {
    await ts?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const common = ["--run-id", "dr1", "--duration", "4s", "--bytes-per-tick", "1024", "--tick-interval", "100ms"];

  test("web terminal without --reconnect: drops are errors and the exit code says so", async () => {
    ts.sim.faults.setDrops({ rate: 0.1, afterMs: { minMs: 300, maxMs: 1500 }, kinds: ["pty"] });
    const injected0 = ts.sim.faults.injected.drops;
    const run = await runScript("web-terminal-traffic.ts", ts, common, dir);
    const injected = ts.sim.faults.injected.drops - injected0;
    const r = run.record.extra.traffic;
    assert.ok(injected >= 1, "the seeded simulator dropped some connections");
    assert.equal(r.totals.drops, injected, "every drop counted once");
    assert.equal(r.totals.reconnects, 0);
    assert.equal(r.perConnection.filter((c) => c.status === "error").length, injected);
    assert.equal(run.code, 1, run.stderr.slice(-500));
    assert.equal(run.record.status, "fail");
    assert.equal(run.record.thresholds[0]?.ok, false);
    assert.match(run.stdout, /Result: FAIL/);
    assert.equal(run.record.harness?.total_fail, injected, "Coder's harness JSON marks the dropped runs failed");
  });

  test("web terminal with --reconnect: drops re-established, counted, and the run passes", async () => {
    ts.sim.faults.setDrops({ rate: 0.1, afterMs: { minMs: 300, maxMs: 1500 }, kinds: ["pty"] });
    const injected0 = ts.sim.faults.injected.drops;
    const run = await runScript("web-terminal-traffic.ts", ts, [...common, "--reconnect"], dir);
    const injected = ts.sim.faults.injected.drops - injected0;
    const r = run.record.extra.traffic;
    assert.ok(injected >= 1);
    assertDropInvariants(r, injected, "web-terminal");
    // Drops land 0.3-1.5 s into a connection's 4 s window, so the first drop of each is re-established.
    const dropped = r.perConnection.filter((c) => c.status === "dropped");
    assert.ok(dropped.length >= 1 && dropped.every((c) => c.reconnects >= 1));
    // A drop of a re-established connection can land as the run ends: then, and only then, the run fails.
    const failed = r.perConnection.filter((c) => c.status === "error").length;
    assert.equal(run.code, failed ? 1 : 0, run.stderr.slice(-800));
    assert.equal(run.record.status, failed ? "fail" : "pass");
    assert.match(run.stdout, new RegExp(`reconnects ${r.totals.reconnects}\\b`));
    assert.match(run.stdout, /dropped and re-established [1-9]/);
  });

  test("ssh and app connections are dropped and re-established too", async () => {
    ts.sim.faults.setDrops({ rate: 0.2, afterMs: { minMs: 200, maxMs: 800 }, kinds: ["ssh", "app"] });
    for (const [kind, script, extra] of [
      ["ssh", "ssh-traffic", ["--coder-binary", FAKE_CODER]],
      ["app", "app-traffic", ["--mode", "wsec"]],
    ] as const) {
      const i0 = ts.sim.faults.injected.drops;
      // Each connection's 4 s window starts when it is up and drops land 0.2-0.8 s after that, so the first
      // drop of a connection has over 3 s to be re-established however slow its dial was.
      const c = trafficConfig(script, ts.sim, ["--run-id", "dr1", "--duration", "4s", "--target-workspaces", "0:20", "--reconnect", ...extra]);
      const r = await runTrafficScenario(ts.client, c, kind, { metrics: null });
      const injected = ts.sim.faults.injected.drops - i0;
      assert.ok(injected >= 1, `${kind}: some drops`);
      assertDropInvariants(r, injected, kind);
      assert.ok(r.totals.reconnects >= 1, `${kind}: some drops were re-established`);
    }
    ts.sim.faults.setDrops(undefined);
  });
});

describe("target selection on simulated workspaces", () => {
  let ts: TrafficSim;
  before(async () => {
    ts = await startTrafficSim(30, { runId: "sel", users: 3 });
  });
  after(async () => {
    await ts?.stop();
  });

  const pick = async (o: Parameters<typeof discoverTargets>[1]): Promise<string[]> =>
    (await discoverTargets(ts.client, o)).targets.map((t) => t.workspaceName.slice("scaletest-sel-".length));
  const range = (a: number, b: number): string[] => Array.from({ length: b - a }, (_, i) => String(a + i).padStart(4, "0"));

  test("documented selections", async () => {
    const prefix = "scaletest-sel-";
    assert.deepEqual(await pick({ prefix }), range(0, 30));
    assert.deepEqual(await pick({ prefix, targetWorkspaces: "10:20" }), range(10, 20));
    assert.deepEqual(await pick({ prefix, shard: "1/3" }), range(10, 20));
    assert.deepEqual(await pick({ prefix, shard: "2/4" }), range(15, 22));
    assert.deepEqual(await pick({ prefix, targetWorkspaces: "10:20", shard: "1/3" }), range(13, 16));
    assert.deepEqual(await pick({ prefix, percentage: 50 }), range(0, 15));
    // Users scaletest-sel-9000..9002 own workspaces i % 3 == 0, 1, 2.
    assert.deepEqual(await pick({ prefix, targetUsers: "1:2" }), range(0, 30).filter((_, i) => i % 3 === 1));
    await assert.rejects(pick({ prefix, targetWorkspaces: "10:31" }), /end 31 is greater than the number of workspaces 30/);
    await assert.rejects(pick({ prefix: "scaletest-nope-" }), /no workspaces named scaletest-nope-\*/);
  });

  test("the scenario applies the selection to its connections", async () => {
    const c = trafficConfig("app-traffic", ts.sim, ["--run-id", "sel", "--duration", "1s", "--target-workspaces", "10:20", "--shard", "1/3"]);
    const r = await runTrafficScenario(ts.client, c, "app", { metrics: null });
    assert.deepEqual(r.perConnection.map((p) => p.target.workspaceName), range(13, 16).map((s) => `scaletest-sel-${s}`));
    assert.equal(r.shard, "1/3");
    assert.ok(r.perConnection.every((p) => p.status === "ok" && p.bytesRead > 0));
    assert.ok(r.perConnection.every((p) => p.target.ownerName.startsWith("scaletest-sel-900")), "owners carried into targets");
  });

  test("--timeout cuts the run short: the verdict and the exit code say so", async () => {
    const c = trafficConfig("app-traffic", ts.sim, ["--run-id", "sel", "--duration", "10s", "--timeout", "1500ms", "--target-workspaces", "0:3"]);
    const t0 = Date.now();
    const r = await runTrafficScenario(ts.client, c, "app", { metrics: null });
    assert.ok(Date.now() - t0 >= 1500, "not stopped before the 1.5 s limit");
    assert.equal(r.endReason, "aborted");
    // The harness records a phase stopped before its planned end (not by a signal) as failed.
    assert.equal(trafficPhaseResult(r).stoppedEarly, true);
    assert.ok(r.durationMs < r.settings.durationMs, `recorded ${r.durationMs} ms: cut short of the planned 10 s; rates are over the time actually run`);
    assert.match(renderTrafficText(r), /stopped early, after \d/);
  });
});
