#!/usr/bin/env -S npx tsx
// notifications: users (a share of them template admins) hold the inbox watch websocket; a template is
// created and deleted as the trigger; every admin must receive coderd's "template deleted" notification,
// over the websocket and, with --smtp-api-url, by email (scripts/smtp-sink.ts as the deployment's
// smarthost). Latency from the trigger to each receipt. Parity: `coder exp scaletest notifications`. Example:
//   ./scenarios/notifications.ts --user-count 50 --template-admin-percentage 20 --timeout 10m \
//     --smtp-api-url http://127.0.0.1:8025 --output json:notifications.json
import { notificationsRunner } from "../src/notifications/phase.ts";
import { runScenario } from "../src/scenario/main.ts";

await runScenario("notifications", {
  description:
    "Users hold the inbox watch websocket while a template is created and deleted; template admins must receive the 'template deleted' notification (websocket, and email with --smtp-api-url).",
  runner: () => notificationsRunner(),
});
