// A real Prometheus scrapes the runner's metrics endpoint during a web-terminal traffic run, and its query
// API returns the traffic counters under Coder's names and labels.
import assert from "node:assert/strict";
import { test } from "node:test";
import { getTrafficMetrics, startMetricsServer } from "../src/metrics/index.ts";
import { runTrafficScenario } from "../src/traffic/scenario.ts";
import { prometheusSkip, startPrometheus, type RunningPrometheus } from "./helpers/prometheus.ts";
import { startTrafficSim, trafficConfig } from "./helpers/traffic-kinds.ts";

test("Prometheus scrapes non-zero traffic counters during a run", { skip: prometheusSkip(), timeout: 60_000 }, async () => {
  const ts = await startTrafficSim(10, { runId: "prom" });
  const metrics = await startMetricsServer("127.0.0.1:0");
  let prom: RunningPrometheus | undefined;
  try {
    prom = await startPrometheus({ target: `127.0.0.1:${metrics.port}` });
    // Prometheus hands targets to its scrapers after up to 5 s: start the run once it scrapes us.
    await prom.waitForScrape(15_000);
    const c = trafficConfig("web-terminal-traffic", ts.sim, ["--run-id", "prom", "--duration", "5s"]);
    const r = await runTrafficScenario(ts.client, c, "web-terminal", { metrics: getTrafficMetrics() });
    assert.ok(r.totals.bytesWritten > 0 && r.totals.drops === 0);

    // Wait for a scrape after the run so the final counters are in; then query.
    let written = 0;
    let samples: Awaited<ReturnType<RunningPrometheus["query"]>> = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      samples = await prom.query('coderd_scaletest_bytes_written_total{workspace_name=~"scaletest-prom-.*"}');
      written = samples.reduce((s, x) => s + Number(x.value[1]), 0);
      if (written >= r.totals.bytesWritten) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    const targets = await prom.targets();
    assert.equal(targets[0]?.health, "up", `scrape target: ${JSON.stringify(targets)}\n${prom.output().slice(-1000)}`);
    assert.equal(written, r.totals.bytesWritten, "Prometheus saw every byte the run wrote");
    assert.equal(samples.length, 10, "one series per connection");
    for (const s of samples) {
      assert.match(s.metric["workspace_name"] ?? "", /^scaletest-prom-\d{4}$/);
      assert.equal(s.metric["agent_name"], "main");
      assert.ok(s.metric["username"]);
    }
    const read = await prom.query('sum(coderd_scaletest_bytes_read_total{workspace_name=~"scaletest-prom-.*"})');
    assert.ok(Number(read[0]?.value[1]) > 0, "bytes read counter is non-zero");
    // Scraped during the run, not only at the end: several samples per series within the run's window.
    const during = await prom.query('max(count_over_time(coderd_scaletest_bytes_written_total{workspace_name=~"scaletest-prom-.*"}[1m]))');
    assert.ok(Number(during[0]?.value[1]) >= 3, `samples per series: ${JSON.stringify(during)}`);
    const ticks = await prom.query('sum(scaletest_tick_latency_seconds_count{kind="web-terminal"})');
    assert.ok(Number(ticks[0]?.value[1]) > 0, "tick latency histogram scraped");
  } finally {
    await prom?.stop();
    await metrics.close();
    await ts.stop();
  }
});
