// The pipeline's plan, derived from the configuration alone: which phases run, in what order, when each
// load scenario starts, what it targets and sends. --dry-run prints it; the runner executes it.
import { formatDuration, type Config, type ScenarioName } from "../config/index.ts";
import { percentageSlices, type PercentageSlice } from "../traffic/targets.ts";
import { kindSettings } from "../traffic/scenario.ts";
import { trafficWaves } from "../traffic/queue.ts";
import { planCapacity, renderCapacityPlan, type CapacityPlan } from "../capacity/plan.ts";

export interface ScenarioPlan {
  scenario: ScenarioName;
  /** Phase folder name, e.g. "ssh-traffic". */
  phase: string;
  durationMs: number;
  percentage: number;
  /** START:END over the run's workspaces (users, for dashboard), Coder's consecutive slices. */
  slice: PercentageSlice;
  /** Concurrent mode: delay after the first scenario's start. Sequential: 0. */
  startOffsetMs: number;
  bytesPerTick?: number;
  tickIntervalMs?: number;
  appMode?: string;
  dashboardMode?: string;
  users?: number;
}

export interface PlannedPhase {
  name: string;
  text: string;
  /** Rough expected duration (waits and traffic; creation and cleanup are estimates). */
  expectedMs: number;
}

export interface Plan {
  runId: string;
  workspaces: number;
  concurrent: boolean;
  scenarios: ScenarioPlan[];
  phases: PlannedPhase[];
  expectedMs: number;
  /** --capacity: the search that replaces the load scenarios. */
  capacity?: CapacityPlan;
}

export const SCENARIO_PHASE: Record<ScenarioName, string> = {
  ssh: "ssh-traffic",
  "web-terminal": "web-terminal-traffic",
  app: "app-traffic",
  dashboard: "dashboard-traffic",
};

export const SCENARIO_TITLE: Record<ScenarioName, string> = {
  ssh: "SSH Traffic",
  "web-terminal": "Web Terminal Traffic",
  app: "App Traffic",
  dashboard: "Dashboard Traffic",
};

function scenarioSettings(c: Config, s: ScenarioName) {
  if (s === "dashboard") return { durationMs: c.dashboardDuration, percentage: c.dashboardPercentage, dashboardMode: c.dashboardMode };
  return { ...kindSettings(c, s), ...(s === "app" ? { appMode: c.appMode } : {}) };
}

/** Rough time to create N workspaces: a guess for the plan only (real builds decide). */
function createEstimateMs(c: Config): number {
  const waves = c.createConcurrency === 0 ? 1 : Math.ceil(c.workspaces / c.createConcurrency);
  return waves * 60_000;
}

/** --job-concurrency: a traffic scenario's connections run in this many waves of their duration. */
function scenarioWaves(c: Config, s: ScenarioPlan): number {
  return s.scenario === "dashboard" ? 1 : trafficWaves(s.slice.end - s.slice.start, c.jobConcurrency);
}

function queueText(c: Config, s: ScenarioPlan): string {
  const waves = scenarioWaves(c, s);
  return waves > 1 ? `, at most ${c.jobConcurrency} connections at once (${waves} waves)` : "";
}

export function buildPlan(c: Config): Plan {
  // --capacity: the search replaces the load scenarios (and is refused here, before anything, when it cannot run).
  const capacity = c.capacity ? planCapacity(c) : undefined;
  const wanted = (capacity ? [] : c.scenarios).map((scenario) => ({ scenario, ...scenarioSettings(c, scenario) }));
  const slices = percentageSlices(
    c.workspaces,
    wanted.map((w) => w.percentage),
  );
  const scenarios: ScenarioPlan[] = wanted.map((w, i) => ({
    ...w,
    phase: SCENARIO_PHASE[w.scenario],
    slice: slices[i] as PercentageSlice,
    startOffsetMs: c.concurrent ? i * c.staggerDelay : 0,
    users: w.scenario === "dashboard" ? c.dashboardConcurrency : undefined,
  }));

  const phases: PlannedPhase[] = [
    { name: "prepare", text: "Check identity, template and parameters; mint the run's API token", expectedMs: 5_000 },
  ];
  if (c.cleanupPrepare) {
    phases.push({ name: "cleanup-prepare", text: `Delete what earlier runs in ${c.resultsDir} left behind (their own scaletest- resources only)`, expectedMs: 60_000 });
  }
  if (c.skipCreateWorkspaces) {
    phases.push({ name: "create-workspaces", text: `Skipped: load the workspaces run ${c.runId} already has (--skip-create-workspaces)`, expectedMs: 0 });
  } else {
    phases.push({
      name: "create-workspaces",
      text: `Create ${c.workspaces} workspace(s) from ${c.template} at concurrency ${c.createConcurrency || "unlimited"}`,
      expectedMs: createEstimateMs(c),
    });
  }
  if (c.baselineWait > 0 && !c.skipCreateWorkspaces) phases.push({ name: "baseline", text: `Wait ${formatDuration(c.baselineWait)} for a baseline`, expectedMs: c.baselineWait });
  if (c.greedyAgent) {
    phases.push({ name: "greedy-agent", text: `Create one greedy workspace from ${c.greedyAgentTemplate}`, expectedMs: 60_000 });
  }
  if (capacity) {
    phases.push({ name: "capacity", text: `Capacity search over ${capacity.load} (${capacity.spec.mode}, at most ${capacity.maxSteps} steps)`, expectedMs: capacity.expectedMs });
  } else if (c.concurrent) {
    const end = Math.max(0, ...scenarios.map((s) => s.startOffsetMs + s.durationMs * scenarioWaves(c, s)));
    phases.push({
      name: "load-scenarios",
      text: `Run ${scenarios.map((s) => s.scenario).join(", ")} together, ${formatDuration(c.staggerDelay)} apart`,
      expectedMs: end,
    });
  } else {
    for (const s of scenarios) {
      phases.push({ name: s.phase, text: `${SCENARIO_TITLE[s.scenario]} for ${formatDuration(s.durationMs)}${queueText(c, s)}`, expectedMs: s.durationMs * scenarioWaves(c, s) });
      if (c.baselineWait > 0) {
        phases.push({ name: "baseline", text: `Wait ${formatDuration(c.baselineWait)} for a baseline`, expectedMs: c.baselineWait });
      }
    }
  }
  if (c.wuPhase) {
    phases.push({
      name: "workspace-updates",
      text: `Workspace updates: ${c.wuWorkspaceCount} workspace(s) created while their owners hold WorkspaceUpdates streams`,
      expectedMs: createEstimateMs({ ...c, workspaces: c.wuWorkspaceCount }),
    });
  }
  if (c.pbPhase) {
    phases.push({
      name: "prebuilds",
      text: `Prebuilds: ${c.pbNumTemplates} template(s) x ${c.pbNumPresets} preset(s) x ${c.pbNumPresetPrebuilds} prebuilt workspace(s) filled, then drained`,
      expectedMs: 2 * createEstimateMs({ ...c, workspaces: c.pbNumTemplates * c.pbNumPresets * c.pbNumPresetPrebuilds }),
    });
  }
  if (c.tsPhase) {
    phases.push({
      name: "task-status",
      text: `Task status: ${c.tsCount} external-agent workspace(s) report every ${formatDuration(c.tsReportPeriod)} for ${formatDuration(c.tsReportDuration)} after a ${formatDuration(c.tsBaseline)} baseline`,
      expectedMs: createEstimateMs({ ...c, workspaces: c.tsCount }) + c.tsBaseline + c.tsReportDuration,
    });
  }
  if (c.ntPhase) {
    phases.push({
      name: "notifications",
      text: `Notifications: ${c.ntUserCount} user(s) on the inbox websocket, ${c.ntTemplateAdminPercentage}% template admins notified of a deleted template`,
      // Setup plus one notifier fetch or so; the timeout bounds it.
      expectedMs: Math.min(c.ntTimeout, 30_000 + c.ntUserCount * 50),
    });
  }
  if (c.asPhase) {
    phases.push({
      name: "autostart",
      text: `Autostart: ${c.asWorkspaceCount} workspace(s) stopped, then scheduled to start in the same minute (${formatDuration(c.asDelay)} ahead)`,
      // Set up (create, start, stop), the delay rounded to the minute, and the storm itself.
      expectedMs: 2 * createEstimateMs({ ...c, workspaces: c.asWorkspaceCount }) + c.asDelay + 30_000 + createEstimateMs({ ...c, workspaces: c.asWorkspaceCount }),
    });
  }
  if (c.dpPhase) {
    phases.push({
      name: "dynamic-parameters",
      text: `Dynamic parameters: ${c.dpConcurrentEvaluations} concurrent evaluation(s) of template ${c.dpTemplate}`,
      // Version imports plus one evaluation and one change per session; bounded by its own timeout.
      expectedMs: Math.min(c.dpTimeout, 60_000),
    });
  }
  phases.push({ name: "report", text: "Write summary.json, report.md and report.html", expectedMs: 2_000 });
  phases.push({
    name: "cleanup",
    text:
      c.cleanupStrategy === "on_stop"
        ? "Leave the resources until the runner workspace stops (its shutdown script cleans up)"
        : `Delete the run's workspaces and users (strategy ${c.cleanupStrategy})`,
    expectedMs: c.cleanupStrategy === "on_stop" ? 0 : createEstimateMs(c),
  });
  return {
    runId: c.runId,
    workspaces: c.workspaces,
    concurrent: c.concurrent,
    scenarios,
    phases,
    expectedMs: phases.reduce((a, p) => a + p.expectedMs, 0),
    ...(capacity ? { capacity } : {}),
  };
}

function describeScenario(s: ScenarioPlan, c: Config): string {
  const target =
    s.scenario === "dashboard"
      ? `${s.users} ${c.dashboardMode}-mode user(s) on users ${s.slice.spec}`
      : `workspaces ${s.slice.spec} (${s.percentage}%)${s.slice.wrapped ? " [wrapped to the start]" : ""}`;
  const traffic =
    s.bytesPerTick !== undefined && s.tickIntervalMs !== undefined
      ? `, ${s.bytesPerTick} B every ${formatDuration(s.tickIntervalMs)} per connection${s.appMode ? ` (app mode ${s.appMode})` : ""}`
      : "";
  const start = c.concurrent ? `starts at +${formatDuration(s.startOffsetMs)}, ` : "";
  return `  - ${SCENARIO_TITLE[s.scenario]}: ${start}runs ${formatDuration(s.durationMs)} on ${target}${traffic}${queueText(c, s)}`;
}

/** What --dry-run prints: every phase, what it would create or send, and the expected duration. */
export function renderPlan(plan: Plan, c: Config): string {
  const lines = [
    `Plan for run ${plan.runId} against ${c.url} (dry run: nothing is created)`,
    `Workspaces: ${plan.workspaces} from template ${c.template}${c.parameters.length ? ` with ${c.parameters.join(", ")}` : ""}, names scaletest-${plan.runId}-NNNN`,
    ...(plan.capacity
      ? [renderCapacityPlan(plan.capacity, c).trimEnd()]
      : [`Scenarios (${plan.concurrent ? "concurrent" : "sequential"}):`, ...plan.scenarios.map((s) => describeScenario(s, c))]),
    "Phases:",
    ...plan.phases.map((p, i) => `  ${i + 1}. ${p.name}: ${p.text} (~${formatDuration(Math.round(p.expectedMs / 1000) * 1000)})`),
    `Expected duration: ~${formatDuration(Math.round(plan.expectedMs / 1000) * 1000)}`,
    `Cleanup strategy: ${c.cleanupStrategy}`,
  ];
  return lines.join("\n") + "\n";
}
