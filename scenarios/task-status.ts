#!/usr/bin/env -S npx tsx
// task-status: --count workspaces of an external-agent template (coder_external_agent + a coder_app
// --app-slug) report AI-task status updates every --report-status-period for --report-status-duration
// after a --baseline-duration with every workspace watch open; the time until the watch shows each update
// is the latency, updates never shown are missing. Parity: `coder exp scaletest task-status`. Example:
//   ./scenarios/task-status.ts --count 10 --report-status-period 1s --report-status-duration 10s --baseline-duration 2s
import { runScenario } from "../src/scenario/main.ts";
import { taskStatusRunner } from "../src/task-status/phase.ts";

await runScenario("task-status", {
  description:
    "Report AI-task status updates from external agents and time until the workspace watch shows each one; count the missing.\n\n" +
    "Transport: each update is PATCH /api/v2/workspaceagents/me/app-status with the agent's token (the endpoint Coder documents; " +
    "Coder's older runner used it), watched over GET /api/v2/workspaces/{id}/watch (server-sent events). Coder's newest runner " +
    "sends the same update over the agent's dRPC connection (UpdateAppStatus on /api/v2/workspaceagents/me/rpc) with each period " +
    "randomised by +/-50%; both reach the same coderd handler and workspace publish, but this tool makes one HTTP request per update " +
    "and keeps the period fixed.",
  runner: () => taskStatusRunner(),
});
