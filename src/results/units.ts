// One unit convention for every output (console, summary.txt, report, compare): times as Go-like
// durations (1.7s), rates as percentages, sizes and throughput in binary units (KiB, KiB/s).
import { formatMs } from "./stats.ts";

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1024) return `${Math.round(n)} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toFixed(Math.abs(v) < 10 ? 2 : 1))} ${units[i]}`;
}

/** A value in its unit: "ms" -> 1.7s, "ratio" -> 0.5%, "bytes" -> 1.5 KiB, "bytes/s" -> 1.5 KiB/s, else a number. */
export function formatQuantity(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "-";
  switch (unit) {
    case "ms":
      return formatMs(value);
    case "ratio":
      return `${Number((value * 100).toFixed(2))}%`;
    case "bytes":
      return formatBytes(value);
    case "bytes/s":
      return `${formatBytes(value)}/s`;
    case "ops/s":
      return `${Number(value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2))}/s`;
    default:
      return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(3)));
  }
}
