/**
 * Workspace-traffic metrics.
 *
 * Coder's own series (scaletest/workspacetraffic/metrics.go), same names, types, labels and default buckets,
 * so existing Coder dashboards keep working:
 *   coderd_scaletest_bytes_read_total, coderd_scaletest_bytes_written_total,
 *   coderd_scaletest_read_errors_total, coderd_scaletest_write_errors_total   (counters)
 *   coderd_scaletest_read_latency_seconds, coderd_scaletest_write_latency_seconds (histograms)
 *   labels: username, workspace_name, agent_name
 * Ours:
 *   scaletest_tick_latency_seconds{kind}     tick latency from the intended send time (1 ms..10 s buckets)
 *   scaletest_dial_seconds{kind}             connection establishment time
 *   scaletest_connections{kind,state}        gauge: queued | dialing | open | reconnecting | closed | failed
 *   scaletest_drops_total{kind}, scaletest_reconnects_total{kind}
 * plus the `shard` default label on everything when configured (src/metrics/registry.ts).
 *
 * As in Coder, series for a connection start at 0 when it is set up. If two scenarios of one process hit
 * the same workspace, their Coder-named series add up (Coder's labels carry no kind).
 */
import type { Registry } from "prom-client";
import {
  FastCounter,
  FastGauge,
  FastHistogram,
  labelSet,
  registerFast,
  type CounterChild,
  type GaugeChild,
  type HistogramChild,
} from "./fast.ts";
import { getRegistry } from "./registry.ts";

/** prometheus.DefBuckets, which Coder's histograms use. */
export const PROMETHEUS_DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const TICK_LATENCY_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

export const CODER_TRAFFIC_LABELS = ["username", "workspace_name", "agent_name"] as const;

/** "queued": waiting for a --job-concurrency slot. */
export type ConnectionState = "queued" | "dialing" | "open" | "reconnecting" | "closed" | "failed";

/** What the engine needs for one connection; every member is resolved once, then only updated. */
export interface ConnectionMetrics {
  bytesRead: CounterChild;
  bytesWritten: CounterChild;
  readErrors: CounterChild;
  writeErrors: CounterChild;
  /** seconds */
  readLatency: HistogramChild;
  /** seconds */
  writeLatency: HistogramChild;
  /** seconds */
  tickLatency: HistogramChild;
  /** seconds */
  dial: HistogramChild;
  drops: CounterChild;
  reconnects: CounterChild;
}

export interface ConnectionIdentity {
  kind: string;
  username: string;
  workspaceName: string;
  agentName: string;
}

export class TrafficMetrics {
  readonly bytesRead: FastCounter;
  readonly bytesWritten: FastCounter;
  readonly readErrors: FastCounter;
  readonly writeErrors: FastCounter;
  readonly readLatency: FastHistogram;
  readonly writeLatency: FastHistogram;
  readonly tickLatency: FastHistogram;
  readonly dial: FastHistogram;
  readonly connections: FastGauge;
  readonly drops: FastCounter;
  readonly reconnects: FastCounter;

  constructor(registry: Registry) {
    const labels = CODER_TRAFFIC_LABELS;
    this.bytesRead = registerFast(
      registry,
      new FastCounter("coderd_scaletest_bytes_read_total", "Total number of bytes read.", labels),
    );
    this.bytesWritten = registerFast(
      registry,
      new FastCounter("coderd_scaletest_bytes_written_total", "Total number of bytes written.", labels),
    );
    this.readErrors = registerFast(
      registry,
      new FastCounter("coderd_scaletest_read_errors_total", "Total number of read errors.", labels),
    );
    this.writeErrors = registerFast(
      registry,
      new FastCounter("coderd_scaletest_write_errors_total", "Total number of write errors.", labels),
    );
    this.readLatency = registerFast(
      registry,
      new FastHistogram(
        "coderd_scaletest_read_latency_seconds",
        "Read latency in seconds.",
        labels,
        PROMETHEUS_DEFAULT_BUCKETS,
      ),
    );
    this.writeLatency = registerFast(
      registry,
      new FastHistogram(
        "coderd_scaletest_write_latency_seconds",
        "Write latency in seconds.",
        labels,
        PROMETHEUS_DEFAULT_BUCKETS,
      ),
    );
    this.tickLatency = registerFast(
      registry,
      new FastHistogram(
        "scaletest_tick_latency_seconds",
        "Workspace traffic tick latency in seconds, measured from the tick's intended send time.",
        ["kind"],
        TICK_LATENCY_BUCKETS,
      ),
    );
    this.dial = registerFast(
      registry,
      new FastHistogram(
        "scaletest_dial_seconds",
        "Time to establish a workspace traffic connection, in seconds.",
        ["kind"],
        PROMETHEUS_DEFAULT_BUCKETS,
      ),
    );
    this.connections = registerFast(
      registry,
      new FastGauge("scaletest_connections", "Workspace traffic connections by state.", ["kind", "state"]),
    );
    this.drops = registerFast(
      registry,
      new FastCounter("scaletest_drops_total", "Connections that closed unexpectedly before the end.", ["kind"]),
    );
    this.reconnects = registerFast(
      registry,
      new FastCounter("scaletest_reconnects_total", "Connections re-established after a drop.", ["kind"]),
    );
  }

  /** Resolves (and zero-initialises) every series one connection touches. Call once per connection. */
  connection(id: ConnectionIdentity): ConnectionMetrics {
    // One key and one labels object for the connection's six series (src/metrics/fast.ts labelSet).
    const l = labelSet(CODER_TRAFFIC_LABELS, { username: id.username, workspace_name: id.workspaceName, agent_name: id.agentName });
    const k = { kind: id.kind };
    return {
      bytesRead: this.bytesRead.labels(l),
      bytesWritten: this.bytesWritten.labels(l),
      readErrors: this.readErrors.labels(l),
      writeErrors: this.writeErrors.labels(l),
      readLatency: this.readLatency.labels(l),
      writeLatency: this.writeLatency.labels(l),
      tickLatency: this.tickLatency.labels(k),
      dial: this.dial.labels(k),
      drops: this.drops.labels(k),
      reconnects: this.reconnects.labels(k),
    };
  }

  /** Gauge child for connections of `kind` in `state` (the engine moves connections between states). */
  connectionState(kind: string, state: ConnectionState): GaugeChild {
    return this.connections.labels({ kind, state });
  }
}

let shared: TrafficMetrics | undefined;

/** The process's TrafficMetrics on getRegistry() (created on first use). */
export function getTrafficMetrics(): TrafficMetrics {
  shared ??= new TrafficMetrics(getRegistry());
  return shared;
}
