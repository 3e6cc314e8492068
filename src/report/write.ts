// Writes report.md and report.html into a run folder (called by the pipeline at the end of a run, and
// by scripts/report.ts to regenerate them).
import { join } from "node:path";
import { writeFileAtomicSync } from "../results/atomic.ts";
import { REPORT_HTML_FILE, REPORT_MD_FILE } from "../results/dir.ts";
import { redact } from "../util/redact.ts";
import { renderHtml } from "./html.ts";
import { renderMarkdown } from "./markdown.ts";
import { loadReportModel, type ReportModel } from "./model.ts";
import { rejudge, type ThresholdOverrides } from "./thresholds.ts";

export interface WrittenReport {
  model: ReportModel;
  /** Absolute paths of the files written. */
  markdown: string;
  html: string;
}

/** Reads `<results-dir>/<run-id>/` and (re)writes its report.md and report.html atomically, secrets redacted. */
export function writeReport(runDir: string, opts: { generatedAt?: Date; thresholds?: ThresholdOverrides } = {}): WrittenReport {
  const loaded = loadReportModel(runDir);
  const model = opts.thresholds ? rejudge(loaded, opts.thresholds) : loaded;
  const markdown = join(model.runDir, REPORT_MD_FILE);
  const html = join(model.runDir, REPORT_HTML_FILE);
  writeFileAtomicSync(markdown, redact(renderMarkdown(model)));
  writeFileAtomicSync(html, redact(renderHtml(model, opts)));
  return { model, markdown, html };
}
