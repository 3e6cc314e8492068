/**
 * Our traffic engine (src/traffic/engine.ts runTraffic) driving the benchmark workload, with the product's
 * Prometheus metrics enabled as in a real run.
 *
 *   node --import tsx bench/clients/ours.ts --url ws://127.0.0.1:PORT/ --conns N [--bytes --interval --duration --ramp]
 */
import { Registry } from "prom-client";
import { runTraffic } from "../../src/traffic/engine.ts";
import type { TrafficTarget } from "../../src/traffic/transport.ts";
import { TrafficMetrics } from "../../src/metrics/traffic.ts";
import { benchWsDialer } from "../lib/ws-dialer.ts";
import { argOf, parseWorkload, REPORT_PREFIX, type ClientReport } from "../lib/workload.ts";

const argv = process.argv.slice(2);
const url = argOf(argv, "url");
const w = parseWorkload(argv);

const targets: TrafficTarget[] = Array.from({ length: w.conns }, (_, i) => {
  const name = `scaletest-bench-${String(i).padStart(4, "0")}`;
  return { workspaceId: `w${i}`, workspaceName: name, ownerName: name, agentId: `a${i}`, agentName: "main", index: i };
});

const r = await runTraffic({
  targets,
  dialer: benchWsDialer(url),
  bytesPerTick: w.bytesPerTick,
  tickIntervalMs: w.intervalMs,
  durationMs: w.durationMs,
  rampMs: w.rampMs,
  metrics: new TrafficMetrics(new Registry()),
});
const t = r.totals;
const report: ClientReport = {
  tool: "ours",
  ticksSent: t.ticksSent,
  ticksCompleted: t.ticksCompleted,
  errors: t.dialErrors + t.drops + t.readErrors + t.writeErrors,
  errorSamples: r.errors.slice(0, 5).map((e) => `${e.target}: ${e.message}`),
  lag: { count: r.latency.tick.count, p50: r.latency.tick.p50, p99: r.latency.tick.p99, max: r.latency.tick.max },
};
process.stdout.write(REPORT_PREFIX + JSON.stringify(report) + "\n");
process.exit(0);
