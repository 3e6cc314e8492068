// The report's server-side section: coderd's API p95 and CPU over time with the phases shaded (inline SVG,
// no script), and a table of each phase's server-side figures and their change against the baseline. Read
// from each phase's result.json `extra.coderd` (src/metrics/coderd/phase.ts); phases without it are left
// out, and the section is empty when no phase recorded coderd's metrics.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatMs } from "../results/stats.ts";
import { escapeHtml as e } from "./format.ts";
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

const W = 1100;
const H = 220;
const PAD = { l: 60, r: 10, t: 10, b: 28 };
const COLORS = ["#1565c0", "#2e7d32", "#ad1457", "#ef6c00", "#6a1b9a", "#00838f"];

/** One line chart over time (seconds since `t0`), one line per series, phases shaded behind. */
function svgChart(
  title: string,
  series: Map<string, { t: number; v: number | null }[]>,
  phases: { name: string; from: number; to: number; status: string }[],
  tMax: number,
  fmt: (v: number) => string,
): string {
  const all = [...series.values()].flat().filter((p): p is { t: number; v: number } => p.v !== null);
  if (!all.length) return `<p class="muted">${e(title)}: no points were recorded.</p>`;
  const vMax = Math.max(...all.map((p) => p.v), 1e-9) * 1.1;
  const x = (t: number) => PAD.l + ((W - PAD.l - PAD.r) * t) / Math.max(tMax, 1);
  const y = (v: number) => H - PAD.b - ((H - PAD.t - PAD.b) * v) / vMax;
  const shade = phases
    .map(
      (p, i) =>
        `<rect x="${x(p.from).toFixed(1)}" y="${PAD.t}" width="${Math.max(1, x(p.to) - x(p.from)).toFixed(1)}" height="${H - PAD.t - PAD.b}" fill="${i % 2 ? "#eef3fb" : "#f6f8fb"}" stroke="#d5dbe3"><title>${e(p.name)} (${e(p.status)})</title></rect>` +
        `<text x="${(x(p.from) + 3).toFixed(1)}" y="${PAD.t + 11}" font-size="10" fill="#5f6368">${e(p.name)}</text>`,
    )
    .join("");
  const lines = [...series.entries()]
    .map(([name, pts], i) => {
      // A line breaks where nothing was measured (an interval without requests, a phase without a folder):
      // after an empty point, or a gap of more than three typical steps.
      const steps = pts.slice(1).map((p, j) => p.t - pts[j]!.t).sort((a, b) => a - b);
      const gap = 3 * (steps[Math.floor(steps.length / 2)] ?? Infinity);
      let pen = "M";
      let d = "";
      pts.forEach((p, j) => {
        if (p.v === null || (j > 0 && p.t - pts[j - 1]!.t > gap)) pen = "M";
        if (p.v === null) return;
        d += `${pen}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`;
        pen = "L";
      });
      return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="1.5"><title>${e(name)}</title></path>`;
    })
    .join("");
  const ticks = [0, 0.5, 1].map((f) => `<text x="${PAD.l - 4}" y="${y(vMax * f).toFixed(1)}" font-size="10" text-anchor="end" fill="#5f6368">${e(fmt(vMax * f))}</text>`).join("");
  const xt = [0, 0.25, 0.5, 0.75, 1].map((f) => `<text x="${x(tMax * f).toFixed(1)}" y="${H - 8}" font-size="10" text-anchor="middle" fill="#5f6368">${e(formatMs(tMax * f * 1000))}</text>`).join("");
  const legend = [...series.keys()].map((k, i) => `<span style="color:${COLORS[i % COLORS.length]}">■</span> ${e(k)}`).join(" &nbsp; ");
  return `<h4>${e(title)}</h4><svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${e(title)}">${shade}<line x1="${PAD.l}" y1="${H - PAD.b}" x2="${W - PAD.r}" y2="${H - PAD.b}" stroke="#9aa0a6"/>${lines}${ticks}${xt}</svg><div class="muted">${legend}</div>`;
}

const mib = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : `${(v / 1024 / 1024).toFixed(1)} MiB`);
const cores = (v: number | null | undefined): string => (v === null || v === undefined ? "-" : v.toFixed(2));
const signed = (v: number | null | undefined, f: (x: number) => string): string => (v === null || v === undefined ? "-" : `${v >= 0 ? "+" : "−"}${f(Math.abs(v))}`);

/** The server-side section (HTML), or "" when no phase recorded coderd's metrics. */
export function serverSideSection(model: ReportModel): string {
  const rows = model.phases.map((p) => ({ p, b: blockOf(model.runDir, p.dir) })).filter((r): r is { p: (typeof r)["p"]; b: Block } => r.b !== null);
  if (!rows.length) return "";
  const t0 = Math.min(...model.phases.flatMap((p) => (p.startedAt ? [Date.parse(p.startedAt)] : [])), ...rows.flatMap((r) => r.b.timeline.map((pt) => pt.at)));
  const phases = model.phases
    .filter((p) => p.startedAt && p.endedAt)
    .map((p) => ({ name: p.name, from: (Date.parse(p.startedAt!) - t0) / 1000, to: (Date.parse(p.endedAt!) - t0) / 1000, status: p.status }));
  const points = rows.flatMap((r) => r.b.timeline).slice(-MAX_POINTS);
  const tMax = Math.max(...phases.map((p) => p.to), ...points.map((p) => (p.at - t0) / 1000), 1);
  const byReplica = (pick: (p: Point) => number | null) => {
    const m = new Map<string, { t: number; v: number | null }[]>();
    for (const pt of points) {
      const v = pick(pt);
      const list = m.get(pt.replica) ?? [];
      list.push({ t: (pt.at - t0) / 1000, v: v !== null && Number.isFinite(v) ? v : null });
      m.set(pt.replica, list);
    }
    for (const list of m.values()) list.sort((a, b) => a.t - b.t);
    return m;
  };
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
  return `<h2>Server side (coderd)</h2><section class="card" id="server-side"><p class="muted">coderd's own metrics (${e(rows[0]!.b.source === "prometheus" ? "read from Prometheus" : "scraped from its metrics endpoints")}), per phase window; percentiles from coderd's histogram buckets, replicas merged by summing buckets.</p>${table}${svgChart(
    "API p95 over time (all routes)",
    byReplica((p) => p.apiP95Ms),
    phases,
    tMax,
    (v) => formatMs(v),
  )}${svgChart("CPU over time (cores)", byReplica((p) => p.cpuCores), phases, tMax, cores)}${warnings.length ? `<ul>${warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>` : ""}</section>`;
}
