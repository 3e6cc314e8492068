// Request-side contract test: every request the Coder client sends (method, path, query, JSON
// body) must be an operation of Coder's API contract, with a body valid against the operation's
// body schema. Every public CoderClient method is exercised against a recording loopback server.

import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { WebSocketServer } from "ws";
import { CoderClient } from "../src/coder/index.ts";
import { waitForBuildFollowingLogs } from "../src/coder/build-logs.ts";
import {
  createTemplate, createTemplateVersion, deleteTemplate, getPrebuildsSettings, setReconciliationPaused, templateByName, updateActiveVersion, uploadTar, waitTemplateVersion,
} from "../src/prebuilds/api.ts";
import { checkRequest, contract, matchTemplate } from "./helpers/client-contract.ts";
import { fixtures, sendJson, startTestServer, type RecordedRequest } from "./helpers/client-server.ts";

const TOKEN = "AbCdEfGhIj-0123456789abcdefghijkl";
const ORG = "11111111-1111-4111-8111-111111111111";
const USER = "22222222-2222-4222-8222-222222222222";
const WS = "33333333-3333-4333-8333-333333333333";
const TV = "44444444-4444-4444-8444-444444444444";
const BUILD = "55555555-5555-4555-8555-555555555555";
const AGENT = "77777777-7777-4777-8777-777777777777";
const TEMPLATE = "88888888-8888-4888-8888-888888888888";

const user = { id: USER, username: "scaletest-abc-0001", email: "scaletest-abc-0001@scaletest.local", created_at: "2024-01-01T00:00:00Z" };
const readyBuild = fixtures.build("succeeded", {
  resources: [{ id: "r1", name: "main", type: "kubernetes_pod", agents: [fixtures.agent("connected", "ready")] }],
});

/** Canned answers per contract operation, shaped like Coder's. */
function answer(req: RecordedRequest): [number, unknown] {
  const t = matchTemplate(req.path) ?? "";
  const key = `${req.method} ${t}`;
  switch (key) {
    case "GET /buildinfo":
      return [200, { version: "v2.24.1", dashboard_url: "", deployment_id: "d", external_url: "", telemetry: false, workspace_proxy: false }];
    case "GET /debug/health":
      return [200, { severity: "ok", healthy: true }];
    case "GET /appearance":
      return [200, { application_name: "" }];
    case "PUT /appearance":
      return [200, req.body];
    case "GET /deployment/stats":
      return [200, { workspaces: { running: 1 } }];
    case "GET /users/{user}":
      return [200, user];
    case "GET /organizations":
      return [200, [{ id: ORG, name: "coder", is_default: true, created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z" }]];
    case "POST /users":
      return [201, user];
    case "DELETE /users/{user}":
      return [200, undefined];
    case "GET /users": {
      const offset = Number(req.query.get("offset") ?? 0);
      return [200, { users: offset < 2 ? [user, user].slice(0, Number(req.query.get("limit") ?? 2)) : [user], count: 3 }];
    }
    case "POST /users/{user}/keys/tokens":
      return [201, { key: "abcdefghij-secretsecretsecretsecret12" }];
    case "GET /users/{user}/keys/tokens":
      return [200, []];
    case "DELETE /users/{user}/keys/{keyid}":
      return [204, undefined];
    case "GET /organizations/{organization}/templates/{templatename}":
    case "GET /templates/{template}":
      return [200, { id: TEMPLATE, name: "kubernetes", active_version_id: TV, organization_id: ORG, created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z" }];
    case "GET /templates":
      return [200, []];
    case "GET /templateversions/{templateversion}":
      return [200, { id: TV, name: "v1", job: fixtures.job("succeeded"), created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z" }];
    case "GET /templateversions/{templateversion}/rich-parameters":
      return [200, [{ name: "cpu", type: "number", default_value: "2", mutable: true, required: false }]];
    case "POST /users/{user}/workspaces":
      return [201, fixtures.workspace(readyBuild)]; // coderd's status (see the contract's statusCorrections)
    case "GET /workspaces/{workspace}":
    case "GET /users/{user}/workspace/{workspacename}":
      return [200, fixtures.workspace(readyBuild)];
    case "GET /workspaces": {
      const offset = Number(req.query.get("offset") ?? 0);
      return [200, { workspaces: offset === 0 ? [fixtures.workspace(readyBuild)] : [], count: 1 }];
    }
    case "POST /workspaces/{workspace}/builds":
      return [201, readyBuild];
    case "GET /workspacebuilds/{workspacebuild}":
      return [200, readyBuild];
    case "GET /workspacebuilds/{workspacebuild}/logs":
      return [200, []];
    case "PATCH /workspacebuilds/{workspacebuild}/cancel":
      return [200, { message: "Job has been marked as canceled..." }];
    case "GET /users/{user}/organizations":
      return [200, []];
    case "GET /audit":
      return [200, { audit_logs: [], count: 0 }];
    case "POST /users/login":
      return [201, { session_token: "loginkey01-abcdefghijklmnopqrstuv" }];
    case "GET /workspaceagents/{workspaceagent}":
      return [200, fixtures.agent("connected", "ready")];
    default:
      return [404, { message: `recorder has no answer for ${key}` }];
  }
}

describe("client requests conform to Coder's API contract", () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("every CoderClient method sends only contract operations with valid bodies", async () => {
    const srv = await startTestServer((req, res) => {
      const [status, body] = answer(req);
      sendJson(res, status, body);
    });
    // Record websocket upgrades (the PTY) as requests too.
    const wss = new WebSocketServer({ noServer: true });
    srv.server.on("upgrade", (raw, socket, head) => {
      const u = new URL(raw.url ?? "/", "http://x");
      srv.requests.push({ method: raw.method ?? "GET", path: u.pathname, query: u.searchParams, headers: raw.headers, rawBody: "", body: undefined, remotePort: 0, at: Date.now() });
      wss.handleUpgrade(raw, socket, head, (ws) => ws.close(1000));
    });
    const client = new CoderClient({ url: srv.url, token: TOKEN, retry: { attempts: 1 } });
    cleanups.push(async () => {
      await client.close();
      wss.close();
      await srv.close();
    });

    // Track which public methods were exercised, so a new method cannot skip this test.
    const called = new Set<string>();
    const c = new Proxy(client, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (typeof v === "function" && typeof prop === "string") {
          called.add(prop);
          return (v as (...a: unknown[]) => unknown).bind(target);
        }
        return v;
      },
    });

    await c.buildInfo();
    await c.health();
    await c.health({ force: true });
    await c.getAppearance();
    await c.updateAppearance({ application_name: "Scale test", announcement_banners: [{ enabled: true, message: "load test running", background_color: "#ff0000" }] });
    await c.deploymentStats();
    await c.me();
    await c.user(USER);
    await c.organizations();
    const org = await c.defaultOrganization();
    await c.createUser({
      email: "scaletest-abc-0001@scaletest.local",
      username: "scaletest-abc-0001",
      password: "Pa55word!-long-enough",
      login_type: "password",
      organization_ids: [org.id],
    });
    await c.listUsers({ q: "username:scaletest-abc-", limit: 2, offset: 0 });
    const users = [];
    for await (const u of c.iterateUsers({ q: "username:scaletest-", pageSize: 2 })) users.push(u);
    assert.equal(users.length, 3);
    const tok = await c.createToken("me", { token_name: "scaletest-abc", lifetime: 3600 * 1e9 });
    await c.listTokens("me");
    await c.deleteToken("me", tok.key.split("-")[0] ?? "");
    await c.templateByName(org.id, "kubernetes");
    await c.templateByName("coder", "kubernetes");
    const tpl = await c.template(TEMPLATE);
    await c.listTemplates();
    await c.templateVersion(tpl.active_version_id);
    await c.templateVersionRichParameters(tpl.active_version_id);
    const ws = await c.createWorkspace(USER, {
      name: "scaletest-abc-0001",
      template_id: TEMPLATE,
      rich_parameter_values: [{ name: "cpu", value: "2" }],
    });
    await c.createWorkspace("me", { name: "scaletest-abc-0002", template_version_id: TV, automatic_updates: "never", ttl_ms: 3_600_000 });
    await c.workspace(ws.id);
    await c.workspace(ws.id, { includeDeleted: true });
    await c.workspaceByOwnerAndName("scaletest-abc-0001", "scaletest-abc-0001");
    await c.listWorkspaces({ q: "name:scaletest-abc-", limit: 10, offset: 0 });
    for await (const w of c.iterateWorkspaces({ q: "owner:me", pageSize: 50 })) assert.equal(w.id, WS);
    await c.createBuild(WS, { transition: "start", template_version_id: TV, rich_parameter_values: [{ name: "cpu", value: "4" }], log_level: "debug" });
    await c.startWorkspace(WS);
    await c.stopWorkspace(WS);
    await c.deleteWorkspace(WS);
    await c.deleteWorkspace(WS, { orphan: true });
    await c.workspaceBuild(BUILD);
    await c.workspaceBuildLogs(BUILD);
    await c.workspaceBuildLogs(BUILD, { after: 10 });
    await c.cancelBuild(BUILD);
    await c.cancelBuild(BUILD, { expectStatus: "running" });
    await c.waitForBuild(BUILD, { pollMs: 10 });
    const agents = await c.waitForAgents(WS, { pollMs: 10 });
    await c.workspaceResources(WS);
    await c.workspaceAgent(agents[0]?.id ?? AGENT);
    const pty = await c.openReconnectingPty(AGENT, { width: 120, height: 40, command: "bash" });
    pty.close();
    (await c.openWebSocket(c.ptyUrl(AGENT))).close(); // same origin: allowed
    // The user's own session: a login from a fresh client (no session header), then a client for that session.
    const asUser = await c.login("scaletest-abc-0001@scaletest.local", "Pa55word!-long-enough");
    const loginReq = srv.requests.find((r) => r.path === "/api/v2/users/login")!;
    assert.equal(loginReq.headers["coder-session-token"], undefined);
    assert.equal(asUser.sessionToken, "loginkey01-abcdefghijklmnopqrstuv");
    await asUser.me();
    await asUser.close();
    const again = c.forSession("loginkey01-abcdefghijklmnopqrstuv");
    await again.me();
    await again.close();
    // The build wait as Coder's: poll, then the log stream (?follow), then the build.
    await waitForBuildFollowingLogs(c, BUILD, { pendingPollMs: 10 });
    assert.ok(srv.requests.some((r) => r.path.endsWith("/logs") && r.query.has("follow")));
    await c.deleteUser(USER);
    await c.request("GET", "/users/me/organizations");
    await c.request("GET", "/audit", { query: { q: "resource_type:workspace", limit: 25 } });
    c.stats();
    c.toString();

    // Every public method was exercised.
    const publicMethods = Object.getOwnPropertyNames(CoderClient.prototype).filter(
      (n) => n !== "constructor" && n !== "close" && typeof Object.getOwnPropertyDescriptor(CoderClient.prototype, n)?.value === "function",
    );
    const missed = publicMethods.filter((m) => !called.has(m));
    assert.deepEqual(missed, [], `methods not covered by the contract test: ${missed.join(", ")}`);

    // Every recorded request conforms.
    assert.ok(srv.requests.length > 40, `only ${srv.requests.length} requests recorded`);
    const problems = srv.requests.flatMap((r) => checkRequest(r).problems);
    assert.deepEqual(problems, []);

    // And the operations named in the issue are actually used.
    const used = new Set(srv.requests.map((r) => `${r.method} ${matchTemplate(r.path) ?? "?"}`));
    for (const op of [
      "POST /users/{user}/workspaces",
      "POST /workspaces/{workspace}/builds",
      "GET /workspaceagents/{workspaceagent}/pty",
      "GET /workspacebuilds/{workspacebuild}/logs",
      "GET /organizations/{organization}/templates/{templatename}",
      "GET /templateversions/{templateversion}/rich-parameters",
      "POST /users",
      "POST /users/login",
      "DELETE /users/{user}",
    ]) {
      assert.ok(used.has(op), `operation ${op} was never sent`);
    }
    assert.ok(!used.has("POST /organizations/{organization}/members/{user}/workspaces"), "deprecated create endpoint used");
  });

  it("the prebuilds load type's template writes (through client.request) send only contract operations with valid bodies", async () => {
    const FILE = "99999999-9999-4999-8999-999999999999";
    const TV2 = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa";
    const version = (id: string) => ({ id, name: "v", job: fixtures.job("succeeded"), created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z" });
    const tpl = { id: TEMPLATE, name: "scaletest-abc-tpl", active_version_id: TV, organization_id: ORG, created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z" };
    const srv = await startTestServer((req, res) => {
      const key = `${req.method} ${matchTemplate(req.path) ?? ""}`;
      const answers: Record<string, [number, unknown]> = {
        "GET /prebuilds/settings": [200, { reconciliation_paused: true }],
        "PUT /prebuilds/settings": [200, req.body],
        "POST /files": [201, { hash: FILE }],
        "POST /organizations/{organization}/templateversions": [201, version(req.body && (req.body as { template_id?: string }).template_id ? TV2 : TV)],
        "GET /templateversions/{templateversion}": [200, version(TV)],
        "POST /organizations/{organization}/templates": [201, tpl], // coderd's status (statusCorrections)
        "GET /organizations/{organization}/templates/{templatename}": [200, tpl],
        "PATCH /templates/{template}/versions": [200, { message: "Updated the active template version!" }],
        "DELETE /templates/{template}": [200, { message: "Template has been deleted!" }],
      };
      const [status, body] = answers[key] ?? [404, { message: `recorder has no answer for ${key}` }];
      sendJson(res, status, body);
    });
    const client = new CoderClient({ url: srv.url, token: TOKEN, retry: { attempts: 1 } });
    cleanups.push(async () => {
      await client.close();
      await srv.close();
    });

    await getPrebuildsSettings(client);
    await setReconciliationPaused(client, false);
    const fileId = await uploadTar(client, new Uint8Array(1024));
    assert.equal(fileId, FILE, "the file id is read from UploadResponse.hash");
    const v = await createTemplateVersion(client, ORG, { fileId, message: "scaletest" });
    await waitTemplateVersion(client, v.id, { timeoutMs: 5_000, pollMs: 10 });
    const t = await createTemplate(client, ORG, { name: "scaletest-abc-tpl", description: "", versionId: v.id });
    await templateByName(client, ORG, "scaletest-abc-tpl");
    const v2 = await createTemplateVersion(client, ORG, { fileId, templateId: t.id, message: "scaletest drain" });
    await updateActiveVersion(client, t.id, v2.id);
    await deleteTemplate(client, t.id);

    const sent = srv.requests.map((r) => `${r.method} ${matchTemplate(r.path) ?? r.path}`);
    for (const op of ["PUT /prebuilds/settings", "POST /files", "POST /organizations/{organization}/templateversions", "POST /organizations/{organization}/templates", "PATCH /templates/{template}/versions", "DELETE /templates/{template}"]) {
      assert.ok(sent.includes(op), `${op} was never sent (sent: ${sent.join(", ")})`);
    }
    // POST /files carries the archive as the body (swagger: formData "file" with Content-Type application/x-tar), not JSON.
    const uploads = srv.requests.filter((r) => r.method === "POST" && matchTemplate(r.path) === "/files");
    for (const u of uploads) assert.equal(u.headers["content-type"], "application/x-tar");
    const problems = srv.requests.filter((r) => !uploads.includes(r)).flatMap((r) => checkRequest(r).problems);
    assert.deepEqual(problems, []);
  });

  it("the checker itself rejects bad requests (it is not vacuous)", () => {
    const q = new URLSearchParams();
    const bad = [
      checkRequest({ method: "POST", path: "/api/v2/users/me/workspaces", query: q, body: { template_id: TEMPLATE } }),
      checkRequest({ method: "POST", path: "/api/v2/workspaces/x/builds", query: q, body: { transition: "restart" } }),
      checkRequest({ method: "DELETE", path: "/api/v2/workspaces/x", query: q, body: undefined }),
      checkRequest({ method: "GET", path: "/api/v2/users", query: new URLSearchParams("page=2"), body: undefined }),
      checkRequest({ method: "GET", path: "/api/v2/users", query: new URLSearchParams("limit=ten"), body: undefined }),
      checkRequest({ method: "POST", path: "/api/v2/users", query: q, body: { username: "x", email: "not-an-email" } }),
      checkRequest({ method: "POST", path: "/api/v2/organizations/o/members/me/workspaces", query: q, body: { name: "x" } }),
      checkRequest({ method: "PATCH", path: "/api/v2/templates/t/versions", query: q, body: { template_version_id: "x" } }),
      checkRequest({ method: "PATCH", path: "/api/v2/workspaceagents/me/app-status", query: q, body: { app_slug: "ai", state: "busy" } }),
    ];
    for (const r of bad) assert.ok(r.problems.length > 0, `expected problems for ${JSON.stringify(r)}`);
    assert.equal(matchTemplate("/api/v2/users/me/keys/tokens"), "/users/{user}/keys/tokens");
    assert.equal(matchTemplate("/api/v2/users/authmethods"), "/users/authmethods");
  });

  it("the contract file names the Coder commit it was cut from and every $ref in it resolves", () => {
    const source = (contract as unknown as { source?: { repo?: string; commit?: string } }).source;
    assert.equal(source?.repo, "coder/coder");
    assert.match(source?.commit ?? "", /^[0-9a-f]{40}$/);
    const refs = JSON.stringify(contract).match(/"\$ref":"#\/definitions\/[^"]+"/g) ?? [];
    assert.ok(refs.length > 100, `only ${refs.length} $refs`);
    const missing = refs.map((r) => r.slice('"$ref":"#/definitions/'.length, -1)).filter((n) => !(n in contract.definitions));
    assert.deepEqual([...new Set(missing)], []);
  });
});
