// prebuilds: Coder's load on the prebuilds reconciler (scaletest/prebuilds, cli/exp_scaletest_prebuilds.go).
// Reconciliation is paused; each template is pushed (a tar upload, its version imported, the template
// created) with presets asking for prebuilt workspaces; reconciliation is unpaused and the time until every
// preset's prebuilds succeeded is the fill; reconciliation is paused again, each template gets a version
// without presets, unpaused, and the time until no workspace is left is the drain. The stages run for
// every template together (Coder's barriers). Job counts are published as Coder's gauges at every poll and
// kept as a timeline. Cleanup deletes what is left (failed deletions only are retried, 3 attempts in all,
// as Coder's runner) and the templates; the reconciliation setting is restored to what it was in every
// case, from the record written before the first change.
import type { LogFn } from "../util/log.ts";
import pLimit from "p-limit";
import type { CoderClient } from "../coder/client.ts";
import type { Workspace } from "../coder/types.ts";
import { sleep } from "../util/sleep.ts";
import { StopSignalError } from "../util/signals.ts";
import { templateMarker } from "../util/ownership.ts";
import { createTemplate, createTemplateVersion, deleteTemplate, setReconciliationPaused, templateByName, updateActiveVersion, uploadTar, waitTemplateVersion } from "./api.ts";
import { prebuildsMetrics } from "./metrics.ts";
import type { PrebuildsPlan } from "./plan.ts";
import { markRestored, recordOriginal } from "./setting-record.ts";
import { prebuildsTemplateTar } from "./template.ts";
import type { CleanupOutcome, JobCounts, PrebuildsAction, PrebuildsOptions, PrebuildsResult, TemplateUnit, TimelineSample } from "./types.ts";

export interface PrebuildsHooks {
  signal?: AbortSignal;
  log?: LogFn;
}

/** Bound on the timeline (samples beyond it are counted, not kept). */
export const MAX_TIMELINE = 20_000;
/** What follows the run's marker in a prebuilds template's description: tells its templates from other load types'. */
export const PREBUILDS_TEMPLATE_NOTE = "`coder exp scaletest prebuilds` template";
const MAX_DELETION_ATTEMPTS = 3;

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Prebuilt workspaces of a template this run created: matched by template id, owned by the prebuilds user. */
export function isRunPrebuild(ws: Pick<Workspace, "template_id" | "owner_name" | "is_prebuild">, templateId: string): boolean {
  return ws.template_id === templateId && (ws.is_prebuild === true || ws.owner_name === "prebuilds");
}

export async function listTemplateWorkspaces(client: CoderClient, templateName: string, templateId: string, signal?: AbortSignal): Promise<Workspace[]> {
  const out: Workspace[] = [];
  for await (const ws of client.iterateWorkspaces({ q: `template:${templateName}`, ...(signal ? { signal } : {}) })) {
    if (isRunPrebuild(ws, templateId)) out.push(ws);
  }
  return out;
}

/** Coder's fill counts: every workspace is a created job; running, failed (or canceled), succeeded. */
export function fillCounts(list: Workspace[]): JobCounts {
  const c: JobCounts = { created: list.length, running: 0, failed: 0, completed: 0 };
  for (const ws of list) {
    const st = ws.latest_build?.job?.status;
    if (st === "running") c.running++;
    else if (st === "failed" || st === "canceled") c.failed++;
    else if (st === "succeeded") c.completed++;
  }
  return c;
}

/** Coder's drain counts: delete builds seen, plus the workspaces already gone (target minus those left). */
export function drainCounts(list: Workspace[], target: number): JobCounts {
  const c: JobCounts = { created: 0, running: 0, failed: 0, completed: 0 };
  for (const ws of list) {
    if (ws.latest_build?.transition !== "delete") continue;
    c.created++;
    const st = ws.latest_build.job?.status;
    if (st === "running") c.running++;
    else if (st === "failed" || st === "canceled") c.failed++;
  }
  c.completed = target - list.length;
  c.created += c.completed;
  return c;
}

export async function executePrebuilds(client: CoderClient, plan: PrebuildsPlan, o: PrebuildsOptions, hooks: PrebuildsHooks = {}): Promise<PrebuildsResult> {
  const log = hooks.log ?? (() => {});
  const signal = hooks.signal;
  const startedAt = Date.now();
  const t0 = performance.now();
  const metrics = prebuildsMetrics();
  const target = o.numPresets * o.numPresetPrebuilds;
  const pollMs = o.workspacesPollMs ?? 500;
  const timeline: TimelineSample[] = [];
  let timelineDropped = 0;
  const errorsByAction: PrebuildsResult["errors_by_action"] = {};
  const units: TemplateUnit[] = plan.names.map((name, index) => ({
    index, name, id: null, ok: false, action: null, error: null, setup_ms: null, fill_ms: null, drain_ms: null,
    failed_builds: 0, failed_deletions: 0, last_fill: null, last_drain: null, logs: [],
  }));
  const say = (u: TemplateUnit, m: string): void => void u.logs.push(`${new Date().toISOString()} ${m}`);
  const fail = (u: TemplateUnit, action: PrebuildsAction, e: unknown): void => {
    if (u.action) return;
    u.action = action;
    u.error = errText(e);
    errorsByAction[action] = (errorsByAction[action] ?? 0) + 1;
    metrics.error(u.name, action);
    say(u, `FAILED (${action}): ${u.error}`);
    log("warn", `prebuilds ${u.name} failed (${action}): ${u.error.split("\n")[0]}`);
  };
  const stopped = (): boolean => signal?.aborted === true;

  // The original value is recorded before the first change: a killed run is put back by cleanup.
  const record = recordOriginal(o.resultsDir, o.runId, plan.originalPaused);
  const original = record.original_reconciliation_paused;
  const setting: PrebuildsResult["setting"] = { original_reconciliation_paused: original, restored: false, error: null };
  log("info", `prebuilds: ${units.length} template(s) x ${o.numPresets} preset(s) x ${o.numPresetPrebuilds} prebuild(s); reconciliation was ${original ? "paused" : "running"} (recorded)`);
  let cleanup: CleanupOutcome | null = null;

  try {
    await setReconciliationPaused(client, true);
    log("info", "prebuilds: reconciliation paused; pushing templates");
    await Promise.all(units.map((u) => setupUnit(u)));
    const ready = units.filter((u) => u.id && !u.action);
    if (ready.length && !stopped()) {
      await setReconciliationPaused(client, false);
      log("info", `prebuilds: reconciliation unpaused; waiting for ${ready.length * target} prebuilt workspace(s)`);
      await Promise.all(ready.map((u) => measure(u, "fill")));
      const filled = ready.filter((u) => !u.action);
      if (filled.length && !stopped()) {
        await setReconciliationPaused(client, true);
        await Promise.all(filled.map((u) => pushEmptyVersion(u)));
        const emptied = filled.filter((u) => !u.action);
        await setReconciliationPaused(client, false);
        log("info", `prebuilds: versions without presets active; reconciliation unpaused; waiting for the drain`);
        if (!stopped()) await Promise.all(emptied.map((u) => measure(u, "drain")));
      }
    }
    for (const u of units) if (!u.action && u.drain_ms !== null) u.ok = true;
  } catch (e) {
    // A failed settings call: every template not yet through is failed by it.
    for (const u of units) if (!u.ok) fail(u, "wait_for_workspaces", e);
  } finally {
    if (!o.skipCleanup) cleanup = await cleanupTemplates(client, units, log);
    try {
      await setReconciliationPaused(client, original);
      markRestored(o.resultsDir, o.runId);
      setting.restored = true;
      log("info", `prebuilds: reconciliation setting restored (${original ? "paused" : "running"})`);
    } catch (e) {
      setting.error = errText(e);
      log("error", `prebuilds: could NOT restore the reconciliation setting (paused=${original}): ${setting.error}; the cleanup script restores it from ${o.runId}'s results`);
    }
  }

  const r: StopReasonText = signal?.aborted ? (signal.reason instanceof StopSignalError ? signal.reason.signal : "aborted") : null;
  const failed = units.filter((u) => !u.ok).length;
  return {
    run_id: o.runId,
    started_at: startedAt,
    elapsed_ms: performance.now() - t0,
    desired_per_template: target,
    templates: units,
    timeline,
    timeline_dropped: timelineDropped,
    errors_by_action: errorsByAction,
    setting,
    stopped: r,
    cleanup,
    exit_code: failed === 0 && r === null && setting.restored && (cleanup === null || cleanup.failed.length === 0) ? 0 : 1,
  };

  async function setupUnit(u: TemplateUnit): Promise<void> {
    const s0 = performance.now();
    let versionId: string;
    try {
      const fileId = await uploadTar(client, prebuildsTemplateTar(o.numPresets, o.numPresetPrebuilds));
      const v = await createTemplateVersion(client, plan.orgId, { fileId, message: "Template version for scaletest prebuilds" });
      if (v.matched_provisioners && v.matched_provisioners.count === 0) throw new Error("no provisioners matched for template version");
      await waitTemplateVersion(client, v.id, { timeoutMs: o.templateVersionJobTimeoutMs, pollMs: o.versionPollMs ?? 2000, ...(signal ? { signal } : {}) });
      versionId = v.id;
      say(u, `template version ${v.id} imported`);
    } catch (e) {
      return fail(u, "create_template_version", e);
    }
    try {
      const t = await createTemplate(client, plan.orgId, { name: u.name, description: `${templateMarker(o.runId)} ${PREBUILDS_TEMPLATE_NOTE}`, versionId });
      u.id = t.id;
      u.setup_ms = performance.now() - s0;
      say(u, `created template ${t.name} (${t.id})`);
    } catch (e) {
      // A name taken meanwhile: look it up so cleanup can remove it (Coder does the same on 409).
      const existing = await templateByName(client, plan.orgId, u.name).catch(() => null);
      if (existing) u.id = existing.id;
      fail(u, "create_template", e);
    }
  }

  async function pushEmptyVersion(u: TemplateUnit): Promise<void> {
    let versionId: string;
    try {
      const fileId = await uploadTar(client, prebuildsTemplateTar(0, 0));
      const v = await createTemplateVersion(client, plan.orgId, { fileId, templateId: u.id!, message: "Template version for scaletest prebuilds" });
      await waitTemplateVersion(client, v.id, { timeoutMs: o.templateVersionJobTimeoutMs, pollMs: o.versionPollMs ?? 2000, ...(signal ? { signal } : {}) });
      versionId = v.id;
    } catch (e) {
      return fail(u, "create_empty_template_version", e);
    }
    try {
      await updateActiveVersion(client, u.id!, versionId);
      say(u, `version ${versionId} without presets is active`);
    } catch (e) {
      fail(u, "update_active_template_version", e);
    }
  }

  async function measure(u: TemplateUnit, stage: "fill" | "drain"): Promise<void> {
    const m0 = performance.now();
    const deadline = m0 + o.workspaceTimeoutMs;
    const failedStarts = new Set<string>();
    const failedDeletes = new Set<string>();
    for (;;) {
      let list: Workspace[];
      try {
        list = await listTemplateWorkspaces(client, u.name, u.id!, signal);
      } catch (e) {
        return fail(u, stage === "fill" ? "wait_for_workspaces" : "wait_for_workspace_deletion", `list workspaces: ${errText(e)}`);
      }
      for (const ws of list) {
        const b = ws.latest_build;
        const bad = b?.job?.status === "failed" || b?.job?.status === "canceled";
        if (bad && b.transition === "start") failedStarts.add(ws.id);
        if (bad && b.transition === "delete") failedDeletes.add(b.id);
      }
      const counts = stage === "fill" ? fillCounts(list) : drainCounts(list, target);
      if (stage === "fill") {
        metrics.fill(u.name, counts);
        u.last_fill = counts;
        u.failed_builds = Math.max(u.failed_builds, failedStarts.size);
      } else {
        metrics.drain(u.name, counts);
        u.last_drain = counts;
        u.failed_deletions = failedDeletes.size;
      }
      if (timeline.length < MAX_TIMELINE) timeline.push({ t_ms: performance.now() - t0, stage, template: u.name, counts });
      else timelineDropped++;
      const done = stage === "fill" ? counts.completed >= target : list.length === 0;
      if (done) {
        const ms = performance.now() - m0;
        if (stage === "fill") u.fill_ms = ms;
        else u.drain_ms = ms;
        say(u, `${stage} done in ${Math.round(ms)} ms${failedStarts.size ? ` (${failedStarts.size} failed prebuild build(s))` : ""}`);
        return;
      }
      const left = deadline - performance.now();
      const action = stage === "fill" ? "wait_for_workspaces" : "wait_for_workspace_deletion";
      if (left <= 0) return fail(u, action, `${stage}: ${stage === "fill" ? `${counts.completed}/${target} prebuilt workspace(s) succeeded` : `${list.length} workspace(s) left`} after ${o.workspaceTimeoutMs} ms (--prebuild-workspace-timeout)`);
      if (!(await sleep(Math.min(pollMs, left), signal))) return fail(u, action, `stopped during the ${stage}`);
    }
  }
}

type StopReasonText = string | null;

/**
 * Deletes what is left of the run's templates: their prebuilt workspaces (only those, matched by template
 * id; failed deletions retried, MAX_DELETION_ATTEMPTS in all), then the templates. Reconciliation is paused
 * first so a template that still has presets is not refilled while it is emptied.
 */
export async function cleanupTemplates(
  client: CoderClient,
  templates: { name: string; id: string | null }[],
  log: NonNullable<PrebuildsHooks["log"]>,
  opts: { concurrency?: number; buildTimeoutMs?: number } = {},
): Promise<CleanupOutcome> {
  const out: CleanupOutcome = { templates_deleted: 0, workspaces_deleted: 0, deletion_retries: 0, failed: [] };
  const mine = templates.filter((t): t is { name: string; id: string } => t.id !== null);
  if (!mine.length) return out;
  try {
    await setReconciliationPaused(client, true);
  } catch (e) {
    log("warn", `prebuilds cleanup: could not pause reconciliation first: ${errText(e)}`);
  }
  const limit = pLimit(opts.concurrency ?? 10);
  const buildTimeoutMs = opts.buildTimeoutMs ?? 5 * 60_000;
  for (const t of mine) {
    let remaining: Workspace[];
    try {
      remaining = await listTemplateWorkspaces(client, t.name, t.id);
    } catch (e) {
      out.failed.push(`template ${t.name}: list workspaces: ${errText(e)}`);
      continue;
    }
    for (let attempt = 1; attempt <= MAX_DELETION_ATTEMPTS && remaining.length; attempt++) {
      if (attempt > 1) {
        out.deletion_retries += remaining.length;
        log("info", `prebuilds cleanup: retrying ${remaining.length} failed deletion(s) of ${t.name} (attempt ${attempt}/${MAX_DELETION_ATTEMPTS})`);
      }
      const failed: Workspace[] = [];
      await Promise.all(
        remaining.map((ws) =>
          limit(async () => {
            try {
              await deleteWorkspace(client, ws, buildTimeoutMs);
              out.workspaces_deleted++;
            } catch (e) {
              log("warn", `prebuilds cleanup: delete ${ws.name} (${ws.id}) failed: ${errText(e).split("\n")[0]}`);
              failed.push(ws);
            }
          }),
        ),
      );
      remaining = failed;
    }
    for (const ws of remaining) out.failed.push(`workspace ${ws.owner_name}/${ws.name} of ${t.name}`);
    try {
      await deleteTemplate(client, t.id);
      out.templates_deleted++;
    } catch (e) {
      out.failed.push(`template ${t.name}: ${errText(e)}`);
    }
  }
  return out;
}

/** Coder's CleanupRunner for one workspace: wait out an active build, then a delete build until it ends. */
async function deleteWorkspace(client: CoderClient, ws: Workspace, timeoutMs: number): Promise<void> {
  const st = ws.latest_build?.job?.status;
  if (st === "pending" || st === "running" || st === "canceling") {
    await client.waitForBuild(ws.latest_build.id, { timeoutMs }).catch(() => undefined);
    const now = await client.workspace(ws.id).catch(() => null);
    if (!now) return;
    if (now.latest_build?.transition === "delete" && now.latest_build.job?.status === "succeeded") return;
  }
  const b = await client.deleteWorkspace(ws.id);
  await client.waitForBuild(b.id, { timeoutMs });
}
