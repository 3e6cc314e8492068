/**
 * Dashboard traffic: virtual users browse Coder's dashboard, through its API (`api` mode: the calls each page
 * makes) or a real headless Chromium (`browser` mode), for a fixed time; latency per page and per endpoint,
 * errors by status, threshold verdicts. The scenario script and the pipeline both call runDashboardTraffic.
 */
import { join } from "node:path";
import type { Browser } from "playwright-core";
import type { CoderClient } from "../coder/index.ts";
import type { Config, SettingKey } from "../config/index.ts";
import { presetThresholds } from "../thresholds/presets.ts";
import type { MetricSetJSON } from "../results/schema.ts";
import { formatMs, formatTable } from "../results/stats.ts";
import type { PhaseResult, PhaseTargets, Runner } from "../scenario/runner.ts";
import { BadInputError } from "../util/errors.ts";
import { log as defaultLog, type Logger } from "../util/log.ts";
import { runApiVisitor } from "./api-mode.ts";
import { launchChromium, openBrowserSession, runBrowserVisitor, type BrowserSession, type BrowserView } from "./browser-mode.ts";
import { BROWSER_PAGE_NAMES } from "./browser-targets.ts";
import { resolveIdentities } from "./identities.ts";
import { PAGE_NAMES, type PageName } from "./pages.ts";
import { DashboardRecorder, type DashboardFailure, type DashboardTimelinePoint, type DashboardMode, type LatencyStats, type SocketCounts } from "./recorder.ts";
import type { FrontendIntervals } from "./frontend-requests.ts";
import { seededRandom } from "../util/random.ts";

export { DASHBOARD_PAGES, PAGE_NAMES, endpointOf, pagesFor, type PageDef, type PageName } from "./pages.ts";
export { CHROMIUM_ARGS, launchChromium, type BrowserView } from "./browser-mode.ts";
export { BROWSER_PAGE_NAMES, CODER_TARGETS, LANDING_TARGET, type BrowserTarget } from "./browser-targets.ts";
export type { DashboardFailure, DashboardMode, LatencyStats, SocketCounts } from "./recorder.ts";
export { CODER_INTERVALS, FRONTEND_ENDPOINTS, type FrontendIntervals } from "./frontend-requests.ts";

export interface DashboardOptions {
  mode: DashboardMode;
  /** The runner's own session token (host identity; never logged). */
  hostToken: string;
  runId: string;
  /** Virtual users browsing at once. */
  concurrency: number;
  durationMs: number;
  /** api mode: longest random pause between two page views. */
  thinkTimeMs: number;
  /** browser mode: pause between page views, ± jitter. */
  intervalMs: number;
  jitterMs: number;
  useHostLogin?: boolean;
  targetUsers?: string;
  percentage?: number;
  shard?: string;
  chromiumPath?: string;
  /** Folder for failure screenshots (browser mode). */
  screenshotDir?: string;
  /** Screenshots kept at most (default 20). */
  maxScreenshots?: number;
  /** Limit for one API call (api) or one page to settle (browser); default 30 s. */
  pageTimeoutMs?: number;
  /**
   * Only these pages (default: every page; owner-only pages are visited by owners only). api mode: PAGE_NAMES;
   * browser mode: BROWSER_PAGE_NAMES (only the targets opening them are clicked).
   */
  pages?: readonly string[];
  /** browser mode: told of every page view (user, Coder's action, page, URL, outcome) as it is recorded. */
  onView?: (view: BrowserView) => void;
  random?: () => number;
  log?: Logger;
  /** api mode: the frontend's refetch intervals (default Coder's: workspaces list 5 s, health 30 s). */
  apiIntervals?: Partial<FrontendIntervals>;
  /** Receives the recorder as the run starts (live metrics for abort thresholds). */
  onRecorder?: (r: DashboardRecorder) => void;
}

export const DASHBOARD_SCHEMA = "scaletest-dashboard/v1";

export interface DashboardResult {
  schema: typeof DASHBOARD_SCHEMA;
  mode: DashboardMode;
  started_at: string;
  ended_at: string;
  duration_ms: number;
  interrupted: boolean;
  concurrency: number;
  /** Whose identities browsed. */
  identity_source: "scaletest-users" | "host";
  users: string[];
  settings: Record<string, unknown>;
  totals: { views: number; errors: number; error_rate_pct: number };
  /** Every page view merged. */
  overall: LatencyStats;
  /** Page load times (ms) per page. */
  pages: Record<string, LatencyStats>;
  /** API call latency (ms) per route template, e.g. "GET /workspaces". */
  endpoints: Record<string, LatencyStats>;
  /** api mode: the pages' websockets by route template, e.g. "WS /workspaces/{workspace}/watch-ws". */
  websockets: Record<string, SocketCounts>;
  failures: DashboardFailure[];
  failures_total: number;
  /** The timeline's zero: when recording began. */
  timeline_started_at: string;
  /** Page views per second (count, failures, load-time histogram), for charts over time. */
  timeline: DashboardTimelinePoint[];
  /** Named metrics (histograms encoded) for the phase record. */
  metrics: MetricSetJSON;
}

export async function runDashboardTraffic(
  client: CoderClient,
  opts: DashboardOptions,
  { signal }: { signal?: AbortSignal } = {},
): Promise<DashboardResult> {
  const log = opts.log ?? defaultLog;
  validate(opts);
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) stop.abort();
  const random = opts.random ?? Math.random;
  const recorder = new DashboardRecorder(opts.mode);
  opts.onRecorder?.(recorder);
  const pageTimeoutMs = opts.pageTimeoutMs ?? 30_000;
  const url = client.url.toString();

  const ids = await resolveIdentities(client, {
    runId: opts.runId,
    hostToken: opts.hostToken,
    useHostLogin: opts.useHostLogin ?? false,
    max: opts.concurrency,
    ...(opts.targetUsers ? { targetUsers: opts.targetUsers } : {}),
    ...(opts.percentage !== undefined ? { percentage: opts.percentage } : {}),
    ...(opts.shard ? { shard: opts.shard } : {}),
    signal: stop.signal,
    log,
  });
  let browser: Browser | undefined;
  let sessions: BrowserSession[] = [];
  const identityOf = (i: number) => ids.identities[i % ids.identities.length]!;
  const startedAt = new Date();
  let progress: NodeJS.Timeout | undefined;
  try {
    if (opts.mode === "browser") {
      browser = await launchChromium(opts.chromiumPath ?? "/usr/bin/chromium");
      const b = browser;
      const opened = await Promise.allSettled(
        Array.from({ length: opts.concurrency }, (_, i) => openBrowserSession(b, url, identityOf(i), pageTimeoutMs)),
      );
      sessions = opened.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      const failed = opened.find((o): o is PromiseRejectedResult => o.status === "rejected");
      if (failed) throw new Error(`could not open a browser context: ${(failed.reason as Error).message}`);
    }
    // On stop, closing the contexts ends in-flight navigations at once (an interrupted view is not recorded).
    stop.signal.addEventListener("abort", () => void Promise.all(sessions.map((s) => s.close())), { once: true });
    // The clock starts once every browser context is ready, so setup never eats into the measured time.
    const deadline = Date.now() + opts.durationMs;
    log.info(
      `dashboard: ${opts.concurrency} virtual user(s) in ${opts.mode} mode for ${formatMs(opts.durationMs)} ` +
        `as ${ids.identities.length} identit${ids.identities.length === 1 ? "y" : "ies"} (${ids.source})`,
    );
    progress = setInterval(() => {
      const o = recorder.overall();
      // Cumulative figures, labelled so (the line repeats every 10 s and is not a per-interval rate).
      log.info(`dashboard: ${o.count} page views, ${o.errors} failed, page p95 ${formatMs(o.latency.p95)} since start`);
    }, 10_000);
    progress.unref();
    const screenshots = { taken: 0, max: opts.maxScreenshots ?? 20 };
    const visitors = Array.from({ length: opts.concurrency }, (_, i) => {
      const identity = identityOf(i);
      const common = { url, identity, recorder, deadline, signal: stop.signal, random };
      const session = sessions[i];
      if (session) {
        return runBrowserVisitor(session, {
          ...common,
          ...(opts.pages ? { pages: opts.pages } : {}),
          ...(opts.onView ? { onView: opts.onView } : {}),
          intervalMs: opts.intervalMs,
          jitterMs: opts.jitterMs,
          pageTimeoutMs,
          screenshotDir: opts.screenshotDir ?? join(process.cwd(), "dashboard-screenshots"),
          screenshots,
        });
      }
      return runApiVisitor({
        ...common,
        ...(opts.pages ? { pages: opts.pages as readonly PageName[] } : {}),
        thinkTimeMs: opts.thinkTimeMs,
        requestTimeoutMs: pageTimeoutMs,
        ...(opts.apiIntervals ? { intervals: opts.apiIntervals } : {}),
      });
    });
    const settled = await Promise.allSettled(visitors);
    const crashed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (crashed) throw crashed.reason;
  } finally {
    if (progress) clearInterval(progress);
    signal?.removeEventListener("abort", onAbort);
    await Promise.all(sessions.map((s) => s.close()));
    await browser?.close().catch(() => {});
    await ids.release();
  }
  const endedAt = new Date();
  const pages = recorder.pages();
  const overall = recorder.overall();
  const interrupted = signal?.aborted ?? false;
  return {
    schema: DASHBOARD_SCHEMA,
    mode: opts.mode,
    started_at: startedAt.toISOString(),
    ended_at: endedAt.toISOString(),
    duration_ms: endedAt.getTime() - startedAt.getTime(),
    interrupted,
    concurrency: opts.concurrency,
    identity_source: ids.source,
    users: ids.identities.map((i) => i.username),
    settings: {
      duration_ms: opts.durationMs,
      think_time_ms: opts.thinkTimeMs,
      interval_ms: opts.intervalMs,
      jitter_ms: opts.jitterMs,
      target_users: opts.targetUsers ?? "",
      percentage: opts.percentage ?? 100,
      shard: opts.shard ?? "",
      use_host_login: opts.useHostLogin ?? false,
    },
    totals: {
      views: overall.count,
      errors: overall.errors,
      error_rate_pct: overall.count === 0 ? 0 : Math.round((overall.errors / overall.count) * 10_000) / 100,
    },
    overall,
    pages,
    endpoints: recorder.endpoints(),
    websockets: recorder.sockets(),
    failures: recorder.failures(),
    failures_total: recorder.failureCount,
    timeline_started_at: new Date(recorder.startedAtMs).toISOString(),
    timeline: recorder.timeline(),
    metrics: recorder.metricSet(),
  };
}

function validate(opts: DashboardOptions): void {
  if (!Number.isInteger(opts.concurrency) || opts.concurrency < 1) {
    throw new Error(`dashboard concurrency must be a positive integer, got ${opts.concurrency}`);
  }
  if (!(opts.durationMs > 0)) throw new Error(`dashboard duration must be positive, got ${opts.durationMs} ms`);
  const known: readonly string[] = opts.mode === "browser" ? BROWSER_PAGE_NAMES : PAGE_NAMES;
  for (const p of opts.pages ?? []) {
    if (!known.includes(p)) throw new Error(`unknown dashboard page "${p}" in ${opts.mode} mode; pages are ${known.join(", ")}`);
  }
  if (opts.mode === "browser" && opts.jitterMs >= opts.intervalMs) {
    throw new Error(
      `--jitter (${formatMs(opts.jitterMs)}) must be less than --interval (${formatMs(opts.intervalMs)}), as in coder exp scaletest dashboard`,
    );
  }
}

/** The typed phase result of a dashboard run: one unit per page, pages as labelled metrics. */
export function dashboardPhaseResult(result: DashboardResult): PhaseResult {
  const { metrics, ...rest } = result;
  const overall = result.overall;
  return {
    startedAt: new Date(result.started_at),
    endedAt: new Date(result.ended_at),
    activeMs: result.duration_ms,
    units: Object.entries(result.pages).map(([page, s]) => ({
      testName: "dashboard",
      id: page,
      name: page,
      ok: s.errors === 0,
      error: s.errors ? `${s.errors} of ${s.count} views failed` : null,
      startedAt: new Date(result.started_at),
      durationMs: result.duration_ms,
      stages: { p95: s.count ? s.latency.p95 : null },
      extra: { views: s.count, errors: s.errors, by_status: s.by_status },
    })),
    metrics,
    headline: [
      { label: "page views", value: overall.count, unit: "count" },
      { label: "page p95", value: overall.count ? overall.latency.p95 : null, unit: "ms" },
      { label: "p99", value: overall.count ? overall.latency.p99 : null, unit: "ms" },
      { label: "failed views", value: overall.errors, unit: "count" },
    ],
    errors: result.failures.slice(0, 10).map((f) => `${f.user} ${f.page}: ${f.error}`),
    stoppedEarly: result.interrupted,
    extra: { dashboard: rest },
    text: renderDashboardText(result),
  };
}

const DASHBOARD_SETTINGS: readonly SettingKey[] = [
  "runId", "dashboardMode", "dashboardConcurrency", "dashboardDuration", "thinkTime", "dashboardInterval", "dashboardJitter", "dashboardRandSeed",
  "useHostLogin", "targetUsers", "dashboardPercentage", "thresholdDashboardP95", "thresholdDashboardP99", "thresholdDashboardErrorRate",
];

/** Dashboard traffic as a runner (src/scenario/runner.ts). */
export const dashboardRunner: Runner<DashboardOptions> = {
  name: "dashboard-traffic",
  testName: "dashboard",
  settings: DASHBOARD_SETTINGS,
  presets: (c) => presetThresholds(c).filter((e) => e.startsWith("dashboard.")),
  validate(c: Config, targets: PhaseTargets): DashboardOptions {
    const opts: DashboardOptions = {
      mode: c.dashboardMode,
      hostToken: c.token,
      runId: c.runId,
      concurrency: c.dashboardConcurrency,
      durationMs: targets.durationMs ?? c.dashboardDuration,
      thinkTimeMs: c.thinkTime,
      intervalMs: c.dashboardInterval,
      jitterMs: c.dashboardJitter,
      useHostLogin: c.useHostLogin,
      targetUsers: targets.range ?? c.targetUsers,
      ...(targets.range === undefined ? { percentage: c.dashboardPercentage, shard: c.shard } : {}),
      chromiumPath: c.chromiumPath,
      // As Coder's --rand-seed (default 0): one seeded generator shared by every user.
      random: seededRandom(c.dashboardRandSeed),
    };
    try {
      validate(opts);
    } catch (e) {
      throw new BadInputError((e as Error).message);
    }
    return opts;
  },
  async run(ctx, s) {
    const result = await runDashboardTraffic(
      ctx.client,
      { ...s, screenshotDir: ctx.phaseDir, log: ctx.log, onRecorder: (r) => ctx.live(() => r.metricSet()) },
      { signal: ctx.signal },
    );
    return dashboardPhaseResult(result);
  },
};

const latencyColumns = (label: string) =>
  [
    { header: label, value: (r: { name: string; s: LatencyStats }) => r.name, align: "left" as const },
    { header: "count", value: (r: { name: string; s: LatencyStats }) => r.s.count, align: "right" as const },
    { header: "errors", value: (r: { name: string; s: LatencyStats }) => r.s.errors, align: "right" as const },
    { header: "p50", value: (r: { name: string; s: LatencyStats }) => formatMs(r.s.latency.p50), align: "right" as const },
    { header: "p95", value: (r: { name: string; s: LatencyStats }) => formatMs(r.s.latency.p95), align: "right" as const },
    { header: "p99", value: (r: { name: string; s: LatencyStats }) => formatMs(r.s.latency.p99), align: "right" as const },
    { header: "max", value: (r: { name: string; s: LatencyStats }) => formatMs(r.s.latency.max), align: "right" as const },
    {
      header: "by status",
      value: (r: { name: string; s: LatencyStats }) =>
        Object.entries(r.s.by_status)
          .map(([k, v]) => `${k}:${v}`)
          .join(" "),
      align: "left" as const,
    },
  ];

/** Detail text: per-page and per-endpoint tables, first failures (the verdict and thresholds are the harness's). */
export function renderDashboardText(result: DashboardResult): string {
  let out =
    `Dashboard traffic (${result.mode} mode${result.interrupted ? ", interrupted" : ""}): ` +
    `${result.concurrency} virtual user(s) as ${result.users.length} ${result.identity_source === "host" ? "host identity" : "scaletest user(s)"}, ` +
    `${formatMs(result.duration_ms)}; ${result.totals.views} page views, ${result.totals.errors} failed (${result.totals.error_rate_pct}%)\n`;
  const pageRows = Object.entries(result.pages).map(([name, s]) => ({ name, s }));
  out += "\nPages (load time):\n" + (pageRows.length ? formatTable(pageRows, latencyColumns("page")) : "(no page views)\n");
  const epRows = Object.entries(result.endpoints).map(([name, s]) => ({ name, s }));
  if (epRows.length) out += "\nAPI endpoints:\n" + formatTable(epRows, latencyColumns("endpoint"));
  const wsRows = Object.entries(result.websockets ?? {}).map(([name, c]) => ({ name, c }));
  if (wsRows.length) {
    out +=
      "\nWebsockets (held = open until the page was left, ended = closed by the server first):\n" +
      formatTable(wsRows, [
        { header: "websocket", value: (r) => r.name, align: "left" as const },
        ...(["opened", "failed", "held", "ended"] as const).map((k) => ({ header: k, value: (r: (typeof wsRows)[number]) => r.c[k], align: "right" as const })),
      ]);
  }
  if (result.failures_total > 0) {
    out += `\nFailures (${result.failures_total}${result.failures_total > result.failures.length ? `, first ${result.failures.length} kept` : ""}):\n`;
    for (const f of result.failures.slice(0, 10)) {
      out += `  ${f.at} ${f.user} ${f.page} ${f.url}: ${f.error}${f.screenshot ? ` [screenshot ${f.screenshot}]` : ""}\n`;
    }
  }
  return out;
}
