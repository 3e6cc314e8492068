// create-workspaces results for people and machines: Coder's harness JSON (one run per workspace,
// "workspacebuild/<index>", readable by Coder's own tooling) extended with per-stage timings and
// aggregates; and a text summary (Coder's failure blocks and totals, then a stage table).
import { HarnessResults, formatHarnessText, type HarnessResultsJSON } from "../results/harness.ts";
import { formatMs, formatTable, statsColumns, type StatsSummary } from "../results/stats.ts";
import { cleanupHarnessJSON, renderCleanupText } from "../cleanup/render.ts";
import { CREATE_STAGES, STAGE_HELP, type CreateResult, type CreateStage, type WorkspaceUnitResult } from "./types.ts";

/** Coder's test name for a workspace build run. */
export const CREATE_TEST_NAME = "workspacebuild";

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 1000;
}

export function unitExtra(u: WorkspaceUnitResult): Record<string, unknown> {
  const timings: Record<string, number | null> = {};
  for (const s of CREATE_STAGES) timings[`${s}_ms`] = round(u.timings[s]);
  return {
    workspace_name: u.name,
    owner_name: u.owner,
    workspace_id: u.workspace_id,
    user_id: u.user_id,
    ok: u.ok,
    not_started: u.not_started,
    failed_stage: u.failed_stage,
    timings_ms: timings,
    attempt_count: u.attempts.length,
    attempts: u.attempts,
    log_tail: u.log_tail,
    command: u.command,
  };
}

/** Coder's results JSON for the run, with our extension fields (never renaming Coder's). */
export function toHarnessJSON(r: CreateResult): HarnessResultsJSON {
  const h = new HarnessResults();
  for (const u of r.units) {
    h.add({
      testName: CREATE_TEST_NAME,
      id: u.index,
      startedAt: u.started_at,
      durationMs: u.timings.total ?? (u.not_started ? 0 : lastLogMs(u)),
      error: u.ok ? null : (u.error ?? "failed"),
      logs: u.logs.join("\n") + (u.logs.length ? "\n" : ""),
      extra: unitExtra(u),
    });
  }
  const stages: Record<string, StatsSummary> = {};
  for (const s of CREATE_STAGES) stages[s] = r.stages[s];
  return h.toJSON(r.elapsed_ms, {
    run_id: r.run_id,
    template: r.template,
    parameters: r.parameters,
    concurrency: r.concurrency,
    use_host_login: r.use_host_login,
    stages_ms: stages,
    success_rate: Math.round(r.success_rate * 100) / 100,
    success_threshold: r.success_threshold,
    retries: r.retries,
    stopped: r.stopped,
    cleanup: r.cleanup ? cleanupHarnessJSON(r.cleanup) : null,
  });
}

/** Duration of a failed unit: from its start to its last log line. */
export function lastLogMs(u: WorkspaceUnitResult): number {
  const last = u.logs[u.logs.length - 1];
  const t = last ? Date.parse(last.slice(0, last.indexOf(" "))) : NaN;
  return Number.isFinite(t) ? Math.max(0, t - u.started_at) : 0;
}

/** The stage table: count, p50, p95, p99, max, mean per stage that has samples. */
export function renderStageTable(stages: Record<CreateStage, StatsSummary>): string {
  const rows = CREATE_STAGES.filter((s) => stages[s].count > 0).map((s) => ({ name: s, stats: stages[s] }));
  if (rows.length === 0) return "  (no stage completed)\n";
  return formatTable(rows, statsColumns())
    .split("\n")
    .map((l) => (l ? `  ${l}` : l))
    .join("\n");
}

/** Text summary: Coder's block per failed workspace and totals, then our stage timings and verdict. */
export function renderCreateText(r: CreateResult): string {
  const json = toHarnessJSON(r);
  // Coder's text prints each failure's whole log; with hundreds of failures keep it readable.
  let out = formatHarnessText(json);
  out += `\nWorkspaces: ${r.pass}/${r.count} ready (${r.success_rate.toFixed(1)}%, threshold ${r.success_threshold}%)`;
  out += ` in ${formatMs(r.elapsed_ms)}; run ${r.run_id}, template ${r.template.name}`;
  out += `, concurrency ${r.concurrency === 0 ? "unlimited" : r.concurrency}\n`;
  if (r.retries) out += `Build retries: ${r.retries} (attempts per workspace are in the JSON)\n`;
  if (r.stopped) out += `Stopped early: ${r.stopped === "timeout" ? "--timeout reached" : r.stopped}; ${r.units.filter((u) => u.not_started).length} workspace(s) never started\n`;
  out += "\nStage timings:\n";
  out += renderStageTable(r.stages);
  out += CREATE_STAGES.filter((s) => r.stages[s].count > 0)
    .map((s) => `  ${s.padEnd(8)} ${STAGE_HELP[s]}`)
    .join("\n");
  out += "\n";
  const failedStages = new Map<string, number>();
  for (const u of r.units) if (!u.ok && !u.not_started) failedStages.set(u.failed_stage ?? "?", (failedStages.get(u.failed_stage ?? "?") ?? 0) + 1);
  if (failedStages.size) {
    out += `\nFailures by stage: ${[...failedStages].map(([s, n]) => `${s} ${n}`).join(", ")}\n`;
  }
  if (r.cleanup) out += `\n${renderCleanupText(r.cleanup)}`;
  out += `\nResult: ${r.exit_code === 0 ? "PASS" : "FAIL"}\n`;
  return out;
}
