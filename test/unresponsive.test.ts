// A deployment that accepts connections and never answers: with --connect-timeout/--request-timeout at
// about a second, every entry point exits non-zero with the deployment's URL in its message, having sent
// nothing that creates anything; a stop signal ends a script promptly even with long timeouts.
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { describe, it } from "node:test";
import { tempResults, runScript, startScript, until } from "./helpers/reliability.ts";
import { FAKE_CODER } from "./helpers/reliability.ts";

interface Hung {
  url: string;
  /** Request lines received ("GET /api/v2/users/me HTTP/1.1"). */
  requests: string[];
  close(): Promise<void>;
}

/** A loopback server that accepts every connection, reads what it is sent and never answers. */
async function hungServer(): Promise<Hung> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    let buf = "";
    sock.on("data", (d: Buffer) => {
      buf = (buf + d.toString("latin1")).slice(-65536);
      for (const m of buf.matchAll(/(?:^|\r\n)([A-Z]+ \/\S* HTTP\/1\.[01])\r\n/g)) requests.push(m[1]!);
      buf = "";
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

function env(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(e)) if (k.startsWith("SCALETEST_") || k.startsWith("CODER_")) delete e[k];
  return {
    ...e,
    CODER_URL: url,
    CODER_SESSION_TOKEN: "hung00000-aaaaaaaaaaaaaaaaaaaaaa",
    SCALETEST_CODER_BINARY: FAKE_CODER,
    SCALETEST_METRICS_ADDRESS: "127.0.0.1:0",
    NO_COLOR: "1",
    ...extra,
  };
}

const FAST = { SCALETEST_CONNECT_TIMEOUT: "1s", SCALETEST_REQUEST_TIMEOUT: "1s" };
const MUTATING = /^(POST|PUT|PATCH|DELETE) /;

const ENTRY_POINTS: { script: string; args: string[] }[] = [
  { script: "scripts/run.ts", args: ["--workspaces", "2", "--scenarios", "ssh", "--duration", "2s", "--baseline-wait", "0s"] },
  { script: "scenarios/create-workspaces.ts", args: ["--count", "1"] },
  { script: "scenarios/ssh-traffic.ts", args: ["--duration", "2s"] },
  { script: "scenarios/web-terminal-traffic.ts", args: ["--duration", "2s"] },
  { script: "scenarios/app-traffic.ts", args: ["--duration", "2s"] },
  { script: "scenarios/dashboard-traffic.ts", args: ["--duration", "2s"] },
  { script: "scenarios/workspace-updates.ts", args: [] },
  { script: "scenarios/cleanup.ts", args: [] },
];

// Each case has a hung server of its own (so the requests it saw are that script's alone), and the cases run
// side by side: most of each is spent waiting on the silent deployment's timeouts.
describe("unresponsive deployment", { concurrency: 4 }, () => {
  for (const { script, args } of ENTRY_POINTS) {
    it(`${script} exits non-zero naming the URL, nothing created`, async () => {
      const hung = await hungServer();
      const results = tempResults("unresponsive");
      try {
        const r = await runScript(script, ["--results-dir", results.dir, "--run-id", "hung1", ...args], env(hung.url, FAST), 120_000);
        assert.equal(r.signal, null, `${script} ended by itself (output: ${r.stderr.slice(-500)})`);
        assert.notEqual(r.code, 0, r.stderr);
        assert.ok(r.stderr.includes(hung.url), `${script}: the message names ${hung.url}:\n${r.stderr.slice(-1500)}`);
        assert.ok(hung.requests.length >= 1, `${script} reached the deployment`);
        assert.deepEqual(hung.requests.filter((l) => MUTATING.test(l)), [], "nothing was asked to be created or changed");
      } finally {
        results.remove();
        await hung.close();
      }
    });
  }

  it("a silent attempt is retried once at most: two requests per call, not five", async () => {
    const hung = await hungServer();
    const results = tempResults("unresponsive");
    try {
      const r = await runScript("scenarios/web-terminal-traffic.ts", ["--results-dir", results.dir, "--run-id", "hung2", "--duration", "2s"], env(hung.url, FAST), 120_000);
      assert.notEqual(r.code, 0);
      const mine = hung.requests;
      assert.equal(mine.length, 2, `requests sent: ${mine.join(", ")}`);
      assert.equal(mine[0], mine[1], "the same call, tried twice");
    } finally {
      results.remove();
      await hung.close();
    }
  });

  for (const { script, args } of [ENTRY_POINTS[0]!, ENTRY_POINTS[1]!]) {
    it(`a stop signal ends ${script} waiting on a silent deployment, long timeouts notwithstanding`, async () => {
      const hung = await hungServer();
      const results = tempResults("unresponsive");
      try {
        const slow = { SCALETEST_CONNECT_TIMEOUT: "5m", SCALETEST_REQUEST_TIMEOUT: "30m" };
        const s = startScript(script, ["--results-dir", results.dir, "--run-id", "hung3", ...args], env(hung.url, slow), 120_000);
        await until("the script's first request", () => hung.requests.length > 0, 60_000);
        s.child.kill("SIGTERM");
        const r = await s.done;
        assert.equal(r.signal, null, "it exited by itself after one SIGTERM (not killed by the test's deadline)");
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /SIGTERM/);
        assert.deepEqual(hung.requests.filter((l) => MUTATING.test(l)), [], "nothing was asked to be created");
      } finally {
        results.remove();
        await hung.close();
      }
    });
  }
});
