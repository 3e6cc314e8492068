// Dashboard pages for browser-mode dashboard traffic, registered through the sim's route-extension API.
import type { PreHandler } from "../core.ts";
import { dashboardPages } from "./pages.ts";

export { SIM_DASHBOARD_PAGES } from "./pages.ts";

/** Installs the pages on a simulator (`sim.http`); startSim does this for every simulator. */
export function installDashboardPages(http: { use(pre: PreHandler): void }): void {
  http.use(dashboardPages);
}
