#!/usr/bin/env -S npx tsx
// dynamic-parameters: prepare one distinct template version per halving partition of
// --concurrent-evaluations (100 -> 50, 25, 13, 6, 3, 2, 1), then open that many dynamic-parameters
// websockets at once; each takes the initial evaluation, changes `zero` to B and takes the response.
// Measures initial and change latency; any diagnostic or a missing `zero` fails the session.
// Parity: `coder exp scaletest dynamic-parameters`. Example:
//   ./scenarios/dynamic-parameters.ts --concurrent-evaluations 100 --template scaletest-dynamic-parameters --job-timeout 5m
import { runScenario } from "../src/scenario/main.ts";
import { dynamicParametersRunner } from "../src/dynamic-parameters/phase.ts";

await runScenario("dynamic-parameters", {
  description: "Evaluate a template's dynamic parameters over many concurrent websocket sessions; time the initial evaluation and one change.",
  runner: () => dynamicParametersRunner(),
});
