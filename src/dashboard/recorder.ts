/**
 * Measurements of dashboard traffic: an HDR histogram per page and per API endpoint, outcomes by status, a
 * bounded list of failures, and the live Prometheus series on the shared registry:
 *   scaletest_dashboard_page_seconds{page,mode}             page load time (all calls of the page settled)
 *   scaletest_dashboard_request_seconds{endpoint,status}    one API call; status "0" = no HTTP answer
 *   scaletest_dashboard_page_views_total{page,mode,result}  result "ok" | "error"
 *   scaletest_dashboard_websockets_total{endpoint,event}    api mode: a page's websocket opened | failed | held | ended
 * and beside them Coder's own series (scaletest/dashboard/metrics.go), names, labels and buckets as Coder's, so
 * dashboards built for `coder exp scaletest dashboard` read ours:
 *   coderd_scaletest_dashboard_duration_seconds{action}     a successful page view (default buckets)
 *   coderd_scaletest_dashboard_errors_total{action}         a failed page view
 *   coderd_scaletest_dashboard_statuses_total{action,code}  each API answer of the page (code "0" = none)
 * `action` is Coder's label for the same view (CODER_ACTIONS), else our page name.
 */
import { Counter, Histogram } from "prom-client";
import { getRegistry, scenarioMetric } from "../metrics/index.ts";
import { counter, latency, liveHistogramSeries, rate, ratio, value } from "../results/metric-set.ts";
import type { MetricSetJSON } from "../results/schema.ts";
import { LatencyHistogram, type PercentileSummary } from "../traffic/histogram.ts";

export type DashboardMode = "api" | "browser";

/** Buckets from 10 ms to 30 s: dashboard pages are judged at 500 ms / 1 s. */
const PAGE_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];

function pageHistogram(): Histogram<"page" | "mode"> {
  return scenarioMetric(
    "scaletest_dashboard_page_seconds",
    () =>
      new Histogram({
        name: "scaletest_dashboard_page_seconds",
        help: "Time to load one dashboard page (all of its API calls settled), by page and mode.",
        labelNames: ["page", "mode"],
        buckets: PAGE_BUCKETS,
        registers: [getRegistry()],
      }),
  );
}

function requestHistogram(): Histogram<"endpoint" | "status"> {
  return scenarioMetric(
    "scaletest_dashboard_request_seconds",
    () =>
      new Histogram({
        name: "scaletest_dashboard_request_seconds",
        help: "Latency of one API call made by a dashboard page, by route template and HTTP status (0 = no answer).",
        labelNames: ["endpoint", "status"],
        buckets: PAGE_BUCKETS,
        registers: [getRegistry()],
      }),
  );
}

function viewCounter(): Counter<"page" | "mode" | "result"> {
  return scenarioMetric(
    "scaletest_dashboard_page_views_total",
    () =>
      new Counter({
        name: "scaletest_dashboard_page_views_total",
        help: "Dashboard page views, by page, mode and result (ok or error).",
        labelNames: ["page", "mode", "result"],
        registers: [getRegistry()],
      }),
  );
}

function socketCounter(): Counter<"endpoint" | "event"> {
  return scenarioMetric(
    "scaletest_dashboard_websockets_total",
    () =>
      new Counter({
        name: "scaletest_dashboard_websockets_total",
        help: "Websockets of dashboard pages (api mode), by route template and event: opened, failed, held (open until the page was left) or ended (closed by the server first).",
        labelNames: ["endpoint", "event"],
        registers: [getRegistry()],
      }),
  );
}

/**
 * A page's websockets (api mode), by route template: handshakes that succeeded (opened) or failed (failed);
 * of the opened, those still open when the user left the page (held) and those the server closed first (ended).
 */
export interface SocketCounts {
  opened: number;
  failed: number;
  held: number;
  ended: number;
}

export type SocketEvent = keyof SocketCounts;

/** Coder's dashboard action labels for the views that are the same page (scaletest/dashboard/chromedp.go). */
export const CODER_ACTIONS: Readonly<Record<string, string>> = {
  workspaces: "workspace_list",
  workspace: "workspace_details",
  templates: "template_list",
  users: "user_list",
  // Pages only browser mode opens (its clicks of Coder's targets, browser-targets.ts).
  "starter-templates": "starter_templates",
  "workspace-build": "workspace_build_details",
  "template-docs": "template_docs",
  "template-files": "template_files",
  "template-versions": "template_versions",
  "template-version": "template_version_details",
};

export function coderAction(page: string): string {
  return CODER_ACTIONS[page] ?? page;
}

interface CoderDashboardSeries {
  duration: Histogram<"action">;
  errors: Counter<"action">;
  statuses: Counter<"action" | "code">;
}

function coderSeries(): CoderDashboardSeries {
  // No help text in Coder's; a short one here (Prometheus shows it, the name and labels are what must match).
  return {
    duration: scenarioMetric("coderd_scaletest_dashboard_duration_seconds", () => new Histogram({
      name: "coderd_scaletest_dashboard_duration_seconds", help: "Duration of a successful dashboard action (as Coder's scale test).",
      labelNames: ["action"], registers: [getRegistry()],
    })),
    errors: scenarioMetric("coderd_scaletest_dashboard_errors_total", () => new Counter({
      name: "coderd_scaletest_dashboard_errors_total", help: "Failed dashboard actions (as Coder's scale test).",
      labelNames: ["action"], registers: [getRegistry()],
    })),
    statuses: scenarioMetric("coderd_scaletest_dashboard_statuses_total", () => new Counter({
      name: "coderd_scaletest_dashboard_statuses_total", help: "HTTP statuses seen by dashboard actions (as Coder's scale test).",
      labelNames: ["action", "code"], registers: [getRegistry()],
    })),
  };
}

export interface LatencyStats {
  count: number;
  errors: number;
  /** Milliseconds; over every attempt that got an answer or failed (failed views included). */
  latency: PercentileSummary;
  /** Outcome counts by HTTP status ("200", "500") or failure kind ("timeout", "ECONNRESET", "error_element"). */
  by_status: Record<string, number>;
}

export interface DashboardFailure {
  at: string;
  user: string;
  page: string;
  url: string;
  error: string;
  /** Path of the screenshot (browser mode), if one was taken. */
  screenshot?: string;
}

class Series {
  readonly hist = new LatencyHistogram(3);
  errors = 0;
  readonly byStatus: Record<string, number> = {};

  add(ms: number, status: string, ok: boolean): void {
    this.hist.record(ms);
    if (!ok) this.errors++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
  }

  stats(): LatencyStats {
    const l = this.hist.percentiles();
    // HDR reports a bucket's highest equivalent value; clamp so no percentile exceeds the exact max.
    const latency = { ...l, p50: Math.min(l.p50, l.max), p95: Math.min(l.p95, l.max), p99: Math.min(l.p99, l.max) };
    return { count: this.hist.count, errors: this.errors, latency, by_status: { ...this.byStatus } };
  }
}

/** Failures kept in the results (the counts are always complete). */
export const MAX_FAILURES_KEPT = 100;

/** One second of page views (for the report's charts over time): t = seconds since the recorder started. */
export interface DashboardTimelinePoint {
  t: number;
  views: number;
  errors: number;
  /** Page-load HDR histogram of the second (µs, 2 digits, encoded), as the traffic timeline's. */
  hist: string;
}

/** Seconds of timeline kept (a day): beyond it views still count everywhere else. */
const MAX_TIMELINE_SECONDS = 86_400;

export class DashboardRecorder {
  /** When recording began (ms since the epoch): the timeline's zero. */
  readonly startedAtMs = Date.now();
  readonly #seconds = new Map<number, { views: number; errors: number; hist: LatencyHistogram }>();
  readonly #pages = new Map<string, Series>();
  readonly #endpoints = new Map<string, Series>();
  readonly #failures: DashboardFailure[] = [];
  #failureCount = 0;
  readonly #pageMetric = pageHistogram();
  readonly #requestMetric = requestHistogram();
  readonly #views = viewCounter();
  readonly #coder = coderSeries();
  readonly #sockets = new Map<string, SocketCounts>();
  readonly #socketMetric = socketCounter();

  constructor(readonly mode: DashboardMode) {}

  /** One page view: `status` is "ok" or why it failed (an HTTP status or a failure kind). */
  page(page: string, ms: number, ok: boolean, status: string): void {
    series(this.#pages, page).add(ms, ok ? "ok" : status, ok);
    const sec = Math.max(0, Math.floor((Date.now() - this.startedAtMs) / 1000));
    if (sec < MAX_TIMELINE_SECONDS) {
      let b = this.#seconds.get(sec);
      if (!b) this.#seconds.set(sec, (b = { views: 0, errors: 0, hist: new LatencyHistogram(2) }));
      b.views++;
      if (!ok) b.errors++;
      b.hist.record(ms);
    }
    this.#pageMetric.labels(page, this.mode).observe(ms / 1000);
    this.#views.labels(page, this.mode, ok ? "ok" : "error").inc();
    // Coder observes the duration of successful actions only, and counts the failed ones.
    if (ok) this.#coder.duration.labels(coderAction(page)).observe(ms / 1000);
    else this.#coder.errors.labels(coderAction(page)).inc();
  }

  /**
   * One API call (of `page` when known); status 0 = no HTTP answer (network error, timeout, aborted). A websocket
   * handshake is one too: 101 when the server switched protocols.
   */
  request(endpoint: string, ms: number, status: number, page?: string): void {
    const ok = (status >= 200 && status < 300) || status === 101;
    series(this.#endpoints, endpoint).add(ms, String(status), ok);
    this.#requestMetric.labels(endpoint, String(status)).observe(ms / 1000);
    if (page) this.#coder.statuses.labels(coderAction(page), String(status)).inc();
  }

  /** One websocket event of a page (api mode). */
  socket(endpoint: string, event: SocketEvent): void {
    let c = this.#sockets.get(endpoint);
    if (!c) this.#sockets.set(endpoint, (c = { opened: 0, failed: 0, held: 0, ended: 0 }));
    c[event]++;
    this.#socketMetric.labels(endpoint, event).inc();
  }

  /** Websocket counts by route template, sorted by name. */
  sockets(): Record<string, SocketCounts> {
    const out: Record<string, SocketCounts> = {};
    for (const k of [...this.#sockets.keys()].sort()) out[k] = { ...this.#sockets.get(k)! };
    return out;
  }

  failure(f: DashboardFailure): void {
    this.#failureCount++;
    if (this.#failures.length < MAX_FAILURES_KEPT) this.#failures.push(f);
  }

  get failureCount(): number {
    return this.#failureCount;
  }

  failures(): DashboardFailure[] {
    return this.#failures.slice();
  }

  /** Page views per second of the run, in time order (seconds without a view are left out). */
  timeline(): DashboardTimelinePoint[] {
    return [...this.#seconds]
      .sort((a, b) => a[0] - b[0])
      .map(([t, b]) => ({ t, views: b.views, errors: b.errors, hist: b.hist.count ? b.hist.encode() : "" }));
  }

  pages(): Record<string, LatencyStats> {
    return statsOf(this.#pages);
  }

  endpoints(): Record<string, LatencyStats> {
    return statsOf(this.#endpoints);
  }

  /**
   * Named metrics: dashboard.page and dashboard.request (latency by page / route), dashboard.error_rate
   * (failed views by page), dashboard.views (by page) and, when a page opened websockets, dashboard.websockets
   * (by endpoint and event).
   */
  metricSet(): MetricSetJSON {
    const lat = (map: Map<string, Series>, label: string) =>
      latency(...[...map].map(([k, s]) => liveHistogramSeries(s.hist, { [label]: k })));
    return {
      "dashboard.page": lat(this.#pages, "page"),
      "dashboard.request": lat(this.#endpoints, "endpoint"),
      "dashboard.error_rate": rate(...[...this.#pages].map(([k, s]) => ratio(s.errors, s.hist.count, { page: k }))),
      "dashboard.views": counter("count", ...[...this.#pages].map(([k, s]) => value(s.hist.count, { page: k }))),
      ...(this.#sockets.size
        ? {
            "dashboard.websockets": counter(
              "count",
              ...[...this.#sockets].flatMap(([endpoint, c]) => (Object.keys(c) as SocketEvent[]).map((event) => value(c[event], { endpoint, event }))),
            ),
          }
        : {}),
    };
  }

  /** All page views merged (percentiles from merged counts, never averaged). */
  overall(): LatencyStats {
    const all = new Series();
    for (const s of this.#pages.values()) {
      all.hist.merge(s.hist);
      all.errors += s.errors;
      for (const [k, v] of Object.entries(s.byStatus)) all.byStatus[k] = (all.byStatus[k] ?? 0) + v;
    }
    return all.stats();
  }
}

function series(map: Map<string, Series>, key: string): Series {
  let s = map.get(key);
  if (!s) {
    s = new Series();
    map.set(key, s);
  }
  return s;
}

function statsOf(map: Map<string, Series>): Record<string, LatencyStats> {
  const out: Record<string, LatencyStats> = {};
  for (const k of [...map.keys()].sort()) out[k] = map.get(k)!.stats();
  return out;
}
