// Fault matrix, API side: 5xx and 429 (with Retry-After) on the calls each phase makes, added latency,
// and a coderd restart, each against a real pipeline run (helpers/reliability-matrix.ts holds the
// contract every cell keeps: finishes, right verdict and exit code, every fault recorded exactly once,
// nothing left behind).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { phaseEnded, phaseStarted, runCell } from "./helpers/reliability-matrix.ts";
import { until } from "./helpers/reliability.ts";

// A light load phase for cells about create-phase faults: web-terminal dials are quick even on a busy machine
// (an SSH dial spawns the coder CLI and does a key exchange, which can outlast a 1 s scenario under load).
const LIGHT_LOAD = ["--scenarios", "web-terminal", "--duration", "1s"];

describe("fault matrix: API faults per phase", { concurrency: 2 }, () => {
  it("create: 503s and 429s with Retry-After on the create calls are retried and recorded; the run passes", async () => {
    await runCell({
      runId: "fcreate",
      args: LIGHT_LOAD,
      setup: (sim) =>
        sim.faults.set({
          http: [
            { method: "POST", path: "/api/v2/users", status: 503, count: 2 },
            { method: "POST", path: "/api/v2/users/*/workspaces", status: 503, count: 3 },
            { method: "POST", path: "/api/v2/users/*/workspaces", status: 429, count: 2, retryAfterSec: 1, proxy: true },
          ],
        }),
      verdict: "pass",
      check: ({ sim, phase }) => {
        assert.deepEqual(sim.faults.injected.httpByStatus, { "503": 5, "429": 2 });
        const create = phase("create-workspaces");
        assert.equal(create.totals.pass, 4, "every workspace created once");
        assert.deepEqual(create.extra.api.retries_by, { "503": 5, "429": 2 }, "each fault retried once, on the record");
        assert.ok(create.duration_ms >= 1000, "the Retry-After second was honoured");
      },
    });
  });

  it("create: a 500 on one create call is not retried; one workspace fails and the verdict is fail", async () => {
    await runCell({
      runId: "fcreat5",
      args: LIGHT_LOAD,
      setup: (sim) => sim.faults.set({ http: [{ method: "POST", path: "/api/v2/users/*/workspaces", status: 500, count: 1 }] }),
      verdict: "fail",
      check: ({ phase }) => {
        const create = phase("create-workspaces");
        assert.equal(create.status, "fail");
        assert.deepEqual(create.totals, { runs: 4, pass: 3, fail: 1 });
        assert.equal(create.extra.api.by_status["500"], 1);
        assert.equal(create.extra.api.retries_by["500"], undefined, "a 500 on a POST is never retried");
        assert.match(JSON.stringify(create.harness), /500/, "the failed run says why");
      },
    });
  });

  it("load scenarios: 503s on 20% of GET calls are recorded (retried by the runner, errors for dashboard visitors)", async () => {
    await runCell({
      runId: "ftraffic",
      during: async (sim, runDir) => {
        await phaseStarted(runDir, "ssh-traffic");
        // The REST calls only: the PTY upgrade and the stand-in coder CLI's lookup have their own cell.
        sim.faults.set({ http: [{ method: "GET", path: /^\/api\/v2\/(?!_sim\/)(?!workspaceagents\/[^/]+\/pty$)/, status: 503, rate: 0.2 }] });
        await phaseStarted(runDir, "report");
        sim.faults.set({ http: [] });
      },
      // Dashboard visitors do not retry (a failed page view is the measurement): any 503 they met
      // is an error, and the dashboard error-rate threshold (0%) fails the run.
      verdict: ({ phase }) => (phase("dashboard-traffic").extra.dashboard.totals.errors > 0 ? "fail" : "pass"),
      check: ({ sim, phase, recorded }) => {
        assert.ok(sim.faults.injected.http > 0, "faults were injected");
        const dash = phase("dashboard-traffic").extra.dashboard;
        let dash503 = 0;
        for (const ep of Object.values(dash.endpoints as Record<string, { by_status: Record<string, number> }>)) dash503 += ep.by_status["503"] ?? 0;
        // A page view makes many calls (global requests, polls, websocket dials): each failed view met at least
        // one 503; polls and websocket dials that fail after or beside a view are counted by their endpoint only.
        assert.ok(dash.totals.errors >= 1 && dash.totals.errors <= dash503, `${dash.totals.errors} failed views, ${dash503} 503s`);
        assert.equal(recorded["503"], sim.faults.injected.httpByStatus["503"]);
        for (const p of ["ssh-traffic", "web-terminal-traffic", "app-traffic"]) assert.equal(phase(p).status, "pass", `${p} survived (retried)`);
      },
    });
  });

  it("cleanup: 503s on user deletes and 429s on delete builds are retried; nothing is left", async () => {
    await runCell({
      runId: "fclean",
      args: LIGHT_LOAD,
      setup: (sim) =>
        sim.faults.set({
          http: [
            { method: "DELETE", path: "/api/v2/users/*", status: 503, count: 2 },
            { method: "POST", path: "/api/v2/workspaces/*/builds", status: 429, count: 2, retryAfterSec: 1, proxy: true },
          ],
        }),
      verdict: "pass",
      check: ({ sim, phase }) => {
        assert.deepEqual(sim.faults.injected.httpByStatus, { "503": 2, "429": 2 });
        const cleanup = phase("cleanup");
        assert.equal(cleanup.extra.users_deleted, 4);
        assert.equal(cleanup.extra.workspaces_deleted, 4);
        assert.deepEqual(cleanup.extra.api.retries_by, { "503": 2, "429": 2 });
      },
    });
  });

  it("every phase: 30-60 ms added to every API call slows the run but changes nothing else", async () => {
    await runCell({
      runId: "flatency",
      args: ["--duration", "1s"],
      setup: (sim) => sim.faults.set({ latency: [{ path: "/api/v2/**", latencyMs: { minMs: 30, maxMs: 60 } }] }),
      verdict: "pass",
      check: ({ sim, run }) => {
        assert.ok(sim.faults.injected.latency >= run.api.requests * 0.9, "the latency applied to the run's calls");
        assert.equal(run.api.retries, 0);
      },
    });
  });

  it("create: a coderd restart (down 1.5 s) mid-create is ridden out or recorded; the run ends and cleans up", async () => {
    await runCell({
      runId: "frestart",
      sim: { buildDuration: 400 },
      args: LIGHT_LOAD,
      during: async (sim, runDir) => {
        await phaseStarted(runDir, "create-workspaces");
        // Mid-create means builds in flight, whatever the machine's load.
        await until("a workspace build in flight", () => sim.counts().activeBuilds > 0, 30_000, 10);
        await sim.restart(1500);
      },
      verdict: ({ phase }) => (phase("create-workspaces").totals.fail > 0 || phase("web-terminal-traffic").status !== "pass" ? "fail" : "pass"),
      check: ({ sim, run, phase }) => {
        assert.equal(sim.faults.injected.restarts, 1);
        const create = phase("create-workspaces");
        const outage = Object.entries(create.extra.api.by_status as Record<string, number>).filter(([k]) => !/^\d+$/.test(k));
        assert.ok(outage.length > 0 || create.totals.fail > 0, `the outage left a trace: ${JSON.stringify(create.extra.api)}`);
        assert.ok(run.api.retries > 0, "the client retried through the outage");
      },
    });
  });

  it("web terminal: 503 on half the PTY websocket upgrades: each refused dial is one recorded dial error", async () => {
    await runCell({
      runId: "fdial",
      args: ["--scenarios", "web-terminal", "--duration", "2s"],
      // Exactly two refused upgrades (count-limited, set before the run: nothing before the traffic phase opens
      // a PTY), whichever connections dial first; switching a fault on when the phase starts races its dials.
      setup: (sim) => sim.faults.set({ http: [{ method: "GET", path: "/api/v2/workspaceagents/*/pty", status: 503, count: 2 }] }),
      verdict: ({ phase }) => phase("web-terminal-traffic").status,
      recordedElsewhere: ({ phase }) => ({ "503": phase("web-terminal-traffic").extra.totals.dialErrors }),
      check: ({ sim, phase }) => {
        const rec = phase("web-terminal-traffic");
        const t = rec.extra.totals;
        const says503 = Object.values(rec.harness.runs as Record<string, { error?: string }>).filter((r) => /: 503 /.test(r.error ?? "")).length;
        assert.equal(says503, t.dialErrors, "each refused dial is a failed run that names the 503");
        assert.equal(sim.faults.injected.http, 2);
        assert.equal(t.dialErrors, 2, `dial errors ${JSON.stringify(t)}`);
      },
    });
  });

  it("load scenarios: a coderd restart during traffic drops the connections; drops are counted, the run ends", async () => {
    await runCell({
      runId: "frestrt2",
      // Long enough that the 4 connections are surely open before the phase ends, on a busy machine too.
      args: ["--scenarios", "web-terminal", "--duration", "5s"],
      during: async (sim, runDir) => {
        await phaseStarted(runDir, "web-terminal-traffic");
        // All 4 streams live (each client has sent its first frame), so the restart cuts 4 open connections,
        // not a dial.
        await until("4 live PTY streams", () => sim.pty.liveCount() === 4, 30_000, 10);
        await sim.restart(500);
        await phaseEnded(runDir, "web-terminal-traffic");
      },
      verdict: ({ phase }) => phase("web-terminal-traffic").status,
      check: ({ phase }) => {
        const t = phase("web-terminal-traffic").extra.totals;
        assert.equal(t.drops, 4, "each of the 4 PTY connections dropped once");
      },
    });
  });
});
