// Cleanup as a runner (src/scenario/runner.ts): one run's scaletest- workspaces and users, or every run's
// with --all. Metrics: cleanup.delete{kind} (latency of each deletion), cleanup.failures{kind},
// cleanup.remaining. The preset `cleanup.remaining<=0` fails a cleanup that leaves anything behind.
import type { SettingKey } from "../config/index.ts";
import { counter, gauge, latency, samplesSeries, value } from "../results/metric-set.ts";
import type { PhaseResult, Runner, UnitResult } from "../scenario/runner.ts";
import { BadInputError } from "../util/errors.ts";
import { cleanupRun } from "./cleanup.ts";
import { restorePrebuildsSetting } from "../prebuilds/restore.ts";
import { renderCleanupText } from "./render.ts";
import { cleanupScope } from "./scope.ts";
import type { CleanupItem, CleanupOptions, CleanupResult } from "./types.ts";

function unitOf(it: CleanupItem): UnitResult {
  return {
    testName: it.kind === "workspace" ? "cleanup-workspace" : it.kind === "template" ? "cleanup-templates" : "cleanup-users",
    id: it.name,
    name: it.name,
    ok: it.ok,
    error: it.ok ? null : (it.error ?? "failed"),
    startedAt: new Date(it.started_at),
    durationMs: it.duration_ms,
    stages: { delete: it.duration_ms },
    logs: it.logs.join("\n") + (it.logs.length ? "\n" : ""),
    extra: { resource_id: it.id, owner_name: it.owner, attempt_count: it.attempts, already_gone: it.already_gone },
  };
}

export function cleanupPhaseResult(r: CleanupResult): PhaseResult {
  const templates = r.templates ?? [];
  const items = [...r.workspaces, ...templates, ...r.users];
  // Templates (a load type's trigger template) show only when the run had some.
  const templateSeries = templates.length ? [samplesSeries(templates.filter((i) => i.ok).map((i) => i.duration_ms), { kind: "template" })] : [];
  const templateFailures = templates.length ? [value(templates.filter((i) => !i.ok).length, { kind: "template" })] : [];
  return {
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    activeMs: r.elapsed_ms,
    units: items.map(unitOf),
    metrics: {
      "cleanup.delete": latency(
        samplesSeries(r.workspaces.filter((i) => i.ok).map((i) => i.duration_ms), { kind: "workspace" }),
        samplesSeries(r.users.filter((i) => i.ok).map((i) => i.duration_ms), { kind: "user" }),
        ...templateSeries,
      ),
      "cleanup.failures": counter("count", value(r.workspaces.filter((i) => !i.ok).length, { kind: "workspace" }), value(r.users.filter((i) => !i.ok).length, { kind: "user" }), ...templateFailures),
      // Failed deletions count as left behind even if a later listing missed them.
      "cleanup.remaining": gauge("count", value(Math.max(r.remaining.length, r.failed.length))),
    },
    headline: [
      { label: "workspaces deleted", value: r.workspaces.filter((i) => i.ok).length, unit: "count" },
      { label: "users deleted", value: r.users.filter((i) => i.ok).length, unit: "count" },
      { label: "remaining", value: r.remaining.length, unit: "count" },
    ],
    errors: items.filter((i) => !i.ok && i.error).slice(0, 10).map((i) => `${i.name}: ${i.error}`),
    stoppedEarly: r.stopped !== null,
    harnessExtra: {
      prefix: r.prefix, run_id: r.run_id, all: r.all, workspaces_deleted: r.workspaces.filter((i) => i.ok).length,
      users_deleted: r.users.filter((i) => i.ok).length, failed: r.failed, remaining: r.remaining, stopped: r.stopped,
    },
    extra: {
      prefix: r.prefix,
      workspaces_deleted: r.workspaces.filter((i) => i.ok).length,
      users_deleted: r.users.filter((i) => i.ok).length,
      failed: r.failed,
      remaining: r.remaining,
      stopped: r.stopped,
      ...(r.tokens_deleted ? { tokens_deleted: r.tokens_deleted } : {}),
      ...(templates.length ? { templates_deleted: templates.filter((i) => i.ok).length } : {}),
    },
    text: renderCleanupText(r),
  };
}

export interface CleanupSettings {
  options: CleanupOptions;
}

const SETTINGS: readonly SettingKey[] = ["runId", "cleanupAll", "templateFilter", "cleanupConcurrency", "cleanupTimeout", "cleanupJobTimeout"];

/**
 * The cleanup runner. `runId` null = the script was given no --run-id (then only --all is accepted);
 * `ownTokenId` is the token this cleanup runs with (never deleted by it). `stoppable`: a stop signal stops
 * starting deletions (the script); the pipeline's cleanup runs whatever happened before it.
 */
export function cleanupRunner(o: { runId: string | null; ownTokenId?: string; stoppable?: boolean }): Runner<CleanupSettings> {
  return {
    name: "cleanup",
    testName: "cleanup-workspace",
    settings: SETTINGS,
    presets: () => ["cleanup.remaining<=0"],
    validate(c) {
      const all = c.cleanupAll;
      try {
        cleanupScope({ runId: o.runId ?? undefined, all, template: c.templateFilter });
      } catch (e) {
        throw new BadInputError((e as Error).message);
      }
      return {
        options: {
          ...(o.runId ? { runId: o.runId } : {}),
          all,
          ...(c.templateFilter ? { template: c.templateFilter } : {}),
          concurrency: c.cleanupConcurrency,
          timeoutMs: c.cleanupTimeout,
          jobTimeoutMs: c.cleanupJobTimeout,
          ...(o.ownTokenId ? { ownTokenId: o.ownTokenId } : {}),
        },
      };
    },
    async run(ctx, s) {
      const log = ctx.log.atLevel;
      // Load types that change deployment-wide state first (prebuilds: its templates with their prebuilt
      // workspaces, the reconciliation setting), so the generic cleanup then finds their templates empty or gone.
      const pb = await restorePrebuildsSetting(ctx.client, ctx.config.resultsDir, s.options.all ? { all: true } : { runId: s.options.runId! }, log).catch(
        (e: unknown) => ({ templates: null, restored: [], failed: [`prebuilds: ${(e as Error).message}`] }),
      );
      const r = await cleanupRun(ctx.client, s.options, { log, ...(o.stoppable ? { signal: ctx.signal } : {}) });
      const result = cleanupPhaseResult(r);
      if (pb.templates || pb.restored.length || pb.failed.length) {
        result.extra["prebuilds"] = pb;
        if (pb.failed.length) {
          result.failed = `cleanup left ${pb.failed.length} prebuilds resource(s): ${pb.failed.slice(0, 5).join(", ")}`;
          result.errors.push(...pb.failed.slice(0, 5));
        }
        result.text += `  prebuilds: ${pb.templates?.templates_deleted ?? 0} template(s) deleted, setting restored for ${pb.restored.length} run(s)${pb.failed.length ? `; LEFT: ${pb.failed.join(", ")}` : ""}\n`;
      }
      return result;
    },
  };
}
