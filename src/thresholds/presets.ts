// The `--threshold-*` settings (and template parameters) as expressions in the threshold syntax, and the
// thresholds a run judges: the presets, then `--threshold` expressions (which replace a preset with the
// same metric, selector and stat).
import { formatDuration } from "../config/duration.ts";
import type { Config } from "../config/schema.ts";
import { mergeThresholds } from "./evaluate.ts";
import type { ThresholdSpec } from "./parse.ts";

export type PresetSettings = Pick<
  Config,
  | "thresholdCreateSuccess"
  | "thresholdProvisionP95"
  | "thresholdDashboardP95"
  | "thresholdDashboardP99"
  | "thresholdDashboardErrorRate"
  | "thresholdTrafficErrorRate"
  | "thresholdTickP99"
>;

const TRAFFIC_KINDS = ["ssh", "web-terminal", "app"] as const;

/** A percentage setting (0..100) as a limit: 99 -> "99%", 0.5 -> "0.5%". */
function pct(n: number): string {
  return `${Number(n.toFixed(6))}%`;
}

/** The presets as expressions, in a fixed order. A tick-latency limit of 0 means none. */
export function presetThresholds(c: PresetSettings): string[] {
  const out = [
    `create.success_rate>=${pct(c.thresholdCreateSuccess)}`,
    `create.provision.p95<${formatDuration(c.thresholdProvisionP95)}`,
    // Every page on its own, as the settings always meant ("every dashboard page's p95").
    `dashboard.page.p95<${formatDuration(c.thresholdDashboardP95)}`,
    `dashboard.page.p99<${formatDuration(c.thresholdDashboardP99)}`,
    // The share of all page views that failed, so an aggregate over pages.
    `dashboard.error_rate{*}<=${pct(c.thresholdDashboardErrorRate)}`,
    ...TRAFFIC_KINDS.map((k) => `${k}.connection_error_rate<=${pct(c.thresholdTrafficErrorRate)}`),
  ];
  if (c.thresholdTickP99 > 0) out.push(...TRAFFIC_KINDS.map((k) => `${k}.tick.p99<${formatDuration(c.thresholdTickP99)}`));
  return out;
}

/** Every threshold a run judges: presets, replaced or extended by --threshold expressions. */
export function configuredThresholds(c: PresetSettings & Pick<Config, "thresholds">): ThresholdSpec[] {
  return mergeThresholds(presetThresholds(c), c.thresholds);
}
