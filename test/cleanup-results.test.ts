// Where scenarios/cleanup.ts writes its results: bad input exits 2 and writes nothing; --all belongs to
// no run, so it writes to its own cleanup-all-<timestamp>/ folder (never a folder for a generated run id,
// never LATEST); --run-id writes into that run's folder.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Sim } from "../sim/index.ts";
import { LATEST_FILE, openResultsDir } from "../src/results/dir.ts";
import { startFastSim } from "./helpers/create-sim.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function childEnv(sim: Sim, resultsDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
  return { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: resultsDir };
}

// Side by side: every case writes to a results folder of its own, and the simulator holds nothing to clean.
describe("cleanup script results folder", { concurrency: 3 }, () => {
  let sim: Sim;
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), "cleanup-results-"));
    dirs.push(d);
    return d;
  };
  before(async () => {
    sim = await startFastSim();
  });
  after(async () => {
    await sim.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const run = (dir: string, args: string[]) =>
    execa(process.execPath, ["--import", "tsx", "scenarios/cleanup.ts", ...args], {
      cwd: ROOT, env: childEnv(sim, dir), extendEnv: false, reject: false, timeout: 60_000,
    });

  test("bad input exits 2 with one message and writes nothing", async () => {
    const cases = [
      [[], /^cleanup: nothing to clean up: give --run-id/m],
      [["--all", "--run-id", "abc1"], /^cleanup: give either --run-id .* or --all/m],
    ] as const;
    const dirOf = cases.map(() => fresh());
    const runs = await Promise.all(cases.map(([args], i) => run(dirOf[i]!, [...args])));
    cases.forEach(([args, re], i) => {
      const r = runs[i]!;
      assert.equal(r.exitCode, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.deepEqual(readdirSync(dirOf[i]!), [], `${args.join(" ") || "(no flags)"} wrote nothing`);
    });
  });

  test("--all writes to cleanup-all-<timestamp>/ only; --run-id to the run's folder", async () => {
    const dir = fresh();
    const all = await run(dir, ["--all"]);
    assert.equal(all.exitCode, 0, all.stderr);
    const entries = readdirSync(dir);
    assert.equal(entries.length, 1, `one folder, got ${entries.join(", ")}`);
    assert.match(entries[0]!, /^cleanup-all-\d{8}-\d{6}$/);
    const result = JSON.parse(readFileSync(join(dir, entries[0]!, "01-cleanup", "result.json"), "utf8")) as object;
    assert.ok(result && typeof result === "object");
    assert.ok(existsSync(join(dir, entries[0]!, "01-cleanup", "summary.txt")));

    const one = await run(dir, ["--run-id", "gone1"]);
    assert.equal(one.exitCode, 0, one.stderr);
    assert.deepEqual(readdirSync(dir).filter((d) => !d.startsWith("cleanup-all-")).sort(), [LATEST_FILE, "gone1"].sort());
    assert.ok(existsSync(join(dir, "gone1", "01-cleanup", "result.json")));
  });

  test("openResultsDir: an explicit folder never becomes LATEST; bad folder names are refused", () => {
    const dir = fresh();
    const r = openResultsDir(dir, "abc1", { folder: "cleanup-all-20250101-120000" });
    assert.equal(r.path, join(dir, "cleanup-all-20250101-120000"));
    assert.ok(!existsSync(join(dir, LATEST_FILE)));
    assert.throws(() => openResultsDir(dir, "abc1", { folder: "../x" }), /invalid results folder name/);
    assert.throws(() => openResultsDir(dir, "abc1", { folder: "A b" }), /invalid results folder name/);
  });
});
