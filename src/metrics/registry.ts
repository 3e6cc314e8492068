/**
 * The process-wide Prometheus registry. Every scenario of a run registers into this one registry and one
 * HTTP endpoint (src/metrics/server.ts) serves it all.
 *
 * Other scenarios add their own metrics with prom-client, passing `registers: [getRegistry()]`, or with
 * `scenarioMetric()` below, which returns the already-registered metric when called twice with the same name
 * (scenario code may run more than once per process, e.g. in tests).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from "prom-client";

let registry: Registry | undefined;

/** Env var that sets the `shard` default label when `configureMetrics` was not called. */
export const SHARD_ENV = "SCALETEST_SHARD";

export function getRegistry(): Registry {
  if (!registry) {
    registry = new Registry();
    // process_cpu_seconds_total, process_resident_memory_bytes, nodejs_eventloop_lag_seconds, ...
    collectDefaultMetrics({ register: registry });
    const shard = process.env[SHARD_ENV];
    if (shard) registry.setDefaultLabels({ shard });
  }
  return registry;
}

/**
 * Sets labels added to every series of this process. `shard` ("i/n") lets dashboards tell the runner pods of
 * a sharded run apart; an empty string removes it.
 */
export function configureMetrics(opts: { shard?: string }): void {
  const reg = getRegistry();
  if (opts.shard !== undefined) reg.setDefaultLabels(opts.shard ? { shard: opts.shard } : {});
}

type PromMetric = Counter | Gauge | Histogram | Summary;

/**
 * Get-or-create for low-rate scenario metrics (create-workspaces stage durations, dashboard page latency...):
 *   const h = scenarioMetric("scaletest_dashboard_page_seconds", () => new Histogram({ name: ..., help: ...,
 *     labelNames: [...], registers: [getRegistry()] }));
 * The factory must register into getRegistry(). Per-tick metrics should use src/metrics/fast.ts instead.
 */
export function scenarioMetric<T extends PromMetric>(name: string, factory: () => T): T {
  const existing = getRegistry().getSingleMetric(name);
  if (existing) return existing as T;
  const m = factory();
  if (getRegistry().getSingleMetric(name) !== m) {
    throw new Error(`scenarioMetric(${name}): the factory must create "${name}" with registers: [getRegistry()]`);
  }
  return m;
}
