// Optional outside services: Grafana annotations and a Slack-compatible webhook.
import { str } from "../setting.ts";

export const integrationSettings = {
  grafanaUrl: str({
    group: "integrations",
    env: "GRAFANA_URL",
    flag: "grafana-url",
    scripts: ["run"],
    default: "",
    help: "Grafana base URL for phase annotations and the dashboard link (empty disables annotations).",
  }),
  grafanaToken: str({
    group: "integrations",
    env: "GRAFANA_API_TOKEN",
    flag: "grafana-token",
    scripts: ["run"],
    default: "",
    secret: true,
    help: "Grafana service-account token used for annotations.",
  }),
  webhookUrl: str({
    group: "integrations",
    env: "SLACK_WEBHOOK_URL",
    flag: "webhook-url",
    scripts: ["run"],
    default: "",
    secret: true,
    help: "Slack-compatible webhook told when the run starts, completes or fails (empty disables).",
  }),
} as const;
