import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { openResultsDir } from "../src/results/dir.ts";
import { parseStatusArgs, statusText } from "../scripts/status.ts";
import { tempDir } from "./helpers/results-tmp.ts";

const run = promisify(execFile);
const TSX = resolve("node_modules/.bin/tsx");
const SCRIPT = resolve("scripts/status.ts");

test("parseStatusArgs: flags, = form, env defaults, unknown flags ignored", () => {
  assert.deepEqual(parseStatusArgs([], {}), { what: "status", resultsDir: "./results", runId: "", help: false });
  assert.deepEqual(parseStatusArgs(["--phase", "--results-dir", "/r", "--bogus"], { SCALETEST_RUN_ID: "abc" }), {
    what: "phase",
    resultsDir: "/r",
    runId: "abc",
    help: false,
  });
  const a = parseStatusArgs(["--previous-phase", "--run-id=zz1", "--results-dir=/x"], { SCALETEST_RESULTS_DIR: "/env" });
  assert.equal(a.what, "previous-phase");
  assert.equal(a.runId, "zz1");
  assert.equal(a.resultsDir, "/x");
  assert.equal(parseStatusArgs([], { SCALETEST_RESULTS_DIR: "/env" }).resultsDir, "/env");
});

test("statusText follows the latest run's state files like Coder's lib.sh", () => {
  const tmp = tempDir("scaletest-status-");
  try {
    const base = { resultsDir: tmp.path, runId: "", help: false };
    assert.equal(statusText({ ...base, what: "status" }), "Not started");
    assert.equal(statusText({ ...base, what: "phase" }), "None");
    assert.equal(statusText({ ...base, what: "previous-phase" }), "None");
    const dir = openResultsDir(tmp.path, "st1");
    assert.equal(statusText({ ...base, what: "status" }), "Not started");
    dir.setStatus("Running");
    dir.startPhase("Creating workspaces");
    assert.equal(statusText({ ...base, what: "status" }), "Running");
    assert.equal(statusText({ ...base, what: "phase" }), "Creating workspaces");
    assert.equal(statusText({ ...base, what: "previous-phase" }), "None");
    dir.endPhase();
    assert.equal(statusText({ ...base, what: "phase" }), "Creating workspaces [done]");
    dir.startPhase("Running ssh-traffic");
    assert.equal(statusText({ ...base, what: "previous-phase" }), "Creating workspaces");
    // A newer run takes over LATEST; --run-id still reads the older one.
    const other = openResultsDir(tmp.path, "st2");
    other.setStatus("Preparing");
    assert.equal(statusText({ ...base, what: "status" }), "Preparing");
    assert.equal(statusText({ ...base, runId: "st1", what: "status" }), "Running");
    assert.equal(statusText({ ...base, runId: "nope", what: "status" }), "Not started");
    assert.equal(statusText({ ...base, runId: "st1", what: "phase" }), "Running ssh-traffic");
    // Garbage in LATEST or an unreadable state file: still the "nothing" answer, no exception.
    writeFileSync(join(tmp.path, "LATEST"), "../../etc\n");
    assert.equal(statusText({ ...base, what: "status" }), "Not started");
    if (process.getuid?.() !== 0) {
      writeFileSync(join(tmp.path, "LATEST"), "st1\n");
      chmodSync(join(dir.path, "state", "status"), 0o000);
      assert.equal(statusText({ ...base, what: "status" }), "Not started");
    }
  } finally {
    tmp.cleanup();
  }
});

test("scripts/status.ts prints one line and exits 0, even for a missing results dir", async () => {
  const tmp = tempDir("scaletest-status-");
  try {
    const dir = openResultsDir(tmp.path, "st3");
    dir.setStatus("Failed (exit=1)");
    dir.startPhase("Cleanup (on_error)");
    const env = { ...process.env, SCALETEST_RESULTS_DIR: tmp.path };
    const opts = { env, cwd: resolve("."), timeout: 20_000 };
    const [status, phase, missing] = await Promise.all([
      run(TSX, [SCRIPT], opts),
      run(TSX, [SCRIPT, "--phase"], opts),
      run(TSX, [SCRIPT, "--previous-phase", "--results-dir", join(tmp.path, "none")], opts),
    ]);
    assert.equal(status.stdout, "Failed (exit=1)\n");
    assert.equal(phase.stdout, "Cleanup (on_error)\n");
    assert.equal(missing.stdout, "None\n");
    assert.equal(status.stderr + phase.stderr + missing.stderr, "");
  } finally {
    tmp.cleanup();
  }
});
