// Removing what a run created: only scaletest- resources, one run's or (with --all) every run's.
import { bool, duration, int, oneOf } from "../setting.ts";

const CLEAN = ["run", "cleanup", "create-workspaces", "notifications"] as const;

export const cleanupSettings = {
  cleanupStrategy: oneOf({
    group: "cleanup",
    env: "SCALETEST_CLEANUP_STRATEGY",
    flag: "cleanup-strategy",
    scripts: ["run"],
    options: ["always", "on_success", "on_error", "on_stop"] as const,
    default: "always",
    help: "When the pipeline deletes what it created: always, on_success, on_error, or on_stop (when the runner workspace stops).",
  }),
  cleanupPrepare: bool({
    group: "cleanup",
    env: "SCALETEST_CLEANUP_PREPARE",
    flag: "cleanup-prepare",
    scripts: ["run"],
    default: false,
    // Coder's runner: cleanup_prepare true (a crashed earlier run must not skew this one).
    templateDefault: true,
    help: "Before creating anything, delete what earlier runs recorded in --results-dir left behind (their scaletest- workspaces and users; other runners' resources are never touched).",
  }),
  cleanupConcurrency: int({
    group: "cleanup",
    env: "SCALETEST_CLEANUP_CONCURRENCY",
    flag: "cleanup-concurrency",
    scripts: CLEAN,
    default: 10,
    min: 0,
    max: 1000,
    help: "Deletions at once (0 = unlimited).",
  }),
  cleanupTimeout: duration({
    group: "cleanup",
    env: "SCALETEST_CLEANUP_TIMEOUT",
    flag: "cleanup-timeout",
    scripts: CLEAN,
    default: "30m",
    templateDefault: "5h", // Coder's runner: --cleanup-timeout 5h
    min: "1s",
    max: "24h",
    help: "Limit for the whole cleanup.",
  }),
  cleanupJobTimeout: duration({
    group: "cleanup",
    env: "SCALETEST_CLEANUP_JOB_TIMEOUT",
    flag: "cleanup-job-timeout",
    scripts: CLEAN,
    default: "5m",
    templateDefault: "2h", // Coder's runner: --cleanup-job-timeout 2h
    min: "1s",
    max: "24h",
    help: "Limit for deleting one workspace (its delete build) or user.",
  }),
  cleanupAll: bool({
    group: "cleanup",
    env: "SCALETEST_CLEANUP_ALL",
    flag: "all",
    scripts: ["cleanup"],
    default: false,
    help: "Delete every scaletest- workspace and user of every run, not just --run-id's.",
  }),
} as const;
