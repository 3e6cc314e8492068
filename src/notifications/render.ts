// Human summary of a notifications run.
import { formatMs } from "../results/stats.ts";
import type { NotificationsResult } from "./types.ts";

export function renderNotificationsText(r: NotificationsResult): string {
  const lines = [
    `notifications run ${r.run_id}: ${r.users} user(s), ${r.template_admins} template admin(s), ${r.regular_users} regular user(s)${r.smtp ? ", email checked" : ""}`,
    `  setup ${formatMs(r.setup_ms)}; all inbox watches open after ${formatMs(r.barrier_ms)}`,
    r.trigger.error
      ? `  trigger FAILED: ${r.trigger.error}`
      : `  trigger: template ${r.trigger.template_name} created and deleted (${Object.entries(r.trigger.steps_ms).map(([k, v]) => `${k} ${formatMs(v)}`).join(", ")})`,
    `  users: ${r.pass} passed, ${r.fail} failed${r.stopped ? ` (stopped: ${r.stopped})` : ""}`,
    "  receipts (template admins):",
  ];
  for (const [type, x] of Object.entries(r.receipts)) {
    if (type === "smtp" && !r.smtp) continue;
    lines.push(`    ${type.padEnd(10)} expected ${x.expected}, received ${x.received}, missing ${x.missing}`);
  }
  lines.push("  latency (trigger -> receipt):");
  for (const h of r.latency) {
    const s = h.summary;
    lines.push(`    ${(h.labels["notification_type"] ?? "all").padEnd(10)} n=${String(s.count).padEnd(5)} p50 ${formatMs(s.p50)}  p95 ${formatMs(s.p95)}  p99 ${formatMs(s.p99)}  max ${formatMs(s.max)}`);
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
