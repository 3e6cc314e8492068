export { getRegistry, configureMetrics, scenarioMetric, SHARD_ENV } from "./registry.ts";
export {
  FastCounter,
  FastGauge,
  FastHistogram,
  registerFast,
  type CounterChild,
  type GaugeChild,
  type HistogramChild,
  type LabelValues,
} from "./fast.ts";
export {
  TrafficMetrics,
  getTrafficMetrics,
  PROMETHEUS_DEFAULT_BUCKETS,
  TICK_LATENCY_BUCKETS,
  CODER_TRAFFIC_LABELS,
  type ConnectionMetrics,
  type ConnectionIdentity,
  type ConnectionState,
} from "./traffic.ts";
export { startMetricsServer, parseListenAddress, DEFAULT_METRICS_ADDRESS, type MetricsServerHandle } from "./server.ts";
