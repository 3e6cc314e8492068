// Scale-out without a cluster: 3 local shards x 100 connections against the simulator vs one process with
// 300 connections (same settings, same workspaces), the merge rule, and shard failures reported per shard.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { LocalExecutor, runShardedTraffic, shardResultPath, type ShardRunSpec } from "../src/scaleout/index.ts";
import { LatencyHistogram } from "../src/traffic/histogram.ts";
import { TOTAL_KEYS, type TrafficResult } from "../src/traffic/result.ts";
import { tempDir } from "./helpers/results-tmp.ts";
import { startTrafficSim, type TrafficSim } from "./helpers/traffic-kinds.ts";

const N = 300;
const BPT = 512;
const RUN = "so1";
// 6 s, not 3: a connection still dialling when the run ends sends nothing, and 300 dials can take seconds on a
// busy machine. Each connection's timetable starts with its dial, so it sends exactly TICKS ticks.
const DURATION_S = 6;
const TICKS = DURATION_S * 10;

describe("local executor: 3 shards x 100 connections vs 1 process x 300 (web terminal, 6 s, 512 B / 100 ms)", () => {
  let ts: TrafficSim;
  let dir: { path: string; cleanup: () => void };
  let sharded: Awaited<ReturnType<typeof runShardedTraffic>>;
  let single: Awaited<ReturnType<typeof runShardedTraffic>>;

  const spec = (runners: number, phase: string): ShardRunSpec => ({
    script: "web-terminal-traffic",
    runners,
    runId: RUN,
    phase,
    resultsDir: dir.path,
    scriptArgs: ["--duration", `${DURATION_S}s`, "--bytes-per-tick", String(BPT), "--tick-interval", "100ms"],
    env: { CODER_URL: ts.sim.url },
    secretEnv: { CODER_SESSION_TOKEN: ts.sim.ownerToken },
    timeoutMs: 90_000, // generous: two tsx processes plus 300 connections on a busy machine
  });

  before(async () => {
    ts = await startTrafficSim(N, { runId: RUN });
    dir = tempDir("scaletest-scaleout-");
    const ex = new LocalExecutor({ stdio: "ignore" });
    sharded = await runShardedTraffic(ex, spec(3, "sharded"));
    single = await runShardedTraffic(ex, spec(1, "single"));
  });
  after(async () => {
    await ts?.stop();
    dir?.cleanup();
  });

  test("every shard succeeded and left its result at <results>/<run>/<phase>/shards/<i>.json", () => {
    assert.deepEqual(sharded.shards.map((s) => [s.shard, s.state, s.exitCode]), [["0/3", "succeeded", 0], ["1/3", "succeeded", 0], ["2/3", "succeeded", 0]]);
    assert.deepEqual(sharded.missing, []);
    assert.equal(sharded.exitCode, 0);
    for (let i = 0; i < 3; i++) assert.ok(existsSync(shardResultPath(dir.path, RUN, "sharded", i)));
    // Each shard's own results folder, so they never overwrite one another's result.json.
    const own = join(dir.path, RUN, "sharded", "shards", "1", RUN);
    assert.ok(readdirSync(own).some((d) => d.endsWith("web-terminal-traffic") && existsSync(join(own, d, "result.json"))));
    assert.equal(single.shards[0]?.state, "succeeded");
  });

  test("shards took disjoint contiguous 100-workspace blocks that together are the one process's 300", () => {
    const byShard = new Map<string, string[]>();
    for (const c of sharded.result.perConnection) byShard.set(c.shard!, [...(byShard.get(c.shard!) ?? []), c.target.workspaceName]);
    assert.deepEqual([...byShard.keys()].sort(), ["0/3", "1/3", "2/3"]);
    for (const [shard, names] of byShard) {
      const i = Number(shard[0]);
      assert.deepEqual(names.sort(), ts.names.slice(i * 100, (i + 1) * 100), `shard ${shard}`);
    }
    const all = sharded.result.perConnection.map((c) => c.target.workspaceName).sort();
    assert.deepEqual(all, single.result.perConnection.map((c) => c.target.workspaceName).sort());
    assert.deepEqual(all, ts.names);
  });

  test("totals: same connection count, no errors, bytes written = ticks sent x bytes per tick in both, merged = sum of shards", () => {
    const m = sharded.result.totals;
    const s = single.result.totals;
    assert.equal(m.connections, N);
    assert.equal(s.connections, N);
    for (const t of [m, s]) {
      assert.deepEqual([t.dialErrors, t.readErrors, t.writeErrors, t.drops], [0, 0, 0, 0]);
      assert.equal(t.bytesWritten, t.ticksSent * BPT);
      // A terminal echoes "\n" as "\r\n": every completed tick came back with one extra byte.
      assert.ok(t.bytesRead >= t.ticksCompleted * (BPT + 1) - N * BPT, `read ${t.bytesRead}`);
    }
    // Merged totals are exactly the sum of the shard files (counters added, nothing lost or doubled).
    const shardResults = sharded.shards.map((x) => (x.output as { extra: { traffic: TrafficResult } }).extra.traffic);
    for (const k of TOTAL_KEYS) assert.equal(m[k], shardResults.reduce((a, r) => a + r.totals[k], 0), k);
    // Byte accounting is exact in both runs, per connection: every written byte belongs to a sent tick, and a
    // terminal returns each completed tick's line plus one "\r".
    for (const r of [sharded.result, single.result]) {
      for (const c of r.perConnection) {
        assert.ok(c.ticksSent >= 1 && c.ticksSent <= TICKS, `${c.target.workspaceName}: ${c.ticksSent} ticks`);
        assert.equal(c.bytesWritten, c.ticksSent * BPT);
        assert.ok(c.bytesRead >= c.ticksCompleted * (BPT + 1) && c.bytesRead <= c.ticksSent * (BPT + 1), c.target.workspaceName);
      }
      for (const k of ["bytesWritten", "bytesRead", "ticksSent", "ticksCompleted"] as const) {
        assert.equal(r.perConnection.reduce((a, c) => a + c[k], 0), r.totals[k], k);
      }
    }
    // Every connection's timetable starts when its dial starts, so each sends exactly duration / interval
    // ticks however long its dial took: the 3-shard run and the one-process run send the same bytes.
    assert.equal(m.ticksSent, N * TICKS, `sharded: ${TICKS} ticks per connection`);
    assert.equal(s.ticksSent, N * TICKS, `single process: ${TICKS} ticks per connection`);
    assert.equal(m.bytesWritten, s.bytesWritten, "same bytes written");
    assert.equal(m.bytesWritten, N * TICKS * BPT);
    // Every tick's echo came back in both (a terminal adds one "\r" per line), so bytes read match too.
    assert.equal(m.ticksCompleted, s.ticksCompleted);
    assert.equal(m.bytesRead, s.bytesRead, "same bytes read");
  });

  test("merged latency comes from the merged histograms (never averaged percentiles)", () => {
    const shardResults = sharded.shards.map((x) => (x.output as { extra: { traffic: TrafficResult } }).extra.traffic);
    const h = LatencyHistogram.mergeEncoded(shardResults.map((r) => r.histograms.tick));
    assert.equal(sharded.result.latency.tick.count, h.count);
    assert.equal(sharded.result.latency.tick.count, shardResults.reduce((a, r) => a + r.latency.tick.count, 0));
    assert.equal(sharded.result.latency.tick.p99, h.percentiles().p99);
    assert.equal(sharded.result.latency.dial.count, N);
  });
});

describe("local executor: failures are reported per shard", () => {
  test("a shard that cannot start its scenario fails with a reason; none with a result is an error", async () => {
    const dir = tempDir("scaletest-scaleout-");
    try {
      const ex = new LocalExecutor({ stdio: "ignore" });
      const spec: ShardRunSpec = {
        script: "web-terminal-traffic",
        runners: 2,
        runId: "so2",
        phase: "bad",
        resultsDir: dir.path,
        // Bad settings: the script exits 2 before connecting anywhere.
        scriptArgs: ["--bytes-per-tick", "-5"],
        env: { CODER_URL: "http://127.0.0.1:9" },
        secretEnv: { CODER_SESSION_TOKEN: "abcdefghij-abcdefghijabcdefghijab" },
        timeoutMs: 30_000,
      };
      const outcomes = await ex.runShards(spec);
      assert.deepEqual(outcomes.map((o) => [o.shard, o.state, o.exitCode]), [["0/2", "failed", 2], ["1/2", "failed", 2]]);
      assert.match(outcomes[0]!.message ?? "", /bad settings/);
      await assert.rejects(runShardedTraffic(ex, spec), /no shard of 2 produced a result on the local executor: shard 0\/2: failed/);
      assert.ok(!existsSync(shardResultPath(dir.path, "so2", "bad", 0)));
    } finally {
      dir.cleanup();
    }
  });

  test("a shard still running at the deadline is stopped and reported as timeout", async () => {
    const dir = tempDir("scaletest-scaleout-");
    // A loopback server that accepts requests and never answers: the shard hangs in target discovery.
    const held = new Set<ServerResponse>();
    const hang = createServer((_req, res) => void held.add(res));
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}`;
    try {
      const ex = new LocalExecutor({ stdio: "ignore", killGraceMs: 500 });
      const outcomes = await ex.runShards({
        script: "web-terminal-traffic",
        runners: 1,
        runId: "so3",
        phase: "slow",
        resultsDir: dir.path,
        scriptArgs: [],
        env: { CODER_URL: url },
        secretEnv: { CODER_SESSION_TOKEN: "abcdefghij-abcdefghijabcdefghijab" },
        timeoutMs: 1500,
      });
      assert.equal(outcomes[0]?.state, "timeout");
      assert.match(outcomes[0]?.message ?? "", /still running after 1500 ms/);
    } finally {
      for (const r of held) r.destroy();
      hang.closeAllConnections();
      await new Promise((r) => hang.close(r));
      dir.cleanup();
    }
  });
});

describe("shard-main in log mode (how pods return results without a shared volume)", () => {
  test("prints the script's JSON framed after its own output, exits 0 even when the script's verdict failed", async () => {
    const { spawnSync } = await import("node:child_process");
    const { writeFileSync } = await import("node:fs");
    const { decodeShardLog, PROJECT_DIR } = await import("../src/scaleout/index.ts");
    const dir = tempDir("scaletest-shardmain-");
    try {
      // A stand-in scenario: writes its --output json:PATH and exits 1 (a failed verdict, as a traffic script would).
      const script = join(dir.path, "fake-scenario.mjs");
      writeFileSync(script, `
        const spec = process.argv[process.argv.lastIndexOf("--output") + 1].slice(5);
        const shard = process.argv[process.argv.indexOf("--shard") + 1];
        (await import("node:fs")).writeFileSync(spec, JSON.stringify({ extra: { traffic: { shard } } }));
        console.log("scenario text output");
        process.exit(1);`);
      const r = spawnSync(process.execPath, ["--import", "tsx", "src/scaleout/shard-main.ts", "--script", script, "--result", "log", "--", "--shard", "2/3"], {
        cwd: PROJECT_DIR,
        encoding: "utf8",
        env: { ...process.env, TMPDIR: dir.path },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^scenario text output\n/);
      assert.deepEqual(decodeShardLog(r.stdout), { shard: "2/3", exitCode: 1, output: { extra: { traffic: { shard: "2/3" } } } });
      // Without a result, the shard fails with the script's status (Kubernetes retries it, or fails the Job on 2).
      writeFileSync(script, "process.exit(2)");
      const bad = spawnSync(process.execPath, ["--import", "tsx", "src/scaleout/shard-main.ts", "--script", script, "--result", "log", "--", "--shard", "0/3"], {
        cwd: PROJECT_DIR,
        encoding: "utf8",
      });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /shard 0\/3 ended \(exit 2\) without a result/);
    } finally {
      dir.cleanup();
    }
  });
});
