/**
 * Regression guard for the traffic engine's cost: our engine vs the raw-`ws` floor on the same loopback
 * workload in the same run (bench/lib/guard.ts), as a ratio of CPU per full-rate connection-minute. It fails
 * only on a gross regression: more than `allowedFactor` (2x) the ratio recorded in bench/results/baseline.json.
 * No absolute time is asserted. Up to two rounds: a first round over the limit is re-measured once, so a
 * single noisy round on a busy CI machine does not fail the build; a real 2x regression fails both.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EchoServer } from "../bench/lib/echo.ts";
import { guardRound, readBaseline, type GuardRound } from "../bench/lib/guard.ts";

test("traffic engine CPU per connection-minute stays within 2x of its recorded ratio to raw ws", { timeout: 60_000 }, async () => {
  const baseline = readBaseline();
  const limit = baseline.oursOverRawCpu * baseline.allowedFactor;
  const workDir = mkdtempSync(join(tmpdir(), "bench-guard-"));
  const echo = await EchoServer.start();
  const rounds: GuardRound[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const r = await guardRound(echo, workDir, i === 1);
      rounds.push(r);
      // Both sides must really have run the workload, or the ratio means nothing.
      for (const s of [r.ours, r.raw]) {
        assert.equal(s.errors, 0, `${s.tool}: ${s.errors} errors: ${s.errorSamples.join(" | ")}`);
        assert.ok(s.windowS >= 1, `${s.tool}: no steady traffic window (${s.failures.join("; ")})`);
        assert.ok(s.throughputRatio > 0.5, `${s.tool}: moved only ${(s.throughputRatio * 100).toFixed(0)} % of the target bytes`);
        assert.ok(s.cpuS > 0, `${s.tool}: no CPU measured`);
      }
      if (r.ratio <= limit) break;
    }
  } finally {
    await echo.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  const best = Math.min(...rounds.map((r) => r.ratio));
  const detail = rounds
    .map((r) => `ours ${r.ours.cpuMsPerConnMin} / raw-ws ${r.raw.cpuMsPerConnMin} ms per conn-min = ${r.ratio.toFixed(2)}`)
    .join("; ");
  assert.ok(
    best <= limit,
    `our engine costs ${best.toFixed(2)}x the raw-ws floor per connection-minute, over the limit ${limit.toFixed(2)} ` +
      `(${baseline.allowedFactor} x recorded ${baseline.oursOverRawCpu}); ${detail}. Profile with ` +
      "`npm run bench -- --tools ours --steps 2000 --profile`; re-record the baseline (bench/guard.ts --write) only for an intended change.",
  );
});
