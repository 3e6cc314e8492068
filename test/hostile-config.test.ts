// Hostile surroundings for the configuration: a `.env` in whatever folder the operator stands in is never
// read (only the project's, or an explicit --env-file); a token on the command line is warned about; an
// empty --run-id is bad input (exit 2), not silently replaced; secrets leave process.env once read.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ConfigError, loadConfig } from "../src/config/index.ts";
import { PROJECT_ENV_FILE } from "../src/config/load.ts";
import { ROOT, runScript } from "./helpers/reliability.ts";

const DEPLOY = { CODER_URL: "http://127.0.0.1:1", CODER_SESSION_TOKEN: "cfgTok0001-aaaaaaaaaaaaaaaaaaaaaa" };
let dir: string;
const cwd = process.cwd();

before(() => {
  dir = mkdtempSync(join(tmpdir(), "hostile-config-"));
  writeFileSync(join(dir, ".env"), "SCALETEST_CODER_BINARY=/tmp/evil-binary\nCODER_URL=http://evil.example\n");
});
after(() => {
  process.chdir(cwd);
  rmSync(dir, { recursive: true, force: true });
});

test("the default .env is the project folder's, never the current directory's", () => {
  assert.equal(PROJECT_ENV_FILE, join(ROOT, ".env"));
  process.chdir(dir);
  try {
    const { config, sources } = loadConfig("ssh-traffic", [], { env: { ...DEPLOY } });
    assert.notEqual(config.coderBinary, "/tmp/evil-binary");
    assert.equal(config.url, DEPLOY.CODER_URL);
    assert.notEqual(sources.coderBinary, ".env");
  } finally {
    process.chdir(cwd);
  }
});

test("--env-file reads the file named explicitly (and refuses a missing one)", () => {
  const { config, sources } = loadConfig("ssh-traffic", ["--env-file", join(dir, ".env")], { env: { CODER_SESSION_TOKEN: DEPLOY.CODER_SESSION_TOKEN } });
  assert.equal(config.coderBinary, "/tmp/evil-binary");
  assert.equal(sources.coderBinary, ".env");
  assert.throws(() => loadConfig("ssh-traffic", ["--env-file", join(dir, "missing.env")], { env: DEPLOY }), /env file .*missing\.env does not exist/);
});

test("a token on the command line is warned about, pointing to the environment variable", () => {
  const warnings: string[] = [];
  loadConfig("cleanup", ["--run-id", "abc", "--url", DEPLOY.CODER_URL, "--token", DEPLOY.CODER_SESSION_TOKEN], { env: {}, envFile: false, warn: (m) => warnings.push(m) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /--token .*command line.*CODER_SESSION_TOKEN environment variable/);
  assert.ok(!(warnings[0] ?? "").includes(DEPLOY.CODER_SESSION_TOKEN), "the warning does not repeat the token");
  const none: string[] = [];
  loadConfig("cleanup", ["--run-id", "abc"], { env: DEPLOY, envFile: false, warn: (m) => none.push(m) });
  assert.deepEqual(none, []);
});

test("an empty --run-id is bad input, not replaced by a random one", async () => {
  assert.throws(() => loadConfig("cleanup", ["--run-id", ""], { env: DEPLOY, envFile: false }), (e: unknown) => e instanceof ConfigError && /--run-id .*is empty/.test(e.message));
  assert.throws(() => loadConfig("cleanup", ["--run-id", "  "], { env: DEPLOY, envFile: false }), ConfigError);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) env[k] = v;
  const r = await runScript("scenarios/cleanup.ts", ["--run-id", ""], { ...env, ...DEPLOY, SCALETEST_RESULTS_DIR: dir }, 60_000);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--run-id .*is empty/);
});

test("secrets are removed from process.env once read (children inherit none by accident)", () => {
  process.env.CODER_URL = DEPLOY.CODER_URL;
  process.env.CODER_SESSION_TOKEN = DEPLOY.CODER_SESSION_TOKEN;
  process.env.CODER_OWNER_SESSION_TOKEN = "ownerTok01-bbbbbbbbbbbbbbbbbbbbbb";
  process.env.GRAFANA_API_TOKEN = "grafTok001-cccccccccccccccccccccc";
  try {
    const { config } = loadConfig("cleanup", ["--run-id", "abc"], { envFile: false });
    assert.equal(config.token, DEPLOY.CODER_SESSION_TOKEN, "read once");
    assert.equal(process.env.CODER_SESSION_TOKEN, undefined);
    assert.equal(process.env.CODER_OWNER_SESSION_TOKEN, undefined);
    assert.equal(process.env.GRAFANA_API_TOKEN, undefined);
    assert.equal(process.env.CODER_URL, DEPLOY.CODER_URL, "non-secrets stay");
  } finally {
    delete process.env.CODER_URL;
  }
});

test("--trusted-origins takes bare http(s) origins only", () => {
  const { config } = loadConfig("app-traffic", ["--trusted-origins", "https://apps.example.net", "--trusted-origins", "http://127.0.0.1:8080/"], { env: DEPLOY, envFile: false });
  assert.deepEqual(config.trustedOrigins, ["https://apps.example.net", "http://127.0.0.1:8080"]);
  const fromEnv = loadConfig("app-traffic", [], { env: { ...DEPLOY, SCALETEST_TRUSTED_ORIGINS: "https://a.example.net:443,wss://b.example.net" }, envFile: false });
  assert.deepEqual(fromEnv.config.trustedOrigins, ["https://a.example.net", "https://b.example.net"]);
  for (const bad of ["apps.example.net", "https://apps.example.net/path", "https://u:p@apps.example.net", "ftp://x.example"]) {
    assert.throws(
      () => loadConfig("app-traffic", ["--trusted-origins", bad], { env: DEPLOY, envFile: false }),
      (e: unknown) => e instanceof ConfigError && /--trusted-origins \(SCALETEST_TRUSTED_ORIGINS\)/.test(e.message),
      bad,
    );
  }
});
