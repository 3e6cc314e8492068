// Unit tests of src/coder against scripted loopback servers: error parsing, retry policy and
// timing, pagination, build/agent waits, token hygiene, keep-alive pool size, PTY websocket.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { inspect } from "node:util";
import { WebSocketServer } from "ws";
import {
  AgentNotReadyError,
  BuildFailedError,
  CoderApiError,
  CoderClient,
  WaitTimeoutError,
  backoffDelay,
  encodePtyInput,
  parseRetryAfter,
  sendPtyInput,
  type CoderClientOptions,
  type RetryInfo,
} from "../src/coder/index.ts";
import { closedPort, fixtures, sendJson, startTestServer, type TestHandler, type TestServer } from "./helpers/client-server.ts";

const TOKEN = "Sekr3tTokn-AbCdEfGhIjKlMnOpQrStUv";

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(handler: TestHandler, opts: Partial<CoderClientOptions> = {}): Promise<{ srv: TestServer; client: CoderClient }> {
  const srv = await startTestServer(handler);
  const client = new CoderClient({ url: srv.url, token: TOKEN, retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...opts });
  cleanups.push(async () => {
    await client.close();
    await srv.close();
  });
  return { srv, client };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected the promise to reject");
}

describe("errors", () => {
  it("parses Coder's message, detail and validations into CoderApiError", async () => {
    const { client } = await setup((_req, res) =>
      sendJson(res, 400, {
        message: "Validation failed.",
        detail: "name is invalid",
        validations: [
          { field: "name", detail: "must be lowercase" },
          { field: "template_id", detail: "required" },
        ],
      }),
    );
    const err = await rejection(client.createWorkspace("me", { name: "Bad", template_id: "88888888-8888-4888-8888-888888888888" }));
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.status, 400);
    assert.equal(err.method, "POST");
    assert.equal(err.path, "/api/v2/users/me/workspaces");
    assert.equal(err.coderMessage, "Validation failed.");
    assert.equal(err.detail, "name is invalid");
    assert.deepEqual(err.validations, [
      { field: "name", detail: "must be lowercase" },
      { field: "template_id", detail: "required" },
    ]);
    assert.equal(err.attempts, 1);
    assert.equal(
      err.message,
      "POST /api/v2/users/me/workspaces: 400 Bad Request: Validation failed. (name is invalid) " +
        "[name: must be lowercase; template_id: required] after 1 attempt",
    );
  });

  it("keeps a non-JSON error body as text and the query out of the path", async () => {
    const { srv, client } = await setup((_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("404 page not found\n");
    });
    const err = await rejection(client.listUsers({ q: "username:secretish", limit: 5 }));
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.status, 404);
    assert.equal(err.notFound, true);
    assert.equal(err.path, "/api/v2/users");
    assert.equal(err.coderMessage, "404 page not found");
    assert.doesNotMatch(err.message, /secretish/);
    const err2 = await rejection(client.request("GET", "/workspaces?q=owner:secretish", { query: { limit: 1 } }));
    assert.ok(err2 instanceof CoderApiError);
    assert.equal(err2.path, "/api/v2/workspaces");
    assert.doesNotMatch(err2.message, /secretish/);
    assert.equal(srv.requests.at(-1)?.query.get("q"), "owner:secretish");
    assert.equal(srv.requests.at(-1)?.query.get("limit"), "1");
  });

  it("treats a 200 with an empty body as undefined (DELETE /users/{user})", async () => {
    const { srv, client } = await setup((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    assert.equal(await client.deleteUser("scaletest-abc-0001"), undefined);
    assert.equal(srv.requests[0]?.method, "DELETE");
    assert.equal(srv.requests[0]?.path, "/api/v2/users/scaletest-abc-0001");
  });
});

describe("auth headers and token hygiene", () => {
  it("sends the token header, and the rate-limit bypass header only when asked (Owner and run clients)", async () => {
    const { srv, client } = await setup((_req, res) => sendJson(res, 200, { version: "v2.0.0" }), { bypassRateLimit: true });
    const info = await client.buildInfo();
    assert.equal(info.version, "v2.0.0");
    const h = srv.requests[0]?.headers;
    assert.equal(h?.["coder-session-token"], TOKEN);
    assert.equal(h?.["x-coder-bypass-ratelimit"], "true");
    assert.match(String(h?.["user-agent"]), /coder-scaletest-runner/);
    // A per-user client (made after that user's login, or for its token) sends none, as Coder's.
    const { srv: srv2, client: user } = await setup((_req, res) => sendJson(res, 200, { version: "v2.0.0" }));
    await user.buildInfo();
    assert.equal(srv2.requests[0]?.headers["x-coder-bypass-ratelimit"], undefined);
  });

  it("never puts the token in error messages, even when the server echoes it", async () => {
    const { client } = await setup((req, res) =>
      sendJson(res, 401, {
        message: `bad token ${String(req.headers["coder-session-token"])}`,
        detail: `cookie coder_session_token=${TOKEN}`,
        validations: [{ field: TOKEN, detail: TOKEN }],
      }),
    );
    const err = await rejection(client.me());
    assert.ok(err instanceof CoderApiError);
    const everything = [err.message, err.coderMessage, err.detail, JSON.stringify(err.validations), String(err.stack), inspect(err)].join("\n");
    assert.ok(!everything.includes(TOKEN), "token leaked into the error");
    assert.match(err.message, /\[REDACTED\]/);
    assert.ok(!inspect(client).includes(TOKEN), "token leaked through util.inspect(client)");
    assert.ok(!String(client).includes(TOKEN));
  });

  it("never puts the token in network-error messages", async () => {
    const port = await closedPort();
    const client = new CoderClient({ url: `http://127.0.0.1:${port}`, token: TOKEN, retry: { attempts: 2, baseDelayMs: 1 } });
    cleanups.push(() => client.close());
    const err = await rejection(client.me());
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.status, 0);
    assert.equal(err.code, "ECONNREFUSED");
    assert.ok(!`${err.message}\n${inspect(err)}`.includes(TOKEN));
  });
});

describe("retries", () => {
  it("429 with Retry-After: 1 then 200: waits the 1 s it was told and succeeds", async () => {
    let n = 0;
    const { srv, client } = await setup((_req, res) => {
      n++;
      if (n === 1) sendJson(res, 429, { message: "Too many requests" }, { "retry-after": "1" });
      else sendJson(res, 200, { version: "v2.1.0" });
    });
    const retries: RetryInfo[] = [];
    const c2 = new CoderClient({ url: srv.url, token: TOKEN, onRetry: (i) => retries.push(i) });
    cleanups.push(() => c2.close());
    void client;
    const t0 = performance.now();
    const info = await c2.buildInfo();
    const elapsed = performance.now() - t0;
    assert.equal(info.version, "v2.1.0");
    // The policy's recorded delay is the header's second; the retry really waited at least that long.
    assert.ok(elapsed >= 990, `waited only ${elapsed.toFixed(0)} ms`);
    assert.equal(srv.requests.length, 2);
    assert.ok((srv.requests[1]?.at ?? 0) - (srv.requests[0]?.at ?? 0) >= 990);
    assert.deepEqual(retries, [
      { method: "GET", path: "/api/v2/buildinfo", attempt: 1, status: 429, delayMs: 1000, retryAfter: true },
    ]);
    const st = c2.stats();
    assert.equal(st.retries, 1);
    assert.equal(st.requests, 2);
    assert.deepEqual(st.byStatus, { "429": 1, "200": 1 });
    assert.deepEqual(st.retriesBy, { "429": 1 });
  });

  it("endless 503: gives up after its bound with an error naming the endpoint and the attempts", async () => {
    const { srv, client } = await setup((_req, res) => sendJson(res, 503, { message: "coderd is restarting" }));
    const err = await rejection(client.listUsers({ q: "username:scaletest-" }));
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.status, 503);
    assert.equal(err.attempts, 5);
    assert.equal(srv.requests.length, 5);
    assert.match(err.message, /^GET \/api\/v2\/users: 503 Service Unavailable: coderd is restarting after 5 attempts$/);
    assert.equal(client.stats().retries, 4);
  });

  it("honours a custom bound and an HTTP-date Retry-After", async () => {
    const retries: RetryInfo[] = [];
    const { srv, client } = await setup(
      // An HTTP date 5 s ahead (whole seconds, so 4-5 s by the time it is parsed), far beyond the bound.
      (_req, res) => sendJson(res, 503, { message: "busy" }, { "retry-after": new Date(Date.now() + 5000).toUTCString() }),
      { retry: { attempts: 2, maxRetryAfterMs: 300 }, onRetry: (i) => retries.push(i) },
    );
    const err = await rejection(client.workspace("33333333-3333-4333-8333-333333333333"));
    assert.ok(err instanceof CoderApiError && err.attempts === 2);
    assert.equal(srv.requests.length, 2);
    // The date was understood as a Retry-After and clamped to maxRetryAfterMs, and the retry waited that long.
    assert.deepEqual(retries.map((r) => [r.attempt, r.status, r.delayMs, r.retryAfter]), [[1, 503, 300, true]]);
    const gap = (srv.requests[1]?.at ?? 0) - (srv.requests[0]?.at ?? 0);
    assert.ok(gap >= 290, `second attempt ${gap} ms after the first`);
  });

  it("retries POST on 503 but not on 502 (the proxy may have forwarded it)", async () => {
    let n = 0;
    const { srv, client } = await setup((req, res) => {
      n++;
      if (req.path.endsWith("/builds")) {
        if (n === 1) sendJson(res, 503, { message: "unavailable" });
        else sendJson(res, 201, fixtures.build("pending"));
      } else sendJson(res, 502, { message: "bad gateway" });
    });
    const b = await client.stopWorkspace("33333333-3333-4333-8333-333333333333");
    assert.equal(b.job.status, "pending");
    assert.equal(srv.requests.length, 2);
    const err = await rejection(client.createWorkspace("me", { name: "scaletest-abc-0001" }));
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.status, 502);
    assert.equal(err.attempts, 1);
    assert.equal(srv.requests.length, 3);
    // unless the caller declares the create idempotent
    const err2 = await rejection(client.createWorkspace("me", { name: "scaletest-abc-0001" }, { idempotent: true }));
    assert.ok(err2 instanceof CoderApiError && err2.attempts === 5);
  });

  it("retries GET after a connection reset, but not POST", async () => {
    let n = 0;
    const { srv, client } = await setup((req, res, raw) => {
      n++;
      if (n === 1 || req.method === "POST") {
        raw.socket.destroy();
        return;
      }
      sendJson(res, 200, [{ id: "11111111-1111-4111-8111-111111111111", name: "coder", is_default: true }]);
    });
    const orgs = await client.organizations();
    assert.equal(orgs.length, 1);
    assert.equal(client.stats().retries, 1);
    const before = srv.requests.length;
    const err = await rejection(client.createUser({ email: "a@b.c", username: "scaletest-abc-0001" }));
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.status, 0);
    assert.ok(err.code === "UND_ERR_SOCKET" || err.code === "ECONNRESET", `code ${String(err.code)}`);
    assert.equal(srv.requests.length - before, 1, "POST must not be retried after a reset");
    assert.match(err.message, /^POST \/api\/v2\/users: request failed/);
  });

  it("retries POST when the connection was refused (request never sent)", async () => {
    const port = await closedPort();
    const retries: RetryInfo[] = [];
    const client = new CoderClient({
      url: `http://127.0.0.1:${port}`,
      token: TOKEN,
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
      onRetry: (i) => retries.push(i),
    });
    cleanups.push(() => client.close());
    const err = await rejection(client.createUser({ email: "a@b.c", username: "x" }));
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.attempts, 3);
    assert.equal(retries.length, 2);
    assert.equal(retries[0]?.code, "ECONNREFUSED");
    assert.match(err.message, /POST \/api\/v2\/users: request failed \(ECONNREFUSED\).* after 3 attempts$/);
  });

  it("times out a hung request per attempt", async () => {
    const retries: RetryInfo[] = [];
    const { client } = await setup(() => {
      /* never answers */
    }, { timeoutMs: 150, retry: { attempts: 2, baseDelayMs: 1 }, onRetry: (i) => retries.push(i) });
    const t0 = performance.now();
    const err = await rejection(client.buildInfo());
    const elapsed = performance.now() - t0;
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.code, "ETIMEDOUT");
    assert.equal(err.attempts, 2);
    assert.match(err.message, /no complete answer within 150 ms|ETIMEDOUT/);
    // The first attempt timed out and was retried; each attempt waited out its own 150 ms (the timeout is per
    // attempt, not shared by the call).
    assert.deepEqual(retries.map((r) => [r.attempt, r.status, r.code]), [[1, 0, "ETIMEDOUT"]]);
    assert.ok(elapsed >= 2 * 150 - 2, `both attempts together took only ${elapsed.toFixed(0)} ms`);
  });

  it("backoff is full-jitter exponential, capped; Retry-After parses seconds and dates", () => {
    assert.equal(backoffDelay(1, 100, 1000, () => 0.999), 99);
    assert.equal(backoffDelay(3, 100, 1000, () => 0.5), 200);
    assert.equal(backoffDelay(10, 100, 1000, () => 0.999), 999);
    assert.equal(backoffDelay(2, 100, 1000, () => 0), 0);
    assert.equal(parseRetryAfter("1"), 1000);
    assert.equal(parseRetryAfter("0.5"), 500);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter("soon"), undefined);
    const now = Date.parse("2024-01-01T00:00:00Z");
    assert.equal(parseRetryAfter("Mon, 01 Jan 2024 00:00:03 GMT", now), 3000);
  });
});

describe("keep-alive pool", () => {
  it("uses at most `concurrency` connections and reuses them", async () => {
    const { srv, client } = await setup(
      (_req, res) => {
        setTimeout(() => sendJson(res, 200, { version: "x" }), 30);
      },
      { concurrency: 3 },
    );
    await Promise.all(Array.from({ length: 12 }, () => client.buildInfo()));
    await Promise.all(Array.from({ length: 6 }, () => client.buildInfo()));
    const ports = new Set(srv.requests.map((r) => r.remotePort));
    assert.equal(srv.requests.length, 18);
    assert.ok(ports.size <= 3, `used ${ports.size} connections`);
    assert.ok(ports.size >= 2, "expected parallel connections");
  });

  it("users' sessions share one pool, as codersdk.New clients share Go's default transport: logins and their calls reuse one connection", async () => {
    let n = 0;
    const { srv, client } = await setup((req, res) => {
      if (req.method === "POST" && req.path === "/api/v2/users/login") sendJson(res, 201, { session_token: `sessionkey${++n}-abcdefghijklmnopqrstuv` });
      else sendJson(res, 200, { version: "x" });
    });
    const users = ["a", "b", "c"];
    for (const who of users) {
      const session = await client.login(`${who}@scaletest.local`, `pw-${who}-long-enough`);
      await session.buildInfo();
      await session.close(); // the session is done; the shared pool stays for the next user
    }
    const calls = srv.requests.filter((r) => r.path === "/api/v2/users/login" || r.headers["coder-session-token"]?.toString().startsWith("sessionkey"));
    assert.equal(calls.length, 2 * users.length, "each user's login and one call of its session");
    // One after another, over the pool's one or two connections (a call may go out before the previous one's
    // connection is handed back); a pool per client (the login's and the session's, per user) opens six.
    const ports = new Set(calls.map((r) => r.remotePort));
    assert.ok(ports.size <= 2, `${calls.length} calls of ${users.length} users went over ${ports.size} connections`);
  });
});

describe("pagination", () => {
  it("iterates users over 3 pages with limit/offset and q", async () => {
    const all = Array.from({ length: 5 }, (_, i) => ({
      id: `00000000-0000-4000-8000-00000000000${i}`,
      username: `scaletest-abc-000${i}`,
      email: `u${i}@example.com`,
      created_at: "2024-01-01T00:00:00Z",
    }));
    const { srv, client } = await setup((req, res) => {
      const limit = Number(req.query.get("limit"));
      const offset = Number(req.query.get("offset") ?? 0);
      sendJson(res, 200, { users: all.slice(offset, offset + limit), count: all.length });
    });
    const names: string[] = [];
    for await (const u of client.iterateUsers({ q: "username:scaletest-abc-", pageSize: 2 })) names.push(u.username);
    assert.deepEqual(names, all.map((u) => u.username));
    assert.equal(srv.requests.length, 3);
    assert.deepEqual(srv.requests.map((r) => r.query.get("offset")), ["0", "2", "4"]);
    assert.ok(srv.requests.every((r) => r.query.get("q") === "username:scaletest-abc-" && r.query.get("limit") === "2"));
  });

  it("iterates workspaces over 3 pages even when the server caps the page below pageSize", async () => {
    const all = Array.from({ length: 7 }, (_, i) => ({ ...fixtures.workspace(fixtures.build("succeeded")), name: `scaletest-abc-000${i}` }));
    const { srv, client } = await setup((req, res) => {
      const limit = Math.min(3, Number(req.query.get("limit"))); // server-side cap
      const offset = Number(req.query.get("offset") ?? 0);
      sendJson(res, 200, { workspaces: all.slice(offset, offset + limit), count: all.length });
    });
    const names: string[] = [];
    for await (const w of client.iterateWorkspaces({ q: "name:scaletest-abc-", pageSize: 10 })) names.push(w.name);
    assert.equal(names.length, 7);
    assert.equal(srv.requests.length, 3);
  });
});

describe("waitForBuild", () => {
  it("resolves when the job succeeds, reporting each status change", async () => {
    const seq = ["pending", "pending", "running", "succeeded"];
    let i = 0;
    const { client } = await setup((_req, res) => sendJson(res, 200, fixtures.build(seq[Math.min(i++, seq.length - 1)] ?? "succeeded")));
    const seen: string[] = [];
    const b = await client.waitForBuild("55555555-5555-4555-8555-555555555555", { pollMs: 20, onUpdate: (x) => seen.push(x.job.status) });
    assert.equal(b.job.status, "succeeded");
    assert.deepEqual(seen, ["pending", "running", "succeeded"]);
  });

  it("throws BuildFailedError with the job error and the log tail", async () => {
    const { client } = await setup((req, res) => {
      if (req.path.endsWith("/logs")) {
        sendJson(
          res,
          200,
          Array.from({ length: 30 }, (_, k) => ({
            id: k,
            created_at: "2024-01-01T00:00:00Z",
            log_level: "info",
            log_source: "provisioner",
            stage: "Planning",
            output: `line ${k}`,
          })),
        );
      } else sendJson(res, 200, fixtures.build("failed", { job: fixtures.job("failed", { error: "terraform apply: pod quota exceeded" }) }));
    });
    const err = await rejection(client.waitForBuild("55555555-5555-4555-8555-555555555555", { pollMs: 20 }));
    assert.ok(err instanceof BuildFailedError);
    assert.equal(err.jobStatus, "failed");
    assert.equal(err.jobError, "terraform apply: pod quota exceeded");
    assert.equal(err.logTail.length, 20);
    assert.equal(err.logTail.at(-1), "Planning: line 29");
    assert.match(err.message, /ended failed: terraform apply: pod quota exceeded/);
  });

  it("throws BuildFailedError on canceled, WaitTimeoutError on timeout", async () => {
    let status = "canceled";
    const { client } = await setup((req, res) => (req.path.endsWith("/logs") ? sendJson(res, 200, []) : sendJson(res, 200, fixtures.build(status))));
    const e1 = await rejection(client.waitForBuild("55555555-5555-4555-8555-555555555555", { pollMs: 20 }));
    assert.ok(e1 instanceof BuildFailedError && e1.jobStatus === "canceled");
    status = "running";
    const e2 = await rejection(client.waitForBuild("55555555-5555-4555-8555-555555555555", { pollMs: 20, timeoutMs: 150 }));
    assert.ok(e2 instanceof WaitTimeoutError);
    assert.match(e2.message, /timed out after 150 ms waiting for workspace build 5555.*job running/);
  });
});

describe("waitForAgents", () => {
  it("waits for connected + ready agents after the build succeeded", async () => {
    const states: [string, string, string][] = [
      ["running", "connecting", "created"],
      ["succeeded", "connecting", "created"],
      ["succeeded", "connected", "starting"],
      ["succeeded", "connected", "ready"],
    ];
    let i = 0;
    const { client } = await setup((_req, res) => {
      const [job, st, lc] = states[Math.min(i++, states.length - 1)] ?? ["succeeded", "connected", "ready"];
      const build = fixtures.build(job, { resources: [{ id: "r1", name: "main", type: "kubernetes_pod", agents: [fixtures.agent(st, lc)] }] });
      sendJson(res, 200, fixtures.workspace(build));
    });
    const agents = await client.waitForAgents("33333333-3333-4333-8333-333333333333", { pollMs: 20 });
    assert.equal(agents.length, 1);
    assert.equal(agents[0]?.lifecycle_state, "ready");
    assert.equal(i, 4);
  });

  it("fails fast on start_error and names the agent on timeout", async () => {
    let lc = "start_error";
    const { client } = await setup((_req, res) => {
      const build = fixtures.build("succeeded", { resources: [{ id: "r1", name: "main", type: "pod", agents: [fixtures.agent("connected", lc, "dev")] }] });
      sendJson(res, 200, fixtures.workspace(build));
    });
    const e1 = await rejection(client.waitForAgents("33333333-3333-4333-8333-333333333333", { pollMs: 20 }));
    assert.ok(e1 instanceof AgentNotReadyError);
    assert.match(e1.message, /agent dev .* lifecycle start_error/);
    lc = "starting";
    const e2 = await rejection(client.waitForAgents("33333333-3333-4333-8333-333333333333", { pollMs: 20, timeoutMs: 120 }));
    assert.ok(e2 instanceof WaitTimeoutError);
    assert.match(e2.lastState, /agent dev \(7777.*\) status connected, lifecycle starting/);
  });
});

describe("reconnecting PTY", () => {
  it("builds Coder's exact URL", () => {
    const client = new CoderClient({ url: "https://coder.example.com", token: TOKEN });
    cleanups.push(() => client.close());
    const u = client.ptyUrl("77777777-7777-4777-8777-777777777777", {
      reconnect: "99999999-9999-4999-8999-999999999999",
      width: 80,
      height: 25,
      command: "dd if=/dev/stdin of=/dev/stdout bs=1024 status=none",
    });
    assert.equal(
      u.href,
      "wss://coder.example.com/api/v2/workspaceagents/77777777-7777-4777-8777-777777777777/pty" +
        "?command=dd+if%3D%2Fdev%2Fstdin+of%3D%2Fdev%2Fstdout+bs%3D1024+status%3Dnone&height=25" +
        "&reconnect=99999999-9999-4999-8999-999999999999&width=80",
    );
    const plainClient = new CoderClient({ url: "http://127.0.0.1:3000", token: TOKEN });
    cleanups.push(() => plainClient.close());
    const plain = plainClient.ptyUrl("a");
    assert.equal(plain.protocol, "ws:");
    assert.match(plain.searchParams.get("reconnect") ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(plain.searchParams.get("command"), "");
  });

  it("chunks input into {\"data\"} frames of at most 1024 characters", () => {
    const frames = encodePtyInput("x".repeat(2500));
    assert.equal(frames.length, 3);
    assert.deepEqual(frames.map((f) => (JSON.parse(f) as { data: string }).data.length), [1024, 1024, 452]);
    assert.ok(frames.every((f) => f.endsWith("\n")));
  });

  it("opens with cookie + header auth, echoes typed input, and rejects non-101 with Coder's error", async () => {
    const { srv, client } = await setup((_req, res) => sendJson(res, 404, { message: "not found" }));
    const wss = new WebSocketServer({ noServer: true });
    const seen: { cookie?: string; token?: string; url?: string } = {};
    srv.server.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname.endsWith("/bad/pty")) {
        const body = JSON.stringify({ message: "Agent is not connected.", detail: "agent status disconnected" });
        socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        return;
      }
      seen.cookie = req.headers.cookie;
      seen.token = String(req.headers["coder-session-token"]);
      seen.url = req.url;
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on("message", (m: Buffer) => {
          for (const line of m.toString("utf8").split("\n").filter(Boolean)) {
            const msg = JSON.parse(line) as { data?: string };
            if (msg.data) ws.send(Buffer.from(msg.data));
          }
        });
      });
    });
    cleanups.push(async () => {
      wss.close();
    });
    const ws = await client.openReconnectingPty("77777777-7777-4777-8777-777777777777", { command: "sh" });
    let got = "";
    const echoed = new Promise<void>((resolve) =>
      ws.on("message", (d: Buffer) => {
        got += d.toString("utf8");
        if (got.includes("hello pty\r\n")) resolve();
      }),
    );
    await sendPtyInput(ws, "hello pty\r\n");
    await echoed;
    ws.close();
    assert.equal(seen.cookie, `coder_session_token=${TOKEN}`);
    assert.equal(seen.token, TOKEN);
    assert.match(seen.url ?? "", /^\/api\/v2\/workspaceagents\/7777[^/]*\/pty\?command=sh&height=25&reconnect=[0-9a-f-]{36}&width=80$/);

    const err = await rejection(client.openReconnectingPty("bad"));
    assert.ok(err instanceof CoderApiError);
    assert.equal(err.status, 400);
    assert.equal(err.coderMessage, "Agent is not connected.");
    assert.equal(err.detail, "agent status disconnected");
    assert.equal(err.path, "/api/v2/workspaceagents/bad/pty");
    assert.ok(!err.message.includes(TOKEN));
  });
});
