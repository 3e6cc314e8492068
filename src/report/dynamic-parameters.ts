// The report's dynamic-parameters section: for each phase of that load type, both latency distributions
// (initial evaluation, change response) as figures and a text histogram, from the samples the phase
// record keeps (extra.latency). Shared by report.md and report.html.
import { formatMs, summarize } from "../results/stats.ts";
import { histogram } from "./chart-data.ts";
import { escapeHtml, mdCell, mdTable } from "./format.ts";
import type { ReportModel, ReportPhase } from "./model.ts";

const MAX_SAMPLES = 200_000;
const KINDS = [
  ["initial", "Initial evaluation (open -> first response)"],
  ["change", "Change (first response -> change response)"],
] as const;

function samples(p: ReportPhase, kind: "initial" | "change"): number[] {
  const lat = (p.extra as { latency?: Record<string, unknown> }).latency;
  const v = lat && typeof lat === "object" ? lat[kind] : undefined;
  if (!Array.isArray(v)) return [];
  return v.slice(0, MAX_SAMPLES).filter((x): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0);
}

function phasesOf(model: ReportModel): ReportPhase[] {
  return model.phases.filter((p) => p.runner === "dynamic-parameters" || p.name === "dynamic-parameters");
}

function bars(values: number[]): string[] {
  const bins = histogram(values, 16);
  const peak = Math.max(0, ...bins.map((b) => b.count));
  return bins.map((b) => `${formatMs(b.from).padStart(8)} – ${formatMs(b.to).padEnd(8)} ${String(b.count).padStart(5)} ${"#".repeat(peak > 0 ? Math.round((b.count / peak) * 40) : 0)}`);
}

export function dynamicParametersMarkdown(model: ReportModel): string {
  const phases = phasesOf(model);
  if (!phases.length) return "";
  const out = ["## Dynamic parameters\n"];
  for (const p of phases) {
    const rows = KINDS.map(([k, label]) => {
      const s = summarize(samples(p, k));
      return [label, String(s.count), formatMs(s.p50), formatMs(s.p95), formatMs(s.p99), formatMs(s.max)];
    });
    out.push(`${mdCell(p.name)}: ${p.totals.pass} session(s) passed, ${p.totals.fail} failed\n`);
    out.push(mdTable(["latency", "count", "p50", "p95", "p99", "max"], rows, [1, 2, 3, 4, 5]));
    for (const [k, label] of KINDS) {
      const v = samples(p, k);
      if (!v.length) continue;
      out.push(`${label}:\n`, "```", ...bars(v), "```\n");
    }
  }
  return out.join("\n");
}

export function dynamicParametersHtml(model: ReportModel): string {
  const phases = phasesOf(model);
  if (!phases.length) return "";
  const e = escapeHtml;
  const parts = ["<h2>Dynamic parameters</h2>"];
  for (const p of phases) {
    parts.push(`<p>${e(p.name)}: ${p.totals.pass} session(s) passed, ${p.totals.fail} failed</p>`);
    parts.push(
      `<table class="stages"><thead><tr><th>latency</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr></thead><tbody>${KINDS.map(([k, label]) => {
        const s = summarize(samples(p, k));
        return `<tr><td>${e(label)}</td><td>${s.count}</td><td>${e(formatMs(s.p50))}</td><td>${e(formatMs(s.p95))}</td><td>${e(formatMs(s.p99))}</td><td>${e(formatMs(s.max))}</td></tr>`;
      }).join("")}</tbody></table>`,
    );
    for (const [k, label] of KINDS) {
      const v = samples(p, k);
      if (v.length) parts.push(`<p class="muted">${e(label)}</p><pre>${e(bars(v).join("\n"))}</pre>`);
    }
  }
  return parts.join("\n");
}
