// Coder's Prometheus series for this load type (scaletest/notifications/metrics.go, newest): same names,
// labels and buckets, served by the run's one metrics endpoint.
import { Counter, Histogram } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/registry.ts";
import type { NotificationsAction, NotificationType } from "./types.ts";

export const LATENCY_METRIC = "coderd_scaletest_notification_delivery_latency_seconds";
export const ERRORS_METRIC = "coderd_scaletest_notification_delivery_errors_total";

/** 1, 5, 10, 30, 60..900 by 60, 1200..4500 by 300, 5400, 7200 (Coder's buckets). */
export function latencyBuckets(): number[] {
  const b = [1, 5, 10, 30];
  for (let s = 60; s <= 900; s += 60) b.push(s);
  for (let s = 1200; s <= 4500; s += 300) b.push(s);
  b.push(5400, 7200);
  return b;
}

export interface NotificationsMetrics {
  latency(seconds: number, notificationId: string, type: NotificationType): void;
  error(action: NotificationsAction): void;
}

export function notificationsMetrics(): NotificationsMetrics {
  const latency = scenarioMetric(
    LATENCY_METRIC,
    () =>
      new Histogram({
        name: LATENCY_METRIC,
        help: "Time between notification trigger and receipt by the user",
        labelNames: ["notification_id", "notification_type"],
        buckets: latencyBuckets(),
        registers: [getRegistry()],
      }),
  );
  const errors = scenarioMetric(
    ERRORS_METRIC,
    () =>
      new Counter({
        name: ERRORS_METRIC,
        help: "Total number of notification delivery errors",
        labelNames: ["action"],
        registers: [getRegistry()],
      }),
  );
  return {
    latency: (s, notification_id, notification_type) => latency.observe({ notification_id, notification_type }, s),
    error: (action) => errors.inc({ action }),
  };
}
