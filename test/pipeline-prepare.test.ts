// The pipeline's Coder-runner parameters around creation: --cleanup-prepare (delete what earlier runs of
// this results folder left, never another runner's) and --skip-create-workspaces (load an earlier run's
// workspaces). End to end against the simulated deployment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Sim } from "../sim/index.ts";
import { BadInputError } from "../src/util/errors.ts";
import { withSim } from "./helpers/sim.ts";
import { readJSON, runSmall, tempResults } from "./helpers/pipeline.ts";

type RunJson = { phases: { name: string; dir: string | null; status: string }[]; status: string };

const names = (sim: Sim, runId: string): string[] =>
  sim.state.liveWorkspaces().map((w) => w.name).filter((n) => n.startsWith(`scaletest-${runId}-`)).sort();
const userNames = (sim: Sim, runId: string): string[] =>
  sim.state.liveUsers().map((u) => u.username).filter((n) => n.startsWith(`scaletest-${runId}-`)).sort();

test("--skip-create-workspaces loads the workspaces an earlier run with the same id left, creating none", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const first = await runSmall(sim, dir, ["--run-id", "keep1", "--scenarios", "web-terminal", "--percentage", "100", "--cleanup-strategy", "on_stop"]);
    assert.equal(first.exitCode, 0, first.output);
    const left = names(sim, "keep1");
    assert.equal(left.length, 4, "the first run left its 4 workspaces (on_stop)");
    const ids = sim.state.liveWorkspaces().filter((w) => left.includes(w.name)).map((w) => w.id).sort();

    const builds = sim.state.builds.size;
    const second = await runSmall(sim, dir, ["--run-id", "keep1", "--scenarios", "web-terminal", "--percentage", "100", "--skip-create-workspaces"]);
    assert.equal(second.exitCode, 0, second.output);
    const run = readJSON<RunJson>(join(second.runDir!, "run.json"));
    const phases = run.phases.map((p) => p.name);
    // The second run's phases come after the first's in the same run.json: its own start at the last prepare.
    const own = phases.slice(phases.lastIndexOf("prepare"));
    assert.deepEqual(own, ["prepare", "web-terminal-traffic", "report", "cleanup"], "no create phase, no baseline after it");
    const traffic = run.phases.findLast((p) => p.name === "web-terminal-traffic")!;
    const rec = readJSON<{ extra: { traffic: { perConnection: { target: { workspaceId: string }; status: string }[] } } }>(join(second.runDir!, traffic.dir!, "result.json"));
    assert.deepEqual(rec.extra.traffic.perConnection.map((c) => c.target.workspaceId).sort(), ids, "the traffic went to the earlier run's workspaces");
    assert.ok(rec.extra.traffic.perConnection.every((c) => c.status === "ok"));
    // No start build for a new workspace happened before cleanup: every build after the first run is a delete.
    const later = [...sim.state.builds.values()].slice(builds);
    assert.ok(later.every((b) => b.transition === "delete"), `only delete builds after the first run, got ${later.map((b) => b.transition).join(",")}`);
    assert.deepEqual(sim.counts(), before, "the second run's cleanup removed the reused workspaces and users");
  });
});

test("--skip-create-workspaces without the run's workspaces (or with fewer than --workspaces) is bad input before anything is created", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    await assert.rejects(runSmall(sim, dir, ["--run-id", "none1", "--skip-create-workspaces"]), (e: unknown) => {
      assert.ok(e instanceof BadInputError);
      assert.match((e as Error).message, /run none1 has no scaletest-none1-\* workspaces/);
      return true;
    });
    const first = await runSmall(sim, dir, ["--run-id", "few1", "--workspaces", "2", "--scenarios", "web-terminal", "--percentage", "100", "--cleanup-strategy", "on_stop"]);
    assert.equal(first.exitCode, 0, first.output);
    const mid = sim.counts();
    await assert.rejects(runSmall(sim, dir, ["--run-id", "few1", "--workspaces", "4", "--skip-create-workspaces"]), /has 2 workspace\(s\), fewer than --workspaces 4; set --workspaces 2/);
    assert.deepEqual(sim.counts(), mid, "nothing created or deleted by the refused run");
    assert.notDeepEqual(mid, before);
  });
});

test("--cleanup-prepare deletes what earlier runs of this results folder left, and nothing of another runner's run", async () => {
  await withSim({}, async (sim) => {
    const mine = tempResults();
    const theirs = tempResults();
    const args = ["--scenarios", "web-terminal", "--percentage", "100", "--cleanup-strategy", "on_stop"];
    assert.equal((await runSmall(sim, mine, ["--run-id", "old1", ...args])).exitCode, 0);
    assert.equal((await runSmall(sim, theirs, ["--run-id", "other1", ...args])).exitCode, 0);
    assert.equal(names(sim, "old1").length, 4);
    assert.equal(names(sim, "other1").length, 4);
    const theirsBefore = { ws: names(sim, "other1"), users: userNames(sim, "other1") };

    const out = await runSmall(sim, mine, ["--run-id", "new1", "--scenarios", "web-terminal", "--percentage", "100", "--cleanup-prepare"]);
    assert.equal(out.exitCode, 0, out.output);
    const run = readJSON<RunJson>(join(out.runDir!, "run.json"));
    assert.deepEqual(run.phases.map((p) => p.name).slice(0, 3), ["prepare", "cleanup-prepare", "create-workspaces"]);
    const prep = readJSON<{ status: string; extra: { run_ids: string[]; workspaces_deleted: number; users_deleted: number; remaining: string[] } }>(
      join(out.runDir!, run.phases.find((p) => p.name === "cleanup-prepare")!.dir!, "result.json"),
    );
    assert.equal(prep.status, "pass");
    assert.deepEqual(prep.extra.run_ids, ["old1"], "only the run recorded in this results folder");
    assert.equal(prep.extra.workspaces_deleted, 4);
    assert.equal(prep.extra.users_deleted, 4);
    assert.deepEqual(names(sim, "old1"), []);
    assert.deepEqual(userNames(sim, "old1"), []);
    assert.deepEqual({ ws: names(sim, "other1"), users: userNames(sim, "other1") }, theirsBefore, "another runner's run is untouched");
    assert.deepEqual(names(sim, "new1"), [], "the run cleaned up after itself");

    // A run whose last phase was a passed cleanup (new1) is not visited again; old1 ended without one.
    const again = await runSmall(sim, mine, ["--run-id", "new2", "--scenarios", "web-terminal", "--percentage", "100", "--cleanup-prepare"]);
    const run2 = readJSON<RunJson>(join(again.runDir!, "run.json"));
    const prep2 = readJSON<{ extra: { run_ids: string[] } }>(join(again.runDir!, run2.phases.find((p) => p.name === "cleanup-prepare")!.dir!, "result.json"));
    assert.deepEqual(prep2.extra.run_ids, ["old1"]);
  });
});
