// autostart load type: the scheduling arithmetic with an injected clock, the whole flow against the
// simulator with the clock jumped to the scheduled minute and the executor driven by runOnce (no 2-minute
// wait), both watch modes, a stalled executor, and bad input through the script. The real-time acceptance
// (1 s ticks, 50 workspaces, Coder's 2-minute minimum) is in autostart-realtime.test.ts.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { CoderClient } from "../src/coder/client.ts";
import {
  autostartPhaseResult,
  autostartTime,
  coderPercentile,
  coderResults,
  executeAutostart,
  MIN_AUTOSTART_DELAY_MS,
  planAutostart,
  roundToMinute,
  scheduleFor,
  type AutostartOptions,
  type AutostartResult,
} from "../src/autostart/index.ts";
import { checkOptions } from "../src/autostart/plan.ts";
import { goDuration } from "../src/autostart/render.ts";
import { autostartSectionHtml, autostartSectionMarkdown } from "../src/report/autostart.ts";
import type { ReportPhase } from "../src/report/model.ts";
import { waitFor, withSim, type Sim } from "./helpers/sim.ts";
import { executeCreateUsers, planCreateUsers } from "../src/users/create-users.ts";
import { readJSON, runSmall, tempResults } from "./helpers/pipeline.ts";

const MIN = 60_000;

describe("scheduling arithmetic (injected clock)", () => {
  test("the autostart minute is now + delay rounded as Go rounds (halves up), named in UTC", () => {
    const base = Date.UTC(2026, 11, 5, 8, 58, 0);
    assert.equal(roundToMinute(base + 29_999), base);
    assert.equal(roundToMinute(base + 30_000), base + MIN);
    // 08:58:10 + 2m = 09:00:10 -> 09:00; 08:58:45 + 2m = 09:00:45 -> 09:01.
    assert.equal(autostartTime(base + 10_000, 2 * MIN), Date.UTC(2026, 11, 5, 9, 0));
    assert.equal(autostartTime(base + 45_000, 2 * MIN), Date.UTC(2026, 11, 5, 9, 1));
    // Across midnight and the hour.
    assert.equal(scheduleFor(autostartTime(Date.UTC(2026, 11, 5, 23, 58, 50), 2 * MIN)), "CRON_TZ=UTC 1 0 * * *");
    assert.equal(scheduleFor(Date.UTC(2026, 11, 5, 14, 12)), "CRON_TZ=UTC 12 14 * * *");
    // Whatever the clock, the wait is 1.5 to 2.5 delays... at least 1.5 min with Coder's minimum.
    for (let s = 0; s < 60; s += 7) {
      const now = base + s * 1000 + 123;
      const wait = autostartTime(now, MIN_AUTOSTART_DELAY_MS) - now;
      assert.ok(wait >= 90_000 && wait <= 150_000, `wait ${wait} at second ${s}`);
    }
  });

  test("Coder's percentile is sorted[int((n-1)*p)] and 0 for none; results JSON as Coder's", () => {
    assert.equal(coderPercentile([], 0.5), 0);
    assert.equal(coderPercentile([5, 1, 4, 2, 3], 0.5), 3);
    assert.equal(coderPercentile([5, 1, 4, 2, 3], 0.95), 4); // int(4*0.95) = 3 -> sorted[3]
    assert.equal(coderPercentile([5, 1, 4, 2, 3], 0.99), 4);
    const rec = (ok: boolean, total: number | null, e2e: number | null, error: string | null) => ({
      index: 0, username: "u", user_id: null, workspace_name: "w", workspace_id: "id", reused_user: false, ok, action: null, error,
      setup: { user_ms: null, create_ms: null, start_build_ms: null, stop_build_ms: null },
      times: { schedule_set_at: null, job_created_at: null, job_acquired_at: null, completed_at: null },
      job_created_ms: null, job_acquired_ms: null, total_ms: total, end_to_end_ms: e2e, build: null, updates: 0, dropped_updates: 0, logs: [],
    });
    const r = coderResults([rec(true, 1200.4, 121_000, null), rec(false, null, null, "late")]);
    assert.deepEqual(Object.keys(r), [
      "total_runs", "successful_runs", "failed_runs", "end_to_end_latency_p50_ms", "end_to_end_latency_p95_ms", "end_to_end_latency_p99_ms",
      "trigger_to_completion_p50_ms", "trigger_to_completion_p95_ms", "trigger_to_completion_p99_ms", "runs",
    ]);
    assert.deepEqual([r.total_runs, r.successful_runs, r.failed_runs, r.trigger_to_completion_p50_ms], [2, 1, 1, 1200]);
    assert.deepEqual(r.runs[0], { workspace_id: "id", workspace_name: "w", success: true, end_to_end_latency_ms: 121_000, trigger_to_completion_ms: 1200 });
    // `error` only when there is one.
    assert.equal(r.runs[1]!.error, "late");
    assert.ok(!("error" in r.runs[0]!));
  });

  test("durations print as Go prints them (Coder's text output)", () => {
    assert.deepEqual([0, 850, 1200, 60_000, 119_004, 3_603_000].map(goDuration), ["0s", "850ms", "1.2s", "1m0s", "1m59.004s", "1h0m3s"]);
  });

  test("bad options: Coder's 2-minute minimum, the count's bounds, timeouts, template", () => {
    const ok: AutostartOptions = { runId: "abc", workspaceCount: 1, template: "t", workspaceJobTimeoutMs: 1000, autostartDelayMs: 2 * MIN, autostartTimeoutMs: 1000 };
    assert.deepEqual(checkOptions(ok), []);
    assert.match(checkOptions({ ...ok, autostartDelayMs: 119_999 }).join(), /--autostart-delay must be at least 2m/);
    assert.match(checkOptions({ ...ok, workspaceCount: 0 }).join(), /--workspace-count must be a whole number from 1 to 5000; got 0/);
    assert.match(checkOptions({ ...ok, workspaceCount: 5001 }).join(), /got 5001/);
    assert.match(checkOptions({ ...ok, template: " " }).join(), /--template is required/);
    assert.match(checkOptions({ ...ok, autostartTimeoutMs: 0 }).join(), /--autostart-timeout must be positive/);
  });
});

/**
 * Runs the load against `sim` with a clock the test moves: at the barrier it waits for every schedule to
 * be set, jumps the runner's clock to `jumpTo(scheduled minute)` and lets the executor run once at that
 * time (unless `stall`), so Coder's 2-minute minimum costs nothing. With `stall` nothing will come, so the
 * runner's late timer is what ends each wait: the clock jumps as soon as the deployment holds the (single)
 * schedule, before any wait arms its timer from it (otherwise each timer would run the real 2 minutes).
 */
async function fastRun(sim: Sim, o: Partial<AutostartOptions> & { runId: string; stall?: boolean; jumpMs?: number }): Promise<AutostartResult> {
  const client = new CoderClient({ url: sim.url, token: sim.ownerToken, bypassRateLimit: true });
  let shift: number | null = null;
  let names = new Set<string>();
  const mine = () => [...sim.state.workspaces.values()].filter((w) => !w.deleted && names.has(w.name));
  /** The scheduled minute from a schedule itself (the next one after now). */
  const minuteOf = (schedule: string): number => {
    const [, m, h] = /^CRON_TZ=UTC (\d+) (\d+) \* \* \*$/.exec(schedule)!.map(Number) as [number, number, number];
    const now = Date.now();
    let at = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate(), h, m);
    if (at <= now) at += 24 * 60 * MIN;
    return at;
  };
  const jump = (at: number): void => {
    if (shift === null) shift = at + (o.jumpMs ?? 300) - Date.now();
  };
  const clock = {
    now: () => {
      if (o.stall && shift === null) {
        const set = mine().find((w) => w.autostartSchedule);
        if (set) jump(minuteOf(set.autostartSchedule!));
      }
      return Date.now() + (shift ?? 0);
    },
  };
  const opts: AutostartOptions = {
    workspaceCount: 6, template: "kubernetes-minimal", workspaceJobTimeoutMs: 20_000, autostartDelayMs: 2 * MIN, autostartTimeoutMs: 5_000, pollMs: 50,
    cleanup: { concurrency: 10, timeoutMs: 60_000, jobTimeoutMs: 20_000, pollMs: 50 },
    ...o,
  };
  try {
    const plan = await planAutostart(client, opts);
    names = new Set(plan.create.names);
    const done = executeAutostart(client, plan, opts, {
      clock,
      onBarrier: () => {
        // After the barrier the runner sets the schedules; then the clock reaches the minute.
        void (async () => {
          await waitFor("every schedule set", () => mine().length > 0 && mine().every((w) => w.autostartSchedule), 20_000);
          const schedules = new Set(mine().map((w) => w.autostartSchedule));
          assert.equal(schedules.size, 1, `one schedule for all: ${[...schedules].join(" | ")}`);
          const at = minuteOf([...schedules][0]!);
          jump(at);
          if (!o.stall) sim.lifecycle.runOnce(at + (o.jumpMs ?? 300));
        })();
      },
    });
    return await done;
  } finally {
    await client.close();
  }
}

describe("autostart against the simulator (clock jumped to the minute)", () => {
  test("all-workspace-builds watch: every workspace starts by the executor, timed from the minute; cleanup leaves nothing", async () => {
    await withSim({ autobuildPollIntervalMs: 0, preexisting: false, buildDuration: 80 }, async (sim) => {
      const before = sim.counts();
      const r = await fastRun(sim, { runId: "asfast1" });
      assert.equal(r.exit_code, 0, JSON.stringify(r.errors));
      assert.equal(r.watch.mode, "all-workspace-builds");
      assert.equal(r.pass, 6);
      assert.match(r.schedule ?? "", /^CRON_TZ=UTC \d+ \d+ \* \* \*$/);
      // The executor's builds, reason autostart, one per workspace.
      assert.equal(sim.lifecycle.log.length, 6);
      for (const run of r.runs) {
        assert.equal(run.build?.reason, "autostart", run.workspace_name);
        // Seen after the jump (300 ms past the minute) and ordered created <= acquired <= done.
        assert.ok(run.job_created_ms! >= 300, `${run.job_created_ms}`);
        assert.ok(run.job_created_ms! <= run.job_acquired_ms! && run.job_acquired_ms! <= run.total_ms!);
        // The executor ran at the jump (300 ms past the minute) and the build takes 80 ms: done no sooner
        // (a few ms of slack for timer rounding).
        assert.ok(run.total_ms! >= 375, `${run.total_ms}`);
        // End to end includes the clock's jump to the minute (about 2 minutes).
        assert.ok(run.end_to_end_ms! >= 90_000, `${run.end_to_end_ms}`);
      }
      assert.equal(r.coder.successful_runs, 6);
      assert.deepEqual(r.tokens, { minted: 6, revoked: 6, failed: 0 });
      // The phase record's metrics and the preset.
      const phase = autostartPhaseResult(r);
      assert.deepEqual(Object.keys(phase.metrics).sort(), [
        "autostart.end_to_end", "autostart.error_rate", "autostart.errors", "autostart.job_acquired", "autostart.job_created", "autostart.late", "autostart.total",
      ]);
      assert.match(phase.text, /^Autostart Scale Test Results/);
      // The report's section: Coder's percentiles and the distribution over all six workspaces.
      const reportPhase = { name: "autostart", runner: "autostart", extra: phase.extra } as unknown as ReportPhase;
      const md = autostartSectionMarkdown(reportPhase).join("\n");
      assert.match(md, /Autostart storm: 6 workspace\(s\), 6 started, 0 failed; schedule `CRON_TZ=UTC/);
      const binned = [...md.matchAll(/^ *\S+ – \S+ +(\d+) #*$/gm)].reduce((n, m) => n + Number(m[1]), 0);
      assert.equal(binned, 6);
      assert.match(autostartSectionHtml(reportPhase), /<h4>Autostart storm<\/h4>/);
      assert.equal(r.cleanup?.exit_code, 0);
      assert.deepEqual([sim.counts().users, sim.counts().workspaces, sim.counts().tokens], [before.users, before.workspaces, before.tokens]);
    });
  });

  test("a pool of 20 users serves an autostart run and then a traffic run: the pool stays, no run's token does", async () => {
    await withSim({ autobuildPollIntervalMs: 0, preexisting: false, buildDuration: 60 }, async (sim) => {
      const owner = new CoderClient({ url: sim.url, token: sim.ownerToken, bypassRateLimit: true });
      const pool = { pool: "pool20", count: 20, templateAdminPercentage: 0, concurrency: 10 };
      try {
        const made = await executeCreateUsers(owner, await planCreateUsers(owner, pool), pool);
        assert.equal(made.users.filter((u) => u.ok).length, 20);
      } finally {
        await owner.close();
      }
      const poolNames = () => sim.state.liveUsers().map((u) => u.username).filter((n) => n.startsWith("scaletest-pool20-")).sort();
      const users = poolNames();
      const before = sim.counts();

      const r = await fastRun(sim, { runId: "aspool1", workspaceCount: 20, userPool: "pool20" });
      assert.equal(r.exit_code, 0, JSON.stringify(r.errors));
      assert.equal(r.pass, 20);
      // Every workspace belonged to a pool user, each through a token minted for this run and revoked after.
      assert.deepEqual([...new Set(r.runs.map((x) => x.username))].sort(), users);
      assert.deepEqual(r.tokens, { minted: 20, revoked: 20, failed: 0 });
      assert.equal(sim.lifecycle.log.length, 20);
      assert.deepEqual(poolNames(), users, "the autostart run left the pool's users");
      assert.deepEqual([sim.counts().users, sim.counts().workspaces, sim.counts().tokens], [before.users, before.workspaces, before.tokens]);

      // Then the traffic run (the pipeline: create over the pool, web-terminal traffic, cleanup).
      const out = await runSmall(sim, tempResults(), ["--run-id", "trpool1", "--user-pool", "pool20", "--workspaces", "20", "--create-concurrency", "10", "--scenarios", "web-terminal", "--percentage", "100"]);
      assert.equal(out.exitCode, 0, out.output);
      const run = readJSON<{ phases: { name: string; dir: string | null }[] }>(join(out.runDir!, "run.json"));
      const traffic = readJSON<{ extra: { traffic: { perConnection: { status: string }[] } } }>(join(out.runDir!, run.phases.find((p) => p.name === "web-terminal-traffic")!.dir!, "result.json"));
      assert.equal(traffic.extra.traffic.perConnection.filter((c) => c.status === "ok").length, 20);
      assert.deepEqual(poolNames(), users, "the pool's users exist after both runs");
      assert.deepEqual([sim.counts().users, sim.counts().workspaces, sim.counts().tokens], [before.users, before.workspaces, before.tokens], "no run's token, user or workspace is left");
    });
  });

  test("without the experiment: detected, recorded, and each workspace watched on its own watch-ws", async () => {
    await withSim({ autobuildPollIntervalMs: 0, preexisting: false, experiments: [] }, async (sim) => {
      const r = await fastRun(sim, { runId: "asfast2", workspaceCount: 4 });
      assert.equal(r.exit_code, 0, JSON.stringify(r.errors));
      assert.equal(r.watch.mode, "per-workspace");
      assert.match(r.watch.reason, /watch-all-workspacebuilds answered 403 \(Experiment 'workspace-build-updates' is required but not enabled\)/);
      assert.equal(sim.watch.counts().allBuildsRefused, 1);
      assert.equal(sim.watch.counts().workspaceConnections, 4);
      assert.ok(r.runs.every((x) => x.ok && x.build?.reason === "autostart" && x.updates >= 2));
    });
  });

  test("executor stalled: the run fails naming every late workspace; cleanup leaves nothing", async () => {
    await withSim({ autobuildPollIntervalMs: 0, preexisting: false }, async (sim) => {
      const before = sim.counts();
      const r = await fastRun(sim, { runId: "asfast3", workspaceCount: 5, stall: true, autostartTimeoutMs: 1_500 });
      assert.equal(r.exit_code, 1);
      assert.equal(r.fail, 5);
      const names = r.runs.map((x) => x.workspace_name).sort();
      assert.deepEqual(r.late, names);
      assert.deepEqual(r.errors_by_action, { wait_for_autostart_build: 5 });
      for (const e of r.errors) assert.match(e.error, /^late: no autostart build finished by .* \(--autostart-timeout 1\.5s after the scheduled \d\d:\d\d UTC\); no autostart build seen$/);
      const phase = autostartPhaseResult(r);
      assert.match(phase.errors[0]!, new RegExp(`late .*: ${names.join(", ")}`));
      assert.match(phase.text, /LATE \(no autostart build done in time\): 5 workspace\(s\)/);
      const md = autostartSectionMarkdown({ name: "autostart", runner: "autostart", extra: phase.extra } as unknown as ReportPhase).join("\n");
      assert.ok(md.includes(`Late: 5 workspace(s): ${names.join(", ")}`), md);
      assert.equal(r.cleanup?.exit_code, 0);
      assert.deepEqual([sim.counts().users, sim.counts().workspaces, sim.counts().tokens], [before.users, before.workspaces, before.tokens]);
    });
  });
});

describe("scenarios/autostart.ts", () => {
  const ROOT = fileURLToPath(new URL("..", import.meta.url));
  const script = (sim: Sim, dir: string, args: string[]) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
    return execa(process.execPath, ["--import", "tsx", "scenarios/autostart.ts", ...args], {
      cwd: ROOT,
      env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: dir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" },
      extendEnv: false,
      reject: false,
      timeout: 60_000,
    });
  };

  test("bad input exits 2 before anything is created: delay under 2m, unknown template, count out of bounds", async () => {
    const dir = mkdtempSync(join(tmpdir(), "as-cli-"));
    try {
      await withSim({ preexisting: false, autobuildPollIntervalMs: 0 }, async (sim) => {
        const before = sim.counts();
        const log0 = sim.core.requestLog.length;
        const cases = [
          [["--workspace-count", "2", "--template", "kubernetes-minimal", "--autostart-delay", "1m"], /--autostart-delay \(SCALETEST_AUTOSTART_DELAY\) must be at least 2m/],
          [["--workspace-count", "2", "--template", "kubernetes-minimal", "--autostart-delay", "119s"], /--autostart-delay \(SCALETEST_AUTOSTART_DELAY\) must be at least 2m/],
          [["--workspace-count", "2", "--template", "nope"], /^autostart: --template "nope" was not found/m],
          [["--workspace-count", "0", "--template", "kubernetes-minimal"], /--workspace-count \(SCALETEST_AUTOSTART_WORKSPACES\) must be at least 1/],
          [["--workspace-count", "5001", "--template", "kubernetes-minimal"], /--workspace-count \(SCALETEST_AUTOSTART_WORKSPACES\) must be at most 5000/],
        ] as const;
        // Side by side (each only reads), each with a results folder of its own.
        const runs = await Promise.all(cases.map(([args]) => script(sim, mkdtempSync(join(dir, "bad-")), [...args])));
        cases.forEach(([args, re], i) => {
          const r = runs[i]!;
          assert.equal(r.exitCode, 2, `${args.join(" ")}: ${r.stderr}`);
          assert.match(r.stderr, re);
          assert.ok(!r.stderr.includes(sim.ownerToken));
        });
        assert.deepEqual(sim.counts(), before);
        // Nothing but reads reached the deployment.
        const writes = sim.core.requestLog.slice(log0).filter((q) => q.method !== "GET");
        assert.deepEqual(writes, []);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
