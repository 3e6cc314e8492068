#!/usr/bin/env -S npx tsx
// web-terminal-traffic: reconnecting-PTY websocket traffic to the run's workspaces through coderd, opened
// exactly as `coder exp scaletest workspace-traffic` does (dd command, {"data": ...} frames, Ctrl+C on close).
//   ./scenarios/web-terminal-traffic.ts --duration 5m --bytes-per-tick 1024 --tick-interval 100ms \
//     --target-workspaces 0:100 --reconnect --max-error-rate 1
import { trafficScript } from "../src/traffic/script.ts";

await trafficScript("web-terminal", "Web-terminal (reconnecting PTY) traffic to the run's workspaces through coderd.");
