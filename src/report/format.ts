// Display formatting shared by the Markdown, HTML and compare renderers.
import { formatMs } from "../results/stats.ts";
import type { MetricUnit } from "./model.ts";

export { formatMs };

/** "512 B/s", "1.5 kB/s", "12.3 MB/s" (SI units, so chart axes get round numbers). */
export function formatBytesRate(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "-";
  const units = ["B/s", "kB/s", "MB/s", "GB/s"];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${i === 0 ? Math.round(x) : Number(x.toFixed(x >= 100 ? 0 : 1))} ${units[i]}`;
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

export function formatValue(unit: MetricUnit, v: number | null | undefined): string {
  switch (unit) {
    case "ms":
      return formatMs(v);
    case "ratio":
      return formatPercent(v);
    case "bytes/s":
      return formatBytesRate(v);
    case "ops/s":
      return formatRate(v);
    case "count":
      return v === null || v === undefined || !Number.isFinite(v) ? "-" : String(Math.round(v * 100) / 100);
  }
}

/** A change b - a in the metric's unit, signed: "+1.2s", "-3.0%" (percentage points for ratios). */
export function formatDelta(unit: MetricUnit, d: number | null): string {
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
