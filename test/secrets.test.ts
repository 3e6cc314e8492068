// Secrets: the whole pipeline runs with a recognisable session token (and a few faults, so error paths
// write messages too); the token, the run's minted token and the scaletest users' tokens must appear
// nowhere: not in any file of the results folder (run.log, phase.log, result.json, report.html/md,
// summary.json, ...), not in the child's stdout/stderr, not in the metrics endpoint's body, and not in
// the process list (`ps -eo args`, sampled throughout, coder ssh --stdio children included).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { assertTokenDestination, tokenDestinationReason } from "../src/coder/destinations.ts";
import { launchChromium } from "../src/dashboard/browser-mode.ts";
import { clearSecrets, envWithoutSecrets, redact, redactAndTruncate, registerSecret } from "../src/util/redact.ts";
import { FAKE_CODER } from "./helpers/reliability.ts";
import { filesUnder, readJSON, simEnv, startScript, tempResults, tinyRunArgs, withReliabilitySim } from "./helpers/reliability.ts";

const TOKEN = "SECRETtok1-RecognisableOwnerSec22";

it("no token appears in results, logs, metrics, errors or the process list", async () => {
  await withReliabilitySim({ ownerToken: TOKEN }, async (sim) => {
    const tmp = tempResults("secrets");
    try {
      // Faults so that error messages (API errors, refused dials) are written as well.
      sim.faults.set({
        http: [
          { method: "POST", path: "/api/v2/users/*/workspaces", status: 500, count: 1 },
          { method: "GET", path: "/api/v2/workspaceagents/*/pty", status: 503, count: 1 },
          { method: "GET", path: "/api/v2/users/me", status: 503, count: 1 },
        ],
      });
      const secrets = new Set<string>([TOKEN, TOKEN.split("-")[1] as string]);
      const run = startScript("scripts/run.ts", tinyRunArgs("secrets", tmp.dir, ["--verbose", "--duration", "2s"]), simEnv(sim));
      const pid = run.child.pid as number;
      const psSamples: string[] = [];
      const metricsBodies: string[] = [];
      let running = true;
      void run.done.then(() => (running = false));
      while (running) {
        // Every key the deployment holds during the run is a secret (run token, scaletest users' tokens).
        for (const k of sim.state.apiKeys.values()) secrets.add(`${k.id}-${k.secret}`).add(k.secret);
        psSamples.push(execFileSync("ps", ["-eo", "args"], { encoding: "utf8" }));
        const m = /metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(run.output().stderr);
        if (m?.[1] && metricsBodies.length < 5) {
          try {
            metricsBodies.push(await (await fetch(m[1])).text());
          } catch {
            // between phases the server may be closing
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      const result = await run.done;
      assert.ok(result.code === 0 || result.code === 1, `the run finished: ${result.stderr.slice(-1500)}`);
      const runDir = join(tmp.dir, "secrets");
      const files = filesUnder(tmp.dir);
      for (const want of ["run.log", "summary.json", "report.html", "report.md", "run.json"]) {
        assert.ok(files.some((f) => f.endsWith(`/${want}`)), `${want} was written (so it was scanned)`);
      }
      assert.ok(files.filter((f) => f.endsWith("/phase.log")).length >= 4, "phase logs were written");
      assert.ok(metricsBodies.some((b) => b.includes("# HELP")), "the metrics endpoint was scraped");
      assert.ok(psSamples.some((s) => s.includes(`scripts/run.ts`)), "the process list was sampled while the run was up");
      assert.ok(/dial failed|500|503/.test(JSON.stringify(readJSON(join(runDir, "summary.json")))) || /500|503/.test(readFileSync(join(runDir, "run.log"), "utf8")), "errors were written");
      assert.ok(secrets.size >= 4, "the run token and users' tokens were seen");

      const sources: [string, string][] = [
        ...files.map((f) => [f, readFileSync(f, "latin1")] as [string, string]),
        ["stdout", result.stdout],
        ["stderr", result.stderr],
        ...metricsBodies.map((b, i) => [`metrics scrape ${i}`, b] as [string, string]),
        ...psSamples.map((s, i) => [`ps sample ${i}`, s] as [string, string]),
      ];
      const hits: string[] = [];
      for (const [where, text] of sources) {
        for (const s of secrets) if (text.includes(s) || text.includes(encodeURIComponent(s))) hits.push(`${where}: ${s.slice(0, 4)}…`);
      }
      assert.deepEqual(hits, [], "no secret anywhere");
      assert.ok(pid > 0);
    } finally {
      tmp.remove();
    }
  });
});

// ---- redaction, token destinations and child environments (issue 18) ----------------------------------


const FRAG = 12;
function fragmentsOf(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + FRAG <= s.length; i++) out.push(s.slice(i, i + FRAG));
  return out;
}

it("redaction happens before truncation and hides any 12-character fragment and URL credentials", () => {
  const secret = "fragTok001-AbCdEfGhIjKlMnOpQrStUv";
  try {
    registerSecret(secret);
    // The secret straddles the cut at every offset; so does a piece of it cut by someone else.
    for (let pad = 250; pad <= 310; pad++) {
      for (const text of [`${"x".repeat(pad)}${secret} tail`, `${"x".repeat(pad)}${secret.slice(3)} tail`, `${"x".repeat(pad)}${secret.slice(0, 15)}`]) {
        const out = redactAndTruncate(text, 300);
        for (const f of fragmentsOf(secret)) assert.ok(!out.includes(f), `pad ${pad}: fragment ${f.slice(0, 3)}… survived`);
        assert.ok(out.length <= 300 + 60, "cut to the cap (plus the marker)");
      }
    }
    assert.equal(redact(`a ${secret.slice(2, 2 + FRAG)} b`), "a [REDACTED] b", "a bare 12-character fragment");
    assert.equal(redact(`short ${secret.slice(2, 2 + FRAG - 1)} ok`), `short ${secret.slice(2, 2 + FRAG - 1)} ok`, "11 characters are ordinary text");
    assert.equal(redact("GET https://alice:hunter2@coder.example.com/api"), "GET https://[REDACTED]@coder.example.com/api");
    assert.equal(redact("ws://tok3n@host:1/x"), "ws://[REDACTED]@host:1/x");
    assert.equal(redact("mail alice@example.com"), "mail alice@example.com", "an email is not a URL credential");
    assert.equal(redact("per-call", [undefined]), "per-call");
    assert.equal(redact(`x another-secret-value-1234 y`, ["another-secret-value-1234"]), "x [REDACTED] y", "per-call secrets");
  } finally {
    clearSecrets();
  }
});

it("children get environments without secrets", () => {
  const secret = "envTok0001-QwErTyUiOpAsDfGhJkLzXc";
  try {
    registerSecret(secret);
    const env = envWithoutSecrets({
      PATH: "/usr/bin",
      HOME: "/home/x",
      CODER_SESSION_TOKEN: "anything",
      CODER_OWNER_SESSION_TOKEN: "owner-token-value",
      CODER_AGENT_TOKEN: "agent-token-value",
      GRAFANA_API_TOKEN: "grafana-token",
      SLACK_WEBHOOK_URL: "https://hooks.example/x",
      COPY_OF_TOKEN: `prefix ${secret}`,
      PIECE_OF_TOKEN: secret.slice(4, 20),
      PROXY: "http://user:pw@proxy:3128",
    });
    assert.deepEqual(env, { PATH: "/usr/bin", HOME: "/home/x" });
  } finally {
    clearSecrets();
  }
});

it("tokens go only to the deployment's origin, its registrable domain, or a trusted origin", () => {
  const dep = new URL("https://coder.example.com");
  const ok = (u: string, trusted: string[] = []) => tokenDestinationReason(dep, new URL(u), trusted);
  assert.equal(ok("wss://coder.example.com/api/v2/workspaceagents/x/pty"), "same-origin");
  assert.equal(ok("wss://wsec--main--ws--alice.apps.example.com/"), "registrable-domain");
  assert.equal(ok("ws://wsec.apps.example.com/"), null, "never downgraded from https");
  assert.equal(ok("wss://evil.example.net/"), null);
  assert.equal(ok("wss://example.com.evil.net/"), null, "not decided by string suffix");
  assert.equal(ok("wss://apps.example.net/", ["https://apps.example.net"]), "trusted");
  const gh = new URL("https://mine.github.io");
  assert.equal(tokenDestinationReason(gh, new URL("wss://theirs.github.io/")), null, "tenants of a public suffix (github.io) are strangers");
  const uk = new URL("https://coder.mine.co.uk");
  assert.equal(tokenDestinationReason(uk, new URL("wss://x.other.co.uk/")), null, "co.uk is a suffix, not a domain");
  const local = new URL("http://127.0.0.1:3000");
  assert.equal(tokenDestinationReason(local, new URL("ws://127.0.0.1:3001/")), null, "another port is another origin");
  assert.throws(() => assertTokenDestination(dep, new URL("wss://evil.example.net/")), /refusing to send the session token to https:\/\/evil\.example\.net.*--trusted-origins \(SCALETEST_TRUSTED_ORIGINS\)/);
});

it("the coder CLI gets the run's token only; the Owner's token reaches no child", async () => {
  await withReliabilitySim({ ownerToken: TOKEN }, async (sim) => {
    const tmp = tempResults("secrets-env");
    const dumps = mkdtempSync(join(tmpdir(), "coder-env-"));
    try {
      // A stand-in coder that records its environment, then does what the fake CLI does.
      const wrapper = join(dumps, "coder");
      writeFileSync(wrapper, `#!/usr/bin/env bash\nenv > "${dumps}/env.$$"\nexec "${FAKE_CODER}" "$@"\n`);
      chmodSync(wrapper, 0o755);
      const ownerOnly = "0wnerSess1-TemplateOwnerTokenValue77";
      const run = startScript(
        "scripts/run.ts",
        tinyRunArgs("senv", tmp.dir, ["--scenarios", "ssh", "--workspaces", "2", "--duration", "1s"]),
        simEnv(sim, { SCALETEST_CODER_BINARY: wrapper, CODER_OWNER_SESSION_TOKEN: ownerOnly, GRAFANA_API_TOKEN: "grafanaTok-ShouldNeverLeak99" }),
      );
      const r = await run.done;
      assert.ok(r.code === 0 || r.code === 1, `the run finished: ${r.stderr.slice(-1500)}`);
      const files = readdirSync(dumps).filter((f) => f.startsWith("env."));
      assert.ok(files.length >= 2, `the coder CLI ran (${files.length} environments recorded)`);
      let withToken = 0;
      for (const f of files) {
        const text = readFileSync(join(dumps, f), "utf8");
        // The preflight's `coder version` gets no token at all; every other call gets the run's.
        const token = /^CODER_SESSION_TOKEN=(.*)$/m.exec(text)?.[1] ?? "";
        if (token) withToken++;
        assert.ok(token !== TOKEN, "the CLI never authenticates with the Owner's token");
        for (const s of [TOKEN, ownerOnly, "grafanaTok-ShouldNeverLeak99"]) {
          for (const frag of fragmentsOf(s)) assert.ok(!text.includes(frag), `${f}: a fragment of a secret the CLI does not need`);
        }
        assert.doesNotMatch(text, /^CODER_OWNER_SESSION_TOKEN=/m);
        assert.doesNotMatch(text, /^GRAFANA_API_TOKEN=/m);
      }
      assert.ok(withToken >= 1, "the ssh connections' CLI calls authenticate (with the run's token)");
    } finally {
      tmp.remove();
      rmSync(dumps, { recursive: true, force: true });
    }
  });
});

/** Every descendant process of `pid` (Linux ps). */
function descendants(pid: number): number[] {
  const rows = execFileSync("ps", ["-eo", "pid=,ppid="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number) as [number, number]);
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [c, pp] of rows) if (pp === p) (out.push(c), walk(c));
  };
  walk(pid);
  return out;
}

it("Chromium and its helper processes get no secret in their environment", async (t) => {
  const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => {
    try {
      return readFileSync(p).length > 0;
    } catch {
      return false;
    }
  });
  if (!chromium) return t.skip("needs /usr/bin/chromium");
  const owner = "ownerTok01-ChromiumMustNotSeeThis";
  const copy = "sessTok001-ChromiumMustNotSeeThisEither";
  process.env.CODER_OWNER_SESSION_TOKEN = owner;
  process.env.SOME_COPY_OF_A_TOKEN = copy;
  registerSecret(copy);
  const browser = await launchChromium(chromium);
  try {
    const pids = descendants(process.pid);
    const envs: string[] = [];
    for (const pid of pids) {
      try {
        envs.push(readFileSync(`/proc/${pid}/environ`, "latin1"));
      } catch {
        // exited meanwhile
      }
    }
    assert.ok(envs.length >= 2, `Chromium's processes were inspected (${envs.length})`);
    for (const env of envs) for (const f of [...fragmentsOf(owner), ...fragmentsOf(copy)]) assert.ok(!env.includes(f), "no secret fragment in a Chromium process");
  } finally {
    await browser.close();
    delete process.env.CODER_OWNER_SESSION_TOKEN;
    delete process.env.SOME_COPY_OF_A_TOKEN;
    clearSecrets();
  }
});

it("many registered secrets (per-user session tokens) are each hidden, whole and in part, longest first", () => {
  clearSecrets();
  try {
    const tokens: string[] = [];
    for (let i = 0; i < 1500; i++) tokens.push(`${String(i).padStart(10, "k")}-${"s".repeat(10)}${String(i * 7919).padStart(12, "q")}`);
    for (const t of tokens) registerSecret(t);
    // A short secret inside a longer one registered later: the longer is still replaced whole.
    registerSecret("inner-secret-value");
    registerSecret("prefix-inner-secret-value-suffix");
    for (const t of [tokens[0]!, tokens[777]!, tokens[1499]!]) {
      assert.equal(redact(`token=${t} end`), "token=[REDACTED] end");
      assert.equal(redact(`cut ${t.slice(3, 20)} end`).includes(t.slice(3, 20)), false);
    }
    assert.equal(redact("x prefix-inner-secret-value-suffix y"), "x [REDACTED] y");
    assert.equal(redact("plain text stays"), "plain text stays");
  } finally {
    clearSecrets();
  }
});
