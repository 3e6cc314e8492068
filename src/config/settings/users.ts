// The user pool (Coder's `coder exp scaletest create-users` and `--reuse-users`): create-users makes a
// pool of scale-test users once (named after its run id); load types take users from it with --user-pool.
import { int, num, str } from "../setting.ts";

export const userPoolSettings = {
  userPool: str({
    group: "create",
    env: "SCALETEST_USER_POOL",
    flag: "user-pool",
    scripts: ["run", "create-workspaces", "ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic", "autostart"],
    default: "",
    help: "Run id of a user pool made by create-users: its users own this run's workspaces (a token minted per run, revoked after) instead of users created per workspace; empty = create users.",
  }),
  cuCount: int({
    group: "create",
    env: "SCALETEST_CREATE_USERS_COUNT",
    flag: "create-users-count",
    scriptFlags: { "create-users": "count" },
    scripts: ["create-users"],
    default: 10,
    min: 1,
    max: 5000,
    help: "Users the pool holds (named scaletest-<pool id>-NNNN).",
  }),
  cuTemplateAdminPercentage: num({
    group: "create",
    env: "SCALETEST_CREATE_USERS_TEMPLATE_ADMIN_PERCENTAGE",
    flag: "create-users-template-admin-percentage",
    scriptFlags: { "create-users": "template-admin-percentage" },
    scripts: ["create-users"],
    default: 20,
    min: 0,
    max: 100,
    help: "Percentage of the pool's users given the template-admin role (at least one when above 0), as Coder's create-users.",
  }),
  cuConcurrency: int({
    group: "create",
    env: "SCALETEST_CREATE_USERS_CONCURRENCY",
    flag: "create-users-concurrency",
    scriptFlags: { "create-users": "concurrency" },
    scripts: ["create-users"],
    default: 10,
    min: 0,
    max: 1000,
    help: "Users created at once (0 = unlimited).",
  }),
} as const;
