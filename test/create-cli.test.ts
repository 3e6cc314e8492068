// The create-workspaces script as a user runs it: bad input exits 2 with one message and creates
// nothing; SIGINT mid-run writes partial results and cleans up; --run-command over a fake PTY.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { WebSocketServer } from "ws";
import type { Sim } from "../sim/index.ts";
import { CoderClient, type TemplateVersionParameter } from "../src/coder/index.ts";
import { parameterValueProblem, parseParameterArgs, runPtyCommand } from "../src/create/index.ts";
import { liveScaletest, startFastSim } from "./helpers/create-sim.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function childEnv(sim: Sim, resultsDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
  return { ...env, CODER_URL: sim.url, CODER_SESSION_TOKEN: sim.ownerToken, SCALETEST_RESULTS_DIR: resultsDir, SCALETEST_METRICS_ADDRESS: "127.0.0.1:0" };
}

describe("create-workspaces script", () => {
  let sim: Sim;
  let dir: string;
  before(async () => {
    sim = await startFastSim({ daemons: 2, buildDuration: { minMs: 100, maxMs: 150 } });
    dir = mkdtempSync(join(tmpdir(), "create-cli-"));
  });
  after(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (args: string[]) =>
    execa(process.execPath, ["--import", "tsx", "scenarios/create-workspaces.ts", ...args], {
      cwd: ROOT, env: childEnv(sim, dir), extendEnv: false, reject: false, timeout: 60_000,
    });

  test("bad input: exit 2, one clear message, nothing created", async () => {
    const before = sim.counts();
    const builds = sim.state.builds.size;
    const cases = [
      [["--count", "3", "--template", "nope"], /^create-workspaces: --template "nope" was not found in organization "coder"; templates there: /m],
      [["--count", "3", "--parameter", "cpu=5"], /^create-workspaces: --parameter cpu must be one of the options/m],
      [["--count", "0"], /--count \(SCALETEST_WORKSPACES\) must be at least 1/],
      [["--count", "99999"], /--count \(SCALETEST_WORKSPACES\) must be at most 5000/],
    ] as const;
    // Side by side: each only reads (and each run has a fresh run id, so a results folder of its own).
    const runs = await Promise.all(cases.map(([args]) => run([...args])));
    cases.forEach(([args, re], i) => {
      const r = runs[i]!;
      assert.equal(r.exitCode, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
      assert.ok(!r.stderr.includes(sim.ownerToken));
    });
    assert.deepEqual(sim.counts(), before);
    assert.equal(sim.state.builds.size, builds);
  });

  test("SIGINT mid-run: stops, writes partial results (harness JSON), cleans up, exits 1", async () => {
    const out = join(dir, "sigint.json");
    const child = run(["--count", "40", "--concurrency", "4", "--run-id", "sgi", "--output", `harness:${out}`, "--output", "text"]);
    const end = Date.now() + 20_000;
    while (liveScaletest(sim, "scaletest-sgi-").workspaces.length < 6) {
      if (Date.now() > end) throw new Error("create never got going");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGINT");
    const r = await child;
    assert.equal(r.exitCode, 1, r.stderr);
    assert.match(r.stderr, /received SIGINT: stopping gracefully/);
    const json = JSON.parse(readFileSync(out, "utf8")) as {
      total_runs: number; total_fail: number; stopped: string; runs: Record<string, { error: string; not_started: boolean }>;
      cleanup: { total_fail: number; workspaces_deleted: number } | null;
      api: { requests: number; retries: number; by_status: Record<string, number> };
    };
    assert.equal(json.total_runs, 40);
    // Every API call the script made is on record (the client's retries would be too).
    assert.ok(json.api.requests > 40 && (json.api.by_status["201"] ?? 0) > 0, JSON.stringify(json.api));
    assert.equal(json.stopped, "SIGINT");
    assert.ok(Object.values(json.runs).some((u) => u.not_started));
    assert.ok(json.cleanup && json.cleanup.total_fail === 0 && json.cleanup.workspaces_deleted >= 6);
    assert.match(r.stdout, /Stopped early: SIGINT/);
    assert.deepEqual(liveScaletest(sim), { users: [], workspaces: [] });
    // The phase folder got the phase record, the same one the pipeline writes, marked interrupted.
    const phase = JSON.parse(readFileSync(join(dir, "sgi", "01-create-workspaces", "result.json"), "utf8")) as { status: string; totals: { runs: number }; harness: { total_runs: number } };
    assert.equal(phase.status, "interrupted");
    assert.equal(phase.totals.runs, 40);
    assert.equal(phase.harness.total_runs, 40);
  });
});

describe("--run-command over the web terminal", () => {
  let server: Server;
  let url: string;
  const seen: string[] = [];
  before(async () => {
    server = createServer((_, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    server.on("upgrade", (req, socket, head) => {
      const u = new URL(req.url ?? "", "http://x");
      seen.push(`${u.pathname}?${u.searchParams.get("command")}`);
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (u.searchParams.get("command") === "sleep 10") return; // never ends
        setTimeout(() => ws.send(Buffer.from("hello\r\n")), 30);
        setTimeout(() => ws.send(Buffer.from("world\r\n")), 60);
        setTimeout(() => ws.close(1000), 80);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test("records latency, first byte and output size; a command that does not finish times out", async () => {
    const client = new CoderClient({ url, token: "abcdefghij-abcdefghijabcdefghijab" });
    const r = await runPtyCommand(client, "agent-1", "echo hello world", 2000);
    assert.equal(r.output_bytes, 14);
    assert.ok(r.first_byte_ms !== null && r.first_byte_ms >= 25 && r.first_byte_ms < r.latency_ms);
    assert.ok(r.latency_ms >= 75 && r.latency_ms < 1500, String(r.latency_ms));
    assert.deepEqual(seen, ["/api/v2/workspaceagents/agent-1/pty?echo hello world"]);
    await assert.rejects(runPtyCommand(client, "agent-1", "sleep 10", 200), /command did not finish within 200 ms \(0 bytes of output so far\)/);
    await client.close();
  });
});

describe("parameter parsing", () => {
  test("name=value items; duplicates and missing '=' are problems", () => {
    const p = parseParameterArgs(["a=1", "b=x=y", "c=", "a=2", "nope"]);
    assert.deepEqual([...p.values], [["a", "1"], ["b", "x=y"], ["c", ""]]);
    assert.equal(p.problems.length, 2);
    assert.match(p.problems[0]!, /a is given twice/);
    assert.match(p.problems[1]!, /"nope" is not name=value/);
  });
  test("Coder's value rules: options, numbers, min/max with custom errors, bool, regex, list(string)", () => {
    const num = { name: "n", type: "number", default_value: "1", mutable: true, required: false, validation_min: 2, validation_max: 5, validation_error: "n is {value}, want {min}..{max}" } as const;
    assert.equal(parameterValueProblem(num, "3"), null);
    assert.match(parameterValueProblem(num, "6") ?? "", /^n is 6, want 2\.\.5 \(must be <= 5; got 6\)$/);
    assert.match(parameterValueProblem(num, "2.5") ?? "", /whole number/);
    assert.match(parameterValueProblem({ ...num, type: "bool", validation_error: "" }, "1") ?? "", /true or false/);
    const str = { name: "s", type: "string", default_value: "", mutable: true, required: false, validation_regex: "^[a-z]+$" } as const;
    assert.equal(parameterValueProblem(str, "abc"), null);
    assert.match(parameterValueProblem(str, "ABC") ?? "", /must match/);
    const list: TemplateVersionParameter = { name: "l", type: "list(string)", default_value: "[]", mutable: true, required: false, options: [{ name: "A", value: "a" }, { name: "B", value: "b" }] };
    assert.equal(parameterValueProblem(list, '["a","b"]'), null);
    assert.match(parameterValueProblem(list, '["a","c"]') ?? "", /\["c"\] are not among the options/);
    assert.match(parameterValueProblem(list, "a") ?? "", /JSON array/);
  });
});
