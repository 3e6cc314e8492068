#!/usr/bin/env -S npx tsx
// ssh-traffic: SSH sessions to the run's workspace agents over `coder ssh --stdio` (the coder CLI must be
// logged in to the same deployment, or CODER_URL/CODER_SESSION_TOKEN set), echoing dd traffic like
// `coder exp scaletest workspace-traffic --ssh`.
//   ./scenarios/ssh-traffic.ts --duration 5m --bytes-per-tick 4096 --target-workspaces 0:100
import { trafficScript } from "../src/traffic/script.ts";

await trafficScript("ssh", "SSH traffic to the run's workspace agents through `coder ssh --stdio`.");
