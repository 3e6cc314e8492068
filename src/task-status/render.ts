// Human summary of a task-status run.
import { formatMs } from "../results/stats.ts";
import type { TaskStatusResult } from "./types.ts";

export function renderTaskStatusText(r: TaskStatusResult): string {
  const s = r.latency.summary;
  const failed = r.units.filter((u) => u.action);
  const lines = [
    `task-status run ${r.run_id}: ${r.units.length} workspace(s) of ${r.template.name}, ${r.updates_per_workspace} update(s) each`,
    `  transport: ${r.transport}`,
    `  updates: ${r.sent} sent, ${r.observed} shown by the watch, ${r.missing} missing, ${r.report_errors} not reported`,
    `  latency (sent -> watch shows it): n=${s.count} p50 ${formatMs(s.p50)}  p95 ${formatMs(s.p95)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`,
  ];
  if (failed.length) {
    lines.push(`  failed workspaces: ${Object.entries(r.errors_by_action).map(([a, n]) => `${a}=${n}`).join(", ")}`);
    for (const u of failed.slice(0, 20)) lines.push(`    ${u.name} (${u.action}): ${(u.error ?? "").split("\n")[0]}`);
  }
  if (r.cleanup) lines.push(`  cleanup: ${r.cleanup.deleted} workspace(s) deleted${r.cleanup.failed.length ? `; LEFT: ${r.cleanup.failed.join(", ")}` : ""}`);
  if (r.stopped) lines.push(`  stopped: ${r.stopped}`);
  return `${lines.join("\n")}\n`;
}
