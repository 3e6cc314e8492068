// Cleanup results: Coder's harness JSON ("cleanup-workspace/<name>", "cleanup-users/<name>") and a
// short text summary naming whatever could not be deleted.
import { HarnessResults, type HarnessResultsJSON } from "../results/harness.ts";
import { formatMs } from "../results/stats.ts";
import type { CleanupItem, CleanupResult } from "./types.ts";

function add(h: HarnessResults, testName: string, it: CleanupItem): void {
  h.add({
    testName,
    id: it.name,
    startedAt: it.started_at,
    durationMs: it.duration_ms,
    error: it.ok ? null : (it.error ?? "failed"),
    logs: it.logs.join("\n") + (it.logs.length ? "\n" : ""),
    extra: { resource_id: it.id, owner_name: it.owner, attempt_count: it.attempts, already_gone: it.already_gone },
  });
}

export function cleanupHarnessJSON(r: CleanupResult): HarnessResultsJSON {
  const h = new HarnessResults();
  for (const it of r.workspaces) add(h, "cleanup-workspace", it);
  for (const it of r.users) add(h, "cleanup-users", it);
  for (const it of r.templates ?? []) add(h, "cleanup-templates", it);
  return h.toJSON(r.elapsed_ms, {
    prefix: r.prefix,
    run_id: r.run_id,
    all: r.all,
    workspaces_deleted: r.workspaces.filter((i) => i.ok).length,
    users_deleted: r.users.filter((i) => i.ok).length,
    failed: r.failed,
    remaining: r.remaining,
    stopped: r.stopped,
  });
}

export function renderCleanupText(r: CleanupResult): string {
  const wOk = r.workspaces.filter((i) => i.ok).length;
  const uOk = r.users.filter((i) => i.ok).length;
  const retried = [...r.workspaces, ...r.users].filter((i) => i.attempts > 1).length;
  let out = `Cleanup of ${r.all ? "every scale-test run" : `run ${r.run_id}`} (prefix ${r.prefix}) in ${formatMs(r.elapsed_ms)}:\n`;
  if (r.workspaces.length + r.users.length + (r.templates?.length ?? 0) === 0) out += "  nothing to delete\n";
  else {
    out += `  workspaces deleted: ${wOk}/${r.workspaces.length}\n`;
    out += `  users deleted:      ${uOk}/${r.users.length}\n`;
    const t = r.templates ?? [];
    if (t.length) out += `  templates deleted:  ${t.filter((i) => i.ok).length}/${t.length}\n`;
    if (retried) out += `  needed retries:     ${retried}\n`;
  }
  if (r.stopped) out += `  stopped early: ${r.stopped === "timeout" ? "--cleanup-timeout reached" : "stop signal"}\n`;
  if (r.failed.length) {
    out += `  FAILED (${r.failed.length}):\n`;
    const byName = new Map([...r.workspaces, ...(r.templates ?? []), ...r.users].map((i) => [i.kind === "workspace" ? `workspace ${i.owner}/${i.name}` : `${i.kind} ${i.name}`, i]));
    for (const f of r.failed) out += `    ${f}: ${byName.get(f)?.error?.split("\n")[0] ?? ""}\n`;
  }
  const extra = r.remaining.filter((n) => !r.failed.includes(n));
  if (extra.length) out += `  still present after cleanup: ${extra.join(", ")}\n`;
  out += `  result: ${r.exit_code === 0 ? "clean" : "INCOMPLETE (run cleanup again, or delete the names above by hand)"}\n`;
  return out;
}
