// create-workspaces --run-command against the simulator: the simulated agent runs a short command like a
// shell (prints its output, then closes the web terminal normally), so each unit records the command's
// latency and output size instead of timing out.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Sim } from "../sim/index.ts";
import { commandKind, oneShotOutput } from "../sim/pty.ts";
import { cleanupRun } from "../src/cleanup/index.ts";
import type { CoderClient } from "../src/coder/index.ts";
import { createWorkspaces, runPtyCommand } from "../src/create/index.ts";
import { loadConfig } from "../src/config/index.ts";
import { createOptionsFromConfig } from "../src/create/options.ts";
import { clientFor, liveScaletest, startFastSim } from "./helpers/create-sim.ts";

/** Deadline for a command on the simulated agent: generous for a busy machine; a healthy command ends in ms. */
const RUN_TIMEOUT_MS = 15_000;
// Well above RUN_TIMEOUT_MS. When what is left of the job timeout is the smaller, src/create/unit.ts hands
// AbortSignal.timeout a fractional delay and the unit fails with a RangeError (a product bug, reported).
const JOB_TIMEOUT_MS = 60_000;

describe("--run-command against the simulated agent", () => {
  let sim: Sim;
  let client: CoderClient;

  before(async () => {
    sim = await startFastSim({ daemons: 4 });
    client = clientFor(sim);
  });
  after(async () => {
    await client.close();
    await sim.close();
  });

  test("the simulator tells streaming, shell and one-shot commands apart", () => {
    assert.equal(commandKind("dd if=/dev/stdin of=/dev/stdout bs=1024 status=none"), "stream");
    assert.equal(commandKind("dd if=/dev/stdin of=/dev/null bs=30 status=none"), "stream");
    assert.equal(commandKind(""), "shell");
    assert.equal(commandKind("/bin/bash -l"), "shell");
    assert.equal(commandKind("echo hello"), "oneshot");
    assert.equal(commandKind("uptime"), "oneshot");
    assert.equal(oneShotOutput("echo hello"), "hello\r\n");
    assert.equal(oneShotOutput(`echo 'a  b' "c"`), "a  b c\r\n");
    assert.equal(oneShotOutput("echo"), "\r\n");
    assert.match(oneShotOutput("uptime"), /^.+\r\n$/);
  });

  test('"echo hello" on 4 workspaces: every unit passes with the command\'s latency and output', async () => {
    const r = await createWorkspaces(
      client,
      {
        runId: "runcmd",
        count: 4,
        template: "kubernetes-minimal",
        concurrency: 4,
        timeoutMs: 30_000,
        jobTimeoutMs: JOB_TIMEOUT_MS,
        retry: 0,
        pollMs: 50,
        runCommand: "echo hello",
        // Generous: a deadline for a busy machine, not an expectation (the command ends by itself).
        runTimeoutMs: RUN_TIMEOUT_MS,
        noCleanup: true,
      },
      { progress: false },
    );
    try {
      assert.equal(r.fail, 0, JSON.stringify(r.units.map((u) => u.error)));
      assert.equal(r.units.length, 4);
      for (const u of r.units) {
        assert.ok(u.command, `${u.name} has a command outcome`);
        assert.ok(u.command.latency_ms > 0, `${u.name} latency ${u.command.latency_ms}`);
        assert.ok(u.command.latency_ms < RUN_TIMEOUT_MS, `${u.name} ended by itself, before the timeout (${u.command.latency_ms} ms)`);
        assert.ok(u.command.output_bytes >= 6, `${u.name} output ${u.command.output_bytes} bytes`);
        assert.ok(u.command.first_byte_ms !== null && u.command.first_byte_ms <= u.command.latency_ms);
        assert.equal(u.timings.command, u.command.latency_ms);
      }
      assert.equal(r.stages.command.count, 4);

      // The bytes are exactly what a shell prints, and the session is gone once the command exits.
      const agent = (await client.workspace(r.units[0]!.workspace_id!)).latest_build.resources?.flatMap((x) => x.agents ?? [])[0];
      assert.ok(agent);
      let out = "";
      const ws = await client.openReconnectingPty(agent.id, { command: "echo hello", onMessage: (d) => (out += String(d)) });
      const code = await new Promise<number>((res) => ws.once("close", (c) => res(c)));
      assert.equal(code, 1000);
      assert.equal(out, "hello\r\n");
      const other = await runPtyCommand(client, agent.id, "uname -a", RUN_TIMEOUT_MS);
      assert.ok(other.output_bytes > 2);
      // --run-expect-output / --run-log-output, as in Coder's create-workspaces.
      const seen = await runPtyCommand(client, agent.id, "echo ready-42", RUN_TIMEOUT_MS, undefined, { output: "ready-42", timeoutMs: RUN_TIMEOUT_MS, keepOutput: true });
      assert.ok(seen.expected_ms !== null && seen.expected_ms <= seen.latency_ms);
      assert.equal(seen.output, "ready-42\r\n");
      await assert.rejects(
        runPtyCommand(client, agent.id, "echo something-else", RUN_TIMEOUT_MS, undefined, { output: "ready-42", timeoutMs: 2000 }),
        /--run-expect-output "ready-42" not in the command's output/,
      );
      assert.equal(sim.counts().ptySessions, 0);
    } finally {
      const c = await cleanupRun(client, { runId: "runcmd", concurrency: 8, timeoutMs: 30_000, jobTimeoutMs: 10_000, pollMs: 50, retryDelayMs: 20 }, { progress: false });
      assert.equal(c.exit_code, 0);
    }
    assert.deepEqual(liveScaletest(sim, "scaletest-runcmd-"), { users: [], workspaces: [] });
  });

  test("--run-expect-output that never appears fails exactly the workspaces, naming the expectation", async () => {
    const r = await createWorkspaces(
      client,
      {
        runId: "expect",
        count: 2,
        template: "kubernetes-minimal",
        concurrency: 2,
        timeoutMs: 30_000,
        jobTimeoutMs: JOB_TIMEOUT_MS,
        retry: 0,
        pollMs: 50,
        runCommand: "echo hello",
        runTimeoutMs: RUN_TIMEOUT_MS,
        runExpectOutput: "goodbye",
        runExpectOutputTimeoutMs: 1000,
      },
      { progress: false },
    );
    assert.equal(r.fail, 2);
    for (const u of r.units) {
      assert.equal(u.failed_stage, "command");
      assert.match(u.error ?? "", /--run-expect-output "goodbye"/);
    }
    assert.deepEqual(liveScaletest(sim, "scaletest-expect-"), { users: [], workspaces: [] }, "cleaned up after");
  });
  test("--run-expect-timeout (Coder's boolean): a command still running at --run-timeout passes; one that exits fails", async () => {
    const base = {
      count: 1, template: "kubernetes-minimal", concurrency: 1, timeoutMs: 30_000, jobTimeoutMs: JOB_TIMEOUT_MS,
      retry: 0, pollMs: 50, runTimeoutMs: 1000, runExpectTimeout: true,
    };
    // A login shell never exits by itself: --run-timeout ends it, which is what was expected.
    const t0 = performance.now();
    const held = await createWorkspaces(client, { ...base, runId: "exptoa", runCommand: "/bin/bash -l" }, { progress: false });
    assert.equal(held.pass, 1, held.units[0]?.error ?? "");
    // The limit starts before the terminal's handshake (the command's latency is counted from it), so the
    // lower bound is on the whole run: it lasted at least --run-timeout.
    assert.ok(performance.now() - t0 >= 1000, "the command ran until --run-timeout ended it");
    assert.ok((held.units[0]?.command?.latency_ms ?? 0) > 0);
    const quick = await createWorkspaces(client, { ...base, runId: "exptob", runCommand: "echo hello" }, { progress: false });
    assert.equal(quick.fail, 1);
    assert.equal(quick.units[0]?.failed_stage, "command");
    assert.match(quick.units[0]?.error ?? "", /command exited after \d+ ms, but --run-expect-timeout expects it to still run/);
    assert.deepEqual(liveScaletest(sim, "scaletest-expto"), { users: [], workspaces: [] }, "cleaned up after");
  });
});

describe("--run-expect-timeout and --run-expect-output-timeout settings", () => {
  const env = { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "runexp0000-aaaaaaaaaaaaaaaaaaaaaa" };
  test("--run-expect-timeout is a boolean flag, as in Coder; our output limit has its own duration flag", () => {
    const off = loadConfig("create-workspaces", ["--template", "t"], { env }).config;
    assert.equal(off.runExpectTimeout, false);
    assert.equal(off.runExpectOutputTimeout, 0, "no limit of its own by default: within --run-timeout, as Coder");
    const on = loadConfig("create-workspaces", ["--template", "t", "--run-command", "sleep 60", "--run-expect-timeout", "--run-expect-output-timeout", "2s"], { env }).config;
    assert.equal(on.runExpectTimeout, true);
    assert.equal(on.runExpectOutputTimeout, 2000);
    const o = createOptionsFromConfig(on, 100);
    assert.equal(o.runExpectTimeout, true);
    assert.equal(o.runExpectOutputTimeoutMs, 2000);
    assert.equal(loadConfig("create-workspaces", ["--template", "t"], { env: { ...env, SCALETEST_RUN_EXPECT_TIMEOUT: "true" } }).config.runExpectTimeout, true);
    assert.throws(() => loadConfig("create-workspaces", ["--template", "t"], { env: { ...env, SCALETEST_RUN_EXPECT_TIMEOUT: "5s" } }), /RUN_EXPECT_TIMEOUT/);
  });
});
