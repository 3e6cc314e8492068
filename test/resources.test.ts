// Resource bounds across phases: the pipeline's open file descriptors (sockets, pipes to coder ssh
// --stdio children, log files) return to their level once each phase ends, so a long run with many
// phases never leaks them. (Memory over a 2-minute soak: `npm run soak`, bench/soak.ts.)
import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { fdCount, runPhases, simEnv, startScript, tempResults, tinyRunArgs, withReliabilitySim } from "./helpers/reliability.ts";

it("no file descriptors leak across phases", async () => {
  await withReliabilitySim({}, async (sim) => {
    const tmp = tempResults("resources");
    try {
      const runDir = join(tmp.dir, "fds");
      const run = startScript("scripts/run.ts", tinyRunArgs("fds", tmp.dir, ["--duration", "2s", "--cleanup-strategy", "on_error", "--baseline-wait", "400ms"]), simEnv(sim));
      const pid = run.child.pid as number;
      let running = true;
      void run.done.then(() => (running = false));
      /** Lowest fd count seen while each phase ran (idle moments between its own work). */
      const byPhase = new Map<string, { min: number; max: number }>();
      while (running) {
        const current = runPhases(runDir).filter((p) => p.status === "running").at(-1)?.name;
        let n: number | undefined;
        try {
          n = fdCount(pid);
        } catch {
          n = undefined; // the process just exited
        }
        if (current && n !== undefined) {
          const s = byPhase.get(current) ?? { min: n, max: n };
          byPhase.set(current, { min: Math.min(s.min, n), max: Math.max(s.max, n) });
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      const r = await run.done;
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      const seen = Object.fromEntries(byPhase);
      // Sequential scenarios with a baseline wait after each: the waits are idle moments to compare.
      const waits = ["baseline", "baseline-2", "baseline-3", "baseline-4", "baseline-5"];
      for (const p of ["create-workspaces", "ssh-traffic", "web-terminal-traffic", "app-traffic", "dashboard-traffic", ...waits]) {
        assert.ok(byPhase.has(p), `sampled ${p}: ${JSON.stringify(seen)}`);
      }
      const first = byPhase.get("baseline")!;
      for (const w of waits.slice(1)) {
        const after = byPhase.get(w)!;
        // min: connections close asynchronously (CLI children exit) early in the wait.
        assert.ok(after.min <= first.max + 2, `fds idle after a load phase (${w}: ${after.min}) back at the first baseline's (${first.max}): ${JSON.stringify(seen)}`);
      }
      const last = byPhase.get("baseline-5")!;
      assert.ok(last.max <= first.max + 2, `after all four load phases: ${last.max} fds vs ${first.max} before them`);
      // SSH traffic's 4 coder CLI children (3 pipes each) are gone after their phase.
      assert.ok(byPhase.get("dashboard-traffic")!.min < byPhase.get("ssh-traffic")!.max, JSON.stringify(seen));
    } finally {
      tmp.remove();
    }
  });
});
