// create-workspaces against the simulated deployment: stage timings and percentiles at scale,
// failed builds reported exactly (and retried), validation that creates nothing, stop and timeouts.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Sim } from "../sim/index.ts";
import { cleanupRun } from "../src/cleanup/index.ts";
import { getRegistry } from "../src/metrics/registry.ts";
import type { CoderClient } from "../src/coder/index.ts";
import {
  CreateInputError,
  createWorkspaces,
  renderCreateText,
  toHarnessJSON,
  type CreateOptions,
  type CreateResult,
} from "../src/create/index.ts";
import { clientFor, liveScaletest, startBuildStatuses, startFastSim } from "./helpers/create-sim.ts";

const base = (runId: string, count: number): CreateOptions & { noCleanup: boolean } => ({
  runId,
  count,
  template: "kubernetes-minimal",
  concurrency: 20,
  timeoutMs: 60_000,
  jobTimeoutMs: 30_000,
  retry: 0,
  pollMs: 100,
  noCleanup: true,
});
const quiet = { progress: false as const };
const cleanupOpts = { concurrency: 20, timeoutMs: 30_000, jobTimeoutMs: 10_000, pollMs: 100, retryDelayMs: 20 };

describe("create-workspaces", () => {
  let sim: Sim;
  let client: CoderClient;
  let preexisting: string;

  before(async () => {
    sim = await startFastSim({ daemons: 4 });
    client = clientFor(sim);
    preexisting = sim.snapshotPreexisting();
  });
  after(async () => {
    await client.close();
    await sim.close();
  });

  test("200 workspaces at concurrency 20 with 4 daemons: every unit timed, queue reflects the daemon limit", async () => {
    const r = await createWorkspaces(client, { ...base("big", 200), parameters: ["cpu=2", "memory=4"] }, quiet);
    try {
      checkBig(r);
    } finally {
      const c = await cleanupRun(client, { runId: "big", ...cleanupOpts }, quiet);
      assert.equal(c.exit_code, 0);
      assert.equal(c.workspaces.length, 200);
      assert.equal(c.users.length, 200);
    }
    assert.deepEqual(liveScaletest(sim, "scaletest-big-"), { users: [], workspaces: [] });
    assert.equal(sim.snapshotPreexisting(), preexisting);
  });

  function checkBig(r: CreateResult): void {
    assert.equal(r.exit_code, 0, renderCreateText(r));
    const json = toHarnessJSON(r);
    assert.equal(json.total_runs, 200);
    assert.equal(json.total_pass, 200);
    assert.equal(Object.keys(json.runs).length, 200);
    for (let i = 0; i < 200; i++) {
      const run = json.runs[`workspacebuild/${i}`];
      assert.ok(run, `run ${i} present`);
      assert.equal(run.error, "<nil>");
      assert.equal(run.workspace_name, `scaletest-big-${String(i).padStart(4, "0")}`);
      const t = run.timings_ms as Record<string, number | null>;
      for (const k of ["user_ms", "create_ms", "queue_ms", "build_ms", "agent_ms", "total_ms"]) {
        assert.equal(typeof t[k], "number", `${k} of run ${i}`);
      }
      assert.ok((t.total_ms as number) >= (t.build_ms as number));
      assert.equal(run.attempt_count, 1);
      assert.match(run.started_at, /^\d{4}-\d\d-\d\dT/);
    }
    // Queue times are the wait for a free daemon: exactly the server's job created -> started, and
    // never more than 4 builds ran at once.
    const running: [number, number][] = [];
    for (const u of r.units) {
      const att = u.attempts[0]!;
      const job = sim.state.job(sim.state.builds.get(att.build_id)!.jobId);
      assert.equal(att.queue_ms, job.startedAt! - job.createdAt, `queue of ${u.name}`);
      assert.equal(att.build_ms, job.completedAt! - job.startedAt!, `build of ${u.name}`);
      assert.equal(u.timings.queue, att.queue_ms);
      running.push([job.startedAt!, job.completedAt!]);
    }
    const edges = running.flatMap(([a, b]) => [[a, 1], [b, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let now = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (now += d));
    assert.ok(peak <= 4 && peak >= 2, `peak concurrent builds ${peak}`);
    // The queue follows the daemon limit, judged on the server's timestamps rather than wall-clock windows:
    // a job created while 4 others ran (all daemons busy) started no sooner than the first of them ended.
    const jobs = [...sim.state.jobs.values()].filter((j) => j.type === "workspace_build" && j.startedAt !== undefined);
    let waited = 0;
    for (const u of r.units) {
      const j = sim.state.job(sim.state.builds.get(u.attempts[0]!.build_id)!.jobId);
      const busy = jobs.filter((o) => o !== j && o.startedAt! < j.createdAt && o.completedAt! > j.createdAt);
      if (busy.length < 4) continue;
      waited++;
      const firstFree = Math.min(...busy.map((o) => o.completedAt!));
      assert.ok(j.startedAt! >= firstFree, `${u.name} started at ${j.startedAt} while all 4 daemons were busy until ${firstFree}`);
    }
    assert.ok(waited > 0, "with 20 builds in flight and 4 daemons some builds were queued while every daemon was busy");
    const q = r.stages.queue;
    const b = r.stages.build;
    assert.ok(q.p95 !== null && b.p50 !== null && q.max !== null);
    assert.ok(q.max > 0, "the queue stage recorded the waits");
    // Server-side timers: never shorter than the simulated 50-100 ms (later under machine load).
    assert.ok(b.p50 >= 50, `build p50 ${b.p50}`);
    // The parameters reached the builds.
    const ws = [...sim.state.workspaces.values()].find((w) => w.name === "scaletest-big-0000")!;
    const params = sim.state.latestBuild(ws).params;
    assert.deepEqual(params.find((p) => p.name === "cpu")?.value, "2");
    // Text summary: percentile table and success rate.
    const text = renderCreateText(r);
    assert.match(text, /stage\s+count\s+p50\s+p95\s+p99\s+max/);
    for (const s of ["user", "login", "create", "queue", "build", "agent", "total"]) assert.match(text, new RegExp(`^  ${s}\\s+200\\s`, "m"));
    assert.match(text, /Workspaces: 200\/200 ready \(100\.0%/);
    assert.match(text, /Pass:  200/);
  }

  test("5% failed builds: exactly those are reported, with reason and log tail; --retry 1 retries and records attempts", async () => {
    sim.faults.set({ build: { failRate: 0.05 } });
    try {
      const r = await createWorkspaces(client, base("flt", 120), quiet);
      const statuses = startBuildStatuses(sim, "scaletest-flt-");
      const simFailed = [...statuses].filter(([, s]) => s.includes("failed")).map(([n]) => n).sort();
      const reported = r.units.filter((u) => !u.ok).map((u) => u.name).sort();
      assert.ok(simFailed.length > 0, "the fault injected some failures");
      assert.deepEqual(reported, simFailed);
      assert.equal(r.exit_code, 1);
      for (const u of r.units.filter((x) => !x.ok)) {
        assert.equal(u.failed_stage, "build");
        assert.match(u.error ?? "", /ended failed: terraform apply: exit status 1/);
        assert.ok(u.log_tail.some((l) => /simulated provisioner failure/.test(l)), u.log_tail.join("\n"));
        assert.equal(u.attempts.length, 1);
        assert.equal(u.attempts[0]!.status, "failed");
      }
      const json = toHarnessJSON(r);
      assert.equal(json.total_fail, simFailed.length);
      const text = renderCreateText(r);
      assert.match(text, new RegExp(`== FAIL: workspacebuild/${r.units.find((u) => !u.ok)!.index}`));
      assert.match(text, /Failures by stage: build/);

      const r2 = await createWorkspaces(client, { ...base("rty", 120), retry: 1 }, quiet);
      const st2 = startBuildStatuses(sim, "scaletest-rty-");
      const firstFailed = [...st2].filter(([, s]) => s[0] === "failed").map(([n]) => n).sort();
      assert.ok(firstFailed.length > 0);
      const retried = r2.units.filter((u) => u.attempts.length === 2).map((u) => u.name).sort();
      assert.deepEqual(retried, firstFailed, "every failed first build was retried once");
      assert.equal(r2.retries, firstFailed.length);
      for (const u of r2.units) {
        const sims = st2.get(u.name)!;
        assert.deepEqual(u.attempts.map((a) => a.status), sims, `attempts of ${u.name}`);
        assert.equal(u.ok, sims[sims.length - 1] === "succeeded");
      }
      const failedTwice = [...st2].filter(([, s]) => s.length === 2 && s[1] === "failed").map(([n]) => n).sort();
      assert.deepEqual(r2.units.filter((u) => !u.ok).map((u) => u.name).sort(), failedTwice);
      assert.match(renderCreateText(r2), new RegExp(`Build retries: ${firstFailed.length}`));

      // --success-threshold: failures below the threshold's allowance still pass.
      sim.faults.set({ build: { failRate: 0.3 } });
      const r3 = await createWorkspaces(client, { ...base("thr", 40), successThreshold: 50 }, quiet);
      assert.ok(r3.fail > 0 && r3.success_rate >= 50, `${r3.fail} failed`);
      assert.equal(r3.exit_code, 0);
      assert.match(renderCreateText(r3), /threshold 50%\)[^]*Result: PASS/);
    } finally {
      sim.faults.clear();
    }
    for (const id of ["flt", "rty", "thr"]) {
      assert.equal((await cleanupRun(client, { runId: id, ...cleanupOpts }, quiet)).exit_code, 0);
      assert.deepEqual(liveScaletest(sim, `scaletest-${id}-`), { users: [], workspaces: [] });
    }
  });

  test("bad input fails with one clear error and creates nothing", async () => {
    const before = sim.counts();
    const builds = sim.state.builds.size;
    const cases: [Partial<CreateOptions>, RegExp][] = [
      [{ template: "no-such-template" }, /--template "no-such-template" was not found.*kubernetes-minimal/],
      [{ parameters: ["gpu=1"] }, /--parameter gpu: template "kubernetes-minimal" has no parameter of that name \(its parameters: cpu, memory, home_disk_size\)/],
      [{ parameters: ["cpu=3"] }, /--parameter cpu must be one of the options \["1","2","4","6","8"\]; got "3"/],
      [{ parameters: ["home_disk_size=0"] }, /--parameter home_disk_size must be >= 1; got 0/],
      [{ parameters: ["home_disk_size=ten"] }, /home_disk_size must be a whole number/],
      [{ parameters: ["cpu"] }, /"cpu" is not name=value/],
      [{ template: "docker-dev" }, /--parameter repo_url=\.\.\. is required/],
      [{ template: "docker-dev", parameters: ["repo_url=http://x", "dotfiles=yes", "editors=vim"] }, /3 problems/],
      [{ count: 0 }, /--count must be a whole number from 1 to 5000; got 0/],
      [{ count: 5001 }, /--count must be a whole number from 1 to 5000/],
      [{ runId: "Bad_Id" }, /invalid run id/],
    ];
    for (const [o, re] of cases) {
      await assert.rejects(createWorkspaces(client, { ...base("val", 3), ...o }, quiet), (e: unknown) => {
        assert.ok(e instanceof CreateInputError, String(e));
        assert.match(e.message, re);
        return true;
      });
    }
    // The regex-validated and list parameters: each problem named.
    await assert.rejects(
      createWorkspaces(client, { ...base("val", 3), template: "docker-dev", parameters: ["repo_url=http://x", "dotfiles=yes", "editors=vim"] }, quiet),
      /repo_url The repository URL must start with https:\/\/[^]*dotfiles must be true or false[^]*editors must be a JSON array/,
    );
    assert.deepEqual(sim.counts(), before);
    assert.equal(sim.state.builds.size, builds);
    assert.equal(sim.snapshotPreexisting(), preexisting);
  });

  test("a run id already in use is refused before anything is created", async () => {
    const r = await createWorkspaces(client, base("dup", 2), quiet);
    assert.equal(r.exit_code, 0);
    const users = sim.counts().users;
    await assert.rejects(createWorkspaces(client, base("dup", 2), quiet), /run id "dup" is already in use .*cleanup --run-id dup/);
    assert.equal(sim.counts().users, users);
    await cleanupRun(client, { runId: "dup", ...cleanupOpts }, quiet);
  });

  test("stop signal: no new work, in-flight builds canceled, partial results, then cleanup leaves nothing", async () => {
    const ac = new AbortController();
    let done = 0;
    const p = createWorkspaces(
      client,
      { ...base("stp", 200), concurrency: 10, noCleanup: false, cleanup: { ...cleanupOpts } },
      { ...quiet, signal: ac.signal, onUnitDone: () => void (++done === 15 && ac.abort()) },
    );
    const r = await p;
    assert.equal(r.stopped, "aborted");
    assert.equal(r.exit_code, 1);
    assert.equal(r.units.length, 200);
    const notStarted = r.units.filter((u) => u.not_started);
    const interrupted = r.units.filter((u) => !u.ok && !u.not_started);
    assert.ok(notStarted.length >= 150, `not started: ${notStarted.length}`);
    assert.ok(interrupted.length > 0 && interrupted.length <= 10, `interrupted: ${interrupted.length}`);
    for (const u of interrupted) assert.match(u.error ?? "", /^interrupted \(aborted\) during /);
    // Nothing left building, everything deleted.
    assert.ok(r.cleanup);
    assert.equal(r.cleanup.exit_code, 0, JSON.stringify(r.cleanup.failed));
    assert.deepEqual(liveScaletest(sim, "scaletest-stp-"), { users: [], workspaces: [] });
    assert.equal(sim.counts().activeBuilds, 0);
    const json = toHarnessJSON(r);
    assert.equal(json.total_runs, 200);
    assert.equal(json.stopped, "aborted");
    assert.match(renderCreateText(r), /Stopped early: aborted; \d+ workspace\(s\) never started/);
  });

  test("--job-timeout: a build stuck in the queue fails its unit and is canceled; --timeout stops the run", async () => {
    sim.faults.set({ build: { stuckPendingRate: 1 } });
    try {
      const r = await createWorkspaces(client, { ...base("jto", 3), jobTimeoutMs: 600 }, quiet);
      assert.equal(r.fail, 3);
      for (const u of r.units) {
        assert.equal(u.failed_stage, "queue");
        assert.match(u.error ?? "", /--job-timeout 600ms exceeded during queue/);
        assert.equal(u.attempts[0]!.status, "pending");
      }
      const st = startBuildStatuses(sim, "scaletest-jto-");
      for (const [, s] of st) assert.deepEqual(s, ["canceled"]);

      // The builds never leave the queue, so only --timeout can end this run (the test would hang otherwise).
      const t0 = Date.now();
      const r2 = await createWorkspaces(client, { ...base("rto", 40), concurrency: 4, timeoutMs: 700 }, quiet);
      assert.ok(Date.now() - t0 >= 700, "not stopped before the timeout");
      assert.equal(r2.stopped, "timeout");
      assert.ok(r2.units.filter((u) => u.not_started).length >= 30);
      assert.match(renderCreateText(r2), /--timeout reached/);
    } finally {
      sim.faults.clear();
    }
    for (const id of ["jto", "rto"]) {
      assert.equal((await cleanupRun(client, { runId: id, ...cleanupOpts }, quiet)).exit_code, 0);
      assert.deepEqual(liveScaletest(sim, `scaletest-${id}-`), { users: [], workspaces: [] });
    }
  });

  test("--use-host-login: workspaces owned by the runner, no users created; --no-wait-for-agents skips the agent stage", async () => {
    const users = sim.counts().users;
    const okCount = async () => {
      const m = await getRegistry().getSingleMetric("scaletest_create_workspaces_total")?.get();
      return m?.values.find((v) => v.labels.result === "ok")?.value ?? 0;
    };
    const okBefore = await okCount();
    const r = await createWorkspaces(client, { ...base("hst", 4), useHostLogin: true, noWaitForAgents: true }, quiet);
    assert.equal(r.exit_code, 0);
    assert.equal((await okCount()) - okBefore, 4, "Prometheus counter of finished workspaces");
    assert.equal(sim.counts().users, users);
    for (const u of r.units) {
      assert.equal(u.owner, "admin");
      assert.equal(u.timings.user, null);
      assert.equal(u.timings.agent, null);
    }
    assert.equal(liveScaletest(sim, "scaletest-hst-").workspaces.length, 4);
    const c = await cleanupRun(client, { runId: "hst", ...cleanupOpts }, quiet);
    assert.equal(c.exit_code, 0);
    assert.equal(c.workspaces.length, 4);
    assert.equal(c.users.length, 0);
    assert.equal(sim.counts().users, users);
    assert.equal(sim.snapshotPreexisting(), preexisting);
  });
});
