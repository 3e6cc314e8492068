// Results handling a hostile or unlucky filesystem: no symlink is followed when the run folder, its files,
// its state files, its logs or LATEST are created or written (issue 18, item 8); a second run with the same
// run id is refused before it creates anything, and the first run is not disturbed by it.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { LATEST_FILE, openResultsDir, STATUS_FILE } from "../src/results/dir.ts";
import { LOCK_FILE, lockRunDir } from "../src/results/lock.ts";
import { BadInputError } from "../src/util/errors.ts";
import { log } from "../src/util/log.ts";
import { resetWriteFaults, writeFaults } from "../src/util/write-faults.ts";
import { CaptureStream, tempDir } from "./helpers/results-tmp.ts";
import { scaletestLeft, simEnv, startScript, tempResults, tinyRunArgs, until, withReliabilitySim } from "./helpers/reliability.ts";

/** A folder outside the results dir that must stay exactly as it was. */
function decoy(root: string): { dir: string; file: string; unchanged: () => void } {
  const dir = join(root, "elsewhere");
  mkdirSync(dir);
  const file = join(dir, "precious.txt");
  writeFileSync(file, "precious\n");
  return {
    dir,
    file,
    unchanged: () => {
      assert.deepEqual(readdirSync(dir), ["precious.txt"], "nothing was created in the symlink's target folder");
      assert.equal(readFileSync(file, "utf8"), "precious\n", "the symlink's target file was not written");
    },
  };
}

/** Runs fn with the logger's terminal output captured (the write-fault message goes to stderr directly). */
function quietly<T>(fn: () => T): T {
  const prev = process.stderr.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return fn();
  } finally {
    process.stderr.write = prev;
  }
}

test("a symlinked results dir or run folder is refused as bad input, and nothing is written through it", () => {
  const tmp = tempDir();
  try {
    const d = decoy(tmp.path);
    symlinkSync(d.dir, join(tmp.path, "results-link"));
    assert.throws(() => openResultsDir(join(tmp.path, "results-link"), "ab1"), (e: unknown) => e instanceof BadInputError && /symlink/.test((e as Error).message));
    const results = join(tmp.path, "results");
    mkdirSync(results);
    symlinkSync(d.dir, join(results, "ab1"));
    assert.throws(() => openResultsDir(results, "ab1"), (e: unknown) => e instanceof BadInputError && /ab1 is a symlink/.test((e as Error).message));
    d.unchanged();
    assert.equal(existsSync(join(results, LATEST_FILE)), false, "LATEST is not written for a refused run");
  } finally {
    tmp.cleanup();
  }
});

test("state files, result files, logs, phase folders and LATEST that are symlinks are never written through", () => {
  const tmp = tempDir();
  resetWriteFaults();
  try {
    const d = decoy(tmp.path);
    const results = join(tmp.path, "results");
    mkdirSync(results);
    // LATEST as a link: replaced by the rename, its target untouched.
    symlinkSync(d.file, join(results, LATEST_FILE));
    const dir = openResultsDir(results, "ab2");
    try {
      assert.equal(lstatSync(join(results, LATEST_FILE)).isSymbolicLink(), false, "LATEST is a file of its own now");
      assert.equal(readFileSync(join(results, LATEST_FILE), "utf8"), "ab2\n");

      // Links planted inside the open run folder.
      rmSync(join(dir.path, "state"), { recursive: true });
      mkdirSync(join(dir.path, "state"));
      symlinkSync(d.file, join(dir.path, STATUS_FILE));
      symlinkSync(d.file, join(dir.path, "run.log"));
      symlinkSync(d.dir, join(dir.path, "01-create"));
      symlinkSync(d.file, join(dir.path, "summary.json"));

      quietly(() => {
        dir.setStatus("Running");
        const stop = log.toFile(join(dir.path, "run.log"));
        log.setStream(new CaptureStream());
        log.info("a line for run.log");
        stop();
        dir.writeJSON("01-create/result.json", { ok: true });
        dir.writeText("01-create/summary.txt", "text");
      });
      // A link at a file's own name is replaced by the atomic rename, never written through.
      dir.writeJSON("summary.json", { ok: true });
      assert.equal(lstatSync(join(dir.path, "summary.json")).isSymbolicLink(), false);

      d.unchanged();
      const faults = writeFaults();
      assert.ok(faults.count >= 4, `each refused write is counted (got ${faults.count})`);
      assert.match(faults.first!.message, /symlink/);
      assert.deepEqual(dir.listPhases(), [], "a symlinked phase folder is not one of the run's phases");
      assert.equal(dir.getStatus(), "Not started", "a symlinked status file is not read either");
    } finally {
      dir.close();
    }
  } finally {
    resetWriteFaults();
    tmp.cleanup();
  }
});

test("the run lock: a live holder refuses a second run; a dead holder's lock is taken over; release removes it", async () => {
  const tmp = tempDir();
  // A live process that is not this one (same host): the holder of a planted lock.
  const sleeper = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  try {
    const runDir = join(tmp.path, "lk1");
    mkdirSync(runDir);
    const lock = join(runDir, LOCK_FILE);
    const { hostname } = await import("node:os");
    writeFileSync(lock, JSON.stringify({ pid: sleeper.pid, host: hostname(), started: "2026-01-01T00:00:00.000Z" }));
    assert.throws(() => lockRunDir(runDir, "lk1"), (e: unknown) => e instanceof BadInputError && /run lk1 is already in progress: process \d+/.test((e as Error).message) && (e as Error).message.includes(lock));
    assert.throws(() => openResultsDir(tmp.path, "lk1"), /already in progress/);
    assert.equal(existsSync(join(runDir, "state")), false, "the refused run created nothing in the folder");

    // The holder ends: its lock is stale and taken over.
    sleeper.kill("SIGKILL");
    await until("the sleeper to exit", () => sleeper.exitCode !== null || sleeper.signalCode !== null, 10_000);
    const release = lockRunDir(runDir, "lk1");
    assert.equal(JSON.parse(readFileSync(lock, "utf8")).pid, process.pid, "the lock names this process now");
    release();
    assert.equal(existsSync(lock), false, "release removes the lock");

    // A symlink where the lock should be is refused, not followed.
    const d = decoy(tmp.path);
    symlinkSync(d.file, lock);
    assert.throws(() => lockRunDir(runDir, "lk1"), /not a regular lock file/);
    d.unchanged();
  } finally {
    sleeper.kill("SIGKILL");
    tmp.cleanup();
  }
});

test("two runs with the same run id: the second exits 2 before creating anything; the first runs on and cleans up", async () => {
  await withReliabilitySim({}, async (sim) => {
    const tmp = tempResults("lock");
    // The first run's user creation waits at this gate, so the second run's preflight finds the run id
    // still unused (as when both start at once) and only the lock can stop it.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let heldCreates = 0;
    sim.http.use(async (ctx) => {
      if (ctx.method === "POST" && ctx.path === "/api/v2/users") {
        heldCreates++;
        await gate;
      }
      return false;
    });
    try {
      const runId = "twins";
      const tokenName = `scaletest-runner-${runId}`;
      const tokens = () => [...sim.state.apiKeys.values()].filter((k) => k.tokenName === tokenName);
      const args = tinyRunArgs(runId, tmp.dir, ["--scenarios", "web-terminal", "--duration", "1s", "--workspaces", "2"]);
      const first = startScript("scripts/run.ts", args, simEnv(sim), 120_000);
      const runDir = join(tmp.dir, runId);
      await until("the first run to wait on its first user creation", () => heldCreates > 0 && tokens().length === 1, 60_000, 50);
      const firstToken = tokens()[0]!.id;
      const before = sim.counts();

      // A second pipeline and a scenario script with the same run id, side by side: both are refused.
      const [second, scenario] = await Promise.all([
        startScript("scripts/run.ts", args, simEnv(sim), 60_000).done,
        startScript("scenarios/create-workspaces.ts", ["--run-id", runId, "--results-dir", tmp.dir, "--count", "1", "--template", "kubernetes-minimal", "--metrics-address", "127.0.0.1:0"], simEnv(sim), 60_000).done,
      ]);
      assert.equal(second.code, 2, `the second run is refused as bad input: ${second.stderr.slice(-800)}`);
      assert.match(second.stderr, /run twins is already in progress: process \d+ on .* holds .*\.lock/);
      assert.deepEqual(tokens().map((k) => k.id), [firstToken], "the first run's token is untouched and no second one was minted");
      const after = sim.counts();
      assert.equal(after.workspaces, before.workspaces, "the second run created no workspace");
      assert.equal(after.users, before.users, "the second run created no user");

      // The scenario script is refused the same way, after its read-only checks.
      assert.equal(scenario.code, 2, `the scenario is refused as bad input: ${scenario.stderr.slice(-800)}`);
      assert.match(scenario.stderr, /^create-workspaces: run twins is already in progress/m);
      assert.doesNotMatch(scenario.stderr, /\n\s+at /, "one message, no stack trace");

      // The first run was not disturbed: released, it runs to the end and cleans up everything it created.
      open();
      const r = await first.done;
      assert.equal(r.code, 0, `the first run passes: ${r.stderr.slice(-800)}`);
      assert.deepEqual(scaletestLeft(sim), { users: [], workspaces: [] });
      assert.deepEqual(tokens(), [], "the first run revoked its own token");
      assert.equal(existsSync(join(runDir, LOCK_FILE)), false, "the lock is released at the end");
    } finally {
      open();
      tmp.remove();
    }
  });
});
