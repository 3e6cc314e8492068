// Percentile summaries and plain-text tables for per-stage timings. Percentiles come from an HDR
// histogram (microsecond resolution, 3 significant digits) like the traffic engine's; count, min,
// max and mean are exact.
import * as hdr from "hdr-histogram-js";
import type { LatencySummary } from "./schema.ts";

/** Timing summary in milliseconds; fields are null when there were no samples (the results schema's LatencySummary). */
export type StatsSummary = LatencySummary;

const EMPTY: StatsSummary = { count: 0, p50: null, p95: null, p99: null, max: null, mean: null, min: null };

/** Summarises a list of millisecond values (negative and non-finite values are rejected). */
export function summarize(valuesMs: readonly number[]): StatsSummary {
  if (valuesMs.length === 0) return { ...EMPTY };
  const h = hdr.build({ numberOfSignificantValueDigits: 3, bitBucketSize: 32, autoResize: true });
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of valuesMs) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`cannot summarise timing ${v}: values must be finite milliseconds >= 0`);
    h.recordValue(Math.round(v * 1000));
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  // HDR reports the highest value equivalent to the bucket; clamp to the exact max so p99 <= max.
  const pct = (p: number) => Math.min(max, h.getValueAtPercentile(p) / 1000);
  const out: StatsSummary = {
    count: valuesMs.length,
    p50: pct(50),
    p95: pct(95),
    p99: pct(99),
    max,
    mean: sum / valuesMs.length,
    min,
  };
  h.destroy();
  return out;
}

/** Summarises an HDR histogram recorded in microseconds (as the traffic engine records). */
export function summarizeHistogramUs(h: hdr.Histogram): StatsSummary {
  if (h.totalCount === 0) return { ...EMPTY };
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50) / 1000,
    p95: h.getValueAtPercentile(95) / 1000,
    p99: h.getValueAtPercentile(99) / 1000,
    max: h.maxValue / 1000,
    mean: h.mean / 1000,
    min: h.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : h.minNonZeroValue / 1000,
  };
}

/** Human units: "0.42ms", "850ms", "1.2s", "45.3s", "2m03s", "1h02m03s"; "-" for null/NaN. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "-";
  if (ms < 0) return "-" + formatMs(-ms);
  if (ms < 0.995) return `${Number(ms.toFixed(2))}ms`;
  if (ms < 9.95) return `${Number(ms.toFixed(1))}ms`;
  if (ms < 999.5) return `${Math.round(ms)}ms`;
  if (ms < 59_950) return `${Number((ms / 1000).toFixed(1))}s`;
  const totalS = Math.round(ms / 1000);
  const s = totalS % 60;
  const m = Math.floor(totalS / 60) % 60;
  const h = Math.floor(totalS / 3600);
  const ss = String(s).padStart(2, "0");
  if (h === 0) return `${m}m${ss}s`;
  return `${h}h${String(m).padStart(2, "0")}m${ss}s`;
}

export interface TableColumn<Row> {
  /** Header text. */
  header: string;
  /** Cell text for a row: a key of the row, or a function. */
  value: keyof Row | ((row: Row) => unknown);
  /** Default: right for numbers, left otherwise (decided per cell). */
  align?: "left" | "right";
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  return String(v);
}

/** An aligned plain-text table: header, a dashed rule, one line per row; columns separated by two spaces. */
export function formatTable<Row>(rows: readonly Row[], columns: readonly TableColumn<Row>[]): string {
  const cells: { text: string; right: boolean }[][] = rows.map((row) =>
    columns.map((c) => {
      const raw = typeof c.value === "function" ? c.value(row) : row[c.value];
      return { text: cellText(raw), right: c.align ? c.align === "right" : typeof raw === "number" };
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.text.length)));
  const pad = (text: string, i: number, right: boolean) =>
    right ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const headerRight = columns.map((c, i) => c.align === "right" || (c.align === undefined && cells.length > 0 && cells.every((r) => r[i]!.right)));
  const lines = [
    columns.map((c, i) => pad(c.header, i, headerRight[i]!)).join("  "),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.map((r) => r.map((c, i) => pad(c.text, i, c.right)).join("  ")),
  ];
  return lines.map((l) => l.trimEnd()).join("\n") + "\n";
}

/** Column set for a per-stage timing table built from StatsSummary rows with a `name`. */
export function statsColumns<Row extends { name: string; stats: StatsSummary }>(): TableColumn<Row>[] {
  const ms = (k: keyof StatsSummary) => (r: Row) => formatMs(r.stats[k]);
  return [
    { header: "stage", value: (r) => r.name, align: "left" },
    { header: "count", value: (r) => r.stats.count, align: "right" },
    { header: "p50", value: ms("p50"), align: "right" },
    { header: "p95", value: ms("p95"), align: "right" },
    { header: "p99", value: ms("p99"), align: "right" },
    { header: "max", value: ms("max"), align: "right" },
    { header: "mean", value: ms("mean"), align: "right" },
  ];
}
