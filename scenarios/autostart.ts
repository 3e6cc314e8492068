#!/usr/bin/env -S npx tsx
// autostart: the 9 a.m. storm. Users and one workspace each are created, started and stopped; once all are
// stopped every workspace is scheduled to autostart in the same minute (--autostart-delay ahead, at least
// 2m), and each autostart build is timed from that minute (job created, job acquired, done) and from when
// its schedule was set. Parity: `coder exp scaletest autostart`. Example:
//   ./scenarios/autostart.ts --workspace-count 100 --template kubernetes-minimal --autostart-delay 2m \
//     --autostart-timeout 5m --workspace-job-timeout 5m --output json:autostart.json
import { runScenario } from "../src/scenario/main.ts";
import { autostartRunner } from "../src/autostart/phase.ts";

await runScenario("autostart", {
  description: "Schedule every workspace to autostart in the same minute; time each autostart build from that minute.",
  runner: () => autostartRunner(),
});
