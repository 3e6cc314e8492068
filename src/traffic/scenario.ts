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
import { CoderApiError } from "../coder/errors.ts";
import type { SettingKey } from "../config/index.ts";
import { counter, gauge, histogramSeries, latency, rate, ratio, value } from "../results/metric-set.ts";
import type { MetricSetJSON } from "../results/schema.ts";
import { presetThresholds } from "../thresholds/presets.ts";
import { formatMs } from "../results/stats.ts";
import { formatBytes } from "../results/units.ts";
import type { PhaseResult, Runner, RunnerContext } from "../scenario/runner.ts";
import { withTimeout } from "../util/abort.ts";
import { BadInputError } from "../util/errors.ts";
import { parseShard, parseTargetRange } from "./targets.ts";
import { ALL_PREFIX, runPrefix } from "../util/naming.ts";
import { runTraffic, type TrafficProgress } from "./engine.ts";
import { TrafficProgressLine } from "./progress.ts";
import { shardJobConcurrency, trafficWaves } from "./queue.ts";
import type { PercentileSummary } from "./histogram.ts";
import type { TrafficResult } from "./result.ts";
import type { TrafficDialer, TrafficKind } from "./transport.ts";
import { appDialer, appProblems, fetchAppHost, type AppMode } from "./kinds/app.ts";
import { assertTokenDestination } from "../coder/destinations.ts";
import { discoverTargets, type Discovered } from "./kinds/discover.ts";
import { ptyDialer } from "./kinds/pty.ts";
import { checkCoderCli, coderSshStdio, sshDialer, type CoderCliInfo, type SshStreamTransport } from "./kinds/ssh.ts";

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
    case "web-terminal": {
      // As Coder's runner: the PTY goes through its web client, the one made on --workspace-proxy-url.
      const proxyUrl = workspaceProxyUrl(client.url, c);
      return ptyDialer(client, { bytesPerTick, ...(proxyUrl ? { proxyUrl } : {}) });
    }
    case "ssh":
      return sshDialer({
        bytesPerTick,
        transport:
          opts.sshTransport ??
          coderSshStdio({ coderBinary: c.coderBinary, url: c.url, token: client.sessionToken, ...(opts.coderEnv ? { env: opts.coderEnv } : {}) }),
      });
    case "app": {
      const appHost = await fetchAppHost(client, signal);
      const slug = c.app || c.appMode;
      // As Coder's CLI builds every app config before any traffic: a missing app or a subdomain app without an
      // app host is one clear error up front.
      const problems = appProblems(found.targets, found.agents, slug, appHost);
      if (problems.length) throw new BadInputError(`app-traffic: ${problems.join("; ")}`);
      const proxyUrl = workspaceProxyUrl(client.url, c);
      return appDialer(client, {
        mode: c.appMode as AppMode,
        slug,
        agents: found.agents,
        appHost,
        ...(proxyUrl ? { proxyUrl } : {}),
        warn: (m) => log.warn(m),
      });
    }
  }
}

/**
 * --workspace-proxy-url, checked: an http(s) URL whose origin may receive the run's token (the deployment's
 * domain or --trusted-origins), else BadInputError before any traffic.
 */
export function workspaceProxyUrl(deployment: URL, c: Config): URL | undefined {
  if (!c.workspaceProxyUrl) return undefined;
  let u: URL;
  try {
    u = new URL(c.workspaceProxyUrl);
  } catch {
    throw new BadInputError(`--workspace-proxy-url ${JSON.stringify(c.workspaceProxyUrl)} is not a URL (give e.g. https://proxy.example.com)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new BadInputError(`--workspace-proxy-url must be http(s)://, got ${u.protocol}//`);
  try {
    assertTokenDestination(deployment, new URL(u.href.replace(/^http/, "ws")), c.trustedOrigins);
  } catch (e) {
    throw new BadInputError(`--workspace-proxy-url ${u.origin}: ${(e as Error).message}`);
  }
  return u;
}

/** The targets and dialer of a scenario, found before any traffic (read-only). */
export interface PreparedTraffic {
  found: Discovered;
  durationMs: number;
  ks: KindSettings;
  prefix: string;
}

/**
 * Finds the scenario's targets. Throws BadInputError (before any traffic) on bad target selections or when
 * no workspace matches; API failures stay what they are.
 */
export async function prepareTraffic(
  client: CoderClient,
  config: Config,
  kind: TrafficKind,
  opts: TrafficScenarioOptions = {},
): Promise<PreparedTraffic> {
  const log = opts.log ?? consoleLog;
  const ks = kindSettings(config, kind);
  const durationMs = opts.durationMs ?? ks.durationMs;
  const prefix = opts.prefix ?? runPrefix(config.runId);
  const targetRange = opts.targetRange ?? config.targetWorkspaces;
  const percentage = opts.percentage ?? (opts.targetRange === undefined ? ks.percentage : undefined);
  let found: Discovered;
  try {
    found = await discoverTargets(client, {
      prefix,
      ...(config.templateFilter ? { template: config.templateFilter } : {}),
      targetWorkspaces: targetRange,
      targetUsers: config.targetUsers,
      ...(config.userPool ? { userPool: config.userPool } : {}),
      ...(percentage !== undefined ? { percentage } : {}),
      shard: opts.shard ?? config.shard,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (e) {
    // The selection itself (ranges, shard, percentage, no matching workspace) is the user's input.
    if (e instanceof CoderApiError || opts.signal?.aborted || !(e instanceof Error) || e.name !== "Error") throw e;
    throw new BadInputError(`${TRAFFIC_SCRIPT[kind]}: ${e.message}`);
  }
  if (found.skipped.length) {
    log.warn(`${TRAFFIC_SCRIPT[kind]}: skipping ${found.skipped.length} workspace(s) without an agent: ${found.skipped.slice(0, 5).join(", ")}${found.skipped.length > 5 ? ", ..." : ""}`);
  }
  if (found.targets.length === 0) {
    throw new BadInputError(`${TRAFFIC_SCRIPT[kind]}: none of the selected ${prefix}* workspaces has an agent to connect to`);
  }
  return { found, durationMs, ks, prefix };
}

/**
 * --traffic-timeout 0: ramp + duration + 2 minutes (each connection's window starts when its dial completes);
 * with a job concurrency below the connection count, the windows run in `waves` back to back, each with its
 * dial and close (one more minute per further wave).
 */
export function trafficAutoTimeoutMs(rampMs: number, durationMs: number, waves = 1): number {
  return rampMs + waves * durationMs + 120_000 + (waves - 1) * 60_000;
}

/** Runs one traffic scenario and returns the engine's result (prepareTraffic, then the engine). */
export async function runTrafficScenario(
  client: CoderClient,
  config: Config,
  kind: TrafficKind,
  opts: TrafficScenarioOptions = {},
): Promise<TrafficResult> {
  return runPrepared(client, config, kind, await prepareTraffic(client, config, kind, opts), opts);
}

/** The engine over prepared targets. --timeout bounds everything, dialing and closing included. */
export async function runPrepared(
  client: CoderClient,
  config: Config,
  kind: TrafficKind,
  prep: PreparedTraffic,
  opts: TrafficScenarioOptions = {},
): Promise<TrafficResult> {
  const log = opts.log ?? consoleLog;
  const { found, durationMs, ks, prefix } = prep;
  const shard = opts.shard ?? config.shard;
  // This process's share of the run-wide limit (all of it unless it is one of several shards).
  const jobConcurrency = shardJobConcurrency(config.jobConcurrency, parseShard(shard));
  const rampMs = Math.min(config.ramp, Math.max(0, durationMs - 1));
  const hardLimitMs = config.trafficTimeout > 0 ? config.trafficTimeout : trafficAutoTimeoutMs(rampMs, durationMs, trafficWaves(found.targets.length, jobConcurrency));
  const { signal } = withTimeout(opts.signal, hardLimitMs);
  const first = found.targets[0]!;
  const last = found.targets[found.targets.length - 1]!;
  log.info(
    `${TRAFFIC_SCRIPT[kind]}: ${found.targets.length} connection(s) to ${first.workspaceName}..${last.workspaceName} ` +
      `(${found.candidates} ${prefix}* workspaces), ${ks.bytesPerTick} B every ${formatMs(ks.tickIntervalMs)} for ${formatMs(durationMs)}` +
      `${config.reconnect ? ", reconnecting dropped connections" : ""}` +
      `${jobConcurrency > 0 && jobConcurrency < found.targets.length ? `, at most ${jobConcurrency} at once (the others queue)` : ""}`,
  );
  const dialer = await dialerFor(client, config, kind, ks.bytesPerTick, found, opts, log, signal);
  const metrics = opts.metrics === undefined ? getTrafficMetrics() : opts.metrics;
  const line = new TrafficProgressLine(TRAFFIC_SCRIPT[kind], found.targets.length);
  return runTraffic({
    targets: found.targets,
    dialer,
    bytesPerTick: ks.bytesPerTick,
    tickIntervalMs: ks.tickIntervalMs,
    durationMs,
    rampMs,
    jobConcurrency,
    reconnect: config.reconnect,
    signal,
    ...(metrics ? { metrics } : {}),
    ...(shard && shard !== "0/1" ? { shard } : {}),
    ...opts.engine,
    onProgress: (p) => {
      opts.onProgress?.(p);
      line.add(p);
      if (line.intervalMs(p) >= 10_000) log.info(line.render(p));
    },
  });
}

// ---- the runner: metrics, headline, phase result --------------------------------------------------

/** Connections that ended in error (never connected, or dropped without a successful reconnect). */
export function failedConnections(r: TrafficResult): number {
  return r.perConnection.filter((c) => c.status === "error").length;
}

/** Percentage (0..100) of connections that ended in error. */
export function trafficErrorRate(r: TrafficResult): number {
  const n = r.perConnection.length || r.totals.connections;
  return n === 0 ? 0 : (failedConnections(r) / n) * 100;
}

/** Throughput the run asked for and achieved, bytes per second over the time it actually ran. */
export function trafficThroughput(r: TrafficResult): { targetBps: number; writtenBps: number; readBps: number } {
  const secs = Math.max(0.001, r.durationMs / 1000);
  const targetBps = (r.totals.connections * r.settings.bytesPerTick * 1000) / Math.max(1, r.settings.tickIntervalMs);
  return { targetBps, writtenBps: r.totals.bytesWritten / secs, readBps: r.totals.bytesRead / secs };
}

function exactOf(p: PercentileSummary): { count: number; sumMs: number; minMs: number; maxMs: number } | undefined {
  return p.count > 0 ? { count: p.count, sumMs: p.mean * p.count, minMs: p.min, maxMs: p.max } : undefined;
}

/**
 * Named metrics of a traffic result (names in src/thresholds/catalog.ts): <kind>.tick and <kind>.dial latencies,
 * <kind>.connection_error_rate, <kind>.tick_loss_rate, <kind>.drops, <kind>.reconnects, <kind>.errors{type},
 * <kind>.bytes{direction} and <kind>.throughput{direction} (bytes/s over the time actually run).
 */
export function trafficMetricSet(r: TrafficResult, kind: string = r.kind): MetricSetJSON {
  const tp = trafficThroughput(r);
  const t = r.totals;
  return {
    [`${kind}.tick`]: latency(histogramSeries(r.histograms.tick, {}, exactOf(r.latency.tick))),
    [`${kind}.dial`]: latency(histogramSeries(r.histograms.dial, {}, exactOf(r.latency.dial))),
    [`${kind}.connection_error_rate`]: rate(ratio(failedConnections(r), r.perConnection.length || t.connections)),
    [`${kind}.tick_loss_rate`]: rate(ratio(t.ticksLost, t.ticksCompleted + t.ticksLost)),
    [`${kind}.drops`]: counter("count", value(t.drops)),
    [`${kind}.reconnects`]: counter("count", value(t.reconnects)),
    [`${kind}.errors`]: counter("count", value(t.dialErrors, { type: "dial" }), value(t.readErrors, { type: "read" }), value(t.writeErrors, { type: "write" })),
    [`${kind}.bytes`]: counter("bytes", value(t.bytesWritten, { direction: "write" }), value(t.bytesRead, { direction: "read" })),
    [`${kind}.throughput`]: gauge("bytes/s", value(Math.round(tp.writtenBps), { direction: "write" }), value(Math.round(tp.readBps), { direction: "read" })),
  };
}

/** The typed phase result of a traffic run: one unit per connection ("workspace-traffic/<index>"). */
export function trafficPhaseResult(r: TrafficResult, extra: Record<string, unknown> = {}): PhaseResult {
  const kind = r.kind;
  const metrics = trafficMetricSet(r);
  const tp = trafficThroughput(r);
  return {
    startedAt: new Date(r.startedAt),
    endedAt: new Date(r.endedAt),
    activeMs: r.durationMs,
    units: r.perConnection.map((c) => ({
      testName: TRAFFIC_TEST_NAME,
      id: c.shard ? `${c.shard.replace("/", "of")}-${c.target.index}` : String(c.target.index),
      name: `${c.target.ownerName}/${c.target.workspaceName}`,
      ok: c.status !== "error",
      error: c.status === "error" ? (c.errors[c.errors.length - 1] ?? "connection failed") : null,
      startedAt: new Date(r.startedAt),
      durationMs: r.durationMs,
      stages: { dial: c.dialMs, tick_p95: c.tickLatency.count ? c.tickLatency.p95 : null },
      logs: c.errors.length ? c.errors.map((e) => `${e}\n`).join("") : "",
      extra: {
        workspace: `${c.target.ownerName}/${c.target.workspaceName}`, agent: c.target.agentName, status: c.status,
        bytes_written: c.bytesWritten, bytes_read: c.bytesRead, ticks_sent: c.ticksSent, ticks_completed: c.ticksCompleted,
        drops: c.drops, reconnects: c.reconnects, tick_latency_ms: c.tickLatency,
      },
    })),
    metrics,
    headline: [
      { label: "tick p95", value: r.latency.tick.count ? r.latency.tick.p95 : null, unit: "ms" },
      { label: "p99", value: r.latency.tick.count ? r.latency.tick.p99 : null, unit: "ms" },
      { label: "bytes", value: r.totals.bytesWritten + r.totals.bytesRead, unit: "bytes" },
      { label: "rate", value: Math.round(tp.writtenBps + tp.readBps), unit: "bytes/s" },
      { label: "failed connections", value: failedConnections(r), unit: "count" },
    ],
    errors: r.errors.slice(0, 10).map((e) => `${e.target}: ${e.message}`),
    stoppedEarly: r.endReason === "aborted",
    harnessExtra: { kind: r.kind, mode: r.mode },
    extra: {
      kind: r.kind,
      mode: r.mode,
      settings: r.settings,
      totals: r.totals,
      error_rate_pct: Math.round(trafficErrorRate(r) * 100) / 100,
      throughput_bytes_per_second: { target: Math.round(tp.targetBps), written: Math.round(tp.writtenBps), read: Math.round(tp.readBps) },
      traffic: r,
      ...extra,
    },
    text: renderTrafficText(r),
  };
}

/** Text detail: traffic totals, latency and the first errors (the verdict and thresholds are the harness's). */
export function renderTrafficText(r: TrafficResult): string {
  const t = r.totals;
  const tp = trafficThroughput(r);
  let out = `Traffic (${r.kind}, mode ${r.mode}${r.shard ? `, shard ${r.shard}` : ""}): ${t.connections} connection(s), `;
  out += `${r.settings.bytesPerTick} B every ${formatMs(r.settings.tickIntervalMs)} for ${formatMs(r.settings.durationMs)}`;
  out += r.settings.rampMs ? `, ramp ${formatMs(r.settings.rampMs)}` : "";
  out += r.settings.jobConcurrency ? `, at most ${r.settings.jobConcurrency} connection(s) at once` : "";
  out += `, reconnect ${r.settings.reconnect ? "on" : "off"}${r.endReason === "aborted" ? ` (stopped early, after ${formatMs(r.durationMs)})` : ""}\n`;
  out += `  written ${formatBytes(t.bytesWritten)} (${formatBytes(Math.round(tp.writtenBps))}/s over ${formatMs(r.durationMs)} run, target ${formatBytes(Math.round(tp.targetBps))}/s), read ${formatBytes(t.bytesRead)}\n`;
  out += `  ticks ${t.ticksCompleted}/${t.ticksSent} completed, ${t.ticksLost} lost\n`;
  out += `  drops ${t.drops}, reconnects ${t.reconnects}, dial errors ${t.dialErrors}, read errors ${t.readErrors}, write errors ${t.writeErrors}\n`;
  const statuses = { ok: 0, dropped: 0, error: 0 };
  for (const c of r.perConnection) statuses[c.status]++;
  out += `  connections ok ${statuses.ok}, dropped and re-established ${statuses.dropped}, failed ${statuses.error}\n`;
  if (r.errors.length) {
    out += `\nFirst errors${r.errorsOmitted ? ` (${r.errorsOmitted} more not listed)` : ""}:\n`;
    for (const e of r.errors.slice(0, 10)) out += `  ${e.at} ${e.target}: ${e.message}\n`;
  }
  return out;
}

export interface TrafficSettings {
  kind: TrafficKind;
  /** The options for prepareTraffic/runPrepared (slice, duration, prefix). */
  opts: TrafficScenarioOptions;
  prepared: PreparedTraffic | null;
  maxErrorRatePct: number;
  /** SSH: the coder CLI the connections will run, as its preflight found it. */
  coderCli?: CoderCliInfo;
}

/**
 * SSH's preflight: the coder CLI is found and reaches the deployment with `token` (the one its connections
 * will get); BadInputError naming --coder-binary otherwise. Used by the runner's prepare and by the
 * pipeline's preflight (before anything is created).
 */
export function sshPreflight(c: Config, token: string, signal?: AbortSignal): Promise<CoderCliInfo> {
  // Bounded like our own calls: a silent deployment fails the CLI's check within the same bound (README).
  return checkCoderCli({ coderBinary: c.coderBinary, url: c.url, token, timeoutMs: 2 * c.requestTimeout, ...(signal ? { signal } : {}) });
}

const TRAFFIC_SETTINGS: Record<TrafficKind, readonly SettingKey[]> = {
  ssh: ["sshDuration", "sshBytesPerTick", "sshTickInterval", "sshPercentage"],
  "web-terminal": ["webTerminalDuration", "webTerminalBytesPerTick", "webTerminalTickInterval", "webTerminalPercentage", "workspaceProxyUrl"],
  app: ["appDuration", "appBytesPerTick", "appTickInterval", "appPercentage", "appMode", "app", "workspaceProxyUrl"],
};
const COMMON_SETTINGS: readonly SettingKey[] = ["runId", "templateFilter", "targetWorkspaces", "targetUsers", "userPool", "shard", "ramp", "jobConcurrency", "reconnect", "trafficTimeout", "runners", "thresholdTrafficErrorRate"];

/**
 * A traffic kind as a runner. With --runners N > 1 (pipeline only) the slice is split over N shards: a
 * Kubernetes Indexed Job when the runner is in a pod, else N local child processes; results are merged.
 */
export function trafficRunner(kind: TrafficKind, shards?: (ctx: RunnerContext, s: TrafficSettings) => Promise<{ result: TrafficResult; missing: number[] }>): Runner<TrafficSettings> {
  return {
    name: TRAFFIC_SCRIPT[kind],
    testName: TRAFFIC_TEST_NAME,
    settings: [...TRAFFIC_SETTINGS[kind], ...COMMON_SETTINGS],
    presets: (c) => presetThresholds(c).filter((e) => e.startsWith(`${kind}.`)),
    validate(c, targets) {
      const range = targets.range ?? c.targetWorkspaces;
      try {
        parseTargetRange("workspaces", range);
        parseTargetRange("users", c.targetUsers);
        // --workspace-proxy-url, where it applies, before anything is created (the pipeline validates up front).
        if (kind !== "ssh" && c.workspaceProxyUrl && URL.canParse(c.url)) workspaceProxyUrl(new URL(c.url), c);
        const shard = parseShard(c.shard);
        // Each shard (the pipeline's --runners, or --shard i/n by hand) needs at least one of the slots.
        shardJobConcurrency(c.jobConcurrency, c.runners > 1 ? { index: 0, count: c.runners } : shard);
      } catch (e) {
        throw new BadInputError(`${TRAFFIC_SCRIPT[kind]}: ${(e as Error).message}`);
      }
      const opts: TrafficScenarioOptions = {
        ...(targets.range !== undefined ? { targetRange: targets.range } : {}),
        ...(targets.durationMs !== undefined ? { durationMs: targets.durationMs } : {}),
        ...(targets.prefix !== undefined ? { prefix: targets.prefix } : {}),
      };
      return { kind, opts, prepared: null, maxErrorRatePct: c.thresholdTrafficErrorRate };
    },
    async prepare(ctx, s) {
      // The CLI first: a missing coder is bad input, found before anything else is asked of the deployment.
      // Authenticated as the run (its own token) when there is one; the early checks only find the CLI.
      const coderCli = kind === "ssh" && !s.opts.sshTransport ? await sshPreflight(ctx.config, ctx.checkOnly ? "" : ctx.client.sessionToken, ctx.signal) : undefined;
      if (coderCli) ctx.log.info(`${TRAFFIC_SCRIPT[kind]}: coder CLI ${coderCli.binary} ${coderCli.version}${ctx.checkOnly ? "" : `, authenticated as ${coderCli.username}`}`);
      const prepared = await prepareTraffic(ctx.client, ctx.config, kind, { ...s.opts, signal: ctx.signal, log: ctx.log });
      return { ...s, prepared, ...(coderCli ? { coderCli } : {}) };
    },
    async run(ctx, s) {
      if (shards && ctx.config.runners > 1) {
        const { result, missing } = await shards(ctx, s);
        const pr = trafficPhaseResult(result, { missing_shards: missing });
        // A shard that produced nothing would otherwise vanish from the merged counts: it fails the phase.
        if (missing.length) pr.failed = `no results from shard(s) ${missing.join(", ")} of ${ctx.config.runners}`;
        return pr;
      }
      const opts = { ...s.opts, signal: ctx.signal, log: ctx.log };
      const prepared = s.prepared ?? (await prepareTraffic(ctx.client, ctx.config, kind, opts));
      const result = await runPrepared(ctx.client, ctx.config, kind, prepared, opts);
      return trafficPhaseResult(result, s.coderCli ? { coder_cli: { binary: s.coderCli.binary, version: s.coderCli.version } } : {});
    },
  };
}
