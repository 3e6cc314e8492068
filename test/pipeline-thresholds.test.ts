// Thresholds through the whole product against the simulator: a threshold on each runner's headline metric
// can fail its run (and is named in the console), and an abort threshold stops a long run: no unit starts
// after the failing evaluation, the rest of the run is skipped and cleanup follows the strategy.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readJSON, runSmall, tempResults } from "./helpers/pipeline.ts";
import { withSim } from "./helpers/sim.ts";

type Rec = {
  status: string;
  aborted_by: string | null;
  thresholds: { expression: string; ok: boolean; observed: number | null }[];
  harness: { runs: Record<string, { started_at: string; not_started?: boolean }> };
  extra: { aborted_at?: string };
};
type Run = { phases: { name: string; dir: string | null; status: string }[]; status: string };

/** Runs the pipeline with one extra threshold; returns the phase record of `phase` and the console text. */
async function runWith(threshold: string, phase: string, argv: string[] = []): Promise<{ exitCode: number; output: string; rec: Rec; run: Run }> {
  return withSim({}, async (sim) => {
    const before = sim.counts();
    const out = await runSmall(sim, tempResults(), ["--threshold", threshold, "--cleanup-strategy", "always", ...argv]);
    const run = readJSON<Run>(join(out.runDir!, "run.json"));
    const entry = run.phases.find((p) => p.name === phase);
    assert.ok(entry?.dir, `${phase} ran: ${out.output}`);
    assert.deepEqual(sim.counts(), before, "cleanup (always) removed everything");
    return { exitCode: out.exitCode, output: out.output, rec: readJSON<Rec>(join(out.runDir!, entry.dir, "result.json")), run };
  });
}

function assertFailedBy(r: { exitCode: number; output: string; rec: Rec }, phase: string, expression: string): void {
  assert.equal(r.exitCode, 1, r.output);
  assert.equal(r.rec.status, "fail");
  const row = r.rec.thresholds.find((t) => t.expression === expression);
  assert.ok(row && !row.ok && row.observed !== null && row.observed > 0, JSON.stringify(r.rec.thresholds));
  // The console summary names the failed threshold, its phase and the value observed.
  assert.match(r.output, new RegExp(`✗ ${phase}: ${expression.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(observed [^)]+\\)`));
}

test("a threshold on create-workspaces' provisioning time fails the run", async () => {
  const r = await runWith("create.provision.p95<1ns", "create-workspaces", ["--scenarios", "web-terminal", "--duration", "1s"]);
  assertFailedBy(r, "create-workspaces", "create.provision.p95<1ns");
});

test("a threshold on web-terminal tick latency fails the run", async () => {
  const r = await runWith("web-terminal.tick.p95<1ns", "web-terminal-traffic", ["--scenarios", "web-terminal"]);
  assertFailedBy(r, "web-terminal-traffic", "web-terminal.tick.p95<1ns");
});

test("a threshold on ssh tick latency fails the run", async () => {
  const r = await runWith("ssh.tick.p99<1ns", "ssh-traffic", ["--scenarios", "ssh"]);
  assertFailedBy(r, "ssh-traffic", "ssh.tick.p99<1ns");
});

test("a threshold on app traffic throughput fails the run", async () => {
  const r = await runWith("app.throughput{*}>1GB/s", "app-traffic", ["--scenarios", "app"]);
  assertFailedBy(r, "app-traffic", "app.throughput{*}>1GB/s");
});

test("a threshold on dashboard page load time fails the run, naming the page", async () => {
  const r = await runWith("dashboard.page.p95<1ns", "dashboard-traffic", ["--scenarios", "dashboard"]);
  assertFailedBy(r, "dashboard-traffic", "dashboard.page.p95<1ns");
  assert.match(r.output, /dashboard\.page\.p95<1ns\s+observed [^,]+, limit [^(]+\(failed for page=/);
});

test("a threshold on cleanup's deletion time fails the run", async () => {
  const r = await runWith("cleanup.delete.p95<1ns", "cleanup", ["--scenarios", "web-terminal", "--duration", "1s"]);
  assertFailedBy(r, "cleanup", "cleanup.delete.p95<1ns");
});

test("an abort threshold stops a long run: no unit starts after the failing evaluation; cleanup follows the strategy", async () => {
  // 24 workspaces one at a time, builds of 300 ms: minutes of work, stopped at the first evaluation (2 s).
  await withSim({ buildDuration: 300 }, async (sim) => {
    const before = sim.counts();
    const out = await runSmall(sim, tempResults(), [
      "--workspaces", "24", "--create-concurrency", "1", "--scenarios", "web-terminal", "--duration", "30s",
      "--threshold", "create.provision.p95<1ns;abort", "--cleanup-strategy", "on_error",
    ]);
    assert.equal(out.exitCode, 1, out.output);
    const run = readJSON<Run>(join(out.runDir!, "run.json"));
    const names = run.phases.map((p) => p.name);
    assert.ok(!names.includes("web-terminal-traffic"), `no phase starts after the abort: ${names.join(", ")}`);
    assert.deepEqual(names.slice(-2), ["report", "cleanup"]);
    const rec = readJSON<Rec>(join(out.runDir!, run.phases.find((p) => p.name === "create-workspaces")!.dir!, "result.json"));
    assert.equal(rec.status, "fail");
    assert.equal(rec.aborted_by, "create.provision.p95<1ns;abort");
    const abortedAt = Date.parse(rec.extra.aborted_at!);
    const units = Object.values(rec.harness.runs);
    const started = units.filter((u) => !u.not_started);
    assert.ok(started.length >= 1 && started.length < 24, `${started.length} of 24 started`);
    for (const u of started) assert.ok(Date.parse(u.started_at) <= abortedAt, `a unit started at ${u.started_at}, after the abort at ${rec.extra.aborted_at}`);
    assert.match(out.output, /FAIL \(aborted by create\.provision\.p95<1ns;abort\)/);
    // on_error: the failed run is cleaned up.
    assert.deepEqual(sim.counts(), before);
  });
});
