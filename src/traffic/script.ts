// The body shared by the three traffic scenario scripts: run the kind through runScenario (settings, client,
// results folder, metrics endpoint, outputs, exit code) and turn the engine result into the phase record,
// the text summary and the exit status.
import { runScenario } from "../scenario/main.ts";
import { receivedStopSignal } from "../util/signals.ts";
import { BAD_INPUT_EXIT_CODE, isBadInput } from "../util/errors.ts";
import { renderTrafficText, runTrafficScenario, trafficExitCode, trafficPhaseRecord, TRAFFIC_SCRIPT, workspacePrefix } from "./scenario.ts";
import type { TrafficKind } from "./transport.ts";

export async function trafficScript(kind: TrafficKind, description: string): Promise<never> {
  const script = TRAFFIC_SCRIPT[kind];
  return runScenario(script, { description }, async (ctx) => {
    // No --run-id: every scaletest- workspace, as Coder's workspace-traffic does.
    const allRuns = ctx.loaded.sources.runId === "default";
    if (allRuns) ctx.log.info(`${script}: no --run-id given: targeting every scaletest-* workspace (all runs)`);
    let result;
    try {
      result = await runTrafficScenario(ctx.client, ctx.config, kind, {
        signal: ctx.signal,
        prefix: workspacePrefix(ctx.config, allRuns),
        log: ctx.log,
      });
    } catch (e) {
      // Bad input (the selection, nothing to target): nothing was started.
      if (isBadInput(e)) {
        process.stderr.write(`${script}: ${e.message}\n`);
        process.exit(BAD_INPUT_EXIT_CODE);
      }
      throw e;
    }
    const record = trafficPhaseRecord(result, ctx.runId, script, ctx.config.thresholdTrafficErrorRate, receivedStopSignal());
    return { json: record, text: renderTrafficText(result, record.thresholds), exitCode: trafficExitCode(result, record.thresholds) };
  });
}
