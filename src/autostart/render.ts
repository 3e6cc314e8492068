// Human summary of an autostart run; starts like Coder's text output.
import { formatMs } from "../results/stats.ts";
import { minuteText } from "./schedule.ts";
import type { AutostartResult } from "./types.ts";

const TITLES: Record<string, string> = {
  job_created: "job created (from the scheduled minute)",
  job_acquired: "job acquired (from the scheduled minute)",
  total: "build done (trigger to completion)",
  end_to_end: "build done (end to end, from the schedule set)",
};

export function renderAutostartText(r: AutostartResult): string {
  const c = r.coder;
  const lines = [
    "Autostart Scale Test Results",
    `  run ${r.run_id}: template ${r.template.name}; ${c.total_runs} workspace(s), ${c.successful_runs} succeeded, ${c.failed_runs} failed` +
      (r.stopped ? ` (stopped: ${r.stopped})` : ""),
    `  barrier (all stopped) after ${formatMs(r.barrier_ms)}; schedule ${r.schedule ?? "(not set)"}` +
      (r.scheduled_for !== null ? ` -> ${minuteText(r.scheduled_for)}` : ""),
    `  watch: ${r.watch.mode} (${r.watch.reason})`,
    `  end-to-end p50 ${formatMs(c.end_to_end_latency_p50_ms)}  p95 ${formatMs(c.end_to_end_latency_p95_ms)}  p99 ${formatMs(c.end_to_end_latency_p99_ms)}`,
    `  trigger-to-completion p50 ${formatMs(c.trigger_to_completion_p50_ms)}  p95 ${formatMs(c.trigger_to_completion_p95_ms)}  p99 ${formatMs(c.trigger_to_completion_p99_ms)}`,
    "  latency distributions:",
  ];
  for (const h of r.latency) {
    const s = h.summary;
    lines.push(
      `    ${(TITLES[h.metric] ?? h.metric).padEnd(48)} n=${String(s.count).padEnd(5)} p50 ${formatMs(s.p50)}  p95 ${formatMs(s.p95)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`,
    );
  }
  if (r.late.length) {
    lines.push(`  LATE (no autostart build done in time): ${r.late.length} workspace(s)`);
    for (const n of r.late.slice(0, 50)) lines.push(`    ${n}`);
    if (r.late.length > 50) lines.push(`    ... ${r.late.length - 50} more in the results`);
  }
  if (r.errors.length) {
    lines.push(`  errors: ${Object.entries(r.errors_by_action).map(([a, n]) => `${a}=${n}`).join(", ")}`);
    for (const e of r.errors.slice(0, 20)) lines.push(`    ${e.workspace_name} (${e.action}): ${e.error.split("\n")[0]}`);
    if (r.errors.length > 20) lines.push(`    ... ${r.errors.length - 20} more in the results`);
  }
  if (r.tokens.failed) lines.push(`  WARNING: ${r.tokens.failed} minted token(s) could not be revoked (they expire on their own)`);
  if (r.cleanup) lines.push(`  cleanup: exit ${r.cleanup.exit_code}`);
  return `${lines.join("\n")}\n`;
}
