// The body shared by the three traffic scenario scripts: the kind's runner through runScenario. Without
// --run-id the scripts target every scaletest- workspace, as Coder's workspace-traffic does.
import { runScenario } from "../scenario/main.ts";
import { ALL_PREFIX } from "../util/naming.ts";
import { TRAFFIC_SCRIPT, trafficRunner } from "./scenario.ts";
import type { TrafficKind } from "./transport.ts";

export async function trafficScript(kind: TrafficKind, description: string): Promise<never> {
  const script = TRAFFIC_SCRIPT[kind];
  return runScenario(script, {
    description,
    runner: () => trafficRunner(kind),
    targets: (loaded) => {
      if (loaded.sources.runId !== "default") return {};
      process.stderr.write(`${script}: no --run-id given: targeting every scaletest-* workspace (all runs)\n`);
      return { prefix: ALL_PREFIX };
    },
  });
}
