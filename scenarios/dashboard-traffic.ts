#!/usr/bin/env -S npx tsx
// Dashboard traffic: virtual users browse the Coder dashboard through its API (--mode api) or a headless
// Chromium (--mode browser); per-page and per-endpoint latency, thresholds --p95/--p99/--max-error-rate.
//   ./scenarios/dashboard-traffic.ts --mode browser --concurrency 10 --duration 5m --target-users 0:10
import { dashboardPhaseRecord, renderDashboardText, runDashboardTraffic } from "../src/dashboard/index.ts";
import { runScenario } from "../src/scenario/main.ts";

await runScenario(
  "dashboard-traffic",
  { description: "Browse the Coder dashboard as scaletest users (API calls or a real headless browser) and time every page." },
  async (ctx) => {
    const c = ctx.config;
    const result = await runDashboardTraffic(
      ctx.client,
      {
        mode: c.dashboardMode,
        hostToken: c.token,
        runId: ctx.runId,
        concurrency: c.dashboardConcurrency,
        durationMs: c.dashboardDuration,
        thinkTimeMs: c.thinkTime,
        intervalMs: c.dashboardInterval,
        jitterMs: c.dashboardJitter,
        useHostLogin: c.useHostLogin,
        targetUsers: c.targetUsers,
        percentage: c.dashboardPercentage,
        shard: c.shard,
        chromiumPath: c.chromiumPath,
        thresholds: { p95Ms: c.thresholdDashboardP95, p99Ms: c.thresholdDashboardP99, maxErrorRatePct: c.thresholdDashboardErrorRate },
        screenshotDir: ctx.phaseDir,
        log: ctx.log,
      },
      { signal: ctx.signal },
    );
    const record = dashboardPhaseRecord(result, ctx.runId);
    return { json: record, text: renderDashboardText(result), exitCode: result.pass ? 0 : 1 };
  },
);
