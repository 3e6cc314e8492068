// The staged scale test, as the runner workspace runs it on start (scripts/run.ts):
// prepare -> create workspaces -> baseline -> load scenarios -> report -> cleanup (by strategy).
// Every phase writes its record; a stop signal ends the current phase, skips the rest, and still
// reports and cleans up according to the strategy.
import { readFileSync } from "node:fs";
import type { ClientStats, CoderClient } from "../coder/index.ts";
import type { Config } from "../config/index.ts";
import { cleanupRun, type CleanupResult } from "../cleanup/index.ts";
import { executeCreate, planCreate, type CreatePlan } from "../create/index.ts";
import { configureMetrics, startMetricsServer, type MetricsServerHandle } from "../metrics/index.ts";
import { checkWritable, openResultsDir, SUMMARY_FILE } from "../results/dir.ts";
import { buildPhaseRecord, buildRunSummary, formatRunSummaryText, type PhaseRecord, type RunSummary } from "../results/summary.ts";
import { clientFor } from "../scenario/main.ts";
import { log } from "../util/log.ts";
import { receivedStopSignal, type StopSignalName } from "../util/signals.ts";
import { addStats, apiBlock, emptyStats } from "../coder/stats.ts";
import { showRunBanner, type BannerHandle } from "./banner.ts";
import { createOptions, createPhaseRecord } from "./create-phase.ts";
import { grafanaAnnotator, noAnnotator, type Annotator } from "./grafana.ts";
import { runLoadScenario } from "./load-scenarios.ts";
import { baselineWait, runPhase, type PhaseDeps } from "./phases.ts";
import { sleep } from "../util/sleep.ts";
import { buildPlan, renderPlan, SCENARIO_TITLE, type Plan } from "./plan.ts";
import { RunRecorder } from "./record.ts";
import { forgetRunToken, mintRunToken, type RunToken } from "./token.ts";
import { greedyCreateOptions, greedyTraffic, planGreedy } from "./greedy.ts";
import { postWebhook } from "./webhook.ts";
import { writeRunReport } from "./report-phase.ts";
import { deleteRunJobs } from "../scaleout/index.ts";

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

const EXIT = { pass: 0, fail: 1, error: 1, interruptedBase: 128 } as const;
const SIGNAL_NUMBER: Record<StopSignalName, number> = { SIGINT: 2, SIGTERM: 15 };

function runnerVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

/** Read-only checks shared by the real run and --dry-run: nothing is created. */
async function preflight(
  client: CoderClient,
  c: Config,
): Promise<{ plan: Plan; createPlan: CreatePlan; greedyPlan: CreatePlan | null; version: string; externalUrl: string }> {
  const plan = buildPlan(c);
  const me = await client.me();
  const roles = (me.roles ?? []).map((r) => r.name);
  if (!roles.includes("owner")) {
    throw new Error(`the session token belongs to ${me.username}, who is not an Owner (roles: ${roles.join(", ") || "none"}): scale tests need an Owner`);
  }
  const info = await client.buildInfo();
  const createPlan = await planCreate(client, createOptions(c));
  const greedyPlan = c.greedyAgent ? await planGreedy(client, c) : null;
  return { plan, createPlan, greedyPlan, version: info.version, externalUrl: info.dashboard_url ?? c.url };
}

export async function runPipeline(c: Config, opts: PipelineOptions): Promise<PipelineOutcome> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const signal = opts.signal;
  const owner = clientFor(c, Math.max(8, c.createConcurrency || 64));
  let pre: Awaited<ReturnType<typeof preflight>>;
  try {
    pre = await preflight(owner, c);
  } catch (e) {
    await owner.close();
    throw e;
  }
  if (c.dryRun) {
    out(renderPlan(pre.plan, c));
    out(`Checked: Coder ${pre.version}, template ${pre.createPlan.template.name} (version ${pre.createPlan.templateVersionId}), runner ${pre.createPlan.runner.username}.\n`);
    await owner.close();
    return { exitCode: 0, runDir: null, summary: null };
  }

  checkWritable(c.resultsDir);
  const startedAt = new Date();
  const results = openResultsDir(c.resultsDir, c.runId);
  const recorder = new RunRecorder(results, { config: c, plan: pre.plan, runnerVersion: runnerVersion(), startedAt });
  recorder.record.coder = { url: c.url, version: pre.version, external_url: pre.externalUrl, runner_user: pre.createPlan.runner.username };
  recorder.record.coder_version = pre.version;
  recorder.save();
  const stopRunLog = log.toFile(results.resolve("run.log"));
  const annotator: Annotator = c.grafanaUrl && c.grafanaToken ? grafanaAnnotator({ url: c.grafanaUrl, token: c.grafanaToken, runId: c.runId }) : noAnnotator;
  const records: PhaseRecord[] = [];
  let metrics: MetricsServerHandle | null = null;
  let token: RunToken | null = null;
  let client: CoderClient = owner;
  // Each load scenario gets its own client (concurrent scenarios must not share counters); their stats
  // are added here when they close, so run.json's total counts every call once.
  let scenarioStats: ClientStats = emptyStats();
  const apiTotal = (): ClientStats => addStats(addStats(owner.stats(), client === owner ? emptyStats() : client.stats()), scenarioStats);
  const deps: PhaseDeps = { results, recorder, annotator, runId: c.runId, api: apiTotal };
  const scenarioClient = (): { client: CoderClient; done: () => Promise<void> } => {
    const sc = token ? clientFor({ ...c, token: (token as RunToken).key }, 16) : clientFor(c, 16);
    return {
      client: sc,
      done: async () => {
        scenarioStats = addStats(scenarioStats, sc.stats());
        await sc.close();
      },
    };
  };
  let banner: BannerHandle | null = null;
  let webhookFailures = 0;
  const webhook = async (event: "started" | "completed" | "failed", verdict?: string) => {
    if (!c.webhookUrl) return;
    const ok = await postWebhook(c.webhookUrl, {
      event,
      runId: c.runId,
      coderUrl: pre.externalUrl,
      comment: c.comment,
      ...(event === "started" ? { parameters: recorder.record.config } : {}),
      ...(verdict ? { verdict } : {}),
      reportPath: results.resolve("report.html"),
    });
    if (!ok) webhookFailures++;
  };
  const runEnd = await annotator.start(`Scaletest ${c.runId}: ${c.comment || "no comment"}`, ["run"]);
  results.setStatus("Preparing");
  let summary: RunSummary | null = null;
  let exitCode: number = EXIT.error;
  try {
    if (c.metricsAddress) {
      configureMetrics({ shard: c.shard });
      metrics = await startMetricsServer(c.metricsAddress);
      log.info(`metrics at ${metrics.url}`);
    }

    records.push(
      await runPhase(deps, "prepare", "Preparing", async () => {
        const t0 = new Date();
        token = await mintRunToken(owner, c);
        client = clientFor({ ...c, token: token.key }, Math.max(8, c.createConcurrency || 64));
        if (c.banner) banner = await showRunBanner(client, c.runId, `Scale test running (run ${c.runId}): expect slowness.`);
        await webhook("started");
        return buildPhaseRecord({
          runId: c.runId,
          phase: "prepare",
          startedAt: t0,
          endedAt: new Date(),
          extra: {
            coder_version: pre.version,
            runner_user: pre.createPlan.runner.username,
            template: pre.createPlan.template.name,
            template_version_id: pre.createPlan.templateVersionId,
            api_token: token.name,
            banner: banner?.active ?? false,
          },
        });
      }),
    );
    if (records.at(-1)?.status !== "pass") throw new Error(`prepare failed: ${records.at(-1)?.error ?? "see run.log"}`);
    results.setStatus("Running");

    const create = await runPhase(deps, "create-workspaces", `Creating ${c.workspaces} workspaces`, async () => {
      const r = await executeCreate(client, pre.createPlan, { ...createOptions(c), noCleanup: true }, { signal, log: (l, m) => log[l](m) });
      return createPhaseRecord(r, c);
    });
    records.push(create);
    const ready = create.totals.pass;

    if (!signal.aborted && c.baselineWait > 0) records.push(await baselineWait(deps, c.baselineWait, signal));

    const greedyPlan = pre.greedyPlan;
    if (greedyPlan && !signal.aborted) {
      records.push(
        await runPhase(deps, "greedy-agent", "Create greedy agent", async () => {
          const r = await executeCreate(client, greedyPlan, greedyCreateOptions(c), { signal, log: (l, m) => log[l](m) });
          return createPhaseRecord(r, c, "greedy-agent");
        }, { tags: ["greedy_agent"] }),
      );
      if (!signal.aborted && c.baselineWait > 0) records.push(await baselineWait(deps, c.baselineWait, signal, "baseline-greedy"));
    }

    if (ready === 0 && !signal.aborted) {
      log.warn("no workspace became ready: the load scenarios are skipped");
    } else if (c.concurrent) {
      records.push(...(await runConcurrent(deps, scenarioClient, c, pre.plan, signal)));
    } else {
      for (const [i, s] of pre.plan.scenarios.entries()) {
        if (signal.aborted) break;
        const sc = scenarioClient();
        // The greedy flood runs beside the scenario (its own folder; not a state phase).
        const greedy =
          greedyPlan && s.scenario !== "dashboard"
            ? runPhase(
                deps,
                `${s.phase}-greedy-agent`,
                `Greedy agent traffic during ${SCENARIO_TITLE[s.scenario]}`,
                async () => (await greedyTraffic(sc.client, c, s, signal)) ?? skippedRecord(c.runId, `${s.phase}-greedy-agent`),
                { statePhase: false, tags: ["greedy_agent"] },
              )
            : null;
        try {
          records.push(
            await runPhase(deps, s.phase, `Load scenario: ${SCENARIO_TITLE[s.scenario]}`, (dir) => runLoadScenario(sc.client, c, s, signal, dir), {
              tags: ["scenario"],
              api: () => sc.client.stats(),
            }),
          );
          if (greedy) records.push(await greedy);
        } finally {
          await sc.done();
        }
        if (!signal.aborted && c.baselineWait > 0) records.push(await baselineWait(deps, c.baselineWait, signal, `baseline-${i + 2}`));
      }
    }
  } catch (e) {
    log.error(`pipeline stopped: ${(e as Error).message}`);
    records.push(buildPhaseRecord({ runId: c.runId, phase: "pipeline", startedAt, endedAt: new Date(), error: e }));
  }

  // Report and cleanup run whatever happened above (a second stop signal force-exits).
  const interruptedBy = receivedStopSignal();
  summary = buildRunSummary({ runId: c.runId, startedAt, endedAt: new Date(), phases: records, interruptedBy });
  results.writeJSON(SUMMARY_FILE, summary);
  records.push(
    await runPhase(deps, "report", "Writing the report", async () => {
      const t0 = new Date();
      const paths = await writeRunReport(results.path);
      return buildPhaseRecord({ runId: c.runId, phase: "report", startedAt: t0, endedAt: new Date(), extra: paths });
    }),
  );

  const failed = summary.status !== "pass";
  const strategy = c.cleanupStrategy;
  const doCleanup = strategy === "always" || (strategy === "on_success" && !failed) || (strategy === "on_error" && failed);
  banner && (await (banner as BannerHandle).update(`Scale test ${c.runId} finished (${summary.status}), cleaning up...`));
  if (doCleanup) {
    results.setStatus("Cleaning up");
    const cleanupRecord = await runPhase(deps, "cleanup", `Cleanup (${strategy})`, async () => {
      const r = await cleanupRun(client, {
        runId: c.runId,
        concurrency: c.cleanupConcurrency,
        timeoutMs: c.cleanupTimeout,
        jobTimeoutMs: c.cleanupJobTimeout,
        // The run token is revoked after the cleanup (forgetRunToken), not by it.
        ...(token ? { ownTokenId: (token as RunToken).id } : {}),
      }, { log: (l, m) => log[l](m) });
      const rec = cleanupPhaseRecord(r, c.runId);
      if (c.runners > 1 && process.env.KUBERNETES_SERVICE_HOST) {
        // The scale-out Jobs (and their pods and Secrets) carry the run id label.
        rec.extra.jobs_deleted = await deleteRunJobs(c.runId, { namespace: c.namespace });
      }
      return rec;
    });
    records.push(cleanupRecord);
    if (cleanupRecord.status !== "pass") summary = { ...summary, status: summary.status === "interrupted" ? "interrupted" : "fail" };
  } else {
    log.info(
      strategy === "on_stop"
        ? `cleanup strategy on_stop: resources stay until the runner workspace stops (or run scenarios/cleanup.ts --run-id ${c.runId})`
        : `cleanup strategy ${strategy}: resources left in place (scenarios/cleanup.ts --run-id ${c.runId} removes them)`,
    );
  }

  // Final summary includes report and cleanup phases.
  summary = { ...buildRunSummary({ runId: c.runId, startedAt, endedAt: new Date(), phases: records, interruptedBy }), status: summary.status };
  results.writeJSON(SUMMARY_FILE, summary);

  exitCode = interruptedBy ? EXIT.interruptedBase + SIGNAL_NUMBER[interruptedBy] : summary.status === "pass" ? EXIT.pass : EXIT.fail;
  const statusText = interruptedBy ? `Interrupted (${interruptedBy})` : summary.status === "pass" ? "Complete" : `Failed (exit=${exitCode})`;
  results.setStatus(statusText);
  await (banner as BannerHandle | null)?.restore();
  if (token) await forgetRunToken(owner, token);
  await webhook(summary.status === "pass" ? "completed" : "failed", summary.status.toUpperCase());
  // The run's own Grafana region closes before the failures are counted, so a failed close is counted too.
  await runEnd(summary.status === "pass" ? [] : ["error"]);
  recorder.record.integration_failures = { grafana: annotator.failures, webhook: webhookFailures, banner: 0 };
  recorder.record.api = apiBlock(apiTotal());
  recorder.finish(interruptedBy ? "interrupted" : summary.status === "pass" ? "pass" : "fail", exitCode);
  // The report again, now that the status, cleanup and run.json are final.
  await writeRunReport(results.path).catch((e: unknown) => log.warn(`report refresh failed: ${(e as Error).message}`));
  out(`\n${formatRunSummaryText(summary)}\nResults: ${results.path}\nReport:  ${results.resolve("report.html")}\n`);
  await metrics?.close();
  if (client !== owner) await client.close();
  await owner.close();
  stopRunLog();
  return { exitCode, runDir: results.path, summary };
}

async function runConcurrent(
  deps: PhaseDeps,
  scenarioClient: () => { client: CoderClient; done: () => Promise<void> },
  c: Config,
  plan: Plan,
  signal: AbortSignal,
): Promise<PhaseRecord[]> {
  const names = plan.scenarios.map((s) => s.scenario).join(", ");
  deps.results.startPhase(`Load scenarios: ${names}`);
  const started: Promise<PhaseRecord>[] = [];
  const t0 = Date.now();
  for (const s of plan.scenarios) {
    await sleep(t0 + s.startOffsetMs - Date.now(), signal);
    if (signal.aborted) break;
    const sc = scenarioClient();
    started.push(
      runPhase(deps, s.phase, `Load scenario: ${SCENARIO_TITLE[s.scenario]}`, (dir) => runLoadScenario(sc.client, c, s, signal, dir), {
        statePhase: false,
        tags: ["scenario"],
        api: () => sc.client.stats(),
      }).finally(() => sc.done()),
    );
  }
  const records = await Promise.all(started);
  deps.results.endPhase(`Load scenarios: ${names}`);
  return records;
}

function skippedRecord(runId: string, phase: string): PhaseRecord {
  const now = new Date();
  return buildPhaseRecord({ runId, phase, startedAt: now, endedAt: now, skipped: true });
}

function cleanupPhaseRecord(r: CleanupResult, runId: string): PhaseRecord {
  return buildPhaseRecord({
    runId,
    phase: "cleanup",
    startedAt: new Date(r.started_at),
    endedAt: new Date(r.started_at + r.elapsed_ms),
    thresholds: [
      {
        name: "cleanup leaves nothing behind",
        rule: "remaining == 0",
        observed: r.remaining.length,
        ok: r.remaining.length === 0 && r.failed.length === 0,
        unit: "count",
      },
    ],
    extra: {
      prefix: r.prefix,
      workspaces_deleted: r.workspaces.filter((w) => w.ok).length,
      users_deleted: r.users.filter((u) => u.ok).length,
      failed: r.failed,
      remaining: r.remaining,
      stopped: r.stopped,
    },
  });
}
