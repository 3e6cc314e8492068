// The report phase: report.md and report.html from the run folder (src/report reads every phase's record).
import { writeReport } from "../report/index.ts";

export async function writeRunReport(runDir: string): Promise<{ report_md: string; report_html: string; verdict: string }> {
  const { model } = writeReport(runDir);
  return { report_md: `${runDir}/report.md`, report_html: `${runDir}/report.html`, verdict: model.verdict };
}
