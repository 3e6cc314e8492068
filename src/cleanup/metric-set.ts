// The named metrics of a cleanup (src/thresholds/catalog.ts names them), for thresholds.
import { counter, gauge, latency, latencyFromSamples, valueSeries, type MetricSet } from "../thresholds/metrics.ts";
import type { CleanupResult } from "./types.ts";

export function cleanupMetricSet(r: CleanupResult): MetricSet {
  const items = { workspace: r.workspaces, user: r.users };
  return {
    // Deletions actually attempted: items never reached (the cleanup stopped) have no duration.
    "cleanup.delete": latency(
      ...Object.entries(items).map(([kind, list]) => latencyFromSamples(list.filter((i) => i.attempts > 0).map((i) => i.duration_ms), { kind })),
    ),
    "cleanup.failures": counter("count", ...Object.entries(items).map(([kind, list]) => valueSeries(list.filter((i) => !i.ok).length, { kind }))),
    "cleanup.remaining": gauge("count", valueSeries(r.remaining.length)),
  };
}
