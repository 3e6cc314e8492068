#!/usr/bin/env -S npx tsx
// Dashboard traffic: virtual users browse the Coder dashboard through its API (--mode api) or a headless
// Chromium (--mode browser); per-page and per-endpoint latency, thresholds --p95/--p99/--max-error-rate.
//   ./scenarios/dashboard-traffic.ts --mode browser --concurrency 10 --duration 5m --target-users 0:10
import { dashboardRunner } from "../src/dashboard/index.ts";
import { runScenario } from "../src/scenario/main.ts";

await runScenario("dashboard-traffic", {
  description: "Browse the Coder dashboard as scaletest users (API calls or a real headless browser) and time every page.",
  runner: () => dashboardRunner,
});
