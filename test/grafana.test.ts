// The Grafana dashboard (dashboards/): the committed JSON is the generator's output, and every metric its
// queries read is exported by the runner (checked against its live registry) or on the documented coderd list.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { CODERD_METRICS, seriesNames } from "../dashboards/coderd-metrics.ts";
import { DASHBOARD_JSON } from "../dashboards/generate.ts";
import { buildDashboard, DASHBOARD_UID, renderDashboardJson } from "../dashboards/scaletest-runner.ts";
import { liveRunnerMetrics, promqlMetricNames } from "./helpers/template-metrics.ts";

interface Target {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  title?: string;
  targets?: Target[];
  gridPos?: { x: number; y: number; w: number; h: number };
}

const committed = () => JSON.parse(readFileSync(DASHBOARD_JSON, "utf8")) as { uid: string; panels: Panel[]; annotations: { list: unknown[] }; templating: { list: { name: string }[] } };
const exprs = (panels: Panel[]) => panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? "", expr: t.expr ?? "" })));

test("the committed dashboard JSON is exactly the generator's output", () => {
  assert.equal(readFileSync(DASHBOARD_JSON, "utf8"), renderDashboardJson(), "dashboards/scaletest-runner.json is stale: run npm run dashboards");
});

test("promqlMetricNames finds metric names and nothing else", () => {
  assert.deepEqual(
    promqlMetricNames('histogram_quantile(0.95, sum by (le, kind) (rate(scaletest_tick_latency_seconds_bucket{pod=~"$runner", kind!="x"}[$__rate_interval])))'),
    ["scaletest_tick_latency_seconds_bucket"],
  );
  assert.deepEqual(promqlMetricNames("sum(rate(a_total[5m])) + sum(rate(b_total[5m])) / on (pod) c"), ["a_total", "b_total", "c"]);
  assert.deepEqual(promqlMetricNames('topk(10, count by (lifecycle_state) (coderd_agents_connections{namespace=~"x"}))'), ["coderd_agents_connections"]);
});

test("every metric the dashboard queries is exported by the runner or a documented coderd metric", async () => {
  const live = await liveRunnerMetrics();
  // The live registry really is the runner's: its own series are there.
  for (const name of ["coderd_scaletest_bytes_written_total", "scaletest_tick_latency_seconds", "scaletest_dashboard_page_seconds", "process_cpu_seconds_total"]) {
    assert.ok(live.has(name), `${name} is in the live registry`);
  }
  const allowed = new Map<string, string>();
  for (const [name, type] of live) for (const s of seriesNames(name, type)) allowed.set(s, "runner");
  for (const [name, m] of Object.entries(CODERD_METRICS)) {
    assert.ok(!live.has(name) || name.startsWith("coderd_scaletest_"), `${name} is listed as coderd's but the runner exports it`);
    for (const s of seriesNames(name, m.type)) if (!allowed.has(s)) allowed.set(s, "coderd");
  }
  const used = new Map<string, string>();
  const unknown: string[] = [];
  const d = buildDashboard() as unknown as { panels: Panel[]; templating: { list: { query?: unknown }[] } };
  const queries = [
    ...exprs(d.panels),
    ...d.templating.list.filter((v) => typeof v.query === "string" && v.query.startsWith("label_values(")).map((v) => ({ panel: "variable", expr: (v.query as string).replace(/^label_values\(([^,]+),.*$/, "$1") })),
  ];
  assert.ok(queries.length >= 30);
  for (const { panel, expr } of queries) {
    const names = promqlMetricNames(expr);
    assert.ok(names.length > 0, `${panel}: no metric in ${expr}`);
    for (const n of names) {
      const from = allowed.get(n);
      if (!from) unknown.push(`${panel}: ${n}`);
      else used.set(n, from);
    }
  }
  assert.deepEqual(unknown, [], "metrics neither exported by the runner nor in dashboards/coderd-metrics.ts");
  // Both sides are on the dashboard.
  assert.ok([...used.values()].includes("runner") && [...used.values()].includes("coderd"));
});

test("the dashboard covers phases, builds, traffic, dashboard load and coderd's own metrics", () => {
  const d = committed();
  assert.equal(d.uid, DASHBOARD_UID);
  const annotation = JSON.stringify(d.annotations.list);
  assert.match(annotation, /"tags":\["scaletest","runner"\]/, "phase annotations from the pipeline's tags");
  const all = exprs(d.panels).map((e) => e.expr).join("\n");
  for (const metric of [
    "coderd_workspace_builds_total",
    "coderd_provisionerd_workspace_build_timings_seconds_bucket",
    "coderd_provisionerd_jobs_current",
    "coderd_scaletest_bytes_written_total",
    "scaletest_tick_latency_seconds_bucket",
    "scaletest_drops_total",
    "scaletest_dashboard_page_seconds_bucket",
    "coderd_api_request_latencies_seconds_bucket",
    "coderd_db_query_latencies_seconds_bucket",
    "coderd_api_concurrent_websockets",
  ]) {
    assert.ok(all.includes(metric), `a panel queries ${metric}`);
  }
  for (const p of [0.5, 0.95, 0.99]) assert.ok(all.includes(`histogram_quantile(${p}, sum by (le, kind) (rate(scaletest_tick_latency_seconds_bucket`), `tick latency p${p * 100} per kind`);
  // Every query uses the datasource variable; panels do not overlap.
  for (const p of d.panels) for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, "${datasource}", p.title);
  const cells = new Set<string>();
  for (const p of d.panels) {
    const g = p.gridPos;
    assert.ok(g, `${p.title} has a position`);
    for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
      const k = `${x},${y}`;
      assert.ok(!cells.has(k), `${p.title} overlaps another panel at ${k}`);
      cells.add(k);
    }
    assert.ok(g.x + g.w <= 24);
  }
  assert.deepEqual(d.templating.list.map((v) => v.name), ["datasource", "namespace", "runner"]);
});
