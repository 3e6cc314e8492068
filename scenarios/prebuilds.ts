#!/usr/bin/env -S npx tsx
// prebuilds (Premium): pauses prebuild reconciliation, creates --num-templates templates whose
// --num-presets presets each ask for --num-preset-prebuilds prebuilt workspaces, unpauses and times the
// fill, then activates versions without presets and times the drain; the reconciliation setting is put back
// as it was (also by ./scenarios/cleanup.ts after a killed run). Parity: `coder exp scaletest prebuilds`.
// Example:
//   ./scenarios/prebuilds.ts --num-templates 3 --num-presets 2 --num-preset-prebuilds 3 --output json:pb.json
import { runScenario } from "../src/scenario/main.ts";
import { prebuildsRunner } from "../src/prebuilds/phase.ts";

await runScenario("prebuilds", {
  description:
    "Time the prebuilds reconciler filling presets of new templates with prebuilt workspaces, then draining them (Premium; restores the reconciliation setting).",
  runner: () => prebuildsRunner(),
});
