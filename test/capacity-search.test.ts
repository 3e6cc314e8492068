// The capacity search's schedule and state machine (src/capacity/schedule.ts), its one-line verdict
// (src/capacity/result.ts), and the simulator's capacity model (sim/faults.ts) it is tested against.
import assert from "node:assert/strict";
import { test } from "node:test";
import { brokenThreshold, summaryLine } from "../src/capacity/result.ts";
import { CapacitySearch, doublingLoads, parseStepList, scheduleLoads, worstCase, type SearchSpec } from "../src/capacity/schedule.ts";
import type { ThresholdRow } from "../src/results/schema.ts";
import { Faults } from "../sim/faults.ts";
import { createRng } from "../sim/rng.ts";

const spec = (o: Partial<SearchSpec>): SearchSpec => ({ mode: "schedule", steps: [], start: 10, step: 10, max: 100, resolution: 10, ...o });

/** Runs a search against a deployment whose true limit is `limit`: every load <= limit passes. */
function drive(s: SearchSpec, limit: number): { tried: number[]; search: CapacitySearch } {
  const search = new CapacitySearch(s);
  const tried: number[] = [];
  for (let n = search.next(); n !== null && tried.length < 100; n = search.next()) {
    tried.push(n);
    search.record(n, n <= limit);
  }
  return { tried, search };
}

test("step lists parse strictly; schedules come from the list or from start/step/max", () => {
  assert.deepEqual(parseStepList("50, 100,200,400"), [50, 100, 200, 400]);
  assert.deepEqual(parseStepList(""), []);
  assert.throws(() => parseStepList("50,40"), /must increase step by step; 40 follows 50/);
  assert.throws(() => parseStepList("50,x"), /whole numbers above 0.*"x"/);
  assert.throws(() => parseStepList("0,5"), /"0"/);
  assert.deepEqual(scheduleLoads(spec({ start: 10, step: 15, max: 50 })), [10, 25, 40]);
  assert.deepEqual(scheduleLoads(spec({ steps: [50, 100, 200, 400], max: 300 })), [50, 100, 200]);
  assert.deepEqual(doublingLoads(spec({ start: 10, max: 100 })), [10, 20, 40, 80, 100]);
  assert.deepEqual(doublingLoads(spec({ start: 10, max: 80 })), [10, 20, 40, 80]);
});

test("schedule mode stops at the first failing step; the knee is the last step that held", () => {
  const r = drive(spec({ steps: [50, 100, 200, 400], max: 1000 }), 150);
  assert.deepEqual(r.tried, [50, 100, 200]);
  assert.equal(r.search.knee, 100);
  assert.equal(r.search.firstBad, 200);
  assert.equal(r.search.stoppedBy, "failed-step");
  const all = drive(spec({ start: 10, step: 10, max: 30 }), 1000);
  assert.deepEqual(all.tried, [10, 20, 30]);
  assert.equal(all.search.stoppedBy, "max");
  const none = drive(spec({ start: 10, step: 10, max: 30 }), 5);
  assert.deepEqual(none.tried, [10]);
  assert.equal(none.search.knee, null);
});

test("bisect mode doubles, then narrows to the resolution around the true limit, whatever it is", () => {
  for (const limit of [1, 9, 37, 64, 99, 150, 399]) {
    for (const resolution of [1, 5, 10]) {
      const r = drive(spec({ mode: "bisect", start: 4, max: 400, resolution }), limit);
      const { knee, firstBad } = r.search;
      assert.ok(knee === null ? limit < 4 : knee <= limit, `limit ${limit}: knee ${knee}`);
      assert.ok(firstBad !== null && firstBad > limit, `limit ${limit}: first bad ${firstBad}`);
      assert.ok(firstBad - (knee ?? 0) <= resolution, `limit ${limit}, resolution ${resolution}: ${knee}..${firstBad} (tried ${r.tried.join(",")})`);
      assert.ok(r.tried.length <= worstCase(spec({ mode: "bisect", start: 4, max: 400, resolution })).steps, `limit ${limit}: ${r.tried.length} steps within the plan's bound`);
    }
  }
  // The plan's bounds hold on every path, also when the capped last doubling is a shorter gap than the one before.
  for (const [start, max] of [[10, 100], [4, 400], [3, 50], [1, 7]] as const) {
    const sp = spec({ mode: "bisect", start, max, resolution: 1 });
    const bound = worstCase(sp);
    for (let limit = 0; limit <= max + 1; limit++) {
      const r = drive(sp, limit);
      assert.ok(r.tried.length <= bound.steps, `start ${start} max ${max} limit ${limit}: ${r.tried.length} steps > ${bound.steps}`);
      assert.ok(r.tried.reduce((a, n) => a + n, 0) <= bound.loads.reduce((a, n) => a + n, 0), `start ${start} max ${max} limit ${limit}: created more than planned`);
    }
  }
  const top = drive(spec({ mode: "bisect", start: 4, max: 400, resolution: 1 }), 1000);
  assert.deepEqual(top.tried, [4, 8, 16, 32, 64, 128, 256, 400]);
  assert.equal(top.search.stoppedBy, "max");
  const stopped = new CapacitySearch(spec({ mode: "bisect" }));
  stopped.stop("signal");
  assert.equal(stopped.next(), null);
  assert.equal(stopped.stoppedBy, "signal");
});

const row = (expression: string, metric: string, observed: number | null, limit: number, ok: boolean, unit = "ms"): ThresholdRow => ({
  expression, metric, observed, limit, unit, ok, abort: false, failed_label: null, source: "flag",
});

test("the threshold that broke is the one furthest past its limit; the verdict reads as one line", () => {
  const rows = [
    row("web-terminal.tick.p99<100ms", "web-terminal.tick", 142, 100, false),
    row("coderd.api.p95<500ms", "coderd.api", 900, 500, false),
    row("web-terminal.connection_error_rate<=1%", "web-terminal.connection_error_rate", 0, 0.01, true, "ratio"),
    row("create.success_rate>=99%", "create.success_rate", 0.5, 0.99, false, "ratio"),
  ];
  const b = brokenThreshold(1600, rows)!;
  assert.equal(b.expression, "coderd.api.p95<500ms");
  assert.equal(b.excess_pct, 80);
  assert.equal(brokenThreshold(1600, rows.slice(0, 1))!.excess_pct, 42);
  assert.equal(brokenThreshold(1, [row("create.success_rate>=99%", "create.success_rate", 0.5, 0.99, false, "ratio")])!.excess_pct, 49.49);
  assert.equal(brokenThreshold(1, [rows[2]!]), null);
  assert.equal(
    summaryLine("web-terminal", 1400, 1600, brokenThreshold(1600, rows.slice(0, 1)), "failed-step", null),
    "holds 1,400 web-terminal connections; at 1,600 web-terminal tick p99 was 142ms > 100ms",
  );
  assert.equal(summaryLine("builds", 40, null, null, "max", null), "holds 40 concurrent builds: every step up to the maximum met every threshold");
  assert.match(summaryLine("ssh", null, 10, brokenThreshold(10, [row("ssh.tick.p50<10ms", "ssh.tick", null, 10, false)]), "failed-step", null), /^holds no step: not even 10 SSH connections; ssh tick p50 had no data/);
});

test("the simulator's capacity model: latency per unit of load past the knee, live streams counted from first byte to end", () => {
  const f = new Faults(createRng(1));
  assert.equal(f.buildDelayMs(100), 0, "no model, no delay");
  f.setCapacity({ builds: { knee: 4, perUnitMs: 100 }, connections: { knee: 2, perUnitMs: 50, kinds: ["pty", "ssh"] } });
  assert.equal(f.buildDelayMs(4), 0);
  assert.equal(f.buildDelayMs(7), 300);
  const timers = { later: (ms: number, fn: () => void) => setTimeout(fn, ms), cancel: (t: NodeJS.Timeout | undefined) => clearTimeout(t) };
  const conns = [0, 1, 2, 3].map(() => f.connectionDrop("pty", timers, () => true));
  const app = f.connectionDrop("app", timers, () => true);
  conns.forEach((c) => c.live());
  app.live();
  assert.equal(f.liveStreamCount(["pty", "ssh"]), 4, "the app stream is not a kind the model counts");
  assert.equal(f.streamDelayMs("pty"), 100);
  assert.equal(f.streamDelayMs("app"), 0);
  conns[0]!.live();
  assert.equal(f.liveStreamCount(["pty"]), 4, "a stream counts once");
  conns[0]!.end();
  conns[0]!.end();
  conns[1]!.end();
  assert.equal(f.streamDelayMs("ssh"), 0, "two streams left: at the knee");
  app.end();
  conns.forEach((c) => c.end());
  assert.equal(f.liveStreamCount(), 0);
  assert.throws(() => f.setCapacity({ builds: { knee: -1, perUnitMs: 1 } }), /builds.knee must be a non-negative integer/);
  f.clear();
  assert.equal(f.buildDelayMs(100), 0, "clear() removes the model");
});
