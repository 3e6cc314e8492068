/**
 * Pass/fail of dashboard traffic: every page's p95 and p99 load time must be below its limit, and the share
 * of failed page views must not exceed --max-error-rate (percent).
 */
import { formatMs } from "../results/stats.ts";
import type { ThresholdRow } from "../results/schema.ts";
import type { LatencyStats } from "./recorder.ts";

export interface DashboardThresholds {
  /** Milliseconds; 0 or undefined = not checked. */
  p95Ms?: number;
  p99Ms?: number;
  /** Percent of page views that may fail; undefined = not checked. */
  maxErrorRatePct?: number;
}

export interface DashboardThresholdResult {
  /** "p95" | "p99" | "error_rate" */
  threshold: "p95" | "p99" | "error_rate";
  /** Page name, or "all" for the error rate over every page. */
  page: string;
  /** ms for p95/p99, percent for error_rate. */
  measured: number;
  limit: number;
  unit: "ms" | "%";
  pass: boolean;
  /** One line for people, naming threshold, page and value, e.g. "p95 of page workspaces is 312ms, limit 200ms". */
  message: string;
}

export function evaluateThresholds(
  pages: Record<string, LatencyStats>,
  overall: LatencyStats,
  t: DashboardThresholds,
): DashboardThresholdResult[] {
  const out: DashboardThresholdResult[] = [];
  for (const [page, s] of Object.entries(pages)) {
    if (s.count === 0) continue;
    for (const which of ["p95", "p99"] as const) {
      const limit = which === "p95" ? t.p95Ms : t.p99Ms;
      if (!limit) continue;
      const measured = s.latency[which];
      const pass = measured < limit;
      out.push({
        threshold: which,
        page,
        measured,
        limit,
        unit: "ms",
        pass,
        message: `${which} of page ${page} is ${formatMs(measured)}, limit ${formatMs(limit)}${pass ? "" : ": FAILED"}`,
      });
    }
  }
  if (t.maxErrorRatePct !== undefined) {
    const measured = overall.count === 0 ? 0 : (overall.errors / overall.count) * 100;
    const pass = measured <= t.maxErrorRatePct;
    const failedPages = Object.entries(pages)
      .filter(([, s]) => s.errors > 0)
      .map(([p, s]) => `${p} ${s.errors}/${s.count}`);
    out.push({
      threshold: "error_rate",
      page: "all",
      measured: round2(measured),
      limit: t.maxErrorRatePct,
      unit: "%",
      pass,
      message:
        `error rate of all pages is ${round2(measured)}% (${overall.errors}/${overall.count} views), limit ${t.maxErrorRatePct}%` +
        (failedPages.length ? ` [failed: ${failedPages.join(", ")}]` : "") +
        (pass ? "" : ": FAILED"),
    });
  }
  return out;
}

/** Interim: the same verdicts as phase-record rows, until threshold expressions judge the phase. */
export function toPhaseThresholds(results: readonly DashboardThresholdResult[]): ThresholdRow[] {
  return results.map((r) => ({
    expression: r.threshold === "error_rate" ? `dashboard.error_rate{*}<=${r.limit}%` : `dashboard.page{page=${r.page}}.${r.threshold}<${formatMs(r.limit)}`,
    metric: r.threshold === "error_rate" ? "dashboard.error_rate" : "dashboard.page",
    // Rates as a ratio 0..1 and timings in ms, as every phase record writes them.
    observed: r.threshold === "error_rate" ? r.measured / 100 : r.measured,
    limit: r.threshold === "error_rate" ? r.limit / 100 : r.limit,
    unit: r.threshold === "error_rate" ? "ratio" : "ms",
    ok: r.pass,
    abort: false,
    failed_label: r.pass || r.page === "all" ? null : `page=${r.page}`,
    source: "preset",
  }));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
