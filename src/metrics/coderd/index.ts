// Reading coderd's own metrics (its Prometheus endpoint, directly or through a Prometheus) for each phase.
export * from "./buckets.ts";
export * from "./exposition.ts";
export * from "./snapshot.ts";
export * from "./source.ts";
export { DirectSource, replicaName } from "./direct.ts";
export { PrometheusSource } from "./prometheus.ts";
export * from "./phase.ts";
export * from "./collector.ts";
