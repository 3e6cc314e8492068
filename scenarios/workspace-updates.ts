#!/usr/bin/env -S npx tsx
// workspace-updates: users hold Coder Desktop's WorkspaceUpdates stream (the tailnet RPC: websocket, yamux,
// drpc) while their workspaces are created; the time from each build start to the update naming it is the
// latency. Power users own --power-user-workspaces each, regular users one. Parity: `coder exp scaletest
// workspace-updates`. Example:
//   ./scenarios/workspace-updates.ts --workspace-count 100 --power-user-workspaces 5 --power-user-percentage 50 \
//     --template kubernetes-minimal --workspace-updates-timeout 5m --dial-timeout 2m --output harness:wu.json
import { runScenario } from "../src/scenario/main.ts";
import { workspaceUpdatesRunner } from "../src/workspace-updates/phase.ts";

await runScenario("workspace-updates", {
  description: "Hold one WorkspaceUpdates stream per user while their workspaces are created; time each workspace's first sighting.",
  runner: () => workspaceUpdatesRunner(),
});
