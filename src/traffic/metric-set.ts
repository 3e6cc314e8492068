// The named metrics of a traffic run (src/thresholds/catalog.ts names them), for thresholds: "<kind>.tick",
// "<kind>.connection_error_rate", ... Latencies come from the encoded histograms the result carries, so a
// run re-judged from its files reads exactly what was judged at the end of the phase.
import { counter, gauge, latency, rate, rateSeries, valueSeries, type MetricSet } from "../thresholds/metrics.ts";
import type { TrafficResult } from "./result.ts";

export function trafficMetricSet(r: TrafficResult): MetricSet {
  if (r.kind === "mixed") throw new Error("trafficMetricSet needs the result of one traffic kind, not a mix");
  const k = r.kind;
  const t = r.totals;
  const connections = r.perConnection.length || t.connections;
  const failed = r.perConnection.filter((c) => c.status === "error").length;
  const seconds = r.durationMs / 1000;
  return {
    [`${k}.tick`]: latency({ labels: {}, histogram: r.histograms.tick }),
    [`${k}.dial`]: latency({ labels: {}, histogram: r.histograms.dial }),
    [`${k}.connection_error_rate`]: rate(rateSeries(failed, connections)),
    [`${k}.tick_loss_rate`]: rate(rateSeries(t.ticksLost, t.ticksCompleted + t.ticksLost)),
    [`${k}.drops`]: counter("count", valueSeries(t.drops)),
    [`${k}.reconnects`]: counter("count", valueSeries(t.reconnects)),
    [`${k}.errors`]: counter(
      "count",
      valueSeries(t.dialErrors, { type: "dial" }),
      valueSeries(t.readErrors, { type: "read" }),
      valueSeries(t.writeErrors, { type: "write" }),
    ),
    [`${k}.bytes`]: counter("bytes", valueSeries(t.bytesWritten, { direction: "write" }), valueSeries(t.bytesRead, { direction: "read" })),
    // Over the time actually run (an interrupted run is not divided by its planned duration).
    [`${k}.throughput`]: gauge(
      "bytes/s",
      ...(seconds > 0
        ? [valueSeries(t.bytesWritten / seconds, { direction: "write" }), valueSeries(t.bytesRead / seconds, { direction: "read" })]
        : []),
    ),
  };
}
