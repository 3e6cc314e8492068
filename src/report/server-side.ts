// The report's server-side section: coderd's API p95 and CPU over time, as time charts on the run's one axis
// (the same Chart.js charts and axis as every other chart over time), and a table of each phase's server-side
// figures and their change against the baseline. Read from each phase's result.json `extra.coderd`
// (src/metrics/coderd/phase.ts); phases without it are left out, and the section is empty when no phase
// recorded coderd's metrics.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatMs } from "../results/stats.ts";
import { escapeHtml as e } from "./format.ts";
import type { TimeChart, TimeSeries } from "./chart-data.ts";
import type { ReportModel } from "./model.ts";

interface Point {
  at: number;
  replica: string;
  cpuCores: number | null;
  memoryBytes: number | null;
  apiP95Ms: number | null;
}
interface Block {
  source: string;
  api: { count: number; p95: number | null; p99: number | null };
  replicas: { replica: string; cpu_cores_max: number | null; memory_bytes_max: number | null }[];
  provisioner_queue: { p95: number | null } | null;
  timeline: Point[];
  warnings: string[];
  vs_baseline: { baseline_phase: string; cpu_cores: number | null; memory_bytes: number | null; api_p95_ms: number | null } | null;
}

const MAX_POINTS = 5000;

function blockOf(runDir: string, dir: string | null): Block | null {
  if (!dir) return null;
  const file = join(runDir, dir, "result.json");
  if (!existsSync(file)) return null;
  try {
    const rec = JSON.parse(readFileSync(file, "utf8")) as { extra?: { coderd?: Block } };
    const b = rec.extra?.coderd;
    return b && Array.isArray(b.timeline) && Array.isArray(b.replicas) ? b : null;
  } catch {
    return null;
  }
}

const mib = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : `${(v / 1024 / 1024).toFixed(1)} MiB`);
const cores = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : v.toFixed(2));
const signed = (v: number | null | undefined, f: (x: number) => string): string => (v === null || v === undefined ? "-" : `${v >= 0 ? "+" : "−"}${f(Math.abs(v))}`);

function coderdRows(model: ReportModel): { p: ReportModel["phases"][number]; b: Block }[] {
  return model.phases.map((p) => ({ p, b: blockOf(model.runDir, p.dir) })).filter((r): r is { p: (typeof r)["p"]; b: Block } => r.b !== null);
}

/** coderd's API p95 and CPU per replica over the run (t = seconds since the run started, 0..xMax). */
export function serverSideCharts(model: ReportModel, xMax: number): TimeChart[] {
  const runStart = model.startedAt ? Date.parse(model.startedAt) : NaN;
  const rows = coderdRows(model);
  if (!rows.length || Number.isNaN(runStart)) return [];
  const points = rows
    .flatMap((r) => r.b.timeline)
    .filter((pt) => pt.at >= runStart && (pt.at - runStart) / 1000 <= xMax)
    .slice(-MAX_POINTS);
  const byReplica = (pick: (p: Point) => number | null): TimeSeries[] => {
    const m = new Map<string, TimeSeries["points"]>();
    for (const pt of points) {
      const v = pick(pt);
      const list = m.get(pt.replica) ?? [];
      list.push({ t: Math.round(pt.at - runStart) / 1000, v: v !== null && Number.isFinite(v) ? v : null });
      m.set(pt.replica, list);
    }
    return [...m.entries()].map(([replica, pts]) => ({ label: replica, style: "replica", points: pts.sort((a, b) => a.t - b.t) }));
  };
  const source = rows[0]!.b.source === "prometheus" ? "read from Prometheus" : "scraped from coderd's metrics endpoints";
  return [
    {
      id: "chart-coderd-api-p95",
      phase: "server-side",
      title: "coderd: API p95 over time (all routes)",
      caption: `p95 of coderd's API request latency per reading, one line per replica (${source}; from coderd's histogram buckets).`,
      unit: "ms",
      xMax,
      series: byReplica((p) => p.apiP95Ms),
    },
    {
      id: "chart-coderd-cpu",
      phase: "server-side",
      title: "coderd: CPU over time (cores)",
      caption: `CPU cores used per reading, one line per replica (${source}).`,
      unit: "cores",
      xMax,
      series: byReplica((p) => p.cpuCores),
    },
  ];
}

/** The server-side section (HTML), or "" when no phase recorded coderd's metrics; `cards` renders its time charts. */
export function serverSideSection(model: ReportModel, charts: readonly TimeChart[], card: (c: TimeChart) => string): string {
  const rows = coderdRows(model);
  if (!rows.length) return "";
  const table = `<table><thead><tr><th>Phase</th><th class="num">API requests</th><th class="num">API p95</th><th class="num">API p99</th><th class="num">CPU peak (cores)</th><th class="num">Memory peak</th><th class="num">Queue wait p95</th><th>vs baseline (CPU, memory, API p95)</th></tr></thead><tbody>${rows
    .map(({ p, b }) => {
      const cpu = Math.max(...b.replicas.map((r) => r.cpu_cores_max ?? -Infinity));
      const mem = Math.max(...b.replicas.map((r) => r.memory_bytes_max ?? -Infinity));
      const d = b.vs_baseline;
      return `<tr><td>${e(p.name)}</td><td class="num">${b.api.count}</td><td class="num">${e(formatMs(b.api.p95))}</td><td class="num">${e(formatMs(b.api.p99))}</td><td class="num">${Number.isFinite(cpu) ? cores(cpu) : "-"}</td><td class="num">${Number.isFinite(mem) ? mib(mem) : "-"}</td><td class="num">${e(formatMs(b.provisioner_queue?.p95 ?? null))}</td><td>${
        d ? `${e(signed(d.cpu_cores, cores))}, ${e(signed(d.memory_bytes, mib))}, ${e(signed(d.api_p95_ms, (x) => formatMs(x)))} <span class="muted">vs ${e(d.baseline_phase)}</span>` : "-"
      }</td></tr>`;
    })
    .join("")}</tbody></table>`;
  const warnings = [...new Set(rows.flatMap((r) => r.b.warnings))];
  return `<h2>Server side (coderd)</h2><section class="card" id="server-side"><p class="muted">coderd's own metrics (${e(rows[0]!.b.source === "prometheus" ? "read from Prometheus" : "scraped from its metrics endpoints")}), per phase window; percentiles from coderd's histogram buckets, replicas merged by summing buckets.</p>${table}${
    charts.length ? `<div class="grid">${charts.map(card).join("")}</div>` : ""
  }${warnings.length ? `<ul>${warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>` : ""}</section>`;
}
