// The deployment-wide prebuilds setting a run changes (reconciliation paused or not), recorded in the run's
// results folder before the first change so it can be put back as it was: by the run itself, and by the
// cleanup script after the run was killed. The first record of a run wins (a rerun after a crash must not
// record the paused state the crash left as "original").
import { existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { writeFileAtomicSync } from "../results/atomic.ts";
import { isRunId } from "../util/naming.ts";

export const SETTING_RECORD_FILE = "state/prebuilds-setting.json";

export interface SettingRecord {
  run_id: string;
  /** reconciliation_paused before the run changed it. */
  original_reconciliation_paused: boolean;
  recorded_at: string;
  /** Set once the original value is back. */
  restored_at: string | null;
}

export function recordPath(resultsDir: string, runId: string): string {
  return join(resolve(resultsDir), runId, SETTING_RECORD_FILE);
}

export function readRecord(resultsDir: string, runId: string): SettingRecord | null {
  const p = recordPath(resultsDir, runId);
  if (!existsSync(p)) return null;
  try {
    const r = JSON.parse(readFileSync(p, "utf8")) as Partial<SettingRecord>;
    if (typeof r.original_reconciliation_paused !== "boolean" || r.run_id !== runId) return null;
    return { run_id: runId, original_reconciliation_paused: r.original_reconciliation_paused, recorded_at: String(r.recorded_at ?? ""), restored_at: r.restored_at ?? null };
  } catch {
    return null;
  }
}

/** Records the original value unless an unrestored record of this run exists; returns the record in force. */
export function recordOriginal(resultsDir: string, runId: string, paused: boolean): SettingRecord {
  const existing = readRecord(resultsDir, runId);
  if (existing && existing.restored_at === null) return existing;
  const rec: SettingRecord = { run_id: runId, original_reconciliation_paused: paused, recorded_at: new Date().toISOString(), restored_at: null };
  const p = recordPath(resultsDir, runId);
  mkdirSync(dirname(p), { recursive: true });
  writeFileAtomicSync(p, JSON.stringify(rec, null, 2) + "\n");
  return rec;
}

export function markRestored(resultsDir: string, runId: string): void {
  const rec = readRecord(resultsDir, runId);
  if (!rec) return;
  writeFileAtomicSync(recordPath(resultsDir, runId), JSON.stringify({ ...rec, restored_at: new Date().toISOString() }, null, 2) + "\n");
}

/** Runs with an unrestored record: `runId`'s only, or every run folder's (cleanup --all). */
export function pendingRecords(resultsDir: string, runId: string | null): SettingRecord[] {
  const ids = runId ? [runId] : existsSync(resultsDir) ? readdirSync(resultsDir).filter((d) => isRunId(d)) : [];
  return ids.map((id) => readRecord(resultsDir, id)).filter((r): r is SettingRecord => r !== null && r.restored_at === null);
}
