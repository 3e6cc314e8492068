// compare.html: two runs' charts overlaid (A dashed, B solid) on the same axes, with the differences
// above noise (compare.ts's verdicts) highlighted and the settings that differ listed first. One
// self-contained file like report.html, drawn by the same page script.
import { chartData, splitByScale, type StageBar, type StageChart, type TimeChart, type TimeSeries } from "./chart-data.ts";
import type { CompareResult, CompareRow } from "./compare.ts";
import { escapeHtml as e, formatDelta, formatValue } from "./format.ts";
import { chartCard, CSS, pageEnd } from "./html.ts";
import type { ReportModel } from "./model.ts";

type Run = "A" | "B";

export interface CompareStageBar extends StageBar {
  values: Partial<Record<Run, { p50: number | null; p95: number | null; p99: number | null }>>;
  /** Some percentile of this stage differs above noise: "worse", "better", or null. */
  highlight: "worse" | "better" | null;
}

export interface CompareStageChart extends Omit<StageChart, "bars"> {
  runs: Run[];
  bars: CompareStageBar[];
}

/** The kind of a time chart, without the phase's position (which may differ between the runs). */
function timeKey(c: TimeChart): string {
  return `${c.phase}:${c.id.replace(/-\d+$/, "")}`;
}

function stageKey(c: StageChart): string {
  return `${c.phase}:${c.id.replace(/^chart-stages-\d+-/, "").replace(/-\d+$/, "")}`;
}

/** Time charts of both runs overlaid: each run's time from its own start; the axis spans the longer run. */
export function overlayTimeCharts(a: ReportModel, b: ReportModel): TimeChart[] {
  const ca = chartData(a);
  const cb = chartData(b);
  const xMax = Math.max(ca.durationSec, cb.durationSec);
  const keys: string[] = [];
  const by = new Map<string, Partial<Record<Run, TimeChart>>>();
  for (const [run, list] of [["A", ca.timeCharts], ["B", cb.timeCharts]] as const) {
    for (const c of list) {
      const k = timeKey(c);
      if (!by.has(k)) (keys.push(k), by.set(k, {}));
      by.get(k)![run] = c;
    }
  }
  return keys.map((k, i) => {
    const pair = by.get(k)!;
    const base = (pair.B ?? pair.A)!;
    const series: (TimeSeries & { run: Run })[] = [];
    for (const run of ["A", "B"] as const) for (const s of pair[run]?.series ?? []) series.push({ ...s, run });
    return {
      ...base,
      id: `cmp-time-${i}`,
      xMax,
      title: `${base.title}: A vs B`,
      caption: `${base.caption} A dashed, B solid; each run's time from its own start.${!pair.A ? " Only in B." : !pair.B ? " Only in A." : ""}`,
      series,
    };
  });
}

/** Stage charts of both runs side by side per stage, grouped by scale over both runs' medians. */
export function overlayStageCharts(a: ReportModel, b: ReportModel, rows: readonly CompareRow[]): CompareStageChart[] {
  const keys: string[] = [];
  const sets = new Map<string, { base: StageChart; bars: Map<string, CompareStageBar> }>();
  for (const [run, model] of [["A", a], ["B", b]] as const) {
    for (const c of chartData(model).stageCharts) {
      const k = stageKey(c);
      if (!sets.has(k)) (keys.push(k), sets.set(k, { base: c, bars: new Map() }));
      const set = sets.get(k)!;
      for (const bar of c.bars) {
        const cur = set.bars.get(bar.stage) ?? { ...bar, values: {}, highlight: null };
        cur.values[run] = { p50: bar.p50, p95: bar.p95, p99: bar.p99 };
        // The grouping median: the larger of the two runs'.
        cur.p50 = Math.max(cur.p50 ?? 0, bar.p50 ?? 0);
        set.bars.set(bar.stage, cur);
      }
    }
  }
  const out: CompareStageChart[] = [];
  for (const k of keys) {
    const { base, bars } = sets.get(k)!;
    for (const bar of bars.values()) {
      const mine = rows.filter((r) => r.group === "stage" && r.phase === base.phase && r.key.startsWith(`stage:${base.phase}:${bar.stage}:`));
      bar.highlight = mine.some((r) => r.verdict === "worse") ? "worse" : mine.some((r) => r.verdict === "better") ? "better" : null;
    }
    const groups = splitByScale([...bars.values()]) as CompareStageBar[][];
    const title = base.title.replace(/ \(\d+ of \d+, by scale\)$/, "");
    groups.forEach((g, gi) => {
      out.push({
        ...base,
        id: `cmp-stages-${out.length}`,
        title: `${title}: A vs B${groups.length > 1 ? ` (${gi + 1} of ${groups.length}, by scale)` : ""}`,
        caption: `p50, p95 and p99 per stage, A (grey) and B (blue). ▲ marks a stage worse in B beyond the noise tolerance, ▼ better.`,
        runs: ["A", "B"],
        bars: g,
      });
    });
  }
  return out;
}

function pct(r: CompareRow): string {
  return r.changePct === null ? "-" : `${r.changePct > 0 ? "+" : ""}${Math.abs(r.changePct) >= 100 ? Math.round(r.changePct) : r.changePct.toFixed(1)}%`;
}

export function renderCompareHtml(a: ReportModel, b: ReportModel, c: CompareResult, opts: { generatedAt?: Date } = {}): string {
  const timeCharts = overlayTimeCharts(a, b);
  const stageCharts = overlayStageCharts(a, b, c.rows);
  const diffs = c.settingsDiff.filter((d) => d.setting !== "--run-id");
  const changed = c.rows.filter((r) => r.verdict === "worse" || r.verdict === "better").sort((x, y) => Number(x.verdict !== "worse") - Number(y.verdict !== "worse"));
  const settingsHtml = diffs.length
    ? `<table id="settings-diff"><thead><tr><th>setting</th><th>A</th><th>B</th></tr></thead><tbody>${diffs.map((d) => `<tr><th>${e(d.setting)}</th><td><code>${e(d.a ?? "-")}</code></td><td><code>${e(d.b ?? "-")}</code></td></tr>`).join("")}</tbody></table>`
    : `<p class="muted" id="settings-diff">Like for like: no setting differs.</p>`;
  const diffRows = changed.length
    ? `<table id="differences"><thead><tr><th>phase</th><th>metric</th><th class="num">A</th><th class="num">B</th><th class="num">change</th><th class="num">change %</th><th>verdict</th></tr></thead><tbody>${changed
        .map(
          (r) =>
            `<tr class="${r.verdict === "worse" ? "bad" : "better"}" data-key="${e(r.key)}"><td>${e(r.phase)}</td><td>${e(r.metric)}</td><td class="num">${e(formatValue(r.unit, r.a))}</td>` +
            `<td class="num">${e(formatValue(r.unit, r.b))}</td><td class="num">${e(formatDelta(r.unit, r.change))}</td><td class="num">${e(pct(r))}</td>` +
            `<td class="${r.verdict === "worse" ? "bad" : "ok"}">${r.verdict === "worse" ? "▲ WORSE" : "▼ better"}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : `<p class="muted" id="differences">No metric differs beyond the noise tolerance.</p>`;
  const n = c.counts;
  const verdict = n.worse > 0 ? "fail" : "pass";
  const charts = { durationSec: Math.max(chartData(a).durationSec, chartData(b).durationSec), timeline: null, builds: null, stageCharts, timeCharts };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>Scale test comparison ${e(c.a.runId)} vs ${e(c.b.runId)}</title>
<style>${CSS}
tr.better td{background:#e8f5e9}
</style>
</head>
<body>
<main>
<h1>Scale test comparison: ${e(c.a.runId)} (A) vs ${e(c.b.runId)} (B)</h1>
<p class="muted">Generated ${e((opts.generatedAt ?? new Date()).toISOString())}. A: ${e(c.a.runDir)} (${e(c.a.verdict.toUpperCase())}); B: ${e(c.b.runDir)} (${e(c.b.verdict.toUpperCase())}).</p>
<h2>Settings that differ</h2>
${settingsHtml}
<div class="banner ${verdict}" id="verdict"><b>${n.worse > 0 ? "B IS WORSE" : "NO WORSE"}</b><span>${n.worse} worse, ${n.better} better, ${n.same} same, ${n["n/a"]} not in both runs (noise tolerance ${Math.round(c.tolerance * 100)}% or a small absolute floor).</span></div>
<h2>Differences above noise</h2>
${diffRows}
<h2>Over time</h2>
<div class="grid">${timeCharts.map((t) => chartCard(t.title, t.id, true, t.caption, "", 240, "time")).join("")}</div>
<h2>Stages</h2>
<div class="grid">${stageCharts.map((s) => chartCard(s.title, s.id, true, s.caption, "", Math.max(160, 80 + s.bars.length * 40), "stages")).join("")}</div>
${pageEnd("comparison", { runId: c.b.runId, verdict, live: null, charts })}`;
}
