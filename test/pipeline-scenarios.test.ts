// Scenario scripts rerun by hand, as the README suggests, write exactly the records the pipeline would:
// create-workspaces --no-cleanup, then traffic twice with the same run id, then report.ts and status.ts.
// A rerun keeps the earlier attempt; a script refused for bad input writes nothing and leaves LATEST alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { loadReportModel } from "../src/report/model.ts";
import { reportMain } from "../scripts/report.ts";
import { statusText } from "../scripts/status.ts";
import { FAKE_CODER, ROOT, tempResults } from "./helpers/pipeline.ts";
import { withSim, type Sim } from "./helpers/sim.ts";

function script(sim: Sim, resultsDir: string, name: string, args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
  return execa(process.execPath, ["--import", "tsx", join("scenarios", `${name}.ts`), ...args], {
    cwd: ROOT,
    env: { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: resultsDir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0", SCALETEST_CODER_BINARY: FAKE_CODER },
    extendEnv: false,
    reject: false,
    timeout: 90_000,
  });
}

test("standalone create-workspaces + traffic reruns show in report.ts and status.ts like pipeline phases; reruns keep both attempts", async () => {
  await withSim({}, async (sim) => {
    const before = sim.counts();
    const dir = tempResults();
    const create = await script(sim, dir, "create-workspaces", ["--count", "4", "--no-cleanup", "--run-id", "ux1"]);
    assert.equal(create.exitCode, 0, create.stderr);
    for (let i = 0; i < 2; i++) {
      const t = await script(sim, dir, "web-terminal-traffic", ["--run-id", "ux1", "--duration", "1s"]);
      assert.equal(t.exitCode, 0, t.stderr);
    }
    const ssh = await script(sim, dir, "ssh-traffic", ["--run-id", "ux1", "--duration", "1s", "--threshold", "ssh.tick.p99<1ns"]);
    assert.equal(ssh.exitCode, 1, "the ssh rerun fails its threshold");
    assert.match(ssh.stdout, /✗ ssh\.tick\.p99<1ns\s+observed/);

    // Bad input: exit 2, nothing written, LATEST still names ux1.
    const latestBefore = readFileSync(join(dir, "LATEST"), "utf8");
    const bad = await script(sim, dir, "create-workspaces", ["--count", "2", "--template", "nope", "--run-id", "typo1"]);
    assert.equal(bad.exitCode, 2, bad.stderr);
    assert.match(bad.stderr, /--template "nope" was not found/);
    assert.ok(!existsSync(join(dir, "typo1")), "a refused run writes nothing");
    assert.equal(readFileSync(join(dir, "LATEST"), "utf8"), latestBefore);

    const runDir = join(dir, "ux1");
    assert.deepEqual(readdirSync(runDir).filter((d) => /^\d\d-/.test(d)).sort(), [
      "01-create-workspaces", "02-web-terminal-traffic", "03-web-terminal-traffic", "04-ssh-traffic",
    ]);
    const io = { out: "", err: "" };
    const code = await reportMain(["--results-dir", dir], { out: (s) => void (io.out += s), err: (s) => void (io.err += s) }, { PATH: process.env.PATH });
    assert.equal(code, 0, io.err);
    assert.match(io.out, /Run ux1: FAIL/);
    const m = loadReportModel(runDir);
    assert.equal(m.origin, "scenarios");
    const byName = (n: string) => m.phases.find((p) => p.name === n)!;
    // The real create result: counts, build times for the chart, thresholds.
    const c = byName("create-workspaces");
    assert.equal(c.status, "pass");
    assert.deepEqual(c.totals, { runs: 4, pass: 4, fail: 0 });
    assert.equal(c.buildTimes.length, 4);
    assert.deepEqual(c.thresholds.map((t) => [t.expression, t.ok]), [["create.success_rate>=100%", true]]);
    // The traffic phases: the latest attempt shown, the earlier one listed.
    const wt = byName("web-terminal-traffic");
    assert.equal(wt.attempt, 2);
    assert.equal(wt.dir, "03-web-terminal-traffic");
    assert.deepEqual(wt.otherAttempts.map((a) => [a.attempt, a.dir, a.status]), [[1, "02-web-terminal-traffic", "pass"]]);
    assert.ok(wt.throughput.bytesPerSec! > 0);
    assert.equal(byName("ssh-traffic").status, "fail");
    const md = readFileSync(join(runDir, "report.md"), "utf8");
    assert.match(md, /earlier attempt/i);
    // status.ts shows the last scenario of the latest run.
    assert.equal(statusText({ what: "status", resultsDir: dir, runId: "", help: false }), "Failed (exit=1)");
    assert.equal(statusText({ what: "phase", resultsDir: dir, runId: "", help: false }), "ssh-traffic (fail) [done]");
    assert.equal(statusText({ what: "previous-phase", resultsDir: dir, runId: "", help: false }), "web-terminal-traffic");

    const clean = await script(sim, dir, "cleanup", ["--run-id", "ux1"]);
    assert.equal(clean.exitCode, 0, clean.stderr);
    assert.deepEqual(sim.counts(), before);
  });
});
