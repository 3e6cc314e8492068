// What a pipeline run holds while its phases run: the results folder and run.json, the clients (the
// Owner's, the run token's, one per load scenario), the Grafana regions, the webhook, the banner, the
// metrics endpoint; and the phase records so far. runPipeline (./pipeline.ts) reads as the list of phases
// because everything around them lives here.
import type { ClientStats, CoderClient } from "../coder/index.ts";
import { addStats, apiBlock, emptyStats } from "../coder/stats.ts";
import type { Config } from "../config/index.ts";
import { configureMetrics, startMetricsServer, type MetricsServerHandle } from "../metrics/index.ts";
import { writeReport } from "../report/index.ts";
import { openResultsDir, SUMMARY_FILE, type ResultsDir } from "../results/dir.ts";
import { RunRecorder } from "../results/run-info.ts";
import type { PhaseRecord, RunSummary } from "../results/schema.ts";
import { buildPhaseRecord, buildRunSummary } from "../results/summary.ts";
import { recordStep, runRunner, ThresholdAbortError, type HarnessDeps, type Recorded, type StepOptions } from "../scenario/harness.ts";
import { judgeFor } from "../scenario/judges.ts";
import { clientFor } from "../scenario/main.ts";
import type { PhaseTargets, Runner } from "../scenario/runner.ts";
import { log } from "../util/log.ts";
import { sleep } from "../util/sleep.ts";
import { writeFaults, writeFaultsLine } from "../util/write-faults.ts";
import { receivedStopSignal, type StopSignalName } from "../util/signals.ts";
import { showRunBanner, type BannerHandle } from "./banner.ts";
import { grafanaAnnotator, noAnnotator, statusAnnotations, type Annotator } from "./grafana.ts";
import type { Preflight } from "./preflight.ts";
import { forgetRunToken, mintRunToken, type RunToken } from "./token.ts";
import { postWebhook } from "./webhook.ts";

const SIGNAL_NUMBER: Record<StopSignalName, number> = { SIGINT: 2, SIGTERM: 15 };

export class PipelineSession {
  readonly results: ResultsDir;
  readonly recorder: RunRecorder;
  readonly records: PhaseRecord[] = [];
  readonly startedAt = new Date();
  /** Aborted by the caller's stop signal or by a failed abort threshold: no further phase starts. */
  readonly signal: AbortSignal;
  private readonly stop = new AbortController();
  private readonly annotator: Annotator;
  /** "Status: ..." regions in Grafana beside the state file, locked after a failure (Coder's set_status). */
  private status!: ReturnType<typeof statusAnnotations>;
  private readonly stopRunLog: () => void;
  private metrics: MetricsServerHandle | null = null;
  private token: RunToken | null = null;
  private banner: BannerHandle | null = null;
  private webhookFailures = 0;
  private scenarioStats: ClientStats = emptyStats();
  private runEnd: (tags?: string[]) => Promise<void> = async () => {};
  client: CoderClient;

  constructor(
    readonly c: Config,
    readonly pre: Preflight,
    private readonly owner: CoderClient,
    signal: AbortSignal,
  ) {
    this.signal = AbortSignal.any([signal, this.stop.signal]);
    this.client = owner;
    this.results = openResultsDir(c.resultsDir, c.runId);
    this.recorder = new RunRecorder(this.results, { config: c, origin: "pipeline", script: "run", plan: pre.plan, startedAt: this.startedAt });
    this.recorder.record.coder = { url: c.url, version: pre.version, external_url: pre.externalUrl, runner_user: pre.createPlan.runner.username };
    this.recorder.record.coder_version = pre.version;
    this.recorder.save();
    this.stopRunLog = log.toFile(this.results.resolve("run.log"));
    this.annotator = c.grafanaUrl && c.grafanaToken ? grafanaAnnotator({ url: c.grafanaUrl, token: c.grafanaToken, runId: c.runId }) : noAnnotator;
    this.status = statusAnnotations(this.annotator);
  }

  /** The run's status: the state file the agent metadata reads, and its Grafana region. */
  private async setStatus(status: string): Promise<void> {
    this.results.setStatus(status);
    await this.status.set(status);
  }

  /** Every API call of the run (owner, run token, closed scenario clients), counted once. */
  apiTotal(): ClientStats {
    return addStats(addStats(this.owner.stats(), this.client === this.owner ? emptyStats() : this.client.stats()), this.scenarioStats);
  }

  private get deps(): HarnessDeps {
    return { results: this.results, recorder: this.recorder, runId: this.c.runId, annotator: this.annotator, api: () => this.apiTotal() };
  }

  async begin(): Promise<void> {
    this.runEnd = await this.annotator.start(`Scaletest ${this.c.runId}: ${this.c.comment || "no comment"}`, ["run"]);
    await this.setStatus("Preparing");
    if (this.c.metricsAddress) {
      configureMetrics({ shard: this.c.shard });
      this.metrics = await startMetricsServer(this.c.metricsAddress);
      log.info(`metrics at ${this.metrics.url}`);
    }
  }

  /** Records a pipeline step (prepare, wait, report) as a phase. */
  async step(name: string, text: string, fn: () => Promise<Record<string, unknown> | void>, opts: StepOptions = {}): Promise<PhaseRecord> {
    const { record } = await recordStep(
      this.deps,
      name,
      text,
      async ({ attempt }) => {
        const t0 = new Date();
        const extra = (await fn()) ?? {};
        const interruptedBy = this.signal.aborted ? receivedStopSignal() : null;
        return { record: buildPhaseRecord({ runId: this.c.runId, phase: name, attempt, startedAt: t0, endedAt: new Date(), extra, interruptedBy }) };
      },
      opts,
    );
    this.records.push(record);
    return record;
  }

  /** Runs a runner as a phase on its own client; a failed abort threshold stops the run. */
  async phase<S>(
    runner: Runner<S>,
    settings: S,
    o: { phase?: string; text?: string; targets?: PhaseTargets; config?: Config; own?: boolean; signal?: AbortSignal } & StepOptions = {},
  ): Promise<Recorded> {
    const own = o.own ? clientFor(this.token ? { ...this.c, token: this.token.key } : this.c, 16) : null;
    const client = own ?? this.client;
    try {
      const rec = await runRunner(
        this.deps,
        {
          runner, settings, config: o.config ?? this.c, client, signal: o.signal ?? this.signal, judge: judgeFor(runner, this.c, "run"), prepare: true,
          ...(o.phase ? { phase: o.phase } : {}), ...(o.text ? { text: o.text } : {}), ...(o.targets ? { targets: o.targets } : {}),
        },
        { ...o, ...(own ? { api: () => own.stats() } : {}) },
      );
      this.records.push(rec.record);
      if (rec.record.aborted_by && !this.stop.signal.aborted) {
        log.error(`abort threshold ${rec.record.aborted_by} failed in ${rec.record.phase}: no further phase starts`);
        this.stop.abort(new ThresholdAbortError(rec.record.thresholds.find((t) => t.expression === rec.record.aborted_by) ?? rec.record.thresholds[0]!));
      }
      return rec;
    } finally {
      if (own) {
        this.scenarioStats = addStats(this.scenarioStats, own.stats());
        await own.close();
      }
    }
  }

  async baseline(label: string): Promise<void> {
    if (this.signal.aborted || this.c.baselineWait <= 0) return;
    await this.step(label, `Waiting ${Math.round(this.c.baselineWait / 1000)}s to establish baseline`, async () => void (await sleep(this.c.baselineWait, this.signal)), { folder: false, tags: ["phase-wait"] });
  }

  /** The prepare phase: the run token, the banner, the "started" webhook. */
  async prepare(): Promise<void> {
    const rec = await this.step("prepare", "Preparing", async () => {
      this.token = await mintRunToken(this.owner, this.c);
      this.client = clientFor({ ...this.c, token: this.token.key }, Math.max(8, this.c.createConcurrency || 64));
      if (this.c.banner) this.banner = await showRunBanner(this.client, this.c.runId, `Scale test running (run ${this.c.runId}): expect slowness.`);
      await this.webhook("started");
      const p = this.pre;
      return { coder_version: p.version, runner_user: p.createPlan.runner.username, template: p.createPlan.template.name, template_version_id: p.createPlan.templateVersionId, api_token: this.token.name, banner: this.banner?.active ?? false };
    });
    if (rec.status !== "pass") throw new Error(`prepare failed: ${rec.error ?? "see run.log"}`);
    await this.setStatus("Running");
  }

  /** A phase record for the pipeline itself when something outside any phase failed. */
  pipelineError(e: unknown): void {
    log.error(`pipeline stopped: ${(e as Error).message}`);
    this.records.push(buildPhaseRecord({ runId: this.c.runId, phase: "pipeline", startedAt: this.startedAt, endedAt: new Date(), error: e }));
  }

  summary(): RunSummary {
    const s = buildRunSummary({ runId: this.c.runId, startedAt: this.startedAt, endedAt: new Date(), phases: this.records, interruptedBy: receivedStopSignal() });
    this.results.writeJSON(SUMMARY_FILE, s);
    return s;
  }

  async report(): Promise<void> {
    await this.step("report", "Writing the report", async () => {
      const { model } = writeReport(this.results.path);
      return { report_md: this.results.resolve("report.md"), report_html: this.results.resolve("report.html"), verdict: model.verdict };
    });
  }

  async webhook(event: "started" | "completed" | "failed", verdict?: string): Promise<void> {
    if (!this.c.webhookUrl) return;
    const ok = await postWebhook(this.c.webhookUrl, {
      event, runId: this.c.runId, coderUrl: this.pre.externalUrl, comment: this.c.comment,
      ...(event === "started" ? { parameters: this.recorder.record.settings } : {}),
      ...(verdict ? { verdict } : {}),
      reportPath: this.results.resolve("report.html"),
    });
    if (!ok) this.webhookFailures++;
  }

  get runToken(): RunToken | null {
    return this.token;
  }

  async bannerText(text: string): Promise<void> {
    await this.banner?.update(text);
  }

  /** Final status, exit code, banner restored, token revoked, webhook, run.json, the report again. */
  async finish(summary: RunSummary): Promise<number> {
    const interruptedBy = receivedStopSignal();
    // A run whose results could not all be written did not pass, whatever its phases say.
    const exitCode = interruptedBy ? 128 + SIGNAL_NUMBER[interruptedBy] : summary.status === "pass" && writeFaults().count === 0 ? 0 : 1;
    await this.setStatus(interruptedBy ? `Interrupted (${interruptedBy})` : summary.status === "pass" ? "Complete" : `Failed (exit=${exitCode})`);
    await this.status.close();
    await this.banner?.restore();
    if (this.token) await forgetRunToken(this.owner, this.token);
    await this.webhook(summary.status === "pass" ? "completed" : "failed", summary.status.toUpperCase());
    // The run's own Grafana region closes before the failures are counted, so a failed close is counted too.
    await this.runEnd(summary.status === "pass" ? [] : ["error"]);
    this.recorder.record.integration_failures = { grafana: this.annotator.failures, webhook: this.webhookFailures, banner: 0 };
    this.recorder.record.api = apiBlock(this.apiTotal());
    if (writeFaults().count) this.recorder.record.results_write_failures = writeFaults().count;
    this.recorder.finish(interruptedBy ? "interrupted" : summary.status === "pass" ? "pass" : "fail", exitCode);
    // The report again, now that the status, cleanup and run.json are final.
    try {
      writeReport(this.results.path);
    } catch (e) {
      log.warn(`report refresh failed: ${(e as Error).message}`);
    }
    await this.metrics?.close();
    if (this.client !== this.owner) await this.client.close();
    await this.owner.close();
    this.stopRunLog();
    const faults = writeFaultsLine();
    if (faults) log.error(faults);
    this.results.close();
    return exitCode;
  }
}
