// Human summary of a workspace-updates run.
import { formatMs } from "../results/stats.ts";
import type { WorkspaceUpdatesResult } from "./types.ts";

export function renderWorkspaceUpdatesText(r: WorkspaceUpdatesResult): string {
  const d = r.distribution;
  const lines = [
    `workspace-updates run ${r.run_id}: template ${r.template.name}`,
    `  ${d.total_workspaces} workspace(s): ${d.power_users} power user(s) x ${d.power_user_workspaces}, ${d.regular_users} regular user(s) x 1` +
      (d.dropped_by_rounding ? ` (${d.dropped_by_rounding} dropped by rounding)` : ""),
    `  users: ${r.pass} passed, ${r.fail} failed${r.stopped ? ` (stopped: ${r.stopped})` : ""}; all streams open after ${formatMs(r.barrier_ms)}`,
    "  update latency (build start -> the update naming the workspace):",
  ];
  for (const h of r.latency) {
    const label = Object.keys(h.labels).length ? Object.entries(h.labels).map(([k, v]) => `${k}=${v}`).join(",") : "all";
    const s = h.summary;
    lines.push(
      `    ${label.padEnd(24)} n=${String(s.count).padEnd(5)} p50 ${formatMs(s.p50)}  p95 ${formatMs(s.p95)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`,
    );
  }
  if (r.errors.length) {
    lines.push(`  errors: ${Object.entries(r.errors_by_action).map(([a, n]) => `${a}=${n}`).join(", ")}`);
    for (const e of r.errors.slice(0, 20)) lines.push(`    ${e.username} (${e.action}): ${e.error.split("\n")[0]}`);
    if (r.errors.length > 20) lines.push(`    ... ${r.errors.length - 20} more in result.json`);
  }
  if (r.tokens.failed) lines.push(`  WARNING: ${r.tokens.failed} minted token(s) could not be revoked (they expire on their own)`);
  if (r.cleanup) lines.push(`  cleanup: exit ${r.cleanup.exit_code}`);
  return `${lines.join("\n")}\n`;
}
