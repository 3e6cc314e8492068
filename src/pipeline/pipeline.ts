// The staged scale test, as the runner workspace runs it on start (scripts/run.ts): a list of phases over
// runners, each through the same harness the scenario scripts use. A stop signal or a failed abort
// threshold ends the current phase and skips the rest; the report and cleanup (by strategy) still run.
import { activateCoderdMetrics } from "../metrics/coderd/collector.ts";
import type { Config } from "../config/index.ts";
import { cleanupRunner } from "../cleanup/phase.ts";
import { cleanupPrepareRunner } from "../cleanup/prepare.ts";
import { createRunner } from "../create/phase.ts";
import type { RunSummary } from "../results/schema.ts";
import { formatRunSummaryText } from "../results/summary.ts";
import { clientFor } from "../scenario/main.ts";
import { log } from "../util/log.ts";
import { greedyFlood } from "./greedy.ts";
import { workspaceUpdatesRunner } from "../workspace-updates/phase.ts";
import { prebuildsRunner } from "../prebuilds/phase.ts";
import { taskStatusRunner } from "../task-status/phase.ts";
import { notificationsRunner } from "../notifications/phase.ts";
import { autostartRunner } from "../autostart/phase.ts";
import { dynamicParametersRunner } from "../dynamic-parameters/phase.ts";
import { renderPlan, SCENARIO_TITLE } from "./plan.ts";
import { preflight, type ScenarioPhase } from "./preflight.ts";
import { sleep } from "../util/sleep.ts";
import { untilStopped } from "../util/abort.ts";
import { PipelineSession } from "./session.ts";
import { writeFaultsLine } from "../util/write-faults.ts";
import { runCapacitySearch } from "../capacity/search.ts";
import { capacityVerdict } from "../capacity/verdict.ts";
import type { CapacityResult } from "../results/schema.ts";
import { SUMMARY_FILE } from "../results/dir.ts";

export interface PipelineOptions {
  /** Aborted by SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** Where the dry-run plan and the final summary go. */
  out?: (text: string) => void;
}

export interface PipelineOutcome {
  exitCode: number;
  runDir: string | null;
  summary: RunSummary | null;
}

export async function runPipeline(c: Config, opts: PipelineOptions): Promise<PipelineOutcome> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const owner = clientFor(c, Math.max(8, c.createConcurrency || 64));
  // Nothing is created before the preflight passes: a stop signal ends it at once, whatever call still waits.
  const pre = await untilStopped(preflight(owner, c), opts.signal).catch(async (e: unknown) => {
    if (opts.signal.aborted) throw new Error(`${(opts.signal.reason as Error).message} before anything was created`);
    await owner.close();
    throw e;
  });
  // coderd's own metrics for every phase, baselines included; a coderd.* threshold without a readable source is bad input.
  await activateCoderdMetrics(c).catch(async (e: unknown) => {
    await owner.close();
    throw e;
  });
  if (c.dryRun) {
    out(renderPlan(pre.plan, c));
    out(`Checked: Coder ${pre.version}, template ${pre.createPlan.template.name} (version ${pre.createPlan.templateVersionId}), runner ${pre.createPlan.runner.username}.\n`);
    await owner.close();
    return { exitCode: 0, runDir: null, summary: null };
  }
  // Opening the results folder takes the run's lock: a second run with this id is refused here, before the run token is minted.
  let run: PipelineSession;
  try {
    run = new PipelineSession(c, pre, owner, opts.signal);
  } catch (e) {
    await owner.close();
    throw e;
  }
  let capacity: CapacityResult | null = null;
  await run.begin();
  try {
    await run.prepare();
    if (pre.cleanupPrepare) await run.phase(cleanupPrepareRunner(), pre.cleanupPrepare, { phase: "cleanup-prepare", text: "Cleanup (prepare)" });
    const ready = c.skipCreateWorkspaces ? pre.reused : (await run.phase(createRunner({ pipeline: true }), pre.create, { text: `Creating ${c.workspaces} workspaces` })).record.totals.pass;
    if (!c.skipCreateWorkspaces) await run.baseline("baseline");
    if (pre.greedy && !run.signal.aborted) {
      await run.phase(createRunner({ pipeline: true }), pre.greedy, { phase: "greedy-agent", text: "Create greedy agent", tags: ["greedy_agent"] });
      await run.baseline("baseline-greedy");
    }
    if (ready === 0 && !run.signal.aborted) log.warn("no workspace became ready: the load scenarios are skipped");
    else if (pre.capacity) {
      if (!run.signal.aborted) capacity = await runCapacitySearch(run, pre.capacity.setup);
    } else if (c.concurrent) await loadConcurrently(run, pre.scenarios);
    else {
      for (const [i, s] of pre.scenarios.entries()) {
        if (run.signal.aborted) break;
        await loadScenario(run, s);
        await run.baseline(`baseline-${i + 2}`);
      }
    }
    if (pre.workspaceUpdates && !run.signal.aborted) {
      await run.phase(workspaceUpdatesRunner(), pre.workspaceUpdates, { text: "Workspace updates (WorkspaceUpdates streams while workspaces are created)" });
      await run.baseline("baseline-workspace-updates");
    }
    if (pre.prebuilds && !run.signal.aborted) {
      await run.phase(prebuildsRunner(), pre.prebuilds, { text: "Prebuilds (reconciler fills presets of new templates, then drains them)" });
      await run.baseline("baseline-prebuilds");
    }
    if (pre.taskStatus && !run.signal.aborted) {
      await run.phase(taskStatusRunner(), pre.taskStatus, { text: "Task status (external agents report app status; time until the watch shows it)" });
      await run.baseline("baseline-task-status");
    }
    if (pre.notifications && !run.signal.aborted) {
      await run.phase(notificationsRunner(), pre.notifications, { text: "Notifications (template admins notified of a deleted template over the inbox websocket and email)" });
      await run.baseline("baseline-notifications");
    }
    if (pre.autostart && !run.signal.aborted) {
      await run.phase(autostartRunner(), pre.autostart, { text: "Autostart (every workspace scheduled to start in the same minute)" });
      await run.baseline("baseline-autostart");
    }
    if (pre.dynamicParameters && !run.signal.aborted) {
      await run.phase(dynamicParametersRunner(), pre.dynamicParameters, { text: "Dynamic parameters (concurrent evaluations of a template's parameters)" });
      await run.baseline("baseline-dynamic-parameters");
    }
  } catch (e) {
    run.pipelineError(e);
  }
  // A capacity search fails steps by design: the run passes when the search found its knee (src/capacity/verdict.ts).
  const judged = (): ReturnType<typeof run.summary> => {
    const s = run.summary();
    if (!capacity) return s;
    const v = capacityVerdict(s, capacity);
    run.results.writeJSON(SUMMARY_FILE, v);
    return v;
  };
  if (capacity) judged();
  await run.report();
  await cleanupByStrategy(run, judged().status !== "pass");
  const summary = judged();
  const exitCode = await run.finish(summary);
  const faults = writeFaultsLine();
  out(`\n${formatRunSummaryText(summary)}\n${capacity ? `Capacity: ${capacity.summary}\n` : ""}${faults ? `${faults}\n` : ""}Results: ${run.results.path}\nReport:  ${run.results.resolve("report.html")}\n`);
  return { exitCode, runDir: run.results.path, summary };
}

/** One load scenario on its own client, with the greedy flood beside it (its own folder; not a state phase). */
async function loadScenario(run: PipelineSession, s: ScenarioPhase, statePhase = true): Promise<void> {
  const flood = run.pre.greedy ? greedyFlood(run.c, s.plan) : null;
  const greedy = flood
    ? sleep(flood.delayMs, run.signal).then(() =>
        run.signal.aborted ? null : run.phase(flood.runner, flood.settings, { phase: flood.phase, text: `Greedy agent traffic during ${SCENARIO_TITLE[s.plan.scenario]}`, config: flood.config, own: true, statePhase: false, tags: ["greedy_agent"] }),
      )
    : null;
  const text = `Load scenario: ${SCENARIO_TITLE[s.plan.scenario]}`;
  await run.phase(s.runner, s.settings, { phase: s.plan.phase, text, targets: { range: s.plan.slice.spec, durationMs: s.plan.durationMs }, own: true, statePhase, tags: ["scenario"] });
  await greedy;
}

/** Every load scenario at once, each starting its stagger after the first. */
async function loadConcurrently(run: PipelineSession, scenarios: readonly ScenarioPhase[]): Promise<void> {
  const text = `Load scenarios: ${scenarios.map((s) => s.plan.scenario).join(", ")}`;
  run.results.startPhase(text);
  const t0 = Date.now();
  const started: Promise<void>[] = [];
  for (const s of scenarios) {
    await sleep(t0 + s.plan.startOffsetMs - Date.now(), run.signal);
    if (run.signal.aborted) break;
    started.push(loadScenario(run, s, false));
  }
  await Promise.all(started);
  run.results.endPhase(text);
}

async function cleanupByStrategy(run: PipelineSession, failed: boolean): Promise<void> {
  const { c } = run;
  const strategy = c.cleanupStrategy;
  await run.bannerText(`Scale test ${c.runId} finished (${failed ? "failed" : "pass"}), cleaning up...`);
  if (!(strategy === "always" || (strategy === "on_success" && !failed) || (strategy === "on_error" && failed))) {
    log.info(`cleanup strategy ${strategy}: resources left in place (scenarios/cleanup.ts --run-id ${c.runId} removes them${strategy === "on_stop" ? "; so does stopping the runner workspace" : ""})`);
    return;
  }
  run.results.setStatus("Cleaning up");
  // The run token is revoked after the cleanup (session.finish), not by it.
  const runner = cleanupRunner({ runId: c.runId, ...(run.runToken ? { ownTokenId: run.runToken.id } : {}) });
  // Not the stop signal: after an interruption, cleanup is exactly what should still run.
  const { record } = await run.phase(runner, runner.validate(c, {}), { text: `Cleanup (${strategy})`, signal: new AbortController().signal });
  // The scale-out Jobs (and their pods and Secrets) carry the run id label.
  if (c.runners > 1 && process.env.KUBERNETES_SERVICE_HOST) {
    const { deleteRunJobs } = await import("../scaleout/kubernetes.ts");
    record.extra.jobs_deleted = await deleteRunJobs(c.runId, { namespace: c.namespace });
  }
}
