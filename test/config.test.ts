import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  HelpShown,
  loadConfig,
  parseDuration,
  formatDuration,
  publicConfig,
  settingEntries,
  SCRIPTS,
  flagFor,
} from "../src/config/index.ts";

const DEPLOY = { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "tok-abcdef-0123456789" };

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  assert.fail("expected a ConfigError");
}

test("durations parse Go syntax and refuse bare numbers", () => {
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("2.5s"), 2500);
  assert.equal(parseDuration("0"), 0);
  assert.throws(() => parseDuration("5"), /unit/);
  assert.throws(() => parseDuration("5 m"), /not a duration/);
  assert.throws(() => parseDuration("-5s"), /not a duration/);
  assert.equal(formatDuration(5_400_000), "1h30m");
  assert.equal(formatDuration(250), "250ms");
});

test("flags beat env beats .env beats default; per-scenario values fall back to the shared one", () => {
  const dir = mkdtempSync(join(tmpdir(), "cfg-"));
  const envFile = join(dir, ".env");
  writeFileSync(envFile, "SCALETEST_BYTES_PER_TICK=2048\nSCALETEST_TEMPLATE=from-dotenv\nSCALETEST_DURATION=7m\n");
  const { config, sources } = loadConfig("run", ["--template", "from-flag"], {
    env: { ...DEPLOY, SCALETEST_DURATION: "9m" },
    envFile,
  });
  assert.equal(config.template, "from-flag");
  assert.equal(sources.template, "flag");
  assert.equal(config.duration, 540_000);
  assert.equal(sources.duration, "env");
  assert.equal(config.bytesPerTick, 2048);
  assert.equal(sources.bytesPerTick, ".env");
  assert.equal(config.sshDuration, 540_000);
  assert.equal(config.webTerminalBytesPerTick, 2048);
  assert.equal(sources.sshDuration, "fallback");
  assert.equal(config.workspaces, 100);
  assert.equal(sources.workspaces, "default");
});

test("a scenario script takes its own override under the short flag name", () => {
  const { config } = loadConfig("ssh-traffic", ["--duration", "5m", "--bytes-per-tick", "4096", "--target-workspaces", "0:100"], {
    env: DEPLOY,
    envFile: false,
  });
  assert.equal(config.sshDuration, 300_000);
  assert.equal(config.sshBytesPerTick, 4096);
  assert.equal(config.webTerminalDuration, 1_800_000, "other kinds keep the shared default");
  assert.equal(config.targetWorkspaces, "0:100");
  const cw = loadConfig("create-workspaces", ["--count", "3", "--concurrency", "0", "--parameter", "cpu=2", "--parameter", "mem=4"], {
    env: DEPLOY,
    envFile: false,
  });
  assert.equal(cw.config.workspaces, 3);
  assert.equal(cw.config.createConcurrency, 0);
  assert.deepEqual(cw.config.parameters, ["cpu=2", "mem=4"]);
});

test("every bad setting is named in one error, by flag and env var", () => {
  const p = problems(() =>
    loadConfig("run", ["--workspaces", "0", "--scenarios", "ssh,bogus", "--tick-interval", "NaN"], { env: {}, envFile: false }),
  );
  assert.equal(p.length, 3);
  assert.match(p[0] ?? "", /--workspaces \(SCALETEST_WORKSPACES\) must be at least 1/);
  assert.ok(p.some((x) => /--scenarios \(SCALETEST_SCENARIOS\) unknown "bogus"/.test(x)));
  assert.ok(p.some((x) => /--tick-interval .*not a duration/.test(x)));
});

test("deployment settings are required and checked; cross-field rules apply", () => {
  const p = problems(() => loadConfig("create-workspaces", [], { env: {}, envFile: false }));
  assert.ok(p.some((x) => x.includes("--url (CODER_URL) is required")));
  assert.ok(p.some((x) => x.includes("--token (CODER_SESSION_TOKEN) is required")));
  const q = problems(() =>
    loadConfig("run", ["--greedy-agent", "--concurrent", "--shard", "3/3"], {
      env: { ...DEPLOY, CODER_URL: "ftp://x" },
      envFile: false,
    }),
  );
  assert.ok(q.some((x) => x.includes("must be an http(s) URL")));
  assert.ok(q.some((x) => x.includes("--greedy-agent (SCALETEST_GREEDY_AGENT) cannot be combined")));
  assert.ok(q.some((x) => x.includes("needs 0 <= i < n")));
  const r = problems(() => loadConfig("ssh-traffic", ["--target-workspaces", "5:5"], { env: DEPLOY, envFile: false }));
  assert.ok(r.some((x) => x.includes("END must be greater than START")));
  assert.ok(problems(() => loadConfig("run", ["--run-id", "Bad_Id"], { env: DEPLOY, envFile: false })).length === 1);
});

test("unknown flags are refused; flags of other scripts are unknown too", () => {
  assert.match(problems(() => loadConfig("cleanup", ["--bogus"], { env: DEPLOY, envFile: false }))[0] ?? "", /unknown option '--bogus'/);
  assert.match(
    problems(() => loadConfig("cleanup", ["--workspaces", "3"], { env: DEPLOY, envFile: false }))[0] ?? "",
    /unknown option/,
  );
});

test("--help prints every flag of the script and is signalled", () => {
  let out = "";
  assert.throws(
    () => loadConfig("ssh-traffic", ["--help"], { env: DEPLOY, envFile: false, writeOut: (s) => (out += s) }),
    HelpShown,
  );
  assert.match(out, /--duration <value>/);
  assert.match(out, /SCALETEST_SSH_DURATION/);
  assert.doesNotMatch(out, /--ssh-duration/);
});

test("the token is never shown: not in help, not in publicConfig, not in errors", () => {
  const token = "tok-abcdef-0123456789";
  const { config } = loadConfig("run", [], { env: DEPLOY, envFile: false });
  const pub = JSON.stringify(publicConfig(config));
  assert.ok(!pub.includes(token));
  assert.match(pub, /"token":"\[set\]"/);
  let help = "";
  assert.throws(() => loadConfig("run", ["--help"], { env: DEPLOY, envFile: false, writeOut: (s) => (help += s) }), HelpShown);
  assert.ok(!help.includes(token));
  const p = problems(() => loadConfig("run", ["--workspaces", "x"], { env: DEPLOY, envFile: false }));
  assert.ok(!p.join("\n").includes(token));
});

test("schema is consistent: unique flags per script, unique env vars, defaults within bounds", () => {
  const envs = new Set<string>();
  for (const [key, s] of settingEntries()) {
    assert.ok(!envs.has(s.env), `env ${s.env} used twice`);
    envs.add(s.env);
    assert.ok(s.help.length > 10, `${key} has help`);
    if (s.fallback) assert.ok(settingEntries().some(([k]) => k === s.fallback), `${key} falls back to a setting`);
    if (typeof s.default === "number") {
      if (s.min !== undefined) assert.ok(s.default >= s.min, `${key} default >= min`);
      if (s.max !== undefined) assert.ok(s.default <= s.max, `${key} default <= max`);
    }
    if (s.options && s.default !== undefined) {
      const d = Array.isArray(s.default) ? s.default : [s.default];
      for (const v of d) assert.ok(s.options.includes(v as string), `${key} default is an option`);
    }
  }
  for (const script of SCRIPTS) {
    const flags = settingEntries()
      .filter(([, s]) => s.scripts.includes(script))
      .map(([, s]) => flagFor(s, script));
    assert.equal(new Set(flags).size, flags.length, `flags of ${script} are unique: ${flags.join(" ")}`);
  }
});
