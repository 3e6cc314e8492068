// A deliberately misbehaving "Coder" on loopback. Each case runs a real entry point (scenarios/*.ts) as a
// child process against it and asserts: the child ends by itself (bounded deadline, never killed) with a
// non-zero exit and one clear error naming the URL; its peak RSS (VmHWM, sampled from /proc while it runs)
// stays under 300 MB; what it writes (stdout, stderr, every results file) is capped; no 12-character
// fragment of any secret appears anywhere; and nothing reaches a foreign origin.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync, statSync } from "node:fs";
import { describe, test } from "node:test";
import { WebSocketServer } from "ws";
import { filesUnder, startScript, tempResults } from "./helpers/reliability.ts";

const TOKEN = "h0stile001-Zq8RkW2mPxT4vN6bY3cD7fGh";
const OWNER_TOKEN = "0wnerTok99-Lm5Np7Qr9St1Uv3Wx5Yz7Ab9";
const RUN_TOKEN = "runT0ken42-Hq2Jr4Ks6Lt8Mu0Nv2Ow4Px6";
const MB = 1024 * 1024;
const RSS_LIMIT = 300 * MB;
/** Output a failing run may write (stderr, stdout, each results file): a few error lines, never the server's body. */
const OUTPUT_CAP = 64 * 1024;

type Mode =
  | "endless-me"
  | "huge-error"
  | "html-me"
  | "nested-me"
  | "missing-field-me"
  | { echo: number }
  | "huge-frames"
  | "upgrade-endless"
  | "foreign-app-host";

interface Hostile {
  url: string;
  mode: Mode;
  /** Requests the foreign capture server received (must stay 0). */
  foreignHits: number;
  foreignUrl: string;
  close(): Promise<void>;
}

const USER_ID = "11111111-1111-4111-8111-111111111111";
const RUNNER_ID = "22222222-2222-4222-8222-222222222222";
const WS_ID = "33333333-3333-4333-8333-333333333333";
const AGENT_ID = "44444444-4444-4444-8444-444444444444";

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Writes `total` bytes of `chunk` repeated, honouring back-pressure; stops when the client goes away. */
function stream(res: ServerResponse | import("node:stream").Duplex, chunk: Buffer, total: number): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < total && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) {
        res.once("drain", pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  res.on("error", () => {});
  pump();
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function startHostile(): Promise<Hostile> {
  const foreign = createServer((_req, res) => {
    h.foreignHits++;
    res.end();
  });
  foreign.on("upgrade", (_req, socket) => {
    h.foreignHits++;
    socket.destroy();
  });
  foreign.on("connection", () => h.foreignHits++);
  const foreignUrl = await listen(foreign);

  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    const m = h.mode;
    if (p === "/api/v2/users/me") {
      if (m === "endless-me") {
        res.writeHead(200, { "content-type": "application/json" }); // chunked, never ends
        res.write('{"id":"');
        stream(res, Buffer.alloc(64 * 1024, "a"), Number.MAX_SAFE_INTEGER);
        return;
      }
      if (m === "huge-error") {
        res.writeHead(500, { "content-type": "application/json" });
        res.write('{"message":"');
        stream(res, Buffer.from(`${TOKEN} `.repeat(2048)), 100 * MB);
        return;
      }
      if (m === "html-me") {
        res.writeHead(200, { "content-type": "text/html" });
        res.end("<!doctype html><html><body>Please sign in</body></html>");
        return;
      }
      if (m === "nested-me") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(`${"[".repeat(200_000)}${"]".repeat(200_000)}`);
        return;
      }
      if (m === "missing-field-me") return json(res, 200, { id: 5, roles: [] });
      if (typeof m === "object") {
        // The token echoed back so that it straddles the client's cut (300 characters) at offset m.echo.
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(`${"e".repeat(m.echo)}${TOKEN} and the owner's ${OWNER_TOKEN}${"z".repeat(400)}`);
        return;
      }
      return json(res, 200, { id: RUNNER_ID, username: "admin", email: "admin@example.com", roles: [{ name: "owner" }] });
    }
    // The script's own run token (scaletest-runner-<run-id>), minted once its checks pass and revoked after.
    if (p === "/api/v2/users/me/keys/tokens") {
      if (req.method === "POST") return json(res, 201, { key: RUN_TOKEN });
      return json(res, 200, []);
    }
    if (req.method === "DELETE" && p.startsWith("/api/v2/users/me/keys/")) {
      res.writeHead(204);
      res.end();
      return;
    }
    if (p === "/api/v2/users") {
      return json(res, 200, { users: [{ id: USER_ID, username: "scaletest-h1-0000", email: "h1-0000@scaletest.local", roles: [] }], count: 1 });
    }
    if (p === "/api/v2/workspaces") {
      const agent = {
        id: AGENT_ID, name: "main", status: "connected", lifecycle_state: "ready",
        apps: [{ slug: "wsec", subdomain: true, subdomain_name: "wsec--main--scaletest-h1-0000--scaletest-h1-0000" }],
      };
      const ws = {
        id: WS_ID, name: "scaletest-h1-0000", owner_id: USER_ID, owner_name: "scaletest-h1-0000",
        latest_build: { id: "55555555-5555-4555-8555-555555555555", transition: "start", status: "running", job: { status: "succeeded" }, resources: [{ agents: [agent] }] },
      };
      return json(res, 200, { workspaces: [ws], count: 1 });
    }
    if (p === "/api/v2/applications/host") {
      // The app host a compromised deployment names: another origin (the capture server).
      return json(res, 200, { host: new URL(foreignUrl).host });
    }
    return json(res, 404, { message: "Route not found." });
  });
  server.on("upgrade", (req, socket, head) => {
    socket.on("error", () => {});
    if (h.mode === "upgrade-endless") {
      socket.write("HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n");
      const chunk = Buffer.alloc(64 * 1024, "x");
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]);
      stream(socket, frame, Number.MAX_SAFE_INTEGER);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on("error", () => {});
      // 90 MB frames, as a hostile agent or proxy could send.
      if (h.mode === "huge-frames") ws.send(Buffer.alloc(90 * MB, 1), () => ws.close());
    });
  });
  const url = await listen(server);
  const h: Hostile = {
    url,
    mode: "html-me",
    foreignHits: 0,
    foreignUrl,
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      foreign.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => foreign.close(r))]);
    },
  };
  return h;
}

function env(h: Hostile, resultsDir: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("SCALETEST_") && !k.startsWith("CODER_")) out[k] = v;
  return {
    ...out,
    CODER_URL: h.url,
    CODER_SESSION_TOKEN: TOKEN,
    CODER_OWNER_SESSION_TOKEN: OWNER_TOKEN,
    SCALETEST_RESULTS_DIR: resultsDir,
    SCALETEST_METRICS_ADDRESS: "127.0.0.1:0",
    NO_COLOR: "1",
  };
}

function vmHwm(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0; // exited meanwhile
  }
}

/** Every 12-character piece of each secret. */
function fragments(...secrets: string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) for (let i = 0; i + 12 <= s.length; i++) out.add(s.slice(i, i + 12));
  return [...out];
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  peakRss: number;
  files: [string, string][];
}

async function runAgainst(h: Hostile, mode: Mode, script: string, args: string[]): Promise<Outcome> {
  h.mode = mode;
  const tmp = tempResults("hostile-server");
  try {
    // Bounded deadline only: the child is killed (and the test fails) if it does not end by itself.
    const run = startScript(script, args, env(h, tmp.dir), 120_000);
    const pid = run.child.pid as number;
    let peakRss = 0;
    let running = true;
    void run.done.then(() => (running = false));
    while (running) {
      peakRss = Math.max(peakRss, vmHwm(pid));
      await new Promise((r) => setTimeout(r, 25));
    }
    const r = await run.done;
    console.log(`# ${script} ${JSON.stringify(mode)}: exit ${r.code}, peak RSS ${(peakRss / MB).toFixed(0)} MB, ${r.ms} ms`);
    const files = filesUnder(tmp.dir).map((f) => [f, readFileSync(f, "latin1")] as [string, string]);
    for (const [f] of files) assert.ok(statSync(f).size <= OUTPUT_CAP, `${f} is capped (${statSync(f).size} bytes)`);
    return { code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr, peakRss, files };
  } finally {
    tmp.remove();
  }
}

function assertContained(o: Outcome, what: string): void {
  assert.equal(o.signal, null, `${what}: the child ended by itself (not killed at the deadline)\n${o.stderr.slice(-1000)}`);
  assert.notEqual(o.code, 0, `${what}: exit code is non-zero`);
  assert.ok(o.peakRss > 0, `${what}: RSS was sampled`);
  assert.ok(o.peakRss < RSS_LIMIT, `${what}: peak RSS ${(o.peakRss / MB).toFixed(0)} MB < 300 MB`);
  assert.ok(o.stderr.length <= OUTPUT_CAP && o.stdout.length <= OUTPUT_CAP, `${what}: output capped (stderr ${o.stderr.length}, stdout ${o.stdout.length})`);
  const leaks: string[] = [];
  for (const [where, text] of [["stdout", o.stdout], ["stderr", o.stderr], ...o.files] as [string, string][]) {
    for (const f of fragments(TOKEN, OWNER_TOKEN, RUN_TOKEN)) if (text.includes(f)) leaks.push(`${where}: ${f.slice(0, 3)}…`);
  }
  assert.deepEqual(leaks, [], `${what}: no 12-character fragment of a secret anywhere`);
}

/** A hostile server of the test's own (its mode is the server's), closed when `fn` ends. */
async function withHostile<T>(fn: (h: Hostile) => Promise<T>): Promise<T> {
  const h = await startHostile();
  try {
    return await fn(h);
  } finally {
    await h.close();
  }
}

// The cases run side by side, each against a server of its own: a case is mostly a child's start-up.
describe("hostile server", { concurrency: 3 }, () => {
  const cleanup = ["--run-id", "h1"];
  const cases: [string, Mode, RegExp][] = [
    ["an endless chunked answer to /users/me", "endless-me", /\/api\/v2\/users\/me: unexpected answer .*at most \d+ bytes, but the answer was larger/],
    ["a 100 MB error answer echoing the token", "huge-error", /\/api\/v2\/users\/me: 500/],
    ["an HTML page answered 200 to /users/me", "html-me", /\/api\/v2\/users\/me: unexpected answer \(HTTP 200\): expected a Coder user .*not JSON/],
    ["JSON nested 200,000 levels deep", "nested-me", /\/api\/v2\/users\/me: unexpected answer .*nests deeper than 64 levels/],
    ["a user record with a missing field and a wrong type", "missing-field-me", /\/api\/v2\/users\/me: unexpected answer .*expected a Coder user .*(id|username)/],
  ];
  for (const [what, mode, expected] of cases) {
    test(`cleanup survives ${what}: clear error, bounded memory and output, no secret`, async () => {
      const o = await withHostile((h) => runAgainst(h, mode, "scenarios/cleanup.ts", cleanup));
      assertContained(o, what);
      assert.match(o.stderr, expected, what);
      assert.doesNotMatch(o.stderr, /Maximum call stack|belongs to undefined|\/users\/undefined/, `${what}: no confusing follow-on error`);
    });
  }

  test("a token echoed in error text at every offset around the 300-character cut never survives in part", async () => {
    // Two offsets at a time, each lane against a server of its own.
    const offsets = [270, 285, 290, 295, 298, 299, 300, 301, 305];
    const lanes = Array.from({ length: 2 }, (_, lane) =>
      withHostile(async (h) => {
        for (const echo of offsets.filter((_, i) => i % 2 === lane)) {
          const o = await runAgainst(h, { echo }, "scenarios/cleanup.ts", cleanup);
          assertContained(o, `echo at ${echo}`);
          assert.match(o.stderr, /\/api\/v2\/users\/me: 400/);
        }
      }),
    );
    // Every lane ends (and closes its server) before the test does; the first failure is the test's.
    const failed = (await Promise.allSettled(lanes)).find((x): x is PromiseRejectedResult => x.status === "rejected");
    if (failed) throw failed.reason;
  });

  test("90 MB websocket frames are refused (maxPayload), memory stays bounded", async () => {
    const o = await withHostile((h) => runAgainst(h, "huge-frames", "scenarios/web-terminal-traffic.ts", ["--run-id", "h1", "--duration", "2s", "--tick-interval", "100ms"]));
    assertContained(o, "huge frames");
  });

  test("an upgrade answered 500 with an endless body ends with an error naming the URL", async () => {
    const o = await withHostile((h) => runAgainst(h, "upgrade-endless", "scenarios/web-terminal-traffic.ts", ["--run-id", "h1", "--duration", "2s", "--tick-interval", "100ms"]));
    assertContained(o, "endless upgrade body");
    assert.match(o.stdout + o.stderr, /\/api\/v2\/workspaceagents\/[^/]+\/pty: 500/);
  });

  test("a foreign app host gets nothing: the dial is refused naming --trusted-origins", async () => {
    await withHostile(async (h) => {
      const o = await runAgainst(h, "foreign-app-host", "scenarios/app-traffic.ts", ["--run-id", "h1", "--duration", "2s", "--tick-interval", "100ms"]);
      assertContained(o, "foreign app host");
      assert.match(o.stdout + o.stderr, /refusing to send the session token to http:\/\/127\.0\.0\.1:\d+.*--trusted-origins/);
      assert.equal(h.foreignHits, 0, "the foreign origin received no connection at all");
    });
  });
});

test("a Grafana answer echoing its token around the 200-character cut leaves no fragment in the log", async () => {
  const { grafanaAnnotator } = await import("../src/pipeline/grafana.ts");
  const { log } = await import("../src/util/log.ts");
  const grafanaToken = "glsa_HostileGrafanaToken_0123456789abcdef";
  const lines: string[] = [];
  for (const offset of [180, 190, 195, 198, 200, 205]) {
    const server = createServer((_req, res) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`${"g".repeat(offset)}${grafanaToken}${"h".repeat(100)}`);
    });
    const url = await listen(server);
    const warn = log.warn.bind(log);
    log.warn = (m: string) => void lines.push(m);
    try {
      const a = grafanaAnnotator({ url, token: grafanaToken, runId: "g1", timeoutMs: 5000 });
      await a.start("phase", []);
      assert.equal(a.failures, 1);
    } finally {
      log.warn = warn;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }
  assert.equal(lines.length, 6, "every failure was logged");
  for (const l of lines) {
    assert.match(l, /grafana annotation POST \/api\/annotations failed/);
    for (const f of fragments(grafanaToken)) assert.ok(!l.includes(f), `no fragment of the Grafana token: ${l.slice(0, 80)}`);
  }
});
