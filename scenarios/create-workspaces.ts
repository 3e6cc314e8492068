#!/usr/bin/env -S npx tsx
// create-workspaces: create --count users and workspaces (scaletest-<run-id>-NNNN) from --template,
// wait for their builds and agents, record per-stage timings, then clean up unless --no-cleanup.
// Parity: `coder exp scaletest create-workspaces`. Example:
//   ./scenarios/create-workspaces.ts --count 100 --template kubernetes-minimal --concurrency 10 \
//     --retry 2 --no-cleanup --output harness:create.json
import { createRunner } from "../src/create/phase.ts";
import { runScenario } from "../src/scenario/main.ts";

await runScenario("create-workspaces", {
  description: "Create scale-test users and workspaces, time every stage, and clean up unless --no-cleanup.",
  runner: () => createRunner(),
});
