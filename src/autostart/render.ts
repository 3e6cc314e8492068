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

/** Whole milliseconds as Go prints a time.Duration ("0s", "850ms", "1.2s", "1m59.004s", "1h0m3s"). */
export function goDuration(ms: number): string {
  const v = Math.trunc(ms);
  if (v === 0) return "0s";
  const sign = v < 0 ? "-" : "";
  const a = Math.abs(v);
  if (a < 1000) return `${sign}${a}ms`;
  const h = Math.floor(a / 3_600_000);
  const m = Math.floor((a % 3_600_000) / 60_000);
  const sec = ((a % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, "");
  return `${sign}${h ? `${h}h${m}m` : m ? `${m}m` : ""}${sec}s`;
}

export function renderAutostartText(r: AutostartResult): string {
  const c = r.coder;
  const ms = goDuration;
  // Coder's own text (scaletest/autostart/output.go PrintText), then this runner's details.
  const lines = ["Autostart Scale Test Results", "=============================", "", `Total Runs:      ${c.total_runs}`, `Successful:      ${c.successful_runs}`, `Failed:          ${c.failed_runs}`, ""];
  if (c.successful_runs > 0) {
    lines.push(
      "End-to-End Latency (Config → Completion)",
      "-----------------------------------------",
      `P50: ${ms(c.end_to_end_latency_p50_ms)}`,
      `P95: ${ms(c.end_to_end_latency_p95_ms)}`,
      `P99: ${ms(c.end_to_end_latency_p99_ms)}`,
      "",
      "Trigger to Completion Latency (Scheduled Time → Completion)",
      "------------------------------------------------------------",
      `P50: ${ms(c.trigger_to_completion_p50_ms)}`,
      `P95: ${ms(c.trigger_to_completion_p95_ms)}`,
      `P99: ${ms(c.trigger_to_completion_p99_ms)}`,
      "",
    );
  }
  if (c.failed_runs > 0) {
    lines.push("Failed Runs", "-----------");
    for (const run of c.runs.filter((x) => !x.success).slice(0, 50)) lines.push(`- ${run.workspace_name} (${run.workspace_id}): ${(run.error ?? "").split("\n")[0]}`);
    if (c.failed_runs > 50) lines.push(`- ... ${c.failed_runs - 50} more in the results`);
    lines.push("");
  }
  lines.push(
    `Details:`,
    `  run ${r.run_id}: template ${r.template.name}; ${c.total_runs} workspace(s), ${c.successful_runs} succeeded, ${c.failed_runs} failed` +
      (r.stopped ? ` (stopped: ${r.stopped})` : ""),
    `  barrier (all stopped) after ${formatMs(r.barrier_ms)}; schedule ${r.schedule ?? "(not set)"}` +
      (r.scheduled_for !== null ? ` -> ${minuteText(r.scheduled_for)}` : ""),
    `  watch: ${r.watch.mode} (${r.watch.reason})`,
    "  latency distributions:",
  );
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
