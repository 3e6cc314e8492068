// Human summary of a dynamic-parameters run: the partitions and both latency distributions.
import { formatMs, summarize } from "../results/stats.ts";
import type { DynamicParametersResult } from "./types.ts";

function row(label: string, samples: number[]): string {
  const s = summarize(samples);
  return `    ${label.padEnd(26)} n=${String(s.count).padEnd(5)} p50 ${formatMs(s.p50)}  p95 ${formatMs(s.p95)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`;
}

export function renderDynamicParametersText(r: DynamicParametersResult): string {
  const lines = [
    `dynamic-parameters run ${r.run_id}: template ${r.template.name}${r.template.created ? " (created by this run)" : ""}`,
    `  partitions (concurrent evaluations per version): ${r.parts.join(", ")}; versions ready after ${formatMs(r.setup_ms)}`,
    `  sessions: ${r.pass} passed, ${r.fail} failed${r.stopped ? ` (stopped: ${r.stopped})` : ""}`,
  ];
  if (r.setup_error) lines.push(`  SETUP FAILED: ${r.setup_error}`);
  for (const [what, pick] of [
    ["initial evaluation (open -> first response)", (s: DynamicParametersResult["sessions"][number]) => s.initial_ms],
    ["change (first response -> change response)", (s: DynamicParametersResult["sessions"][number]) => s.change_ms],
  ] as const) {
    lines.push(`  ${what}:`);
    lines.push(row("all", r.sessions.map(pick).filter((v): v is number => v !== null)));
    for (const n of [...new Set(r.sessions.map((s) => s.concurrent_evaluations))].sort((a, b) => b - a)) {
      lines.push(row(`concurrent_evaluations=${n}`, r.sessions.filter((s) => s.concurrent_evaluations === n).map(pick).filter((v): v is number => v !== null)));
    }
  }
  const failed = r.sessions.filter((s) => !s.ok && s.error);
  if (failed.length) {
    lines.push(`  errors: ${Object.entries(r.errors_by_stage).map(([k, n]) => `${k}=${n}`).join(", ")}`);
    for (const s of failed.slice(0, 20)) lines.push(`    ${s.id} (${s.failed_stage ?? "not started"}): ${s.error}`);
    if (failed.length > 20) lines.push(`    ... ${failed.length - 20} more in result.json`);
  }
  return `${lines.join("\n")}\n`;
}
