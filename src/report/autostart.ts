// The report's autostart section (HTML and Markdown): the storm's schedule and watch, Coder's results
// (end-to-end and trigger-to-completion p50/p95/p99), the distribution of trigger-to-completion over the
// workspaces (bins drawn as plain bars: no script needed), and the late workspaces by name.
import { formatMs } from "../results/stats.ts";
import { escapeHtml as e, mdCell, mdTable } from "./format.ts";
import type { ReportPhase } from "./model.ts";
import type { CoderAutostartResults } from "../autostart/types.ts";

interface Section {
  results: CoderAutostartResults;
  schedule: string;
  scheduledFor: string;
  watch: string;
  late: string[];
  bins: { from: number; to: number; count: number }[];
}

const BINS = 12;
const LATE_SHOWN = 50;

function isAutostart(p: ReportPhase): boolean {
  return p.runner === "autostart" || (p.runner === null && p.name === "autostart");
}

function read(p: ReportPhase): Section | null {
  if (!isAutostart(p)) return null;
  const r = p.extra["results"] as CoderAutostartResults | undefined;
  if (!r || !Array.isArray(r.runs)) return null;
  const watch = p.extra["watch"] as { mode?: string; reason?: string } | undefined;
  const values = r.runs.filter((x) => x.success && Number.isFinite(x.trigger_to_completion_ms)).map((x) => x.trigger_to_completion_ms);
  const bins: Section["bins"] = [];
  if (values.length) {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const width = Math.max(1, (hi - lo) / BINS);
    for (let i = 0; i < BINS; i++) bins.push({ from: lo + i * width, to: lo + (i + 1) * width, count: 0 });
    for (const v of values) bins[Math.min(BINS - 1, Math.floor((v - lo) / width))]!.count++;
    while (bins.length > 1 && bins.at(-1)!.count === 0) bins.pop();
  }
  return {
    results: r,
    schedule: typeof p.extra["schedule"] === "string" ? p.extra["schedule"] : "-",
    scheduledFor: typeof p.extra["scheduled_for"] === "string" ? p.extra["scheduled_for"] : "-",
    watch: watch?.mode ? `${watch.mode}${watch.reason ? ` (${watch.reason})` : ""}` : "-",
    late: Array.isArray(p.extra["late"]) ? (p.extra["late"] as unknown[]).filter((n): n is string => typeof n === "string") : [],
    bins,
  };
}

function rows(r: CoderAutostartResults): [string, number, number, number][] {
  return [
    ["trigger to completion (scheduled minute -> build done)", r.trigger_to_completion_p50_ms, r.trigger_to_completion_p95_ms, r.trigger_to_completion_p99_ms],
    ["end to end (schedule set -> build done)", r.end_to_end_latency_p50_ms, r.end_to_end_latency_p95_ms, r.end_to_end_latency_p99_ms],
  ];
}

export function autostartSectionHtml(p: ReportPhase): string {
  const s = read(p);
  if (!s) return "";
  const r = s.results;
  const peak = Math.max(0, ...s.bins.map((b) => b.count));
  const dist = s.bins.length
    ? `<table class="autostart-dist"><thead><tr><th>trigger to completion</th><th class="num">workspaces</th><th></th></tr></thead><tbody>` +
      s.bins
        .map(
          (b) =>
            `<tr><td>${e(formatMs(b.from))} – ${e(formatMs(b.to))}</td><td class="num">${b.count}</td>` +
            `<td><span style="display:inline-block;height:10px;background:#4c78a8;width:${peak ? Math.round((b.count / peak) * 200) : 0}px"></span></td></tr>`,
        )
        .join("") +
      `</tbody></table>`
    : `<p class="muted">No autostart build finished.</p>`;
  const late = s.late.length
    ? `<p class="chart-error">Late (no autostart build done in time): ${s.late.length} workspace(s): ${s.late.slice(0, LATE_SHOWN).map(e).join(", ")}${s.late.length > LATE_SHOWN ? ", ..." : ""}</p>`
    : "";
  return (
    `<div class="autostart"><h4>Autostart storm</h4>` +
    `<p>${r.total_runs} workspace(s), ${r.successful_runs} started, ${r.failed_runs} failed. Schedule <code>${e(s.schedule)}</code> (${e(s.scheduledFor)}); watch: ${e(s.watch)}.</p>` +
    `<table><thead><tr><th>latency</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th></tr></thead><tbody>` +
    rows(r).map(([n, a, b, c]) => `<tr><td>${e(n)}</td>${[a, b, c].map((v) => `<td class="num">${e(formatMs(v))}</td>`).join("")}</tr>`).join("") +
    `</tbody></table>${dist}${late}</div>`
  );
}

export function autostartSectionMarkdown(p: ReportPhase): string[] {
  const s = read(p);
  if (!s) return [];
  const r = s.results;
  const out = [
    `Autostart storm: ${r.total_runs} workspace(s), ${r.successful_runs} started, ${r.failed_runs} failed; schedule \`${s.schedule}\` (${s.scheduledFor}); watch: ${mdCell(s.watch)}.\n`,
    mdTable(["latency", "p50", "p95", "p99"], rows(r).map(([n, a, b, c]) => [n, formatMs(a), formatMs(b), formatMs(c)]), [1, 2, 3]),
  ];
  if (s.bins.length) {
    const peak = Math.max(0, ...s.bins.map((b) => b.count));
    out.push("Trigger to completion over the workspaces:\n", "```");
    for (const b of s.bins) {
      out.push(`${formatMs(b.from).padStart(8)} – ${formatMs(b.to).padEnd(8)} ${String(b.count).padStart(5)} ${"#".repeat(peak ? Math.round((b.count / peak) * 40) : 0)}`);
    }
    out.push("```\n");
  }
  if (s.late.length) out.push(`Late: ${s.late.length} workspace(s): ${s.late.slice(0, LATE_SHOWN).map(mdCell).join(", ")}${s.late.length > LATE_SHOWN ? ", ..." : ""}\n`);
  return out;
}
