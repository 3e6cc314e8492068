// Fault matrix, provisioner and connection side: failed builds, builds stuck in pending, agents that
// never connect (create phase), and PTY/SSH/app connections cut mid-stream (traffic phases). Each cell
// keeps the contract in helpers/reliability-matrix.ts; here we also check each fault is counted once in
// the phase that met it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Sim } from "../sim/index.ts";
import { phaseEnded, runCell, type CellContext } from "./helpers/reliability-matrix.ts";

// A light load phase for cells about create-phase faults: web-terminal dials are quick even on a busy machine
// (an SSH dial spawns the coder CLI and does a key exchange, which can outlast a 1 s scenario under load).
const LIGHT_LOAD = ["--scenarios", "web-terminal", "--duration", "1s"];

/** Build faults only while workspaces are created: cleanup's delete builds must work. */
function duringCreate(build: Parameters<Sim["faults"]["set"]>[0]["build"]) {
  return async (sim: Sim, runDir: string): Promise<void> => {
    sim.faults.set({ build: build ?? {} });
    await phaseEnded(runDir, "create-workspaces");
    sim.faults.set({ build: { failRate: 0, stuckPendingRate: 0, agentNeverConnectRate: 0, failCount: 0, stuckPendingCount: 0, agentNeverConnectCount: 0 } });
  };
}

function failedRuns(ctx: CellContext): string[] {
  const runs = ctx.phase("create-workspaces").harness.runs as Record<string, { status?: string; error?: string | null }>;
  return Object.values(runs).filter((r) => r.error).map((r) => r.error as string);
}

describe("fault matrix: build, agent and connection faults", { concurrency: 2 }, () => {
  it("create: failed builds fail exactly their workspaces; verdict fail; cleanup removes them", async () => {
    await runCell({
      runId: "fbuild",
      args: LIGHT_LOAD,
      during: duringCreate({ failCount: 2 }),
      verdict: "fail",
      check: (ctx) => {
        const n = ctx.sim.faults.injected.buildFailed;
        assert.equal(n, 2, "exactly the two counted builds fail");
        const create = ctx.phase("create-workspaces");
        assert.equal(create.totals.fail, n, "one failed run per failed build");
        assert.equal(failedRuns(ctx).filter((e) => /fail/i.test(e)).length, n);
        assert.equal(create.extra.api.retries, 0, "a failed build is not an API retry");
      },
    });
  });

  it("create: builds stuck in pending time out per --job-timeout; each is one failure; cleanup cancels and removes them", async () => {
    await runCell({
      runId: "fstuck",
      args: [...LIGHT_LOAD, "--job-timeout", "1500ms"],
      during: duringCreate({ stuckPendingCount: 2 }),
      verdict: "fail",
      check: (ctx) => {
        const n = ctx.sim.faults.injected.stuckPending;
        assert.equal(n, 2, "exactly the two counted builds stick");
        const create = ctx.phase("create-workspaces");
        assert.equal(create.totals.fail, n);
        assert.ok(create.duration_ms < 10_000, "the job timeout bounds the phase");
        assert.equal(failedRuns(ctx).filter((e) => /timeout|timed out|exceeded/i.test(e)).length, n, failedRuns(ctx).join("\n"));
      },
    });
  });

  it("create: agents that never connect time out per --job-timeout; each is one failure", async () => {
    await runCell({
      runId: "fagent",
      args: [...LIGHT_LOAD, "--job-timeout", "1500ms"],
      during: duringCreate({ agentNeverConnectCount: 2 }),
      verdict: "fail",
      check: (ctx) => {
        const n = ctx.sim.faults.injected.agentNeverConnects;
        assert.equal(n, 2, "exactly the two counted agents never connect");
        assert.equal(ctx.phase("create-workspaces").totals.fail, n);
        assert.equal(failedRuns(ctx).filter((e) => /agent/i.test(e)).length, n, failedRuns(ctx).join("\n"));
      },
    });
  });

  it("traffic: PTY, SSH and app connections cut mid-stream: every cut is one recorded drop in its scenario", async (t) => {
    await runCell({
      runId: "fdrops",
      args: ["--scenarios", "ssh,web-terminal,app", "--duration", "2s"],
      setup: (sim) => sim.faults.setDrops({ rate: 0.5, afterMs: { minMs: 200, maxMs: 900 } }),
      // Reconnects carry the traffic on: the verdict follows the scenarios' own error thresholds.
      verdict: (ctx) => (["ssh-traffic", "web-terminal-traffic", "app-traffic"].every((p) => ctx.phase(p).status === "pass") ? "pass" : "fail"),
      check: (ctx) => {
        const by = ctx.sim.faults.injected.dropsByKind;
        const recorded = (p: string): number => ctx.phase(p).extra.totals.drops;
        t.diagnostic(`drops injected/recorded: ssh ${by.ssh}/${recorded("ssh-traffic")}, pty ${by.pty}/${recorded("web-terminal-traffic")}, app ${by.app}/${recorded("app-traffic")}`);
        assert.ok(by.pty + by.ssh + by.app > 0, "drops were injected");
        assert.equal(ctx.phase("ssh-traffic").extra.totals.drops, by.ssh, "ssh drops");
        assert.equal(ctx.phase("web-terminal-traffic").extra.totals.drops, by.pty, "pty drops");
        assert.equal(ctx.phase("app-traffic").extra.totals.drops, by.app, "app drops");
        // A drop only ever cuts a live stream, never a dial (sim/faults.ts ConnectionDrop).
        for (const p of ["ssh-traffic", "web-terminal-traffic", "app-traffic"]) assert.equal(ctx.phase(p).extra.totals.dialErrors, 0, `${p}: no dial was cut`);
      },
    });
  });
});
