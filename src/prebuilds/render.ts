// Human summary of a prebuilds run.
import { formatMs } from "../results/stats.ts";
import type { PrebuildsResult } from "./types.ts";

export function renderPrebuildsText(r: PrebuildsResult): string {
  const lines = [
    `prebuilds run ${r.run_id}: ${r.templates.length} template(s), ${r.desired_per_template} prebuilt workspace(s) each`,
    "  template                      setup      fill       drain      failed builds  failed deletions",
  ];
  for (const u of r.templates) {
    lines.push(
      `  ${u.name.padEnd(28)}  ${formatMs(u.setup_ms).padEnd(9)}  ${formatMs(u.fill_ms).padEnd(9)}  ${formatMs(u.drain_ms).padEnd(9)}  ${String(u.failed_builds).padEnd(13)}  ${u.failed_deletions}` +
        (u.error ? `\n    FAILED (${u.action}): ${u.error.split("\n")[0]}` : ""),
    );
  }
  const s = r.setting;
  lines.push(`  reconciliation setting: was ${s.original_reconciliation_paused ? "paused" : "running"}; ${s.restored ? "restored" : `NOT restored (${s.error}); run the cleanup script for this run id`}`);
  if (r.cleanup) {
    const c = r.cleanup;
    lines.push(`  cleanup: ${c.templates_deleted} template(s), ${c.workspaces_deleted} workspace(s) deleted, ${c.deletion_retries} deletion retr${c.deletion_retries === 1 ? "y" : "ies"}${c.failed.length ? `; LEFT: ${c.failed.join(", ")}` : ""}`);
  }
  if (r.stopped) lines.push(`  stopped: ${r.stopped}`);
  return `${lines.join("\n")}\n`;
}
