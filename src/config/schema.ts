// The one schema: every setting of every script, by key. Add a setting to one of ./settings/*.ts.
import type { Setting } from "./setting.ts";
import { cleanupSettings } from "./settings/cleanup.ts";
import { coderdMetricsSettings } from "./settings/coderd-metrics.ts";
import { createSettings } from "./settings/create.ts";
import { dashboardSettings } from "./settings/dashboard.ts";
import { deploymentSettings } from "./settings/deployment.ts";
import { integrationSettings } from "./settings/integrations.ts";
import { pipelineSettings } from "./settings/pipeline.ts";
import { scaleOutSettings } from "./settings/scaleout.ts";
import { thresholdSettings } from "./settings/thresholds.ts";
import { perKindTrafficSettings, trafficSettings } from "./settings/traffic.ts";
import { workspaceUpdatesSettings } from "./settings/workspace-updates.ts";
import { prebuildsSettings } from "./settings/prebuilds.ts";
import { taskStatusSettings } from "./settings/task-status.ts";
import { notificationsSettings } from "./settings/notifications.ts";
import { capacitySettings } from "./settings/capacity.ts";
import { autostartSettings } from "./settings/autostart.ts";
import { dynamicParametersSettings } from "./settings/dynamic-parameters.ts";
import { userPoolSettings } from "./settings/users.ts";

export const SETTINGS = {
  ...deploymentSettings,
  ...createSettings,
  ...trafficSettings,
  ...perKindTrafficSettings,
  ...dashboardSettings,
  ...pipelineSettings,
  ...thresholdSettings,
  ...cleanupSettings,
  ...workspaceUpdatesSettings,
  ...prebuildsSettings,
  ...taskStatusSettings,
  ...notificationsSettings,
  ...autostartSettings,
  ...dynamicParametersSettings,
  ...userPoolSettings,
  ...integrationSettings,
  ...coderdMetricsSettings,
  ...scaleOutSettings,
  ...capacitySettings,
};

export type SettingKey = keyof typeof SETTINGS;
type ValueOf<S> = S extends Setting<infer T> ? T : never;
/** A fully resolved configuration: every setting has a value (unset strings are ""). */
export type Config = { [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

export function settingEntries(): [SettingKey, Setting<unknown>][] {
  return Object.entries(SETTINGS) as [SettingKey, Setting<unknown>][];
}
