// The cleanup script's part for prebuilds, working from the deployment and the run's results folder alone
// (so it works after the run was killed): the run's templates (scaletest-<run-id>-NNNN created by the
// runner) are emptied of their prebuilt workspaces and deleted, then the reconciliation setting is put back
// to the value recorded before the run first changed it.
import type { LogFn } from "../util/log.ts";
import type { CoderClient } from "../coder/client.ts";
import type { Template } from "../coder/types.ts";
import { ownsTemplate, type RunSelector } from "../util/ownership.ts";
import { setReconciliationPaused } from "./api.ts";
import { cleanupTemplates, PREBUILDS_TEMPLATE_NOTE } from "./run.ts";
import { markRestored, pendingRecords } from "./setting-record.ts";
import type { CleanupOutcome } from "./types.ts";

export interface RestoreOutcome {
  templates: CleanupOutcome | null;
  /** Run ids whose recorded setting was put back. */
  restored: { run_id: string; reconciliation_paused: boolean }[];
  failed: string[];
}

export async function restorePrebuildsSetting(
  client: CoderClient,
  resultsDir: string,
  sel: RunSelector,
  log: LogFn = () => {},
): Promise<RestoreOutcome> {
  const out: RestoreOutcome = { templates: null, restored: [], failed: [] };
  const runner = await client.me();
  const all = await client.request<Template[]>("GET", "/templates");
  // Only the prebuilds templates: the run's other templates (a notifications trigger) are the generic cleanup's.
  const mine = (all ?? []).filter((t) => ownsTemplate(t, sel, runner.id) && (t.description ?? "").includes(PREBUILDS_TEMPLATE_NOTE));
  const records = pendingRecords(resultsDir, "runId" in sel ? sel.runId : null);
  if (mine.length) {
    log("info", `cleanup: ${mine.length} prebuilds template(s) of ${"runId" in sel ? `run ${sel.runId}` : "every run"}: ${mine.map((t) => t.name).join(", ")}`);
    out.templates = await cleanupTemplates(client, mine, log);
    out.failed.push(...out.templates.failed);
  }
  // Several records (cleanup --all): the oldest run's original is the deployment's original.
  records.sort((a, b) => a.recorded_at.localeCompare(b.recorded_at));
  const first = records[0];
  if (first) {
    try {
      await setReconciliationPaused(client, first.original_reconciliation_paused);
      for (const r of records) {
        markRestored(resultsDir, r.run_id);
        out.restored.push({ run_id: r.run_id, reconciliation_paused: first.original_reconciliation_paused });
      }
      log("info", `cleanup: prebuild reconciliation restored to ${first.original_reconciliation_paused ? "paused" : "running"} (recorded by run ${first.run_id})`);
    } catch (e) {
      out.failed.push(`prebuilds setting: ${(e as Error).message}`);
    }
  } else if (mine.length && out.templates) {
    // Templates without a record: reconciliation was paused for their deletion; nothing says what it was.
    log("warn", "cleanup: no recorded prebuilds setting for these templates; reconciliation left paused. Set it with PUT /api/v2/prebuilds/settings if it should run.");
  }
  return out;
}
