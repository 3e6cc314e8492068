// Which workspaces each load scenario targets. Coder's runner gives consecutive scenarios consecutive,
// disjoint slices of the run's workspaces: count = floor(pct/100 * N); end = start + count; when end
// would pass N the slice restarts at 0:count; the next scenario starts where this one ended.
import type { ScenarioName } from "../config/index.ts";

export interface Slice {
  scenario: ScenarioName;
  percentage: number;
  /** START:END, end-exclusive, over the run's workspaces (or users, for dashboard) sorted by name. */
  start: number;
  end: number;
  wrapped: boolean;
}

export function scenarioSlices(
  scenarios: readonly { scenario: ScenarioName; percentage: number }[],
  total: number,
): Slice[] {
  const out: Slice[] = [];
  let start = 0;
  for (const { scenario, percentage } of scenarios) {
    const count = Math.max(1, Math.floor((percentage / 100) * total));
    let s = start;
    let end = start + count;
    let wrapped = false;
    if (end > total) {
      s = 0;
      end = Math.min(count, total);
      wrapped = true;
    }
    out.push({ scenario, percentage, start: s, end, wrapped });
    start = end;
  }
  return out;
}

export function sliceText(s: Slice): string {
  return `${s.start}:${s.end}`;
}
