// cleanup-prepare (Coder's runner: cleanup_prepare): before a run creates anything, delete what earlier runs
// left behind, so a crashed run's workspaces do not skew this one. Unlike Coder's (which deletes every
// scaletest- resource on the deployment), only the runs recorded in this runner's --results-dir are
// cleaned, each under its own run id and the ownership rule: another runner's test is never touched.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SettingKey } from "../config/index.ts";
import { PHASE_RESULT_FILE } from "../results/dir.ts";
import type { Runner } from "../scenario/runner.ts";
import { isRunId } from "../util/naming.ts";
import { cleanupRun } from "./cleanup.ts";
import { cleanupPhaseResult } from "./phase.ts";
import type { CleanupOptions, CleanupResult } from "./types.ts";

const PHASE_DIR_RE = /^(\d{2,})-([a-z0-9]+(?:-[a-z0-9]+)*)$/;

/**
 * The earlier runs in `resultsDir` that may have left resources: every run folder but `exceptRunId`'s whose
 * last phase is not a passed cleanup (a passed cleanup leaves nothing: its preset fails on any remainder).
 */
export function earlierRuns(resultsDir: string, exceptRunId: string): string[] {
  if (!existsSync(resultsDir)) return [];
  return readdirSync(resultsDir)
    .filter((id) => isRunId(id) && id !== exceptRunId && statSync(join(resultsDir, id)).isDirectory())
    .filter((id) => !endedWithCleanCleanup(join(resultsDir, id)))
    .sort();
}

function endedWithCleanCleanup(runDir: string): boolean {
  const last = readdirSync(runDir)
    .map((d) => PHASE_DIR_RE.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]))
    .at(-1);
  if (!last || last[2] !== "cleanup") return false;
  try {
    const rec = JSON.parse(readFileSync(join(runDir, last[0], PHASE_RESULT_FILE), "utf8")) as { status?: unknown };
    return rec.status === "pass";
  } catch {
    return false; // unreadable: clean it up again (finding nothing is cheap)
  }
}

/** One result for several runs' cleanups, so the phase record reads like any cleanup's. */
export function mergeCleanupResults(results: readonly CleanupResult[], startedAt: number): CleanupResult {
  const all = <T>(pick: (r: CleanupResult) => readonly T[] | undefined): T[] => results.flatMap((r) => [...(pick(r) ?? [])]);
  return {
    prefix: results.map((r) => r.prefix).join(",") || "(no earlier run)",
    run_id: null,
    all: false,
    started_at: startedAt,
    elapsed_ms: Date.now() - startedAt,
    workspaces: all((r) => r.workspaces),
    users: all((r) => r.users),
    remaining: all((r) => r.remaining),
    failed: all((r) => r.failed),
    tokens_deleted: all((r) => r.tokens_deleted),
    stopped: results.find((r) => r.stopped)?.stopped ?? null,
    exit_code: Math.max(0, ...results.map((r) => r.exit_code)),
  };
}

export interface CleanupPrepareSettings {
  runIds: string[];
  options: Omit<CleanupOptions, "runId" | "all">;
}

const SETTINGS: readonly SettingKey[] = ["cleanupPrepare", "resultsDir", "cleanupConcurrency", "cleanupTimeout", "cleanupJobTimeout"];

/** The cleanup-prepare runner: each earlier run's cleanup in turn, one phase record for all of them. */
export function cleanupPrepareRunner(o: { ownTokenId?: string } = {}): Runner<CleanupPrepareSettings> {
  return {
    // A cleanup like any other (its metrics, preset and thresholds); the pipeline names its phase cleanup-prepare.
    name: "cleanup",
    testName: "cleanup-workspace",
    settings: SETTINGS,
    presets: () => ["cleanup.remaining<=0"],
    validate(c) {
      return {
        runIds: earlierRuns(c.resultsDir, c.runId),
        options: {
          concurrency: c.cleanupConcurrency,
          timeoutMs: c.cleanupTimeout,
          jobTimeoutMs: c.cleanupJobTimeout,
          ...(o.ownTokenId ? { ownTokenId: o.ownTokenId } : {}),
        },
      };
    },
    async run(ctx, s) {
      const startedAt = Date.now();
      ctx.log.info(s.runIds.length ? `cleanup-prepare: earlier run(s) ${s.runIds.join(", ")}` : "cleanup-prepare: no earlier run left anything to clean up");
      const results: CleanupResult[] = [];
      for (const runId of s.runIds) {
        results.push(await cleanupRun(ctx.client, { ...s.options, runId }, { log: ctx.log.atLevel }));
      }
      const merged = cleanupPhaseResult(mergeCleanupResults(results, startedAt));
      return { ...merged, extra: { ...merged.extra, run_ids: s.runIds } };
    },
  };
}
