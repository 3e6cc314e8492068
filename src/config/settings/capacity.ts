// Capacity search (scripts/capacity.ts, or the pipeline with --capacity): step one load up along a schedule,
// judge every threshold on each step's window, and report the largest step that met them all (the knee).
import { parseStepList } from "../../capacity/schedule.ts";
import { bool, duration, int, oneOf, str, type Setting } from "../setting.ts";

export const CAPACITY_LOADS = ["builds", "workspaces", "web-terminal", "ssh", "app", "dashboard"] as const;
export type CapacityLoad = (typeof CAPACITY_LOADS)[number];
export const CAPACITY_MODES = ["schedule", "bisect"] as const;

function stepList(): Setting<string> {
  const base = str({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_STEPS",
    flag: "capacity-steps",
    scripts: ["run"],
    default: "",
    help: "Schedule mode: the loads to step through, in increasing order, e.g. 50,100,200,400; empty = --capacity-start, then + --capacity-step up to --capacity-max.",
  });
  // Checked when read, so a bad list stops the run before anything is created.
  return { ...base, parse: (raw) => parseStepList(base.parse(raw)).join(",") };
}

export const capacitySettings = {
  capacity: bool({
    group: "pipeline",
    env: "SCALETEST_CAPACITY",
    flag: "capacity",
    scripts: ["run"],
    default: false,
    help: "Search the deployment's capacity instead of running the load scenarios: step --capacity-load up and report the largest step that met every threshold (scripts/capacity.ts sets it).",
  }),
  capacityLoad: oneOf({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_LOAD",
    flag: "capacity-load",
    scripts: ["run"],
    options: CAPACITY_LOADS,
    default: "web-terminal",
    help: "The load a capacity search steps up: builds (concurrent workspace builds; each step creates that many at once), workspaces (total; each step adds workspaces), web-terminal, ssh or app (connections over the run's workspaces, one each), dashboard (users).",
  }),
  capacityMode: oneOf({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_MODE",
    flag: "capacity-mode",
    scripts: ["run"],
    options: CAPACITY_MODES,
    default: "schedule",
    help: "schedule: step through the schedule and stop at the first failing step; bisect: double from --capacity-start, then bisect between the last good and the first bad step down to --capacity-resolution.",
  }),
  capacitySteps: stepList(),
  capacityStart: int({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_START",
    flag: "capacity-start",
    scripts: ["run"],
    default: 10,
    min: 1,
    max: 100_000,
    help: "The first step's load (schedule mode without --capacity-steps, and bisect mode).",
  }),
  capacityStep: int({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_STEP",
    flag: "capacity-step",
    scripts: ["run"],
    default: 10,
    min: 1,
    max: 100_000,
    help: "Schedule mode without --capacity-steps: how much each step adds to the previous one.",
  }),
  capacityMax: int({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_MAX",
    flag: "capacity-max",
    scripts: ["run"],
    default: 100,
    min: 1,
    max: 100_000,
    help: "The largest load any step tries; the search stops there. Connection steps need a workspace each: at most --workspaces.",
  }),
  capacityResolution: int({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_RESOLUTION",
    flag: "capacity-resolution",
    scripts: ["run"],
    default: 10,
    min: 1,
    max: 100_000,
    help: "Bisect mode: stop when the last good and the first bad step are at most this far apart.",
  }),
  capacityHold: duration({
    group: "pipeline",
    env: "SCALETEST_CAPACITY_HOLD",
    flag: "capacity-hold",
    scripts: ["run"],
    default: "2m",
    min: "1s",
    max: "24h",
    help: "How long each connection or dashboard step holds its load; its thresholds are judged on that window alone (build and workspace steps last as long as their builds).",
  }),
} as const;
