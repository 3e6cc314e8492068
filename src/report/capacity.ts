// The report's capacity section (runs with a capacity.json): the one-line verdict, the steps, and per headline
// metric (each threshold the steps were judged with) a chart of its value against load, with the limit drawn
// and the knee (the largest step that met every threshold) marked.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { CAPACITY_FILE, loadText } from "../capacity/result.ts";
import type { CapacityLoad } from "../config/settings/capacity.ts";
import { CapacityResult, readResultsFile, ResultsFileError } from "../results/schema.ts";
import { formatQuantity } from "../results/units.ts";
import { escapeHtml as e } from "./format.ts";

export interface CapacityChart {
  id: string;
  /** The threshold expression the chart shows. */
  expression: string;
  unit: string;
  limit: number;
  /** The found knee (x of the marker), or null when no step held. */
  knee: number | null;
  /** The metric's value at the knee (y of the marker), or null. */
  kneeValue: number | null;
  /** Axis title, e.g. "web-terminal connections". */
  noun: string;
  points: { load: number; value: number | null; ok: boolean }[];
}

/** capacity.json of a run folder, or null (none, or unreadable: then a warning says so). */
export function readCapacity(runDir: string, warnings: string[]): CapacityResult | null {
  const file = join(runDir, CAPACITY_FILE);
  if (!existsSync(file)) return null;
  try {
    return readResultsFile(CapacityResult, file);
  } catch (err) {
    if (!(err instanceof ResultsFileError)) throw err;
    warnings.push(`${CAPACITY_FILE} cannot be read (${err.message.slice(err.file.length + 2)}): the capacity section is not shown`);
    return null;
  }
}

/** One chart per threshold expression, its value at every step in load order. */
export function capacityCharts(cap: CapacityResult): CapacityChart[] {
  const steps = [...cap.steps].sort((a, b) => a.load - b.load);
  const expressions: string[] = [];
  for (const s of steps) for (const t of s.thresholds) if (!expressions.includes(t.expression)) expressions.push(t.expression);
  return expressions.map((expression, i) => {
    const rows = steps.map((s) => ({ s, row: s.thresholds.find((t) => t.expression === expression) }));
    const first = rows.find((r) => r.row)!.row!;
    const atKnee = cap.knee === null ? undefined : rows.find((r) => r.s.load === cap.knee && r.s.ok)?.row;
    return {
      id: `chart-capacity-${i}`,
      expression,
      unit: first.unit,
      limit: first.limit,
      knee: cap.knee,
      kneeValue: atKnee?.observed ?? null,
      noun: cap.noun,
      points: rows.filter((r) => r.row).map((r) => ({ load: r.s.load, value: r.row!.observed, ok: r.row!.ok })),
    };
  });
}

function stepsTable(cap: CapacityResult): string {
  const rows = cap.steps.map((s) => {
    const broke = s.broke ? `${s.broke.expression}: ${formatQuantity(s.broke.observed, s.broke.unit)}${s.broke.excess_pct !== null ? ` (+${s.broke.excess_pct}%)` : ""}` : (s.error ?? "");
    const knee = s.load === cap.knee && s.ok ? ` class="knee"` : "";
    return `<tr${knee}${s.ok ? "" : ` class="bad"`} data-load="${s.load}"><td class="num">${s.step}</td><td class="num">${s.load.toLocaleString("en-US")}</td><td>${e(s.phase)}</td><td class="${s.ok ? "ok" : "bad"}">${s.ok ? "held" : e(s.status)}</td><td>${e(broke)}</td></tr>`;
  });
  return `<table id="capacity-steps"><thead><tr><th class="num">Step</th><th class="num">Load</th><th>Phase</th><th>Verdict</th><th>Threshold that broke</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The section's HTML (canvases drawn by the page's script from the embedded chart data). */
export function capacitySection(cap: CapacityResult | null | undefined, charts: readonly CapacityChart[]): string {
  if (!cap) return "";
  const knee = cap.knee === null ? "no step held" : loadText(cap.load as CapacityLoad, cap.knee);
  const cards = charts
    .map(
      (c) =>
        `<section class="card chart-card"><h3>${e(c.expression)}</h3><p class="caption">Value at each step against load; dashed: the limit (${e(formatQuantity(c.limit, c.unit))}); green marker: the knee (${e(c.knee === null ? "none" : String(c.knee))}).</p>` +
        `<div class="chart" style="height:260px"><canvas id="${e(c.id)}" data-axis="capacity" data-expression="${e(c.expression)}" data-limit="${c.limit}" data-knee="${c.knee ?? ""}" role="img" aria-label="${e(c.expression)} against ${e(c.noun)}"></canvas></div></section>`,
    )
    .join("");
  return `<h2>Capacity</h2>
<div class="card" id="capacity" data-knee="${cap.knee ?? ""}" data-first-bad="${cap.first_bad ?? ""}"><p><b>${e(cap.summary)}</b></p><p class="muted">Load: ${e(cap.noun)}; ${e(cap.mode)} mode; knee: ${e(knee)}; search ended: ${e(cap.stopped_by)}.</p></div>
${stepsTable(cap)}
<div class="grid">${cards}</div>`;
}

/** The page script's part: draws one capacity chart (linear load axis, the metric, the limit, the knee). */
export const CAPACITY_CLIENT_JS = `
  function capacityChart(c) {
    var xs = c.points.map(function (p) { return p.load; });
    var ys = c.points.map(function (p) { return p.value; }).filter(function (v) { return v !== null; });
    var xMin = Math.min.apply(null, xs), xMax = Math.max.apply(null, xs);
    var yMax = Math.max.apply(null, ys.concat([c.limit])) * 1.1 || 1;
    var fmt = function (v) { return c.unit === "ms" ? fmtMs(v) : c.unit === "ratio" ? (Math.round(v * 10000) / 100) + "%" : String(v); };
    var datasets = [
      { label: c.expression.replace(/[<>=].*$/, ""), data: c.points.map(function (p) { return { x: p.load, y: p.value }; }),
        borderColor: "#1565c0", backgroundColor: c.points.map(function (p) { return p.ok ? "#1565c0" : "#c62828"; }), pointRadius: 4, borderWidth: 2, spanGaps: true },
      { label: "limit", data: [{ x: xMin, y: c.limit }, { x: xMax, y: c.limit }], borderColor: "#c62828", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0 }
    ];
    if (c.knee !== null) {
      datasets.push({ label: "knee", data: [{ x: c.knee, y: 0 }, { x: c.knee, y: yMax }], borderColor: "#1b7f3b", borderWidth: 2, pointRadius: 0 });
      if (c.kneeValue !== null) datasets.push({ label: "knee value", data: [{ x: c.knee, y: c.kneeValue }], borderColor: "#1b7f3b", backgroundColor: "#1b7f3b", pointRadius: 7, pointStyle: "rectRot", showLine: false });
    }
    return { type: "line", data: { datasets: datasets },
      options: { parsing: true, scales: { x: { type: "linear", min: xMin, max: xMax, title: { display: true, text: c.noun } },
        y: { beginAtZero: true, suggestedMax: yMax, ticks: { callback: function (v) { return fmt(v); } } } },
        plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + fmt(ctx.parsed.y) + " at " + ctx.parsed.x; } } } } } };
  }
`;
