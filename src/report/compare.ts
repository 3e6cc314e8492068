// Two runs side by side: every threshold metric, stage percentile, throughput and error rate, with the
// change and a verdict per row. Answers "did the Coder upgrade make it worse?".
//
// A row is "same" while |B - A| stays within max(tolerance * |A|, the unit's absolute floor); beyond that
// it is "better" or "worse" by the metric's direction (lower is better for latencies and error rates,
// higher for success rates and throughput). "n/a" when either run lacks the metric.
import { formatTable } from "../results/stats.ts";
import { formatDelta, formatValue, mdTable } from "./format.ts";
import type { MetricUnit, ReportModel } from "./model.ts";

export type RowVerdict = "better" | "worse" | "same" | "n/a";

export interface Metric {
  /** Stable key used to pair rows across runs, e.g. "stage:create-workspaces:build:p95". */
  key: string;
  /** "threshold" | "stage" | "throughput" | "errors" | "success" */
  group: string;
  phase: string;
  label: string;
  unit: MetricUnit;
  direction: "lower" | "higher";
  value: number | null;
}

export interface CompareRow {
  key: string;
  group: string;
  phase: string;
  metric: string;
  unit: MetricUnit;
  direction: "lower" | "higher";
  a: number | null;
  b: number | null;
  /** b - a */
  change: number | null;
  /** (b - a) / |a| * 100; null when a is 0 or missing. */
  changePct: number | null;
  verdict: RowVerdict;
}

export interface CompareOptions {
  /** Relative change still counted as "same" (default 0.10 = 10%). */
  tolerance?: number;
  /** Absolute change still counted as "same", per unit (defaults: 5 ms, 0.1 percentage point, ...). */
  floors?: Partial<Record<MetricUnit, number>>;
}

export interface CompareResult {
  a: { runId: string; verdict: string; runDir: string };
  b: { runId: string; verdict: string; runDir: string };
  tolerance: number;
  rows: CompareRow[];
  counts: Record<RowVerdict, number>;
  /** Settings (by flag) whose values differ between A and B: when any does, the runs are not like for like. */
  settingsDiff: { setting: string; a: string | null; b: string | null }[];
}

/** Settings that differ between the runs (the run id always does; it is listed so the table reads on its own). */
export function settingsDiff(a: ReportModel, b: ReportModel): CompareResult["settingsDiff"] {
  const keys = [...new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])].sort();
  return keys.filter((k) => a.settings[k] !== b.settings[k]).map((k) => ({ setting: k, a: a.settings[k] ?? null, b: b.settings[k] ?? null }));
}

function diffWarning(c: CompareResult): string {
  const real = c.settingsDiff.filter((d) => d.setting !== "--run-id");
  return real.length ? `Warning: not like for like: ${real.length} setting${real.length === 1 ? "" : "s"} differ (${real.map((d) => d.setting).join(", ")}).` : "";
}

export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_FLOORS: Record<MetricUnit, number> = { ms: 5, ratio: 0.001, count: 0, "bytes/s": 1024, "ops/s": 0.5 };

const PERCENTILES = ["p50", "p95", "p99"] as const;

/** Every comparable number of a run. */
export function runMetrics(model: ReportModel): Metric[] {
  const out: Metric[] = [];
  for (const t of model.thresholds) {
    // Paired by what is measured (the expression without its limit), so a changed limit still pairs.
    const identity = t.expression.replace(/(<=|>=|==|<|>)[^<>=]*$/, "");
    out.push({
      key: `threshold:${t.phase}:${identity}`,
      group: "threshold",
      phase: t.phase,
      label: t.expression,
      unit: (t.unit === "ms" || t.unit === "ratio" || t.unit === "bytes/s" ? t.unit : "count") as MetricUnit,
      direction: t.direction,
      value: t.observed,
    });
  }
  for (const p of model.phases) {
    if (p.kind === "create" && p.totals.runs > 0) {
      out.push({ key: `success:${p.name}`, group: "success", phase: p.name, label: "success rate", unit: "ratio", direction: "higher", value: p.totals.pass / p.totals.runs });
    }
    for (const [stage, s] of Object.entries(p.stages)) {
      if (s.count === 0) continue;
      for (const pct of PERCENTILES) {
        out.push({ key: `stage:${p.name}:${stage}:${pct}`, group: "stage", phase: p.name, label: `${stage} ${pct}`, unit: "ms", direction: "lower", value: s[pct] });
      }
    }
    if (p.throughput.bytesPerSec !== null && p.throughput.bytesPerSec > 0) {
      out.push({ key: `throughput:${p.name}:bytes`, group: "throughput", phase: p.name, label: "throughput (bytes)", unit: "bytes/s", direction: "higher", value: p.throughput.bytesPerSec });
    }
    if (p.throughput.opsPerSec !== null && p.throughput.opsPerSec > 0) {
      out.push({ key: `throughput:${p.name}:ops`, group: "throughput", phase: p.name, label: p.kind === "dashboard" ? "page views/s" : "operations/s", unit: "ops/s", direction: "higher", value: p.throughput.opsPerSec });
    }
    if (p.kind !== "create" && p.errorRate !== null) {
      out.push({ key: `errors:${p.name}`, group: "errors", phase: p.name, label: "error rate", unit: "ratio", direction: "lower", value: p.errorRate });
    }
  }
  return out;
}

export function rowVerdict(
  a: number | null,
  b: number | null,
  unit: MetricUnit,
  direction: "lower" | "higher",
  opts: CompareOptions = {},
): RowVerdict {
  if (a === null || b === null) return "n/a";
  const tol = opts.tolerance ?? DEFAULT_TOLERANCE;
  const floor = opts.floors?.[unit] ?? DEFAULT_FLOORS[unit];
  const d = b - a;
  if (Math.abs(d) <= Math.max(tol * Math.abs(a), floor)) return "same";
  const up = d > 0;
  return (direction === "lower") === up ? "worse" : "better";
}

export function compareRuns(a: ReportModel, b: ReportModel, opts: CompareOptions = {}): CompareResult {
  const ma = runMetrics(a);
  const mb = new Map(runMetrics(b).map((m) => [m.key, m]));
  const rows: CompareRow[] = [];
  const seen = new Set<string>();
  const push = (base: Metric, va: number | null, vb: number | null) => {
    seen.add(base.key);
    const change = va !== null && vb !== null ? vb - va : null;
    rows.push({
      key: base.key,
      group: base.group,
      phase: base.phase,
      metric: base.label,
      unit: base.unit,
      direction: base.direction,
      a: va,
      b: vb,
      change,
      changePct: change !== null && va !== null && va !== 0 ? (change / Math.abs(va)) * 100 : null,
      verdict: rowVerdict(va, vb, base.unit, base.direction, opts),
    });
  };
  for (const m of ma) push(m, m.value, mb.get(m.key)?.value ?? null);
  for (const m of mb.values()) if (!seen.has(m.key)) push(m, null, m.value);
  const counts: Record<RowVerdict, number> = { better: 0, worse: 0, same: 0, "n/a": 0 };
  for (const r of rows) counts[r.verdict]++;
  return {
    a: { runId: a.runId, verdict: a.verdict, runDir: a.runDir },
    b: { runId: b.runId, verdict: b.verdict, runDir: b.runDir },
    tolerance: opts.tolerance ?? DEFAULT_TOLERANCE,
    rows,
    counts,
    settingsDiff: settingsDiff(a, b),
  };
}

function pctText(r: CompareRow): string {
  if (r.changePct === null) return r.a === 0 && r.b !== null && r.b !== 0 ? "new" : "-";
  const p = r.changePct;
  return `${p > 0 ? "+" : ""}${Math.abs(p) >= 100 ? Math.round(p) : p.toFixed(1)}%`;
}

function headline(c: CompareResult): string {
  const n = c.counts;
  const what =
    n.worse > 0
      ? `B is WORSE than A in ${n.worse} metric${n.worse === 1 ? "" : "s"}`
      : n.better > 0
        ? `B is no worse than A (better in ${n.better})`
        : "B is the same as A";
  return `${what} (tolerance ${Math.round(c.tolerance * 100)}%): ${n.worse} worse, ${n.better} better, ${n.same} same, ${n["n/a"]} not in both runs.`;
}

function cells(r: CompareRow): string[] {
  return [
    r.phase,
    r.metric,
    formatValue(r.unit, r.a),
    formatValue(r.unit, r.b),
    formatDelta(r.unit, r.change),
    pctText(r),
    r.verdict === "worse" ? "WORSE" : r.verdict,
  ];
}

const HEADER = ["phase", "metric", "A", "B", "change", "change %", "verdict"] as const;

/** Plain-text table for a terminal. */
export function formatCompareText(c: CompareResult): string {
  const head = `A: run ${c.a.runId} (${c.a.verdict.toUpperCase()})  ${c.a.runDir}\nB: run ${c.b.runId} (${c.b.verdict.toUpperCase()})  ${c.b.runDir}\n`;
  const rows = c.rows.map(cells);
  const table = formatTable(rows, HEADER.map((h, i) => ({ header: h, value: (r: string[]) => r[i], align: i >= 2 && i <= 5 ? ("right" as const) : ("left" as const) })));
  const warn = diffWarning(c);
  const diff = warn
    ? `\n${warn}\n` + formatTable(c.settingsDiff, [{ header: "setting", value: "setting" }, { header: "A", value: (d) => d.a ?? "-" }, { header: "B", value: (d) => d.b ?? "-" }])
    : "";
  return `${head}${diff}\n${table}\n${headline(c)}\n`;
}

export function renderCompareMarkdown(c: CompareResult): string {
  return (
    `# Scale test comparison: ${c.a.runId} (A) vs ${c.b.runId} (B)\n\n` +
    `- A: run \`${c.a.runId}\`, verdict ${c.a.verdict.toUpperCase()}\n` +
    `- B: run \`${c.b.runId}\`, verdict ${c.b.verdict.toUpperCase()}\n\n` +
    (diffWarning(c) ? `**${diffWarning(c)}**\n\n` + mdTable(["setting", "A", "B"], c.settingsDiff.map((d) => [d.setting, d.a ?? "-", d.b ?? "-"])) + "\n" : "") +
    `**${headline(c)}**\n\n` +
    mdTable([...HEADER], c.rows.map((r) => { const x = cells(r); if (r.verdict === "worse") x[6] = "**WORSE**"; return x; }), [2, 3, 4, 5]) +
    `\nLower is better for latencies and error rates; higher is better for success rates and throughput. ` +
    `Changes within ${Math.round(c.tolerance * 100)}% (or a small absolute floor) count as the same.\n`
  );
}
