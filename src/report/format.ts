// Display formatting shared by the Markdown, HTML and compare renderers.
import { formatMs } from "../results/stats.ts";
import { formatQuantity } from "../results/units.ts";
import { formatDuration } from "../config/duration.ts";
import type { MetricUnit } from "./model.ts";

export { formatMs };

/** "512 B/s", "1.5 KiB/s", "12.3 MiB/s" (binary units, as every output of the runner prints them). */
export function formatBytesRate(v: number | null | undefined): string {
  return formatQuantity(v, "bytes/s");
}

/** A ratio 0..1 as a percentage: "99.5%", "0%", "0.02%". */
export function formatPercent(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  const p = v * 100;
  if (p === 0) return "0%";
  if (Math.abs(p) < 0.1) return `${Number(p.toPrecision(1))}%`;
  return `${Number(p.toFixed(Math.abs(p) >= 10 ? 1 : 2))}%`;
}

export function formatRate(v: number | null | undefined, what = "/s"): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  return `${Number(v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2))}${what}`;
}

export function formatValue(unit: MetricUnit | string, v: number | null | undefined): string {
  if (unit === "ratio") return formatPercent(v);
  if (unit === "count") return v === null || v === undefined || !Number.isFinite(v) ? "-" : String(Math.round(v * 100) / 100);
  return formatQuantity(v, unit);
}

/** A threshold's limit as a user writes it: Go durations for times ("2m", "500ms"), else formatValue. */
export function formatLimit(unit: string, v: number): string {
  return unit === "ms" ? formatDuration(v) : formatValue(unit, v);
}

/** A change b - a in the metric's unit, signed: "+1.2s", "-3.0%" (percentage points for ratios). */
export function formatDelta(unit: MetricUnit | string, d: number | null): string {
  if (d === null || !Number.isFinite(d)) return "-";
  const sign = d > 0 ? "+" : d < 0 ? "-" : "±";
  const abs = Math.abs(d);
  if (unit === "ratio") return `${sign}${Number((abs * 100).toFixed(2))}pp`;
  return sign + formatValue(unit, abs);
}

/**
 * Escapes text for a Markdown table cell: pipes, newlines, and "<" where it could open an HTML tag or
 * comment (so "p95<2m" stays readable in a terminal while "<script>" cannot render as markup).
 */
export function mdCell(text: string): string {
  return text
    .replace(/\\/g, "\\\\")
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ")
    .replace(/&(?=#?\w+;)/g, "&amp;")
    .replace(/<(?=[A-Za-z\/!?])/g, "&lt;");
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Markdown table from a header row and string rows (cells are escaped). */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly number[] = []): string {
  const sep = header.map((_, i) => (right.includes(i) ? "---:" : "---"));
  const line = (cells: readonly string[]) => `| ${cells.map(mdCell).join(" | ")} |`;
  return [line(header), `| ${sep.join(" | ")} |`, ...rows.map(line)].join("\n") + "\n";
}
