// Hostile input: every setting, by flag and by env var, fed negative, huge, NaN, malformed and
// injection-looking values, must give exactly one clear error naming it (the config loader, in-process);
// a few real child processes prove exit code 2 with nothing created; and commands are spawned from
// argument arrays, so shell syntax in a name or a binary path is never interpreted.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, flagFor, loadConfig, SCRIPTS, settingEntries, type ScriptName, type Setting } from "../src/config/index.ts";
import { coderSshStdio } from "../src/traffic/kinds/ssh.ts";
import { FAKE_CODER, runScript, scaletestLeft, simEnv, withReliabilitySim } from "./helpers/reliability.ts";

const DEPLOY = { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "hostile000-aaaaaaaaaaaaaaaaaaaaaa" };
const INJECT = ["$(touch /tmp/x)", "`id`", "a; rm -rf /", "x && reboot", "| cat /etc/passwd"];

/** Values a setting of this kind must refuse (bounds-aware: "-1" only where the minimum is above it). */
function hostileValues(s: Setting<unknown>): string[] {
  const v: string[] = [];
  switch (s.kind) {
    case "int":
      v.push("NaN", "abc", "1.5", "1e99", "0x10", "99999999999999999999999", "Infinity", ...INJECT);
      if (s.min !== undefined && s.min > -1) v.push("-1");
      break;
    case "number":
      v.push("NaN", "abc", "Infinity", "1e999", "--1", ...INJECT);
      if (s.min !== undefined && s.min > -1) v.push("-1");
      if (s.max !== undefined && Number.isFinite(s.max)) v.push(String(s.max * 10 + 1));
      break;
    case "duration":
      v.push("5", "-1s", "NaN", "1x", "5 m", "1h;rm", "P1D", ...INJECT);
      if (s.max !== undefined) v.push("99999999h");
      break;
    case "bool":
      v.push("maybe", "2", "$(true)");
      break;
    case "enum":
    case "enum-list":
      v.push("no-such-option", ...INJECT);
      break;
  }
  return v;
}

function scriptFor(s: Setting<unknown>): ScriptName {
  return (s.scripts[0] ?? "run") as ScriptName;
}

function problemsOf(fn: () => unknown): string[] | null {
  try {
    fn();
    return null;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

describe("hostile input: the config loader", () => {
  it("refuses every hostile value of every setting, by flag and by env, with one error naming it", () => {
    let rows = 0;
    const accepted: string[] = [];
    for (const [, s] of settingEntries()) {
      const script = scriptFor(s);
      for (const value of hostileValues(s)) {
        if (s.scripts.length > 0) {
          const flag = flagFor(s, script);
          const p = problemsOf(() => loadConfig(script, [`--${flag}`, value], { env: DEPLOY, envFile: false }));
          rows++;
          if (p === null) accepted.push(`${script} --${flag} ${JSON.stringify(value)}`);
          else {
            assert.equal(p.length, 1, `one error for --${flag} ${value}: ${p.join(" | ")}`);
            assert.ok(p[0]?.includes(`--${flag}`) && p[0]?.includes(s.env), `the error names the flag and env var: ${p[0]}`);
          }
        }
        const pe = problemsOf(() => loadConfig(script, [], { env: { ...DEPLOY, [s.env]: value }, envFile: false }));
        rows++;
        if (pe === null) accepted.push(`${s.env}=${JSON.stringify(value)}`);
        else assert.equal(pe.length, 1, `one error for ${s.env}=${value}: ${pe.join(" | ")}`);
      }
    }
    assert.deepEqual(accepted, [], "no hostile value is accepted");
    assert.ok(rows > 300, `a real table (${rows} rows)`);
  });

  it("refuses malformed and out-of-order ranges, shards, addresses, run ids and control characters", () => {
    const cases: [ScriptName, string[]][] = [
      ["ssh-traffic", ["--target-workspaces", "5:2"]],
      ["ssh-traffic", ["--target-workspaces", "-1:3"]],
      ["ssh-traffic", ["--target-workspaces", "a:b"]],
      ["ssh-traffic", ["--target-workspaces", "0:1e9"]],
      ["ssh-traffic", ["--target-workspaces", "3:3"]],
      ["dashboard-traffic", ["--target-users", "0:-5"]],
      ["run", ["--shard", "3/3"]],
      ["run", ["--shard", "-1/2"]],
      ["run", ["--metrics-address", "0.0.0.0:99999999"]],
      ["run", ["--metrics-address", "$(id):80"]],
      ["run", ["--run-id", "a;rm"]],
      ["run", ["--run-id", "UPPER"]],
      ["run", ["--run-id", "waytoolongid"]],
      ["run", ["--run-id", "../../etc"]],
      ["run", ["--scenarios", "ssh,bogus"]],
      ["run", ["--scenarios", "ssh,ssh"]],
      ["run", ["--template", "bad\u0007name"]],
      ["run", ["--comment", "line\u001b[31mred"]],
      ["run", ["--no-such-flag", "1"]],
      ["run", ["unexpected-positional"]],
    ];
    for (const [script, argv] of cases) {
      const p = problemsOf(() => loadConfig(script, argv, { env: DEPLOY, envFile: false }));
      assert.ok(p !== null, `${script} ${argv.join(" ")} is refused`);
      assert.equal(p.length, 1, `${script} ${argv.join(" ")}: exactly one error, got ${p.join(" | ")}`);
    }
  });

  it("without a URL or token: one error per missing setting, naming how to get it", () => {
    const p = problemsOf(() => loadConfig("run", [], { env: {}, envFile: false }));
    assert.ok(p);
    assert.equal(p.length, 2);
    assert.match(p.join("\n"), /CODER_URL/);
    assert.match(p.join("\n"), /CODER_SESSION_TOKEN/);
  });
});

describe("hostile input: real entry points", () => {
  it("bad flags exit 2 with one clear message, before anything is created", async () => {
    await withReliabilitySim({}, async (sim) => {
      const results = mkdtempSync(join(tmpdir(), "hostile-"));
      const marker = join(results, "pwned");
      try {
        const before = sim.counts();
        const snapshot = sim.snapshotPreexisting();
        const rows: [string, string[], RegExp][] = [
          ["scripts/run.ts", ["--workspaces", "-1"], /--workspaces .*at least/],
          ["scripts/run.ts", ["--scenarios", "ssh,bogus"], /--scenarios .*bogus/],
          ["scripts/run.ts", ["--duration", "NaN"], /--duration/],
          ["scripts/run.ts", ["--template", `$(touch ${marker})`, "--workspaces", "1"], /template/i],
          ["scenarios/create-workspaces.ts", ["--count", "1e9"], /--count/],
          ["scenarios/ssh-traffic.ts", ["--target-workspaces", "9:2"], /--target-workspaces/],
          ["scenarios/cleanup.ts", ["--run-id", `x;touch ${marker}`], /--run-id/],
        ];
        const outs = await Promise.all(rows.map(([script, args]) => runScript(script, [...args, "--results-dir", results], simEnv(sim), 30_000)));
        for (const [i, [script, args, says]] of rows.entries()) {
          const r = outs[i]!;
          const what = `${script} ${args.join(" ")}`;
          assert.equal(r.code, 2, `${what}: exit 2, got ${r.code}: ${r.stderr}`);
          assert.match(r.stderr, says, `${what}: says what was wrong`);
          assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
          assert.ok(r.stderr.trim().split("\n").length <= 3, `${what}: one clear message, got:\n${r.stderr}`);
        }
        assert.equal(existsSync(marker), false, "nothing was run by a shell");
        assert.deepEqual(sim.counts(), before, "nothing was created");
        assert.equal(sim.snapshotPreexisting(), snapshot);
        assert.deepEqual(scaletestLeft(sim), { users: [], workspaces: [] });
      } finally {
        rmSync(results, { recursive: true, force: true });
      }
    });
  });

  it("coder ssh --stdio is spawned from an argument array: shell syntax in the binary or target is inert", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hostile-ssh-"));
    const marker = join(dir, "pwned");
    try {
      // A binary "path" that a shell would run as a command: must fail to spawn instead.
      const bad = coderSshStdio({ coderBinary: `sh -c 'touch ${marker}'`, url: "http://127.0.0.1:1", token: DEPLOY.CODER_SESSION_TOKEN, killAfterMs: 200 });
      const t1 = bad({ ownerName: "me", workspaceName: "w", agentName: "main" } as never, new AbortController().signal);
      t1.stream.on("error", () => {});
      await t1.close().catch(() => {});
      assert.match(t1.describe(), /ENOENT|exit code|signal/);
      // A hostile target reaches the (stand-in) CLI as one argument, which refuses it.
      const cli = coderSshStdio({ coderBinary: FAKE_CODER, url: "http://127.0.0.1:1", token: DEPLOY.CODER_SESSION_TOKEN, killAfterMs: 200 });
      const t2 = cli({ ownerName: `me;touch ${marker}`, workspaceName: "$(touch x)", agentName: "main" } as never, new AbortController().signal);
      t2.stream.on("error", () => {});
      t2.stream.resume();
      await t2.close().catch(() => {});
      assert.match(t2.describe(), /invalid workspace|exit code 2/);
      assert.equal(existsSync(marker), false, "no shell ever ran the injected command");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
