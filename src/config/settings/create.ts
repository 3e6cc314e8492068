// Creating the run's users and workspaces (the create-workspaces phase).
import { bool, duration, int, list, num, str } from "../setting.ts";

const CREATE = ["run", "create-workspaces"] as const;

function nameValue(item: string): string {
  const eq = item.indexOf("=");
  if (eq <= 0) throw new Error(`"${item}" is not name=value`);
  return item;
}

export const createSettings = {
  workspaces: int({
    group: "create",
    env: "SCALETEST_WORKSPACES",
    flag: "workspaces",
    scriptFlags: { "create-workspaces": "count" },
    scripts: CREATE,
    default: 100,
    min: 1,
    max: 5000,
    help: "Number of workspaces to create (one scaletest- user each unless --use-host-login).",
  }),
  template: str({
    group: "create",
    env: "SCALETEST_TEMPLATE",
    flag: "template",
    scripts: CREATE,
    default: "kubernetes-minimal",
    help: "Template (name) the workspaces are created from; its size decides how heavy each workspace is.",
  }),
  parameters: list({
    group: "create",
    env: "SCALETEST_PARAMETERS",
    flag: "parameter",
    scripts: CREATE,
    default: [],
    item: nameValue,
    help: "Rich parameter value name=value for the workspaces (repeatable; env: JSON array or comma list).",
  }),
  createConcurrency: int({
    group: "create",
    env: "SCALETEST_CREATE_CONCURRENCY",
    flag: "create-concurrency",
    scriptFlags: { "create-workspaces": "concurrency" },
    scripts: CREATE,
    default: 10,
    min: 0,
    max: 1000,
    help: "Workspaces created at once (0 = unlimited).",
  }),
  createTimeout: duration({
    group: "create",
    env: "SCALETEST_CREATE_TIMEOUT",
    flag: "create-timeout",
    scriptFlags: { "create-workspaces": "timeout" },
    scripts: CREATE,
    default: "30m",
    templateDefault: "5h", // Coder's runner: create-workspaces --timeout 5h
    min: "1s",
    max: "24h",
    help: "Limit for the whole create phase; work still running then is stopped and counted failed.",
  }),
  jobTimeout: duration({
    group: "create",
    env: "SCALETEST_JOB_TIMEOUT",
    flag: "job-timeout",
    scripts: CREATE,
    default: "5m",
    templateDefault: "5h", // Coder's runner: --job-timeout 5h (a build waits in the queue at scale)
    min: "1s",
    max: "24h",
    help: "Limit for one workspace: create, build and agent ready.",
  }),
  createRetry: int({
    group: "create",
    env: "SCALETEST_CREATE_RETRY",
    flag: "create-retry",
    scriptFlags: { "create-workspaces": "retry" },
    scripts: CREATE,
    default: 0,
    templateDefault: 5, // Coder's runner: --retry 5
    min: 0,
    max: 10,
    help: "Times a failed workspace build is retried (each attempt is recorded).",
  }),
  noWaitForAgents: bool({
    group: "create",
    env: "SCALETEST_NO_WAIT_FOR_AGENTS",
    flag: "no-wait-for-agents",
    scripts: CREATE,
    default: false,
    help: "Count a workspace done when its build succeeds, without waiting for its agent to be ready.",
  }),
  noCleanup: bool({
    group: "create",
    env: "SCALETEST_NO_CLEANUP",
    flag: "no-cleanup",
    scripts: ["create-workspaces"],
    default: false,
    help: "Leave the created users and workspaces in place when create-workspaces ends.",
  }),
  runCommand: str({
    group: "create",
    env: "SCALETEST_RUN_COMMAND",
    flag: "run-command",
    scripts: CREATE,
    default: "",
    help: "Command run over the web terminal in each ready workspace; its latency and output size are recorded.",
  }),
  runTimeout: duration({
    group: "create",
    env: "SCALETEST_RUN_TIMEOUT",
    flag: "run-timeout",
    scripts: CREATE,
    default: "5s",
    min: "100ms",
    max: "1h",
    help: "Limit for --run-command in one workspace.",
  }),
  runExpectOutput: str({
    group: "create",
    env: "SCALETEST_RUN_EXPECT_OUTPUT",
    flag: "run-expect-output",
    scripts: CREATE,
    default: "",
    help: "The --run-command output must contain this text (within --run-expect-output-timeout, if set), or the workspace fails.",
  }),
  runExpectTimeout: bool({
    group: "create",
    env: "SCALETEST_RUN_EXPECT_TIMEOUT",
    flag: "run-expect-timeout",
    scripts: CREATE,
    default: false,
    help:
      "The --run-command is expected to time out (as Coder's flag): the workspace passes only if --run-timeout ends " +
      "the command while it still runs, and fails if the command exits first.",
  }),
  runExpectOutputTimeout: duration({
    group: "create",
    env: "SCALETEST_RUN_EXPECT_OUTPUT_TIMEOUT",
    flag: "run-expect-output-timeout",
    scripts: CREATE,
    default: "0s",
    min: "0s",
    max: "1h",
    help: "Limit for --run-expect-output to appear, shorter than --run-timeout (ours; Coder has none). 0 = within --run-timeout.",
  }),
  runLogOutput: bool({
    group: "create",
    env: "SCALETEST_RUN_LOG_OUTPUT",
    flag: "run-log-output",
    scripts: CREATE,
    default: false,
    help: "Keep the --run-command output (up to 4 KiB) in each workspace's results.",
  }),
  successThreshold: num({
    group: "create",
    env: "SCALETEST_SUCCESS_THRESHOLD",
    flag: "success-threshold",
    scripts: ["create-workspaces"],
    default: 100,
    min: 0,
    max: 100,
    help: "create-workspaces exits non-zero when fewer than this percentage of workspaces succeed.",
  }),
  outputs: list({
    group: "create",
    env: "SCALETEST_OUTPUTS",
    flag: "output",
    scripts: ["create-workspaces", "cleanup", "ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic", "workspace-updates", "prebuilds", "task-status", "notifications", "autostart", "dynamic-parameters", "create-users"],
    default: ["text"],
    help: "Where a scenario writes results: text or json, optionally :PATH (repeatable; no path = stdout).",
  }),
} as const;
