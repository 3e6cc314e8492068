// The prebuilds phase over time: prebuilt workspaces succeeded while the reconciler fills the presets, and
// those left while it drains them, summed over the run's templates from each template's latest poll.
import type { TimeChart, TimeSeries } from "./chart-data.ts";
import type { ReportPhase } from "./model.ts";

interface Sample {
  t_ms: number;
  stage: "fill" | "drain";
  template: string;
  counts: { created: number; running: number; failed: number; completed: number };
}

function samplesOf(p: ReportPhase): Sample[] | null {
  const t = p.extra["timeline"];
  if ((p.runner ?? p.name) !== "prebuilds" || !Array.isArray(t)) return null;
  return (t as Sample[]).filter((s) => typeof s?.t_ms === "number" && (s.stage === "fill" || s.stage === "drain") && typeof s.counts === "object");
}

/** null unless `p` is a prebuilds phase with a timeline. `start` = the phase's start, s since the run began. */
export function prebuildsTimeChart(p: ReportPhase, start: number, xMax: number): TimeChart | null {
  const samples = samplesOf(p);
  if (!samples?.length) return null;
  const perTemplate = typeof p.extra["desired_per_template"] === "number" ? (p.extra["desired_per_template"] as number) : 0;
  const templates = new Set(samples.map((s) => s.template));
  const latest = new Map<string, Sample>();
  const succeeded: TimeSeries["points"] = [];
  const failed: TimeSeries["points"] = [];
  const left: TimeSeries["points"] = [];
  const round = (x: number): number => Math.round(x * 1000) / 1000;
  for (const s of [...samples].sort((a, b) => a.t_ms - b.t_ms)) {
    latest.set(s.template, s);
    const t = round(start + s.t_ms / 1000);
    const now = [...latest.values()];
    const fill = now.filter((x) => x.stage === "fill");
    const drain = now.filter((x) => x.stage === "drain");
    if (s.stage === "fill") {
      succeeded.push({ t, v: fill.reduce((n, x) => n + x.counts.completed, 0) });
      failed.push({ t, v: fill.reduce((n, x) => n + x.counts.failed, 0) });
    } else {
      // A template not yet polled in the drain still holds all of its prebuilds.
      const notYet = templates.size - drain.length;
      left.push({ t, v: drain.reduce((n, x) => n + Math.max(0, perTemplate - x.counts.completed), 0) + notYet * perTemplate });
    }
  }
  const target = perTemplate * templates.size;
  const series: TimeSeries[] = [{ label: "succeeded (fill)", style: "achieved", points: succeeded }];
  if (failed.some((x) => (x.v ?? 0) > 0)) series.push({ label: "failed builds (fill)", style: "p99", points: failed });
  if (left.length) series.push({ label: "left (drain)", style: "p95", points: left });
  if (target && succeeded.length) series.push({ label: "desired", style: "target", points: [{ t: succeeded[0]!.t, v: target }, { t: succeeded[succeeded.length - 1]!.t, v: target }] });
  return {
    id: `chart-prebuilds-${p.index}`,
    phase: p.name,
    title: `${p.name}: prebuilt workspaces filled, then drained`,
    caption:
      `Prebuilt workspaces of the run's ${templates.size} template(s) whose start build succeeded while the reconciler fills the presets (solid; dashed: the ${target} desired), ` +
      "failed prebuild builds (red), and prebuilt workspaces left while it drains them after the versions without presets became active.",
    unit: "count",
    xMax,
    series,
  };
}
