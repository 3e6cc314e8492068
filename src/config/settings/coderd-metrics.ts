// Where the runner reads coderd's own metrics (src/metrics/coderd): a Prometheus that scrapes coderd (its
// HTTP query API, per phase window), or coderd's metrics endpoints scraped directly (one per replica).
// Neither is required; a missing or unreachable source is a warning in the results, unless a coderd.*
// threshold needs it (then the run stops before anything is created).
import { duration, int, list, str, type Setting } from "../setting.ts";

const SCRIPTS = ["run", "create-workspaces", "cleanup", "ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic", "workspace-updates", "prebuilds", "task-status", "notifications", "autostart", "dynamic-parameters", "create-users"] as const;

function httpUrl(flag: string) {
  return (s: string): string => {
    const t = s.trim();
    if (t === "") return t;
    let u: URL;
    try {
      u = new URL(t);
    } catch {
      throw new Error(`--${flag} must be an http(s) URL, got "${t}"`);
    }
    // Credentials in a URL would land in run.json and logs (and fetch refuses them anyway).
    if (u.username || u.password) throw new Error(`--${flag} must not carry credentials (user:password@): reach it through a port-forward or an unauthenticated service address`);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`--${flag} must be an http(s) URL, got "${t}"`);
    return t;
  };
}

function urlList(): Setting<string[]> {
  const base = list({
    group: "integrations",
    env: "SCALETEST_CODERD_METRICS_URLS",
    flag: "coderd-metrics-url",
    scripts: SCRIPTS,
    default: [],
    help:
      "coderd's Prometheus endpoint (--prometheus-address, e.g. http://coder-0.coder:2112/), scraped directly during the run; " +
      "repeat once per replica. Env: comma-separated. Used instead of --prometheus-url when both are set.",
  });
  const check = httpUrl("coderd-metrics-url");
  return { ...base, parse: (raw) => base.parse(raw).map(check).filter((u) => u !== "") };
}

export const coderdMetricsSettings = {
  prometheusUrl: (() => {
    const s = str({
      group: "integrations",
      env: "SCALETEST_PROMETHEUS_URL",
      flag: "prometheus-url",
      scripts: SCRIPTS,
      default: "",
      help: "A Prometheus that scrapes coderd (e.g. http://prometheus.monitoring:9090): coderd's metrics for each phase's window are read over its query API (empty: not read).",
    });
    const check = httpUrl("prometheus-url");
    return { ...s, parse: (raw: string | string[]) => check(s.parse(raw)) };
  })(),
  prometheusSelector: str({
    group: "integrations",
    env: "SCALETEST_PROMETHEUS_SELECTOR",
    flag: "prometheus-selector",
    scripts: SCRIPTS,
    default: "",
    help: 'Label matchers that pick this deployment\'s coderd series in --prometheus-url, e.g. namespace="coder" (empty: every series named coderd_*).',
  }),
  coderdMetricsUrls: urlList(),
  coderdMetricsDiscover: str({
    group: "integrations",
    env: "SCALETEST_CODERD_METRICS_DISCOVER",
    flag: "coderd-metrics-discover",
    scripts: SCRIPTS,
    default: "",
    help: "Find coderd's replicas from the Kubernetes API (in a pod): a label selector of the coder pods, e.g. app.kubernetes.io/name=coder; each running pod is scraped like --coderd-metrics-url (empty: off; ignored when --coderd-metrics-url is given).",
  }),
  coderdNamespace: str({
    group: "integrations",
    env: "SCALETEST_CODERD_NAMESPACE",
    flag: "coderd-namespace",
    scripts: SCRIPTS,
    default: "coder",
    help: "Namespace of the coder pods for --coderd-metrics-discover.",
  }),
  coderdMetricsPort: int({
    group: "integrations",
    env: "SCALETEST_CODERD_METRICS_PORT",
    flag: "coderd-metrics-port",
    scripts: SCRIPTS,
    default: 2112,
    min: 1,
    max: 65535,
    help: "coderd's Prometheus port on each discovered pod (its --prometheus-address; the Helm chart's default 2112).",
  }),
  coderdMetricsInterval: duration({
    group: "integrations",
    env: "SCALETEST_CODERD_METRICS_INTERVAL",
    flag: "coderd-metrics-interval",
    scripts: SCRIPTS,
    default: "5s",
    min: "100ms",
    max: "5m",
    help: "How often --coderd-metrics-url endpoints are scraped during the run (gauges such as memory are the largest value seen).",
  }),
} as const;
