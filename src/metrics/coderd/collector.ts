// The run's reader of coderd's metrics, built from the settings once per process: which source (direct
// scrape wins over Prometheus when both are set), the coderd.* thresholds, and the preflight that turns a
// source a threshold needs but cannot read into one BadInputError before anything is created. The harness
// opens one window per phase (see PhaseWatch) and gets the server-side figures for its record.
import type { Config } from "../../config/index.ts";
import type { MetricSetJSON, PhaseRecord, ThresholdRow } from "../../results/schema.ts";
import { judgeOf } from "../../scenario/judges.ts";
import { formatSpec, mergeThresholds, runnerOf, type ThresholdSpec } from "../../thresholds/index.ts";
import { BadInputError } from "../../util/errors.ts";
import { log } from "../../util/log.ts";
import { DirectSource } from "./direct.ts";
import { serverSide, type ServerSideBlock } from "./phase.ts";
import { PrometheusSource } from "./prometheus.ts";
import type { CoderdSource, SourceWindow, WindowHandle } from "./source.ts";

export class CoderdMetrics {
  /** The last baseline phase's figures: later phases record their change against it. */
  private baseline: { phase: string; block: ServerSideBlock } | null = null;

  constructor(
    readonly source: CoderdSource | null,
    readonly specs: readonly ThresholdSpec[],
    readonly abortEveryMs: number,
  ) {}

  /** Opens the phase's window (a failure to read is a warning in its record, never an error). */
  async begin(phase: string): Promise<PhaseWatch | null> {
    if (!this.source) return null;
    try {
      return new PhaseWatch(this, phase, await this.source.begin());
    } catch (e) {
      log.warn(`coderd metrics: ${(e as Error).message}`);
      return null;
    }
  }

  /** @internal */
  figures(
    phase: string,
    w: SourceWindow,
    judged: boolean,
  ): { metrics: MetricSetJSON; rows: ThresholdRow[]; expressions: string[]; block: ServerSideBlock; text: string; headline: PhaseRecord["headline"] } {
    const s = serverSide(w, this.baseline);
    // A coderd threshold whose metric saw nothing in this phase (no build in a traffic phase) is not judged
    // there; when the source itself gave nothing, "no data" fails as it does for every threshold.
    // The expression is recorded as judged (with ;nodata=pass), so report.ts re-judges the phase the same way.
    const specs = judged
      ? this.specs.map((sp) => {
          if (w.replicas.length === 0 || s.metrics[sp.metric] || sp.noData === "pass") return sp;
          const relaxed = { ...sp, noData: "pass" as const };
          return { ...relaxed, expression: formatSpec(relaxed) };
        })
      : [];
    const rows = judgeOf(specs, () => "flag").evaluate(s.metrics);
    if (/^baseline/.test(phase)) this.baseline = { phase, block: s.block };
    return { metrics: s.metrics, rows, expressions: specs.map((sp) => sp.expression), block: s.block, text: s.text, headline: s.headline };
  }

  close(): void {
    this.source?.close();
  }
}

/** One phase's window on the server side. */
export class PhaseWatch {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly owner: CoderdMetrics,
    private readonly phase: string,
    private readonly handle: WindowHandle,
  ) {}

  /** Checks the abort-marked coderd thresholds every few seconds; calls `abort` once one fails. */
  watchAbort(abort: (row: ThresholdRow) => void): void {
    const aborting = this.owner.specs.filter((s) => s.abort !== null);
    if (!aborting.length || this.timer) return;
    const judge = judgeOf(aborting, () => "flag");
    const started = Date.now();
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.handle
        .peek()
        .then((w) => {
          const s = serverSide(w, null);
          const row = judge.abortFailure(s.metrics, Date.now() - started);
          if (row && this.timer) {
            this.stop();
            abort(row);
          }
        })
        .catch(() => {})
        .finally(() => (busy = false));
    }, this.owner.abortEveryMs);
    this.timer.unref();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Closes the window and adds the server side to the record: its metrics, `extra.coderd`, headline
   * figures, and (for runner phases) the coderd.* threshold rows; a failed row fails a passing phase.
   * Returns the text for summary.txt.
   */
  async finish(record: PhaseRecord): Promise<string> {
    this.stop();
    const w = await this.handle.end();
    const f = this.owner.figures(this.phase, w, record.runner !== null);
    for (const warning of w.warnings) log.warn(warning);
    Object.assign(record.metrics, f.metrics);
    record.extra.coderd = f.block;
    record.headline.push(...f.headline);
    if (f.rows.length) {
      record.expressions.push(...f.expressions.filter((x) => !record.expressions.includes(x)));
      record.thresholds.push(...f.rows);
      if (record.status === "pass" && f.rows.some((r) => !r.ok)) record.status = "fail";
    }
    return f.text;
  }
}

let active: { key: string; metrics: CoderdMetrics } | null = null;

function keyOf(c: Config, specs: readonly ThresholdSpec[]): string {
  return JSON.stringify([c.prometheusUrl, c.prometheusSelector, c.coderdMetricsUrls, c.coderdMetricsDiscover, c.coderdNamespace, c.coderdMetricsPort, c.coderdMetricsInterval, specs.map((s) => s.expression)]);
}

/** The coderd.* thresholds among the settings' --threshold expressions. */
export function coderdThresholds(c: Config): ThresholdSpec[] {
  return mergeThresholds(c.thresholds).filter((s) => runnerOf(s.metric) === "coderd");
}

/**
 * The process's coderd metrics reader for these settings (made once, reused by every phase). Throws a
 * BadInputError when a coderd.* threshold needs a source that is not set or cannot be read.
 */
export async function activateCoderdMetrics(c: Config): Promise<CoderdMetrics> {
  const specs = coderdThresholds(c);
  const key = keyOf(c, specs);
  if (active?.key === key) return active.metrics;
  active?.metrics.close();
  active = null;
  const needs = specs.map((s) => s.expression).join(", ");
  let urls = c.coderdMetricsUrls;
  if (!urls.length && c.coderdMetricsDiscover) {
    try {
      // Loaded here: discovery brings the Kubernetes client library, which nothing else needs.
      const { discoverCoderdMetricsUrls } = await import("./discover.ts");
      urls = await discoverCoderdMetricsUrls({ namespace: c.coderdNamespace, labelSelector: c.coderdMetricsDiscover, port: c.coderdMetricsPort });
      if (!urls.length) throw new Error(`no running pod matches ${c.coderdMetricsDiscover} in namespace ${c.coderdNamespace}`);
      log.info(`coderd metrics: discovered ${urls.length} replica(s): ${urls.join(", ")}`);
    } catch (e) {
      if (specs.length) throw new BadInputError(`threshold ${needs} needs coderd's metrics, but discovery failed: ${(e as Error).message}`);
      log.warn(`coderd metrics: discovery failed: ${(e as Error).message}; the run goes on without the server side`);
    }
  }
  const source: CoderdSource | null = urls.length
    ? new DirectSource({ urls, intervalMs: c.coderdMetricsInterval })
    : c.prometheusUrl
      ? new PrometheusSource({ url: c.prometheusUrl, selector: c.prometheusSelector })
      : null;
  if (!source && specs.length) {
    throw new BadInputError(`threshold ${needs} needs coderd's metrics: set --prometheus-url (a Prometheus that scrapes coderd) or --coderd-metrics-url (coderd's metrics endpoint, once per replica)`);
  }
  if (source) {
    try {
      await source.check();
    } catch (e) {
      source.close();
      if (specs.length) throw new BadInputError(`threshold ${needs} needs coderd's metrics, but they cannot be read: ${(e as Error).message}; fix the URL or drop the threshold`);
      log.warn(`coderd metrics: ${(e as Error).message}; the run goes on without the server side where it cannot be read`);
    }
    log.info(`coderd metrics: ${source.description}`);
  }
  const metrics = new CoderdMetrics(source, specs, Math.max(2000, c.coderdMetricsInterval));
  active = { key, metrics };
  return metrics;
}

/** The reader activated by the last activateCoderdMetrics, or null. */
export function activeCoderdMetrics(): CoderdMetrics | null {
  return active?.metrics ?? null;
}

/** Stops the reader (tests; a process exits without it since its timers are unref'd). */
export function deactivateCoderdMetrics(): void {
  active?.metrics.close();
  active = null;
}
