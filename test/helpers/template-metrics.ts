// Names for checking the Grafana dashboard's queries: what the runner's live Prometheus registry exports, and
// the metric names a PromQL expression reads.
import { prebuildsMetrics } from "../../src/prebuilds/metrics.ts";
import { taskStatusMetrics } from "../../src/task-status/metrics.ts";
import { capacityMetrics } from "../../src/capacity/metrics.ts";
import { autostartMetrics } from "../../src/autostart/metrics.ts";
import { getRegistry } from "../../src/metrics/index.ts";
import { workspaceUpdatesMetrics } from "../../src/workspace-updates/metrics.ts";
import { notificationsMetrics } from "../../src/notifications/metrics.ts";
import { dynamicParametersMetrics } from "../../src/dynamic-parameters/metrics.ts";
import { getTrafficMetrics } from "../../src/metrics/traffic.ts";
import { DashboardRecorder } from "../../src/dashboard/recorder.ts";

/**
 * name -> type of every metric the runner exports, read from the live registry after the modules that register
 * metrics have been exercised (traffic metrics and the dashboard recorder create theirs on first use).
 */
export async function liveRunnerMetrics(): Promise<Map<string, string>> {
  getTrafficMetrics();
  new DashboardRecorder("api");
  workspaceUpdatesMetrics();
  prebuildsMetrics();
  taskStatusMetrics();
  notificationsMetrics();
  capacityMetrics();
  autostartMetrics();
  dynamicParametersMetrics();
  const all = await getRegistry().getMetricsAsJSON();
  return new Map(all.map((m) => [m.name, String(m.type)]));
}

const KEYWORDS = new Set([
  "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "le",
]);

/** Metric names read by a PromQL expression (functions, label matchers, groupings and ranges removed). */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, " ") // label matchers
    .replace(/\[[^\]]*\]/g, " ") // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " "); // groupings
  const names = new Set<string>();
  for (const m of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)) {
    const [, name, call] = m;
    if (call || KEYWORDS.has(name as string) || /^\d/.test(name as string)) continue;
    names.add(name as string);
  }
  return [...names];
}
