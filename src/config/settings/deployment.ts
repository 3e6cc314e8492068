// Where the deployment is and where results go: shared by every script.
import { parseTrustedOrigin } from "../../coder/destinations.ts";
import { SCRIPTS, bool, duration, list, str } from "../setting.ts";

const ALL = SCRIPTS;

export const deploymentSettings = {
  url: str({
    group: "deployment",
    env: "CODER_URL",
    flag: "url",
    scripts: ALL,
    required: true,
    help: "URL of the Coder deployment, e.g. https://coder.example.com (named as the coder CLI names it).",
  }),
  token: str({
    group: "deployment",
    env: "CODER_SESSION_TOKEN",
    flag: "token",
    scripts: ALL,
    required: true,
    secret: true,
    help: "Session token of an Owner (as for `coder exp scaletest`). Never printed, logged or written.",
  }),
  trustedOrigins: list({
    group: "deployment",
    env: "SCALETEST_TRUSTED_ORIGINS",
    flag: "trusted-origins",
    scripts: ALL,
    item: parseTrustedOrigin,
    help:
      "Extra origins (scheme://host[:port]) that may receive the run's session tokens, e.g. a wildcard app host on " +
      "another domain. Without it tokens go only to CODER_URL's origin and hosts under its registrable domain.",
  }),
  connectTimeout: duration({
    group: "deployment",
    env: "SCALETEST_CONNECT_TIMEOUT",
    flag: "connect-timeout",
    scripts: ALL,
    default: "5s",
    min: "100ms",
    max: "5m",
    help: "Longest wait for a TCP/TLS connection to the deployment (a connection that never opens is an error naming the URL).",
  }),
  requestTimeout: duration({
    group: "deployment",
    env: "SCALETEST_REQUEST_TIMEOUT",
    flag: "request-timeout",
    scripts: ALL,
    default: "14s",
    min: "100ms",
    max: "30m",
    help:
      "Longest wait for one complete API answer (connect included). An attempt with no answer is retried once at most, " +
      "so a deployment that accepts connections and never answers fails within 2 x this + 0.25 s (about 28 s by default).",
  }),
  runId: str({
    group: "deployment",
    env: "SCALETEST_RUN_ID",
    flag: "run-id",
    scripts: ALL,
    help: "Short tag [a-z0-9]{1,8} put in every created name (scaletest-<run-id>-NNNN); generated when empty.",
    default: "",
  }),
  resultsDir: str({
    group: "deployment",
    env: "SCALETEST_RESULTS_DIR",
    flag: "results-dir",
    scripts: ALL,
    default: "./results",
    help: "Directory that receives <run-id>/ with every phase's results, the summary and the report.",
  }),
  verbose: bool({
    group: "deployment",
    env: "SCALETEST_VERBOSE",
    flag: "verbose",
    scripts: ALL,
    default: false,
    help: "Log debug detail (every API retry, every connection event).",
  }),
  metricsAddress: str({
    group: "deployment",
    env: "SCALETEST_METRICS_ADDRESS",
    flag: "metrics-address",
    scripts: ["run", "create-workspaces", "ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic", "workspace-updates", "prebuilds", "task-status", "notifications", "autostart", "dynamic-parameters", "create-users"],
    default: "0.0.0.0:21112",
    help: "host:port of the Prometheus metrics endpoint (one endpoint serves every scenario of a run; empty disables).",
  }),
  reportAddress: str({
    group: "deployment",
    env: "SCALETEST_REPORT_ADDRESS",
    flag: "report-address",
    scripts: ["report"],
    default: "0.0.0.0:21113",
    help: "host:port where `report.ts --serve` serves the live report of the latest run (the template's report app opens it).",
  }),
  metricsWait: duration({
    group: "deployment",
    env: "SCALETEST_METRICS_WAIT",
    flag: "metrics-wait",
    scripts: ["run", "create-workspaces", "ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic", "workspace-updates", "prebuilds", "task-status", "notifications", "autostart", "dynamic-parameters", "create-users"],
    default: "0s",
    templateDefault: "60s", // Coder's runner: CODER_SCALETEST_PROMETHEUS_WAIT=60s (the PodMonitor scrapes every 15s)
    max: "10m",
    help: "Keep serving metrics this long after the work ends, so Prometheus scrapes the final values.",
  }),
  useHostLogin: bool({
    group: "deployment",
    env: "SCALETEST_USE_HOST_LOGIN",
    flag: "use-host-login",
    scripts: ["run", "create-workspaces", "dashboard-traffic"],
    default: false,
    help: "Create workspaces (and browse the dashboard) as the runner's own user instead of new scaletest- users.",
  }),
} as const;
