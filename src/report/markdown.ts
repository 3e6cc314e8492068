// report.md: the run as Markdown (readable with `cat`, renders on any forge).
import { autostartSectionMarkdown } from "./autostart.ts";
import { formatMs } from "../results/stats.ts";
import { chartData } from "./chart-data.ts";
import { formatBytesRate, formatLimit, formatPercent, formatRate, formatValue, mdCell, mdTable } from "./format.ts";
import { headlineCards, thresholdsFailedFirst } from "./headline.ts";
import type { ReportModel, ReportPhase } from "./model.ts";
import { notificationsMarkdown } from "./notifications.ts";
import { dashboardSocketsMarkdown } from "./dashboard.ts";
import { dynamicParametersMarkdown } from "./dynamic-parameters.ts";

const VERDICT_TEXT: Record<ReportModel["verdict"], string> = {
  pass: "PASS — every phase passed and every threshold was met",
  fail: "FAIL — a phase failed or a threshold was missed",
  interrupted: "INTERRUPTED — the run was stopped; results are partial",
  incomplete: "INCOMPLETE — the run has not finished (no summary.json yet)",
};

function stageTable(p: ReportPhase): string {
  const rows = Object.entries(p.stages).map(([stage, s]) => [
    stage,
    String(s.count),
    formatMs(s.p50),
    formatMs(s.p95),
    formatMs(s.p99),
    formatMs(s.max),
    formatMs(s.mean),
  ]);
  return mdTable(["stage", "count", "p50", "p95", "p99", "max", "mean"], rows, [1, 2, 3, 4, 5, 6]);
}

export function renderMarkdown(model: ReportModel): string {
  const out: string[] = [];
  out.push(`# Scale test report: run ${mdCell(model.runId)}\n`);
  out.push(`**Verdict: ${VERDICT_TEXT[model.verdict]}**\n`);
  // The headline and the thresholds first, as plain GitHub-flavoured tables: they paste into a ticket as they are.
  const cards = headlineCards(model);
  if (cards.length) {
    out.push("## Headline\n");
    out.push(
      mdTable(
        ["", "figure", "phase", "value", "limit", "how close"],
        cards.map((c) => [c.ok === false ? "✗ **FAIL**" : c.ok ? "✓" : "", c.label, c.phase, c.value, c.limit ?? "-", c.closeness + (c.failedLabel ? ` (${c.failedLabel})` : "")]),
        [3, 4],
      ),
    );
  }
  if (model.capacity) {
    // A capacity search: its one-line verdict and the steps (capacity.json has every field).
    out.push("## Capacity\n");
    out.push(`**${mdCell(model.capacity.summary)}**\n`);
    out.push(mdTable(["Load", "Phase", "Verdict", "Threshold that broke"], model.capacity.steps.map((s) => [String(s.load), mdCell(s.phase), s.ok ? "held" : s.status, mdCell(s.broke ? `${s.broke.expression} (observed ${s.broke.observed ?? "no data"})` : (s.error ?? ""))])));
  }
  out.push("## Thresholds\n");
  if (model.thresholds.length === 0) out.push("No thresholds were evaluated.\n");
  else {
    out.push(
      mdTable(
        ["phase", "threshold", "observed", "limit", "result"],
        thresholdsFailedFirst(model).map((t) => [
          t.phase,
          t.expression + (t.abort ? " (abort)" : ""),
          formatValue(t.unit, t.observed) + (t.failed_label ? ` (${t.failed_label})` : ""),
          formatLimit(t.unit, t.limit),
          t.ok ? "✓ pass" : "✗ **FAIL**",
        ]),
        [2, 3],
      ),
    );
  }

  const facts: string[][] = [];
  if (model.startedAt) facts.push(["Started", model.startedAt]);
  if (model.endedAt) facts.push(["Ended", model.endedAt]);
  if (model.durationMs !== null) facts.push(["Duration", formatMs(model.durationMs)]);
  if (model.url) facts.push(["Deployment", model.url]);
  if (model.coderVersion) facts.push(["Coder version", model.coderVersion]);
  if (model.comment) facts.push(["Comment", model.comment]);
  facts.push(["Status", model.status], ["Last phase", model.phase]);
  if (model.interruptedBy) facts.push(["Interrupted by", model.interruptedBy]);
  out.push(mdTable(["", ""], facts));

  out.push("## Phases\n");
  out.push(
    mdTable(
      ["#", "phase", "status", "started", "duration", "pass", "fail", "error rate", "throughput"],
      model.phases.map((p) => [
        String(p.index),
        p.name,
        p.status,
        p.startedAt ?? "-",
        formatMs(p.durationMs),
        String(p.totals.pass),
        String(p.totals.fail),
        formatPercent(p.errorRate),
        throughputText(p),
      ]),
      [0, 4, 5, 6, 7, 8],
    ),
  );

  const charts = chartData(model);
  if (charts.builds) {
    out.push("## Build time distribution\n");
    for (const b of charts.builds) {
      out.push(`${mdCell(b.phase)}: ${b.count} workspaces, p50 ${formatMs(b.p50)}, p95 ${formatMs(b.p95)}, max ${formatMs(b.max)}\n`);
      const peak = Math.max(...b.bins.map((x) => x.count));
      out.push("```");
      for (const bin of b.bins) {
        const bar = "#".repeat(peak > 0 ? Math.round((bin.count / peak) * 40) : 0);
        out.push(`${formatMs(bin.from).padStart(8)} – ${formatMs(bin.to).padEnd(8)} ${String(bin.count).padStart(5)} ${bar}`);
      }
      out.push("```\n");
    }
  }

  const dp = dynamicParametersMarkdown(model);
  if (dp) out.push(dp);

  for (const p of model.phases) {
    out.push(`## ${p.index}. ${mdCell(p.name)} (${p.status})\n`);
    if (p.error) out.push(`Error: ${mdCell(p.error)}\n`);
    if (p.interruptedBy) out.push(`Interrupted by ${p.interruptedBy}: results are partial; rates are over the ${formatMs(p.activeMs)} actually run.\n`);
    if (p.abortedBy) out.push(`Stopped by the abort threshold \`${p.abortedBy}\`.\n`);
    if (p.headline.length) out.push(p.headline.map((h) => `${mdCell(h.label)} **${h.value === null ? "-" : formatValue(h.unit, h.value)}**`).join(", ") + "\n");
    if (p.otherAttempts.length) {
      out.push(`Attempt ${p.attempt} shown; earlier attempt${p.otherAttempts.length === 1 ? "" : "s"}: ${p.otherAttempts.map((a) => `${a.dir} (${a.status}, ${a.startedAt ?? "-"})`).join("; ")}.\n`);
    }
    const notified = notificationsMarkdown(p);
    if (notified) out.push(notified);
    if (Object.keys(p.stages).length) out.push(stageTable(p));
    else out.push("No timings recorded.\n");
    out.push(...autostartSectionMarkdown(p));
    const sockets = dashboardSocketsMarkdown(p);
    if (sockets) out.push(sockets);
    if (p.failures.length) {
      out.push("\nFirst failures:\n");
      for (const f of p.failures) out.push(`- ${mdCell(f)}`);
      out.push("");
    }
  }

  if (Object.keys(model.settings).length) {
    out.push("## Settings\n");
    out.push(mdTable(["setting", "value"], Object.entries(model.settings)));
  }
  if (model.warnings.length) {
    out.push("## Notes\n");
    for (const w of model.warnings) out.push(`- ${mdCell(w)}`);
    out.push("");
  }
  out.push(`Run folder: \`${model.runDir}\` — charts are in report.html.\n`);
  return out.join("\n");
}

export function throughputText(p: ReportPhase): string {
  const parts: string[] = [];
  if (p.throughput.bytesPerSec) parts.push(formatBytesRate(p.throughput.bytesPerSec));
  if (p.throughput.opsPerSec) parts.push(formatRate(p.throughput.opsPerSec, p.kind === "dashboard" ? " views/s" : " ops/s"));
  return parts.length ? parts.join(", ") : "-";
}
