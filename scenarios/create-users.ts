#!/usr/bin/env -S npx tsx
// create-users: make a pool of N scale-test users once (scaletest-<run-id>-NNNN, the scale test's email;
// --template-admin-percentage of them template admins). Load types then borrow them with
// --user-pool <run-id> (a token minted per run and revoked after) instead of creating users; a run's
// cleanup never deletes pool users. Remove the pool explicitly: ./scenarios/cleanup.ts --run-id <run-id>.
// Parity: `coder exp scaletest create-users` (which deletes its users at the end; here they are the pool).
// Example: ./scenarios/create-users.ts --run-id pool1 --count 200 --template-admin-percentage 0
import { runScenario } from "../src/scenario/main.ts";
import { createUsersRunner } from "../src/users/phase.ts";

await runScenario("create-users", {
  description: "Create a pool of scale-test users once; other runs borrow them with --user-pool.",
  metrics: false,
  runner: () => createUsersRunner(),
});
