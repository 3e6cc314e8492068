#!/usr/bin/env -S npx tsx
// app-traffic: websocket traffic to a workspace app through coderd's app proxy, like
// `coder exp scaletest workspace-traffic --app <mode>`: --mode wsec (echo), wsra (app streams, we read),
// wsdi (we write, app discards).
//   ./scenarios/app-traffic.ts --mode wsec --duration 5m --bytes-per-tick 1024 --target-workspaces 0:100
import { trafficScript } from "../src/traffic/script.ts";

await trafficScript("app", "Workspace-app websocket traffic (echo, read or write) through coderd's app proxy.");
