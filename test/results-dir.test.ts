import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  checkWritable,
  latestRunDir,
  NO_PHASE,
  NOT_STARTED,
  openResultsDir,
  readPhase,
  readPreviousPhase,
  readStatus,
} from "../src/results/dir.ts";
import { HarnessResults } from "../src/results/harness.ts";
import { summarize } from "../src/results/stats.ts";
import {
  buildPhaseRecord,
  buildRunSummary,
  formatPhaseText,
  formatRunSummaryText,
  writePhaseRecord,
  type PhaseRecord,
} from "../src/results/summary.ts";
import { PhaseRecord as PhaseRecordSchema, readResultsFile, RunSummary, type ThresholdRow } from "../src/results/schema.ts";
import { clearSecrets, registerSecret } from "../src/util/redact.ts";
import { tempDir } from "./helpers/results-tmp.ts";

const TS = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";

test("openResultsDir creates the layout, numbers phase folders, writes atomically and redacted", () => {
  clearSecrets();
  registerSecret("session-token-abcdef123");
  const tmp = tempDir();
  try {
    const dir = openResultsDir(join(tmp.path, "results"), "k3x9q2");
    assert.equal(dir.path, join(tmp.path, "results", "k3x9q2"));
    assert.ok(existsSync(join(dir.path, "state")));
    assert.equal(readFileSync(join(tmp.path, "results", "LATEST"), "utf8"), "k3x9q2\n");
    assert.equal(latestRunDir(join(tmp.path, "results")), dir.path);
    assert.equal(latestRunDir(join(tmp.path, "nothing")), null);

    const p1 = dir.phaseDir("create-workspaces");
    const p2 = dir.phaseDir("ssh-traffic");
    assert.equal(p1, join(dir.path, "01-create-workspaces"));
    assert.equal(p2, join(dir.path, "02-ssh-traffic"));
    assert.equal(dir.phaseDir("create-workspaces"), p1, "reused");
    assert.deepEqual(dir.listPhases().map((p) => [p.index, p.name, p.dirName]), [
      [1, "create-workspaces", "01-create-workspaces"],
      [2, "ssh-traffic", "02-ssh-traffic"],
    ]);
    assert.throws(() => dir.phaseDir("Bad Name"), /invalid phase name/);

    dir.writeJSON("run.json", { run_id: "k3x9q2", url: "http://127.0.0.1?t=session-token-abcdef123" });
    const raw = readFileSync(join(dir.path, "run.json"), "utf8");
    assert.ok(!raw.includes("session-token-abcdef123") && raw.includes("[REDACTED]") && raw.endsWith("\n"));
    assert.deepEqual(dir.readJSON("run.json"), { run_id: "k3x9q2", url: "http://127.0.0.1?t=[REDACTED]" });
    assert.equal(dir.readJSON("missing.json"), null);
    dir.writeText("02-ssh-traffic/summary.txt", "token session-token-abcdef123\n");
    assert.equal(readFileSync(join(p2, "summary.txt"), "utf8"), "token [REDACTED]\n");
    assert.ok(dir.exists("02-ssh-traffic/summary.txt"));
    assert.deepEqual(readdirSync(p2), ["summary.txt"], "no temp files left");
    assert.throws(() => dir.writeText("../escape.txt", "x"), /outside the run's results folder/);
    assert.throws(() => dir.resolve("/etc/passwd"), /outside/);
    writeFileSync(join(dir.path, "broken.json"), "{");
    assert.throws(() => dir.readJSON("broken.json"), /not valid JSON/);
    assert.throws(() => openResultsDir(tmp.path, "Bad-Id"), /invalid run id/);
  } finally {
    tmp.cleanup();
    clearSecrets();
  }
});

test("status and phase state files follow Coder's lib.sh format", () => {
  const tmp = tempDir();
  try {
    const dir = openResultsDir(tmp.path, "abc");
    assert.equal(dir.getStatus(), NOT_STARTED);
    assert.equal(dir.getPhase(), NO_PHASE);
    assert.equal(dir.getPreviousPhase(), NO_PHASE);
    assert.throws(() => dir.endPhase(), /BUG: endPhase called with no phase in progress/);

    dir.setStatus("Preparing");
    dir.setStatus("Running");
    assert.equal(dir.getStatus(), "Running");
    assert.throws(() => dir.setStatus("two\nlines"), /single line/);

    assert.equal(dir.startPhase("Creating workspaces"), 1);
    assert.equal(dir.getPhase(), "Creating workspaces");
    assert.equal(dir.endPhase(), 1);
    assert.equal(dir.getPhase(), "Creating workspaces [done]");
    assert.equal(dir.getPreviousPhase(), NO_PHASE);
    assert.throws(() => dir.endPhase(), /BUG/);
    assert.equal(dir.startPhase("SSH traffic"), 2);
    assert.equal(dir.getPhase(), "SSH traffic");
    assert.equal(dir.getPreviousPhase(), "Creating workspaces");
    dir.endPhase("SSH traffic (interrupted)");
    assert.equal(dir.getPhase(), "SSH traffic (interrupted) [done]");

    const status = readFileSync(join(dir.path, "state/status"), "utf8").trimEnd().split("\n");
    assert.equal(status.length, 2);
    assert.match(status[1]!, new RegExp(`^${TS} Running$`));
    const phase = readFileSync(join(dir.path, "state/phase"), "utf8").trimEnd().split("\n");
    const want = ["START:1: Creating workspaces", "END:1: Creating workspaces", "START:2: SSH traffic", "END:2: SSH traffic (interrupted)"];
    assert.equal(phase.length, want.length);
    phase.forEach((l, i) => assert.match(l, new RegExp(`^${TS} ${want[i]!.replace(/[()]/g, "\\$&")}$`)));
    // The standalone readers (used by metadata scripts) agree.
    assert.equal(readStatus(dir.path), "Running");
    assert.equal(readPhase(dir.path), "SSH traffic (interrupted) [done]");
    assert.equal(readPreviousPhase(dir.path), "Creating workspaces");
  } finally {
    tmp.cleanup();
  }
});

test("checkWritable: ok for a creatable folder, clear error otherwise", () => {
  const tmp = tempDir();
  try {
    checkWritable(join(tmp.path, "new/nested"));
    assert.ok(existsSync(join(tmp.path, "new/nested")));
    assert.deepEqual(readdirSync(join(tmp.path, "new/nested")), []);
    writeFileSync(join(tmp.path, "file"), "x");
    assert.throws(() => checkWritable(join(tmp.path, "file", "sub")), /results directory .* is not writable \((ENOTDIR|EEXIST)\): choose another/);
  } finally {
    tmp.cleanup();
  }
});

const row = (expression: string, observed: number | null, ok: boolean, unit = "ms"): ThresholdRow => ({
  expression, metric: expression.split(/[.<>]/).slice(0, 2).join("."), observed, limit: 1000, unit, ok, abort: false, failed_label: null, source: "flag",
});

test("phase records and the run summary derive status, validate against the schema and round-trip through the results dir", () => {
  const tmp = tempDir();
  try {
    const dir = openResultsDir(tmp.path, "r1");
    const t0 = new Date("2025-01-01T00:00:00.000Z");
    const t1 = new Date("2025-01-01T00:02:03.000Z");
    const h = new HarnessResults();
    h.add({ testName: "workspacebuild", id: 0, startedAt: t0, durationMs: 1000 });
    h.add({ testName: "workspacebuild", id: 1, startedAt: t0, durationMs: 2000, error: "timeout" });
    const base = { runId: "r1", startedAt: t0, endedAt: t1 };
    const failed = buildPhaseRecord({ ...base, phase: "create-workspaces", harness: h.toJSON(3000), stages: { build: summarize([800, 900]) } });
    assert.equal(failed.status, "fail");
    assert.deepEqual(failed.totals, { runs: 2, pass: 1, fail: 1 });
    const tolerated = buildPhaseRecord({ ...base, phase: "create-workspaces", harness: h.toJSON(3000), thresholds: [row("create.success_rate>=50%", 0.5, true, "ratio")] });
    assert.equal(tolerated.status, "pass", "a met success threshold tolerates the failed run it allows");
    assert.equal(failed.duration, "2m3s");
    assert.equal(failed.duration_ms, 123_000);
    assert.equal(failed.active_ms, 123_000, "without a runner, the phase ran its whole duration");

    const cases: [Partial<Parameters<typeof buildPhaseRecord>[0]>, PhaseRecord["status"]][] = [
      [{}, "pass"],
      [{ thresholds: [row("ssh.tick.p95<1s", 500, true)] }, "pass"],
      [{ thresholds: [row("ssh.tick.p95<1s", 1500, false)] }, "fail"],
      [{ abortedBy: "ssh.tick.p95<1s" }, "fail"],
      [{ interruptedBy: "SIGINT" }, "interrupted"],
      [{ error: new Error("API unreachable") }, "error"],
      [{ skipped: true, error: "x" }, "skipped"],
    ];
    for (const [extra, want] of cases) assert.equal(buildPhaseRecord({ ...base, phase: "p", ...extra }).status, want, JSON.stringify(extra));

    const { path: phaseDir, dirName, attempt } = dir.newPhaseDir("create-workspaces");
    assert.deepEqual([dirName, attempt], ["01-create-workspaces", 1]);
    writePhaseRecord(dir, phaseDir, failed);
    const back = readResultsFile(PhaseRecordSchema, join(phaseDir, "result.json"));
    assert.deepEqual(back, JSON.parse(JSON.stringify(failed)));
    // A rerun gets its own folder: the first attempt is kept.
    assert.deepEqual(dir.newPhaseDir("create-workspaces").dirName, "02-create-workspaces");
    assert.equal(dir.newPhaseDir("create-workspaces").attempt, 3);
    const text = readFileSync(join(phaseDir, "summary.txt"), "utf8");
    assert.match(text, /^Phase create-workspaces: FAIL in 2m03s\n/);
    assert.match(text, /== FAIL: workspacebuild\/1/);
    assert.match(text, /Timings:\nstage  count/);
    assert.equal(text, formatPhaseText(failed));
    // A file that does not match the schema: the error names the file and the field.
    writeFileSync(join(phaseDir, "result.json"), JSON.stringify({ ...failed, totals: { runs: "2" } }));
    assert.throws(() => readResultsFile(PhaseRecordSchema, join(phaseDir, "result.json")), /01-create-workspaces\/result\.json: field "totals\.runs"/);

    const ok = buildPhaseRecord({ ...base, phase: "ssh-traffic" });
    const summary = buildRunSummary({ runId: "r1", startedAt: t0, endedAt: t1, phases: [{ ...failed, dir: "01-create-workspaces" }, ok] });
    assert.equal(summary.status, "fail");
    assert.equal(summary.phases[0]!.dir, "01-create-workspaces");
    assert.equal(summary.phases[1]!.dir, null);
    assert.equal(RunSummary.parse(JSON.parse(JSON.stringify(summary))).run_id, "r1");
    assert.equal(buildRunSummary({ runId: "r1", startedAt: t0, endedAt: t1, phases: [ok] }).status, "pass");
    const stopped = buildRunSummary({ runId: "r1", startedAt: t0, endedAt: t1, phases: [ok, buildPhaseRecord({ ...base, phase: "x", interruptedBy: "SIGTERM" })] });
    assert.equal(stopped.status, "interrupted");
    assert.equal(stopped.interrupted_by, "SIGTERM");
    const st = formatRunSummaryText(stopped);
    assert.match(st, /^Scale test run r1: INTERRUPTED in 2m03s\nInterrupted by SIGTERM/);
    assert.match(st, /\nx: INTERRUPTED \(SIGTERM\) \(2m03s\)\n/);
  } finally {
    tmp.cleanup();
  }
});

test("the end-of-run summary names every threshold with ✓/✗, its observed value and its limit", () => {
  const t0 = new Date("2025-01-01T00:00:00.000Z");
  const t1 = new Date("2025-01-01T00:00:10.000Z");
  const rec = buildPhaseRecord({
    runId: "r1", phase: "ssh-traffic", startedAt: t0, endedAt: t1,
    headline: [{ label: "tick p95", value: 250, unit: "ms" }, { label: "rate", value: 42_000, unit: "bytes/s" }],
    thresholds: [row("ssh.tick.p95<1s", 250, true), { ...row("ssh.tick.p99<100ms", 1668.1, false), limit: 100 }],
  });
  const text = formatRunSummaryText(buildRunSummary({ runId: "r1", startedAt: t0, endedAt: t1, phases: [rec] }));
  assert.match(text, /ssh-traffic: FAIL \(10s\)\n  tick p95 250ms, rate 41 KiB\/s\n/);
  assert.match(text, /✓ ssh\.tick\.p95<1s\s+observed 250ms, limit 1s/);
  assert.match(text, /✗ ssh\.tick\.p99<100ms\s+observed 1\.7s, limit 100ms/);
  assert.match(text, /Failed thresholds:\n  ✗ ssh-traffic: ssh\.tick\.p99<100ms \(observed 1\.7s\)/);
});

test("threshold values are shown in their unit in summary.txt", async () => {
  const { formatObserved } = await import("../src/results/summary.ts");
  assert.equal(formatObserved({ observed: 1668.1, unit: "ms" }), "1.7s");
  assert.equal(formatObserved({ observed: 0.005, unit: "ratio" }), "0.5%");
  assert.equal(formatObserved({ observed: 3, unit: "count" }), "3");
  assert.equal(formatObserved({ observed: 1536, unit: "bytes/s" }), "1.5 KiB/s");
  assert.equal(formatObserved({ observed: null, unit: "ms" }), "-");
});
