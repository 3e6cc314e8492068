// Contract tests: every operation the simulator implements is called for real and its response
// body validated with ajv against test/contract/coder-api.json (the subset of Coder's swagger this
// project uses); the status code must be one the contract lists. A list of contract operations the
// simulator does not implement is kept here and checked to be exact.
//
// Quirks of the contract worked around explicitly (see the contract file's notes):
//  - Template.organization_name has format "url" but holds an org name ("coder"): the format is dropped.
//  - User.status narrows to active|suspended, but Coder (and the simulator) create users "dormant":
//    "dormant" is added back to that enum.
//  - GET /workspaceproxies is documented as an ARRAY of RegionsResponse, but coderd writes ONE
//    RegionsResponse object ({regions:[...]}, see codersdk.Client.WorkspaceProxies); the simulator
//    answers like coderd and the test validates against the array's item schema.
//  - TemplateVersion.warnings items carry two contradicting enums; the simulator only ever sends [],
//    so no workaround is needed (noted so nobody "fixes" it by sending a value).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import WebSocket from "ws";
import { api, createRunningWorkspace, templateId, waitFor, withSim, type Sim } from "./helpers/sim.ts";
import { startSim } from "../sim/index.ts";
import { templateArchive } from "../src/dynamic-parameters/template.ts";
import { applyStatusCorrections, CONTRACT_PATH } from "./helpers/client-contract.ts";
import { tarFiles } from "../src/util/tar.ts";


interface Operation { responses: Record<string, { schema?: unknown }> }
interface Contract { paths: Record<string, Record<string, Operation>>; definitions: Record<string, any> }

function loadContract(): Contract {
  // As coderd answers (201 for workspace creation and builds), not as swagger annotates.
  const c = applyStatusCorrections(JSON.parse(readFileSync(CONTRACT_PATH, "utf8")) as Contract);
  const tpl = c.definitions["codersdk.Template"];
  delete tpl.properties.organization_name.format;
  const status = c.definitions["codersdk.User"].properties.status;
  status.enum = [...status.enum, "dormant"];
  // coderd writes read_at: null for an unread inbox notification (a *time.Time), though annotated as a string.
  const readAt = c.definitions["codersdk.InboxNotification"].properties.read_at;
  readAt.type = ["string", "null"];
  // coderd's template examples are identified by slug, and the Everyone group has no avatar ("").
  delete c.definitions["codersdk.TemplateExample"].properties.id.format;
  delete c.definitions["codersdk.Group"].properties.avatar_url.format;
  // coderd writes codersdk.AvailableExperiments ({safe: [...]}), not the annotated array.
  c.paths["/experiments/available"]!["get"]!.responses["200"]!.schema = {
    type: "object", required: ["safe"], properties: { safe: { type: "array", items: { $ref: "#/definitions/codersdk.Experiment" } } },
  };
  const proxies = c.paths["/workspaceproxies"]!["get"]!.responses["200"]!;
  proxies.schema = (proxies.schema as { items: unknown }).items;
  return c;
}

/** Contract operations the simulator deliberately does not implement. */
const NOT_IMPLEMENTED = new Set<string>([
]);

const contract = loadContract();
// ajv-formats is CommonJS: under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv) => Ajv;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>();

function validatorFor(method: string, path: string, status: number): ValidateFunction | null {
  const op = contract.paths[path]?.[method.toLowerCase()];
  assert.ok(op, `contract has no operation ${method} ${path}`);
  const resp = op.responses[String(status)];
  assert.ok(resp, `${method} ${path}: status ${status} is not one the contract lists (${Object.keys(op.responses).join(", ")})`);
  if (!resp.schema) return null;
  const key = `${method} ${path} ${status}`;
  const cached = validators.get(key);
  if (cached) return cached;
  const v = ajv.compile({ ...(resp.schema as object), definitions: contract.definitions });
  validators.set(key, v);
  return v;
}

const covered = new Set<string>();

/** The first message of a websocket of the simulator (as the Owner), JSON-parsed; the socket is closed after it. */
function firstFrame(sim: Sim, url: string): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    const sock = new WebSocket(url, { headers: { "Coder-Session-Token": sim.ownerToken } });
    sock.once("message", (d) => {
      resolve(JSON.parse(String(d)));
      sock.close();
    });
    sock.once("error", reject);
  });
}

/** Call the sim and validate the response against the contract operation `path` (swagger template). */
async function check(sim: Sim, method: string, path: string, url: string, body?: unknown, token: string = sim.ownerToken): Promise<any> {
  const r = await api(sim, method, url, body, token);
  const v = validatorFor(method, path, r.status);
  if (v) {
    const ok = v(r.body);
    assert.ok(ok, `${method} ${url} -> ${r.status}: response does not match the contract:\n${ajv.errorsText(v.errors, { separator: "\n" })}\n${JSON.stringify(r.body).slice(0, 600)}`);
  }
  covered.add(`${method} ${path}`);
  return r.body;
}

describe("simulator responses validate against Coder's API contract", () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim({ seed: 11, buildDuration: 30, agentConnectDelayMs: 20, agentReadyDelayMs: 10 });
  });
  after(async () => {
    await sim.stop();
  });

  it("validates every implemented operation", async () => {
    await check(sim, "GET", "/buildinfo", "/api/v2/buildinfo");
    await check(sim, "GET", "/appearance", "/api/v2/appearance");
    await check(sim, "PUT", "/appearance", "/api/v2/appearance", { service_banner: { enabled: true, message: "scale test running", background_color: "#004852" } });
    await check(sim, "GET", "/entitlements", "/api/v2/entitlements");
    await check(sim, "GET", "/deployment/stats", "/api/v2/deployment/stats");
    await check(sim, "GET", "/deployment/config", "/api/v2/deployment/config");
    await check(sim, "GET", "/debug/health", "/api/v2/debug/health");
    await check(sim, "GET", "/regions", "/api/v2/regions");
    await check(sim, "GET", "/workspaceproxies", "/api/v2/workspaceproxies");
    await check(sim, "GET", "/users/authmethods", "/api/v2/users/authmethods");
    await check(sim, "GET", "/audit", "/api/v2/audit?limit=10");
    await check(sim, "GET", "/insights/daus", "/api/v2/insights/daus?tz_offset=0");
    const now = new Date();
    const start = new Date(now.getTime() - 7 * 86400_000);
    const t = (d: Date) => encodeURIComponent(d.toISOString().slice(0, 10) + "T00:00:00Z");
    await check(sim, "GET", "/insights/templates", `/api/v2/insights/templates?start_time=${t(start)}&end_time=${t(now)}&interval=day`);
    await check(sim, "GET", "/insights/user-latency", `/api/v2/insights/user-latency?start_time=${t(start)}&end_time=${t(now)}`);

    const orgs = await check(sim, "GET", "/organizations", "/api/v2/organizations");
    const org = orgs[0].id as string;
    await check(sim, "GET", "/organizations/{organization}", `/api/v2/organizations/${org}`);
    await check(sim, "GET", "/organizations/{organization}/provisionerdaemons", `/api/v2/organizations/${org}/provisionerdaemons`);
    await check(sim, "GET", "/templates", "/api/v2/templates");
    await check(sim, "GET", "/organizations/{organization}/templates", `/api/v2/organizations/${org}/templates`);
    const tpl = await check(sim, "GET", "/organizations/{organization}/templates/{templatename}", `/api/v2/organizations/${org}/templates/kubernetes-small`);
    await check(sim, "GET", "/templates/{template}", `/api/v2/templates/${tpl.id}`);
    await check(sim, "GET", "/templateversions/{templateversion}", `/api/v2/templateversions/${tpl.active_version_id}`);
    await check(sim, "GET", "/templateversions/{templateversion}/rich-parameters", `/api/v2/templateversions/${tpl.active_version_id}/rich-parameters`);
    const dev = await templateId(sim, "docker-dev");
    const devTpl = await check(sim, "GET", "/templates/{template}", `/api/v2/templates/${dev}`);
    await check(sim, "GET", "/templateversions/{templateversion}/rich-parameters", `/api/v2/templateversions/${devTpl.active_version_id}/rich-parameters`);

    // Users and tokens.
    await check(sim, "GET", "/users", "/api/v2/users?limit=2&offset=1");
    await check(sim, "GET", "/users", "/api/v2/users?q=" + encodeURIComponent("status:active"));
    const user = await check(sim, "POST", "/users", "/api/v2/users", { username: "scaletest-ct01-0001", email: "scaletest-ct01-0001@scaletest.local", password: "Pa55word!!", organization_ids: [org] });
    assert.equal(user.status, "dormant", "new users start dormant, as in Coder");
    await check(sim, "GET", "/users/{user}", `/api/v2/users/${user.id}`);
    await check(sim, "GET", "/users/{user}", "/api/v2/users/me");
    await check(sim, "GET", "/users/{user}/organizations", `/api/v2/users/${user.username}/organizations`);
    const minted = await check(sim, "POST", "/users/{user}/keys/tokens", `/api/v2/users/${user.id}/keys/tokens`, { token_name: "ct", lifetime: 3600 * 1e9 });
    const keys = await check(sim, "GET", "/users/{user}/keys/tokens", `/api/v2/users/${user.id}/keys/tokens`);
    assert.equal(keys.length, 1);
    await check(sim, "GET", "/users/{user}/keys/{keyid}", `/api/v2/users/${user.id}/keys/${keys[0].id}`);
    const session = await check(sim, "POST", "/users/{user}/keys", `/api/v2/users/${user.id}/keys`);
    assert.match(session.key, /^[A-Za-z0-9]{10}-[A-Za-z0-9]{22}$/);
    const login = await check(sim, "POST", "/users/login", "/api/v2/users/login", { email: "scaletest-ct01-0001@scaletest.local", password: "Pa55word!!" }, "");
    await check(sim, "POST", "/users/logout", "/api/v2/users/logout", undefined, login.session_token);

    // Workspaces (current endpoint as the member, deprecated one as the owner).
    const ws = await check(sim, "POST", "/users/{user}/workspaces", "/api/v2/users/me/workspaces",
      { name: "scaletest-ct01-0001", template_id: tpl.id, rich_parameter_values: [{ name: "cpu", value: "4" }] }, minted.key);
    const ws2 = await check(sim, "POST", "/organizations/{organization}/members/{user}/workspaces",
      `/api/v2/organizations/${org}/members/${user.username}/workspaces`, { name: "scaletest-ct01-0002", template_id: tpl.id });
    await check(sim, "GET", "/organizations/{organization}/provisionerjobs", `/api/v2/organizations/${org}/provisionerjobs?limit=5`);
    await check(sim, "GET", "/organizations/{organization}/provisionerjobs/{job}", `/api/v2/organizations/${org}/provisionerjobs/${ws.latest_build.job.id}`);
    await waitFor("both workspaces running with agents ready", async () => {
      const a = await api(sim, "GET", `/api/v2/workspaces/${ws.id}`);
      const b = await api(sim, "GET", `/api/v2/workspaces/${ws2.id}`);
      const ready = (w: any) => w.latest_build.status === "running" && w.latest_build.resources.some((r: any) => r.agents.some((x: any) => x.lifecycle_state === "ready"));
      return ready(a.body) && ready(b.body);
    });
    await check(sim, "GET", "/organizations/{organization}/provisionerdaemons", `/api/v2/organizations/${org}/provisionerdaemons`);
    const full = await check(sim, "GET", "/workspaces/{workspace}", `/api/v2/workspaces/${ws.id}`);
    await check(sim, "GET", "/workspaces", "/api/v2/workspaces?q=" + encodeURIComponent("name:scaletest-ct01- owner:scaletest-ct01-0001") + "&limit=10");
    await check(sim, "GET", "/workspaces", "/api/v2/workspaces");
    await check(sim, "GET", "/users/{user}/workspace/{workspacename}", `/api/v2/users/${user.username}/workspace/${ws.name}`);
    await check(sim, "PATCH", "/workspaces/{workspace}", `/api/v2/workspaces/${ws.id}`, { name: ws.name });
    await check(sim, "PUT", "/workspaces/{workspace}/autostart", `/api/v2/workspaces/${ws.id}/autostart`, { schedule: "CRON_TZ=UTC 30 9 * * 1-5" });
    // watch-ws: the first frame is a ServerSentEvent carrying the workspace.
    const frame = await firstFrame(sim, `${sim.url.replace("http", "ws")}/api/v2/workspaces/${ws.id}/watch-ws`);
    const sse = validatorFor("GET", "/workspaces/{workspace}/watch-ws", 200)!;
    assert.ok(sse(frame), ajv.errorsText(sse.errors));
    assert.equal((frame as { data: { autostart_schedule: string } }).data.autostart_schedule, "CRON_TZ=UTC 30 9 * * 1-5");
    covered.add("GET /workspaces/{workspace}/watch-ws");
    const buildId = full.latest_build.id as string;
    await check(sim, "GET", "/workspacebuilds/{workspacebuild}", `/api/v2/workspacebuilds/${buildId}`);
    await check(sim, "GET", "/workspacebuilds/{workspacebuild}/logs", `/api/v2/workspacebuilds/${buildId}/logs`);
    await check(sim, "GET", "/workspacebuilds/{workspacebuild}/resources", `/api/v2/workspacebuilds/${buildId}/resources`);
    const agentId = full.latest_build.resources.flatMap((r: any) => r.agents)[0].id as string;
    await check(sim, "GET", "/workspaceagents/{workspaceagent}", `/api/v2/workspaceagents/${agentId}`);
    await check(sim, "GET", "/workspaceagents/{workspaceagent}/connection", `/api/v2/workspaceagents/${agentId}/connection`);
    await check(sim, "GET", "/workspaceagents/{workspaceagent}/listening-ports", `/api/v2/workspaceagents/${agentId}/listening-ports`);

    // The PTY answers 101 (the only documented status).
    await new Promise<void>((resolve, reject) => {
      const sock = new WebSocket(`${sim.url.replace("http", "ws")}/api/v2/workspaceagents/${agentId}/pty?reconnect=${crypto.randomUUID()}&width=80&height=25`, {
        headers: { "Coder-Session-Token": sim.ownerToken },
      });
      sock.on("upgrade", (res) => {
        validatorFor("GET", "/workspaceagents/{workspaceagent}/pty", res.statusCode ?? 0);
        covered.add("GET /workspaceagents/{workspaceagent}/pty");
      });
      sock.on("open", () => sock.close());
      sock.on("close", () => resolve());
      sock.on("error", reject);
    });

    // The dynamic-parameters websocket of an imported version answers 101, then the initial evaluation (id -1).
    const dpTemplate = await api(sim, "GET", `/api/v2/templates/${full.template_id}`);
    const first = await new Promise<{ id: number; diagnostics: unknown[]; parameters: unknown[] }>((resolve, reject) => {
      const sock = new WebSocket(`${sim.url.replace("http", "ws")}/api/v2/templateversions/${dpTemplate.body.active_version_id}/dynamic-parameters`, {
        headers: { "Coder-Session-Token": sim.ownerToken },
      });
      sock.on("upgrade", (res) => {
        validatorFor("GET", "/templateversions/{templateversion}/dynamic-parameters", res.statusCode ?? 0);
        covered.add("GET /templateversions/{templateversion}/dynamic-parameters");
      });
      sock.on("message", (data) => {
        resolve(JSON.parse(data.toString()));
        sock.close();
      });
      sock.on("error", reject);
    });
    assert.equal(first.id, -1);
    assert.ok(Array.isArray(first.diagnostics) && Array.isArray(first.parameters));

    // POST /files takes a tar body: 201 for new content, 200 when the same user uploaded it before.
    const tar = templateArchive("contract");
    for (const status of [201, 200]) {
      const res = await fetch(`${sim.url}/api/v2/files`, { method: "POST", headers: { "Coder-Session-Token": sim.ownerToken, "Content-Type": "application/x-tar" }, body: new Uint8Array(tar) });
      assert.equal(res.status, status);
      const v = validatorFor("POST", "/files", res.status)!;
      const body = await res.json();
      assert.ok(v(body), ajv.errorsText(v.errors));
    }
    covered.add("POST /files");

    // A version from that upload (201, its import job pending), then a template from it (coderd: 201).
    const fileId = (await (await fetch(`${sim.url}/api/v2/files`, { method: "POST", headers: { "Coder-Session-Token": sim.ownerToken, "Content-Type": "application/x-tar" }, body: new Uint8Array(tar) })).json()).hash;
    const version = await check(sim, "POST", "/organizations/{organization}/templateversions", `/api/v2/organizations/${org}/templateversions`,
      { file_id: fileId, storage_method: "file", provisioner: "terraform", tags: {}, message: "contract" });
    assert.equal(version.template_id, undefined);
    const created = await check(sim, "POST", "/organizations/{organization}/templates", `/api/v2/organizations/${org}/templates`,
      { name: "scaletest-contract-dp", display_name: "Contract", description: "", template_version_id: version.id });
    assert.equal(created.active_version_id, version.id);

    // Stop, a build to cancel, delete.
    // The stop build is held pending (fault) so that there is something to cancel.
    sim.faults.set({ build: { stuckPendingRate: 1 } });
    const stop = await check(sim, "POST", "/workspaces/{workspace}/builds", `/api/v2/workspaces/${ws2.id}/builds`, { transition: "stop" });
    sim.faults.clear();
    assert.equal(stop.job.status, "pending");
    await check(sim, "PATCH", "/workspacebuilds/{workspacebuild}/cancel", `/api/v2/workspacebuilds/${stop.id}/cancel`);
    await waitFor("canceled stop", async () => (await api(sim, "GET", `/api/v2/workspacebuilds/${stop.id}`)).body.status === "canceled");
    await check(sim, "GET", "/workspacebuilds/{workspacebuild}", `/api/v2/workspacebuilds/${stop.id}`);
    await check(sim, "GET", "/workspaces/{workspace}/builds", `/api/v2/workspaces/${ws2.id}/builds?limit=5`);
    for (const w of [ws, ws2]) {
      await check(sim, "POST", "/workspaces/{workspace}/builds", `/api/v2/workspaces/${w.id}/builds`, { transition: "delete" });
    }
    await waitFor("workspaces deleted", async () => (await api(sim, "GET", "/api/v2/workspaces?q=name:scaletest-ct01-")).body.count === 0);
    // The notifications load type: roles, a template uploaded, created and deleted, the inbox watch.
    const promoted = await check(sim, "PUT", "/users/{user}/roles", `/api/v2/users/${user.id}/roles`, { roles: ["template-admin"] });
    assert.deepEqual(promoted.roles.map((r: { name: string }) => r.name), ["template-admin"]);
    const userToken = (await api(sim, "POST", `/api/v2/users/${user.id}/keys/tokens`, {})).body.key as string;
    const inbox = new WebSocket(`${sim.url.replace(/^http/, "ws")}/api/v2/notifications/inbox/watch?format=plaintext`, { headers: { "Coder-Session-Token": userToken } });
    await new Promise<void>((resolve, reject) => {
      inbox.once("open", () => resolve());
      inbox.once("error", reject);
    });
    const pushed = new Promise<unknown>((resolve) => inbox.once("message", (d) => resolve(JSON.parse(String(d)))));
    const upload = await fetch(`${sim.url}/api/v2/files`, {
      method: "POST",
      headers: { "Coder-Session-Token": sim.ownerToken, "Content-Type": "application/x-tar" },
      body: new Uint8Array(1024),
    });
    // The upload's ID is its "hash" (codersdk.UploadResponse); CreateTemplateVersionRequest takes it as file_id.
    const file = (await upload.json()) as { hash: string };
    const uploadCheck = validatorFor("POST", "/files", upload.status)!;
    assert.ok(uploadCheck(file), ajv.errorsText(uploadCheck.errors));
    covered.add("POST /files");
    const echoVersion = await check(sim, "POST", "/organizations/{organization}/templateversions", `/api/v2/organizations/${org}/templateversions`, {
      storage_method: "file", file_id: file.hash, provisioner: "echo",
    });
    const trigger = await check(sim, "POST", "/organizations/{organization}/templates", `/api/v2/organizations/${org}/templates`, {
      name: "scaletest-ct01-9999", description: "contract", template_version_id: echoVersion.id,
    });
    await check(sim, "DELETE", "/templates/{template}", `/api/v2/templates/${trigger.id}`);
    const message = await pushed;
    const watchCheck = validatorFor("GET", "/notifications/inbox/watch", 200)!;
    assert.ok(watchCheck(message), ajv.errorsText(watchCheck.errors));
    covered.add("GET /notifications/inbox/watch");
    inbox.close();
    await check(sim, "DELETE", "/users/{user}/keys/{keyid}", `/api/v2/users/${user.id}/keys/${keys[0].id}`);
    await check(sim, "DELETE", "/users/{user}", `/api/v2/users/${user.id}`);
  });

  it("the workspace watch (SSE) sends the workspace as its data events", async () => {
    const ws = await createRunningWorkspace(sim, "scaletest-ct02-0001");
    const res = await fetch(`${sim.url}/api/v2/workspaces/${ws.id}/watch`, { headers: { "Coder-Session-Token": sim.ownerToken } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("\n\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString("utf8");
    }
    await reader.cancel();
    const event = text.slice(0, text.indexOf("\n\n"));
    assert.match(event, /^event: data\ndata: /);
    const v = ajv.compile({ $ref: "#/definitions/codersdk.Workspace", definitions: contract.definitions });
    const body = JSON.parse(event.slice(event.indexOf("data: ") + 6));
    assert.ok(v(body), ajv.errorsText(v.errors));
    covered.add("GET /workspaces/{workspace}/watch");
    await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "delete" });
  });

  it("template upload, template versions, templates and the prebuilds setting follow the contract", async () => {
    const orgs = await check(sim, "GET", "/organizations", "/api/v2/organizations");
    const org = orgs[0].id;
    const tf = 'resource "null_resource" "w" {}\ndata "coder_workspace_preset" "p" {\n  count = 1\n  name  = "preset-${count.index + 1}"\n  prebuilds {\n    instances = 1\n  }\n}\n';
    const upload = async (): Promise<{ status: number; body: { hash: string } }> => {
      const r = await fetch(`${sim.url}/api/v2/files`, { method: "POST", headers: { "Coder-Session-Token": sim.ownerToken, "Content-Type": "application/x-tar" }, body: new Uint8Array(tarFiles({ "main.tf": tf }, new Date(0))) });
      const body = (await r.json()) as { hash: string };
      const v = validatorFor("POST", "/files", r.status)!;
      assert.ok(v(body), ajv.errorsText(v.errors));
      return { status: r.status, body };
    };
    const up = await upload();
    assert.equal(up.status, 201, "a new file");
    // The same bytes again: coderd answers 200 with the existing file.
    const dup = await upload();
    assert.equal(dup.status, 200);
    assert.equal(dup.body.hash, up.body.hash);
    covered.add("POST /files");
    const fileId = up.body.hash;
    const version = await check(sim, "POST", "/organizations/{organization}/templateversions", `/api/v2/organizations/${org}/templateversions`, {
      file_id: fileId, storage_method: "file", provisioner: "terraform", message: "contract", tags: {},
    });
    await waitFor("version imported", async () => (await api(sim, "GET", `/api/v2/templateversions/${version.id}`)).body.job.status === "succeeded");
    const tpl = await check(sim, "POST", "/organizations/{organization}/templates", `/api/v2/organizations/${org}/templates`, { name: "scaletest-ct03-0000", template_version_id: version.id });
    const before = await check(sim, "GET", "/prebuilds/settings", "/api/v2/prebuilds/settings");
    assert.equal(before.reconciliation_paused, false);
    const paused = await check(sim, "PUT", "/prebuilds/settings", "/api/v2/prebuilds/settings", { reconciliation_paused: true });
    assert.equal(paused.reconciliation_paused, true);
    // The same value again: 304, no body (a status the contract lists).
    const again = await api(sim, "PUT", "/api/v2/prebuilds/settings", { reconciliation_paused: true });
    assert.equal(again.status, 304);
    await check(sim, "PUT", "/prebuilds/settings", "/api/v2/prebuilds/settings", { reconciliation_paused: false });
    // Leave nothing behind: pause, delete the prebuilds, then the template.
    await api(sim, "PUT", "/api/v2/prebuilds/settings", { reconciliation_paused: true });
    for (const w of sim.state.liveWorkspaces().filter((x) => x.templateId === tpl.id)) {
      await waitFor("prebuild idle", () => sim.state.job(sim.state.latestBuild(w).jobId).completedAt !== undefined);
      await api(sim, "POST", `/api/v2/workspaces/${w.id}/builds`, { transition: "delete" });
    }
    await waitFor("prebuilds gone", () => sim.state.liveWorkspaces().every((x) => x.templateId !== tpl.id));
    assert.equal((await api(sim, "DELETE", `/api/v2/templates/${tpl.id}`)).status, 200);
    await api(sim, "PUT", "/api/v2/prebuilds/settings", { reconciliation_paused: false });
  });

  it("presets, making a version active, an external agent's credentials and its app status follow the contract", async () => {
    const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id as string;
    // An AI-task template: a coder_external_agent with one app, and a preset that wants no prebuilds.
    const tf = (revision: number) => [
      `# revision ${revision}`,
      'resource "coder_external_agent" "main" {\n  agent_id = coder_agent.main.id\n}',
      'resource "coder_agent" "main" {\n  arch = "amd64"\n  os   = "linux"\n}',
      'resource "coder_app" "ai" {\n  agent_id = coder_agent.main.id\n  slug     = "ai-agent"\n}',
      'data "coder_workspace_preset" "p" {\n  name = "contract-preset"\n  prebuilds {\n    instances = 0\n  }\n}',
      "",
    ].join("\n");
    const importVersion = async (revision: number, templateId?: string): Promise<{ id: string }> => {
      const up = await fetch(`${sim.url}/api/v2/files`, { method: "POST", headers: { "Coder-Session-Token": sim.ownerToken, "Content-Type": "application/x-tar" }, body: new Uint8Array(tarFiles({ "main.tf": tf(revision) }, new Date(0))) });
      const file = (await up.json()) as { hash: string };
      const v = validatorFor("POST", "/files", up.status)!;
      assert.ok(v(file), ajv.errorsText(v.errors));
      const version = await check(sim, "POST", "/organizations/{organization}/templateversions", `/api/v2/organizations/${org}/templateversions`, {
        file_id: file.hash, storage_method: "file", provisioner: "terraform", tags: {}, ...(templateId ? { template_id: templateId } : {}),
      });
      await waitFor("version imported", async () => (await api(sim, "GET", `/api/v2/templateversions/${version.id}`)).body.job.status === "succeeded", 10_000);
      return version;
    };

    const v1 = await importVersion(1);
    const presets = await check(sim, "GET", "/templateversions/{templateversion}/presets", `/api/v2/templateversions/${v1.id}/presets`);
    assert.deepEqual(presets.map((p: { name: string; desiredPrebuildInstances: number }) => [p.name, p.desiredPrebuildInstances]), [["contract-preset", 0]]);
    const tpl = await check(sim, "POST", "/organizations/{organization}/templates", `/api/v2/organizations/${org}/templates`, { name: "scaletest-ct04-0000", template_version_id: v1.id });

    // A second version of the template, made the active one.
    const v2 = await importVersion(2, tpl.id);
    await check(sim, "PATCH", "/templates/{template}/versions", `/api/v2/templates/${tpl.id}/versions`, { id: v2.id });
    assert.equal((await api(sim, "GET", `/api/v2/templates/${tpl.id}`)).body.active_version_id, v2.id);

    // A workspace of it: the external agent's credentials, then an app status reported with the agent's token.
    const ws = await check(sim, "POST", "/users/{user}/workspaces", "/api/v2/users/me/workspaces", { name: "scaletest-ct04-0001", template_id: tpl.id });
    const agentName = await waitFor("the external agent in the workspace", async () => {
      const w = (await api(sim, "GET", `/api/v2/workspaces/${ws.id}`)).body;
      return w.latest_build.status === "running" ? (w.latest_build.resources.flatMap((r: any) => r.agents)[0]?.name as string | undefined) : undefined;
    }, 10_000);
    const creds = await check(sim, "GET", "/workspaces/{workspace}/external-agent/{agent}/credentials", `/api/v2/workspaces/${ws.id}/external-agent/${encodeURIComponent(agentName)}/credentials`);
    assert.ok(creds.agent_token.length > 0 && creds.command.length > 0);
    await check(sim, "PATCH", "/workspaceagents/me/app-status", "/api/v2/workspaceagents/me/app-status",
      { app_slug: "ai-agent", state: "working", message: "contract status", uri: "" }, creds.agent_token);
    const after = await check(sim, "GET", "/workspaces/{workspace}", `/api/v2/workspaces/${ws.id}`);
    assert.equal(after.latest_app_status?.state, "working");
    assert.equal(after.latest_app_status?.message, "contract status");

    await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "delete" });
    await waitFor("workspace deleted", async () => (await api(sim, "GET", "/api/v2/workspaces?q=name:scaletest-ct04-")).body.count === 0, 10_000);
    assert.equal((await api(sim, "DELETE", `/api/v2/templates/${tpl.id}`)).status, 200);
  });

  it("the dashboard's own endpoints (authcheck, inbox, update check, workspace page extras) follow the contract", async () => {
    const org = (await api(sim, "GET", "/api/v2/organizations")).body[0].id as string;
    const checks = await check(sim, "POST", "/authcheck", "/api/v2/authcheck", {
      checks: {
        stats: { object: { resource_type: "deployment_stats" }, action: "read" },
        members: { object: { resource_type: "organization_member", organization_id: org }, action: "read" },
      },
    });
    assert.deepEqual(checks, { stats: true, members: true });
    await check(sim, "GET", "/notifications/inbox", "/api/v2/notifications/inbox");
    await check(sim, "GET", "/updatecheck", "/api/v2/updatecheck");
    await check(sim, "GET", "/deployment/ssh", "/api/v2/deployment/ssh");
    await check(sim, "GET", "/experiments/available", "/api/v2/experiments/available");
    await check(sim, "GET", "/users/roles", "/api/v2/users/roles");
    await check(sim, "GET", "/groups", "/api/v2/groups");
    await check(sim, "GET", "/templates/examples", "/api/v2/templates/examples");
    const ws = await createRunningWorkspace(sim, "scaletest-ct05-0001");
    await check(sim, "GET", "/templateversions/{templateversion}/resources", `/api/v2/templateversions/${ws.latest_build.template_version_id}/resources`);
    await check(sim, "GET", "/workspaces/{workspace}/resolve-autostart", `/api/v2/workspaces/${ws.id}/resolve-autostart`);
    await check(sim, "GET", "/workspacebuilds/{workspacebuild}/parameters", `/api/v2/workspacebuilds/${ws.latest_build.id}/parameters`);
    const timings = await check(sim, "GET", "/workspacebuilds/{workspacebuild}/timings", `/api/v2/workspacebuilds/${ws.latest_build.id}/timings`);
    assert.equal(timings.provisioner_timings.length, 1, "a finished build has its provisioner timing");
    const agentId = ws.latest_build.resources.flatMap((r: any) => r.agents)[0].id as string;
    await check(sim, "GET", "/workspaceagents/{workspaceagent}/logs", `/api/v2/workspaceagents/${agentId}/logs`);
    // watch-metadata-ws: the first frame is a ServerSentEvent carrying the agent's metadata list.
    const frame = await firstFrame(sim, `${sim.url.replace("http", "ws")}/api/v2/workspaceagents/${agentId}/watch-metadata-ws`);
    const sse = validatorFor("GET", "/workspaceagents/{workspaceagent}/watch-metadata-ws", 200)!;
    assert.ok(sse(frame), ajv.errorsText(sse.errors));
    assert.deepEqual(frame, { type: "data", data: [] });
    covered.add("GET /workspaceagents/{workspaceagent}/watch-metadata-ws");
    await api(sim, "POST", `/api/v2/workspaces/${ws.id}/builds`, { transition: "delete" });
  });

  it("keeps the list of unimplemented contract operations exact", () => {
    const all = new Set<string>();
    for (const [p, ops] of Object.entries(contract.paths)) for (const m of Object.keys(ops)) all.add(`${m.toUpperCase()} ${p}`);
    for (const op of NOT_IMPLEMENTED) assert.ok(all.has(op), `NOT_IMPLEMENTED lists ${op}, which is not in the contract`);
    const untested = [...all].filter((op) => !covered.has(op) && !NOT_IMPLEMENTED.has(op));
    assert.deepEqual(untested, [], "contract operations neither exercised by the contract test nor listed as not implemented");
    for (const op of NOT_IMPLEMENTED) assert.ok(!covered.has(op), `${op} is listed as not implemented but was exercised`);
    // And the router really does not serve what is listed as not implemented.
    const served = new Set(sim.core.router.list().map((r) => `${r.method} ${r.pattern.replace(/^\/api\/v2/, "")}`));
    for (const op of NOT_IMPLEMENTED) assert.ok(!served.has(op), `${op} is listed as not implemented but the router serves it`);
  });
});

describe("error responses use Coder's shape", () => {
  it("401 without or with a wrong token, 404 for an unknown template, 400 validations", async () => {
    await withSim({ preexisting: false }, async (sim) => {
      const response = contract.definitions["codersdk.Response"];
      const v = ajv.compile({ ...response, definitions: contract.definitions, required: ["message"] });
      for (const token of [null, "not-a-token", "abcdefghij-abcdefghijabcdefghijab"]) {
        const r = await api(sim, "GET", "/api/v2/users/me", undefined, token);
        assert.equal(r.status, 401);
        assert.equal(typeof r.body.detail, "string");
        assert.ok(v(r.body), ajv.errorsText(v.errors));
      }
      const nf = await api(sim, "GET", "/api/v2/organizations/coder/templates/no-such-template");
      assert.equal(nf.status, 404);
      assert.ok(v(nf.body));
      const bad = await api(sim, "POST", "/api/v2/users/me/workspaces", { name: "x", template_id: await templateId(sim, "kubernetes-small"), rich_parameter_values: [{ name: "cpu", value: "3" }] });
      assert.equal(bad.status, 400);
      assert.ok(Array.isArray(bad.body.validations));
      assert.ok(v(bad.body), ajv.errorsText(v.errors));
    });
  });
});

describe("rate-limit bypass header where Coder sends it", () => {
  it("the run's client (clientFor) sends it on REST calls and websocket upgrades; a per-user client on neither", async () => {
    const { clientFor } = await import("../src/scenario/main.ts");
    const { CoderClient } = await import("../src/coder/index.ts");
    await withSim({}, async (sim) => {
      const ws = await createRunningWorkspace(sim, "scaletest-bypass-0001");
      const agentId: string = ws.latest_build.resources.flatMap((r: any) => r.agents)[0].id;
      const owner = clientFor({ url: sim.url, token: sim.ownerToken, trustedOrigins: [], requestTimeout: 14_000, connectTimeout: 5_000 } as never, 2);
      const user = new CoderClient({ url: sim.url, token: sim.ownerToken, concurrency: 2 });
      try {
        for (const [client, want] of [[owner, true], [user, false]] as const) {
          const from = sim.core.requestLog.length;
          await client.me();
          const pty = await client.openReconnectingPty(agentId, { command: "echo hi" });
          pty.terminate();
          const seen = sim.core.requestLog.slice(from);
          const rest = seen.filter((r) => !r.upgrade);
          const upgrades = seen.filter((r) => r.upgrade && r.path.endsWith("/pty"));
          assert.ok(rest.length >= 1 && upgrades.length === 1, `saw ${JSON.stringify(seen)}`);
          for (const r of [...rest, ...upgrades]) assert.equal(r.bypass, want, `${r.method} ${r.path} (upgrade ${r.upgrade}): bypass header ${want ? "sent" : "absent"}`);
        }
      } finally {
        await owner.close();
        await user.close();
      }
    });
  });
});
