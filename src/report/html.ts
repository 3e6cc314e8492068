// report.html: one self-contained page (inline CSS, Chart.js inlined with its licence header, the data
// embedded as JSON) that works offline from a file:// URL, e.g. copied out of the runner workspace.
// Nothing in it loads from the network: no external src/href at all.
import { serverSideSection } from "./server-side.ts";
import { notificationsHtml } from "./notifications.ts";
import { dashboardSocketsHtml } from "./dashboard.ts";
import { CAPACITY_CLIENT_JS, capacitySection } from "./capacity.ts";
import { autostartSectionHtml } from "./autostart.ts";
import { dynamicParametersHtml } from "./dynamic-parameters.ts";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { formatMs } from "../results/stats.ts";
import { chartData, type ChartData, type StageChart, type TimeChart } from "./chart-data.ts";
import { headlineCards, thresholdsFailedFirst, type HeadlineCard } from "./headline.ts";
import { escapeHtml, formatLimit, formatPercent, formatValue } from "./format.ts";
import { throughputText } from "./markdown.ts";
import type { ReportModel, ReportPhase } from "./model.ts";

let chartJsCache: string | null = null;

/** Chart.js's UMD build, licence header kept, source-map comment dropped (the map is not shipped). */
export function chartJsSource(): string {
  if (chartJsCache !== null) return chartJsCache;
  const require = createRequire(import.meta.url);
  const file = join(dirname(require.resolve("chart.js")), "chart.umd.js");
  const src = readFileSync(file, "utf8").replace(/\n\/\/# sourceMappingURL=\S*\s*$/, "\n");
  if (!/Released under the MIT License/.test(src.slice(0, 400))) {
    throw new Error(`${file} does not start with Chart.js's licence header; reinstall chart.js (npm ci)`);
  }
  if (/<\/script/i.test(src) || /<!--/.test(src)) {
    throw new Error(`${file} contains "</script" or "<!--" and cannot be inlined safely; pin another chart.js version`);
  }
  chartJsCache = src;
  return src;
}

/** JSON that is safe inside a <script> element (cannot close it or open a comment). */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const e = escapeHtml;

const VERDICT: Record<ReportModel["verdict"], { title: string; text: string }> = {
  pass: { title: "PASS", text: "Every phase passed and every threshold was met." },
  fail: { title: "FAIL", text: "A phase failed or a threshold was missed." },
  interrupted: { title: "INTERRUPTED", text: "The run was stopped before the end; results are partial." },
  incomplete: { title: "INCOMPLETE", text: "The run has not finished: no summary.json yet." },
};

export const CSS = `
:root{--pass:#1b7f3b;--fail:#c62828;--warn:#b35c00;--muted:#5f6368;--line:#e0e3e7;--bg:#f6f7f9}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px}
h3{font-size:15px;margin:18px 0 8px}
.muted{color:var(--muted)}
.banner{border-radius:8px;padding:14px 18px;color:#fff;display:flex;gap:16px;align-items:baseline;margin:16px 0}
.banner b{font-size:20px;letter-spacing:.04em}
.banner.pass{background:var(--pass)}.banner.fail{background:var(--fail)}
.banner.interrupted,.banner.incomplete{background:var(--warn)}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:8px 20px;margin:0 0 8px}
.facts div{background:#fff;border:1px solid var(--line);border-radius:6px;padding:8px 10px}
.facts span{display:block;font-size:12px;color:var(--muted)}
.facts strong{word-break:break-all}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);border-radius:6px;overflow:hidden}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600;font-size:13px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.ok{color:var(--pass);font-weight:600}
td.bad{color:#fff;background:var(--fail);font-weight:600}
tr.bad td{background:#fdecea}
tr.bad td.bad{background:var(--fail);color:#fff}
.status{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;background:var(--muted)}
.status.pass{background:var(--pass)}.status.fail,.status.error{background:var(--fail)}
.status.interrupted,.status.running{background:var(--warn)}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:12px 0}
.card h3{margin-top:0}
.chart{position:relative;height:320px}
.chart-error{color:var(--fail)}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.grid>*{min-width:0}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
ul.failures{margin:6px 0;padding-left:20px;font-family:ui-monospace,Menlo,monospace;font-size:12px}
footer{margin:32px 0 8px;font-size:12px;color:var(--muted)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:10px;margin:0 0 14px}
.hcard{background:#fff;border:1px solid var(--line);border-left:5px solid var(--muted);border-radius:6px;padding:10px 12px}
.hcard.pass{border-left-color:var(--pass)}
.hcard.fail{border-left-color:var(--fail);background:#fdecea}
.hcard .hlabel{display:block;font-size:12px;color:var(--muted)}
.hcard .hlabel small{font-size:11px}
.hcard .hvalue{display:block;font-size:22px;font-variant-numeric:tabular-nums}
.hcard.fail .hvalue,.hcard.fail .hlimit{color:var(--fail)}
.hcard .hlimit{display:block;font-size:12px}
.meter{height:4px;background:var(--line);border-radius:2px;margin-top:6px;overflow:hidden}
.meter i{display:block;height:100%;background:var(--pass)}
.hcard.fail .meter i{background:var(--fail)}
.caption{color:var(--muted);font-size:12px;margin:0 0 6px}
.phase-head{margin-top:22px}
.live{background:#e3f2fd;border:1px solid #90caf9;border-radius:6px;padding:6px 10px}
table.settings th{width:40%;font-weight:500;font-family:ui-monospace,Menlo,monospace;font-size:12px}
@media print{body{background:#fff;font-size:12px}main{max-width:none;padding:0}.card,table,.hcard,.chart-card{break-inside:avoid}.grid{grid-template-columns:1fr 1fr}.live{display:none}.chart{height:200px!important}}
`;

// Runs in the browser: draws the charts described in #report-data. Each chart is independent, so one
// bad chart shows its error in its card and the others still draw. Every time chart's x-axis is 0..the
// run's duration, the phase timeline's axis. On the live page (report.ts --serve, the runner's live
// server) it re-fetches the page every few seconds and redraws from the new data.
export const CLIENT_JS = `
(function () {
  "use strict";
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.family = 'system-ui,-apple-system,"Segoe UI",Roboto,sans-serif';
  var STATUS = { pass: "#1b7f3b", fail: "#c62828", error: "#c62828", interrupted: "#b35c00", running: "#1565c0", skipped: "#9aa0a6", unknown: "#5f6368" };
  var PALETTE = ["#1565c0", "#2e7d32", "#ad1457", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#9e9d24"];
  var STYLE = { p50: { c: "#64b5f6", w: 1.5 }, p95: { c: "#1565c0", w: 2 }, p99: { c: "#ad1457", w: 1.5 },
    achieved: { c: "#2e7d32", w: 2 }, target: { c: "#5f6368", w: 1.5, dash: [6, 4] } };
  var CMP = { A: "#9aa0a6", B: "#1565c0" };
  function fmtMs(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return "-";
    if (ms === 0) return "0";
    if (ms < 1) return +ms.toFixed(2) + "ms";
    if (ms < 10) return +ms.toFixed(1) + "ms";
    if (ms < 999.5) return Math.round(ms) + "ms";
    if (ms < 59950) return +(ms / 1000).toFixed(1) + "s";
    var s = Math.round(ms / 1000), m = Math.floor(s / 60), h = Math.floor(m / 60);
    var ss = String(s % 60).padStart(2, "0");
    return h ? h + "h" + String(m % 60).padStart(2, "0") + "m" + ss + "s" : m + "m" + ss + "s";
  }
  function fmtSec(s) { return s === 0 ? "0s" : fmtMs(s * 1000); }
  function timeStep(maxSec) {
    var steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400];
    for (var i = 0; i < steps.length; i++) if (maxSec / steps[i] <= 10) return steps[i];
    return steps[steps.length - 1];
  }
  // The one time axis: the run's start to its end.
  function timeAxis(maxSec) {
    return { type: "linear", min: 0, max: maxSec, bounds: "data", title: { display: true, text: "time since run start" },
      ticks: { stepSize: timeStep(maxSec), callback: function (v) { return fmtSec(v); } } };
  }
  var live = [];
  function draw(id, make) {
    var canvas = document.getElementById(id);
    if (!canvas) return 0;
    try { live.push(new Chart(canvas, make())); return 1; }
    catch (err) {
      var p = document.createElement("p");
      p.className = "chart-error";
      p.textContent = "Chart failed: " + (err && err.message ? err.message : String(err));
      canvas.parentNode.appendChild(p);
      canvas.setAttribute("data-chart-error", p.textContent);
      return 0;
    }
  }
  function timelineChart(bars, xMax) {
    return {
      type: "bar",
      data: { labels: bars.map(function (b) { return b.label; }),
        datasets: [{ label: "phase", data: bars.map(function (b) { return [b.start, Math.max(b.end, b.start + xMax / 400)]; }),
          backgroundColor: bars.map(function (b) { return STATUS[b.status] || STATUS.unknown; }), borderSkipped: false, barPercentage: 0.7 }] },
      options: { indexAxis: "y", scales: { x: timeAxis(xMax) },
        plugins: { legend: { display: false }, tooltip: { callbacks: { label: function (ctx) {
          var b = bars[ctx.dataIndex]; return b.status + ": " + fmtSec(b.start) + " → " + fmtSec(b.end) + " (" + fmtSec(b.end - b.start) + ")"; } } } } }
    };
  }
  function stageChart(c) {
    var keys = ["p50", "p95", "p99"], colors = [STYLE.p50.c, STYLE.p95.c, STYLE.p99.c], datasets = [];
    (c.runs || [null]).forEach(function (run, ri) {
      keys.forEach(function (k, i) {
        datasets.push({ label: (run ? run + " " : "") + k, data: c.bars.map(function (x) { var v = run ? (x.values[run] || {})[k] : x[k]; return v === undefined ? null : v; }),
          backgroundColor: run ? (ri === 0 ? ["#cfd8dc", "#90a4ae", "#546e7a"][i] : colors[i]) : colors[i],
          borderColor: c.bars.map(function (x) { return run && ri === 1 && x.highlight ? "#c62828" : "transparent"; }), borderWidth: run ? 2 : 0 });
      });
    });
    return {
      type: "bar",
      data: { labels: c.bars.map(function (x) { return (x.highlight === "worse" ? "▲ " : x.highlight === "better" ? "▼ " : "") + x.label; }), datasets: datasets },
      options: { indexAxis: "y", scales: { x: { beginAtZero: true, title: { display: true, text: "latency (linear)" }, ticks: { callback: function (v) { return fmtMs(v); } } } },
        plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + fmtMs(ctx.parsed.x); } } } } }
    };
  }
  function timeChart(c) {
    var y = { beginAtZero: true, title: { display: true, text: c.unit === "ms" ? "latency" : c.unit === "count" ? "errors per second" : c.unit === "cores" ? "CPU cores" : "per second" } };
    if (c.unit === "ms") y.ticks = { callback: function (v) { return fmtMs(v); } };
    else if (c.unit !== "cores") y.ticks = { precision: 0 };
    return {
      type: "line",
      data: { datasets: c.series.map(function (s, i) {
        var st = STYLE[s.style] || { c: PALETTE[i % PALETTE.length], w: 1.5 };
        var color = s.run ? (s.run === "A" ? CMP.A : st.c) : st.c;
        var dash = st.dash || (s.run === "A" ? [3, 3] : []);
        return { label: (s.run ? s.run + " " : "") + s.label, data: s.points.map(function (p) { return { x: p.t, y: p.v }; }),
          borderColor: color, backgroundColor: color, borderWidth: st.w, borderDash: dash, pointRadius: s.points.length < 3 ? 3 : 0,
          stepped: s.style === "count" ? "before" : false, spanGaps: false, tension: 0 }; }) },
      options: { parsing: false, scales: { x: timeAxis(c.xMax), y: y }, interaction: { mode: "nearest", intersect: false },
        plugins: { tooltip: { callbacks: { title: function (items) { return items.length ? fmtSec(items[0].parsed.x) : ""; },
          label: function (ctx) { return ctx.dataset.label + ": " + (c.unit === "ms" ? fmtMs(ctx.parsed.y) : ctx.parsed.y); } } } } }
    };
  }
${CAPACITY_CLIENT_JS}
  function render() {
    live.forEach(function (c) { c.destroy(); });
    live = [];
    var data = JSON.parse(document.getElementById("report-data").textContent);
    var charts = data.charts, drawn = 0;
    if (charts.timeline) drawn += draw("chart-timeline", function () { return timelineChart(charts.timeline, charts.durationSec); });
    (charts.builds || []).forEach(function (b, i) {
      drawn += draw("chart-builds-" + i, function () {
        return {
          type: "bar",
          data: { labels: b.bins.map(function (x) { return fmtMs(x.from) + "–" + fmtMs(x.to); }),
            datasets: [{ label: "workspaces", data: b.bins.map(function (x) { return x.count; }), backgroundColor: "#1565c0", barPercentage: 1, categoryPercentage: 0.95 }] },
          options: { scales: { x: { title: { display: true, text: "create call to agent ready" } }, y: { beginAtZero: true, title: { display: true, text: "workspaces" }, ticks: { precision: 0 } } },
            plugins: { legend: { display: false } } }
        };
      });
    });
    (charts.stageCharts || []).forEach(function (c) { drawn += draw(c.id, function () { return stageChart(c); }); });
    (charts.timeCharts || []).forEach(function (c) { drawn += draw(c.id, function () { return timeChart(c); }); });
    (charts.capacity || []).forEach(function (c) { drawn += draw(c.id, function () { return capacityChart(c); }); });
    document.body.setAttribute("data-charts-drawn", String(drawn));
    return data;
  }
  var data = render();
  if (data.live && window.fetch && window.DOMParser) {
    // Live: re-read the page (regenerated from the run folder on each request) and swap it in.
    var busy = false, timer = 0;
    timer = setInterval(function () {
      if (busy) return;
      busy = true;
      fetch(location.href, { cache: "no-store" }).then(function (r) { return r.ok ? r.text() : Promise.reject(new Error(String(r.status))); })
        .then(function (text) {
          var doc = new DOMParser().parseFromString(text, "text/html");
          var main = doc.querySelector("main"), json = doc.getElementById("report-data");
          if (!main || !json) return;
          document.querySelector("main").innerHTML = main.innerHTML;
          document.getElementById("report-data").textContent = json.textContent;
          document.title = doc.title;
          var polls = Number(document.body.getAttribute("data-live-polls") || "0") + 1;
          document.body.setAttribute("data-live-polls", String(polls));
          var next = render();
          if (!next.live) { clearInterval(timer); document.body.setAttribute("data-live-final", "1"); }
        })
        .catch(function (err) { document.body.setAttribute("data-live-error", String(err && err.message || err)); })
        .then(function () { busy = false; });
    }, data.live.intervalMs);
  }
})();
`;

export function statusBadge(status: string): string {
  return `<span class="status ${e(status)}">${e(status)}</span>`;
}

export function chartCard(title: string, id: string, has: boolean, note: string, emptyText: string, height = 320, axis: "time" | "stages" | "other" = "other"): string {
  const body = has
    ? `<div class="chart" style="height:${height}px"><canvas id="${e(id)}" data-axis="${axis}" role="img" aria-label="${e(title)}"></canvas></div>`
    : `<p class="muted">${e(emptyText)}</p>`;
  return `<section class="card chart-card"><h3>${e(title)}</h3>${note ? `<p class="caption">${e(note)}</p>` : ""}${body}</section>`;
}

function thresholdTable(model: ReportModel): string {
  if (model.thresholds.length === 0) return `<p class="muted">No thresholds were evaluated.</p>`;
  const rows = thresholdsFailedFirst(model)
    .map(
      (t) =>
        `<tr${t.ok ? "" : ` class="bad"`}><td>${e(t.phase)}</td><td><code>${e(t.expression)}</code>${t.abort ? " (abort)" : ""}</td>` +
        `<td class="num">${e(formatValue(t.unit, t.observed))}${t.failed_label ? ` (${e(t.failed_label)})` : ""}</td><td class="num">${e(formatLimit(t.unit, t.limit))}</td>` +
        `<td class="${t.ok ? "ok" : "bad"}">${t.ok ? "✓ pass" : "✗ FAIL"}</td></tr>`,
    )
    .join("");
  return `<table id="thresholds"><thead><tr><th>phase</th><th>threshold</th><th class="num">observed</th><th class="num">limit</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function headlineHtml(cards: HeadlineCard[]): string {
  if (cards.length === 0) return `<p class="muted">No headline figures yet.</p>`;
  return (
    `<div class="cards" id="headline">` +
    cards
      .map((c) => {
        const cls = c.ok === false ? "fail" : c.ok === true ? "pass" : "none";
        const bar =
          c.usage !== null && Number.isFinite(c.usage)
            ? `<div class="meter" title="share of the limit"><i style="width:${Math.min(100, Math.round(c.usage * 100))}%"></i></div>`
            : "";
        return (
          `<div class="hcard ${cls}" data-card="${e(c.id)}" data-ok="${c.ok === null ? "none" : String(c.ok)}"${c.limit !== null ? ` data-limit="${e(c.limit)}"` : ""}>` +
          `<span class="hlabel">${e(c.label)}${c.phase !== "run" ? ` <small>${e(c.phase)}</small>` : ""}</span>` +
          `<strong class="hvalue">${e(c.value)}</strong>` +
          `<span class="hlimit">${c.ok === false ? "✗ FAILED: " : c.ok ? "✓ " : ""}${e(c.closeness)}${c.failedLabel ? ` (${e(c.failedLabel)})` : ""}</span>${bar}</div>`
        );
      })
      .join("") +
    `</div>`
  );
}

function phaseTable(model: ReportModel): string {
  if (model.phases.length === 0) return `<p class="muted">No phase has started.</p>`;
  const rows = model.phases
    .map(
      (p) =>
        `<tr><td class="num">${p.index}</td><td>${e(p.name)}</td><td>${statusBadge(p.status)}</td><td>${e(p.startedAt ?? "-")}</td>` +
        `<td class="num">${e(formatMs(p.durationMs))}</td><td class="num">${p.totals.pass}</td><td class="num">${p.totals.fail}</td>` +
        `<td class="num">${e(formatPercent(p.errorRate))}</td><td class="num">${e(throughputText(p))}</td></tr>`,
    )
    .join("");
  return (
    `<table id="phases"><thead><tr><th class="num">#</th><th>phase</th><th>status</th><th>started</th><th class="num">duration</th>` +
    `<th class="num">pass</th><th class="num">fail</th><th class="num">error rate</th><th class="num">throughput</th></tr></thead><tbody>${rows}</tbody></table>`
  );
}

function phaseDetail(p: ReportPhase): string {
  const stages = Object.entries(p.stages);
  const table = stages.length
    ? `<table><thead><tr><th>stage</th><th class="num">count</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">max</th><th class="num">mean</th></tr></thead><tbody>` +
      stages
        .map(
          ([name, s]) =>
            `<tr><td>${e(name)}</td><td class="num">${s.count}</td>` +
            [s.p50, s.p95, s.p99, s.max, s.mean].map((v) => `<td class="num">${e(formatMs(v))}</td>`).join("") +
            `</tr>`,
        )
        .join("") +
      `</tbody></table>`
    : `<p class="muted">No timings recorded.</p>`;
  const failures = p.failures.length
    ? `<p>First failures:</p><ul class="failures">${p.failures.map((f) => `<li>${e(f)}</li>`).join("")}</ul>`
    : "";
  const err = p.error ? `<p class="chart-error">Error: ${e(p.error)}</p>` : "";
  const intr = p.interruptedBy ? `<p class="muted">Interrupted by ${e(p.interruptedBy)}: results are partial.</p>` : "";
  const aborted = p.abortedBy ? `<p class="chart-error">Stopped by the abort threshold <code>${e(p.abortedBy)}</code>.</p>` : "";
  const attempts = p.otherAttempts.length
    ? `<p class="muted">Attempt ${p.attempt} shown; earlier attempt${p.otherAttempts.length === 1 ? "" : "s"}: ${p.otherAttempts.map((a) => `${e(a.dir)} (${e(a.status)})`).join(", ")}.</p>`
    : "";
  return `<section class="card" id="phase-${e(p.name)}"><h3>${p.index}. ${e(p.name)} ${statusBadge(p.status)} <span class="muted">${e(formatMs(p.durationMs))}</span></h3>${err}${intr}${aborted}${attempts}${notificationsHtml(p)}${table}${autostartSectionHtml(p)}${dashboardSocketsHtml(p)}${failures}</section>`;
}

function buildsNote(c: ChartData, i: number): string {
  const b = c.builds?.[i];
  if (!b) return "";
  return `${b.phase}: ${b.count} workspaces; p50 ${formatMs(b.p50)}, p95 ${formatMs(b.p95)}, max ${formatMs(b.max)}.`;
}

export interface HtmlOptions {
  generatedAt?: Date;
  /** The live page: re-fetched every intervalMs and redrawn (the run's live server sets it). */
  live?: { intervalMs: number };
}

function timeCard(c: TimeChart): string {
  return chartCard(c.title, c.id, true, c.caption, "", 240, "time");
}

function stageCard(c: StageChart): string {
  return chartCard(c.title, c.id, true, c.caption, "", Math.max(150, 70 + c.bars.length * 30), "stages");
}

export function renderHtml(model: ReportModel, opts: HtmlOptions = {}): string {
  const charts = chartData(model);
  const v = VERDICT[model.verdict];
  const facts: [string, string][] = [];
  if (model.startedAt) facts.push(["Started", model.startedAt]);
  if (model.durationMs !== null) facts.push(["Duration", formatMs(model.durationMs)]);
  if (model.url) facts.push(["Deployment", model.url]);
  if (model.coderVersion) facts.push(["Coder version", model.coderVersion]);
  if (model.comment) facts.push(["Comment", model.comment]);
  const failedChecks = model.thresholds.filter((t) => !t.ok).length;
  const cards = headlineCards(model);

  const buildCards = charts.builds
    ? charts.builds.map((_, i) => chartCard("Build time distribution", `chart-builds-${i}`, true, buildsNote(charts, i), "", 240)).join("")
    : "";
  const settings = Object.entries(model.settings);
  const settingsHtml = settings.length
    ? `<h2>Settings</h2><table class="settings"><tbody>${settings.map(([k, val]) => `<tr><th>${e(k)}</th><td><code>${e(val)}</code></td></tr>`).join("")}</tbody></table>`
    : "";
  const warnings = model.warnings.length
    ? `<h2>Notes</h2><ul>${model.warnings.map((w) => `<li>${e(w)}</li>`).join("")}</ul>`
    : "";
  const generated = (opts.generatedAt ?? new Date()).toISOString();
  const running = model.phases.filter((p) => p.status === "running").map((p) => p.name);
  const liveLine = opts.live
    ? `<p class="live" id="live">Live: refreshing every ${Math.round(opts.live.intervalMs / 1000)} s. Current phase: <b id="live-phase">${e(running.at(-1) ?? model.phase ?? "-")}</b> · ${e(model.status)}</p>`
    : "";
  const timeCharts = charts.timeCharts;
  const errorsChart = timeCharts.find((c) => c.id === "chart-errors-time");
  const stageByPhase = new Map<string, StageChart[]>();
  for (const c of charts.stageCharts) stageByPhase.set(c.phase, [...(stageByPhase.get(c.phase) ?? []), c]);
  const phaseCharts = model.phases
    .map((p) => {
      const mine = [...timeCharts.filter((c) => c.phase === p.name).map(timeCard), ...(stageByPhase.get(p.name) ?? []).map(stageCard)];
      if (p.kind === "create") mine.push(buildCards);
      return mine.length ? `<h3 class="phase-head">${p.index}. ${e(p.name)} ${statusBadge(p.status)}</h3><div class="grid">${mine.join("")}</div>` : "";
    })
    .join("\n");

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:${opts.live ? "; connect-src 'self'" : ""}">
<title>Scale test ${e(model.runId)}: ${e(v.title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>Scale test report: run ${e(model.runId)}</h1>
<p class="muted">Generated ${e(generated)} from ${e(model.runDir)}</p>
${liveLine}
<div class="banner ${e(model.verdict)}" id="verdict"><b>${e(v.title)}</b><span>${e(model.capacity && model.verdict === "pass" ? `Capacity search: ${model.capacity.summary} (steps past the knee fail by design).` : v.text)}${model.thresholds.length ? ` ${model.thresholds.length - failedChecks}/${model.thresholds.length} thresholds met.` : ""}</span></div>
${headlineHtml(cards)}
<div class="facts">${facts.map(([k, val]) => `<div><span>${e(k)}</span><strong>${e(val)}</strong></div>`).join("")}</div>
${capacitySection(model.capacity, charts.capacity ?? [])}
<h2>Thresholds</h2>
${thresholdTable(model)}
<h2>Over time</h2>
<p class="muted">Every chart over time spans the whole run, 0 to ${e(formatMs(charts.durationSec * 1000))}, on the phase timeline's axis.</p>
${chartCard("Phase timeline", "chart-timeline", charts.timeline !== null, "Each bar is a phase from its start to its end, coloured by its status (green pass, red fail, blue running, grey skipped).", "No phase has a start time yet.", Math.max(140, 60 + (charts.timeline?.length ?? 0) * 28), "time")}
${errorsChart ? timeCard(errorsChart) : ""}
${serverSideSection(model, timeCharts.filter((c) => c.phase === "server-side"), timeCard)}
<h2>Per phase</h2>
${phaseCharts || `<p class="muted">No phase recorded timings yet.</p>`}
${dynamicParametersHtml(model)}
<h2>Phases</h2>
${phaseTable(model)}
<h2>Phase details</h2>
${model.phases.map(phaseDetail).join("\n")}
${settingsHtml}
${warnings}
${pageEnd("report", { runId: model.runId, verdict: model.verdict, live: opts.live ?? null, charts })}`;
}

/** The end of a report page (report or comparison): footer, the embedded data, Chart.js and the page's script. */
export function pageEnd(what: string, data: unknown): string {
  return `<footer>scaletest-runner ${what}. Charts drawn with Chart.js (MIT licence), embedded in this file; the page loads nothing from the network.</footer>
</main>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>
${chartJsSource()}
</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}
