// SIGTERM during a traffic phase: the phase stops, partial results are written, cleanup still runs
// (strategy always), and the exit status says the run was interrupted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { withSim, waitFor } from "./helpers/sim.ts";
import { ROOT, SMALL, readJSON, simEnv, tempResults } from "./helpers/pipeline.ts";

test("SIGTERM during traffic: partial results, cleanup ran, non-zero exit", { timeout: 120_000 }, async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const child = execa(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "scripts", "run.ts"), ...SMALL, "--run-id", "sigterm1", "--scenarios", "web-terminal,ssh", "--duration", "30s"], {
      cwd: ROOT,
      env: simEnv(sim, dir),
      reject: false,
      all: true,
    });
    const runDir = join(dir, "sigterm1");
    await waitFor(
      "the web-terminal phase to start",
      () => existsSync(join(runDir, "state", "phase")) && /Load scenario: Web Terminal/.test(readFileSync(join(runDir, "state", "phase"), "utf8")),
      60_000,
    );
    // Then for its traffic to reach the simulated agents (what the partial result must show), not a fixed pause.
    const inAtStart = sim.pty.bytes.in;
    await waitFor("web-terminal traffic to flow", () => sim.pty.bytes.in - inAtStart >= 4096, 60_000);
    child.kill("SIGTERM");
    const res = await child;
    assert.equal(res.exitCode, 128 + 15, res.all);
    const summary = readJSON<{ status: string; interrupted_by: string }>(join(runDir, "summary.json"));
    assert.equal(summary.status, "interrupted");
    assert.equal(summary.interrupted_by, "SIGTERM");
    const run = readJSON<{ phases: { name: string; status: string; dir: string | null }[] }>(join(runDir, "run.json"));
    const names = run.phases.map((p) => p.name);
    assert.ok(!names.includes("ssh-traffic"), "the scenario after the interrupted one did not start");
    const wt = run.phases.find((p) => p.name === "web-terminal-traffic")!;
    assert.equal(wt.status, "interrupted");
    const partial = readJSON<{ active_ms: number; extra: { totals: { bytesWritten: number }; traffic: { endReason: string; durationMs: number } } }>(
      join(runDir, wt.dir!, "result.json"),
    );
    assert.ok(partial.extra.totals.bytesWritten > 0, "partial traffic results were written");
    // Stopped by the signal, not by reaching its 30 s: the recorded run time says so (no wall-clock window).
    assert.equal(partial.extra.traffic.endReason, "aborted");
    assert.ok(partial.extra.traffic.durationMs < 30_000, `ran ${partial.extra.traffic.durationMs} ms of 30 s`);
    assert.equal(partial.active_ms, Math.round(partial.extra.traffic.durationMs), "rates are over the time actually run");
    assert.equal(run.phases.find((p) => p.name === "cleanup")?.status, "pass");
    assert.ok(readdirSync(runDir).includes("report.html"));
    assert.match(readFileSync(join(runDir, "state", "status"), "utf8"), /Interrupted \(SIGTERM\)\n$/);
    assert.match(res.all ?? "", /INTERRUPTED/);
    assert.deepEqual(sim.counts(), before, "cleanup removed the run's resources");
  });
});
