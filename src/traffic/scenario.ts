/**
 * A workspace-traffic scenario end to end, for one connection kind: settings -> target discovery ->
 * the kind's dialer -> the engine (runTraffic) -> result, verdict and text. Used by the scenario scripts
 * (scenarios/{web-terminal,ssh,app}-traffic.ts) and the pipeline alike.
 *
 *   const result = await runTrafficScenario(client, config, "web-terminal", { signal });
 *   const record = trafficPhaseRecord(result, config.runId, "web-terminal-traffic", config.thresholdTrafficErrorRate);
 *   const text = renderTrafficText(result, record.thresholds);
 *
 * Verdict: the error rate is the percentage of connections that ended in status "error" (never connected,
 * or dropped without a successful reconnect); the scenario passes when it is at most --max-error-rate
 * (default 0, i.e. any failed connection fails the run, like Coder's `total_fail > 0`).
 */
import type { CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { getTrafficMetrics, type TrafficMetrics } from "../metrics/index.ts";
import { HarnessResults, type HarnessResultsJSON } from "../results/harness.ts";
import { formatMs, formatTable } from "../results/stats.ts";
import { buildPhaseRecord, formatPhaseText, type PhaseRecord, type ThresholdResult } from "../results/summary.ts";
import type { StatsSummary } from "../results/stats.ts";
import { ALL_PREFIX, runPrefix } from "../util/naming.ts";
import { runTraffic, type TrafficProgress } from "./engine.ts";
import type { PercentileSummary } from "./histogram.ts";
import type { TrafficResult } from "./result.ts";
import type { TrafficDialer, TrafficKind } from "./transport.ts";
import { appDialer, fetchAppHost, type AppMode } from "./kinds/app.ts";
import { discoverTargets, type Discovered } from "./kinds/discover.ts";
import { ptyDialer } from "./kinds/pty.ts";
import { coderSshStdio, sshDialer, type SshStreamTransport } from "./kinds/ssh.ts";

/** Coder's harness test name for every traffic connection ("workspace-traffic/<index>"). */
export const TRAFFIC_TEST_NAME = "workspace-traffic";

export const TRAFFIC_SCRIPT: Record<TrafficKind, "ssh-traffic" | "web-terminal-traffic" | "app-traffic"> = {
  ssh: "ssh-traffic",
  "web-terminal": "web-terminal-traffic",
  app: "app-traffic",
};

export interface ScenarioLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface TrafficScenarioOptions {
  signal?: AbortSignal;
  /** "i/n"; default config.shard. */
  shard?: string;
  /**
   * "START:END" over the run's name-sorted workspaces; default config.targetWorkspaces. When given (the
   * pipeline passes each scenario's slice here), the percentage is NOT applied again unless `percentage` is.
   */
  targetRange?: string;
  /** Percentage of the (ranged) workspaces; default the kind's percentage setting (only without targetRange). */
  percentage?: number;
  /** Overrides the kind's duration setting (ms). */
  durationMs?: number;
  /** Workspace name prefix; default `scaletest-<runId>-`. Pass "scaletest-" to target every run (Coder's behaviour). */
  prefix?: string;
  log?: ScenarioLog;
  /** Default: the process's shared TrafficMetrics (served by the metrics endpoint when one is running). */
  metrics?: TrafficMetrics | null;
  /** SSH only: replaces `coder ssh --stdio` (tests, other tunnels). */
  sshTransport?: SshStreamTransport;
  /** SSH only: extra environment for the coder CLI. */
  coderEnv?: Record<string, string>;
  onProgress?: (p: TrafficProgress) => void;
  /** Engine knobs passed through (tests). */
  engine?: { dialTimeoutMs?: number; drainMs?: number; closeTimeoutMs?: number; reconnectBackoffMs?: number; maxReconnects?: number };
}

/** The kind's own settings, resolved from the config (per-kind values fall back to the shared ones). */
export interface KindSettings {
  durationMs: number;
  bytesPerTick: number;
  tickIntervalMs: number;
  percentage: number;
}

export function kindSettings(c: Config, kind: TrafficKind): KindSettings {
  switch (kind) {
    case "ssh":
      return { durationMs: c.sshDuration, bytesPerTick: c.sshBytesPerTick, tickIntervalMs: c.sshTickInterval, percentage: c.sshPercentage };
    case "web-terminal":
      return {
        durationMs: c.webTerminalDuration,
        bytesPerTick: c.webTerminalBytesPerTick,
        tickIntervalMs: c.webTerminalTickInterval,
        percentage: c.webTerminalPercentage,
      };
    case "app":
      return { durationMs: c.appDuration, bytesPerTick: c.appBytesPerTick, tickIntervalMs: c.appTickInterval, percentage: c.appPercentage };
  }
}

/** The run's workspace prefix: one run's, or every run's when asked. */
export function workspacePrefix(c: Config, allRuns: boolean): string {
  return allRuns ? ALL_PREFIX : runPrefix(c.runId);
}

const consoleLog: ScenarioLog = { info: () => {}, warn: () => {} };

/** The dialer for `kind` (discovery supplies the app records the app kind needs). */
async function dialerFor(
  client: CoderClient,
  c: Config,
  kind: TrafficKind,
  bytesPerTick: number,
  found: Discovered,
  opts: TrafficScenarioOptions,
  log: ScenarioLog,
  signal: AbortSignal,
): Promise<TrafficDialer> {
  switch (kind) {
    case "web-terminal":
      return ptyDialer(client, { bytesPerTick });
    case "ssh":
      return sshDialer({
        bytesPerTick,
        transport:
          opts.sshTransport ??
          coderSshStdio({ coderBinary: c.coderBinary, url: c.url, token: client.sessionToken, ...(opts.coderEnv ? { env: opts.coderEnv } : {}) }),
      });
    case "app": {
      const appHost = await fetchAppHost(client, signal);
      return appDialer(client, {
        mode: c.appMode as AppMode,
        agents: found.agents,
        appHost,
        warn: (m) => log.warn(m),
      });
    }
  }
}

/**
 * Runs one traffic scenario and returns the engine's result. Throws (before any traffic) on bad target
 * selections or when no workspace matches.
 */
export async function runTrafficScenario(
  client: CoderClient,
  config: Config,
  kind: TrafficKind,
  opts: TrafficScenarioOptions = {},
): Promise<TrafficResult> {
  const log = opts.log ?? consoleLog;
  const ks = kindSettings(config, kind);
  const durationMs = opts.durationMs ?? ks.durationMs;
  // --timeout bounds everything, dialing and closing included (0 = duration + 2 minutes).
  const hardLimitMs = config.trafficTimeout > 0 ? config.trafficTimeout : durationMs + 120_000;
  const signals = [AbortSignal.timeout(hardLimitMs)];
  if (opts.signal) signals.push(opts.signal);
  const signal = AbortSignal.any(signals);

  const prefix = opts.prefix ?? runPrefix(config.runId);
  const targetRange = opts.targetRange ?? config.targetWorkspaces;
  const percentage = opts.percentage ?? (opts.targetRange === undefined ? ks.percentage : undefined);
  const found = await discoverTargets(client, {
    prefix,
    targetWorkspaces: targetRange,
    targetUsers: config.targetUsers,
    ...(percentage !== undefined ? { percentage } : {}),
    shard: opts.shard ?? config.shard,
    signal,
  });
  if (found.skipped.length) {
    log.warn(`${TRAFFIC_SCRIPT[kind]}: skipping ${found.skipped.length} workspace(s) without an agent: ${found.skipped.slice(0, 5).join(", ")}${found.skipped.length > 5 ? ", ..." : ""}`);
  }
  if (found.targets.length === 0) {
    throw new Error(`${TRAFFIC_SCRIPT[kind]}: none of the selected ${prefix}* workspaces has an agent to connect to`);
  }
  const first = found.targets[0]!;
  const last = found.targets[found.targets.length - 1]!;
  log.info(
    `${TRAFFIC_SCRIPT[kind]}: ${found.targets.length} connection(s) to ${first.workspaceName}..${last.workspaceName} ` +
      `(${found.candidates} ${prefix}* workspaces), ${ks.bytesPerTick} B every ${formatMs(ks.tickIntervalMs)} for ${formatMs(durationMs)}` +
      `${config.reconnect ? ", reconnecting dropped connections" : ""}`,
  );
  const dialer = await dialerFor(client, config, kind, ks.bytesPerTick, found, opts, log, signal);
  const metrics = opts.metrics === undefined ? getTrafficMetrics() : opts.metrics;
  const shard = opts.shard ?? config.shard;
  let lastLog = 0;
  return runTraffic({
    targets: found.targets,
    dialer,
    bytesPerTick: ks.bytesPerTick,
    tickIntervalMs: ks.tickIntervalMs,
    durationMs,
    rampMs: Math.min(config.ramp, Math.max(0, durationMs - 1)),
    reconnect: config.reconnect,
    signal,
    ...(metrics ? { metrics } : {}),
    ...(shard && shard !== "0/1" ? { shard } : {}),
    ...opts.engine,
    onProgress: (p) => {
      opts.onProgress?.(p);
      if (p.elapsedMs - lastLog >= 10_000) {
        lastLog = p.elapsedMs;
        const s = p.lastSecond;
        log.info(
          `${TRAFFIC_SCRIPT[kind]}: ${formatMs(p.elapsedMs)} open ${p.connections.open}/${found.targets.length}, ` +
            `${(s.bytesWritten / 1024).toFixed(0)} KiB/s out, ${(s.bytesRead / 1024).toFixed(0)} KiB/s in, ` +
            `tick p95 ${formatMs(s.p95)}, drops ${p.totals.drops}, errors ${p.totals.readErrors + p.totals.writeErrors + p.totals.dialErrors}`,
        );
      }
    },
  });
}

// ---- verdict, JSON and text ----------------------------------------------------------------------

/** Percentage (0..100) of connections that ended in error. */
export function trafficErrorRate(r: TrafficResult): number {
  const n = r.perConnection.length || r.totals.connections;
  if (n === 0) return 0;
  const failed = r.perConnection.filter((c) => c.status === "error").length;
  return (failed / n) * 100;
}

export function trafficThresholds(r: TrafficResult, maxErrorRatePct: number): ThresholdResult[] {
  const rate = trafficErrorRate(r);
  // A run cut short (stop signal or --timeout) did not measure what was asked: say so as a failed check.
  const early: ThresholdResult[] =
    r.endReason === "aborted"
      ? [{ name: `${r.kind} traffic ran its full duration`, rule: "not stopped early", observed: r.durationMs, ok: false, unit: "ms" }]
      : [];
  return [
    ...early,
    {
      name: `${r.kind} traffic connection error rate`,
      rule: `error rate <= ${maxErrorRatePct}%`,
      observed: rate / 100,
      ok: rate <= maxErrorRatePct,
      unit: "ratio",
    },
  ];
}

/** Exit status: 0 when every threshold holds and the run was not interrupted. */
export function trafficExitCode(r: TrafficResult, thresholds: readonly ThresholdResult[]): number {
  return r.endReason === "aborted" || thresholds.some((t) => !t.ok) ? 1 : 0;
}

function toStats(p: PercentileSummary): StatsSummary {
  if (p.count === 0) return { count: 0, p50: null, p95: null, p99: null, max: null, mean: null, min: null };
  return { count: p.count, p50: p.p50, p95: p.p95, p99: p.p99, max: p.max, mean: p.mean, min: p.min };
}

/** Coder's harness results: one run "workspace-traffic/<index>" per connection, plus our counters. */
export function trafficHarnessJSON(r: TrafficResult): HarnessResultsJSON {
  const h = new HarnessResults();
  for (const c of r.perConnection) {
    const t = c.target;
    h.add({
      testName: TRAFFIC_TEST_NAME,
      id: c.shard ? `${c.shard.replace("/", "of")}-${t.index}` : t.index,
      startedAt: r.startedAt,
      durationMs: r.durationMs,
      error: c.status === "error" ? (c.errors[c.errors.length - 1] ?? "connection failed") : null,
      logs: c.errors.length ? c.errors.map((e) => `${e}\n`).join("") : "",
      extra: {
        workspace: `${t.ownerName}/${t.workspaceName}`,
        agent: t.agentName,
        status: c.status,
        bytes_written: c.bytesWritten,
        bytes_read: c.bytesRead,
        ticks_sent: c.ticksSent,
        ticks_completed: c.ticksCompleted,
        drops: c.drops,
        reconnects: c.reconnects,
        tick_latency_ms: c.tickLatency,
      },
    });
  }
  return h.toJSON(r.durationMs, { kind: r.kind, mode: r.mode });
}

/** Throughput the run asked for and achieved, bytes per second over the whole run. */
export function trafficThroughput(r: TrafficResult): { targetBps: number; writtenBps: number; readBps: number } {
  const secs = Math.max(0.001, r.settings.durationMs / 1000);
  const targetBps = (r.totals.connections * r.settings.bytesPerTick * 1000) / Math.max(1, r.settings.tickIntervalMs);
  return { targetBps, writtenBps: r.totals.bytesWritten / secs, readBps: r.totals.bytesRead / secs };
}

/** The phase record (result.json) of a traffic scenario; `extra.traffic` is the engine's full result. */
export function trafficPhaseRecord(r: TrafficResult, runId: string, phase: string, maxErrorRatePct: number, interruptedBy: PhaseRecord["interrupted_by"] = null): PhaseRecord {
  const thresholds = trafficThresholds(r, maxErrorRatePct);
  const tp = trafficThroughput(r);
  return buildPhaseRecord({
    runId,
    phase,
    startedAt: new Date(r.startedAt),
    endedAt: new Date(r.endedAt),
    harness: trafficHarnessJSON(r),
    stages: { tick: toStats(r.latency.tick), dial: toStats(r.latency.dial) },
    thresholds,
    interruptedBy,
    extra: {
      kind: r.kind,
      mode: r.mode,
      settings: r.settings,
      totals: r.totals,
      error_rate_pct: Math.round(trafficErrorRate(r) * 100) / 100,
      throughput_bytes_per_second: { target: Math.round(tp.targetBps), written: Math.round(tp.writtenBps), read: Math.round(tp.readBps) },
      traffic: r,
    },
  });
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** Text summary: Coder's harness text (failures, totals), then traffic totals, latency and the verdict. */
export function renderTrafficText(r: TrafficResult, thresholds: readonly ThresholdResult[]): string {
  const rec = trafficPhaseRecord(r, "", TRAFFIC_SCRIPT[r.kind === "mixed" ? "web-terminal" : r.kind], 100);
  const failed = thresholds.some((t) => !t.ok) || r.endReason === "aborted";
  let out = formatPhaseText({ ...rec, status: failed ? "fail" : "pass", thresholds: [...thresholds], stages: {} });
  const t = r.totals;
  const tp = trafficThroughput(r);
  out += `\nTraffic (${r.kind}, mode ${r.mode}${r.shard ? `, shard ${r.shard}` : ""}): ${t.connections} connection(s), `;
  out += `${r.settings.bytesPerTick} B every ${formatMs(r.settings.tickIntervalMs)} for ${formatMs(r.settings.durationMs)}`;
  out += r.settings.rampMs ? `, ramp ${formatMs(r.settings.rampMs)}` : "";
  out += `, reconnect ${r.settings.reconnect ? "on" : "off"}${r.endReason === "aborted" ? " (stopped early)" : ""}\n`;
  out += `  written ${bytes(t.bytesWritten)} (${bytes(Math.round(tp.writtenBps))}/s of ${bytes(Math.round(tp.targetBps))}/s target), read ${bytes(t.bytesRead)}\n`;
  out += `  ticks ${t.ticksCompleted}/${t.ticksSent} completed, ${t.ticksLost} lost\n`;
  out += `  drops ${t.drops}, reconnects ${t.reconnects}, dial errors ${t.dialErrors}, read errors ${t.readErrors}, write errors ${t.writeErrors}\n`;
  const statuses = { ok: 0, dropped: 0, error: 0 };
  for (const c of r.perConnection) statuses[c.status]++;
  out += `  connections ok ${statuses.ok}, dropped and re-established ${statuses.dropped}, failed ${statuses.error}\n`;
  const rows = [
    { name: "tick latency", s: r.latency.tick },
    { name: "dial", s: r.latency.dial },
  ];
  out +=
    "\n" +
    formatTable(rows, [
      { header: "", value: "name" },
      { header: "count", value: (x) => x.s.count, align: "right" },
      { header: "p50", value: (x) => formatMs(x.s.count ? x.s.p50 : null), align: "right" },
      { header: "p95", value: (x) => formatMs(x.s.count ? x.s.p95 : null), align: "right" },
      { header: "p99", value: (x) => formatMs(x.s.count ? x.s.p99 : null), align: "right" },
      { header: "max", value: (x) => formatMs(x.s.count ? x.s.max : null), align: "right" },
    ]);
  if (r.errors.length) {
    out += `\nFirst errors${r.errorsOmitted ? ` (${r.errorsOmitted} more not listed)` : ""}:\n`;
    for (const e of r.errors.slice(0, 10)) out += `  ${e.at} ${e.target}: ${e.message}\n`;
  }
  out += `\nResult: ${trafficExitCode(r, thresholds) === 0 ? "PASS" : "FAIL"}\n`;
  return out;
}
