// Server-side figures (src/metrics/coderd) against the simulator's coderd metrics endpoint: a real
// Prometheus and the direct scrape agree on each phase window's per-route buckets; a route slowed by 300 ms
// shows in the phase where the load ran (and its threshold fails naming the route) but not in the
// baseline; two replicas merge by summing buckets, which is not the average of their percentiles.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  countOf, deactivateCoderdMetrics, DirectSource, mergeBuckets, mergeRoutes, parseExposition, PrometheusSource, quantile, serverSide, type Buckets,
} from "../src/metrics/coderd/index.ts";
import { loadReportModel } from "../src/report/model.ts";
import { chartData } from "../src/report/chart-data.ts";
import { renderHtml } from "../src/report/html.ts";
import { rejudge } from "../src/report/thresholds.ts";
import { evaluate } from "../src/thresholds/index.ts";
import { startSim } from "../sim/index.ts";
import { ROOT, runSmall, tempResults } from "./helpers/pipeline.ts";
import { prometheusSkip, startPrometheus } from "./helpers/prometheus.ts";
import { FAST, withSim } from "./helpers/sim.ts";
import { until } from "./helpers/until.ts";

after(() => deactivateCoderdMetrics());

async function get(url: string, n: number, headers: Record<string, string> = {}): Promise<void> {
  await Promise.all(Array.from({ length: n }, async () => void (await (await fetch(url, { headers })).arrayBuffer())));
}

const counts = (m: Map<string, Buckets>): Record<string, number[]> =>
  Object.fromEntries([...m.entries()].filter(([, b]) => countOf(b) > 0).map(([k, b]) => [k, b.cumulative]));

describe("coderd metrics", () => {
  test("the simulator exports coderd's names, labels and buckets, measured per route pattern", async () => {
    await withSim({}, async (sim) => {
      await get(`${sim.url}/api/v2/users/me`, 3, { "Coder-Session-Token": sim.ownerToken });
      await get(`${sim.url}/api/v2/nothing-here`, 1);
      const samples = parseExposition(await (await fetch(sim.metricsUrl)).text());
      const le = samples.filter((s) => s.name === "coderd_api_request_latencies_seconds_bucket" && s.labels.path === "/api/v2/users/{user}").map((s) => s.labels.le);
      assert.deepEqual(le, ["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.5", "1", "5", "10", "30", "+Inf"]);
      const count = samples.find((s) => s.name === "coderd_api_request_latencies_seconds_count" && s.labels.path === "/api/v2/users/{user}");
      assert.equal(count?.value, 3);
      assert.ok(samples.some((s) => s.name === "coderd_api_requests_processed_total" && s.labels.path === "UNKNOWN" && s.labels.code === "404"));
      assert.ok(samples.some((s) => s.name === "process_cpu_seconds_total" && s.value > 0));
      assert.ok(samples.some((s) => s.name === "process_resident_memory_bytes" && s.value > 0));
      assert.ok(!samples.some((s) => s.name === "go_goroutines" || s.name.startsWith("coderd_db_")), "nothing the simulator cannot measure");
    });
  });

  test("a real Prometheus and the direct scrape give the same per-route bucket counts for each phase window", { skip: prometheusSkip() }, async () => {
    const sim = await startSim({ ...FAST, preexisting: false });
    const target = new URL(sim.metricsUrl).host;
    const prom = await startPrometheus({ target, metricsPath: "/", scrapeIntervalS: 1 });
    const direct = new DirectSource({ urls: [sim.metricsUrl], intervalMs: 500 });
    const viaProm = new PrometheusSource({ url: prom.url });
    try {
      await prom.waitForScrape(30_000);
      /** Waits until Prometheus holds a sample scraped after `t` (so the traffic before t is in it). */
      const scrapedAfter = (t: number) =>
        until(async () => (await prom.query("timestamp(up)")).some((s) => Number(s.value[1]) * 1000 > t), { what: "a Prometheus scrape", timeoutMs: 30_000, everyMs: 100 });
      const auth = { "Coder-Session-Token": sim.ownerToken };
      const phases = [
        async () => {
          await get(`${sim.url}/api/v2/buildinfo`, 20);
          await get(`${sim.url}/api/v2/users/me`, 10, auth);
        },
        async () => {
          await get(`${sim.url}/api/v2/users/me`, 15, auth);
          await get(`${sim.url}/api/v2/workspaces`, 5, auth);
        },
      ];
      const expected = [
        { "/api/v2/buildinfo": 20, "/api/v2/users/{user}": 10 },
        { "/api/v2/users/{user}": 15, "/api/v2/workspaces": 5 },
      ];
      for (const [i, traffic] of phases.entries()) {
        // Quiet edges: the window opens after Prometheus scraped the previous phase's traffic and closes
        // after it scraped this phase's, so the two readings must agree exactly.
        await scrapedAfter(Date.now());
        const d = await direct.begin();
        const p = await viaProm.begin();
        await traffic();
        await scrapedAfter(Date.now());
        const wd = await d.end();
        const wp = await p.end();
        assert.deepEqual(wd.warnings, []);
        assert.deepEqual(wp.warnings, []);
        assert.equal(wp.source, "prometheus");
        assert.equal(wp.replicas.length, 1, "one coderd replica found by its coderd_* series");
        const fromScrape = counts(mergeRoutes(wd.replicas));
        const fromProm = counts(mergeRoutes(wp.replicas));
        assert.deepEqual(fromProm, fromScrape, `phase ${i}: same per-route buckets`);
        assert.deepEqual(
          Object.fromEntries(Object.entries(fromScrape).map(([k, c]) => [k, c[c.length - 1]])),
          expected[i],
          `phase ${i}: exactly this phase's requests per route pattern`,
        );
        // The same thresholds judge figures read through Prometheus.
        const judged = evaluate(["coderd.api{*}.count>=20", "coderd.api.p95<30s", "coderd.memory<100GiB"], serverSide(wp, null).metrics);
        assert.deepEqual(judged.map((r) => r.ok), [true, true, true], judged.map((r) => r.message).join("; "));
        const cpu = wp.replicas[0]!.cpuCores;
        assert.ok(cpu !== null && cpu >= 0, "CPU from process_cpu_seconds_total");
        assert.ok((wp.replicas[0]!.memoryMaxBytes ?? 0) > 0 && (wd.replicas[0]!.memoryMaxBytes ?? 0) > 0, "memory from both");
      }
    } finally {
      direct.close();
      await prom.stop();
      await sim.stop();
    }
  });

  test("300 ms on one route: its server-side p95 is >= 300 ms in the load phase, not in the baseline, and coderd.api.p95<200ms fails naming it", async () => {
    const results = tempResults();
    try {
      await withSim({}, async (sim) => {
        sim.faults.set({ latency: [{ method: "GET", path: "/api/v2/workspaces", latencyMs: 300 }] });
        const out = await runSmall(sim, results, [
          "--run-id", "cdlat", "--scenarios", "dashboard", "--baseline-wait", "2s",
          "--coderd-metrics-url", sim.metricsUrl, "--coderd-metrics-interval", "500ms",
          "--threshold", "coderd.api.p95<200ms",
        ]);
        const runDir = join(results, "cdlat");
        const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
        const dashDir = readdirSync(runDir).find((d) => d.endsWith("dashboard-traffic"));
        assert.ok(dashDir, `a dashboard phase ran:\n${out.output.slice(-3000)}`);
        const rec = JSON.parse(readFileSync(join(runDir, dashDir, "result.json"), "utf8"));
        const route = rec.extra.coderd.routes["/api/v2/workspaces"];
        assert.ok(route && route.p95 >= 300, `load phase p95 ${JSON.stringify(route)}`);
        const row = rec.thresholds.find((t: { expression: string }) => t.expression === "coderd.api.p95<200ms");
        assert.ok(row, "the coderd threshold judged the dashboard phase");
        assert.equal(row.ok, false);
        assert.match(row.failed_label, /route=\/api\/v2\/workspaces/);
        assert.equal(rec.status, "fail");
        assert.ok(rec.metrics["coderd.api"].series.some((s: { labels: { route: string } }) => s.labels.route === "/api/v2/workspaces"));
        // The baseline before it: measured, and the slowed route is not slow there.
        const baseline = summary.phases.find((p: { phase: string }) => p.phase.startsWith("baseline"));
        assert.ok(baseline, `a baseline phase: ${summary.phases.map((p: { phase: string }) => p.phase).join(", ")}`);
        const p95 = baseline.headline.find((h: { label: string }) => h.label === "coderd API p95");
        assert.ok(p95, "the baseline carries the server-side figures");
        assert.ok(p95.value === null || p95.value < 300, `baseline API p95 ${p95.value}`);
        assert.equal(rec.extra.coderd.vs_baseline?.baseline_phase, baseline.phase);
        const vs = rec.extra.coderd.vs_baseline;
        assert.ok(vs.cpu_cores !== null && vs.memory_bytes !== null, `CPU and memory compared: ${JSON.stringify(vs)}`);
        // A wait with no API request has no API p95 to compare with.
        if (p95.value === null) assert.equal(vs.api_p95_ms, null);
        else assert.equal(Math.round(vs.api_p95_ms), Math.round(rec.extra.coderd.api.p95 - p95.value));
        assert.match(readFileSync(join(runDir, dashDir, "summary.txt"), "utf8"), /Server side \(coderd[\s\S]*\/api\/v2\/workspaces/);
        // report.ts re-judges the server side from the recorded metrics: a looser limit replaces the row.
        const again = rejudge(loadReportModel(runDir), ["coderd.api.p95<1s"]).phases.find((p) => p.name === "dashboard-traffic")!;
        const rows = again.thresholds.filter((t) => t.metric === "coderd.api");
        assert.deepEqual(rows.map((t) => [t.expression, t.ok]), [["coderd.api.p95<1s", true]]);
        // The report: the server-side section with API p95 and CPU over time, on the run's one time axis.
        const model = loadReportModel(runDir);
        const html = renderHtml(model);
        const section = html.slice(html.indexOf('id="server-side"'));
        assert.ok(html.includes("Server side (coderd)"));
        assert.match(section, /API p95 over time[\s\S]*<canvas id="chart-coderd-api-p95"/);
        assert.match(section, /CPU over time[\s\S]*<canvas id="chart-coderd-cpu"/);
        const charts = chartData(model);
        for (const id of ["chart-coderd-api-p95", "chart-coderd-cpu"]) {
          const c = charts.timeCharts.find((x) => x.id === id)!;
          assert.equal(c.xMax, charts.durationSec, `${id} spans the whole run`);
          const pts = c.series.flatMap((s) => s.points);
          assert.ok(pts.some((p) => p.v !== null), `${id} has readings`);
          assert.ok(pts.every((p) => p.t >= 0 && p.t <= c.xMax), `${id}'s points lie on the run's axis`);
        }
      });
    } finally {
      deactivateCoderdMetrics();
      rmSync(results, { recursive: true, force: true });
    }
  });

  test("two replicas under unequal load, one slowed, merge into one histogram whose p95 is the combined requests', not the average", async () => {
    const start = (args: string[]) => {
      const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "sim/main.ts", "--no-preexisting", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      return { child, out: () => out };
    };
    const a = start([]);
    const b = start(["--latency-path", "/api/v2/buildinfo=300"]);
    const urls = async (p: ReturnType<typeof start>) =>
      until(() => {
        const api = /CODER_URL=(\S+)/.exec(p.out())?.[1];
        const metrics = /SCALETEST_CODERD_METRICS_URLS=(\S+)/.exec(p.out())?.[1];
        return api && metrics ? { api, metrics } : null;
      }, { what: "the simulator's URLs", timeoutMs: 60_000 });
    try {
      const [ua, ub] = [await urls(a), await urls(b)];
      const direct = new DirectSource({ urls: [ua.metrics, ub.metrics], intervalMs: 500 });
      try {
        const h = await direct.begin();
        // Unequal load: 150 requests to the fast replica, 50 to the slowed one.
        await Promise.all([get(`${ua.api}/api/v2/buildinfo`, 150), get(`${ub.api}/api/v2/buildinfo`, 50)]);
        const w = await h.end();
        assert.deepEqual(w.warnings, []);
        assert.equal(w.replicas.length, 2);
        const per = w.replicas.map((r) => r.api.get("/api/v2/buildinfo")!);
        assert.deepEqual(per.map(countOf).sort((x, y) => x - y), [50, 150]);
        const merged = mergeRoutes(w.replicas).get("/api/v2/buildinfo")!;
        assert.equal(countOf(merged), 200, "every request of both replicas");
        assert.deepEqual(merged.cumulative, per[0]!.cumulative.map((c, i) => c + per[1]!.cumulative[i]!), "buckets summed");
        const mergedP95 = quantile(merged, 0.95)!;
        // Of the 200 requests, the 190th fastest is one of the 50 slowed by 300 ms: the combined p95 is >= 300 ms.
        assert.ok(mergedP95 >= 0.3, `merged p95 ${mergedP95}s is a slowed request's`);
        const averaged = (quantile(per[0]!, 0.95)! + quantile(per[1]!, 0.95)!) / 2;
        assert.ok(Math.abs(mergedP95 - averaged) > 0.05, `merged p95 ${mergedP95}s differs from the average of the replicas' p95s ${averaged}s`);
        // The evaluator reads the same merged histogram: its p95 agrees with histogram_quantile to within a bucket's 1/64.
        const s = serverSide(w, null);
        const r = evaluate(["coderd.api{route:/api/v2/buildinfo}.p95<1ms", "coderd.cpu.max<1000", "coderd.memory<100GiB"], s.metrics);
        const observed = r[0]!.observed!.value;
        assert.ok(Math.abs(observed - mergedP95 * 1000) <= (0.5 - 0.1) * 1000 / 64 + 1, `evaluator p95 ${observed}ms vs ${mergedP95 * 1000}ms`);
        assert.equal(r[1]!.ok, true);
        assert.equal(r[2]!.ok, true);
        assert.equal(s.block.replicas.length, 2);
        assert.ok(mergeBuckets(per) !== null);
      } finally {
        direct.close();
      }
    } finally {
      a.child.kill("SIGTERM");
      b.child.kill("SIGTERM");
    }
  });
});
