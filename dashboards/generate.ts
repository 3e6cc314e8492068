// `npm run dashboards`: writes dashboards/scaletest-runner.json from dashboards/scaletest-runner.ts.
// `--check` exits 1 when the committed file is stale (test/grafana.test.ts does the same).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderDashboardJson } from "./scaletest-runner.ts";

export const DASHBOARD_JSON = join(dirname(fileURLToPath(import.meta.url)), "scaletest-runner.json");

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = renderDashboardJson();
  let current = "";
  try {
    current = readFileSync(DASHBOARD_JSON, "utf8");
  } catch {
    // first run
  }
  if (process.argv.includes("--check")) {
    if (current !== json) {
      process.stderr.write("dashboards/scaletest-runner.json is stale: run npm run dashboards\n");
      process.exit(1);
    }
  } else {
    writeFileSync(DASHBOARD_JSON, json);
    process.stdout.write(current === json ? "Up to date.\n" : `Wrote ${DASHBOARD_JSON}\n`);
  }
}
