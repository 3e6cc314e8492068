#!/usr/bin/env -S npx tsx
// Regenerates a run's report, or compares two runs.
//
//   report.ts [RUN]                      rewrite RUN/report.md and RUN/report.html (default: the latest run
//                                        under --results-dir, or --run-id); prints their paths
//   report.ts --serve [RUN]              serve the live report at --report-address (default 0.0.0.0:21113):
//                                        the page refreshes from the run folder every few seconds and
//                                        becomes the final report when the run ends
//   report.ts --compare A B              A and B side by side (A = baseline, B = candidate); prints the table
//                                        and writes B/compare.md and B/compare.html (both runs' charts
//                                        overlaid). [--output json:PATH] [--tolerance 10]
//                                        [--fail-on-worse: exit 1 when some metric got worse]
//   --threshold EXPR and --threshold-* flags re-judge the run's recorded metrics (report and compare): a changed
//   limit replaces its row.
//
// RUN, A and B are run folders (<results-dir>/<run-id>) or run ids under --results-dir.
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError, HelpShown, loadConfig, type Loaded } from "../src/config/index.ts";
import { compareRuns, formatCompareText, renderCompareMarkdown } from "../src/report/compare.ts";
import { renderCompareHtml } from "../src/report/compare-html.ts";
import { loadReportModel } from "../src/report/model.ts";
import { rejudge, type ThresholdOverrides } from "../src/report/thresholds.ts";
import { presetThresholds } from "../src/thresholds/presets.ts";
import { writeReport } from "../src/report/write.ts";
import { startLiveServer } from "../src/report/live.ts";
import { writeFileAtomicSync } from "../src/results/atomic.ts";
import { latestRunDir } from "../src/results/dir.ts";
import { parseOutputSpecs, writeOutputs } from "../src/results/outputs.ts";
import { redact } from "../src/util/redact.ts";
import { BAD_INPUT_EXIT_CODE, BadInputError, isBadInput } from "../src/util/errors.ts";
import { isRunId } from "../src/util/naming.ts";

export { writeReport };

export const COMPARE_FILE = "compare.md";
export const COMPARE_HTML_FILE = "compare.html";

const DESCRIPTION =
  "Regenerate a run's report.md and report.html, or compare two runs (--compare A B) metric by metric.";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

const defaultIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** A run folder from a path or a run id under resultsDir. */
export function resolveRun(arg: string, resultsDir: string): string {
  const asPath = resolve(arg);
  if (existsSync(asPath) && statSync(asPath).isDirectory()) return asPath;
  if (isRunId(arg)) {
    const underResults = resolve(resultsDir, arg);
    if (existsSync(underResults) && statSync(underResults).isDirectory()) return underResults;
  }
  throw new BadInputError(`no run folder "${arg}" (looked at ${asPath}${isRunId(arg) ? ` and ${resolve(resultsDir, arg)}` : ""}): pass a run folder or a run id under --results-dir`);
}

/** The preset each --threshold-* setting becomes (its metric, selector and stat). */
const PRESET_OF: Partial<Record<keyof Loaded["sources"], RegExp>> = {
  thresholdCreateSuccess: /^create\.success_rate/,
  thresholdProvisionP95: /^create\.provision\.p95/,
  thresholdDashboardP95: /^dashboard\.page\.p95/,
  thresholdDashboardP99: /^dashboard\.page\.p99/,
  thresholdDashboardErrorRate: /^dashboard\.error_rate/,
  thresholdTrafficErrorRate: /\.connection_error_rate/,
  thresholdTickP99: /\.tick\.p99/,
};

/**
 * Threshold expressions given as flags to this report (presets and --threshold); the others keep the run's
 * recorded verdicts. Only flags count: the runner workspace's environment carries the SCALETEST_THRESHOLD_*
 * the run itself was judged with.
 */
export function thresholdOverrides(loaded: Loaded): ThresholdOverrides {
  const { config: c, sources } = loaded;
  const flagged = Object.entries(PRESET_OF).filter(([k]) => sources[k as keyof typeof sources] === "flag").map(([, re]) => re!);
  const presets = presetThresholds(c).filter((e) => flagged.some((re) => re.test(e)));
  return [...presets, ...(sources.thresholds === "flag" ? c.thresholds : [])];
}

/** The CLI; returns the exit code (0 ok, 1 --fail-on-worse and something got worse, 2 bad input). */
export async function reportMain(argv: string[], io: Io = defaultIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let loaded;
  try {
    loaded = loadConfig("report", argv, {
      env,
      description: DESCRIPTION,
      writeOut: io.out,
      extend: (cmd) =>
        cmd
          .argument("[runs...]", "run folder (or run id) to report on; with --compare: A B")
          .option("--compare", "compare two runs: report.ts --compare A B (A = baseline, B = candidate)")
          .option("--serve", "serve the live report at --report-address until stopped (RUN, or the latest run under --results-dir, followed as new runs start)")
          .option("--tolerance <percent>", "compare: relative change still counted as the same", "10")
          .option("--fail-on-worse", "compare: exit 1 if any metric is worse in B")
          .option("--output <spec>", "compare: also write text or json, as <format>[:<path>] (repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[]),
    });
  } catch (e) {
    if (e instanceof HelpShown) return 0;
    if (e instanceof ConfigError) {
      io.err(`report: ${e.message}\nRun with --help to see every setting.\n`);
      return 2;
    }
    throw e;
  }
  const { config, extra, args, sources } = loaded;
  const thresholds = thresholdOverrides(loaded);
  try {
    if (extra.compare) {
      if (args.length !== 2) throw new BadInputError(`--compare needs two runs, A (baseline) and B (candidate); got ${args.length}`);
      const tolerance = Number(extra.tolerance);
      if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > 1000) {
        throw new BadInputError(`--tolerance must be a percentage between 0 and 1000, got "${String(extra.tolerance)}"`);
      }
      const specs = parseOutputSpecs((extra.output as string[] | undefined) ?? []);
      const load = (arg: string) => {
        const m = loadReportModel(resolveRun(arg, config.resultsDir));
        return rejudge(m, thresholds);
      };
      const a = load(args[0]!);
      const b = load(args[1]!);
      const result = compareRuns(a, b, { tolerance: tolerance / 100 });
      const mdPath = join(b.runDir, COMPARE_FILE);
      writeFileAtomicSync(mdPath, redact(renderCompareMarkdown(result)));
      const htmlPath = join(b.runDir, COMPARE_HTML_FILE);
      writeFileAtomicSync(htmlPath, redact(renderCompareHtml(a, b, result)));
      const text = formatCompareText(result);
      const toFiles = specs.filter((s) => s.path !== undefined);
      const stdoutSpec = specs.find((s) => s.path === undefined);
      if (stdoutSpec?.format === "json") io.out(redact(JSON.stringify(result, null, 2) + "\n"));
      else io.out(redact(text));
      await writeOutputs(toFiles, { json: result, text });
      io.out(`\nWrote ${mdPath}\nWrote ${htmlPath}\n`);
      return extra.failOnWorse && result.counts.worse > 0 ? 1 : 0;
    }
    if (args.length > 1) throw new BadInputError(`expected at most one run folder, got ${args.length} (did you mean --compare A B?)`);
    if (extra.serve) {
      const runDir = args[0] !== undefined ? resolveRun(args[0], config.resultsDir) : undefined;
      const server = await startLiveServer({ address: config.reportAddress, ...(runDir ? { runDir } : { resultsDir: resolve(config.resultsDir) }) });
      io.out(`Live report of ${runDir ?? `the latest run under ${resolve(config.resultsDir)}`} at ${server.url} (Ctrl+C stops)\n`);
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await server.close();
      return 0;
    }
    let runDir: string;
    if (args[0] !== undefined) runDir = resolveRun(args[0], config.resultsDir);
    else if (sources.runId !== "default") runDir = resolveRun(config.runId, config.resultsDir);
    else {
      const latest = latestRunDir(config.resultsDir);
      if (!latest) {
        throw new BadInputError(`no run found: ${resolve(config.resultsDir, "LATEST")} does not name an existing run; pass a run folder, --run-id, or --results-dir`);
      }
      runDir = latest;
    }
    const w = writeReport(runDir, { thresholds });
    io.out(`Run ${w.model.runId}: ${w.model.verdict.toUpperCase()}\n${w.markdown}\n${w.html}\n`);
    for (const warning of w.model.warnings) io.err(`note: ${warning}\n`);
    return 0;
  } catch (e) {
    io.err(`report: ${redact((e as Error).message)}\n`);
    return isBadInput(e) ? BAD_INPUT_EXIT_CODE : 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await reportMain(process.argv.slice(2));
}
