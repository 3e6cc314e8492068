// Acceptance tests of the workspace-updates load type against the simulator: Coder's distribution, every
// workspace seen on its owner's stream, the latency distribution, the fan-out delay showing in the p50, a
// stream the server closes mid-run counted with Coder's action name, timeouts, dial failures, bad input
// and reused users.
import { PhaseRecord } from "../src/results/schema.ts";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { CoderClient } from "../src/coder/index.ts";
import type { WorkspaceUpdate } from "../src/coder/tailnet/index.ts";
import { getRegistry } from "../src/metrics/registry.ts";
import { LatencyHistogram } from "../src/traffic/histogram.ts";
import {
  distribute,
  ERRORS_METRIC,
  LATENCY_METRIC,
  runWorkspaceUpdates,
  watchWorkspaceUpdates,
  WorkspaceUpdatesInputError,
  type WorkspaceUpdatesOptions,
  type WorkspaceUpdatesResult,
} from "../src/workspace-updates/index.ts";
import { api, withSim, type Sim } from "./helpers/sim.ts";

const BASE: Omit<WorkspaceUpdatesOptions, "runId"> = {
  workspaceCount: 40,
  powerUserWorkspaces: 5,
  powerUserPercentage: 50,
  template: "kubernetes-minimal",
  updatesTimeoutMs: 60_000,
  dialTimeoutMs: 30_000,
  keepAliveMs: 0,
  cleanup: { concurrency: 10, timeoutMs: 120_000, jobTimeoutMs: 60_000, pollMs: 50 },
};

async function run(sim: Sim, o: Partial<WorkspaceUpdatesOptions> & { runId: string }, onBarrier?: () => void): Promise<WorkspaceUpdatesResult> {
  const client = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 16 });
  try {
    return await runWorkspaceUpdates(client, { ...BASE, ...o }, onBarrier ? { onBarrier } : {});
  } finally {
    await client.close();
  }
}

function metricSamples(name: string, label: Record<string, string>): number {
  const m = getRegistry().getSingleMetric(name) as unknown as { hashMap?: Record<string, { labels: Record<string, string>; value?: number; count?: number }> };
  let n = 0;
  for (const v of Object.values(m?.hashMap ?? {})) {
    if (Object.entries(label).every(([k, x]) => v.labels[k] === x)) n += v.count ?? v.value ?? 0;
  }
  return n;
}

describe("distribution (Coder's rule)", () => {
  test("40 workspaces, 5 per power user, 50%: 4 power users and 20 regular users", () => {
    assert.deepEqual(distribute(40, 5, 50), {
      total_workspaces: 40, power_users: 4, power_user_workspaces: 5, power_workspaces_total: 20,
      regular_users: 20, regular_workspaces_total: 20, dropped_by_rounding: 0,
    });
  });
  test("the power users' share is rounded down to a multiple and the remainder dropped from the total", () => {
    // 10 * 50% = 5, 5 % 3 = 2: total 8, one power user with 3, five regular users.
    const d = distribute(10, 3, 50);
    assert.equal(d.total_workspaces, 8);
    assert.equal(d.power_users, 1);
    assert.equal(d.regular_users, 5);
    assert.equal(d.dropped_by_rounding, 2);
    assert.equal(distribute(7, 2, 0).power_users, 0);
    // All of 7 to power users: 7 % 2 = 1 dropped, three power users, no regular user.
    assert.deepEqual([distribute(7, 2, 100).power_users, distribute(7, 2, 100).regular_users, distribute(7, 2, 100).total_workspaces], [3, 0, 6]);
  });
});

describe("latency as Coder computes it", () => {
  async function* updates(list: { names: string[]; at: number }[], clock: { t: number }): AsyncGenerator<WorkspaceUpdate> {
    for (const u of list) {
      clock.t = u.at;
      yield {
        upsertedWorkspaces: u.names.map((name) => ({ id: "00000000-0000-0000-0000-000000000000", name, status: "PENDING" as const })),
        upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [],
      };
    }
  }

  test("a workspace's latency runs to the last upsert seen for its name before all were seen", async () => {
    const clock = { t: 0 };
    const starts = new Map([["a", 100], ["b", 200]]);
    const r = await watchWorkspaceUpdates(updates([{ names: [], at: 50 }, { names: ["a"], at: 150 }, { names: ["a"], at: 180 }, { names: ["b"], at: 260 }], clock), 2, starts, () => clock.t);
    assert.equal(r.ok, true);
    assert.equal(r.latencies.get("a"), 80); // 180 - 100: the second upsert of "a"
    assert.equal(r.latencies.get("b"), 60);
    assert.equal(r.upserts.get("a"), 2);
    assert.equal(r.updates, 4);
  });

  test("a name that is not one of the user's workspaces is unexpected_workspace; an early end is recv", async () => {
    const clock = { t: 0 };
    const r = await watchWorkspaceUpdates(updates([{ names: ["old"], at: 10 }], clock), 1, new Map([["new", 5]]), () => clock.t);
    assert.equal(r.action, "unexpected_workspace");
    assert.match(r.error ?? "", /unexpected workspace "old"/);
    const r2 = await watchWorkspaceUpdates(updates([{ names: ["a"], at: 10 }], clock), 2, new Map([["a", 5]]), () => clock.t);
    assert.equal(r2.action, "recv");
    assert.match(r2.error ?? "", /ended after 1 update\(s\) with 1 of 2 workspace\(s\) seen/);
  });
});

describe("against the simulator", () => {
  test("24 users own 40 workspaces (4 power x 5, 20 regular x 1): every workspace seen on its owner's stream, latency recorded", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const before = sim.counts();
      let atBarrier: { workspaces: number; dialled: number } | null = null;
      const r = await run(sim, { runId: "wuacc1" }, () => {
        atBarrier = { workspaces: sim.counts().workspaces, dialled: sim.tailnet.counts().connections };
      });
      // The barrier: every user's stream was open before the first workspace existed.
      assert.deepEqual(atBarrier, { workspaces: 0, dialled: 24 });
      assert.equal(r.units.length, 24);
      assert.deepEqual(r.units.map((u) => u.num_owned_workspaces).sort((a, b) => b - a), [...Array(4).fill(5), ...Array(20).fill(1)]);
      assert.equal(r.pass, 24, JSON.stringify(r.errors));
      assert.equal(r.exit_code, 0);
      const names = new Set<string>();
      for (const u of r.units) {
        assert.match(u.username, /^scaletest-wuacc1-\d{4}$/);
        for (const w of u.workspaces) {
          assert.match(w.name, /^scaletest-wuacc1-\d{4}$/);
          assert.ok(w.upserts >= 1, `${w.name} was upserted on ${u.username}'s stream`);
          assert.ok(w.latency_ms !== null && w.latency_ms > 0, `${w.name} has a latency`);
          names.add(w.name);
        }
      }
      assert.equal(names.size, 40);
      // The labelled HDR histograms hold every sample; the encoded form decodes to the same count.
      const [all, five, one] = r.latency;
      assert.deepEqual([all!.labels, five!.labels, one!.labels], [{}, { num_owned_workspaces: "5" }, { num_owned_workspaces: "1" }]);
      assert.deepEqual([all!.summary.count, five!.summary.count, one!.summary.count], [40, 20, 20]);
      assert.equal(LatencyHistogram.decode(all!.hdr).count, 40);
      assert.ok(all!.summary.p50 > 0 && all!.summary.p50 <= all!.summary.max);
      assert.equal(Object.keys(r.workspace_updates_latency_seconds).length, 40);
      assert.ok(Object.values(r.workspace_updates_latency_seconds).every((s) => s > 0));
      assert.ok(metricSamples(LATENCY_METRIC, {}) >= 40, "Coder's latency histogram observed every workspace");
      // Streams closed, tokens revoked, users and workspaces cleaned up.
      assert.deepEqual(r.tokens, { minted: 24, revoked: 24, failed: 0 });
      assert.equal(r.cleanup?.exit_code, 0);
      const after = sim.counts();
      assert.deepEqual([after.users, after.workspaces, after.tokens], [before.users, before.workspaces, before.tokens]);
      assert.equal(sim.tailnet.counts().openSubscriptions, 0);
    });
  });

  test("the simulator delaying update fan-out by 500 ms shows in the p50", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.tailnet.setFaults({ fanoutDelayMs: 500 });
      const r = await run(sim, { runId: "wuacc2" });
      assert.equal(r.pass, 24, JSON.stringify(r.errors));
      const [all, five, one] = r.latency;
      assert.ok(all!.summary.p50 >= 500, `p50 ${all!.summary.p50} ms >= 500 ms`);
      assert.ok(five!.summary.p50 >= 500 && one!.summary.p50 >= 500);
      assert.ok(all!.summary.min >= 500, "every change reached the stream at least 500 ms after it happened");
    });
  });

  for (const how of ["close", "error", "reset", "drop"] as const) {
    test(`a stream the simulator ends mid-run (${how}) is counted as Coder's "recv" error`, async () => {
      await withSim({ preexisting: false }, async (sim) => {
        // Instead of the first change update (the snapshot is update 1), end one stream.
        sim.tailnet.setFaults({ closeStreams: { atUpdate: 2, how, max: 1 } });
        const runId = `wuc${how.slice(0, 3)}`;
        const recvBefore = metricSamples(ERRORS_METRIC, { action: "recv" });
        const r = await run(sim, { runId, workspaceCount: 6, powerUserWorkspaces: 2, powerUserPercentage: 50 });
        assert.equal(sim.tailnet.counts().faultCloses, 1);
        assert.equal(r.fail, 1);
        assert.deepEqual(r.errors_by_action, { recv: 1 });
        assert.equal(r.errors[0]!.action, "recv");
        assert.match(r.errors[0]!.error, /receive workspace update/);
        assert.equal(metricSamples(ERRORS_METRIC, { action: "recv" }) - recvBefore, 1);
        assert.equal(r.exit_code, 1);
        // The others were measured, and cleanup ran all the same.
        assert.equal(r.pass, r.units.length - 1);
        assert.equal(r.cleanup?.exit_code, 0);
        assert.equal(sim.counts().workspaces, 0);
      });
    });
  }

  test("updates that do not arrive within --workspace-updates-timeout are context_done", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.tailnet.setFaults({ fanoutDelayMs: 30_000 });
      const r = await run(sim, { runId: "wuto", workspaceCount: 4, powerUserWorkspaces: 2, powerUserPercentage: 50, updatesTimeoutMs: 300 });
      assert.equal(r.pass, 0);
      assert.deepEqual(r.errors_by_action, { context_done: 3 });
      assert.match(r.errors[0]!.error, /timeout waiting for workspace updates after 300 ms/);
    });
  });

  test("a refused dial (503 from coderd) is counted as Coder's \"dial\" error and creates no workspace for that user", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      sim.faults.set({ http: [{ method: "GET", path: "/api/v2/tailnet", status: 503, count: 1 }] });
      const r = await run(sim, { runId: "wudial", workspaceCount: 4, powerUserWorkspaces: 2, powerUserPercentage: 50 });
      assert.deepEqual(r.errors_by_action, { dial: 1 });
      assert.match(r.errors[0]!.error, /503/);
      const failed = r.units.find((u) => u.action === "dial")!;
      assert.ok(failed.workspaces.every((w) => w.id === null), "no workspace created for a user without a stream");
      assert.equal(r.pass, 2);
    });
  });

  test("bad input fails before anything is created", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const before = sim.counts();
      await assert.rejects(run(sim, { runId: "wubad", powerUserWorkspaces: 1 }), (e: Error) => {
        assert.ok(e instanceof WorkspaceUpdatesInputError);
        assert.match(e.message, /--power-user-workspaces must be greater than 1/);
        return true;
      });
      await assert.rejects(run(sim, { runId: "wubad", template: "no-such-template" }), /--template "no-such-template" was not found/);
      assert.deepEqual(sim.counts(), before);
    });
  });

  test("--reuse-users runs as existing scaletest users of another run, leaves them, removes only this run's workspaces", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id as string;
      for (let i = 0; i < 3; i++) {
        const res = await api(sim, "POST", "/api/v2/users", {
          username: `scaletest-pool-000${i}`, email: `pool-000${i}@scaletest.local`, password: "Pool-password-123!", login_type: "password", organization_ids: [org],
        });
        assert.equal(res.status, 201);
      }
      const before = sim.counts();
      const r = await run(sim, { runId: "wureuse", workspaceCount: 4, powerUserWorkspaces: 2, powerUserPercentage: 50, reuseUsers: true });
      assert.equal(r.pass, 3, JSON.stringify(r.errors));
      assert.deepEqual(r.units.map((u) => u.username).sort(), ["scaletest-pool-0000", "scaletest-pool-0001", "scaletest-pool-0002"]);
      assert.ok(r.units.every((u) => u.reused));
      assert.deepEqual(r.tokens, { minted: 3, revoked: 3, failed: 0 });
      const after = sim.counts();
      assert.deepEqual([after.users, after.workspaces, after.tokens], [before.users, before.workspaces, before.tokens]);
      // Too few users to reuse: an input error before anything is created.
      await assert.rejects(run(sim, { runId: "wureuse2", reuseUsers: true }), /--reuse-users needs 24 existing scaletest- users/);
    });
  });
});

describe("scenarios/workspace-updates.ts", () => {
  const ROOT = fileURLToPath(new URL("..", import.meta.url));
  const script = (sim: Sim, dir: string, args: string[]) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
    return execa(process.execPath, ["--import", "tsx", "scenarios/workspace-updates.ts", ...args], {
      cwd: ROOT,
      env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    });
  };

  test("Coder's flags run the load and write the results; bad flags exit 2 before anything is created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wu-cli-"));
    try {
      await withSim({ preexisting: false }, async (sim) => {
        const before = sim.counts();
        const cases = [
          [["--workspace-count", "0"], /--workspace-count \(SCALETEST_WORKSPACE_UPDATES_WORKSPACES\) must be at least 1/],
          [["--workspace-count", "4", "--power-user-workspaces", "1"], /--power-user-workspaces \(SCALETEST_WORKSPACE_UPDATES_POWER_USER_WORKSPACES\) must be at least 2/],
          [["--workspace-count", "4", "--template", "nope"], /^workspace-updates: --template "nope" was not found/m],
        ] as const;
        // Side by side: each only reads (and each run has a fresh run id, so a results folder of its own).
        const runs = await Promise.all(cases.map(([args]) => script(sim, dir, [...args])));
        cases.forEach(([args, re], i) => {
          const r = runs[i]!;
          assert.equal(r.exitCode, 2, `${args.join(" ")}: ${r.stderr}`);
          assert.match(r.stderr, re);
          assert.ok(!r.stderr.includes(sim.ownerToken));
        });
        assert.deepEqual(sim.counts(), before);
        const out = join(dir, "wu.json");
        const r = await script(sim, dir, [
          "--workspace-count", "6", "--power-user-workspaces", "2", "--power-user-percentage", "50", "--template", "kubernetes-minimal",
          "--workspace-updates-timeout", "30s", "--dial-timeout", "10s", "--run-id", "wucli", "--output", `json:${out}`, "--output", "text",
        ]);
        assert.equal(r.exitCode, 0, r.stderr);
        assert.match(r.stdout, /users: 4 passed, 0 failed/);
        // --output json is the phase record (the same one the pipeline writes).
        const json = PhaseRecord.parse(JSON.parse(readFileSync(out, "utf8")));
        assert.equal(json.run_id, "wucli");
        assert.equal(json.status, "pass");
        assert.deepEqual(json.thresholds.map((t) => [t.expression, t.ok]), [["workspace-updates.error_rate<=0%", true]]);
        // 6 x 50% = 3, rounded down to a multiple of 2: one power user with 2, three regular users; 5 workspaces.
        assert.equal(json.stages["workspace-updates.latency{num_owned_workspaces=2}"]?.count, 2);
        assert.equal(json.stages["workspace-updates.latency{num_owned_workspaces=1}"]?.count, 3);
        assert.deepEqual(sim.counts(), before);
        // --no-cleanup keeps what the run created.
        const kept = await script(sim, dir, ["--workspace-count", "2", "--power-user-percentage", "0", "--template", "kubernetes-minimal", "--run-id", "wukeep", "--no-cleanup"]);
        assert.equal(kept.exitCode, 0, kept.stderr);
        assert.equal(sim.counts().workspaces, before.workspaces + 2);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
