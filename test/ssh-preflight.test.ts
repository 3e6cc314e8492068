// SSH preflight: before anything is created, the coder CLI is found, reaches the same deployment with the
// token its connections will get, and its version is recorded; otherwise one BadInputError naming
// --coder-binary (exit 2), for ssh-traffic and for the pipeline alike.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkCoderCli } from "../src/traffic/kinds/ssh.ts";
import { BadInputError } from "../src/util/errors.ts";
import { startSim, type Sim } from "../sim/index.ts";
import { createRunningWorkspace } from "./helpers/sim.ts";
import { FAKE_CODER, filesUnder, phase, runScript, scaletestLeft, simEnv, tempResults, tinyRunArgs } from "./helpers/reliability.ts";

describe("ssh preflight", () => {
  let sim: Sim;
  let emptyPath: string;
  before(async () => {
    sim = await startSim({ seed: 17, daemons: 2, buildDuration: 20 });
    emptyPath = mkdtempSync(join(tmpdir(), "no-coder-"));
  });
  after(async () => {
    await sim.stop();
    rmSync(emptyPath, { recursive: true, force: true });
  });

  /** The environment with no coder anywhere: the default binary ("coder") on a PATH without it. */
  function noCoder(): NodeJS.ProcessEnv {
    const env = simEnv(sim, { PATH: emptyPath });
    delete env.SCALETEST_CODER_BINARY;
    return env;
  }

  it("the stand-in answers as the real CLI: its version, and the user its token belongs to", async () => {
    const info = await checkCoderCli({ coderBinary: FAKE_CODER, url: sim.url, token: sim.ownerToken });
    assert.equal(info.version, "v2.24.1+sim-fake-cli");
    assert.equal(info.binary, FAKE_CODER);
    assert.ok(info.username && info.username.length > 0, "whoami named a user");
  });

  it("a CLI that is not there: BadInputError naming --coder-binary", async () => {
    const missing = join(emptyPath, "coder");
    await assert.rejects(checkCoderCli({ coderBinary: missing, url: sim.url, token: sim.ownerToken }), (e: unknown) => {
      assert.ok(e instanceof BadInputError, String(e));
      assert.match(e.message, /--coder-binary/);
      assert.match(e.message, /not found/);
      return true;
    });
  });

  it("a CLI whose token the deployment refuses: BadInputError naming --coder-binary, token not shown", async () => {
    const token = "bogus00000-bbbbbbbbbbbbbbbbbbbbbb";
    await assert.rejects(checkCoderCli({ coderBinary: FAKE_CODER, url: sim.url, token }), (e: unknown) => {
      assert.ok(e instanceof BadInputError, String(e));
      assert.match(e.message, /--coder-binary/);
      assert.match(e.message, /whoami/);
      assert.ok(!e.message.includes("bbbbbbbbbbbb"), "no fragment of the token");
      return true;
    });
  });

  it("ssh-traffic with no coder on PATH exits 2 before anything is written", async () => {
    const results = tempResults("ssh-preflight");
    try {
      const r = await runScript("scenarios/ssh-traffic.ts", ["--results-dir", results.dir, "--run-id", "nocli1", "--metrics-address", "127.0.0.1:0"], noCoder());
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--coder-binary/);
      assert.equal(r.stderr.trim().split("\n").length, 1, `one clear error, got:\n${r.stderr}`);
      assert.deepEqual(filesUnder(results.dir), [], "no results written");
    } finally {
      results.remove();
    }
  });

  it("run.ts with ssh in its scenarios and no coder on PATH exits 2 before anything is created", async () => {
    const results = tempResults("ssh-preflight");
    try {
      const r = await runScript("scripts/run.ts", tinyRunArgs("nocli2", results.dir), noCoder());
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--coder-binary/);
      assert.deepEqual(scaletestLeft(sim), { users: [], workspaces: [] }, "no user or workspace was created");
      assert.deepEqual(filesUnder(results.dir), [], "no results written");
    } finally {
      results.remove();
    }
  });
  it("ssh-traffic records the coder CLI's version with its phase", async () => {
    await createRunningWorkspace(sim, "scaletest-cliver-0001");
    const results = tempResults("ssh-preflight");
    try {
      const r = await runScript(
        "scenarios/ssh-traffic.ts",
        ["--results-dir", results.dir, "--run-id", "cliver", "--duration", "1s", "--tick-interval", "100ms", "--metrics-address", "127.0.0.1:0"],
        simEnv(sim),
      );
      assert.equal(r.code, 0, r.stderr);
      const rec = phase(join(results.dir, "cliver"), "ssh-traffic");
      assert.deepEqual(rec.extra.coder_cli, { binary: FAKE_CODER, version: "v2.24.1+sim-fake-cli" });
    } finally {
      results.remove();
    }
  });
});
