// A capacity search's plan from the configuration alone: the search spec, its bounds (the most steps, the
// most workspaces it creates, the expected duration), and the input checks that refuse a search that cannot
// run before anything is created. --dry-run prints it.
import { formatDuration, type Config } from "../config/index.ts";
import type { CapacityLoad } from "../config/settings/capacity.ts";
import { MAX_COUNT } from "../create/plan.ts";
import { BadInputError } from "../util/errors.ts";
import { loadText, nounOf } from "./result.ts";
import { parseStepList, scheduleLoads, worstCase, type SearchSpec } from "./schedule.ts";

/** Loads whose steps are connections over the run's workspaces (one each). */
export const CONNECTION_LOADS = ["web-terminal", "ssh", "app"] as const;
export type ConnectionLoad = (typeof CONNECTION_LOADS)[number];

export function isConnectionLoad(l: CapacityLoad): l is ConnectionLoad {
  return (CONNECTION_LOADS as readonly string[]).includes(l);
}

/** Loads whose steps create workspaces. */
export function createsWorkspaces(l: CapacityLoad): boolean {
  return l === "builds" || l === "workspaces";
}

export interface CapacityPlan {
  load: CapacityLoad;
  spec: SearchSpec;
  holdMs: number;
  /** Schedule mode: every step; bisect: the doubling steps (bisection steps depend on results). */
  loads: number[];
  /** The most steps the search can take. */
  maxSteps: number;
  /** The most workspaces the search creates beyond the run's --workspaces. */
  maxCreated: number;
  /** Rough expected duration of the longest search. */
  expectedMs: number;
}

/** One step's rough duration: the hold for connection and dashboard steps, build waves for create steps. */
function stepEstimateMs(c: Config, load: CapacityLoad, n: number, before: number): number {
  if (load === "builds") return 60_000;
  if (load === "workspaces") return Math.ceil(Math.max(0, n - before) / (c.createConcurrency || Math.max(1, n))) * 60_000;
  return c.capacityHold + 10_000;
}

export function searchSpec(c: Config): SearchSpec {
  return { mode: c.capacityMode, steps: parseStepList(c.capacitySteps), start: c.capacityStart, step: c.capacityStep, max: c.capacityMax, resolution: c.capacityResolution };
}

/** The plan, or BadInputError naming the settings to change. */
export function planCapacity(c: Config): CapacityPlan {
  const load = c.capacityLoad;
  const spec = searchSpec(c);
  const problems: string[] = [];
  if (spec.mode === "schedule" && !scheduleLoads(spec).length) {
    problems.push(spec.steps.length ? `no step of --capacity-steps ${c.capacitySteps} is within --capacity-max ${spec.max}` : `--capacity-start ${spec.start} is above --capacity-max ${spec.max}`);
  }
  if (spec.mode === "bisect" && spec.start > spec.max) problems.push(`--capacity-start ${spec.start} is above --capacity-max ${spec.max}`);
  if (spec.mode === "bisect" && load === "workspaces") {
    problems.push("--capacity-mode bisect cannot step workspaces down (steps only add workspaces): use --capacity-mode schedule, or --capacity-load builds");
  }
  // The greedy agent floods the load scenarios, which a search replaces; both would also take the names after the run's.
  if (c.greedyAgent) problems.push("--greedy-agent floods the load scenarios, which a capacity search replaces: leave it off with --capacity");
  // The other load types' phases number their users and workspaces after the run's own, as the search's steps do.
  const phases = [["--workspace-updates", c.wuPhase], ["--autostart", c.asPhase], ["--notifications", c.ntPhase], ["--prebuilds", c.pbPhase], ["--task-status", c.tsPhase]].filter(([, on]) => on).map(([f]) => f);
  if (phases.length) problems.push(`${phases.join(", ")} cannot run in a capacity search (their resources would take the names its steps use): run them without --capacity`);
  if (c.wuPhase && createsWorkspaces(load)) problems.push(`--workspace-updates numbers its workspaces after the run's, where ${load} steps add theirs: run it without --capacity, or search another load`);
  const worst = worstCase(spec);
  const top = Math.max(0, ...worst.loads);
  if (isConnectionLoad(load) && top > c.workspaces) {
    problems.push(`connection steps run over the run's workspaces, one connection each: the largest step (${top}) needs --workspaces ${top} or more (it is ${c.workspaces}), or a lower --capacity-max`);
  }
  if (load === "workspaces") {
    const first = Math.min(...worst.loads);
    if (first <= c.workspaces) problems.push(`workspace steps add workspaces to the run's --workspaces ${c.workspaces}: every step must be above it (the first is ${first})`);
  }
  let maxCreated = 0;
  if (load === "builds") maxCreated = worst.loads.reduce((a, n) => a + n, 0);
  if (load === "workspaces") maxCreated = Math.max(0, top - c.workspaces);
  if (createsWorkspaces(load) && c.workspaces + maxCreated > MAX_COUNT) {
    problems.push(`the search may create ${maxCreated} workspaces beyond --workspaces ${c.workspaces}, more than the ${MAX_COUNT} a run may own: lower --capacity-max or raise --capacity-start`);
  }
  if (problems.length) throw new BadInputError(problems.length === 1 ? `capacity: ${problems[0]}` : `capacity: ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  let before = c.workspaces;
  let expectedMs = 0;
  for (const n of worst.loads) {
    expectedMs += stepEstimateMs(c, load, n, before);
    before = Math.max(before, n);
  }
  return {
    load,
    spec,
    holdMs: c.capacityHold,
    loads: spec.mode === "schedule" ? scheduleLoads(spec) : worst.loads.filter((n, i, all) => all.indexOf(n) === i),
    maxSteps: worst.steps,
    maxCreated,
    expectedMs,
  };
}

/** What a step does, for the plan and the phase text. */
export function stepText(p: CapacityPlan, n: number, c: Config): string {
  switch (p.load) {
    case "builds":
      return `create ${n} workspace(s) at once (${loadText("builds", n)})`;
    case "workspaces":
      return `add workspaces up to ${loadText("workspaces", n)} (concurrency ${c.createConcurrency || "unlimited"})`;
    case "dashboard":
      return `${loadText("dashboard", n)} for ${formatDuration(p.holdMs)}`;
    default:
      return `${loadText(p.load, n)} over workspaces 0:${n} for ${formatDuration(p.holdMs)}${c.runners > 1 ? ` on ${c.runners} runners` : ""}`;
  }
}

/** The --dry-run lines of the search. */
export function renderCapacityPlan(p: CapacityPlan, c: Config): string {
  const s = p.spec;
  const how =
    s.mode === "schedule"
      ? `schedule ${p.loads.join(", ")}; stops at the first failing step`
      : `bisect: ${p.loads.join(", ")} (doubling up to ${s.max}), then bisecting between the last good and the first bad step to within ${s.resolution}`;
  const lines = [
    `Capacity search: ${nounOf(p.load)}, ${how}`,
    `  Each step: ${stepText(p, p.loads[0]!, c)}; every threshold judged on that step's window alone`,
    `  At most ${p.maxSteps} step(s), ~${formatDuration(Math.round(p.expectedMs / 1000) * 1000)}; creates at most ${p.maxCreated} workspace(s) beyond the run's ${c.workspaces}`,
  ];
  return lines.join("\n") + "\n";
}
