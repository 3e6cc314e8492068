// Dashboard pages for browser-mode dashboard traffic, registered through the sim's route-extension API.
import type { PreHandler } from "../core.ts";
import { dashboardPages, type DashboardPagesControl, type WhoAmI } from "./pages.ts";

export { SIM_DASHBOARD_PAGES, type DashboardPagesControl, type WhoAmI } from "./pages.ts";

/** Installs the pages on a simulator (`sim.http`); startSim does this for every simulator. Returns their knobs. */
export function installDashboardPages(http: { use(pre: PreHandler): void }, whoAmI: WhoAmI): DashboardPagesControl {
  const { handler, control } = dashboardPages(whoAmI);
  http.use(handler);
  return control;
}
