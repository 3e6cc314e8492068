// The run report: model (reading a run folder), Markdown, self-contained HTML, and run comparison.
export { loadReportModel, phaseKind, type ReportModel, type ReportPhase, type ReportThreshold, type ThroughputPoint, type Verdict, type MetricUnit, type PhaseKind } from "./model.ts";
export { renderMarkdown } from "./markdown.ts";
export { renderHtml, chartJsSource, scriptJson } from "./html.ts";
export { chartData, histogram, type ChartData } from "./chart-data.ts";
export { compareRuns, runMetrics, rowVerdict, formatCompareText, renderCompareMarkdown, DEFAULT_TOLERANCE, type CompareResult, type CompareRow, type CompareOptions, type RowVerdict } from "./compare.ts";
export { writeReport, type WrittenReport } from "./write.ts";
export { rejudge, type ThresholdOverrides } from "./thresholds.ts";
