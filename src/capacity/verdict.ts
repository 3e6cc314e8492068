// A capacity search's run verdict. Steps past the knee fail by design (that is how the knee is found), so
// they do not fail the run: it passes when some step held, the search ended cleanly, and every phase that is
// not a search step (create, cleanup, ...) passed. The step records keep their own fail status.
import type { CapacityResult, RunSummary } from "../results/schema.ts";

export function capacityVerdict(summary: RunSummary, capacity: CapacityResult): RunSummary {
  if (summary.status === "interrupted") return summary;
  const stepPhases = new Set(capacity.steps.map((s) => s.phase));
  const otherFailed = summary.phases.some((p) => !stepPhases.has(p.phase) && (p.status === "fail" || p.status === "error"));
  const searchFailed = capacity.knee === null || capacity.stopped_by === "error";
  return { ...summary, status: otherFailed || searchFailed ? "fail" : "pass" };
}
