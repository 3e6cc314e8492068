// Every runner's named metrics, produced by real runs (the simulator, the traffic engine) and built by the
// same functions the runners use for their phase records (createMetricSet, cleanupPhaseResult,
// trafficMetricSet, DashboardRecorder.metricSet), judged by the one evaluator: a threshold on each runner's
// headline metric can fail, and a looser one passes; the metric sets survive the trip through JSON (what the
// results files carry) and the results schema with identical verdicts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cleanupRun } from "../src/cleanup/index.ts";
import { cleanupPhaseResult } from "../src/cleanup/phase.ts";
import { createWorkspaces } from "../src/create/index.ts";
import { createMetricSet } from "../src/create/phase.ts";
import { runDashboardTraffic } from "../src/dashboard/index.ts";
import type { MetricSet } from "../src/results/metric-set.ts";
import { MetricSetJSON, parseResults } from "../src/results/schema.ts";
import { evaluate, METRIC_CATALOG } from "../src/thresholds/index.ts";
import { runTraffic } from "../src/traffic/engine.ts";
import { trafficMetricSet } from "../src/traffic/scenario.ts";
import { clientFor, startFastSim } from "./helpers/create-sim.ts";
import { ownerClient } from "./helpers/dashboard.ts";
import { withSim } from "./helpers/sim.ts";
import { FakeConnection, makeTargets } from "./helpers/traffic.ts";

const quiet = { progress: false as const };

/** Judges the set and the set as a results file reads it back (JSON, validated by the schema); both must agree. Returns ok per expression. */
function judge(set: MetricSet, exprs: string[]): Record<string, boolean> {
  const live = evaluate(exprs, set);
  const onFile = evaluate(exprs, parseResults(MetricSetJSON, JSON.parse(JSON.stringify(set)), "result.json"));
  assert.deepEqual(onFile, live, "re-evaluated from the encoded metrics: same results");
  for (const r of live) assert.equal(r.noData, false, `${r.message}`);
  return Object.fromEntries(live.map((r) => [r.expression, r.ok]));
}

/** Every metric a runner produced is in the catalog (names agree with the README). */
function inCatalog(set: MetricSet): void {
  const names = new Set(METRIC_CATALOG.map((e) => e.name));
  for (const [name, m] of Object.entries(set)) {
    const e = METRIC_CATALOG.find((x) => x.name === name);
    assert.ok(names.has(name), `${name} is in the catalog`);
    assert.equal(m.type, e!.type, `${name} type`);
    for (const s of m.series) for (const k of Object.keys(s.labels)) assert.ok(e!.labels.includes(k), `${name} label ${k}`);
  }
}

describe("runner metrics", () => {
  test("create and cleanup: provisioning p95, success rate, failures, delete latency", async () => {
    const sim = await startFastSim({ daemons: 2 });
    const client = clientFor(sim);
    try {
      const r = await createWorkspaces(
        client,
        { runId: "thr", count: 4, template: "kubernetes-minimal", concurrency: 4, timeoutMs: 60_000, jobTimeoutMs: 30_000, retry: 0, pollMs: 50, noCleanup: true },
        quiet,
      );
      assert.equal(r.pass, 4);
      const set = createMetricSet(r.units);
      inCatalog(set);
      const provisionP95 = evaluate(["create.provision.p95<1h"], set)[0]!.observed!.value;
      // The max is the slowest workspace exactly (to the µs the summaries keep), and bounds the p95.
      const slowest = Math.max(...r.units.map((u) => u.timings.total ?? 0));
      const max = evaluate(["create.provision.max<1h"], set)[0]!.observed!.value;
      assert.ok(Math.abs(max - slowest) <= 0.0005, `max ${max} is the slowest workspace (${slowest} ms)`);
      assert.ok(provisionP95 > 0 && provisionP95 <= max, `p95 ${provisionP95} within the max ${max}`);
      assert.deepEqual(
        judge(set, [
          "create.provision.p95<1ms",
          "create.provision.p95<10m",
          "create.provision.count==4",
          "create.success_rate>=100%",
          "create.failures{*}==0",
          "create.retries<=0",
        ]),
        {
          "create.provision.p95<1ms": false,
          "create.provision.p95<10m": true,
          "create.provision.count==4": true,
          "create.success_rate>=100%": true,
          "create.failures{*}==0": true,
          "create.retries<=0": true,
        },
      );

      const c = await cleanupRun(client, { runId: "thr", concurrency: 4, timeoutMs: 30_000, jobTimeoutMs: 10_000, pollMs: 50, retryDelayMs: 20 }, quiet);
      assert.equal(c.exit_code, 0);
      const cs = cleanupPhaseResult(c).metrics;
      inCatalog(cs);
      assert.deepEqual(judge(cs, ["cleanup.delete.max<1us", "cleanup.delete.p95<5m", "cleanup.delete{kind:workspace}.count==4", "cleanup.failures==0", "cleanup.remaining==0"]), {
        "cleanup.delete.max<1us": false,
        "cleanup.delete.p95<5m": true,
        "cleanup.delete{kind:workspace}.count==4": true,
        "cleanup.failures==0": true,
        "cleanup.remaining==0": true,
      });
      // The label rule: the failing threshold names both kinds.
      assert.deepEqual(evaluate(["cleanup.delete.max<1us"], cs)[0]!.failing, ["kind=user", "kind=workspace"]);
    } finally {
      await client.close();
      await sim.close();
    }
  });

  test("traffic: tick latency, connection error rate, bytes and throughput over the time run", async () => {
    let n = 0;
    const r = await runTraffic({
      targets: makeTargets(4),
      // The fourth connection never dials: one of four connections ends in error.
      dialer: { kind: "ssh", echo: "echo", dial: async () => (++n === 4 ? Promise.reject(new Error("refused")) : new FakeConnection(true)) },
      bytesPerTick: 100,
      tickIntervalMs: 20,
      durationMs: 800,
      reconnect: false,
    });
    const set = trafficMetricSet(r);
    inCatalog(set);
    assert.deepEqual(
      judge(set, [
        "ssh.connection_error_rate<=0%",
        "ssh.connection_error_rate<=25%",
        "ssh.tick.p99<1us",
        "ssh.tick.p99<10s",
        "ssh.tick.count>=10",
        "ssh.bytes{direction:write}>=1KiB",
        "ssh.throughput{direction:write}>=1KiB/s",
        "ssh.errors{type:dial}>=1",
      ]),
      {
        "ssh.connection_error_rate<=0%": false,
        "ssh.connection_error_rate<=25%": true,
        "ssh.tick.p99<1us": false,
        "ssh.tick.p99<10s": true,
        "ssh.tick.count>=10": true,
        "ssh.bytes{direction:write}>=1KiB": true,
        "ssh.throughput{direction:write}>=1KiB/s": true,
        "ssh.errors{type:dial}>=1": true,
      },
    );
    const [rate] = evaluate(["ssh.connection_error_rate<=0%"], set);
    assert.equal(rate!.observed!.text, "25%");
    const [tp] = evaluate(["ssh.throughput{direction:write}>=1B/s"], set);
    assert.equal(tp!.observed!.value, Math.round(r.totals.bytesWritten / (r.durationMs / 1000)), "bytes over the time actually run (whole bytes/s)");
  });

  test("dashboard: a slow page fails the per-page p95 naming it; the {*} aggregate and error rate", async () => {
    await withSim({}, async (sim) => {
      sim.faults.set({ latency: [{ method: "GET", path: "/api/v2/workspaces", latencyMs: 300 }] });
      const client = ownerClient(sim);
      try {
        const r = await runDashboardTraffic(client, {
          mode: "api",
          hostToken: sim.ownerToken,
          runId: "thr",
          useHostLogin: true,
          concurrency: 2,
          durationMs: 1500,
          thinkTimeMs: 50,
          intervalMs: 300,
          jitterMs: 100,
          // Every session lands on workspaces (slowed), then always picks the last page: templates (unslowed). With
          // random picks over every page a busy machine's few views could miss templates altogether.
          pages: ["workspaces", "templates"],
          random: () => 0.99,
        });
        const set = JSON.parse(JSON.stringify(r.metrics)) as MetricSet;
        inCatalog(set);
        const [page] = evaluate(["dashboard.page.p95<200ms"], set);
        assert.equal(page!.ok, false);
        assert.ok(page!.failing.includes("page=workspaces"), page!.message);
        // At least the injected 300 ms (a busy machine may add to it: no upper bound).
        assert.match(page!.message, /page=workspaces \d[\d.]*m?s/);
        assert.ok(page!.observed!.value >= 300, page!.message);
        // One page by label; the unslowed pages are faster than the slowed one (no wall-clock bound on them).
        const [tpl, ws] = evaluate(["dashboard.page{page:templates}.p95<10s", "dashboard.page{page:workspaces}.p95<10s"], set);
        assert.ok(tpl!.observed!.value < ws!.observed!.value, `${tpl!.message} / ${ws!.message}`);
        const ok = judge(set, ["dashboard.page{page:workspaces}.p95>=300ms", "dashboard.page.p95<10s", "dashboard.error_rate{*}<=0%", "dashboard.views{*}>=2"]);
        assert.deepEqual(ok, {
          "dashboard.page{page:workspaces}.p95>=300ms": true,
          "dashboard.page.p95<10s": true,
          "dashboard.error_rate{*}<=0%": true,
          "dashboard.views{*}>=2": true,
        });
      } finally {
        await client.close();
      }
    });
  });
});
