// Pass/fail thresholds. `--threshold EXPR` takes any expression over a named metric (src/thresholds); the
// `--threshold-*` settings are presets that become such expressions (src/thresholds/presets.ts), with the
// seeds' defaults (create success >= 99%, provisioning p95 < 2 min, dashboard p95 < 500 ms and p99 < 1 s,
// traffic error rate 0). An explicit --threshold on the same metric, selector and stat replaces its preset.
import { splitThresholdList } from "../../thresholds/parse.ts";
import { validateThresholds } from "../../thresholds/catalog.ts";
import { duration, list, num, type Setting } from "../setting.ts";

/** Expressions from repeated flags, a JSON array (the template) or newline/comma lists; checked against the catalog. */
function thresholdList(): Setting<string[]> {
  const base = list({
    group: "thresholds",
    env: "SCALETEST_THRESHOLDS",
    flag: "threshold",
    scripts: ["run", "create-workspaces", "cleanup", "ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic", "notifications", "autostart", "report"],
    default: [],
    help:
      "A pass/fail threshold over a named metric, k6-style: metric[{label:value} or {*}][.stat] op limit[;abort[=delay]], " +
      "e.g. 'create.provision.p95<2m', 'dashboard.page{page:workspaces}.p95<500ms', 'ssh.connection_error_rate<=1%'. " +
      "Repeatable; env: a JSON array, or expressions separated by newlines or commas outside {}. " +
      "Replaces a --threshold-* preset on the same metric, selector and stat. Metric names: see the README's Thresholds section.",
  });
  return {
    ...base,
    parse: (raw) => validateThresholds(splitThresholdList(raw)).map((s) => s.expression),
    show: (v) => v.join(", "),
  };
}

export const thresholdSettings = {
  thresholdCreateSuccess: num({
    group: "thresholds",
    env: "SCALETEST_THRESHOLD_CREATE_SUCCESS",
    flag: "threshold-create-success",
    scripts: ["run", "report"],
    default: 99,
    min: 0,
    max: 100,
    help: "Pass only if at least this percentage of workspaces were created and became ready.",
  }),
  thresholdProvisionP95: duration({
    group: "thresholds",
    env: "SCALETEST_THRESHOLD_PROVISION_P95",
    flag: "threshold-provision-p95",
    scripts: ["run", "report"],
    default: "2m",
    min: "1ms",
    max: "24h",
    help: "Pass only if p95 of workspace provisioning (create call to agent ready) is below this.",
  }),
  thresholdDashboardP95: duration({
    group: "thresholds",
    env: "SCALETEST_THRESHOLD_DASHBOARD_P95",
    flag: "threshold-dashboard-p95",
    scriptFlags: { "dashboard-traffic": "p95" },
    scripts: ["run", "dashboard-traffic", "report"],
    default: "500ms",
    min: "1ms",
    max: "1h",
    help: "Pass only if every dashboard page's p95 load time is below this.",
  }),
  thresholdDashboardP99: duration({
    group: "thresholds",
    env: "SCALETEST_THRESHOLD_DASHBOARD_P99",
    flag: "threshold-dashboard-p99",
    scriptFlags: { "dashboard-traffic": "p99" },
    scripts: ["run", "dashboard-traffic", "report"],
    default: "1s",
    min: "1ms",
    max: "1h",
    help: "Pass only if every dashboard page's p99 load time is below this.",
  }),
  thresholdDashboardErrorRate: num({
    group: "thresholds",
    env: "SCALETEST_THRESHOLD_DASHBOARD_ERROR_RATE",
    flag: "threshold-dashboard-error-rate",
    scriptFlags: { "dashboard-traffic": "max-error-rate" },
    scripts: ["run", "dashboard-traffic", "report"],
    default: 0,
    min: 0,
    max: 100,
    help: "Pass only if at most this percentage of dashboard page views failed.",
  }),
  thresholdTrafficErrorRate: num({
    group: "thresholds",
    env: "SCALETEST_THRESHOLD_TRAFFIC_ERROR_RATE",
    flag: "threshold-traffic-error-rate",
    scriptFlags: { "ssh-traffic": "max-error-rate", "web-terminal-traffic": "max-error-rate", "app-traffic": "max-error-rate" },
    scripts: ["run", "ssh-traffic", "web-terminal-traffic", "app-traffic", "report"],
    default: 0,
    min: 0,
    max: 100,
    help: "Pass only if at most this percentage of traffic connections ended in error.",
  }),
  thresholdTickP99: duration({
    group: "thresholds",
    env: "SCALETEST_THRESHOLD_TICK_P99",
    flag: "threshold-tick-p99",
    scriptFlags: { "ssh-traffic": "tick-p99", "web-terminal-traffic": "tick-p99", "app-traffic": "tick-p99" },
    scripts: ["run", "ssh-traffic", "web-terminal-traffic", "app-traffic", "report"],
    default: "0",
    max: "1h",
    help: "Pass only if every traffic kind's tick latency p99 is below this (0 = no tick-latency threshold).",
  }),
  thresholds: thresholdList(),
} as const;
