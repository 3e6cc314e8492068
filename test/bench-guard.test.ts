/**
 * Regression guard for the product's websocket transport cost (bench/lib/guard.ts): the traffic engine with
 * the workspace-app kind (the connection code the web-terminal kind shares) against the raw-`ws` floor sending
 * the same frames, in the same run, each side in a warm worker process, both at once in each round (the side
 * that dials first alternating), median of seven rounds of CPU per MiB echoed. Fails when that median ratio exceeds the ratio recorded in
 * bench/results/guard-baseline.json by more than 30 %. No absolute time is asserted.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatRound, GUARD_ROUNDS, GuardTooBusyError, readBaseline, runGuard } from "../bench/lib/guard.ts";

test("product app transport CPU per MiB stays within 30 % of its recorded ratio to the raw-ws floor", { timeout: 150_000 }, async (t) => {
  const baseline = readBaseline();
  const limit = baseline.productOverFloorCpu * baseline.allowedRegression;
  // runGuard throws on any phase with errors, and runs again a round whose window was too short or moved
  // under half the target bytes: a ratio means nothing unless both sides really ran the workload. When more
  // rounds than it has were too thin, the machine is too busy to judge: that is reported as a skip (with
  // why), not as a regression.
  let run;
  try {
    run = await runGuard({ rounds: GUARD_ROUNDS, together: baseline.together, workload: baseline.workload, window: baseline.window });
  } catch (e) {
    if (e instanceof GuardTooBusyError) {
      t.skip(e.message);
      return;
    }
    throw e;
  }
  const detail = run.rounds.map(formatRound).join("\n");
  t.diagnostic(`median ratio ${run.ratio} (limit ${limit.toFixed(3)}); load ${run.load.join(" -> ")}; ${run.wallS} s`);
  for (const line of [...run.rounds.map(formatRound), ...run.rerun.map((x) => `run again: ${x}`)]) t.diagnostic(line);
  assert.equal(run.rounds.length, GUARD_ROUNDS);
  for (const r of run.rounds) {
    assert.ok(r.product.ticksCompleted > 0 && r.floor.ticksCompleted > 0, `a side completed no ticks: ${formatRound(r, 0)}`);
  }
  assert.ok(
    run.ratio <= limit,
    `the product's app transport costs ${run.ratio.toFixed(3)}x the raw-ws floor per MiB echoed (median of ` +
      `${GUARD_ROUNDS} rounds), over the limit ${limit.toFixed(3)} (${baseline.allowedRegression} x recorded ` +
      `${baseline.productOverFloorCpu});\n${detail}\nProfile with \`npm run bench -- --tools ours --steps 2000 --profile\`; ` +
      "re-record the baseline (`node --import tsx bench/guard.ts --record`) only for an intended change.",
  );
});
